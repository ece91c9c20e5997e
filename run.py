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
from pathlib import Path

from core.db import Database
from core.errors import DomainError
from core.migrate import upgrade_database
from core.settings import Settings, get_settings
from vocabulary import cli as cli_words
from vocabulary.labels import field_label, label, labels

log = logging.getLogger("policy_direct")
ROLE_HELP = "、".join(f"{name}（{code}）" for code, name in labels("role").items()) + "，中文或英文均可"


def say(step: str) -> None:
    """One line of start-up progress, so a first start is never silent."""
    print(step, flush=True)


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
    say("正在载入程序（第一次启动较慢，约半分钟）…")
    import uvicorn

    from bot.dialogue.answers import LibraryAnswerer
    from bot.telegram.app import build_telegram
    from bot.telegram.startup import run_telegram
    from bot.web_routes import build_router
    from bot.wiring import build_services
    from policies.qa.follower import start_engine
    from push.jobs.service import run_scheduler
    from push.service import run_workers
    from subscriptions.service import warm_up_match_index
    from web.app import create_app

    settings = with_secret(settings)
    say("正在检查并升级数据库…")
    db = await open_database(settings)
    say("正在加载政策问答索引…")
    # One Q&A index per process, shared by the web and every chat; loaded from the snapshot
    # when it matches the database (jieba is initialised there too, before the first question).
    engine, follower = await start_engine(db, settings.consultation_phone, data_dir=settings.data_dir)
    # The audience index is built from the database once; later changes arrive through its log.
    say("正在建立订阅匹配索引…")
    await warm_up_match_index(db)
    await warn_about_demo_accounts(db)
    say("正在启动 HTTP 服务、推送进程和定时任务…")
    services = build_services(db, settings, answerer=LibraryAnswerer(settings.consultation_phone, engine=engine))
    telegram = build_telegram(services)
    app = create_app(
        db, settings, qa_engine=engine, extra_routers=[build_router(db, settings, services, telegram=telegram)]
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="info", lifespan="on",
                       log_config=None)  # our handlers: JSON if asked, no query strings in the access log
    )
    stop = asyncio.Event()
    background = [
        asyncio.create_task(run_workers(db, settings, stop), name="delivery-workers"),
        asyncio.create_task(follower.run(stop), name="qa-index-follower"),
        # Elects itself leader (advisory lock on PostgreSQL, a file lock on SQLite) before running jobs.
        asyncio.create_task(run_scheduler(db, settings, stop), name="scheduler"),
    ]
    if telegram is not None:
        # In the background: an unreachable Telegram is retried and logged, never fatal; one process polls.
        background.append(asyncio.create_task(run_telegram(telegram, settings, db, stop), name="telegram"))
    base = settings.effective_public_base_url
    channels = ["网页咨询"] + (["Telegram"] if telegram else []) + (["微信公众号"] if settings.wechat_enabled else [])
    print(
        f"政策直达已启动：控制台 {base}/console  网页咨询 {base}/chat  政策库 {base}/library\n"
        f"已启用渠道：{'、'.join(channels)}（Ctrl-C 退出）",
        flush=True,
    )
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


async def warn_about_demo_accounts(db: Database) -> None:
    from web.demo import demo_accounts_left

    left = await demo_accounts_left(db)
    if left:
        log.warning("仍有演示账号可以登录控制台：%s。正式使用前请停用这些账号或修改其密码。", "、".join(left))


async def work(settings: Settings) -> int:
    """Extra delivery workers for PostgreSQL deployments (claims use FOR UPDATE SKIP LOCKED)."""
    from push.service import run_workers
    from subscriptions.service import warm_up_match_index

    settings = with_secret(settings)
    db = await open_database(settings)
    await warm_up_match_index(db)
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


async def import_policies(settings: Settings, paths: Sequence[str], actor: str, agency: str | None = None) -> int:
    from policies.importer import ImportLimits, import_paths, print_report

    limits = ImportLimits(settings.import_max_file_bytes, settings.import_max_docx_uncompressed_bytes)
    db = await open_database(settings)
    try:
        report = await import_paths(db, paths, actor=actor, default_agency=agency, progress=True, limits=limits)
    finally:
        await db.dispose()
    print_report(report)
    return 0 if not report.failed else 1


async def create_token(settings: Settings, agency: str, role: str, name: str) -> int:
    from web import accounts

    db = await open_database(settings)
    try:
        async with db.session() as session:
            secret = await accounts.create_token(session, agency, role, name=name, actor="cli")
    finally:
        await db.dispose()
    print(f"已为“{agency}”创建{label('role', role)}令牌（只显示这一次，请妥善保存）：\n{secret}")
    return 0


async def create_user(settings: Settings, username: str, role: str, agency: str | None, password: str | None) -> int:
    from web import accounts

    accounts.check_role(role, agency)  # before asking for a password that would then be wasted
    password = password or ask_new_password()
    db = await open_database(settings)
    try:
        async with db.session() as session:
            await accounts.create_user(session, username, password, role, agency, actor="cli")
    finally:
        await db.dispose()
    scope = f"{label('role', role)}，{agency}" if agency else label("role", role)
    print(f"已创建账号 {username}（{scope}）。登录：{settings.effective_public_base_url}/console")
    return 0


