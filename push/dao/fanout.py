"""What the fan-out writes: delivery rows (insert-or-ignore on the unique key, straight to the
driver) and the `fanout_progress` row of each outbox event, plus the reads that plan them.

The fan-out's one import: `writing` is re-exported so that push/fanout.py needs this module only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import driver_connection
from push.dao.raw import pg_status_rows, sqlite_changes, sqlite_time
from push.dao.writing import writing
from push.kinds import CONTENT_KINDS, DEADLINE_KINDS
from push.models import Delivery, DeliveryStatus, FanoutProgress, FanoutState
from push.schedule import china_day

__all__ = [
    "FANOUT_COLUMNS",
    "EarlierRecipient",
    "GroupDelivery",
    "NewDelivery",
    "addresses_of_contacts",
    "booked_per_day",
    "cancel_pending_for_policy",
    "earlier_recipients",
    "fanout_cursor",
    "insert_deliveries",
    "insert_group_deliveries",
    "progress_for_update",
    "progress_of",
    "writing",
]


FANOUT_COLUMNS = (
    "policy_id",
    "revision",
    "kind",
    "subscriber_id",
    "address_id",
    "channel",
    "address",
    "reasons",
    "role",
    "hub_id",
    "urgent",
    "digest",
    "due_at",
    "created_at",
)


class NewDelivery(NamedTuple):
    """A row the fan-out writes (a tuple: 100,000 of them are built per large policy)."""

    policy_id: int
    revision: int
    kind: str
    subscriber_id: int
    address_id: int
    channel: str
    address: str
    reasons: tuple[str, ...]
    role: str
    hub_id: int | None
    urgent: bool
    digest: bool
    due_at: datetime
    created_at: datetime


async def insert_deliveries(session: AsyncSession, rows: Sequence[NewDelivery]) -> int:
    """Insert-or-ignore on the unique key; returns how many rows were new."""
    if not rows:
        return 0
    dialect = (await session.connection()).dialect.name
    if dialect == "sqlite":
        return await _insert_sqlite(session, rows)
    if dialect == "postgresql":
        return await _insert_postgresql(session, rows)
    raise NotImplementedError(dialect)


async def _insert_sqlite(session: AsyncSession, rows: Sequence[NewDelivery]) -> int:
    driver = await driver_connection(session)  # aiosqlite.Connection, inside the session's BEGIN IMMEDIATE
    # A chunk has few distinct times and reason lists: format each once, not per row.
    when = {t: sqlite_time(t) for t in {r.due_at for r in rows} | {r.created_at for r in rows}}
    reasons = {v: json.dumps(list(v), ensure_ascii=False) for v in {r.reasons for r in rows}}
    params = [
        (
            r.policy_id, r.revision, r.kind, r.subscriber_id, r.address_id, r.channel, r.address,
            reasons[r.reasons], r.role, r.hub_id, r.urgent, r.digest, when[r.due_at],
            when[r.due_at], when[r.created_at],
        )
        for r in rows
    ]
    columns = ", ".join((*FANOUT_COLUMNS[:-1], "next_attempt_at", "created_at"))
    sql = (
        f"INSERT INTO delivery ({columns}, status, attempts, last_error) "
        f"VALUES ({', '.join('?' * (len(FANOUT_COLUMNS) + 1))}, 'pending', 0, '') "
        "ON CONFLICT DO NOTHING"
    )
    before = await sqlite_changes(driver)
    await driver.executemany(sql, params)
    return await sqlite_changes(driver) - before


async def _insert_postgresql(session: AsyncSession, rows: Sequence[NewDelivery]) -> int:
    driver = await driver_connection(session)  # asyncpg.Connection, inside the session's transaction
    # COPY into a per-connection temporary table (emptied at every commit), then one
    # INSERT … SELECT … ON CONFLICT DO NOTHING: binary COPY is the fastest way into
    # PostgreSQL, and the INSERT keeps the unique key's insert-or-ignore.
    await driver.execute(_PG_STAGE_DDL)
    reasons = {v: json.dumps(list(v), ensure_ascii=False) for v in {r.reasons for r in rows}}
    await driver.copy_records_to_table(
        "push_delivery_stage",
        records=[(*r[:7], reasons[r.reasons], *r[8:]) for r in rows],
        columns=FANOUT_COLUMNS,
    )
    status = await driver.execute(_PG_STAGE_INSERT)
    # The stage empties itself at commit (or rollback). A second chunk in the same transaction
    # would find the first one's rows still there: the unique key ignores them again.
    return pg_status_rows(status)


_PG_STAGE_DDL = """
    CREATE TEMPORARY TABLE IF NOT EXISTS push_delivery_stage (
        policy_id int, revision int, kind text, subscriber_id int, address_id int, channel text,
        address text, reasons text, role text, hub_id int, urgent bool, digest bool,
        due_at timestamptz, created_at timestamptz
    ) ON COMMIT DELETE ROWS
