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
import inspect
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes import Clock, FakeServer
from tests.fakes.telegram_faults import FaultsMixin
from tests.fakes.telegram_messages import MessagesMixin
from tests.fakes.telegram_updates import UpdatesMixin
from tests.fakes.telegram_wire import (
    TOKEN_RE,
    Call,
    Fault,
    RateViolation,
    TelegramError,
    _Limits,
    chat_type_for,
    decode_param,
    is_ogg_opus,
    strip_html,
    utf16_len,
)

__all__ = [
    "Call",
    "FakeTelegram",
    "Fault",
    "RateViolation",
    "TelegramError",
    "chat_type_for",
    "decode_param",
    "is_ogg_opus",
    "strip_html",
    "utf16_len",
]

log = logging.getLogger("tests.fakes.telegram")


class FakeTelegram(FaultsMixin, MessagesMixin, UpdatesMixin, FakeServer):
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
