"""The durable delivery queue: claim with a lease, record outcomes, sweep lost work.

Every step is a short transaction over a whole batch, and each is safe to repeat:
claiming only takes `pending` rows that are due; recording only touches rows still
`sending`; the sweeper only returns rows whose lease has run out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core import clock as core_clock
from core.db import Database
from push.channels.base import SendResult, SendStatus
from push.dao import queue as dao
from push.dao.queue import Outcome
from push.dao.rows import DeliveryView
from push.dao.writing import writing
from push.models import AttemptOutcome, DeliveryStatus

# Policies per digest message. The renderer can squeeze 60 into Telegram's 4,096 characters,
# but only by dropping their text; 20 keep a line of benefits and the deadline each.
DIGEST_MAX_ITEMS = 20

Unit = tuple[DeliveryView, ...]
"""What one message carries: one row, or the digest rows of one address."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class _CoreClock:
    def now(self) -> datetime:
        return core_clock.now()


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter; a platform's own `retry_after` is a floor.

    With the defaults a row is tried 10 times over about 70 minutes before it is dead-lettered.
    """

    base_seconds: float = 10.0
    cap_seconds: float = 1800.0
    max_attempts: int = 10

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        # "Equal jitter": at least half the exponential step, so retries spread out without
        # ever coming back almost at once.
        step = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        delay = step / 2 + rng.uniform(0, step / 2)
        if retry_after:
            # Telegram's retry_after is a promise the next call fails sooner; add a little
            # jitter above it so the whole backlog does not come back in the same instant.
            delay = retry_after + rng.uniform(0, max(0.5, 0.1 * retry_after))
        return delay


def decide(
    item: DeliveryView, result: SendResult, *, now: datetime, backoff: Backoff, rng: random.Random
) -> Outcome:
    """The row's next state after one send (no side effects)."""
    status = result.status
    if status == SendStatus.DEFERRED:
        # A shared limit had no token: back to the queue after the wait (with a little jitter so
        # a held backlog does not return in one instant); the attempt is given back on record.
        wait = (result.retry_after or 1.0) * (1 + rng.uniform(0, 0.1))
        return Outcome(item.id, DeliveryStatus.PENDING, AttemptOutcome.DEFERRED, now,
                       error=result.error or "等待发送额度", next_attempt_at=now + timedelta(seconds=wait))
    if status == SendStatus.SENT:
        return Outcome(item.id, DeliveryStatus.SENT, AttemptOutcome.SENT, now,
                       provider_message_id=result.provider_message_id)
    if result.new_address:
        # The chat moved; send again at once to the new id (does not count as a failure).
        return Outcome(item.id, DeliveryStatus.PENDING, AttemptOutcome.NEW_ADDRESS, now,
                       error=f"会话已迁移至 {result.new_address}", next_attempt_at=now)
    if status == SendStatus.PERMANENT:
        return Outcome(item.id, DeliveryStatus.FAILED, AttemptOutcome.PERMANENT, now,
                       error=result.error or "接收地址已失效")
    if status == SendStatus.FAILED:
        return Outcome(item.id, DeliveryStatus.FAILED, AttemptOutcome.FAILED, now,
                       error=result.error or "消息无法发送")
    if item.attempts >= backoff.max_attempts:
        return Outcome(item.id, DeliveryStatus.DEAD, AttemptOutcome.DEAD, now,
                       error=f"已重试{item.attempts}次仍失败：{result.error or '临时错误'}")
    delay = backoff.delay(item.attempts, result.retry_after, rng)
    return Outcome(item.id, DeliveryStatus.PENDING, AttemptOutcome.RETRY, now,
                   error=result.error or "临时错误，稍后重试", next_attempt_at=now + timedelta(seconds=delay))


class DeliveryQueue:
    """The queue as seen by one worker process."""

    def __init__(
        self,
        db: Database,
        *,
        lease_seconds: float = 60.0,
        backoff: Backoff | None = None,
        clock: Clock | None = None,
        channels: Sequence[str] | None = None,
    ) -> None:
        self.db = db
        self.lease = timedelta(seconds=lease_seconds)
        self.backoff = backoff or Backoff()
        self.clock = clock or _CoreClock()
        self.channels = list(channels) if channels is not None else None

    async def claim_units(
        self, limit: int, *, now: datetime | None = None, channels: Sequence[str] | None = None,
        digests: bool = True,
    ) -> list[Unit]:
        """The one claim: digest groups (unless `digests` is false; one unit per address, at most
        `DIGEST_MAX_ITEMS` rows each) and single rows due now, about `limit` rows in all, leased
        until `now + lease`, in one transaction. `channels` defaults to the queue's own."""
        if channels is None:
            channels = self.channels
        if channels is not None and not channels:
            return []
        now = now or self.clock.now()
        lease_until = now + self.lease
        async with writing(self.db) as session:
            groups = await dao.claim_digest_groups(
                session, now=now, lease_until=lease_until, max_addresses=max(1, limit // 2),
                max_items=DIGEST_MAX_ITEMS, channels=channels,
            ) if digests else []
            room = max(0, limit - sum(len(g) for g in groups))
            singles = await dao.claim_due(
                session, now=now, lease_until=lease_until, limit=room, channels=channels, digest=False,
            ) if room else []
        units: list[Unit] = [tuple(g) for g in groups]
        units.extend((row,) for row in singles)
        return units

    async def claim(self, limit: int) -> list[DeliveryView]:
        """`claim_units` as a flat list of rows (tests, one-shot tools)."""
        return [row for unit in await self.claim_units(limit) for row in unit]

    async def record(self, outcomes: Sequence[Outcome]) -> int:
        if not outcomes:
            return 0
        deferred = [o for o in outcomes if o.attempt == AttemptOutcome.DEFERRED]
        done = [o for o in outcomes if o.attempt != AttemptOutcome.DEFERRED] if deferred else outcomes
        async with writing(self.db) as session:
            await dao.lock_in_id_order(session, [o.delivery_id for o in outcomes])
            changed = await dao.record_outcomes(session, done) if done else 0
            if deferred:
                changed += await dao.defer(session, deferred)
            return changed

    async def sweep(self) -> int:
        """Return rows with an expired lease to the queue (dead after the last attempt)."""
        async with writing(self.db) as session:
            return await dao.reclaim_expired_leases(
                session, now=self.clock.now(), max_attempts=self.backoff.max_attempts
            )

    async def release(self, items: Sequence[DeliveryView]) -> None:
        """Give back rows claimed but never sent (graceful stop), without spending an attempt."""
        if not items:
            return
        async with writing(self.db) as session:
            await dao.release(session, [i.id for i in items])