"""
_PG_STAGE_INSERT = """
    INSERT INTO delivery (policy_id, revision, kind, subscriber_id, address_id, channel, address,
                          reasons, role, hub_id, urgent, digest, due_at, next_attempt_at,
                          created_at, status, attempts, last_error)
    SELECT policy_id, revision, kind, subscriber_id, address_id, channel, address, reasons::json, role,
           hub_id, urgent, digest, due_at, due_at, created_at, 'pending', 0, ''
    FROM push_delivery_stage
    ON CONFLICT DO NOTHING
"""


class GroupDelivery(NamedTuple):
    """What the rows of one recipient group share (everything but the address)."""

    policy_id: int
    revision: int
    kind: str
    reasons: tuple[str, ...]
    role: str
    hub_id: int | None
    urgent: bool
    digest: bool
    due_at: datetime
    created_at: datetime


async def insert_group_deliveries(
    session: AsyncSession, group: GroupDelivery, subscriber_ids: Sequence[int], addresses_sql: str
) -> int:
    """One row per address `addresses_sql` lists for these contacts, insert-or-ignore, in one
    INSERT … SELECT (no row passes through Python); returns how many rows were new.

    `addresses_sql` is `subscriptions.service.reachable_addresses_sql(dialect)`: it selects
    (subscriber_id, address_id, channel, address) for the id list given as its one parameter."""
    if not subscriber_ids:
        return 0
    conn = await session.connection()
    dialect = conn.dialect.name
    reasons = json.dumps(list(group.reasons), ensure_ascii=False)
    if dialect == "sqlite":
        driver = await driver_connection(session)
        due, created = sqlite_time(group.due_at), sqlite_time(group.created_at)
        values = "?, ?, ?, r.subscriber_id, r.address_id, r.channel, r.address, ?, ?, ?, ?, ?, ?, ?, ?"
        params: tuple[Any, ...] = (
            group.policy_id, group.revision, group.kind, reasons, group.role, group.hub_id,
            int(group.urgent), int(group.digest), due, due, created, json.dumps([int(i) for i in subscriber_ids]),
        )  # fmt: skip
        before = await sqlite_changes(driver)
        await driver.execute(_GROUP_INSERT.format(values=values, addresses=addresses_sql), params)
        return await sqlite_changes(driver) - before
    if dialect == "postgresql":
        driver = await driver_connection(session)
        values = (
            "$2, $3, $4, r.subscriber_id, r.address_id, r.channel, r.address, $5::json, $6, $7, $8, $9, $10, $10, $11"
        )
        status = await driver.execute(
            _GROUP_INSERT.format(values=values, addresses=addresses_sql),
            [int(i) for i in subscriber_ids], group.policy_id, group.revision, group.kind, reasons, group.role,
            group.hub_id, group.urgent, group.digest, group.due_at, group.created_at,
        )  # fmt: skip
        return pg_status_rows(status)
    raise NotImplementedError(dialect)


# `WHERE true`: SQLite needs it to tell the upsert's ON from a join's ON.
_GROUP_INSERT = """
    INSERT INTO delivery (policy_id, revision, kind, subscriber_id, address_id, channel, address, reasons,
                          role, hub_id, urgent, digest, due_at, next_attempt_at, created_at,
                          status, attempts, last_error)
    SELECT {values}, 'pending', 0, ''
    FROM ({addresses}) r WHERE true
    ON CONFLICT DO NOTHING
