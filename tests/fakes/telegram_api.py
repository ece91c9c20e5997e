"""A fake Telegram Bot API server that the real aiogram client can talk to.

Point aiogram at it with::

    Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))

Wire facts this fake relies on (verified against aiogram 3.31 sources):

* aiogram's ``AiohttpSession`` POSTs **multipart/form-data**; every value is a string: ints as
  ``"123"``, bools as ``"true"``/``"false"``, nested objects (``reply_markup``, ``allowed_updates``,
  ``commands``, ``scope``...) as JSON strings.  Parameters whose value is ``None``/empty are not sent.
* aiogram classifies errors by the HTTP status *and* ``parameters``: ``retry_after`` beats the
  status (-> ``TelegramRetryAfter``), then ``migrate_to_chat_id`` (-> ``TelegramMigrateToChat``),
  then 400/401/403/404/409/413/5xx.  So errors go out in the real envelope with the same status.
* ``Message.reply_markup`` is only ever an InlineKeyboardMarkup: echoing a reply keyboard back in a
  Message would make aiogram's pydantic validation fail.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import itertools
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.fakes import Clock, FakeServer

log = logging.getLogger("tests.fakes.telegram")

TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_INT_RE = re.compile(r"^-?\d+$")

# Parameters that travel as JSON strings in form data (aiogram json-dumps every dict/list).
_JSON_FIELDS = frozenset(
    [
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "results",
        "options",
        "permissions",
        "reaction",
        "message_ids",
        "explanation_entities",
        "question_entities",
        "prices",
    ]
)
_INT_FIELDS = frozenset(
    [
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "max_connections",
        "reply_to_message_id",
        "until_date",
    ]
)
_BOOL_PREFIXES = ("is_", "has_", "can_", "disable_", "allow_", "drop_", "show_", "only_", "protect_")

# Methods that deliver a message to a chat: these count against Telegram's broadcast limits.
_SENDING_METHODS = frozenset(
    [
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendvideo",
        "sendaudio",
        "sendvoice",
        "sendanimation",
        "sendsticker",
        "sendlocation",
        "sendcontact",
        "sendpoll",
        "senddice",
        "sendmediagroup",
        "sendvenue",
        "sendvideonote",
        "copymessage",
        "copymessages",
        "forwardmessage",
        "forwardmessages",
    ]
)

# Update types delivered when allowed_updates is empty (Telegram's documented default).
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Tags the Bot API accepts in parse_mode=HTML (https://core.telegram.org/bots/api#html-style).
_HTML_TAGS = frozenset(
    [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    ]
)
_HTML_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)>")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot);")

MAX_TEXT_LENGTH = 4096

ChatType = Literal["private", "group", "supergroup", "channel"]


def decode_param(name: str, value: Any) -> Any:
    """Turn a form/query string back into what the client meant (JSON, int, bool)."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in _INT_FIELDS and _INT_RE.match(value):
        return int(value)
    if name.startswith(_BOOL_PREFIXES) and value in ("true", "false"):
        return value == "true"
    return value


def is_ogg_opus(data: bytes) -> bool:
    """An Ogg stream whose first packet is an Opus identification header (RFC 7845)."""
    return data[:4] == b"OggS" and b"OpusHead" in data[:64]


def utf16_len(text: str) -> int:
    """Telegram counts text length and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def chat_type_for(chat_id: int) -> ChatType:
    """Bot API id conventions: users > 0, basic groups < 0, supergroups/channels -100xxxxxxxxxx."""
    if chat_id > 0:
        return "private"
    if str(chat_id).startswith("-100"):
        return "supergroup"
    return "group"


class TelegramError(Exception):
    """Raised inside the fake to answer with an error envelope."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.raw_body: str | None = None

    def response(self) -> web.Response:
        if self.raw_body is not None:  # e.g. an nginx HTML page on 502, which aiogram cannot decode
            return web.Response(status=self.status, text=self.raw_body, content_type="text/html")
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.status)


