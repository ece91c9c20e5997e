"""Read-only counts over deliveries: per-policy reach, the console's reports, the /metrics gauges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from push.kinds import CONTENT_KINDS
from push.models import Delivery, DeliveryStatus

REACH_FIELDS = ("matched", "queued", "sent", "failed", "dead", "cancelled", "read", "acknowledged")


async def reach_by_channel(session: AsyncSession, policy_id: int) -> dict[str, dict[str, int]]:
    """Distinct addresses per reach stage and channel, over rows that carry the policy itself."""

    def addresses_where(condition: object) -> object:
        return func.count(func.distinct(case((condition, Delivery.address_id))))

    rows = await session.execute(
        select(
            Delivery.channel,
            func.count(func.distinct(Delivery.address_id)),
            addresses_where(Delivery.status.in_(DeliveryStatus.QUEUED)),
            addresses_where(Delivery.status == DeliveryStatus.SENT),
            addresses_where(Delivery.status == DeliveryStatus.FAILED),
            addresses_where(Delivery.status == DeliveryStatus.DEAD),
            addresses_where(Delivery.status == DeliveryStatus.CANCELLED),
            addresses_where(Delivery.read_at.is_not(None)),
            addresses_where(Delivery.acknowledged_at.is_not(None)),
        )
        .where(Delivery.policy_id == policy_id, Delivery.kind.in_(CONTENT_KINDS))
        .group_by(Delivery.channel)
    )
    return {row[0]: dict(zip(REACH_FIELDS, (int(v) for v in row[1:]), strict=True)) for row in rows}


async def sent_times(session: AsyncSession, policy_id: int) -> list[datetime]:
    """When each message carrying the policy was accepted by its platform."""
    rows = await session.execute(
        select(Delivery.sent_at).where(
            Delivery.policy_id == policy_id,
            Delivery.kind.in_(CONTENT_KINDS),
            Delivery.sent_at.is_not(None),
        )
    )
    return [sent_at for (sent_at,) in rows]


async def dead_deliveries(session: AsyncSession, limit: int) -> Sequence[Delivery]:
    """Dead-lettered rows, newest first."""
    rows = await session.execute(
        select(Delivery).where(Delivery.status == DeliveryStatus.DEAD).order_by(Delivery.id.desc()).limit(limit)
    )
    return list(rows.scalars())


async def rows_by_channel_status(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(Delivery.channel, Delivery.status, func.count()).group_by(Delivery.channel, Delivery.status)
    )
    return {(channel, status): int(n) for channel, status, n in rows}


async def due_now(session: AsyncSession, now: datetime) -> tuple[int, datetime | str | None]:
    """Pending rows whose time has come, and the earliest of their times (text or naive on SQLite)."""
    due, oldest = (await session.execute(
        select(func.count(), func.min(Delivery.next_attempt_at))
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
    )).one()
    return int(due or 0), oldest
