"""Telegram through aiogram's `Bot`: HTML text, inline buttons, errors mapped to SendResult.

The send itself skips aiogram's request and response models (see `TelegramChannel.send`): it
posts JSON over the bot's own aiohttp session and reads `message_id` from the answer; only an
error answer goes through aiogram's `check_response`, so every failure maps exactly as before.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response, SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message

from push.channels.base import Button, ChannelName, RenderedMessage, SendResult, SendStatus
from push.ratelimit import KeyedLimiter, telegram_limiter
from vocabulary.actions import PUSH_BUTTON_KINDS

# Callback data is `{prefix}:{value}`; the bot's CallbackQuery handlers match on these prefixes.
CALLBACK_PREFIXES: dict[str, str] = PUSH_BUTTON_KINDS
CALLBACK_DATA_MAX_BYTES = 64  # Bot API limit, in UTF-8 bytes
SEND_TIMEOUT = 30.0  # seconds for one sendMessage before we call it transient


class ButtonError(ValueError):
    """A button cannot be sent to Telegram (unknown action or callback data over 64 bytes)."""


def make_telegram_bot(token: str, api_base: str = "https://api.telegram.org") -> Bot:
    """A Bot talking to `api_base` (the real API, a local Bot API server or the test fake)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def callback_data(button: Button) -> str:
    prefix = CALLBACK_PREFIXES.get(button.action)
    if prefix is None:
        raise ButtonError(f"按钮动作不受支持：{button.action}")
    data = f"{prefix}:{button.value}"
    if len(data.encode("utf-8")) > CALLBACK_DATA_MAX_BYTES:
        raise ButtonError(f"按钮数据超过 {CALLBACK_DATA_MAX_BYTES} 字节：{data[:80]}")
    return data


def inline_keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Two buttons per row (Chinese labels are short; a row of five would be cramped on phones).

    Validated models, not `model_construct`: for aiogram's models the latter is ~3.5x slower
    (it resolves every field default and runs the private-attribute hook), measured 113 µs
    against 32 µs for a four-button keyboard."""
    if not buttons:
        return None
    keys = [
        InlineKeyboardButton(text=b.text, url=b.value)
        if b.action == "url"
        else InlineKeyboardButton(text=b.text, callback_data=callback_data(b))
        for b in buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=[keys[i : i + 2] for i in range(0, len(keys), 2)])


# aiogram parses every answer as `Response[Message]`; pydantic caches parametrised generic
# classes only weakly, and in a busy sender the cyclic GC kept collecting the cached class, so
# it was rebuilt (~12 ms each, ~50 times in a 3,000-message run). A strong reference keeps
# pydantic's cache hit.
_RESPONSE_MESSAGE = Response[Message]


# Constant for every message; aiogram's models are frozen, so one instance can be shared.
NO_LINK_PREVIEW = LinkPreviewOptions(is_disabled=True)


_NO_LINK_PREVIEW_WIRE = {"is_disabled": True}
_JSON_HEADERS = {"Content-Type": "application/json"}


def keyboard_wire(buttons: tuple[Button, ...]) -> dict[str, Any] | None:
    """`inline_keyboard(buttons)` as the Bot API's JSON (what aiogram would serialise), built
    without pydantic: the same two buttons per row, the same ButtonError."""
    if not buttons:
        return None
    keys = [
        {"text": b.text, "url": b.value} if b.action == "url" else {"text": b.text, "callback_data": callback_data(b)}
        for b in buttons
    ]
    return {"inline_keyboard": [keys[i : i + 2] for i in range(0, len(keys), 2)]}


def _chat_id(address: str) -> int | str:
    # Numeric ids go as ints; "@channelusername" stays a string.
    try:
        return int(address)
    except ValueError:
        return address


class TelegramChannel:
    """Sends one RenderedMessage per call, paced by `limiter` (one limiter per bot token)."""

    name = ChannelName.TELEGRAM

    def __init__(self, bot: Bot, limiter: KeyedLimiter | None = None, *, timeout: float = SEND_TIMEOUT) -> None:
        self.bot = bot
        self.limiter = limiter if limiter is not None else telegram_limiter()
        self.timeout = timeout

    async def send(self, message: RenderedMessage) -> SendResult:
        try:
            markup = keyboard_wire(message.buttons)
        except ButtonError as exc:
            return SendResult(SendStatus.FAILED, error=str(exc))
        payload: dict[str, Any] = {
            "chat_id": _chat_id(message.address),
            "text": message.text,
            "parse_mode": "HTML",
            "link_preview_options": _NO_LINK_PREVIEW_WIRE,
        }
        if markup is not None:
            payload["reply_markup"] = markup
        async with self.limiter.slot(message.address):
            try:
                # asyncio.timeout, not wait_for: no extra task per message.
                async with asyncio.timeout(self.timeout):
                    sent = await self._post_send_message(payload)
            except TelegramRetryAfter as exc:
                # Telegram throttles the bot, not the chat: hold every chat for retry_after.
                self.limiter.pause_all(exc.retry_after)
                return SendResult(SendStatus.RETRY, retry_after=float(exc.retry_after), error=exc.message)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a SendResult for the pipeline
                return _result_for(exc)
        message_id, chat_id = sent
        return SendResult(SendStatus.SENT, provider_message_id=str(message_id), raw={"chat_id": chat_id})

    async def _post_send_message(self, payload: dict[str, Any]) -> tuple[int, int]:
        """sendMessage over the bot's aiohttp session; (message_id, chat id) of the sent message.

        aiogram's `bot.send_message` validates a SendMessage model, form-encodes it field by field
        (a boundary from uuid4, every value percent-quoted) and validates the echoed Message with
        its keyboard: ~300 µs CPU per message, more than all the rest of the pipeline. The
        success answer needs two numbers; an error answer (or one we cannot read) goes through
        aiogram's own `check_response`, which raises the exception `_result_for` maps."""
        bot = self.bot
        session = bot.session
        http = await session.create_session()
        url = session.api.api_url(token=bot.token, method="sendMessage")
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with http.post(url, data=body, headers=_JSON_HEADERS) as response:
                status, raw = response.status, await response.read()
        except aiohttp.ClientError as exc:
            raise TelegramNetworkError(method=_method_for(payload), message=f"{type(exc).__name__}: {exc}") from exc
        if status == 200:
            try:
                answer = json.loads(raw)
                if answer["ok"] is True:
                    result = answer["result"]
                    return int(result["message_id"]), int(result["chat"]["id"])
            except (ValueError, KeyError, TypeError):
                pass  # not the answer we expect: let aiogram say what is wrong with it
        session.check_response(bot=bot, method=_method_for(payload), status_code=status,
                               content=raw.decode("utf-8", "replace"))
        raise ClientDecodeError("sendMessage 应答缺少 message_id", ValueError("no message_id"), raw[:200])

    async def close(self) -> None:
        await self.bot.session.close()