"""


async def addresses_of_contacts(
    session: AsyncSession, subscriber_ids: Sequence[int], addresses_sql: str
) -> list[tuple[int, int, str, str]]:
    """(subscriber_id, address_id, channel, address) that `addresses_sql` lists for these
    contacts, in key order: for groups whose rows need per-address scheduling (daily caps)."""
    if not subscriber_ids:
        return []
    ids = [int(i) for i in subscriber_ids]
    driver = await driver_connection(session)
    if (await session.connection()).dialect.name == "postgresql":
        rows = [tuple(r) for r in await driver.fetch(addresses_sql, ids)]
    else:
        async with driver.execute(addresses_sql, (json.dumps(ids),)) as cursor:
            rows = [tuple(r) for r in await cursor.fetchall()]
    return sorted(rows)  # type: ignore[arg-type]


async def booked_per_day(
    session: AsyncSession, address_ids: Iterable[int], since: datetime
) -> Counter[tuple[int, date]]:
    """Immediate (non-digest) messages per (address, Beijing day) due from `since` on."""
    ids = sorted(set(address_ids))
    counts: Counter[tuple[int, date]] = Counter()
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(Delivery.address_id, Delivery.due_at).where(
                Delivery.address_id.in_(ids[start : start + 500]),
                Delivery.due_at >= since,
                Delivery.digest.is_(False),
                Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT)),
            )
        )
        for address_id, due_at in rows:
            counts[(address_id, china_day(due_at))] += 1
    return counts


@dataclass(frozen=True)
class EarlierRecipient:
    subscriber_id: int
    address_id: int
    channel: str
    address: str
    reasons: tuple[str, ...]
    role: str
    hub_id: int | None
    received: bool  # sent (or being sent) as opposed to still waiting in the queue


async def earlier_recipients(session: AsyncSession, policy_id: int, before_revision: int) -> list[EarlierRecipient]:
    """Who got (or is queued to get) an earlier revision of the policy, one entry per address."""
    received = case(
        (Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.SENDING)), 1), else_=0
    )
    rows = await session.execute(
        select(
            Delivery.subscriber_id, Delivery.address_id, Delivery.channel, Delivery.address,
            Delivery.reasons, Delivery.role, Delivery.hub_id, received.label("received"),
        )
        .where(
            Delivery.policy_id == policy_id,
            Delivery.revision <= before_revision,
            Delivery.kind.in_(CONTENT_KINDS),
            Delivery.status.in_(
                (DeliveryStatus.SENT, DeliveryStatus.SENDING, DeliveryStatus.PENDING)
            ),
        )
        .order_by(Delivery.id)
    )
    by_key: dict[tuple[int, int], EarlierRecipient] = {}
    for row in rows:
        key = (row.subscriber_id, row.address_id)
        known = by_key.get(key)
        if known is None or (row.received and not known.received):
            by_key[key] = EarlierRecipient(
                row.subscriber_id, row.address_id, row.channel, row.address,
                tuple(row.reasons or ()), row.role, row.hub_id, bool(row.received),
            )
    return list(by_key.values())


async def cancel_pending_for_policy(
    session: AsyncSession, policy_id: int, before_revision: int, reason: str
) -> int:
    """Withdraw queued content rows of older revisions (superseded, repealed, expired)."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.policy_id == policy_id,
            Delivery.revision < before_revision + 1,
            # A deadline reminder of a superseded or withdrawn text must not go out either.
            Delivery.kind.in_((*CONTENT_KINDS, *DEADLINE_KINDS.values())),
            Delivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED, last_error=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def progress_for_update(session: AsyncSession, event_id: int, policy_id: int, now: datetime) -> FanoutProgress:
    """The event's progress row, created if missing, locked until the unit of work ends."""
    dialect = (await session.connection()).dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    await session.execute(
        module.insert(FanoutProgress)
        .values(event_id=event_id, policy_id=policy_id, state=FanoutState.RUNNING, started_at=now,
                last_subscriber_id=0, last_address_id=0, rows_inserted=0)
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    row = await session.execute(
        select(FanoutProgress).where(FanoutProgress.event_id == event_id).with_for_update()
    )
    return row.scalar_one()


async def progress_of(session: AsyncSession, event_id: int) -> FanoutProgress | None:
    return (
        await session.execute(select(FanoutProgress).where(FanoutProgress.event_id == event_id))
    ).scalar_one_or_none()


async def fanout_cursor(session: AsyncSession) -> int:
    """Events up to this id are fanned out completely (events are processed in id order)."""
    value = await session.scalar(
        select(func.max(FanoutProgress.event_id)).where(FanoutProgress.state == FanoutState.DONE)
    )
    return int(value or 0)
