"""End to end through the real pieces: policies publish → subscriptions audience → fan-out →
queue → render → TelegramChannel (aiogram) → the fake Bot API server."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from core.clock import FixedClock
from core.db import Database
from push.channels.telegram import TelegramChannel, make_telegram_bot
from push.models import DeliveryStatus
from push.ratelimit import TelegramLimits, telegram_limiter
from push.service import Pipeline
from subscriptions import service as subscriptions
from tests.factories import amend_policy, make_published_policy
from tests.fakes.telegram_api import FakeTelegram
from tests.push.helpers import deliveries

TOKEN = "123456:TESTTOKEN"


async def _residents(db: Database, chats: list[int], topic: str = "employment") -> None:
    async with db.session() as session:
        for chat in chats:
            sub = await subscriptions.ensure_subscriber_for_address(session, "telegram", str(chat))
            await subscriptions.subscribe_topics(session, sub.id, [topic])


@asynccontextmanager
async def _pipeline(db: Database, tg: FakeTelegram) -> AsyncIterator[Pipeline]:
    channel = TelegramChannel(make_telegram_bot(TOKEN, tg.base_url), telegram_limiter(TelegramLimits(0, 0, 0)))
    pipeline = Pipeline(
        db, {"telegram": channel}, base_url="http://pd.test", secret="s", poll_interval=0.02,
        fanout_poll_interval=0.02, record_interval=0.01, rng=random.Random(3),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(pipeline.run(stop))
    try:
        yield pipeline
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await channel.close()


async def _until(condition, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    for _ in range(int(timeout / 0.02)):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def _settled(db: Database, count: int) -> bool:
    rows = await deliveries(db)
    return len(rows) >= count and all(r.status not in DeliveryStatus.QUEUED for r in rows)


async def test_publish_reaches_every_matching_chat_exactly_once(
    db: Database, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    chats = list(range(7001, 7011))
    await _residents(db, chats)
    await _residents(db, [7999], topic="agriculture")  # does not match
    async with _pipeline(db, fake_telegram):
        policy = await make_published_policy(db)
        await _until(lambda: _settled(db, len(chats)))
    for chat in chats:
        (message,) = fake_telegram.sent_messages(chat)
        assert policy.title in message["text"]
    assert fake_telegram.sent_messages(7999) == []
    assert {r.status for r in await deliveries(db)} == {DeliveryStatus.SENT}


async def test_429_is_retried_after_retry_after(db: Database, clock: FixedClock, fake_telegram: FakeTelegram) -> None:
    await _residents(db, [7101])
    fake_telegram.inject(status=429, retry_after=1, chat_id=7101)
    async with _pipeline(db, fake_telegram):
        await make_published_policy(db)

        async def retried_once() -> bool:
            rows = await deliveries(db)
            return bool(rows) and rows[0].attempts == 1 and rows[0].status == DeliveryStatus.PENDING

        await _until(retried_once)
        (row,) = await deliveries(db)
        assert timedelta(seconds=1) <= row.next_attempt_at - clock.now() <= timedelta(seconds=1.6)
        assert fake_telegram.sent_messages(7101) == []
        clock.advance(timedelta(seconds=2))
        await _until(lambda: _settled(db, 1))
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert len(fake_telegram.sent_messages(7101)) == 1


async def test_403_deactivates_the_address(db: Database, clock: FixedClock, fake_telegram: FakeTelegram) -> None:
    await _residents(db, [7201, 7202])
    fake_telegram.block_chat(7201)
    async with _pipeline(db, fake_telegram):
        await make_published_policy(db)
        await _until(lambda: _settled(db, 2))
    blocked, ok = await deliveries(db)
    assert blocked.status == DeliveryStatus.FAILED and "blocked" in blocked.last_error
    assert ok.status == DeliveryStatus.SENT
    async with db.reader() as session:
        address = await subscriptions.find_address(session, "telegram", "7201")
    assert address is not None and not address.active


async def test_amendment_reaches_earlier_recipients(
    db: Database, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    await _residents(db, [7301, 7302])
    async with _pipeline(db, fake_telegram):
        policy = await make_published_policy(db)
        await _until(lambda: _settled(db, 2))
        await amend_policy(db, policy.id, change_summary="补贴标准由5000元提高到6000元")
        await _until(lambda: _settled(db, 4))
    for chat in (7301, 7302):
        _first, second = fake_telegram.sent_messages(chat)
        assert "6000" in second["text"]
    assert {r.kind for r in await deliveries(db, revision=2)} == {"amended"}
