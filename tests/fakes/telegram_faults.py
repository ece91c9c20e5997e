"""Injected failures of the fake Telegram server: blocked, forgotten and migrated chats,
scheduled faults, delays, revoked tokens and Telegram's broadcast limits."""

from __future__ import annotations

import logging
import math
from collections import deque
from typing import Any, Literal

from tests.fakes.telegram_wire import (
    _SENDING_METHODS,
    Fault,
    RateViolation,
    TelegramError,
    _Limits,
    chat_type_for,
)

log = logging.getLogger("tests.fakes.telegram")


class FaultsMixin:
    """Part of FakeTelegram (tests.fakes.telegram_api); works on the state its __init__ sets."""

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
