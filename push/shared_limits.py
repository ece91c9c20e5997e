"""Platform limits shared by every sending process, kept in Redis (REDIS_URL).

Telegram's 30 messages/s are per bot, not per process: with three worker processes each keeping
its own limiter the bot would send 90/s. Here every process takes its tokens from the same Redis
keys, atomically, in one Lua script (the shape GOV.UK Notify uses for its per-service limit).

The tokens behave like `push.ratelimit.KeyedLimiter`'s, so "at most N in any window" holds as the
platform measures it: a bucket is a sorted set of uses, each scored with the time its token comes
back. While a request is in flight its token is held until `hold` (the request timeout) plus the
window; `release()` rescores it to release time plus the window. A process killed mid-request
therefore loses its tokens for at most `hold + window`, never for good. Times come from the Redis
server's clock (`TIME`), so the hosts' clocks do not have to agree.

Waiting: a short wait (the next free token of the bot within `max_wait` seconds) is slept in the
sender, queued FIFO per process so that only one request per process polls Redis for the shared
bucket. A longer wait (a group's 20/min, a 429 pause, the day's WeChat quota) raises `Throttled`:
the worker puts the delivery back in the queue for that long without spending an attempt
(email-alert-api reschedules instead of blocking, too).

Fail closed: when Redis cannot be reached, `acquire()` raises `Throttled` (sending pauses,
deliveries wait in the queue) instead of sending without limits.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import clock as core_clock
from core.clock import CHINA_TZ
from push.ratelimit import Rate, TelegramLimits, WeChatLimits, WeComRobotLimits, is_group_chat

log = logging.getLogger(__name__)

# Seconds a sender may sleep for the shared bucket before the delivery goes back to the queue.
# Above one window (1 s), so Telegram's 1/s per chat and a busy bot's 30/s are waited out here.
MAX_WAIT = 2.0
# How long a request may hold its token before the token returns anyway (the send timeout).
DEFAULT_HOLD = 30.0
# After Redis failed to answer: deliveries come back this much later, and for this long the
# process does not try Redis again for every delivery.
UNAVAILABLE_RETRY = 5.0
UNAVAILABLE_QUIET = 1.0
REDIS_TIMEOUT = 1.0  # seconds for connecting and for each command

# KEYS[1] pause key, KEYS[2..] buckets; ARGV: member, hold ms, number of shared buckets (those
# come first), then count and window ms per bucket, then (optional) day-quota key index.
# Returns {0, 0} when granted, else {wait ms, 1 if a per-key bucket is the one that is full}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local hold = tonumber(ARGV[2])
local shared = tonumber(ARGV[3])
local wait_shared = 0
local wait_key = 0
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then wait_shared = paused end
for j = 1, #KEYS - 1 do
  local key = KEYS[j + 1]
  local count = tonumber(ARGV[2 + 2 * j])
  local per = tonumber(ARGV[3 + 2 * j])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local used = redis.call('ZCARD', key)
  if used >= count then
    local first = redis.call('ZRANGE', key, used - count, used - count, 'WITHSCORES')
    local wait = tonumber(first[2]) - now
    -- A token still in flight comes back one window after its release at the earliest.
    if wait > per then wait = per end
    if wait < 1 then wait = 1 end
    if j <= shared then
      if wait > wait_shared then wait_shared = wait end
    elseif wait > wait_key then
      wait_key = wait
    end
  end
end
if wait_key > 0 then return {wait_key, 1} end
if wait_shared > 0 then return {wait_shared, 0} end
for j = 1, #KEYS - 1 do
  local per = tonumber(ARGV[3 + 2 * j])
  redis.call('ZADD', KEYS[j + 1], now + hold + per, member)
  redis.call('PEXPIRE', KEYS[j + 1], hold + per + 1000)
end
return {0, 0}
"""

# KEYS: buckets; ARGV: member, then window ms per bucket. The token comes back one window
# after now; a use that already expired (a very slow request) is not added again.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for j = 1, #KEYS do
  redis.call('ZADD', KEYS[j], 'XX', now + tonumber(ARGV[j + 1]), ARGV[1])
end
return 0
"""

# KEYS[1]: the day's counter; ARGV: quota, seconds to keep the key. Returns the count after
# this use, or -1 when the quota is used up (nothing counted).
_DAY_QUOTA = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return -1 end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return used
"""


