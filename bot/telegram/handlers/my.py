"""/my (我的订阅) and the menu buttons (my, pause, resume, unsubscribe all, frequency...)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.dialogue import Dialogue, Reply, Turn
from bot.telegram.callback_data import DialogueCb, to_action
from vocabulary.actions import Kind


async def on_my(message: Message, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.command(turn, "my")


async def on_menu_button(query: CallbackQuery, callback_data: DialogueCb, turn: Turn,
                         dialogue: Dialogue) -> list[Reply]:
    return await dialogue.press(turn, to_action(callback_data))


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="my")
    router.message.register(on_my, Command("my"))
    router.callback_query.register(on_menu_button, DialogueCb.filter(F.kind == Kind.MENU))
    return router
