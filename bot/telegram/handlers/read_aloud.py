"""The 🔊 朗读 button in Telegram: the policy's reading arrives as a voice message in the chat
(instead of a link to the listening page, which Telegram would only show for https sites).

The voice goes out after the update's unit of work has committed (a background task), so
that storing Telegram's file id never waits for the turn's own database transaction.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery

from bot.dialogue import Reply
from bot.wiring import BotServices
from push.service import send_telegram_voice, voice_service_for
from push.views import OGG

log = logging.getLogger(__name__)

PREFIX = "say:"  # a policy's listening page; bot/telegram/render.py turns the buttons into these
FAQ_PREFIX = "sayf:"  # a knowledge-base answer's listening page
_sending: set[asyncio.Task[None]] = set()


async def _send(bot: Bot, query: CallbackQuery, services: BotServices, policy_id: int) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    try:
        voice = voice_service_for(services.db, services.settings)
        if not await send_telegram_voice(bot, voice, str(chat_id), policy_id):
            await bot.send_message(chat_id, "这份政策已失效或尚未发布，没有语音播报。")
    except Exception:
        log.exception("read-aloud to chat %s failed", chat_id)


async def _send_faq(bot: Bot, query: CallbackQuery, services: BotServices, faq_id: int) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    try:
        # Answers are pressed rarely and edited often: uploaded each time, no file id kept.
        found = await voice_service_for(services.db, services.settings).faq_clip(faq_id, OGG)
        if found is None:
            await bot.send_message(chat_id, "这条常见问题已不存在。")
            return
        clip = found[2]
        await bot.send_voice(chat_id, BufferedInputFile(clip.data(), "常见问题.ogg"),
                             duration=max(1, round(clip.total_seconds)))
    except Exception:
        log.exception("read-aloud of FAQ %s to chat %s failed", faq_id, chat_id)


async def on_read_aloud(query: CallbackQuery, bot: Bot, services: BotServices) -> list[Reply]:
    data = query.data or ""
    faq = data.startswith(FAQ_PREFIX)
    arg = data[len(FAQ_PREFIX if faq else PREFIX):]
    if arg.isdigit() and len(arg) < 12:
        work = _send_faq(bot, query, services, int(arg)) if faq else _send(bot, query, services, int(arg))
        task = asyncio.create_task(work)
        _sending.add(task)
        task.add_done_callback(_sending.discard)
    return []


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="read_aloud")
    router.callback_query.register(on_read_aloud, F.data.startswith(PREFIX) | F.data.startswith(FAQ_PREFIX))
    return router