class Throttled(Exception):
    """No token now: put the delivery back in the queue for `retry_after` seconds.

    `everyone` is true when the whole channel is held (a 429 pause, the bucket service down,
    the day's quota), so the worker stops claiming for that long rather than claiming rows only
    to put them back."""

    def __init__(self, retry_after: float, reason: str, *, everyone: bool) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.reason = reason
        self.everyone = everyone


@dataclass(frozen=True)
class Bucket:
    key: str
    rate: Rate


class SharedPermit:
    """The right to make one request; `release()` when it has finished (either way)."""

    def __init__(self, limiter: SharedLimiter, buckets: Sequence[Bucket], member: str) -> None:
        self._limiter = limiter
        self._buckets = buckets
        self._member = member
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._limiter.release_later(self._buckets, self._member)

    async def __aenter__(self) -> SharedPermit:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


class _SlotContext:
    def __init__(self, limiter: SharedLimiter, key: str) -> None:
        self._limiter = limiter
        self._key = key
        self._permit: SharedPermit | None = None

    async def __aenter__(self) -> SharedPermit:
        self._permit = await self._limiter.acquire(self._key)
        return self._permit

    async def __aexit__(self, *exc_info: object) -> None:
        if self._permit is not None:
            self._permit.release()


class SharedLimiter:
    """`push.ratelimit.KeyedLimiter`'s surface (`acquire`, `slot`, `pause_all`) on Redis.

    `name` identifies the budget across processes (e.g. the bot id): every process that uses the
    same name and prefix shares the same limits."""

    def __init__(
        self,
        redis: Any,
        name: str,
        shared_rates: Sequence[Rate] = (),
        key_rates: Callable[[str], Sequence[Rate]] = lambda _key: (),
        *,
        hold: float = DEFAULT_HOLD,
        max_wait: float = MAX_WAIT,
        day_quota: int = 0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.redis = redis
        self.name = name
        self._shared = [Bucket(f"{name}:all:{r.count}/{r.per:g}", r) for r in shared_rates if r.enabled]
        self._key_rates = key_rates
        self.hold = hold
        self.max_wait = max_wait
        self.day_quota = day_quota
        self._sleep = sleep
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._day = redis.register_script(_DAY_QUOTA)
        self._queue = asyncio.Lock()  # FIFO: one request per process polls the shared bucket
        self._ids = itertools.count()
        self._me = uuid.uuid4().hex[:12]
        self._quiet_until = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def pause_key(self) -> str:
        return f"{self.name}:pause"

    def buckets_for(self, key: str) -> list[Bucket]:
        """The shared buckets first, then the key's own (a chat, a webhook)."""
        name = _key_name(key)
        own = [Bucket(f"{self.name}:key:{name}:{r.count}/{r.per:g}", r) for r in self._key_rates(key) if r.enabled]
        return [*self._shared, *own]

    def slot(self, key: str = "") -> _SlotContext:
        return _SlotContext(self, key)

    async def acquire(self, key: str = "") -> SharedPermit:
        buckets = self.buckets_for(key)
        member = f"{self._me}:{next(self._ids)}"
        waited = 0.0
        while True:
            async with self._queue:
                while True:
                    wait, by_key = await self._try(buckets, member)
                    if wait <= 0:
                        return await self._with_day_quota(SharedPermit(self, buckets, member))
                    if by_key:
                        break  # wait for the chat outside the queue: other chats go on meanwhile
                    waited = await self._wait_or_give_up(wait, waited, everyone=True)
            waited = await self._wait_or_give_up(wait, waited, everyone=False)

    async def _wait_or_give_up(self, wait: float, waited: float, *, everyone: bool) -> float:
        if waited + wait > self.max_wait:
            reason = "发送频率已达平台上限，稍后自动重发" if everyone else "同一会话发送过于频繁，稍后自动重发"
            raise Throttled(wait, reason, everyone=everyone)
        await self._sleep(wait)
        return waited + wait

    async def _try(self, buckets: Sequence[Bucket], member: str) -> tuple[float, bool]:
        args: list[Any] = [member, int(self.hold * 1000), len(self._shared)]
        for bucket in buckets:
            args.extend((bucket.rate.count, int(bucket.rate.per * 1000)))
        answer = await self._call(self._acquire, [self.pause_key, *(b.key for b in buckets)], args)
        wait_ms, by_key = int(answer[0]), bool(int(answer[1]))
        return wait_ms / 1000, by_key

    async def _with_day_quota(self, permit: SharedPermit) -> SharedPermit:
        if self.day_quota > 0:
            try:
                await self._take_day_quota()
            except BaseException:
                permit.release()
                raise
        return permit

    async def _take_day_quota(self) -> None:
        local = core_clock.now().astimezone(CHINA_TZ)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), CHINA_TZ)
        key = f"{self.name}:day:{local.date().isoformat()}"
        used = int(await self._call(self._day, [key], [self.day_quota, 2 * 86_400]))
        if used < 0:
            raise Throttled(max(1.0, (midnight - local).total_seconds()), "今日推送额度已用完，次日零点后重发",
                            everyone=True)

    async def _call(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        if time.monotonic() < self._quiet_until:
            raise _unavailable()
        try:
            return await script(keys=list(keys), args=list(args))
        except (OSError, TimeoutError, _redis_errors()) as exc:
            # Fail closed: without the shared count nobody may send.
            if time.monotonic() >= self._quiet_until:
                log.warning("rate-limit store unreachable (%s); sending paused", type(exc).__name__)
            self._quiet_until = time.monotonic() + UNAVAILABLE_QUIET
            raise _unavailable() from exc

    def release_later(self, buckets: Sequence[Bucket], member: str) -> None:
        """Hand the tokens back without making the sender wait for Redis."""
        if not buckets:
            return
        task = asyncio.get_running_loop().create_task(self._give_back(buckets, member))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _give_back(self, buckets: Sequence[Bucket], member: str) -> None:
        try:
            windows = [int(b.rate.per * 1000) for b in buckets]
            await self._release(keys=[b.key for b in buckets], args=[member, *windows])
        except Exception:
            log.debug("could not release a rate-limit token", exc_info=True)

    def pause_all(self, seconds: float) -> None:
        """Hold every process's requests for `seconds` (after a 429 the platform throttles the bot)."""
        if seconds <= 0:
            return
        task = asyncio.get_running_loop().create_task(self._pause(seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pause(self, seconds: float) -> None:
        try:
            ms = int(seconds * 1000)
            current = await self.redis.pttl(self.pause_key)
            if current is None or int(current) < ms:
                await self.redis.set(self.pause_key, "1", px=ms)
        except Exception:
            log.debug("could not store a pause", exc_info=True)

    async def drain(self) -> None:
        """Wait for pending releases and pauses (tests, shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _key_name(key: str) -> str:
    # A WeCom robot's key is its webhook URL, a secret: only a digest of it goes into Redis.
    if key.lstrip("-").isdigit():
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _unavailable() -> Throttled:
    return Throttled(UNAVAILABLE_RETRY, "频率限制服务暂不可用，发送已暂停，恢复后自动继续", everyone=True)


def _redis_errors() -> type[Exception]:
    from redis.exceptions import RedisError  # late: redis is needed only with REDIS_URL

    return RedisError


class SharedLimits:
    """Builds the shared limiters of one deployment: one Redis connection pool, one key prefix."""

    def __init__(self, redis: Any, prefix: str = "pd") -> None:
        self.redis = redis
        self.prefix = prefix.rstrip(":")

    @classmethod
    def from_url(cls, url: str, prefix: str = "pd") -> SharedLimits:
        from redis.asyncio import Redis  # late: redis is needed only with REDIS_URL

        client = Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
        return cls(client, prefix)

    def telegram(self, bot_id: str, limits: TelegramLimits) -> SharedLimiter:
        """One budget per bot (the numeric id before the token's colon, never the secret part)."""

        def per_chat(chat_id: str) -> list[Rate]:
            rates = [Rate(limits.per_chat_per_second, 1.0)]
            if is_group_chat(chat_id):
                rates.append(Rate(limits.per_group_per_minute, 60.0))
            return rates

        return SharedLimiter(self.redis, f"{self.prefix}:tg:{bot_id}", [Rate(limits.per_second, 1.0)], per_chat)

    def wechat(self, app_id: str, limits: WeChatLimits) -> SharedLimiter:
        return SharedLimiter(self.redis, f"{self.prefix}:wx:{app_id}", [Rate(limits.per_second, 1.0)],
                             day_quota=limits.per_day)

    def wecom_robot(self, limits: WeComRobotLimits) -> SharedLimiter:
        return SharedLimiter(self.redis, f"{self.prefix}:wecom", (),
                             lambda _hook: [Rate(limits.per_webhook_per_minute, 60.0)])

    async def check(self) -> None:
        """Raise if Redis does not answer (start-up)."""
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()