def ask_new_password() -> str:
    """Asks twice on the terminal; a user error (no terminal, mismatch) is a CommandError."""
    import getpass

    if not sys.stdin.isatty():
        raise CommandError("无法读取密码：当前没有可交互的终端。请在终端中运行，或用 --password 传入密码。")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        raise CommandError("两次输入的密码不一致，账号未创建，请重新运行。")
    return first


class CommandError(Exception):
    """A mistake the person at the terminal can fix; printed as one Chinese line, no traceback."""


def resolve_role(typed: str) -> str:
    from vocabulary.labels import code_for

    code = code_for("role", typed)
    if code is None:
        names = "、".join(f"{name}（{code}）" for code, name in labels("role").items())
        raise argparse.ArgumentTypeError(f"没有“{typed}”这个角色，可选：{names}")
    return code


async def import_subscribers(settings: Settings, path: str) -> int:
    from subscriptions.service import import_subscribers as run_import

    db = await open_database(settings)
    try:
        report = await run_import(db, path, progress=True)
    finally:
        await db.dispose()
    for error in report.errors:
        print(f"第 {error.row} 行【{field_label(error.field)}】：{error.message}")
    print(
        f"共 {report.rows} 行：新建 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
        f"出错 {len(report.errors)}"
    )
    return 0 if not report.errors else 1


async def create_wechat_menu(settings: Settings) -> int:
    from bot.wechat.menu import create_menu

    if not settings.wechat_enabled:
        print("未配置微信公众号（WECHAT_TOKEN、WECHAT_APP_ID、WECHAT_APP_SECRET）", file=sys.stderr)
        return 2
    try:
        result = await create_menu(settings)
    except Exception as exc:  # noqa: BLE001 - unreachable API, refused credentials: say so, no traceback
        print(f"公众号菜单未能创建（{exc.__class__.__name__}）：请检查网络和 WECHAT_APP_ID / WECHAT_APP_SECRET 后重试",
              file=sys.stderr)
        return 1
    print(f"公众号菜单已创建：{result}")
    return 0


async def load_demo(settings: Settings) -> int:
    from web.demo import load_demo as run_demo

    db = await open_database(settings)
    try:
        report = await run_demo(db)
    finally:
        await db.dispose()
    base = settings.effective_public_base_url
    if report.already_loaded and not report.policies:
        print("演示数据已加载过，未重复创建。")
    for title in report.policies:
        print(f"已发布：{title}")
    print(f"订阅用户 {report.subscribers} 个；枢纽：{'；'.join(report.hubs) or '已存在'}；问答库条目 {report.faqs} 条")
    if report.passwords:
        print("控制台演示账号（密码只显示这一次，仅供演示；正式使用前请停用这些账号或修改密码）：")
        for username, password in report.passwords.items():
            print(f"  {username}  密码 {password}")
    print(f"运行 python run.py 后打开 {base}/console 、{base}/chat 、{base}/library")
    return 0


def backup_database(settings: Settings, path: str) -> int:
    from pathlib import Path

    from core.backup import backup

    result = backup(settings, Path(path))
    print(f"已备份数据库：{result.database}（{result.size_bytes / 1e6:.1f} MB，完整性检查：{result.integrity}）")
    if result.secret_key is not None:
        print(f"已备份密钥：{result.secret_key}（权限 0600，请与数据库一同妥善保管）")
    else:
        print("密钥来自环境变量 SECRET_KEY，未写入备份：请另行保管，恢复时设置同一个值。")
    print("恢复：停止服务，把备份的 policy_direct.db 复制为 DATA_DIR 下的 policy_direct.db"
          "（并删除旧的 -wal、-shm 文件），secret_key 复制回 DATA_DIR，再启动。")
    return 0 if result.integrity == "ok" else 1


async def migrate_to_postgres(settings: Settings, url: str) -> int:
    from core.transfer import migrate_to_postgres as transfer

    def progress(table: str, rows: int) -> None:
        print(f"  {table}: {rows} 行", flush=True)

    print("正在把 SQLite 数据库的每张表复制到 PostgreSQL（一个事务，失败则什么都不留下）……", flush=True)
    report = await transfer(settings.effective_database_url, url, progress)
    print(f"完成：{len(report.counts)} 张表、共 {sum(report.counts.values())} 行，两边行数逐表核对一致。")
    print(f"下一步：停止服务，设置 DATABASE_URL={url.replace('postgresql://', 'postgresql+asyncpg://', 1)}"
          "（多台主机时还要设置同一个 SECRET_KEY 和 REDIS_URL），再启动；原 SQLite 文件保留作回退。")
    return 0


