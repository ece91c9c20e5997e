"""Limits shared through the real Redis: two limiters with their own connections stand for two
processes; together they never exceed one budget."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlparse

import pytest

from push.ratelimit import Rate, TelegramLimits, WeChatLimits, WeComRobotLimits
from push.shared_limits import MAX_WAIT, SharedLimiter, SharedLimits, Throttled
from tests.push.tcp_proxy import CuttableProxy


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _use(limiter: SharedLimiter, key: str, stamps: list[float]) -> None:
    async with limiter.slot(key):
        stamps.append(time.monotonic())
        await asyncio.sleep(0.005)  # the request's own time


async def test_two_processes_share_one_budget(redis_url: str, redis_prefix: str) -> None:
    first, second = SharedLimits.from_url(redis_url, redis_prefix), SharedLimits.from_url(redis_url, redis_prefix)
    limits = TelegramLimits(per_second=10, per_chat_per_second=0, per_group_per_minute=0)
    a, b = first.telegram("1", limits), second.telegram("1", limits)
    a.max_wait = b.max_wait = 30.0
    stamps: list[float] = []
    try:
        await asyncio.gather(*(_use(limiter, str(n), stamps) for n in range(25) for limiter in (a, b)))
        await a.drain()
        await b.drain()
    finally:
        await first.close()
        await second.close()
    assert len(stamps) == 50
    # Per process, each would have let 10 through in the first second: 20 together.
    assert most_in_any_window(stamps, 1.0) <= 10
    assert most_in_any_window(stamps, 1.0) >= 5  # and the budget was used, not starved


async def test_one_chat_waits_a_second_across_processes(redis_url: str, redis_prefix: str) -> None:
    first, second = SharedLimits.from_url(redis_url, redis_prefix), SharedLimits.from_url(redis_url, redis_prefix)
    limits = TelegramLimits(per_second=0, per_chat_per_second=1, per_group_per_minute=0)
    a, b = first.telegram("1", limits), second.telegram("1", limits)
    stamps: list[float] = []
    try:
        await asyncio.gather(_use(a, "777", stamps), _use(b, "777", stamps), _use(a, "888", []))
    finally:
        await first.close()
        await second.close()
    assert len(stamps) == 2
    assert max(stamps) - min(stamps) >= 1.0


async def test_a_long_wait_is_handed_back_not_slept(redis_url: str, redis_prefix: str) -> None:
    from redis.asyncio import Redis

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds)

    client = Redis.from_url(redis_url)
    group = SharedLimiter(client, f"{redis_prefix}:tg", (), lambda _chat: [Rate(3, 60.0)], sleep=sleep)
    try:
        for _ in range(3):
            async with group.slot("-100"):
                pass
        with pytest.raises(Throttled) as caught:
            await group.acquire("-100")
        assert slept == []  # handed back at once, no sender sat waiting for a minute
        assert MAX_WAIT < caught.value.retry_after <= 61
        assert not caught.value.everyone  # only this group waits; other chats go on
        async with group.slot("-200"):
            pass
    finally:
        await client.aclose()


async def test_a_429_pause_holds_every_process(redis_url: str, redis_prefix: str) -> None:
    first, second = SharedLimits.from_url(redis_url, redis_prefix), SharedLimits.from_url(redis_url, redis_prefix)
    a, b = first.telegram("1", TelegramLimits()), second.telegram("1", TelegramLimits())
    try:
        a.pause_all(30)
        await a.drain()
        with pytest.raises(Throttled) as caught:
            await b.acquire("5")
        assert caught.value.everyone
        assert MAX_WAIT < caught.value.retry_after <= 30
        other_bot = second.telegram("2", TelegramLimits())  # another bot has its own budget
        async with other_bot.slot("5"):
            pass
    finally:
        await first.close()
        await second.close()


async def test_the_day_quota_is_counted_once_for_all(redis_url: str, redis_prefix: str) -> None:
    first, second = SharedLimits.from_url(redis_url, redis_prefix), SharedLimits.from_url(redis_url, redis_prefix)
    limits = WeChatLimits(per_second=0, per_day=3)
    a, b = first.wechat("wxapp", limits), second.wechat("wxapp", limits)
    try:
        for limiter in (a, b, a):
            async with limiter.slot("openid"):
                pass
        with pytest.raises(Throttled) as caught:
            await b.acquire("openid")
        assert caught.value.everyone
        assert caught.value.retry_after >= 1.0
    finally:
        await first.close()
        await second.close()


async def test_a_wecom_robots_minute_budget_is_shared_and_its_url_stays_out_of_redis(
    redis_url: str, redis_prefix: str
) -> None:
    from redis.asyncio import Redis

    first, second = SharedLimits.from_url(redis_url, redis_prefix), SharedLimits.from_url(redis_url, redis_prefix)
    limits = WeComRobotLimits(per_webhook_per_minute=3)
    a, b = first.wecom_robot(limits), second.wecom_robot(limits)
    hook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-ROBOT-KEY"
    client = Redis.from_url(redis_url)
    try:
        for limiter in (a, b, a):
            async with limiter.slot(hook):
                pass
        with pytest.raises(Throttled) as caught:
            await b.acquire(hook)
        assert not caught.value.everyone and caught.value.retry_after > 50
        async with a.slot(hook.replace("SECRET", "OTHER")):  # another robot has its own budget
            pass
        keys = [key.decode() async for key in client.scan_iter(match=f"{redis_prefix}:*")]
        assert keys and not any("SECRET" in key or "qyapi" in key for key in keys)
    finally:
        await client.aclose()
        await first.close()
        await second.close()


async def test_redis_away_fails_closed_and_recovers(redis_url: str, redis_prefix: str) -> None:
    target = urlparse(redis_url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    shared = SharedLimits.from_url(proxy.url, redis_prefix)
    limiter = shared.telegram("1", TelegramLimits())
    try:
        async with limiter.slot("1"):
            pass
        await proxy.cut()
        with pytest.raises(Throttled) as caught:
            await limiter.acquire("2")
        assert caught.value.everyone  # the whole channel pauses
        await proxy.start()
        await asyncio.sleep(1.1)  # the quiet period after a failure
        async with limiter.slot("3"):
            pass
    finally:
        await shared.close()
        await proxy.cut()


async def test_in_flight_tokens_of_a_dead_process_come_back(redis_url: str, redis_prefix: str) -> None:
    """A process killed mid-request never releases; its token returns after `hold` + window."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    dead = SharedLimiter(client, f"{redis_prefix}:x", [Rate(1, 1.0)], hold=0.5)
    alive = SharedLimiter(client, f"{redis_prefix}:x", [Rate(1, 1.0)], hold=0.5, max_wait=5.0)
    try:
        await dead.acquire()  # never released
        started = time.monotonic()
        async with alive.slot():
            pass
        assert time.monotonic() - started >= 1.0
    finally:
        await client.aclose()
