"""Queue and worker: claim with a lease, send, record every attempt, retry, dead-letter,
deactivate dead addresses, reclaim lost work."""

from __future__ import annotations

import asyncio
import gc
import random
import weakref
from datetime import timedelta

from core.clock import FixedClock
from core.db import Database
from push.channels.base import RenderedMessage, SendResult, SendStatus
from push.fanout import FanOut
from push.models import AttemptOutcome, DeliveryStatus
from push.queue import Backoff, DeliveryQueue
from push.worker import DeliveryWorker
from subscriptions import service as subscriptions
from tests.factories import make_published_policy
from tests.push.helpers import RecordingChannel, StaticAudience, attempts, deliveries, make_recipients

SECRET = "test-secret"


async def _queued(db: Database, count: int, **kwargs: object) -> list:
    recipients = await make_recipients(db, count, **kwargs)  # type: ignore[arg-type]
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    return recipients


def _worker(db: Database, channel: RecordingChannel, **kwargs: object) -> DeliveryWorker:
    options: dict[str, object] = {"base_url": "http://pd.test", "secret": SECRET, "rng": random.Random(7)}
    options.update(kwargs)
    return DeliveryWorker(db, {"telegram": channel}, **options)  # type: ignore[arg-type]


async def test_sends_each_due_row_once_and_records_it(db: Database, clock: FixedClock) -> None:
    await _queued(db, 5)
    channel = RecordingChannel()
    worker = _worker(db, channel, batch_size=3)
    assert await worker.run_once() == 3
    assert await worker.run_once() == 2
    assert await worker.run_once() == 0
    assert sorted(m.address for m in channel.sent) == ["1001", "1002", "1003", "1004", "1005"]
    assert all("/r/" in m.text or any("/r/" in b.value for b in m.buttons) for m in channel.sent)
    rows = await deliveries(db)
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert all(r.sent_at == clock.now() and r.attempts == 1 and r.provider_message_id for r in rows)
    assert all(r.read_at is None and r.acknowledged_at is None for r in rows)  # sent ≠ read
    assert [a.outcome for a in await attempts(db, rows[0].id)] == [AttemptOutcome.SENT]


async def test_claims_are_disjoint_and_leased(db: Database, clock: FixedClock) -> None:
    await _queued(db, 6)
    queue = DeliveryQueue(db, lease_seconds=30)
    first, second = await queue.claim(4), await queue.claim(4)
    assert len(first) == 4 and len(second) == 2
    assert not {c.id for c in first} & {c.id for c in second}
    rows = await deliveries(db)
    assert all(
        r.status == DeliveryStatus.SENDING and r.lease_until == clock.now() + timedelta(seconds=30) for r in rows
    )
    assert await queue.claim(4) == []


async def test_expired_lease_returns_to_queue(db: Database, clock: FixedClock) -> None:
    await _queued(db, 2)
    queue = DeliveryQueue(db, lease_seconds=30)
    claimed = await queue.claim(10)  # ... and the process dies here
    assert await queue.sweep() == 0  # lease still running
    clock.advance(timedelta(seconds=31))
    assert await queue.sweep() == 2
    rows = await deliveries(db)
    assert {r.status for r in rows} == {DeliveryStatus.PENDING}
    channel = RecordingChannel()
    assert await _worker(db, channel).run_once() == 2
    assert len(channel.sent) == len(claimed) == 2
    assert [a.outcome for a in await attempts(db, rows[0].id)] == [AttemptOutcome.LEASE_EXPIRED, AttemptOutcome.SENT]


async def test_retry_after_is_honoured(db: Database, clock: FixedClock) -> None:
    await _queued(db, 1)
    channel = RecordingChannel()
    channel.will_answer("1001", SendResult(SendStatus.RETRY, retry_after=7, error="Too Many Requests: retry after 7"))
    worker = _worker(db, channel)
    assert await worker.run_once() == 1
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.PENDING
    wait = (row.next_attempt_at - clock.now()).total_seconds()
    assert 7 <= wait <= 8
    assert await worker.run_once() == 0  # not due yet
    clock.advance(timedelta(seconds=wait))
    assert await worker.run_once() == 1
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert [a.outcome for a in await attempts(db, row.id)] == [AttemptOutcome.RETRY, AttemptOutcome.SENT]


async def test_backoff_grows_with_jitter() -> None:
    backoff = Backoff(base_seconds=10, cap_seconds=100)
    rng = random.Random(1)
    delays = [backoff.delay(n, None, rng) for n in range(1, 7)]
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20 and 20 <= delays[2] <= 40
    assert all(50 <= d <= 100 for d in delays[4:])


async def test_dead_letter_after_max_attempts(db: Database, clock: FixedClock) -> None:
    await _queued(db, 1)
    channel = RecordingChannel()
    channel.will_answer("1001", *[SendResult(SendStatus.RETRY, error="Internal Server Error")] * 3)
    worker = _worker(db, channel, backoff=Backoff(base_seconds=1, max_attempts=3))
    for _ in range(3):
        assert await worker.run_once() == 1
        clock.advance(timedelta(hours=1))
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.DEAD and row.attempts == 3
    assert "Internal Server Error" in row.last_error
    assert await worker.run_once() == 0
    assert channel.sent == []


