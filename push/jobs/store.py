"""Every query of the scheduled jobs: the run ledger, the deadline-reminder ledger, department
notices. The reads of `delivery` the reminders need are in push.dao.deliveries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from push.dao import deliveries
from push.dao.deliveries import Recipient
from push.jobs.models import DeadlineReminder, DepartmentNotice, JobRun, JobRunState


async def _insert_or_ignore(session: AsyncSession, model: type, values: dict[str, object]) -> bool:
    """Insert unless the row's unique key exists; True when this call inserted it."""
    dialect = (await session.connection()).dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    result = await session.execute(module.insert(model).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- job runs -----------------------------------------------------------------------------------


async def claim_run(
    session: AsyncSession, *, job: str, period_key: str, runner: str, now: datetime, stale_before: datetime
) -> bool:
    """Take the (job, period) run: a new row, or one that failed, or a claim gone stale (its
    process died mid-run). False when the period is done or another runner holds it."""
    if await _insert_or_ignore(session, JobRun, {
        "job": job, "period_key": period_key, "state": JobRunState.RUNNING, "runner": runner,
        "attempts": 1, "started_at": now, "finished_at": None, "detail": "",
    }):
        return True
    retake = and_(
        JobRun.job == job, JobRun.period_key == period_key,
        (JobRun.state == JobRunState.FAILED)
        | and_(JobRun.state == JobRunState.RUNNING, JobRun.started_at < stale_before),
    )
    result = await session.execute(
        update(JobRun).where(retake)
        .values(state=JobRunState.RUNNING, runner=runner, started_at=now, attempts=JobRun.attempts + 1),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish_run(
    session: AsyncSession, *, job: str, period_key: str, state: str, detail: str, now: datetime
) -> None:
    await session.execute(
        update(JobRun).where(JobRun.job == job, JobRun.period_key == period_key)
        .values(state=state, detail=detail[:4000], finished_at=now),
        execution_options={"synchronize_session": False},
    )


async def runs(session: AsyncSession, job: str | None = None) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list((await session.execute(query)).scalars())


# -- deadline reminders -------------------------------------------------------------------------


async def record_reminder(
    session: AsyncSession, *, policy_id: int, holder: Recipient, closes_on: date, days_before: int, now: datetime
) -> bool:
    """Book the reminder in the ledger; False when this stage was already queued."""
    return await _insert_or_ignore(session, DeadlineReminder, {
        "policy_id": policy_id, "subscriber_id": holder.subscriber_id, "address_id": holder.address_id,
        "closes_on": closes_on, "days_before": days_before, "delivery_id": None, "created_at": now,
    })


async def link_reminders(session: AsyncSession, *, policy_id: int, revision: int, kind: str, closes_on: date,
                         days_before: int) -> None:
    """Point the ledger rows at the delivery rows just queued for them."""
    for delivery_id, subscriber_id, address_id in await deliveries.ids_of_kind(
        session, policy_id=policy_id, revision=revision, kind=kind
    ):
        await session.execute(
            update(DeadlineReminder)
            .where(DeadlineReminder.policy_id == policy_id, DeadlineReminder.subscriber_id == subscriber_id,
                   DeadlineReminder.address_id == address_id, DeadlineReminder.closes_on == closes_on,
                   DeadlineReminder.days_before == days_before, DeadlineReminder.delivery_id.is_(None))
            .values(delivery_id=delivery_id),
            execution_options={"synchronize_session": False},
        )


# -- department notices -------------------------------------------------------------------------


async def add_notice(session: AsyncSession, values: dict[str, object]) -> bool:
    """Once per (policy, kind): False when that notice exists (resolved or not)."""
    return await _insert_or_ignore(session, DepartmentNotice, values)


async def resolve_notices(session: AsyncSession, policy_ids: Iterable[int], kinds: Sequence[str], now: datetime) -> int:
    ids = sorted(set(policy_ids))
    if not ids:
        return 0
    result = await session.execute(
        update(DepartmentNotice)
        .where(DepartmentNotice.policy_id.in_(ids), DepartmentNotice.kind.in_(kinds),
               DepartmentNotice.resolved_at.is_(None))
        .values(resolved_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def notices(
    session: AsyncSession, *, unresolved_only: bool = True, kinds: Sequence[str] | None = None
) -> list[DepartmentNotice]:
    query = select(DepartmentNotice).order_by(DepartmentNotice.due_on, DepartmentNotice.id)
    if unresolved_only:
        query = query.where(DepartmentNotice.resolved_at.is_(None))
    if kinds is not None:
        query = query.where(DepartmentNotice.kind.in_(kinds))
    return list((await session.execute(query)).scalars())


async def unresolved_policy_ids(session: AsyncSession, kinds: Sequence[str]) -> set[int]:
    rows = await session.execute(
        select(DepartmentNotice.policy_id).where(
            DepartmentNotice.kind.in_(kinds), DepartmentNotice.resolved_at.is_(None)
        )
    )
    return set(rows.scalars())
