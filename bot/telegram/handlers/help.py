"""/help."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.dialogue import Dialogue, Reply, Turn


async def on_help(message: Message, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.command(turn, "help")


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="help")
    router.message.register(on_help, Command("help"))
    return router
