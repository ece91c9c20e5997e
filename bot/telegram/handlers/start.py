"""/start with an optional deep-link payload (`hub-<code>` joins a hub, `p<id>` opens a
policy), and the user blocking or un-blocking the bot."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import ChatMemberUpdated, Message

from bot.dialogue import Dialogue, Reply, Turn
from bot.wiring import BotServices
from subscriptions import service as subscriptions
from subscriptions.views import ChannelName, InactiveReason


async def on_start(message: Message, command: CommandObject, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.start(turn, command.args or "")


async def on_blocked(event: ChatMemberUpdated, services: BotServices) -> None:
    """Stop sending to a chat that blocked the bot; the subscription itself is kept."""
    async with services.db.session() as session:
        found = await subscriptions.find_address(session, ChannelName.TELEGRAM, str(event.chat.id))
        if found is not None:
            await subscriptions.deactivate_address(session, found.id, InactiveReason.BLOCKED)


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="start")
    router.message.register(on_start, CommandStart())
    router.my_chat_member.register(on_blocked, F.new_chat_member.status == "kicked")
    return router
