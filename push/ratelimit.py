"""Outgoing rate limits for the channel adapters (asyncio, in-process).

Why not a classic token bucket: a bucket of capacity N refilling at N/s lets N + N*T messages
through in any window of T seconds, so a burst followed by the refill breaks "at most 30 in any
one second" as Telegram (and our fake server) measures it. Here a *use* holds its token from the
moment it is taken until `window` seconds after the send has finished (`Permit.release()`). Whatever
instant the platform stamps on the request (somewhere between our acquire and the response), two
uses of the same token are then at least `window` apart, so at most `count` requests fall into any
`window`, whatever the network jitter. The price is one request latency per token per window.

Waits for one chat (or webhook) happen before, and outside, the shared global queue, so a busy
chat never holds up messages for other chats. A limit with `count == 0` is off.

Limits here are per process. Several sending processes share one budget through Redis
(`push.shared_limits`, REDIS_URL); Telegram's limits are per bot token, not per process.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core import clock as core_clock
from core.clock import CHINA_TZ

MonotonicFn = Callable[[], float]
SleepFn = Callable[[float], Awaitable[None]]
WallClockFn = Callable[[], datetime]


@dataclass(frozen=True)
class Rate:
    """At most `count` uses in any `per` seconds; `count == 0` turns the limit off."""

    count: int
    per: float

    @property
    def enabled(self) -> bool:
        return self.count > 0


class _Window:
    """`count` tokens; a released token comes back `per` seconds after its release."""

    __slots__ = ("_in_use", "_returns", "rate")

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._in_use = 0
        # Return times are appended in release order with a constant offset, so they stay sorted.
        self._returns: deque[float] = deque()

    def free_at(self, now: float) -> float | None:
        """`now` if a token is free, else when the next one returns; None if all are in flight."""
        while self._returns and self._returns[0] <= now:
            self._returns.popleft()
        if self._in_use + len(self._returns) < self.rate.count:
            return now
        return self._returns[0] if self._returns else None

    def take(self) -> None:
        self._in_use += 1

    def give_back(self, now: float) -> None:
        self._in_use -= 1
        self._returns.append(now + self.rate.per)

    def idle(self, now: float) -> bool:
        self.free_at(now)
        return self._in_use == 0 and not self._returns


class _Gate:
    """A set of windows taken together, plus a wake-up signal for waiters blocked on in-flight uses."""

    def __init__(self, rates: Sequence[Rate]) -> None:
        self.windows = [_Window(rate) for rate in rates if rate.enabled]
        self.released = asyncio.Event()

    def wait_until(self, now: float) -> float | None:
        """The earliest time every window has a free token (None: wait for a release)."""
        latest = now
        for window in self.windows:
            at = window.free_at(now)
            if at is None:
                return None
            latest = max(latest, at)
        return latest

    def take(self) -> None:
        for window in self.windows:
            window.take()

    def give_back(self, now: float) -> None:
        for window in self.windows:
            window.give_back(now)
        self.released.set()

    def idle(self, now: float) -> bool:
        return all(window.idle(now) for window in self.windows)


class Permit:
    """The right to make one request; `release()` when the request has finished (either way)."""

    def __init__(self, limiter: KeyedLimiter, gates: tuple[_Gate, ...]) -> None:
        self._limiter = limiter
        self._gates = gates
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        now = self._limiter.now()
        for gate in self._gates:
            gate.give_back(now)

    async def __aenter__(self) -> Permit:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


class KeyedLimiter:
    """Global limits shared by every request plus per-key limits (a chat, a webhook).

    `acquire(key)` waits for the key first (no shared lock held), then queues FIFO for the global
    limits and any `pause_all()` in force.
    """

    def __init__(
        self,
        global_rates: Sequence[Rate] = (),
        key_rates: Callable[[str], Sequence[Rate]] = lambda _key: (),
        *,
        now: MonotonicFn = time.monotonic,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        self.now = now
        self._sleep = sleep
        self._global = _Gate(global_rates)
        self._key_rates = key_rates
        self._keys: dict[str, _Gate] = {}
        self._global_queue = asyncio.Lock()  # FIFO, so global waiters are served in arrival order
        self._paused_until = 0.0
        self._acquired = 0

    def pause_all(self, seconds: float) -> None:
        """Hold every new request for `seconds` (after a 429: the platform throttles the whole bot)."""
        self._paused_until = max(self._paused_until, self.now() + max(0.0, seconds))

    @property
    def paused_until(self) -> float:
        return self._paused_until

    async def acquire(self, key: str = "") -> Permit:
        gates: list[_Gate] = []
        key_gate = self._key_gate(key)
        if key_gate is not None:
            await self._wait_and_take(key_gate)
            gates.append(key_gate)
        try:
            async with self._global_queue:
                await self._wait_and_take(self._global, honour_pause=True)
                gates.append(self._global)
        except BaseException:
            if key_gate is not None:  # cancelled while queued: hand the chat's token back
                key_gate.give_back(self.now())
            raise
        self._acquired += 1
        if self._acquired % 1024 == 0:
            self._forget_idle_keys()
        return Permit(self, tuple(gates))

    def slot(self, key: str = "") -> _PermitContext:
        """`async with limiter.slot(chat_id): await send()` acquires and releases around a request."""
        return _PermitContext(self, key)

    def _key_gate(self, key: str) -> _Gate | None:
        gate = self._keys.get(key)
        if gate is None:
            gate = _Gate(self._key_rates(key))
            if not gate.windows:
                return None
            self._keys[key] = gate
        return gate

    async def _wait_and_take(self, gate: _Gate, *, honour_pause: bool = False) -> None:
        while True:
            now = self.now()
            at = gate.wait_until(now)
            if at is None:
                gate.released.clear()
                await gate.released.wait()
                continue
            if honour_pause:  # re-read each turn: another request may hit a 429 while we wait
                at = max(at, self._paused_until)
            if at <= now:
                gate.take()
                return
            await self._sleep(at - now)

    def _forget_idle_keys(self) -> None:
        now = self.now()
        for key in [key for key, gate in self._keys.items() if gate.idle(now)]:
            del self._keys[key]


class _PermitContext:
    def __init__(self, limiter: KeyedLimiter, key: str) -> None:
        self._limiter = limiter
        self._key = key
        self._permit: Permit | None = None

    async def __aenter__(self) -> Permit:
        self._permit = await self._limiter.acquire(self._key)
        return self._permit

    async def __aexit__(self, *exc_info: object) -> None:
        if self._permit is not None:
            self._permit.release()


# -- per-platform configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramLimits:
    """Telegram's published broadcast limits (core.telegram.org/bots/faq); 0 turns one off."""

    per_second: int = 30  # per bot, all chats together
    per_chat_per_second: int = 1
    per_group_per_minute: int = 20  # groups have negative chat ids


