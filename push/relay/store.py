"""Every query of relay tracking. Relay deliveries themselves are inserted, found and read
through push.dao (insert-or-ignore on the delivery's unique key); this module keeps the relay
tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from push.dao import deliveries
from push.relay.models import RelayCursor, RelayEscalation, RelayMember, RelayStatus, RelayTask

CURSOR_NAME = "tasks"


async def _insert_module(session: AsyncSession) -> object:
    dialect = (await session.connection()).dialect.name
    return postgresql if dialect == "postgresql" else sqlite


# -- cursor --------------------------------------------------------------------------------


async def cursor_for_update(session: AsyncSession, now: datetime) -> RelayCursor:
    """The outbox cursor, created if missing and locked until the unit of work ends."""
    module = await _insert_module(session)
    await session.execute(
        module.insert(RelayCursor)  # type: ignore[attr-defined]
        .values(name=CURSOR_NAME, last_event_id=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    row = await session.execute(select(RelayCursor).where(RelayCursor.name == CURSOR_NAME).with_for_update())
    return row.scalar_one()


async def cursor_position(session: AsyncSession) -> int:
    """The last outbox event the relay has handled (0 before the first), read without a lock."""
    found = await session.execute(select(RelayCursor.last_event_id).where(RelayCursor.name == CURSOR_NAME))
    return int(found.scalar_one_or_none() or 0)


# -- tasks ---------------------------------------------------------------------------------


async def insert_task(session: AsyncSession, values: dict[str, object]) -> bool:
    """Insert-or-ignore on (policy_id, hub_id); True when the task is new."""
    module = await _insert_module(session)
    result = await session.execute(
        module.insert(RelayTask)  # type: ignore[attr-defined]
        .values(**values)
        .on_conflict_do_nothing(index_elements=["policy_id", "hub_id"])
    )
    return bool(result.rowcount)


async def task_by_key(session: AsyncSession, policy_id: int, hub_id: int, *, lock: bool = False) -> RelayTask | None:
    stmt = select(RelayTask).where(RelayTask.policy_id == policy_id, RelayTask.hub_id == hub_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def task_by_id(session: AsyncSession, task_id: int, *, lock: bool = False) -> RelayTask | None:
    stmt = select(RelayTask).where(RelayTask.id == task_id)
    if lock:
        # populate_existing: a row read earlier in this session is refreshed under the lock.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def tasks_of_policy(session: AsyncSession, policy_id: int) -> list[RelayTask]:
    stmt = select(RelayTask).where(RelayTask.policy_id == policy_id).order_by(RelayTask.hub_name, RelayTask.id)
    return list((await session.execute(stmt)).scalars())


async def tasks_of_hub(session: AsyncSession, hub_id: int, *, status: str | None = None) -> list[RelayTask]:
    stmt = select(RelayTask).where(RelayTask.hub_id == hub_id)
    if status is not None:
        stmt = stmt.where(RelayTask.status == status)
    return list((await session.execute(stmt.order_by(RelayTask.due_on, RelayTask.id))).scalars())


async def open_tasks_of_policy(session: AsyncSession, policy_id: int) -> list[RelayTask]:
    stmt = (
        select(RelayTask)
        .where(RelayTask.policy_id == policy_id, RelayTask.status == RelayStatus.OPEN)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def tasks_to_remind(session: AsyncSession, today: date) -> list[RelayTask]:
    """Open tasks whose reminder day has come (and whose deadline has not passed), not yet reminded."""
    stmt = (
        select(RelayTask)
        .where(
            RelayTask.status == RelayStatus.OPEN,
            RelayTask.remind_on <= today,
            RelayTask.due_on >= today,
            RelayTask.reminded_at.is_(None),
        )
        .order_by(RelayTask.policy_id, RelayTask.id)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def tasks_to_escalate(session: AsyncSession, today: date) -> list[RelayTask]:
    stmt = (
        select(RelayTask)
        .where(RelayTask.status == RelayStatus.OPEN, RelayTask.due_on < today, RelayTask.escalated_at.is_(None))
        .order_by(RelayTask.policy_id, RelayTask.id)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


def ledger_query(*, policy_id: int | None, agency: str | None, released: tuple[date, date] | None) -> Select:
    stmt = select(RelayTask)
    if policy_id is not None:
        stmt = stmt.where(RelayTask.policy_id == policy_id)
    if agency:
        stmt = stmt.where(RelayTask.agency == agency)
    if released is not None:
        stmt = stmt.where(RelayTask.released_on >= released[0], RelayTask.released_on < released[1])
    return stmt.order_by(RelayTask.released_on, RelayTask.policy_id, RelayTask.hub_name, RelayTask.id)


async def ledger_tasks(
    session: AsyncSession, *, policy_id: int | None, agency: str | None, released: tuple[date, date] | None
) -> list[RelayTask]:
    return list((await session.execute(ledger_query(policy_id=policy_id, agency=agency, released=released))).scalars())


# -- members -------------------------------------------------------------------------------


async def insert_members(session: AsyncSession, rows: Sequence[dict[str, object]]) -> int:
    if not rows:
        return 0
    module = await _insert_module(session)
    result = await session.execute(
        # The Core table, not the ORM entity: an executemany that reports its rowcount.
        module.insert(RelayMember.__table__)  # type: ignore[attr-defined]
        .on_conflict_do_nothing(index_elements=["task_id", "subscriber_id", "address_id"]),
        list(rows),
    )
    return int(result.rowcount or 0)


async def members_of(session: AsyncSession, task_id: int) -> list[RelayMember]:
    stmt = select(RelayMember).where(RelayMember.task_id == task_id).order_by(RelayMember.id)
    return list((await session.execute(stmt)).scalars())


async def member_counts(session: AsyncSession, task_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(RelayMember.task_id, func.count()).where(RelayMember.task_id.in_(ids)).group_by(RelayMember.task_id)
    )
    return {int(t): int(n) for t, n in rows}


@dataclass(frozen=True, slots=True)
class MemberTrack:
    """One member contact of a task with the state of the delivery that credits the hub."""

    task_id: int
    member_id: int
    subscriber_id: int
    address_id: int
    outcome: str
    delivery_id: int | None
    delivery_status: str | None
    sent_at: datetime | None
    read_at: datetime | None
    acknowledged_at: datetime | None


async def member_tracks(session: AsyncSession, task_ids: Iterable[int]) -> list[MemberTrack]:
    ids = sorted(set(task_ids))
    members: list[tuple[int, int, int, int, str, int | None]] = []
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(
                RelayMember.task_id, RelayMember.id, RelayMember.subscriber_id, RelayMember.address_id,
                RelayMember.outcome, RelayMember.delivery_id,
            )
            .where(RelayMember.task_id.in_(ids[start : start + 500]))
            .order_by(RelayMember.task_id, RelayMember.id)
        )
        members.extend(tuple(row) for row in rows)  # type: ignore[misc]
    states = await deliveries.states_of(session, [m[5] for m in members if m[5] is not None])
    unknown = (None, None, None, None)
    return [MemberTrack(*m, *(states.get(m[5], unknown) if m[5] is not None else unknown)) for m in members]


async def hub_names_for_deliveries(session: AsyncSession, delivery_ids: Iterable[int]) -> dict[int, list[str]]:
    """Delivery id → names of the hubs credited with it, in the order they forwarded."""
    ids = sorted(set(delivery_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(RelayMember.delivery_id, RelayTask.hub_name)
        .join(RelayTask, RelayTask.id == RelayMember.task_id)
        .where(RelayMember.delivery_id.in_(ids))
        .order_by(RelayMember.delivery_id, RelayTask.forwarded_at, RelayMember.id)
    )
    names: dict[int, list[str]] = {}
    for delivery_id, hub_name in rows:
        listed = names.setdefault(int(delivery_id), [])
        if hub_name not in listed:
            listed.append(hub_name)
    return names


# -- escalations ---------------------------------------------------------------------------


async def insert_escalation(session: AsyncSession, values: dict[str, object]) -> bool:
    module = await _insert_module(session)
    result = await session.execute(
        module.insert(RelayEscalation)  # type: ignore[attr-defined]
        .values(**values)
        .on_conflict_do_nothing(index_elements=["task_id"])
    )
    return bool(result.rowcount)


async def resolve_escalation(session: AsyncSession, task_id: int, at: datetime) -> None:
    await session.execute(
        update(RelayEscalation)
        .where(RelayEscalation.task_id == task_id, RelayEscalation.resolved_at.is_(None))
        .values(resolved_at=at),
        execution_options={"synchronize_session": False},
    )


async def escalations(
    session: AsyncSession, *, agency: str | None = None, unresolved_only: bool = False, limit: int = 200
) -> list[RelayEscalation]:
    stmt = select(RelayEscalation)
    if agency:
        stmt = stmt.where(RelayEscalation.agency == agency)
    if unresolved_only:
        stmt = stmt.where(RelayEscalation.resolved_at.is_(None))
    stmt = stmt.order_by(RelayEscalation.escalated_at.desc(), RelayEscalation.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())
