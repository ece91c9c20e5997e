"""The 🔊 朗读 button in Telegram: the policy's reading arrives as a voice message in the chat
(instead of a link to the listening page, which Telegram would only show for https sites).

The voice goes out after the update's unit of work has committed (a background task), so
that storing Telegram's file id never waits for the turn's own database transaction.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.dialogue import Reply
from bot.services import BotServices

log = logging.getLogger(__name__)

PREFIX = "say:"  # bot/telegram/render.py turns listening-page buttons into this callback
_sending: set[asyncio.Task[None]] = set()


async def _send(bot: Bot, query: CallbackQuery, services: BotServices, policy_id: int) -> None:
    from push.voice.delivery import send_telegram_voice
    from push.voice.service import voice_service_for

    chat_id = query.message.chat.id if query.message else query.from_user.id
    try:
        voice = voice_service_for(services.db, services.settings)
        if not await send_telegram_voice(bot, voice, str(chat_id), policy_id):
            await bot.send_message(chat_id, "这份政策已失效或尚未发布，没有语音播报。")
    except Exception:
        log.exception("read-aloud to chat %s failed", chat_id)


async def on_read_aloud(query: CallbackQuery, bot: Bot, services: BotServices) -> list[Reply]:
    arg = (query.data or "")[len(PREFIX):]
    if arg.isdigit() and len(arg) < 12:
        task = asyncio.create_task(_send(bot, query, services, int(arg)))
        _sending.add(task)
        task.add_done_callback(_sending.discard)
    return []


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="read_aloud")
    router.callback_query.register(on_read_aloud, F.data.startswith(PREFIX))
    return router
