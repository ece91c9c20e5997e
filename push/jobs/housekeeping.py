"""Housekeeping: return deliveries with an expired lease to the queue, and prune old attempts.

Every delivery worker already sweeps leases at start and every lease/4; the job covers the
time when no worker runs in any process (e.g. all were stopped while holding leases). The
sweep only touches rows whose lease has run out, so it is harmless next to the workers'.

Attempt rows are the debugging trail of each send; the delivery rows (the ledger, 台账) stay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.db import Database
from push.dao import attempts, queue
from push.dao.writing import writing
from push.queue import Backoff

DEFAULT_ATTEMPT_RETENTION_DAYS = 180
PRUNE_BATCH = 5_000


async def reclaim_leases(db: Database, now: datetime) -> int:
    async with writing(db) as session:
        return await queue.reclaim_expired_leases(session, now=now, max_attempts=Backoff().max_attempts)


async def prune_attempts(db: Database, now: datetime, retention_days: int) -> int:
    """Delete attempt rows older than the retention, in short transactions (SQLite has one writer)."""
    before = now - timedelta(days=retention_days)
    total = 0
    while True:
        async with writing(db) as session:
            removed = await attempts.prune_attempts(session, before=before, batch=PRUNE_BATCH)
        total += removed
        if removed < PRUNE_BATCH:
            return total