def build_parser() -> argparse.ArgumentParser:
    cli_words.install()
    parser = argparse.ArgumentParser(prog="run.py", description="政策直达：政策推送、问答与接力转达")
    parser.add_argument("--verbose", action="store_true", help="显示详细日志（含数据库迁移过程）")
    commands = parser.add_subparsers(dest="command", metavar="命令")
    commands.add_parser("serve", help="HTTP 服务、推送进程、定时任务与机器人（默认）")
    commands.add_parser("worker", help="仅运行推送进程（PostgreSQL 部署时可多开）")
    importer = commands.add_parser("import", help="导入政策文件（.txt .md .docx .json 或文件夹）为草稿")
    importer.add_argument("paths", nargs="+", metavar="路径", help="文件或文件夹")
    importer.add_argument("--actor", default="import", metavar="名称", help="记录为起草人的名称")
    importer.add_argument("--agency", default=None, metavar="单位", help="文中识别不出发文机关时使用的机关名称")

    token = commands.add_parser("token", help="API 令牌").add_subparsers(dest="token_command", required=True,
                                                                        metavar="子命令")
    token_create = token.add_parser("create", help="创建令牌（只显示一次，库中只存哈希）")
    token_create.add_argument("--agency", required=True, metavar="单位",
                              help="令牌所属单位，例如 泾源县人力资源和社会保障局")
    token_create.add_argument("--role", default="editor", type=resolve_role, metavar="角色", help=ROLE_HELP)
    token_create.add_argument("--name", default="", metavar="说明", help="用途说明，例如 门户网站 CMS")

    user = commands.add_parser("user", help="控制台账号").add_subparsers(dest="user_command", required=True,
                                                                       metavar="子命令")
    user_create = user.add_parser("create", help="创建账号（首个管理员用它创建）")
    user_create.add_argument("--username", required=True, metavar="用户名", help="登录用的用户名")
    user_create.add_argument("--role", default="admin", type=resolve_role, metavar="角色", help=ROLE_HELP)
    user_create.add_argument("--agency", default=None, metavar="单位", help="编辑、审核人员所属单位")
    user_create.add_argument("--password", default=None, metavar="密码", help="不填则在终端输入两次")

    subscribers = commands.add_parser("subscribers", help="订阅用户").add_subparsers(
        dest="subscribers_command", required=True, metavar="子命令"
    )
    subscribers_import = subscribers.add_parser("import", help="从 .csv / .xlsx 批量导入企业和居民")
    subscribers_import.add_argument("file", metavar="文件", help=".csv 或 .xlsx 文件")

    backup = commands.add_parser("backup", help="在线备份 SQLite 数据库和密钥到一个目录（服务运行时也可以）")
    backup.add_argument("path", metavar="目录", help="备份目录（须为空或不存在）")
    migrate = commands.add_parser("migrate-to-postgres", help="把 SQLite 中的全部数据复制到一个空的 PostgreSQL 数据库")
    migrate.add_argument("url", metavar="连接串", help="目标库连接串，例如 postgresql://政策直达用户@数据库主机/policy_direct")

    wechat = commands.add_parser("wechat", help="微信公众号").add_subparsers(dest="wechat_command", required=True,
                                                                          metavar="子命令")
    wechat.add_parser("menu", help="通过接口创建公众号菜单")
    commands.add_parser("demo", help="加载演示数据（政策、订阅用户、园区和协会、问答库、控制台账号）")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from core.logging_setup import configure_logging

    args = build_parser().parse_args(argv)
    if not args.verbose:  # Alembic's "Context impl…", "Running upgrade…" lines are for operators who ask
        logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = get_settings()
    configure_logging(settings.log_format)  # LOG_FORMAT=json: one JSON object per line
    command = args.command or "serve"
    try:
        if command == "serve":
            return asyncio.run(serve(settings))
        if command == "worker":
            return asyncio.run(work(settings))
        if command == "import":
            return asyncio.run(import_policies(settings, args.paths, args.actor, args.agency))
        if command == "token":
            return asyncio.run(create_token(settings, args.agency, args.role, args.name))
        if command == "user":
            return asyncio.run(create_user(settings, args.username, args.role, args.agency, args.password))
        if command == "subscribers":
            if not Path(args.file).is_file():
                raise CommandError(f"找不到文件：{args.file}")
            return asyncio.run(import_subscribers(settings, args.file))
        if command == "demo":
            return asyncio.run(load_demo(settings))
        if command == "wechat":
            return asyncio.run(create_wechat_menu(settings))
        if command == "backup":
            return backup_database(settings, args.path)
        if command == "migrate-to-postgres":
            return asyncio.run(migrate_to_postgres(settings, args.url))
    except KeyboardInterrupt:
        # uvicorn re-raises Ctrl-C after its orderly shutdown; for the long-running commands a
        # requested stop is a success. An interrupted import or CLI command is not.
        if command in ("serve", "worker"):
            print("政策直达已停止。", flush=True)
            return 0
        return 130
    except DomainError as exc:
        where = f"（{field_label(exc.field)}）" if exc.field and field_label(exc.field) not in exc.message else ""
        print(f"错误：{exc.message}{where}", file=sys.stderr)
        return 1
    except CommandError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