async def test_permanent_failure_deactivates_address_and_cancels_its_queue(db: Database, clock: FixedClock) -> None:
    recipients = await make_recipients(db, 2)
    audience = StaticAudience(recipients)
    await make_published_policy(db, title="泾源县就业补贴办法之一")
    await make_published_policy(db, title="泾源县就业补贴办法之二")
    await FanOut(db, audience=audience).run_once()
    channel = RecordingChannel()
    channel.will_answer("1001", SendResult(SendStatus.PERMANENT, error="Forbidden: bot was blocked by the user"))
    assert await _worker(db, channel, batch_size=1).run_once() == 1
    first, *others = await deliveries(db)
    assert first.status == DeliveryStatus.FAILED and "blocked" in first.last_error
    blocked_rest = [r for r in others if r.address == "1001"]
    assert [r.status for r in blocked_rest] == [DeliveryStatus.CANCELLED]
    async with db.reader() as session:
        address = await subscriptions.get_address(session, recipients[0].address_id)
    assert not address.active
    await _worker(db, channel).run_once()
    assert [m.address for m in channel.sent] == ["1002", "1002"]


async def test_bad_content_fails_with_reason_and_others_go_on(db: Database, clock: FixedClock) -> None:
    await _queued(db, 2)
    channel = RecordingChannel()
    channel.will_answer("1001", SendResult(SendStatus.FAILED, error="Bad Request: message is too long"))
    assert await _worker(db, channel).run_once() == 2
    failed, sent = await deliveries(db)
    assert failed.status == DeliveryStatus.FAILED and "too long" in failed.last_error
    assert sent.status == DeliveryStatus.SENT


async def test_render_error_fails_row_readably(db: Database, clock: FixedClock) -> None:
    await _queued(db, 1)

    def broken(channel: str, context: object, address: str) -> object:
        raise ValueError("模板缺少字段 title")

    assert await _worker(db, RecordingChannel(), renderer=broken).run_once() == 1
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.FAILED and "模板缺少字段" in row.last_error


async def test_migrated_chat_follows_new_id(db: Database, clock: FixedClock) -> None:
    recipients = await _queued(db, 1)
    channel = RecordingChannel()
    channel.will_answer("1001", SendResult(SendStatus.RETRY, new_address="-1001234", error="migrated"))
    worker = _worker(db, channel)
    await worker.run_once()
    await worker.run_once()
    assert [m.address for m in channel.sent] == ["-1001234"]
    async with db.reader() as session:
        address = await subscriptions.get_address(session, recipients[0].address_id)
    assert address.address == "-1001234"


async def test_run_loop_drains_queue_and_stops_cleanly(db: Database, clock: FixedClock) -> None:
    await _queued(db, 30)
    channel = RecordingChannel()
    worker = _worker(db, channel, batch_size=8, concurrency=4, poll_interval=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(500):
        if worker.sent_count >= 30:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert len(channel.sent) == 30
    assert {r.status for r in await deliveries(db)} == {DeliveryStatus.SENT}


class _SlowChannel(RecordingChannel):
    async def send(self, message: RenderedMessage) -> SendResult:
        await asyncio.sleep(0.15)
        return await super().send(message)


async def test_prefetched_rows_held_past_most_of_their_lease_are_left_to_the_sweeper(
    db: Database, clock: FixedClock
) -> None:
    # One slow sender and a short lease whose renewals do not get through (the heartbeat is
    # switched off here): rows waiting in the worker's inbox would outlive 80 % of their lease.
    # They are not sent late (the sweeper could hand them out again meanwhile); the sweeper
    # returns them once the lease runs out, and each address still gets one message.
    recipients = await _queued(db, 6)
    channel = _SlowChannel()
    worker = _worker(db, channel, batch_size=3, concurrency=1, prefetch=3, lease_seconds=0.25, poll_interval=0.01)

    async def no_renewal() -> None:
        return None

    worker._renew_leases_safely = no_renewal  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(300):
        if worker.sent_count >= 6:
            break
        await asyncio.sleep(0.05)
        clock.advance(timedelta(seconds=0.1))  # leases (on the queue's clock) run out
    stop.set()
    await asyncio.wait_for(task, 10)
    assert worker.stale_dropped > 0
    assert sorted(m.address for m in channel.sent) == sorted(r.address for r in recipients)
    assert {r.status for r in await deliveries(db)} == {DeliveryStatus.SENT}


async def test_run_freezes_the_long_lived_heap_after_collecting_garbage(db: Database, clock: FixedClock) -> None:
    """The worker keeps full GC passes off the first message (core.heap.freeze_long_lived):
    what is alive when it starts is frozen, and garbage is collected first, not frozen."""
    class Node:
        pass

    alive, garbage = Node(), Node()
    garbage.me = garbage  # type: ignore[attr-defined]  # a cycle only the collector frees
    gone = weakref.ref(garbage)
    del garbage
    gc.unfreeze()
    worker = _worker(db, RecordingChannel(), poll_interval=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(200):
            if gc.get_freeze_count():
                break
            await asyncio.sleep(0.01)
        assert gc.get_freeze_count() > 0
        assert gone() is None  # collected before the freeze, not kept forever
        assert not any(o is alive for o in gc.get_objects())  # frozen: out of the collector's passes
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
