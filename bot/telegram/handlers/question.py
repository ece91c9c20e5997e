"""The catch-all, included last: unknown /commands, any other text (a question or a plain
word intent such as 订阅), and non-text messages (voice, photo, sticker...)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.dialogue import Dialogue, Reply, Turn

NON_TEXT_KINDS = {"voice": "voice", "audio": "voice", "photo": "image", "document": "image", "sticker": "sticker"}


async def on_unknown_command(message: Message, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    name = (message.text or "/").split(maxsplit=1)[0][1:].split("@", 1)[0]
    return await dialogue.command(turn, name)


async def on_text(message: Message, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.text(turn, message.text or "")


async def on_non_text(message: Message, turn: Turn, dialogue: Dialogue) -> list[Reply]:
    return await dialogue.non_text(turn, NON_TEXT_KINDS.get(getattr(message.content_type, "value", ""), "other"))


def build_router() -> Router:
    """A fresh router (a router can belong to one dispatcher only)."""
    router = Router(name="question")
    router.message.register(on_unknown_command, F.text.startswith("/"))
    router.message.register(on_text, F.text)
    router.message.register(on_non_text)
    return router
