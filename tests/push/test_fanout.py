"""Fan-out: one row per (revision, kind, subscriber, address), idempotent and resumable."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from core.clock import FixedClock
from core.db import Database
from push.fanout import FanOut
from push.models import DeliveryStatus
from tests.factories import amend_policy, make_published_policy, repeal_policy
from tests.push.helpers import StaticAudience, deliveries, make_recipients, preference


async def test_fan_out_twice_creates_each_row_once(db: Database, clock: FixedClock) -> None:
    audience = StaticAudience(await make_recipients(db, 7))
    policy = await make_published_policy(db)
    first = await FanOut(db, audience=audience, chunk_size=3, first_chunk_size=2).run_once()
    again = await FanOut(db, audience=audience, chunk_size=3).run_once()
    rows = await deliveries(db)
    assert (first.rows, again.rows) == (7, 0)
    assert len(rows) == 7
    assert {r.policy_id for r in rows} == {policy.id}
    assert all(r.status == DeliveryStatus.PENDING and r.kind == "published" for r in rows)
    assert all(r.due_at == clock.now() for r in rows)


async def test_forgetting_progress_still_never_duplicates(db: Database, clock: FixedClock) -> None:
    audience = StaticAudience(await make_recipients(db, 5))
    policy = await make_published_policy(db)
    fanout = FanOut(db, audience=audience)
    await fanout.run_once()
    events = [type("E", (), {"id": 10_000, "policy_id": policy.id, "revision": 1, "kind": "published",
                             "urgent": False})()]
    assert await fanout.fan_out_event(events[0]) == 0  # same rows under a different event id: ignored
    assert len(await deliveries(db)) == 5


async def test_crash_after_first_chunk_resumes_without_duplicates(db: Database, clock: FixedClock) -> None:
    audience = StaticAudience(await make_recipients(db, 12))
    await make_published_policy(db)
    chunks: list[int] = []
    crashed = FanOut(db, audience=audience, chunk_size=5, first_chunk_size=2, on_chunk=lambda: chunks.append(1))
    partial = await crashed.run_once(max_chunks=1)
    assert partial.rows == 2 and len(chunks) == 1
    assert len(await deliveries(db)) == 2  # committed: a worker could already send these
    resumed = await FanOut(db, audience=audience, chunk_size=5).run_once()
    assert resumed.rows == 10
    rows = await deliveries(db)
    assert len(rows) == 12
    assert len({(r.subscriber_id, r.address_id) for r in rows}) == 12


async def test_preferences_set_due_times(db: Database, clock: FixedClock) -> None:
    # clock: Monday 2026-03-02 09:00 Beijing
    digest = await make_recipients(db, 1, first_chat=1, pref=preference("daily"))
    quiet = await make_recipients(db, 1, first_chat=2, pref=preference(quiet=(time(8, 30), time(10, 0))))
    now = await make_recipients(db, 1, first_chat=3)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(digest + quiet + now)).run_once()
    by_chat = {r.address: r for r in await deliveries(db)}
    assert by_chat["1"].due_at == clock.now() and by_chat["1"].digest  # 09:00 today is now
    assert by_chat["2"].due_at == clock.now() + timedelta(hours=1)
    assert by_chat["3"].due_at == clock.now() and not by_chat["3"].digest


async def test_daily_cap_counts_earlier_policies(db: Database, clock: FixedClock) -> None:
    capped = await make_recipients(db, 1, pref=preference(cap=1))
    audience = StaticAudience(capped)
    await make_published_policy(db, title="泾源县就业补贴办法之一")
    await FanOut(db, audience=audience).run_once()
    await make_published_policy(db, title="泾源县就业补贴办法之二")
    await FanOut(db, audience=audience).run_once()
    first, second = await deliveries(db)
    assert first.due_at == clock.now()
    assert second.due_at == clock.now() + timedelta(days=1)  # tomorrow 09:00


async def test_urgent_policy_bypasses_digest(db: Database, clock: FixedClock) -> None:
    clock.advance(timedelta(hours=14))  # 23:00 Beijing
    recipients = await make_recipients(db, 1, pref=preference("weekly", quiet=(time(22, 0), time(8, 0))))
    await make_published_policy(db, urgent=True)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    (row,) = await deliveries(db)
    assert row.due_at == clock.now() and row.urgent and not row.digest


async def test_amendment_reaches_earlier_recipients_and_new_matches(db: Database, clock: FixedClock) -> None:
    earlier = await make_recipients(db, 2, first_chat=100)
    newcomer = await make_recipients(db, 1, first_chat=200)
    policy = await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(earlier)).run_once()
    sent, _queued = await deliveries(db)
    await _mark(db, sent.id, DeliveryStatus.SENT)
    await amend_policy(db, policy.id)
    # After the amendment only one earlier recipient still matches, plus a newcomer.
    await FanOut(db, audience=StaticAudience([earlier[1], *newcomer])).run_once()
    rows = {(r.address, r.revision, r.kind): r for r in await deliveries(db)}
    assert rows[("100", 2, "amended")].status == DeliveryStatus.PENDING  # received rev 1 → told what changed
    assert rows[("101", 1, "published")].status == DeliveryStatus.CANCELLED  # never left: superseded
    assert rows[("101", 2, "published")].status == DeliveryStatus.PENDING  # gets the new text instead
    assert rows[("200", 2, "published")].status == DeliveryStatus.PENDING
    assert len(rows) == 5


async def test_repeal_tells_those_who_received_it(db: Database, clock: FixedClock) -> None:
    recipients = await make_recipients(db, 3)
    policy = await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    first, second, _third = await deliveries(db)
    await _mark(db, first.id, DeliveryStatus.SENT)
    await _mark(db, second.id, DeliveryStatus.SENT)
    await repeal_policy(db, policy.id)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    notices = await deliveries(db, kind="repealed")
    assert sorted(n.address for n in notices) == [first.address, second.address]
    assert [r.status for r in await deliveries(db, kind="published")] == [
        DeliveryStatus.SENT, DeliveryStatus.SENT, DeliveryStatus.CANCELLED,
    ]


async def _mark(db: Database, delivery_id: int, status: str) -> None:
    from sqlalchemy import update

    from push.models import Delivery

    async with db.session() as session:
        await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(status=status))


class StreamedAudience:
    """An `audience_chunks` stand-in: yields fixed chunks and notes how many rows were already
    committed each time the fan-out asks for the next chunk."""

    def __init__(self, db: Database, chunks: list[list[Any]]) -> None:
        self.db = db
        self.chunks = chunks
        self.committed_before_chunk: list[int] = []

    async def __call__(self, session: Any, policy: Any, *, chunk_size: int, first_chunk_size: int) -> Any:
        for chunk in self.chunks:
            self.committed_before_chunk.append(len(await deliveries(self.db)))
            yield chunk


async def test_streamed_audience_commits_the_first_chunk_before_reading_the_rest(
    db: Database, clock: FixedClock
) -> None:
    people = await make_recipients(db, 9)
    await make_published_policy(db)
    stream = StreamedAudience(db, [people[:2], people[2:6], people[6:]])
    chunks: list[int] = []
    report = await FanOut(db, audience_chunks=stream, on_chunk=lambda: chunks.append(1)).run_once()
    assert report.rows == 9 and report.events == 1
    # Each chunk was committed (workers can send it) before the next was even read.
    assert stream.committed_before_chunk == [0, 2, 6]
    rows = await deliveries(db)
    assert len(rows) == 9 and len({(r.subscriber_id, r.address_id) for r in rows}) == 9
    assert len(chunks) == 4  # one per chunk, then an empty one that marks the event done
    again = await FanOut(db, audience_chunks=stream).run_once()
    assert (again.rows, again.events) == (0, 0)


async def test_streamed_audience_resumes_after_a_crash_and_drops_repeated_keys(
    db: Database, clock: FixedClock
) -> None:
    people = await make_recipients(db, 7)
    await make_published_policy(db)
    chunks = [people[:3], [people[2], *people[3:5]], people[5:]]  # people[2] repeated
    partial = await FanOut(db, audience_chunks=StreamedAudience(db, chunks)).run_once(max_chunks=1)
    assert partial.rows == 3 and partial.events == 0
    resumed = await FanOut(db, audience_chunks=StreamedAudience(db, chunks)).run_once()
    assert resumed.rows == 4 and resumed.events == 1
    rows = await deliveries(db)
    assert sorted(r.address_id for r in rows) == sorted(p.address_id for p in people)


async def test_empty_streamed_audience_finishes_the_event(db: Database, clock: FixedClock) -> None:
    await make_published_policy(db)
    report = await FanOut(db, audience_chunks=StreamedAudience(db, [])).run_once()
    assert (report.rows, report.events) == (0, 1)
    assert (await FanOut(db, audience_chunks=StreamedAudience(db, [])).run_once()).events == 0


async def test_unsorted_audience_with_duplicates_is_planned_once_per_key(db: Database, clock: FixedClock) -> None:
    people = await make_recipients(db, 5)
    shuffled = [people[3], people[0], people[4], people[0], people[1], people[2]]
    await make_published_policy(db)
    report = await FanOut(db, audience=StaticAudience(shuffled), chunk_size=2, first_chunk_size=1).run_once()
    assert report.rows == 5
    assert len(await deliveries(db)) == 5
