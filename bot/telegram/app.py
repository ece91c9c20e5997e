"""Building and running the Telegram bot.

    runtime = build_telegram(services)           # Bot + Dispatcher (None when no token is set)
    await run_polling(runtime)                   # long polling (default) until cancelled/stopped
    await start_webhook(runtime, settings)       # webhook mode; updates then arrive through
                                                 # POST /telegram/webhook (bot.web_routes)

FSM state (the set-up flow) is the conversation in the database (bot.telegram.storage), the
same store WeChat and the web chat use: a restart in the middle of the flow loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.strategy import FSMStrategy
from aiogram.types import BotCommand, LinkPreviewOptions

from bot import texts
from bot.telegram.handlers import routers
from bot.telegram.middleware import TurnMiddleware
from bot.telegram.storage import DatabaseStorage
from bot.wiring import BotServices
from core.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


@dataclass
class TelegramRuntime:
    bot: Bot
    dispatcher: Dispatcher
    services: BotServices | None = None


def build_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base.rstrip("/")))
    return Bot(
        settings.telegram_bot_token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML,
                                     link_preview=LinkPreviewOptions(is_disabled=True)),
    )


def build_dispatcher(services: BotServices) -> Dispatcher:
    # Conversations are per chat, as subscriptions are (a group shares one set-up flow).
    dispatcher = Dispatcher(storage=DatabaseStorage(services.db), fsm_strategy=FSMStrategy.CHAT, services=services)
    middleware = TurnMiddleware(services)
    dispatcher.message.outer_middleware(middleware)
    dispatcher.callback_query.outer_middleware(middleware)
    dispatcher.include_routers(*routers())
    return dispatcher


def build_telegram(services: BotServices) -> TelegramRuntime | None:
    if not services.settings.telegram_bot_token:
        return None
    return TelegramRuntime(build_bot(services.settings), build_dispatcher(services), services)


async def learn_username(runtime: TelegramRuntime) -> None:
    """Remember the bot's @username (getMe) so the web chat can offer a bind deep link;
    without it the web chat shows `/start bind-<code>` to type instead."""
    if runtime.services is None:
        return
    try:
        me = await runtime.bot.get_me()
    except Exception:  # the link is a convenience; polling or the webhook must still start
        log.exception("getMe failed: the web chat will show /start bind-<code> instead of a link")
        return
    runtime.services.dialogue.bind_targets.telegram_username = me.username or ""


async def set_commands(bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in texts.TELEGRAM_COMMANDS.items()])


async def run_polling(runtime: TelegramRuntime, *, polling_timeout: int = 30) -> None:
    """Long polling until `runtime.dispatcher.stop_polling()` or cancellation; closes the bot
    session at the end. A webhook left from an earlier run is removed first (Telegram refuses
    getUpdates while one is set)."""
    bot = runtime.bot
    await bot.delete_webhook(drop_pending_updates=False)
    await set_commands(bot)
    await learn_username(runtime)
    await runtime.dispatcher.start_polling(bot, handle_signals=False, polling_timeout=polling_timeout,
                                           allowed_updates=ALLOWED_UPDATES)


async def start_webhook(runtime: TelegramRuntime, settings: Settings) -> None:
    """Register TELEGRAM_WEBHOOK_URL (with the secret Telegram echoes in a header)."""
    await set_commands(runtime.bot)
    await learn_username(runtime)
    await runtime.bot.set_webhook(
        settings.telegram_webhook_url,
        secret_token=settings.telegram_webhook_secret or None,
        allowed_updates=ALLOWED_UPDATES,
    )
