"""A full shared limit puts deliveries back in the queue without spending an attempt, and a
channel whose whole budget is held is not claimed meanwhile."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import timedelta

from core.clock import FixedClock
from core.db import Database
from push.channels.base import RenderedMessage, SendResult, SendStatus
from push.fanout import FanOut
from push.models import DeliveryStatus
from push.shared_limits import Throttled
from push.worker import DeliveryWorker
from tests.factories import make_published_policy
from tests.push.helpers import StaticAudience, attempts, deliveries, make_recipients


@dataclass
class ThrottledChannel:
    """Raises Throttled (as a shared limiter does) for the first `refusals` sends."""

    refusals: int
    everyone: bool
    name: str = "telegram"
    sent: list[RenderedMessage] = field(default_factory=list)

    async def send(self, message: RenderedMessage) -> SendResult:
        if self.refusals > 0:
            self.refusals -= 1
            raise Throttled(30.0, "发送频率已达平台上限，稍后自动重发", everyone=self.everyone)
        self.sent.append(message)
        return SendResult(SendStatus.SENT, provider_message_id=str(len(self.sent)))

    async def close(self) -> None:
        return None


def _worker(db: Database, channel: ThrottledChannel) -> DeliveryWorker:
    return DeliveryWorker(db, {"telegram": channel}, base_url="http://pd.test", secret="s",  # type: ignore[dict-item]
                          rng=random.Random(3), batch_size=10)


async def _queue(db: Database, count: int) -> None:
    recipients = await make_recipients(db, count)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()


async def test_deferred_rows_keep_their_attempts_and_come_back(db: Database, clock: FixedClock) -> None:
    await _queue(db, 3)
    channel = ThrottledChannel(refusals=3, everyone=False)
    worker = _worker(db, channel)
    assert await worker.run_once() == 3
    rows = await deliveries(db)
    assert {r.status for r in rows} == {DeliveryStatus.PENDING}
    assert all(r.attempts == 0 for r in rows)  # waiting for a token is not an attempt
    assert all(r.next_attempt_at >= clock.now() + timedelta(seconds=30) for r in rows)
    assert all("频率" in r.last_error for r in rows)
    assert await attempts(db, rows[0].id) == []
    assert await worker.run_once() == 0  # not due yet
    clock.advance(timedelta(seconds=34))
    assert await worker.run_once() == 3
    rows = await deliveries(db)
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert all(r.attempts == 1 for r in rows)
    assert len(channel.sent) == 3


async def test_a_held_channel_is_not_claimed(db: Database, clock: FixedClock) -> None:
    await _queue(db, 3)
    channel = ThrottledChannel(refusals=1, everyone=True)
    worker = _worker(db, channel)
    worker.batch_size = 1
    assert await worker.run_once() == 1  # refused: the whole channel is held for 30 s
    clock.advance(timedelta(seconds=40))  # due again in the database...
    assert await worker.claim(10) == []  # ...but this worker holds off the channel meanwhile
    worker._claims_held_until["telegram"] = asyncio.get_running_loop().time() - 1  # the hold runs out
    assert len(await worker.claim(10)) == 3
