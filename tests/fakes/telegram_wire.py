"""The Bot API's wire format as the fake Telegram server reads and writes it: parameter decoding,
the HTML subset of parse_mode=HTML, error envelopes and the records tests inspect."""

from __future__ import annotations

import html
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

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