def strip_html(text: str) -> str:
    """Validate ``parse_mode=HTML`` like Telegram does and return the visible text.

    Raises TelegramError(400, "Bad Request: can't parse entities: ...") on the mistakes that
    actually bite in production: unknown tags, unescaped ``<``/``&``, unbalanced tags.
    """
    out: list[str] = []
    stack: list[str] = []
    pos = 0

    def fail(detail: str, at: int) -> TelegramError:
        byte_offset = len(text[:at].encode())  # Telegram reports UTF-8 byte offsets
        return TelegramError(400, f"Bad Request: can't parse entities: {detail} at byte offset {byte_offset}")

    while pos < len(text):
        ch = text[pos]
        if ch == "<":
            m = _HTML_TAG_RE.match(text, pos)
            if m is None:
                raise fail(
                    "Unexpected end of name token" if pos + 1 < len(text) else "Unclosed start tag", pos
                )
            closing, name = m.group(1) == "/", m.group(2).lower()
            if name not in _HTML_TAGS:
                kind = "end" if closing else "start"
                raise fail(f'Unsupported {kind} tag "{name}"', pos)
            if closing:
                if not stack or stack[-1] != name:
                    expected = f', expected "</{stack[-1]}>"' if stack else ""
                    raise fail(f'Unmatched end tag{expected}, found "</{name}>"', pos)
                stack.pop()
            else:
                stack.append(name)
            pos = m.end()
        elif ch == "&":
            m = _HTML_ENTITY_RE.match(text, pos)
            if m is None:
                raise fail('Unsupported HTML entity or unescaped "&"', pos)
            out.append(html.unescape(m.group(0)))
            pos = m.end()
        elif ch == ">":
            raise fail('Unexpected ">"; use "&gt;"', pos)
        else:
            out.append(ch)
            pos += 1
    if stack:
        raise TelegramError(
            400,
            "Bad Request: can't parse entities: "
            f'Can\'t find end tag corresponding to start tag "{stack[-1]}"',
        )
    return "".join(out)


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    at: float  # fake's clock (time.monotonic by default) when the request arrived
    token: str
    status: int = 0  # HTTP status answered; 0 while the request is still being handled
    result: Any = None  # the "result" (on success) or the error description


@dataclass
class Fault:
    """A one-shot (or n-shot) injected error."""

    method: str | None
    status: int
    description: str
    parameters: dict[str, Any] | None
    times: int
    chat_id: int | str | None
    raw_body: str | None = None


@dataclass
class RateViolation:
    """A request the fake refused because the client broke Telegram's published limits."""

    kind: Literal["global", "chat", "group"]
    chat_id: int | str | None
    at: float
    retry_after: int


@dataclass
class _Limits:
    per_second: int
    per_chat_per_second: int
    per_group_per_minute: int
    sent: deque[float] = field(default_factory=deque)
    per_chat: dict[Any, deque[float]] = field(default_factory=dict)