@dataclass(frozen=True)
class WeChatLimits:
    """WeChat publishes daily quotas, not a per-second rate; 20/s is our own politeness cap."""

    per_second: int = 20
    per_day: int = 100_000  # template and customer-service sends together, reset at Beijing midnight


@dataclass(frozen=True)
class WeComRobotLimits:
    per_webhook_per_minute: int = 20  # WeCom's documented robot limit


@dataclass(frozen=True)
class LimiterConfig:
    telegram: TelegramLimits = field(default_factory=TelegramLimits)
    wechat: WeChatLimits = field(default_factory=WeChatLimits)
    wecom_robot: WeComRobotLimits = field(default_factory=WeComRobotLimits)

    @classmethod
    def from_settings(cls, settings: object) -> LimiterConfig:
        """Telegram's limits from TELEGRAM_PER_SECOND, _PER_CHAT_PER_SECOND, _PER_GROUP_PER_MINUTE."""
        defaults = TelegramLimits()
        telegram = TelegramLimits(
            getattr(settings, "telegram_per_second", defaults.per_second),
            getattr(settings, "telegram_per_chat_per_second", defaults.per_chat_per_second),
            getattr(settings, "telegram_per_group_per_minute", defaults.per_group_per_minute),
        )
        return cls(telegram=telegram)

    @classmethod
    def unlimited(cls) -> LimiterConfig:
        """Every limit off: for a local Bot API server or a benchmark."""
        return cls(TelegramLimits(0, 0, 0), WeChatLimits(0, 0), WeComRobotLimits(0))


def is_group_chat(chat_id: str) -> bool:
    return chat_id.startswith("-")


def telegram_limiter(
    limits: TelegramLimits = TelegramLimits(),
    *,
    now: MonotonicFn = time.monotonic,
    sleep: SleepFn = asyncio.sleep,
) -> KeyedLimiter:
    """One limiter per bot token; the key is the chat id as a string."""

    def per_chat(chat_id: str) -> list[Rate]:
        rates = [Rate(limits.per_chat_per_second, 1.0)]
        if is_group_chat(chat_id):
            rates.append(Rate(limits.per_group_per_minute, 60.0))
        return rates

    return KeyedLimiter([Rate(limits.per_second, 1.0)], per_chat, now=now, sleep=sleep)


def wecom_robot_limiter(
    limits: WeComRobotLimits = WeComRobotLimits(),
    *,
    now: MonotonicFn = time.monotonic,
    sleep: SleepFn = asyncio.sleep,
) -> KeyedLimiter:
    """The key is the webhook (URL or key): each group robot has its own budget."""
    return KeyedLimiter((), lambda _hook: [Rate(limits.per_webhook_per_minute, 60.0)], now=now, sleep=sleep)


class DailyQuota:
    """Counts sends per Beijing calendar day; the count starts again at local midnight.

    Decision: when the day's quota is used up, `take()` answers how many seconds remain until
    midnight Asia/Shanghai, and the adapter turns that into SendResult(RETRY, retry_after=...),
    so the pipeline reschedules the delivery for the next day instead of failing it.
    """

    def __init__(self, per_day: int, clock: WallClockFn = core_clock.now) -> None:
        self.per_day = per_day
        self._clock = clock
        self._day: date | None = None
        self.used = 0

    def take(self) -> float | None:
        """None if the send may go ahead (counted), else seconds until the quota resets."""
        if self.per_day <= 0:
            return None
        local = self._clock().astimezone(CHINA_TZ)
        if local.date() != self._day:
            self._day, self.used = local.date(), 0
        if self.used >= self.per_day:
            midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), CHINA_TZ)
            return max(1.0, (midnight - local).total_seconds())
        self.used += 1
        return None

    def give_back(self) -> None:
        """Undo a `take()` for a request the platform refused before counting it."""
        self.used = max(0, self.used - 1)


def wechat_limiter(
    limits: WeChatLimits = WeChatLimits(),
    *,
    now: MonotonicFn = time.monotonic,
    sleep: SleepFn = asyncio.sleep,
) -> KeyedLimiter:
    return KeyedLimiter([Rate(limits.per_second, 1.0)], now=now, sleep=sleep)
