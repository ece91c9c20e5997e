"""One unit of work per update: the chat's subscriber (created on first contact) and the
saved conversation arrive in handler data as `turn`; handlers return the dialogue's replies,
which are sent only after the unit of work committed (so no message ever confirms a change
that was rolled back, and no database lock is held while talking to Telegram)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User

from bot import texts
from bot.dialogue.context import Turn
from bot.dialogue.replies import Reply
from bot.services import BotServices
from bot.telegram import render, states
from subscriptions import service as subscriptions
from subscriptions.views import ChannelName

log = logging.getLogger(__name__)


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
        state: FSMContext | None = data.get("state")
        bot: Bot = data["bot"]
        if chat is None or state is None:
            return await handler(event, data)
        address = str(chat.id)
        try:
            async with self.services.db.session() as session:
                subscriber = await subscriptions.ensure_subscriber_for_address(
                    session, ChannelName.TELEGRAM, address, display_name=_name(data.get("event_from_user")))
                turn = Turn(session, ChannelName.TELEGRAM, address, subscriber, await states.load(state))
                data["turn"] = turn
                data["dialogue"] = self.services.dialogue
                replies = await handler(event, data)
                await states.save(state, turn.conversation)
        except Exception:  # an update must get an answer; the unit of work rolled back
            log.exception("telegram update failed for chat %s", address)
            replies = [Reply(texts.SOMETHING_WRONG.format(phone=self.services.phone))]
        if not isinstance(replies, list):
            return replies
        if isinstance(event, CallbackQuery):
            await render.answer_callback(bot, event, replies)
        elif isinstance(event, Message):
            await render.answer_message(bot, chat.id, replies)
        return None