class FakeTelegram(FakeServer):
    """Fake Bot API: ``POST|GET /bot{token}/{method}``.  All non-async methods are safe to call from
    the test's event loop at any time (they never await, so they cannot interleave with a handler)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.monotonic,
        *,
        log_sends: bool = False,
    ) -> None:
        super().__init__(host, port, clock)
        self.log_sends = log_sends
        self.calls: list[Call] = []
        self.tokens_seen: set[str] = set()
        self.unknown_methods: list[str] = []
        self.rate_violations: list[RateViolation] = []
        self.revoked_tokens: set[str] = set()
        self.webhook: dict[str, Any] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat_id, message_id) -> Message

        self._blocked: dict[int | str, str] = {}
        self._forgotten: set[int | str] = set()
        self._migrated: dict[int | str, int] = {}
        self._faults: list[Fault] = []
        self._limits: _Limits | None = None

        self._pending: list[dict[str, Any]] = []
        self._allowed_updates: list[str] = []
        self._next_update_id = 100_000
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self.voice_files: dict[str, bytes] = {}  # file_id -> bytes of voices uploaded through sendVoice
        self.voice_uploads: list[str] = []  # file ids in upload order
        self._callback_ids = itertools.count(1)
        self._poll_waiter: asyncio.Future[str] | None = None
        self._bot_id = 42  # updated from the first token seen; used for "from" of bot messages

    # ------------------------------------------------------------------------------------------------
    # server plumbing
    # ------------------------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # Control endpoints for driving the fake by hand (python -m tests.fakes); not part of the Bot API.
        app.router.add_post("/_fake/updates", self._control_push)
        app.router.add_get("/_fake/calls", self._control_calls)
        return app

    async def stop(self) -> None:
        self._wake_poller("closing")
        await super().stop()

    @staticmethod
    def token_ok(token: str) -> bool:
        """Whether the fake accepts ``token``: any ``digits:alnum`` string, like Telegram's format."""
        return bool(TOKEN_RE.match(token))

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: decode_param(k, v) for k, v in request.query.items()}
        if request.method != "POST" or not request.can_read_body:
            return params
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = decode_param(key, value)
                else:  # an uploaded file: its name and size; the bytes too, for tests to inspect
                    data = value.file.read()
                    params[key] = {"filename": value.filename, "size": len(data), "data": data}
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if not self.token_ok(token):
            # Telegram answers a malformed token path with 404 Not Found.
            return TelegramError(404, "Not Found").response()
        params = await self._read_params(request)
        call = Call(method=method, params=params, at=self.clock(), token=token)
        self.calls.append(call)
        if not self.tokens_seen:
            self._bot_id = int(token.split(":", 1)[0])
        self.tokens_seen.add(token)
        try:
            if token in self.revoked_tokens:
                raise TelegramError(401, "Unauthorized")
            await self._sleep(self._take_delay(method.lower(), lambda rule, key: rule.lower() == key))
            self._check_faults(method, params)
            result = await self._dispatch(method, params, token)
        except TelegramError as err:
            call.status, call.result = err.status, err.description
            return err.response()
        call.status, call.result = 200, result
        if self.log_sends and method.lower() == "sendmessage":
            first_line = str(params.get("text", "")).split("\n", 1)[0]
            log.info("sendMessage -> chat %s: %s", params.get("chat_id"), first_line[:120])
        return web.json_response({"ok": True, "result": result})

    # ------------------------------------------------------------------------------------------------
    # faults
    # ------------------------------------------------------------------------------------------------
    def block_chat(self, chat_id: int | str, description: str | None = None) -> None:
        """Every method addressed to ``chat_id`` answers 403 from now on (user blocked the bot)."""
        if description is None:
            kind = chat_type_for(chat_id) if isinstance(chat_id, int) else "channel"
            description = {
                "private": "Forbidden: bot was blocked by the user",
                "group": "Forbidden: bot was kicked from the group chat",
                "supergroup": "Forbidden: bot was kicked from the supergroup chat",
                "channel": "Forbidden: bot is not a member of the channel chat",
            }[kind]
        self._blocked[chat_id] = description

    def unblock_chat(self, chat_id: int | str) -> None:
        self._blocked.pop(chat_id, None)

    def forget_chat(self, chat_id: int | str) -> None:
        """``chat_id`` answers 400 "Bad Request: chat not found" (deleted account, wrong id)."""
        self._forgotten.add(chat_id)

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """A group was upgraded to a supergroup: ``old_id`` answers 400 with ``migrate_to_chat_id``."""
        self._migrated[old_id] = new_id

    def inject(
        self,
        method: str | None = "sendMessage",
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
        *,
        migrate_to_chat_id: int | None = None,
        raw_body: str | None = None,
    ) -> None:
        """Queue an error for the next ``times`` matching requests (``method=None``: any method).

        429 gets ``parameters.retry_after`` (default 2).  Other statuses only carry ``retry_after`` if
        given explicitly, because aiogram maps *any* error with retry_after to TelegramRetryAfter.
        ``raw_body`` sends a non-JSON body instead of the envelope (a real 502 is nginx HTML).
        """
        if status == 429 and retry_after is None:
            retry_after = 2
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden",
                404: "Not Found",
                409: "Conflict",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Internal Server Error" if status >= 500 else "Bad Request")
        parameters: dict[str, Any] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        self._faults.append(
            Fault(method, status, description, parameters or None, times, chat_id, raw_body=raw_body)
        )

    def delay(self, seconds: float, method: str | None = "sendMessage", times: int | None = 1) -> None:
        """Answer the next ``times`` matching requests ``seconds`` late (``times=None``: until cleared)."""
        self._add_delay(seconds, method, times)

    def revoke_token(self, token: str) -> None:
        """Requests with ``token`` answer 401 Unauthorized (token revoked in @BotFather)."""
        self.revoked_tokens.add(token)

    def enforce_limits(
        self, per_second: int = 30, per_chat_per_second: int = 1, per_group_per_minute: int = 20
    ) -> None:
        """Make the fake itself answer 429 when a client exceeds Telegram's published broadcast limits
        (sliding windows over message-sending methods; refused requests do not count)."""
        self._limits = _Limits(per_second, per_chat_per_second, per_group_per_minute)

    def clear_faults(self) -> None:
        """Drop every fault, delay, block and limit (recorded calls stay)."""
        self._faults.clear()
        self._delays.clear()
        self._blocked.clear()
        self._forgotten.clear()
        self._migrated.clear()
        self.revoked_tokens.clear()
        self._limits = None

    def _check_faults(self, method: str, params: dict[str, Any]) -> None:
        chat_id = params.get("chat_id")
        for fault in self._faults:
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            err = TelegramError(fault.status, fault.description, fault.parameters)
            err.raw_body = fault.raw_body
            raise err
        if chat_id is None:
            return
        if chat_id in self._blocked:
            raise TelegramError(403, self._blocked[chat_id])
        if chat_id in self._forgotten:
            raise TelegramError(400, "Bad Request: chat not found")
        if chat_id in self._migrated:
            raise TelegramError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        if self._limits is not None and method.lower() in _SENDING_METHODS:
            self._check_limits(self._limits, chat_id)

    def _check_limits(self, limits: _Limits, chat_id: Any) -> None:
        now = self.clock()

        def refuse(kind: Literal["global", "chat", "group"], window: deque[float], span: float) -> None:
            retry_after = max(1, math.ceil(window[0] + span - now))
            self.rate_violations.append(RateViolation(kind, chat_id, now, retry_after))
            raise TelegramError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )

        def trim(window: deque[float], span: float) -> deque[float]:
            while window and window[0] <= now - span:
                window.popleft()
            return window

        sent = trim(limits.sent, 1.0)
        if len(sent) >= limits.per_second:
            refuse("global", sent, 1.0)
        per_chat = trim(limits.per_chat.setdefault(chat_id, deque()), 60.0)
        last_second = deque(t for t in per_chat if t > now - 1.0)
        if len(last_second) >= limits.per_chat_per_second:
            refuse("chat", last_second, 1.0)
        is_group = isinstance(chat_id, int) and chat_id < 0
        if is_group and len(per_chat) >= limits.per_group_per_minute:
            refuse("group", per_chat, 60.0)
        sent.append(now)
        per_chat.append(now)

    # ------------------------------------------------------------------------------------------------
    # methods
    # ------------------------------------------------------------------------------------------------
    async def _dispatch(self, method: str, params: dict[str, Any], token: str) -> Any:
        handlers: dict[str, Callable[[dict[str, Any], str], Awaitable[Any]]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "sendvoice": self._send_voice,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_reply_markup,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
        }
        handler = handlers.get(method.lower())
        if handler is not None:
            return await handler(params, token)
        if method.lower() in ("answercallbackquery", "sendchataction"):
            return True
        self.unknown_methods.append(method)
        return True

    def bot_user(self, token: str | None = None) -> dict[str, Any]:
        bot_id = int(token.split(":", 1)[0]) if token else self._bot_id
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": "政策直达 (fake)",
            "username": f"fake_{bot_id}_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_me(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return self.bot_user(token)

    def chat(
        self, chat_id: int, chat_type: ChatType | None = None, first_name: str = "张三"
    ) -> dict[str, Any]:
        kind = chat_type or chat_type_for(chat_id)
        if kind == "private":
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": kind, "title": f"测试群 {chat_id}"}

    def _visible_text(self, params: dict[str, Any]) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if str(params.get("parse_mode", "")).upper() == "HTML":
            text = strip_html(text)
            if not text.strip():
                raise TelegramError(400, "Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT_LENGTH:
            raise TelegramError(400, "Bad Request: message is too long")
        return text

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str) and _INT_RE.match(chat_id):  # JSON clients may send "123"
            return int(chat_id)
        # "@channelusername" and garbage: this fake knows no public usernames.
        raise TelegramError(400, "Bad Request: chat not found")

    async def _send_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text = self._visible_text(params)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self.bot_user(token),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _send_voice(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        """sendVoice: an uploaded OGG/Opus (or MP3) file, or the file_id of an earlier upload."""
        chat_id = self._chat_id(params)
        voice = params.get("voice")
        if isinstance(voice, str) and voice.startswith("attach://"):  # aiogram names the file part
            voice = params.get(voice[len("attach://"):])
        if isinstance(voice, dict):  # an upload
            data = voice.get("data", b"")
            if not (is_ogg_opus(data) or data[:3] == b"ID3" or data[:2] in (b"\xff\xf3", b"\xff\xfb")):
                raise TelegramError(400, "Bad Request: wrong type of the web page content")
            if len(data) > 50 * 1024 * 1024:
                raise TelegramError(413, "Request Entity Too Large")
            file_id = f"AwACAgIAAxkBAAI{next(self._file_ids)}_voice"
            self.voice_files[file_id] = data
            self.voice_uploads.append(file_id)
        elif isinstance(voice, str) and voice in self.voice_files:
            file_id, data = voice, self.voice_files[voice]
        else:
            raise TelegramError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self.bot_user(token),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "voice": {"file_id": file_id, "file_unique_id": file_id[-16:], "duration": int(params.get("duration") or 0),
                      "mime_type": "audio/ogg", "file_size": len(data)},
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _stored_message(self, params: dict[str, Any], token: str) -> dict[str, Any] | None:
        if "inline_message_id" in params:
            return None
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise TelegramError(400, "Bad Request: message identifier is not specified")
        # Unknown ids are synthesised (tests often edit messages they never sent through the fake).
        return self.messages.setdefault(
            (chat_id, message_id),
            {
                "message_id": message_id,
                "from": self.bot_user(token),
                "chat": self.chat(chat_id),
                "date": int(time.time()),
                "text": "…",
            },
        )

    def _apply_edit(self, message: dict[str, Any], text: str, markup: Any) -> dict[str, Any]:
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        if message.get("text") == text and message.get("reply_markup") == new_markup:
            raise TelegramError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = text
        message["edit_date"] = int(time.time())
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new_markup
        return message

    async def _edit_message_text(self, params: dict[str, Any], token: str) -> dict[str, Any] | bool:
        text = self._visible_text(params)
        message = self._stored_message(params, token)
        if message is None:
            return True  # inline messages: the Bot API answers plain true
        return self._apply_edit(message, text, params.get("reply_markup"))

    async def _edit_reply_markup(self, params: dict[str, Any], token: str) -> dict[str, Any] | bool:
        message = self._stored_message(params, token)
        if message is None:
            return True
        return self._apply_edit(message, message.get("text", ""), params.get("reply_markup"))

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code", ""))

    async def _set_my_commands(self, params: dict[str, Any], token: str) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise TelegramError(400, 'Bad Request: parameter "commands" is required')
        self.commands[self._commands_key(params)] = commands
        return True

    async def _delete_my_commands(self, params: dict[str, Any], token: str) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_my_commands(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    async def _set_webhook(self, params: dict[str, Any], token: str) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://"):
            raise TelegramError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {k: v for k, v in params.items() if k != "certificate"} if url else {}
        if url:
            self._wake_poller("conflict")
        return True

    async def _delete_webhook(self, params: dict[str, Any], token: str) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    # ------------------------------------------------------------------------------------------------
    # updates and long polling
    # ------------------------------------------------------------------------------------------------
    def _wake_poller(self, reason: str) -> None:
        waiter, self._poll_waiter = self._poll_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(reason)

    def _deliverable(self, update: dict[str, Any]) -> bool:
        kinds = set(update) - {"update_id"}
        if self._allowed_updates:
            return bool(kinds & set(self._allowed_updates))
        return not kinds <= _DEFAULT_EXCLUDED_UPDATES

    async def _get_updates(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        if self.webhook:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params and isinstance(params["allowed_updates"], list):
            self._allowed_updates = params["allowed_updates"]  # Telegram remembers the last list
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            # Everything below offset is confirmed and never delivered again.
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._pending = self._pending[offset:]
        self._pending = [u for u in self._pending if self._deliverable(u)]
        limit = params.get("limit", 100)
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        timeout = params.get("timeout", 0)
        timeout = timeout if isinstance(timeout, int) else 0

        # A second poller terminates the first one, exactly like Telegram's 409.
        self._wake_poller("conflict")
        if not self._pending and timeout > 0 and not self._closing.is_set():
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._poll_waiter = waiter
            try:
                reason = await asyncio.wait_for(asyncio.shield(waiter), timeout=timeout)
            except TimeoutError:
                reason = "timeout"
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if reason == "conflict":
                raise TelegramError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            self._pending = [u for u in self._pending if self._deliverable(u)]
        return list(self._pending[:limit])

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigns ``update_id`` if missing) and return it."""
        if "update_id" not in update:
            update = {"update_id": self._new_update_id(), **update}
        else:
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._pending.append(update)
        self._wake_poller("update")
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._pending)

    def _new_update_id(self) -> int:
        self._next_update_id += 1
        return self._next_update_id - 1

    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}

    def _user_message(
        self, chat_id: int, user_id: int | None, first_name: str, chat_type: ChatType | None
    ) -> dict[str, Any]:
        if user_id is None:
            user_id = chat_id if chat_id > 0 else 10_001
        return {
            "message_id": next(self._message_ids),
            "from": self._user(user_id, first_name),
            "chat": self.chat(chat_id, chat_type, first_name),
            "date": int(time.time()),
        }

    def message_update(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        first_name: str = "张三",
        chat_type: ChatType | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A text message from a user.  ``/commands`` get a ``bot_command`` entity automatically
        (aiogram's Command filter does not need it, but real clients send it).  ``chat_type``
        defaults to what the id implies (positive = private)."""
        message = self._user_message(chat_id, user_id, first_name, chat_type)
        message["text"] = text
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        if entities:
            message["entities"] = entities
        return {"update_id": self._new_update_id(), "message": message}

    def callback_update(
        self, chat_id: int, data: str, message_id: int, user_id: int | None = None, first_name: str = "张三"
    ) -> dict[str, Any]:
        """The user pressed an inline button with ``callback_data=data`` under bot message ``message_id``."""
        if user_id is None:
            user_id = chat_id if chat_id > 0 else 10_001
        message = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "from": self.bot_user(),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": "…",
        }
        return {
            "update_id": self._new_update_id(),
            "callback_query": {
                "id": str(4_000_000_000 + next(self._callback_ids)),
                "from": self._user(user_id, first_name),
                "message": message,
                "chat_instance": str(abs(chat_id) * 7 + 1),
                "data": data,
            },
        }

    def user_update_non_text(
        self, chat_id: int, kind: Literal["sticker", "voice", "photo"] = "sticker", user_id: int | None = None
    ) -> dict[str, Any]:
        """A non-text message (sticker / voice / photo) shaped like the real Bot API JSON."""
        message = self._user_message(chat_id, user_id, "张三", None)
        uid = f"AgAD{message['message_id']:06d}"
        if kind == "sticker":
            message["sticker"] = {
                "file_id": f"CAACAgIAAxk{uid}",
                "file_unique_id": uid,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
        elif kind == "voice":
            message["voice"] = {
                "file_id": f"AwACAgUAAxk{uid}",
                "file_unique_id": uid,
                "duration": 3,
                "mime_type": "audio/ogg",
                "file_size": 12_345,
            }
        elif kind == "photo":
            message["photo"] = [
                {
                    "file_id": f"AgACAgUAAxk{uid}{w}",
                    "file_unique_id": f"{uid}{w}",
                    "width": w,
                    "height": w * 3 // 4,
                    "file_size": w * 40,
                }
                for w in (90, 320, 800)
            ]
        else:
            raise ValueError(f"unsupported kind {kind!r}")
        return {"update_id": self._new_update_id(), "message": message}

    def chat_member_update(
        self, chat_id: int, new_status: str = "kicked", old_status: str = "member", user_id: int | None = None
    ) -> dict[str, Any]:
        """``my_chat_member``: what Telegram sends when a user blocks (``kicked``) or restarts the bot."""
        if user_id is None:
            user_id = chat_id if chat_id > 0 else 10_001
        bot = self.bot_user()
        new_member: dict[str, Any] = {"status": new_status, "user": bot}
        if new_status == "kicked":
            new_member["until_date"] = 0
        return {
            "update_id": self._new_update_id(),
            "my_chat_member": {
                "chat": self.chat(chat_id),
                "from": self._user(user_id, "张三"),
                "date": int(time.time()),
                "old_chat_member": {"status": old_status, "user": bot},
                "new_chat_member": new_member,
            },
        }

    # ------------------------------------------------------------------------------------------------
    # inspection helpers for tests
    # ------------------------------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Params of every *successful* sendMessage (reply_markup already decoded), oldest first."""
        return [
            c.params
            for c in self.calls
            if c.method.lower() == "sendmessage"
            and c.status == 200
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def wait_for(
        self,
        predicate: Callable[..., Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - a plain timeout argument is the API the brief asks for
    ) -> Any:
        """Poll until ``predicate`` is truthy and return its value.

        ``predicate`` takes either no argument or the list of recorded calls, e.g.
        ``await tg.wait_for(lambda: tg.sent_messages(chat_id=1))``.
        """
        takes_calls = bool(inspect.signature(predicate).parameters)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate(self.calls) if takes_calls else predicate()
            if value:
                return value
            if loop.time() >= deadline:
                seen = ", ".join(f"{c.method}->{c.status}" for c in self.calls[-10:])
                raise TimeoutError(f"condition not met within {timeout}s; last calls: {seen or 'none'}")
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------------------------------------
    # control endpoints (manual runs)
    # ------------------------------------------------------------------------------------------------
    async def _control_push(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "chat_id" in body and "text" in body:  # shorthand: a user's text message
            body = self.message_update(int(body["chat_id"]), str(body["text"]))
        return web.json_response(self.push_update(body))

    async def _control_calls(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"method": c.method, "params": c.params, "status": c.status, "token": c.token}
                for c in self.calls
            ]
        )
