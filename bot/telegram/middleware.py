"""One turn per update, through the same runner as WeChat and the web chat (bot.runner): the
chat's subscriber (created on first contact) and its saved conversation arrive in handler
data as `turn`; handlers return the dialogue's replies, which are sent only after the unit of
work committed (so no message ever confirms a change that was rolled back, and no database
lock is held while talking to Telegram)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User

from bot.dialogue.context import Turn
from bot.runner import run_turn
from bot.telegram import render
from bot.wiring import BotServices
from subscriptions.views import ChannelName


def _name(user: User | None) -> str:
    return user.full_name if user else ""


class TurnMiddleware(BaseMiddleware):
    """Outer middleware for `message` and `callback_query` events."""

    def __init__(self, services: BotServices) -> None:
        self.services = services

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat: Chat | None = data.get("event_chat")
        bot: Bot = data["bot"]
        if chat is None:
            return await handler(event, data)

        async def handle(turn: Turn) -> Any:
            data["turn"] = turn
            data["dialogue"] = self.services.dialogue
            return await handler(event, data)

        replies = await run_turn(self.services.db, ChannelName.TELEGRAM, str(chat.id), handle, has_buttons=True,
                                 phone=self.services.phone, display_name=_name(data.get("event_from_user")))
        if not isinstance(replies, list):
            return replies
        if isinstance(event, CallbackQuery):
            await render.answer_callback(bot, event, replies)
        elif isinstance(event, Message):
            await render.answer_message(bot, chat.id, replies)
        return None
