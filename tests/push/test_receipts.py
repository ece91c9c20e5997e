"""Receipts: read (signed link) and acknowledged are recorded once and kept apart from sent."""

from __future__ import annotations

import random

import pytest

from core.clock import FixedClock
from core.db import Database
from core.errors import Forbidden, NotFound
from push import service
from push.fanout import FanOut
from push.links import tracked_link
from push.worker import DeliveryWorker
from tests.factories import make_published_policy
from tests.push.helpers import RecordingChannel, StaticAudience, deliveries, make_recipients

SECRET = "receipt-secret"


async def _sent_policy(db: Database, blocked: int = 0) -> tuple[int, RecordingChannel]:
    from push.channels.base import SendResult, SendStatus

    recipients = await make_recipients(db, 4)
    policy = await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    channel = RecordingChannel()
    for r in recipients[:blocked]:
        channel.will_answer(r.address, SendResult(SendStatus.PERMANENT, error="Forbidden: bot was blocked by the user"))
    worker = DeliveryWorker(db, {"telegram": channel}, base_url="http://pd.test", secret=SECRET, rng=random.Random(1))
    await worker.run_once()
    return policy.id, channel


def _token(link: str) -> str:
    return link.rsplit("/r/", 1)[1]


async def test_read_link_records_once_and_redirects(db: Database, clock: FixedClock) -> None:
    policy_id, _channel = await _sent_policy(db)
    first = (await deliveries(db))[0]
    token = _token(tracked_link("http://pd.test", first.id, SECRET))
    async with db.session() as session:
        assert await service.record_read(session, token, secret=SECRET) == f"/p/{policy_id}"
    read_at = (await deliveries(db))[0].read_at
    assert read_at == clock.now()
    clock.advance(__import__("datetime").timedelta(hours=1))
    async with db.session() as session:
        await service.record_read(session, token, secret=SECRET)
    assert (await deliveries(db))[0].read_at == read_at  # first read only
    async with db.session() as session:
        with pytest.raises(NotFound):
            await service.record_read(session, token + "x", secret=SECRET)


async def test_acknowledge_only_by_the_recipient(db: Database, clock: FixedClock) -> None:
    await _sent_policy(db)
    row = (await deliveries(db))[1]
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await service.acknowledge(session, row.id, by_address="999")
    async with db.session() as session:
        assert await service.acknowledge(session, row.id, by_address=row.address) is True
    async with db.session() as session:
        assert await service.acknowledge(session, row.id, by_address=row.address) is False
    row = (await deliveries(db))[1]
    assert row.acknowledged_at == clock.now() and row.read_at is None  # never inferred


async def test_reach_counts_each_stage_by_channel(db: Database, clock: FixedClock) -> None:
    policy_id, _ = await _sent_policy(db, blocked=1)
    rows = await deliveries(db)
    async with db.session() as session:
        await service.record_read(session, _token(tracked_link("x", rows[1].id, SECRET)), secret=SECRET)
        await service.acknowledge(session, rows[2].id)
    async with db.reader() as session:
        report = await service.reach(session, policy_id)
    expected = {"matched": 4, "queued": 0, "sent": 3, "failed": 1, "dead": 0, "cancelled": 0, "read": 1,
                "acknowledged": 1}
    assert {k: report[k] for k in expected} == expected
    assert report["by_channel"]["telegram"] == expected


async def test_web_inbox_stores_messages(db: Database, clock: FixedClock) -> None:
    from push.channels.base import RenderedMessage

    await service.store_web_message(db, RenderedMessage("web", "visitor-1", "正文", title="标题", url="http://x/p/1"))
    async with db.reader() as session:
        (message,) = await service.web_inbox(session, "visitor-1")
        assert await service.web_inbox(session, "visitor-2") == []
    assert (message.title, message.text, message.read) == ("标题", "正文", False)
    async with db.session() as session:
        assert await service.mark_web_inbox_read(session, "visitor-1", [message.id]) == 1
