"""/calculator and the 政策计算器 flow's buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.dialogue import Dialogue, Reply, Turn
from bot.telegram.callback_data import DialogueCb, to_action
from vocabulary.actions import Kind


async def on_calculator(message: Message, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.command(turn, "calculator")


async def on_calculator_button(query: CallbackQuery, callback_data: DialogueCb, turn: Turn,
                               dialogue: Dialogue) -> list[Reply]:
    return await dialogue.press(turn, to_action(callback_data))


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="calculator")
    router.message.register(on_calculator, Command("calculator"))
    router.callback_query.register(on_calculator_button, DialogueCb.filter(F.kind == Kind.CALCULATOR))
    return router
