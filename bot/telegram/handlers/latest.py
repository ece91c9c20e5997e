"""/latest (最新) and opening one policy from a list."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.dialogue import Dialogue, Reply, Turn
from bot.telegram.callback_data import DialogueCb, to_action
from vocabulary.actions import Kind


async def on_latest(message: Message, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.command(turn, "latest")


async def on_open_policy(query: CallbackQuery, callback_data: DialogueCb, turn: Turn,
                         dialogue: Dialogue) -> list[Reply]:
    return await dialogue.press(turn, to_action(callback_data))


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="latest")
    router.message.register(on_latest, Command("latest"))
    router.callback_query.register(on_open_policy, DialogueCb.filter(F.kind == Kind.OPEN))
    return router
