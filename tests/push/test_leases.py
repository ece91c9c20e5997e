"""Leases under load: a slow worker renews its leases (heartbeat) so the sweeper never hands its
rows to anyone else, and the at-least-once window the ADR documents is the one the code keeps."""

from __future__ import annotations

import asyncio
import inspect
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from core.db import Database
from push.channels.base import RenderedMessage, SendResult, SendStatus
from push.dao.queue import Outcome
from push.fanout import FanOut
from push.models import AttemptOutcome, DeliveryAttempt, DeliveryStatus
from push.service import run_workers
from push.worker import DeliveryWorker, at_least_once_window
from tests.factories import make_published_policy
from tests.push.helpers import StaticAudience, deliveries, make_recipients

ADR = Path(__file__).resolve().parents[2] / "docs" / "adr" / "0001-delivery-queue.md"


@dataclass
class SlowChannel:
    """Every send takes `seconds` (a slow platform, or a machine too busy to answer quickly)."""

    seconds: float
    name: str = "telegram"
    sent: list[str] = field(default_factory=list)

    async def send(self, message: RenderedMessage) -> SendResult:
        await asyncio.sleep(self.seconds)
        self.sent.append(message.address)
        return SendResult(SendStatus.SENT, provider_message_id=str(len(self.sent)))

    async def close(self) -> None:
        return None


async def _queue(db: Database, count: int) -> None:
    recipients = await make_recipients(db, count)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()


async def _run_until_sent(db: Database, worker: DeliveryWorker, count: int, within: float = 120) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        while len(await deliveries(db, status=DeliveryStatus.SENT)) < count:
            assert loop.time() < deadline, "not all rows were sent"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task


async def test_sends_slower_than_the_lease_keep_their_leases(db: Database) -> None:
    await _queue(db, 10)
    channel = SlowChannel(seconds=7.0)  # each send outlasts the 3 s lease twice over
    worker = DeliveryWorker(db, {"telegram": channel}, base_url="http://pd.test", secret="s",  # type: ignore[dict-item]
                            lease_seconds=3.0, concurrency=10, batch_size=10, poll_interval=0.05)
    await _run_until_sent(db, worker, 10)
    assert sorted(Counter(channel.sent).values()) == [1] * 10  # nobody twice
    async with db.reader() as session:
        expired = await session.scalar(
            select(func.count()).where(DeliveryAttempt.outcome == AttemptOutcome.LEASE_EXPIRED)
        )
    assert expired == 0
    assert all(r.attempts == 1 for r in await deliveries(db))


async def test_sent_but_unrecorded_never_exceeds_the_documented_window(db: Database) -> None:
    """The window is what a kill -9 can send twice: messages the platform accepted whose outcome
    is not committed. With commits slowed down, count them at every send."""
    await _queue(db, 400)
    concurrency, batch_size = 8, 20
    committed = 0
    most_outstanding = 0

    class CountingChannel(SlowChannel):
        async def send(self, message: RenderedMessage) -> SendResult:
            nonlocal most_outstanding
            result = await super().send(message)
            most_outstanding = max(most_outstanding, len(self.sent) - committed)
            return result

    channel = CountingChannel(seconds=0.001)
    worker = DeliveryWorker(db, {"telegram": channel}, base_url="http://pd.test", secret="s",  # type: ignore[dict-item]
                            concurrency=concurrency, batch_size=batch_size, poll_interval=0.05,
                            rng=random.Random(1))
    record = worker.queue.record

    async def slow_record(outcomes: list[Outcome]) -> int:
        nonlocal committed
        await asyncio.sleep(0.2)  # a busy database
        changed = await record(outcomes)
        committed += sum(1 for o in outcomes if o.status == DeliveryStatus.SENT)
        return changed

    worker.queue.record = slow_record  # type: ignore[method-assign]
    await _run_until_sent(db, worker, 400)
    window = at_least_once_window(concurrency, batch_size)
    print(f"most sent but unrecorded: {most_outstanding} (window {window})")
    assert most_outstanding <= window
    assert most_outstanding > batch_size  # the slow commits did fill the pipeline


def test_the_adr_states_the_window_the_code_keeps() -> None:
    """ADR 0001 quotes the window for the production defaults of run_workers and the crash
    test's settings; both must be what `at_least_once_window` computes from those settings."""
    from tests.push.crash_worker import BATCH_SIZE, CONCURRENCY

    defaults = inspect.signature(run_workers).parameters
    production = at_least_once_window(defaults["concurrency"].default, defaults["batch_size"].default)
    crash = at_least_once_window(CONCURRENCY, BATCH_SIZE)
    text = ADR.read_text(encoding="utf-8")
    stated = re.search(r"\((\d+) with the defaults (\d+)/(\d+)", text)
    assert stated, "ADR 0001 must state the window for the defaults"
    assert (int(stated[1]), int(stated[2]), int(stated[3])) == (
        production, defaults["concurrency"].default, defaults["batch_size"].default
    )
    crash_stated = re.search(r"crash test with (\d+)/(\d+), bound (\d+)", text)
    assert crash_stated, "ADR 0001 must state the crash test's bound"
    assert (int(crash_stated[1]), int(crash_stated[2]), int(crash_stated[3])) == (CONCURRENCY, BATCH_SIZE, crash)
    renew = re.search(r"renews the\s+lease.*?every\s+lease/(\d+)", text, re.S)
    assert renew, "ADR 0001 must state how often leases are renewed"
    worker = DeliveryWorker(None, {}, base_url="http://pd.test", secret="s", lease_seconds=60.0)  # type: ignore[arg-type]
    assert worker.renew_every == 60.0 / int(renew[1])