def _method_for(payload: dict[str, Any]) -> SendMessage:
    # Only for aiogram's exceptions (they carry the method); built on the error path alone.
    return SendMessage(chat_id=payload["chat_id"], text=payload["text"], parse_mode="HTML")


def _result_for(exc: BaseException) -> SendResult:
    """Map an aiogram (or transport) error to what the pipeline should do next."""
    if isinstance(exc, TelegramMigrateToChat):
        # The group became a supergroup: same people, new id; resend there.
        return SendResult(SendStatus.RETRY, new_address=str(exc.migrate_to_chat_id), error=exc.message)
    if isinstance(exc, TelegramForbiddenError):  # blocked, deactivated, kicked, never started the bot
        return SendResult(SendStatus.PERMANENT, error=exc.message)
    if isinstance(exc, TelegramBadRequest):
        if "chat not found" in exc.message.lower():
            return SendResult(SendStatus.PERMANENT, error=exc.message)
        return SendResult(SendStatus.FAILED, error=exc.message)  # too long, can't parse entities...
    if isinstance(exc, TelegramNotFound):
        return SendResult(SendStatus.PERMANENT, error=exc.message)
    if isinstance(exc, TelegramUnauthorizedError):
        # The bot token is wrong or revoked: no address is at fault, and every send fails alike.
        return SendResult(SendStatus.RETRY, retry_after=300.0, error=f"机器人令牌无效或已被撤销：{exc.message}")
    if isinstance(exc, ClientDecodeError):  # an HTML error page from a proxy in front of the API
        return SendResult(SendStatus.RETRY, error=f"Telegram 返回了无法解析的应答：{exc}"[:500])
    if isinstance(exc, TelegramServerError | TelegramNetworkError | TimeoutError | OSError):
        return SendResult(SendStatus.RETRY, error=str(exc) or type(exc).__name__)
    if isinstance(exc, TelegramAPIError):  # 409, 413, unexpected statuses: retry a few times, then dead-letter
        return SendResult(SendStatus.RETRY, error=exc.message)
    return SendResult(SendStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
