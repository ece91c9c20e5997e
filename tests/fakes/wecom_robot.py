"""A fake WeCom (企业微信) group robot: ``POST /cgi-bin/webhook/send?key=KEY``.

Not covered by wechatpy; the product posts JSON itself.  Answers are HTTP 200 with
``{"errcode": N, "errmsg": ...}`` like every WeCom API.  Limits reproduced: text content at most
2048 UTF-8 bytes, markdown at most 4096 bytes (both 40058), and optionally 20 messages per minute
per robot (45009).
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes import Clock, FakeServer

ERRMSG: dict[int, str] = {
    -1: "system error",
    40008: "invalid message type",
    40058: "content exceed max length",
    44004: "empty content",
    45009: "api freq out of limit",
    93000: "invalid webhook url",
}

#: byte limits of the content field per msgtype (work.weixin.qq.com/api/doc/90000/90136/91770)
CONTENT_LIMITS = {"text": 2048, "markdown": 4096}
MSGTYPES = frozenset({"text", "markdown", "image", "news", "file", "voice", "template_card"})


@dataclass
class RobotCall:
    key: str
    body: Any
    at: float
    errcode: int | None = None


@dataclass
class RobotFault:
    errcode: int
    errmsg: str
    times: int
    key: str | None
    http_status: int = 200


class FakeWeComRobot(FakeServer):
    """Fake of ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.monotonic,
        *,
        keys: tuple[str, ...] = (),
    ) -> None:
        super().__init__(host, port, clock)
        self.keys: set[str] = set(keys)
        self.calls: list[RobotCall] = []
        self._faults: list[RobotFault] = []
        self._per_minute: int | None = None
        self._sent: dict[str, deque[float]] = {}

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._handle)
        return app

    def webhook_url(self, key: str = "fake-robot-key") -> str:
        """Register ``key`` as a valid robot and return its webhook URL."""
        self.keys.add(key)
        return f"{self.base_url}/cgi-bin/webhook/send?key={key}"

    def remove_key(self, key: str) -> None:
        """The robot was removed from the group: its URL now answers 93000."""
        self.keys.discard(key)

    def inject(
        self,
        errcode: int = -1,
        errmsg: str | None = None,
        times: int = 1,
        key: str | None = None,
        *,
        http_status: int = 200,
    ) -> None:
        """Answer the next ``times`` posts (to ``key``, or any) with ``errcode`` or a bare HTTP error."""
        message = errmsg if errmsg is not None else ERRMSG.get(errcode, "error")
        self._faults.append(RobotFault(errcode, message, times, key, http_status))

    def delay(self, seconds: float, times: int | None = 1) -> None:
        self._add_delay(seconds, None, times)

    def enforce_limits(self, per_minute: int = 20) -> None:
        """Answer 45009 when one robot gets more than ``per_minute`` messages in a sliding minute."""
        self._per_minute = per_minute

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._per_minute = None

    def messages(self, key: str | None = None) -> list[dict[str, Any]]:
        """Bodies of successfully delivered messages, oldest first."""
        return [
            c.body
            for c in self.calls
            if c.errcode == 0 and isinstance(c.body, dict) and (key is None or c.key == key)
        ]

    async def _handle(self, request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        raw = await request.read()
        try:
            body: Any = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = raw.decode("utf-8", "replace")
        call = RobotCall(key=key, body=body, at=self.clock())
        self.calls.append(call)
        await self._sleep(self._take_delay("send", lambda rule, k: True))
        for fault in self._faults:
            if fault.key is not None and fault.key != key:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            if fault.http_status != 200:
                return web.Response(status=fault.http_status, text=fault.errmsg)
            return self._answer(call, fault.errcode, fault.errmsg)
        errcode = self._validate(key, body)
        if errcode == 0 and self._per_minute is not None:
            now = self.clock()
            window = self._sent.setdefault(key, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= self._per_minute:
                errcode = 45009
            else:
                window.append(now)
        return self._answer(call, errcode)

    def _validate(self, key: str, body: Any) -> int:
        if key not in self.keys:
            return 93000
        if not isinstance(body, dict):
            return 40008
        msgtype = body.get("msgtype")
        if msgtype not in MSGTYPES or not isinstance(body.get(msgtype), dict):
            return 40008
        if msgtype in CONTENT_LIMITS:
            content = body[msgtype].get("content")
            if not isinstance(content, str) or not content:
                return 44004
            if len(content.encode("utf-8")) > CONTENT_LIMITS[msgtype]:
                return 40058
        return 0

    @staticmethod
    def _answer(call: RobotCall, errcode: int, errmsg: str | None = None) -> web.Response:
        call.errcode = errcode
        message = errmsg if errmsg is not None else ("ok" if errcode == 0 else ERRMSG.get(errcode, "error"))
        if errcode == 93000:
            # WeCom appends a hint, e.g. "invalid webhook url, hint: [...]"
            message = f"{message}, hint: [fake], from ip: 127.0.0.1"
        return web.Response(
            text=json.dumps({"errcode": errcode, "errmsg": message}, ensure_ascii=False),
            content_type="application/json",
        )
