"""The attempt trail (`delivery_attempt`) beyond what the queue writes with each outcome: its retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from push.models import DeliveryAttempt


async def prune_attempts(session: AsyncSession, *, before: datetime, batch: int = 5_000) -> int:
    """Delete up to `batch` attempt rows older than `before` (the retention horizon). The
    delivery rows stay: they are the ledger; attempts are the debugging trail."""
    ids = list((await session.execute(
        select(DeliveryAttempt.id).where(DeliveryAttempt.at < before).order_by(DeliveryAttempt.id).limit(batch)
    )).scalars())
    if ids:
        await session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.id.in_(ids)))
    return len(ids)
