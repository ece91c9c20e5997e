"""Dialogue replies as Telegram messages: escaped HTML text and inline keyboards."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.dialogue.replies import Reply
from bot.telegram.callback_data import to_callback_data

log = logging.getLogger(__name__)

MAX_UTF16 = 4096
NOTICE_MAX = 200  # answerCallbackQuery text limit


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escaped_len(text: str) -> int:
    """Length Telegram counts for `text` once escaped for parse_mode=HTML."""
    return utf16_len(html.escape(text, quote=False))


def split_text(text: str, limit: int = MAX_UTF16, measure: Callable[[str], int] = utf16_len) -> list[str]:
    """Pieces whose `measure` is at most `limit`, cut at line ends where possible.

    Split the raw text and escape each piece afterwards (measure=escaped_len): cutting an
    escaped text could leave half an entity ("&am" | "p;") at a cut, which Telegram refuses.
    """
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while measure(line) > limit:
            cut = _longest_prefix(line, limit, measure)
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        pieces.append(current)
    return pieces or [text[:1] or "…"]


# The 🔊 朗读 button's listening page: in Telegram the voice comes into the chat instead
# (bot/telegram/handlers/read_aloud.py).
_LISTEN_PAGE = re.compile(r"/(p|faq)/(\d{1,10})/listen$")
_SAY_PREFIX = {"p": "say", "faq": "sayf"}


def _longest_prefix(line: str, limit: int, measure: Callable[[str], int]) -> int:
    """The most characters of `line` that fit (at least one, so the loop always advances)."""
    low, high = 1, len(line)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(line[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def escaped_pieces(text: str, limit: int = MAX_UTF16) -> list[str]:
    """`text` as HTML-escaped messages of at most `limit` units, never cut inside an entity."""
    return [html.escape(piece, quote=False) for piece in split_text(text, limit, escaped_len)]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for row in reply.buttons:
        buttons = []
        for b in row:
            listen = _LISTEN_PAGE.search(b.url) if not b.action else None
            if listen:
                data = f"{_SAY_PREFIX[listen.group(1)]}:{listen.group(2)}"
                buttons.append(InlineKeyboardButton(text=b.label, callback_data=data))
            elif b.action:
                buttons.append(InlineKeyboardButton(text=b.label, callback_data=to_callback_data(b.action)))
            elif b.url.startswith("https://"):
                # Telegram refuses http:// and local URLs in buttons; the link is in the text anyway.
                buttons.append(InlineKeyboardButton(text=b.label, url=b.url))
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def send(bot: Bot, chat_id: int, reply: Reply) -> None:
    # Every reply is plain text from the dialogue: escaping all of it escapes every user and
    # department string, and our HTML parse mode can never be broken by a "<" in a title.
    pieces = escaped_pieces(reply.text)
    for n, piece in enumerate(pieces):
        last = n == len(pieces) - 1
        await bot.send_message(chat_id, piece, reply_markup=keyboard(reply) if last else None)


async def edit(message: Message, reply: Reply) -> bool:
    """Edit a bot message in place (multi-select menus); False when it cannot be edited."""
    text = html.escape(reply.text, quote=False)
    if utf16_len(text) > MAX_UTF16:
        return False
    try:
        await message.edit_text(text, reply_markup=keyboard(reply))
    except TelegramBadRequest as exc:
        if "not modified" in exc.message:
            return True
        log.info("cannot edit message %s: %s", message.message_id, exc.message)
        return False
    return True


async def answer_message(bot: Bot, chat_id: int, replies: list[Reply]) -> None:
    for reply in replies:
        await send(bot, chat_id, reply)


async def answer_callback(bot: Bot, query: CallbackQuery, replies: list[Reply]) -> None:
    notice = next((r.notice for r in replies if r.notice), "")
    await query.answer(notice[:NOTICE_MAX] or None)
    message = query.message if isinstance(query.message, Message) else None
    chat_id = message.chat.id if message else query.from_user.id
    for n, reply in enumerate(replies):
        if n == 0 and reply.replace and message is not None and await edit(message, reply):
            continue
        await send(bot, chat_id, reply)
