"""Policy Direct (政策直达): the one entry point.

python run.py                 # = serve: HTTP server, delivery workers, scheduler, bots
python run.py import PATH...  # policy files (.txt .md .docx .json, or folders) as drafts
python run.py --help          # every command
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from core.db import Database
from core.migrate import upgrade_database
from core.settings import Settings, get_settings

log = logging.getLogger("policy_direct")


async def open_database(settings: Settings) -> Database:
    db = Database(settings.effective_database_url)
    await upgrade_database(db)
    return db


async def serve(settings: Settings) -> int:
    import uvicorn

    from policies.text.tokenizer import get_tokenizer
    from web.app import create_app

    db = await open_database(settings)
    # jieba takes a second or two to load; do it before the first question arrives.
    await asyncio.to_thread(get_tokenizer().initialize)
    app = create_app(db, settings)
    config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="info", lifespan="on")
    server = uvicorn.Server(config)
    print(
        f"政策直达已启动：控制台 {settings.effective_public_base_url}/console  "
        f"网页咨询 {settings.effective_public_base_url}/chat  （Ctrl-C 退出）",
        flush=True,
    )
    try:
        await server.serve()
    finally:
        await db.dispose()
    return 0


async def import_policies(settings: Settings, paths: Sequence[str], actor: str) -> int:
    from policies.importer import import_paths, print_report

    db = await open_database(settings)
    try:
        report = await import_paths(db, paths, actor=actor, progress=True)
    finally:
        await db.dispose()
    print_report(report)
    return 0 if not report.failed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description="政策直达：政策推送、问答与接力转达")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="HTTP 服务、推送进程、定时任务与机器人（默认）")
    importer = commands.add_parser("import", help="导入政策文件（.txt .md .docx .json 或文件夹）为草稿")
    importer.add_argument("paths", nargs="+", help="文件或文件夹")
    importer.add_argument("--actor", default="import", help="记录为起草人的名称")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    settings = get_settings()
    command = args.command or "serve"
    try:
        if command == "serve":
            return asyncio.run(serve(settings))
        if command == "import":
            return asyncio.run(import_policies(settings, args.paths, args.actor))
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
