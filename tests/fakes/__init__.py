"""Local fakes of the outside world: Telegram Bot API, WeChat official-account API, WeCom robot.

Each fake is a small aiohttp server on 127.0.0.1 (port 0 = random unless given) that speaks the
real wire protocol, records every request and injects faults on demand, so product tests can drive
the REAL aiogram / wechatpy clients end to end without touching the network.

Usage::

    async with FakeTelegram() as tg:
        bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))

The fake classes are re-exported lazily (PEP 562) so that the submodules can import the shared
base class from this package without a circular import.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram
    from tests.fakes.wechat_api import FakeWeChat
    from tests.fakes.wecom_robot import FakeWeComRobot

__all__ = ["Clock", "FakeServer", "FakeTelegram", "FakeWeChat", "FakeWeComRobot", "ManualClock"]

_LAZY = {
    "FakeTelegram": "tests.fakes.telegram_api",
    "FakeWeChat": "tests.fakes.wechat_api",
    "FakeWeComRobot": "tests.fakes.wecom_robot",
}

log = logging.getLogger("tests.fakes")

Clock = Callable[[], float]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ManualClock:
    """A clock that only moves when told to: lets rate-limit tests be deterministic (no sleeps)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Delay:
    """A pending 'answer slowly' rule; ``times=None`` means until ``clear_faults()``."""

    seconds: float
    match: str | None
    times: int | None


class FakeServer:
    """Start/stop plumbing shared by the fakes: an aiohttp AppRunner bound to host:port."""

    #: how long ``stop()`` lets in-flight handlers finish before aiohttp cancels them
    shutdown_timeout: float = 1.0

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Clock = time.monotonic) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self.clock = clock
        self._delays: list[Delay] = []
        # Set on stop() so long-polls and delays end at once instead of holding the shutdown up.
        self._closing = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------------
    def build_app(self) -> web.Application:  # pragma: no cover - overridden
        raise NotImplementedError

    async def start(self) -> Self:
        if self._runner is not None:
            return self
        self._closing = asyncio.Event()  # bind to the running loop (a fixture may build us earlier)
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=self.shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.debug("%s listening on %s", type(self).__name__, self.base_url)
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    # -- slow answers --------------------------------------------------------------------------------
    def _add_delay(self, seconds: float, match: str | None, times: int | None) -> None:
        self._delays.append(Delay(seconds, match, times))

    def _take_delay(self, key: str, matches: Callable[[str, str], bool]) -> float:
        """Consume the first delay rule matching ``key`` and return its length (0 if none)."""
        for rule in self._delays:
            if rule.match is None or matches(rule.match, key):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._delays.remove(rule)
                return rule.seconds
        return 0.0

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up early when the server is being stopped."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)
