"""Limiter tests on virtual time: exact, and nothing really sleeps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from push.ratelimit import (
    DailyQuota,
    KeyedLimiter,
    LimiterConfig,
    Rate,
    TelegramLimits,
    telegram_limiter,
    wecom_robot_limiter,
)
from tests.push.channels.virtual_time import VirtualTime


def max_in_window(times: list[float], span: float) -> int:
    """The most events in any half-open window (t - span, t], as Telegram and the fake count."""
    ordered = sorted(times)
    return max(sum(1 for u in ordered if t - span < u <= t) for t in ordered)


async def send_at(limiter: KeyedLimiter, clock: VirtualTime, key: str, hold: float = 0.0) -> float:
    """Acquire for `key`, note when, keep the request in flight for `hold` seconds, release."""
    permit = await limiter.acquire(key)
    at = clock.now()
    if hold:
        await clock.sleep(hold)
    permit.release()
    return at


async def test_global_limit_allows_30_in_any_second() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(now=clock.now, sleep=clock.sleep)
    times = await clock.run(*(send_at(limiter, clock, str(chat)) for chat in range(1, 101)))
    assert max_in_window(times, 1.0) == 30
    assert sorted(times)[:31] == [0.0] * 30 + [1.0]
    assert max(times) == 3.0


async def test_in_flight_requests_hold_their_token_until_a_second_after_they_finish() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(TelegramLimits(per_second=2), now=clock.now, sleep=clock.sleep)
    times = await clock.run(*(send_at(limiter, clock, str(chat), hold=0.5) for chat in (1, 2, 3)))
    # The first two finish at 0.5, so their tokens come back at 1.5, not at 1.0.
    assert sorted(times) == [0.0, 0.0, 1.5]


async def test_one_message_per_second_per_chat() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(now=clock.now, sleep=clock.sleep)
    times = await clock.run(*(send_at(limiter, clock, "777") for _ in range(4)))
    assert sorted(times) == [0.0, 1.0, 2.0, 3.0]


async def test_waiting_for_one_chat_does_not_block_other_chats() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(now=clock.now, sleep=clock.sleep)
    first_a, second_a, only_b = await clock.run(
        send_at(limiter, clock, "1"), send_at(limiter, clock, "1"), send_at(limiter, clock, "2")
    )
    assert (first_a, only_b) == (0.0, 0.0)
    assert second_a == 1.0


async def test_group_gets_20_messages_per_minute() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(now=clock.now, sleep=clock.sleep)
    times = await clock.run(*(send_at(limiter, clock, "-100123") for _ in range(21)))
    assert sorted(times)[:20] == [float(i) for i in range(20)]
    assert sorted(times)[20] == 60.0
    assert max_in_window(times, 60.0) == 20


async def test_private_chats_have_no_per_minute_limit() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(now=clock.now, sleep=clock.sleep)
    times = await clock.run(*(send_at(limiter, clock, "123") for _ in range(21)))
    assert max(times) == 20.0


async def test_pause_all_holds_every_chat() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(now=clock.now, sleep=clock.sleep)
    await clock.run(send_at(limiter, clock, "1"))
    limiter.pause_all(5.0)
    times = await clock.run(send_at(limiter, clock, "2"), send_at(limiter, clock, "3"))
    assert times == [5.0, 5.0]


async def test_pause_during_a_wait_is_honoured() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(TelegramLimits(per_second=1), now=clock.now, sleep=clock.sleep)

    async def hit_429_at_half_a_second() -> None:
        await clock.sleep(0.5)
        limiter.pause_all(3.0)

    times = await clock.run(send_at(limiter, clock, "1"), send_at(limiter, clock, "2"), hit_429_at_half_a_second())
    assert times[:2] == [0.0, 3.5]


async def test_zero_turns_limits_off() -> None:
    clock = VirtualTime()
    config = LimiterConfig.unlimited()
    limiter = telegram_limiter(config.telegram, now=clock.now, sleep=clock.sleep)
    times = await clock.run(*(send_at(limiter, clock, "-100") for _ in range(500)))
    assert set(times) == {0.0}
    assert clock.slept == []


async def test_zero_per_chat_keeps_the_global_limit() -> None:
    clock = VirtualTime()
    limiter = telegram_limiter(TelegramLimits(30, 0, 0), now=clock.now, sleep=clock.sleep)
    times = await clock.run(*(send_at(limiter, clock, "5") for _ in range(60)))
    assert sorted(times)[29:31] == [0.0, 1.0]


async def test_wecom_robot_20_per_minute_per_webhook() -> None:
    clock = VirtualTime()
    limiter = wecom_robot_limiter(now=clock.now, sleep=clock.sleep)
    times = await clock.run(*(send_at(limiter, clock, "hook-a") for _ in range(21)), send_at(limiter, clock, "hook-b"))
    assert sorted(times[:21])[19:] == [0.0, 60.0]
    assert times[21] == 0.0


async def test_cancelled_waiter_returns_the_chat_token() -> None:
    clock = VirtualTime()
    limiter = KeyedLimiter([Rate(1, 1.0)], lambda _key: [Rate(1, 1.0)], now=clock.now, sleep=clock.sleep)
    held = await limiter.acquire("a")  # holds the only global token
    waiter = asyncio.ensure_future(limiter.acquire("b"))
    await clock.settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    held.release()
    # "b" got its chat token back when cancelled, so it only waits for the global one.
    (at,) = await clock.run(send_at(limiter, clock, "b"))
    assert at == 1.0


def test_daily_quota_resets_at_beijing_midnight() -> None:
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    quota = DailyQuota(2, clock=lambda: now)
    assert quota.take() is None
    assert quota.take() is None
    assert quota.take() == 3600.0
    now = datetime(2026, 3, 2, 16, 0, 1, tzinfo=UTC)  # 00:00:01 the next day
    assert quota.take() is None


def test_daily_quota_zero_is_off() -> None:
    quota = DailyQuota(0, clock=lambda: datetime(2026, 3, 2, tzinfo=UTC))
    assert all(quota.take() is None for _ in range(1000))
