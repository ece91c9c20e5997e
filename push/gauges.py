"""The delivery pipeline's state as gauges, read from the database when /metrics is scraped.

Read rather than counted in memory: every process (and every scrape of any of them) reports
the same figures, and the worker needs no bookkeeping. The queries are counts and minima over
indexed columns (`ix_delivery_queue`, `ix_relay_task_open`) plus one GROUP BY over deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today_in_china
from push.dao import reach
from push.relay.models import RelayStatus, RelayTask


@dataclass(frozen=True)
class PipelineGauges:
    deliveries: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, status) → rows
    due: int = 0  # pending rows whose time has come
    oldest_due_age_seconds: float = 0.0  # how long the oldest of them has been due (0: none)
    relay_open: int = 0
    relay_overdue: int = 0


async def pipeline_gauges(session: AsyncSession, now: datetime) -> PipelineGauges:
    by_status = await reach.rows_by_channel_status(session)
    due, oldest = await reach.due_now(session, now)
    relay_open = await session.scalar(select(func.count()).where(RelayTask.status == RelayStatus.OPEN))
    relay_overdue = await session.scalar(
        select(func.count()).where(RelayTask.status == RelayStatus.OPEN, RelayTask.due_on < today_in_china(now))
    )
    return PipelineGauges(
        deliveries=by_status,
        due=due,
        oldest_due_age_seconds=max((now - _aware(oldest)).total_seconds(), 0.0) if oldest is not None else 0.0,
        relay_open=int(relay_open or 0),
        relay_overdue=int(relay_overdue or 0),
    )


def _aware(value: datetime | str) -> datetime:
    """`min()` over a UTC column comes back as text or a naive datetime on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
