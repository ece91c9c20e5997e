"""Writes over many `delivery` rows take their row locks in id order on PostgreSQL, so a worker's
lease heartbeat and its own record of outcomes cannot deadlock ("deadlock detected" was seen with
three worker processes at 100,000 recipients). Shown without timing: while the record waits for
the lowest row, it holds none of the higher ones."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from core.clock import FixedClock
from core.db import Database
from push.dao.queue import Outcome
from push.fanout import FanOut
from push.models import AttemptOutcome, DeliveryStatus
from push.queue import DeliveryQueue
from tests.factories import make_published_policy
from tests.push.helpers import StaticAudience, deliveries, make_recipients


async def _waiting_for_a_row_lock(db: Database) -> bool:
    async with db.engine.connect() as conn:
        waiting = await conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE '%delivery%'"
        ))
        return bool(waiting.scalar())


async def test_recording_outcomes_locks_rows_lowest_id_first(db: Database, clock: FixedClock) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: no row locks to order")
    recipients = await make_recipients(db, 3)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    queue = DeliveryQueue(db, lease_seconds=30)
    claimed = sorted(row.id for row in await queue.claim(3))
    low, high = claimed[0], claimed[-1]
    # Outcomes in completion order, the highest id first, as sends finish in any order.
    outcomes = [Outcome(i, DeliveryStatus.SENT, AttemptOutcome.SENT, clock.now(), provider_message_id=str(i))
                for i in reversed(claimed)]

    async with db.engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM delivery WHERE id = :id FOR UPDATE"), {"id": low})
        record = asyncio.create_task(queue.record(outcomes))
        for _ in range(1000):
            if await _waiting_for_a_row_lock(db) or record.done():
                break
            await asyncio.sleep(0.01)
        assert not record.done(), "the record did not wait for the locked row"
        async with db.engine.connect() as probe:
            # NOWAIT: fails at once if the waiting record already holds the highest row.
            await probe.execute(text("SELECT 1 FROM delivery WHERE id = :id FOR UPDATE NOWAIT"), {"id": high})
            await probe.rollback()
        await holder.rollback()
    assert await asyncio.wait_for(record, 30) == 3
    assert {r.status for r in await deliveries(db)} == {DeliveryStatus.SENT}
