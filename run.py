"""Policy Direct (政策直达): the one entry point.

python run.py                 # = serve: HTTP server, delivery workers, scheduler, bots
python run.py import PATH...  # policy files (.txt .md .docx .json, or folders) as drafts
python run.py --help          # every command
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
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


def with_secret(settings: Settings) -> Settings:
    """Every component (tracked links, sessions) signs with the same key, even when generated."""
    from core.secret_key import secret_key

    return settings.model_copy(update={"secret_key": secret_key(settings)})


async def serve(settings: Settings) -> int:
    """Everything in one process: HTTP (console, API, web chat, webhooks), delivery workers,
    and Telegram long polling when a token is set. Ctrl-C stops it cleanly."""
    import uvicorn

    from bot.services import build_services
    from bot.telegram.app import build_telegram, run_polling, start_webhook
    from bot.web_routes import build_router
    from policies.text.tokenizer import get_tokenizer
    from push.service import run_workers
    from web.app import create_app

    settings = with_secret(settings)
    db = await open_database(settings)
    # jieba takes a second or two to load; do it before the first question arrives.
    await asyncio.to_thread(get_tokenizer().initialize)
    services = build_services(db, settings)
    telegram = build_telegram(services)
    app = create_app(db, settings, extra_routers=[build_router(db, settings, services, telegram=telegram)])
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="info", lifespan="on")
    )
    stop = asyncio.Event()
    background = [asyncio.create_task(run_workers(db, settings, stop), name="delivery-workers")]
    if telegram is not None:
        if settings.telegram_webhook_url:
            await start_webhook(telegram, settings)
        else:
            background.append(asyncio.create_task(run_polling(telegram), name="telegram-polling"))
    base = settings.effective_public_base_url
    channels = ["网页咨询"] + (["Telegram"] if telegram else []) + (["微信公众号"] if settings.wechat_enabled else [])
    print(f"政策直达已启动：控制台 {base}/console  网页咨询 {base}/chat  政策库 {base}/library\n"
          f"已启用渠道：{'、'.join(channels)}（Ctrl-C 退出）", flush=True)
    try:
        await server.serve()
    finally:
        stop.set()
        if telegram is not None:
            with contextlib.suppress(RuntimeError):  # polling not started (webhook mode)
                await telegram.dispatcher.stop_polling()
        await asyncio.wait(background, timeout=10)
        for task in background:
            task.cancel()
        if telegram is not None:
            await telegram.bot.session.close()
        await db.dispose()
    return 0


async def work(settings: Settings) -> int:
    """Extra delivery workers for PostgreSQL deployments (claims use FOR UPDATE SKIP LOCKED)."""
    from push.service import run_workers

    settings = with_secret(settings)
    db = await open_database(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print("推送进程已启动（Ctrl-C 退出）", flush=True)
    try:
        await run_workers(db, settings, stop)
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
    commands.add_parser("worker", help="仅运行推送进程（PostgreSQL 部署时可多开）")
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
        if command == "worker":
            return asyncio.run(work(settings))
        if command == "import":
            return asyncio.run(import_policies(settings, args.paths, args.actor))
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
