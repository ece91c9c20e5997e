"""Digests and quiet hours with a moved clock: one message per subscriber at the digest time."""

from __future__ import annotations

from datetime import time, timedelta

from core.clock import FixedClock
from core.db import Database
from push.channels.telegram import TelegramChannel, make_telegram_bot
from push.models import DeliveryStatus
from push.ratelimit import TelegramLimits, telegram_limiter
from tests.factories import make_published_policy
from tests.fakes.telegram_api import FakeTelegram
from tests.push.helpers import RecordingChannel, deliveries
from tests.push.jobs.helpers import bj, deliver, resident

TITLES = ("泾源县一次性创业补贴实施办法", "泾源县返乡创业担保贷款贴息办法", "泾源县高校毕业生就业见习补贴办法")


async def test_daily_digest_gathers_three_policies_into_one_message(
    db: Database, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    clock.set(bj(2026, 3, 2, 10))  # after today's 09:00: the digest is tomorrow 09:00
    await resident(db, 8101, frequency="daily")
    await resident(db, 8102)  # immediate: gets each policy on its own
    for title in TITLES:
        await make_published_policy(db, title=title)
        clock.advance(timedelta(minutes=30))
    channel = TelegramChannel(make_telegram_bot("123456:TEST", fake_telegram.base_url),
                              telegram_limiter(TelegramLimits(0, 0, 0)))
    try:
        await deliver(db, channel)
        assert fake_telegram.sent_messages(8101) == []
        assert len(fake_telegram.sent_messages(8102)) == 3

        clock.set(bj(2026, 3, 3, 8, 59))
        await deliver(db, channel)
        assert fake_telegram.sent_messages(8101) == []

        clock.set(bj(2026, 3, 3, 9))
        await deliver(db, channel)
        await deliver(db, channel)  # a second round sends nothing more
    finally:
        await channel.close()
    (message,) = fake_telegram.sent_messages(8101)
    assert "政策汇总（3项）" in message["text"]
    assert all(title in message["text"] for title in TITLES)
    rows = [r for r in await deliveries(db) if r.address == "8101"]
    assert len(rows) == 3 and all(r.digest and r.status == DeliveryStatus.SENT for r in rows)
    assert len({r.provider_message_id for r in rows}) == 1 and rows[0].provider_message_id


async def test_weekly_digest_waits_for_monday(db: Database, clock: FixedClock) -> None:
    clock.set(bj(2026, 3, 3, 10))  # Tuesday
    await resident(db, 8201, frequency="weekly")
    await make_published_policy(db, title=TITLES[0])
    await make_published_policy(db, title=TITLES[1])
    channel = RecordingChannel()
    clock.set(bj(2026, 3, 8, 23))  # Sunday night
    await deliver(db, channel)
    assert channel.to("8201") == []
    clock.set(bj(2026, 3, 9, 9))
    await deliver(db, channel)
    (message,) = channel.to("8201")
    assert "政策汇总（2项）" in message.text


async def test_quiet_hours_hold_a_message_until_eight(db: Database, clock: FixedClock) -> None:
    clock.set(bj(2026, 3, 2, 23))
    await resident(db, 8301, quiet=(time(22, 0), time(8, 0)))
    await make_published_policy(db)
    channel = RecordingChannel()
    await deliver(db, channel)
    (row,) = await deliveries(db)
    assert row.due_at == bj(2026, 3, 3, 8) and not row.digest
    clock.set(bj(2026, 3, 3, 7, 59))
    await deliver(db, channel)
    assert channel.to("8301") == []
    clock.set(bj(2026, 3, 3, 8))
    await deliver(db, channel)
    assert len(channel.to("8301")) == 1


async def test_acknowledging_a_digest_acknowledges_every_policy_in_it(db: Database, clock: FixedClock) -> None:
    from push import service as push

    clock.set(bj(2026, 3, 2, 10))
    await resident(db, 8401, frequency="daily")
    await make_published_policy(db, title=TITLES[0])
    await make_published_policy(db, title=TITLES[1])
    clock.set(bj(2026, 3, 3, 9))
    await deliver(db, RecordingChannel())
    first, _second = await deliveries(db)
    async with db.session() as session:
        assert await push.acknowledge(session, first.id, by_address="8401")
    assert all(r.acknowledged_at is not None for r in await deliveries(db))
