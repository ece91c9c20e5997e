"""Starting the Telegram side of `serve` without ever blocking or failing the server.

* Telegram unreachable at start-up (network down, Bot API server restarting) is normal: the
  webhook or the command menu is set from a background task that retries with a growing pause
  and says so in the log, while HTTP, the web chat and deliveries keep working.
* Only one process may call getUpdates (Telegram answers a second poller with 409 Conflict and
  the two steal each other's updates): the poller holds a lock, an advisory lock on PostgreSQL
  or a file lock next to the SQLite file, like the scheduler leader. Other processes only send,
  and take over polling when the holder goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiogram.exceptions import TelegramUnauthorizedError

from bot.telegram.app import ALLOWED_UPDATES, TelegramRuntime, learn_username, set_commands, start_webhook
from core.db import Database
from core.scheduler import FileLeadership, Leadership, PostgresLeadership, SoleLeadership
from core.settings import Settings

log = logging.getLogger(__name__)

POLL_LOCK_KEY = 0x7064_7467  # "pdtg": distinct from the scheduler's advisory lock
FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 60.0


def polling_leadership(db: Database) -> Leadership:
    """The lock that makes one process the Telegram poller."""
    if db.dialect == "postgresql":
        return PostgresLeadership(db, key=POLL_LOCK_KEY)
    path = db.url.split(":///", 1)[-1].split("?", 1)[0] if db.dialect == "sqlite" else ""
    if path and path != ":memory:":
        return FileLeadership(Path(f"{path}.telegram-poll.lock"))
    return SoleLeadership()


async def _pause(stop: asyncio.Event, seconds: float) -> bool:
    """Waits `seconds` or until `stop`; True when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


async def keep_trying(what: str, action: Callable[[], Awaitable[object]], stop: asyncio.Event, *,
                      first_delay: float = FIRST_RETRY_SECONDS, longest_delay: float = LONGEST_RETRY_SECONDS) -> bool:
    """Runs `action` until it succeeds (True) or `stop` is set (False), pausing longer each time."""
    delay = first_delay
    attempt = 1
    while not stop.is_set():
        try:
            await action()
        except TelegramUnauthorizedError:
            log.error("Telegram 拒绝了 TELEGRAM_BOT_TOKEN（未授权）：%s未完成，请检查令牌后重启", what)
            return False
        except Exception as exc:  # noqa: BLE001 - network, 5xx, a Bot API server still starting: all worth a retry
            log.warning("Telegram 暂不可达：%s失败（第 %d 次：%s），%.0f 秒后重试；服务照常运行",
                        what, attempt, exc.__class__.__name__, delay)
            if await _pause(stop, delay):
                return False
            delay = min(longest_delay, delay * 2)
            attempt += 1
            continue
        if attempt > 1:
            log.info("Telegram 已恢复：%s成功（第 %d 次尝试）", what, attempt)
        return True
    return False


async def prepare_polling(runtime: TelegramRuntime) -> None:
    # A webhook left from an earlier run must go first: Telegram refuses getUpdates while one is set.
    await runtime.bot.delete_webhook(drop_pending_updates=False)
    await set_commands(runtime.bot)
    await learn_username(runtime)


async def _wait_to_lead(leadership: Leadership, stop: asyncio.Event, poll_seconds: float) -> bool:
    announced = False
    while not stop.is_set():
        try:
            if await leadership.acquire():
                log.info("本进程负责接收 Telegram 消息（长轮询）")
                return True
        except Exception:  # the database is briefly away: try again like the scheduler does
            log.warning("Telegram 轮询锁暂时无法获取，稍后重试", exc_info=True)
        if not announced:
            log.info("另一进程正在接收 Telegram 消息；本进程只发送，并在其停止后接替")
            announced = True
        if await _pause(stop, poll_seconds):
            return False
    return False


async def run_telegram(runtime: TelegramRuntime, settings: Settings, db: Database, stop: asyncio.Event, *,
                       leadership: Leadership | None = None, polling_timeout: int = 30,
                       first_delay: float = FIRST_RETRY_SECONDS) -> None:
    """The whole Telegram side of `serve`, as one background task that ends when `stop` is set."""
    if settings.telegram_webhook_url:
        await keep_trying("设置 Webhook 和命令菜单", lambda: start_webhook(runtime, settings), stop,
                          first_delay=first_delay)
        return
    leadership = leadership or polling_leadership(db)
    if not await _wait_to_lead(leadership, stop, settings.scheduler_poll_seconds):
        return
    try:
        if not await keep_trying("准备长轮询（删除旧 Webhook、设置命令菜单）", lambda: prepare_polling(runtime), stop,
                                 first_delay=first_delay):
            return
        polling = asyncio.create_task(runtime.dispatcher.start_polling(
            runtime.bot, handle_signals=False, polling_timeout=polling_timeout, allowed_updates=ALLOWED_UPDATES,
            close_bot_session=False))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not polling.done():
            with contextlib.suppress(RuntimeError):
                await runtime.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(polling, timeout=polling_timeout + 5)
        stopped.cancel()
    finally:
        await leadership.release()
