"""/subscribe, /unsubscribe and the set-up flow (who, township, topics multi-select,
delivery preference, enterprise credit code)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.dialogue import Dialogue, Reply, Turn
from bot.telegram.callback_data import DialogueCb, to_action
from bot.telegram.states import Onboarding
from vocabulary.actions import Kind

FLOW_KINDS = {Kind.PERSON, Kind.TOWNSHIP, Kind.TOPIC, Kind.ALL_TOPICS, Kind.TOPICS_DONE, Kind.FREQUENCY,
              Kind.SKIP_ENTERPRISE}


async def on_subscribe(message: Message, command: CommandObject, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.command(turn, "subscribe", command.args or "")


async def on_unsubscribe(message: Message, command: CommandObject, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.command(turn, "unsubscribe", command.args or "")


async def on_enterprise_details(message: Message, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.text(turn, message.text or "")


async def on_flow_button(query: CallbackQuery, callback_data: DialogueCb, turn: Turn,
                         dialogue: Dialogue) -> list[Reply]:
    return await dialogue.press(turn, to_action(callback_data))


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="subscribe")
    router.message.register(on_subscribe, Command("subscribe"))
    router.message.register(on_unsubscribe, Command("unsubscribe"))
    router.message.register(on_enterprise_details, Onboarding.enterprise, F.text)
    router.callback_query.register(on_flow_button, DialogueCb.filter(F.kind.in_(FLOW_KINDS)))
    return router
