from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from core.clock import FixedClock
from core.db import Database
from push import reports
from push.fanout import FanOut
from push.models import Delivery
from tests.factories import make_published_policy
from tests.push.helpers import StaticAudience, make_recipients


async def test_sent_per_day_and_dead_letters(db: Database, clock: FixedClock) -> None:
    recipients = await make_recipients(db, 3, channel="telegram", first_chat=70_000_000_001)
    policy = await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    now = clock.now()
    async with db.session() as session:
        ids = sorted((await session.execute(Delivery.__table__.select())).scalars().all())
        await session.execute(update(Delivery).where(Delivery.id == ids[0]).values(status="sent", sent_at=now))
        await session.execute(update(Delivery).where(Delivery.id == ids[1])
                              .values(status="sent", sent_at=now + timedelta(days=1)))
        await session.execute(update(Delivery).where(Delivery.id == ids[2])
                              .values(status="dead", attempts=10, last_error="网络错误"))
    async with db.reader() as session:
        per_day = await reports.sent_per_day(session, policy.id)
        dead = await reports.dead_letters(session)
    assert per_day == [(date(2026, 3, 2), 1), (date(2026, 3, 3), 1)]
    assert [(d.delivery_id, d.attempts, d.last_error) for d in dead] == [(ids[2], 10, "网络错误")]
    assert "70000000001" not in dead[0].address  # chat ids are masked
