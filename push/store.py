"""Every query of the delivery pipeline (the `push` data layer). Nothing else builds SQL on
`delivery` and its siblings.

Two hot paths bypass the ORM on purpose (see docs/adr/0001-delivery-queue.md and the figures
in bench/): the fan-out insert goes straight to the driver (sqlite3 `executemany`, asyncpg
COPY into a temporary table), and so do the claim (SQLite) and the record of outcomes
(sqlite3 `executemany`, asyncpg `unnest`), one statement per batch.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from push.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    FanoutProgress,
    FanoutState,
    WebInboxMessage,
    WriteProbe,
)
from push.schedule import china_day


class _WriteTurns:
    """This process's SQLite writers, taking turns: one asyncio lock, and a count of the
    queue's own writers (claim, record) waiting, whom background writers (fan-out chunks) let
    go first so that a long fan-out does not hold the sender up."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.urgent_waiting = 0
        self.no_urgent = asyncio.Event()
        self.no_urgent.set()


_sqlite_write_turns: weakref.WeakKeyDictionary[Database, _WriteTurns] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def writing(db: Database, *, background: bool = False) -> AsyncIterator[AsyncSession]:
    """`db.session()`, with this process's pipeline writers taking turns on SQLite.

    SQLite has one writer; when several connections of one process collide, the losers wait in
    SQLite's busy handler, which sleeps in steps of up to 100 ms. Queuing them on an asyncio
    lock instead hands the write lock over at once (claim, record and fan-out chunks are all
    short). A `background` writer (a fan-out chunk) also waits while a foreground one (claim,
    record) is waiting, so the queue is never stuck behind a run of 5,000-row chunks.
    PostgreSQL needs no such thing.
    """
    if db.dialect != "sqlite":
        async with db.session() as session:
            yield session
        return
    turns = _sqlite_write_turns.get(db)
    if turns is None:
        turns = _sqlite_write_turns[db] = _WriteTurns()
    if background:
        while True:
            while turns.urgent_waiting:
                await turns.no_urgent.wait()
            await turns.lock.acquire()
            if not turns.urgent_waiting:
                break
            turns.lock.release()  # a claim or record queued up meanwhile: it goes first
    else:
        turns.urgent_waiting += 1
        turns.no_urgent.clear()
        try:
            await turns.lock.acquire()
        finally:
            turns.urgent_waiting -= 1
            if not turns.urgent_waiting:
                turns.no_urgent.set()
    try:
        async with db.session() as session:
            yield session
    finally:
        turns.lock.release()


CONTENT_KINDS = ("published", "amended", "relay")
"""Kinds that carry the policy itself (as opposed to notices that it no longer applies); a
member reached through a hub's relay holds the policy like any other recipient."""

DEADLINE_KINDS = {7: "deadline_7d", 1: "deadline_1d"}
"""Application-deadline (申报截止) reminders, by days before the deadline. Each stage is its own
delivery kind, so that both stages fit the unique key (policy, revision, kind, subscriber,
address) next to the relay reminder (kind "reminder", to hubs); all render as
MessageKind.REMINDER (see `message_kind`)."""


def message_kind(delivery_kind: str) -> str:
    """The MessageKind (template) a delivery of this kind is rendered with."""
    return "reminder" if delivery_kind in DEADLINE_KINDS.values() else delivery_kind

# Columns written by the fan-out, in the order of `NewDelivery` tuples.
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


# ------------------------------------------------------------------------------------------
# fan-out
# ------------------------------------------------------------------------------------------


def _sqlite_time(value: datetime) -> str:
    # The exact text SQLAlchemy's SQLite DateTime writes for UTCDateTime, so that range
    # comparisons (`next_attempt_at <= now`) in Core queries keep working on these rows.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def insert_deliveries(session: AsyncSession, rows: Sequence[NewDelivery]) -> int:
    """Insert-or-ignore on the unique key; returns how many rows were new."""
    if not rows:
        return 0
    conn = await session.connection()
    if conn.dialect.name == "sqlite":
        return await _insert_sqlite(session, rows)
    if conn.dialect.name == "postgresql":
        return await _insert_postgresql(session, rows)
    return await _insert_core(session, rows)


async def _insert_sqlite(session: AsyncSession, rows: Sequence[NewDelivery]) -> int:
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # aiosqlite.Connection, inside the session's BEGIN IMMEDIATE
    assert driver is not None
    # A chunk has few distinct times and reason lists: format each once, not per row.
    when = {t: _sqlite_time(t) for t in {r.due_at for r in rows} | {r.created_at for r in rows}}
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
    before = await _sqlite_changes(driver)
    await driver.executemany(sql, params)
    return await _sqlite_changes(driver) - before


async def _sqlite_changes(driver: object) -> int:
    async with driver.execute("SELECT total_changes()") as cursor:  # type: ignore[attr-defined]
        row = await cursor.fetchone()
    return int(row[0])


async def _insert_postgresql(session: AsyncSession, rows: Sequence[NewDelivery]) -> int:
    driver = await _driver(session)  # asyncpg.Connection, inside the session's transaction
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
    return int(status.rsplit(" ", 1)[-1])


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


async def _insert_core(session: AsyncSession, rows: Sequence[NewDelivery]) -> int:
    values = [
        {name: getattr(r, name) for name in FANOUT_COLUMNS} | {"next_attempt_at": r.due_at}
        for r in rows
    ]
    for value in values:
        value["reasons"] = list(value["reasons"])
    dialect = (await session.connection()).dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    result = await session.execute(module.insert(Delivery).on_conflict_do_nothing(), values)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        due, created = _sqlite_time(group.due_at), _sqlite_time(group.created_at)
        values = "?, ?, ?, r.subscriber_id, r.address_id, r.channel, r.address, ?, ?, ?, ?, ?, ?, ?, ?"
        params: tuple[Any, ...] = (
            group.policy_id, group.revision, group.kind, reasons, group.role, group.hub_id,
            int(group.urgent), int(group.digest), due, due, created, json.dumps([int(i) for i in subscriber_ids]),
        )  # fmt: skip
        before = await _sqlite_changes(driver)
        await driver.execute(_GROUP_INSERT.format(values=values, addresses=addresses_sql), params)
        return await _sqlite_changes(driver) - before
    if dialect == "postgresql":
        driver = await _driver(session)
        values = (
            "$2, $3, $4, r.subscriber_id, r.address_id, r.channel, r.address, $5::json, $6, $7, $8, $9, $10, $10, $11"
        )
        status = await driver.execute(
            _GROUP_INSERT.format(values=values, addresses=addresses_sql),
            [int(i) for i in subscriber_ids], group.policy_id, group.revision, group.kind, reasons, group.role,
            group.hub_id, group.urgent, group.digest, group.due_at, group.created_at,
        )  # fmt: skip
        return int(status.rsplit(" ", 1)[-1])
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
    conn = await session.connection()
    ids = [int(i) for i in subscriber_ids]
    if conn.dialect.name == "postgresql":
        driver = await _driver(session)
        rows = [tuple(r) for r in await driver.fetch(addresses_sql, ids)]
    else:
        raw = await conn.get_raw_connection()
        async with raw.driver_connection.execute(addresses_sql, (json.dumps(ids),)) as cursor:  # type: ignore[union-attr]
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


# ------------------------------------------------------------------------------------------
# the queue
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
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
    digest: bool
    attempts: int  # including the one just claimed


_CLAIM_COLUMNS = (
    Delivery.id, Delivery.policy_id, Delivery.revision, Delivery.kind, Delivery.subscriber_id,
    Delivery.address_id, Delivery.channel, Delivery.address, Delivery.reasons, Delivery.role,
    Delivery.hub_id, Delivery.digest, Delivery.attempts,
)


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int,
    channels: Sequence[str] | None = None, digest: bool | None = None,
) -> list[ClaimedDelivery]:
    """Move up to `limit` due pending rows to `sending` with a lease, in one statement.

    `digest=False` leaves digest rows alone: the worker claims those per address with
    `claim_digest_groups`, so that one subscriber's digest leaves as one message.

    PostgreSQL: the inner SELECT takes row locks with SKIP LOCKED, so concurrent workers get
    disjoint batches. SQLite drops FOR UPDATE; the statement runs under BEGIN IMMEDIATE and
    SQLite has one writer, so the claim is atomic there too.
    """
    if (await session.connection()).dialect.name == "sqlite":
        return await _claim_due_sqlite(session, now, lease_until, limit, channels, digest)
    due = select(Delivery.id).where(
        Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now
    )
    if channels is not None:
        due = due.where(Delivery.channel.in_(channels))
    if digest is not None:
        due = due.where(Delivery.digest.is_(digest))
    due = due.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit).with_for_update(skip_locked=True)
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(status=DeliveryStatus.SENDING, lease_until=lease_until, attempts=Delivery.attempts + 1)
        .returning(*_CLAIM_COLUMNS),
        execution_options={"synchronize_session": False},
    )
    return _claimed(result)


_CLAIM_RETURNING = (
    "id, policy_id, revision, kind, subscriber_id, address_id, channel, address, reasons, role, hub_id, "
    "digest, attempts"
)


async def _driver(session: AsyncSession) -> Any:
    """The session's DB-API driver connection, inside the session's transaction."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        # asyncpg's adapter opens its transaction lazily, at the first statement.
        await conn.exec_driver_sql("SELECT 1")
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    return driver


async def _claim_due_sqlite(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int,
    channels: Sequence[str] | None, digest: bool | None,
) -> list[ClaimedDelivery]:
    # The same statement as the Core one in `claim_due`, straight through the driver: the
    # claim runs about ten times a second at full speed, and SQLAlchemy's result processing
    # of 100 rows cost more than SQLite's work.
    where = "status = 'pending' AND next_attempt_at <= ?"
    params: list[Any] = [_sqlite_time(lease_until), _sqlite_time(now)]
    if channels is not None:
        if not channels:
            return []
        where += f" AND channel IN ({', '.join('?' * len(channels))})"
        params.extend(channels)
    if digest is not None:
        where += " AND digest = ?"
        params.append(1 if digest else 0)
    params.append(limit)
    sql = (
        "UPDATE delivery SET status = 'sending', lease_until = ?, attempts = attempts + 1 "
        f"WHERE id IN (SELECT id FROM delivery WHERE {where} ORDER BY next_attempt_at, id LIMIT ?) "
        f"RETURNING {_CLAIM_RETURNING}"
    )
    driver = await _driver(session)
    async with driver.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    reasons: dict[Any, tuple[str, ...]] = {}
    claimed = []
    for r in rows:
        why = reasons.get(r[8])
        if why is None:
            why = reasons[r[8]] = tuple(json.loads(r[8]) if isinstance(r[8], str) else (r[8] or ()))
        claimed.append(ClaimedDelivery(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], why, r[9], r[10],
                                       bool(r[11]), r[12]))
    claimed.sort(key=lambda c: c.id)
    return claimed


def _claimed(result: Any) -> list[ClaimedDelivery]:
    claimed = [
        ClaimedDelivery(
            r.id, r.policy_id, r.revision, r.kind, r.subscriber_id, r.address_id, r.channel, r.address,
            tuple(r.reasons or ()), r.role, r.hub_id, bool(r.digest), r.attempts,
        )
        for r in result
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


# Two-key advisory locks (class, address id) taken while claiming an address's digest rows.
DIGEST_LOCK_CLASS = 7_245_005


async def claim_digest_groups(
    session: AsyncSession, *, now: datetime, lease_until: datetime, max_addresses: int, max_items: int,
    channels: Sequence[str] | None = None,
) -> list[list[ClaimedDelivery]]:
    """Claim the due digest rows of up to `max_addresses` addresses (at most `max_items` each,
    oldest first), one list per address: each list becomes one digest message.

    Two claimers must not split one address's rows between them. SQLite has one writer, so the
    statements below are atomic there. On PostgreSQL each address is claimed under a
    transaction-scoped advisory lock on (DIGEST_LOCK_CLASS, address id): a claimer that cannot
    take it skips the address, and once the holder commits the rows are no longer pending.
    """
    due = and_(
        Delivery.status == DeliveryStatus.PENDING, Delivery.digest.is_(True), Delivery.next_attempt_at <= now
    )
    if channels is not None:
        due = and_(due, Delivery.channel.in_(channels))
    candidates = list((await session.execute(
        select(Delivery.address_id).where(due).group_by(Delivery.address_id)
        .order_by(func.min(Delivery.next_attempt_at), Delivery.address_id).limit(max_addresses)
    )).scalars())
    if not candidates:
        return []
    if (await session.connection()).dialect.name == "postgresql":
        locked = await session.execute(
            text("SELECT a FROM unnest(CAST(:ids AS int[])) AS a WHERE pg_try_advisory_xact_lock(:cls, a)"),
            {"ids": candidates, "cls": DIGEST_LOCK_CLASS},
        )
        candidates = [int(a) for a in locked.scalars()]
        if not candidates:
            return []
    position = func.row_number().over(partition_by=Delivery.address_id, order_by=Delivery.id).label("n")
    ranked = select(Delivery.id, position).where(due, Delivery.address_id.in_(candidates)).subquery()
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(select(ranked.c.id).where(ranked.c.n <= max_items)),
               Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING, lease_until=lease_until, attempts=Delivery.attempts + 1)
        .returning(*_CLAIM_COLUMNS),
        execution_options={"synchronize_session": False},
    )
    groups: dict[int, list[ClaimedDelivery]] = {}
    for row in _claimed(result):
        groups.setdefault(row.address_id, []).append(row)
    return [groups[a] for a in sorted(groups)]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one claimed delivery; `status` is the row's new DeliveryStatus."""

    delivery_id: int
    status: str
    attempt: str  # AttemptOutcome
    at: datetime
    error: str = ""
    provider_message_id: str | None = None
    next_attempt_at: datetime | None = None


async def record_outcomes(session: AsyncSession, outcomes: Sequence[Outcome]) -> int:
    """Write a batch of outcomes and their attempt rows; returns rows that were still ours.

    Only rows still `sending` change, except that a sent outcome also lands on a row the sweeper
    already put back to `pending` (an outcome recorded late, after the database was unavailable
    for longer than the lease): it was sent, so it must not go out again. A row another worker
    claimed meanwhile keeps that worker's state, which is the at-least-once trade-off.
    """
    if not outcomes:
        return 0
    # Straight through the driver: one executemany per statement on SQLite, one unnest
    # statement per kind on PostgreSQL. SQLAlchemy's per-row parameter processing of the Core
    # executemany cost ~10x SQLite's own work here.
    dialect = (await session.connection()).dialect.name
    if dialect == "sqlite":
        return await _record_sqlite(session, outcomes)
    if dialect == "postgresql":
        return await _record_postgresql(session, outcomes)
    return await _record_core(session, outcomes)


async def _record_sqlite(session: AsyncSession, outcomes: Sequence[Outcome]) -> int:
    driver = await _driver(session)
    when: dict[datetime, str] = {}

    def t(value: datetime | None) -> str | None:
        if value is None:
            return None
        text_ = when.get(value)
        if text_ is None:
            text_ = when[value] = _sqlite_time(value)
        return text_

    sent = [(t(o.at), o.provider_message_id, o.delivery_id) for o in outcomes if o.status == DeliveryStatus.SENT]
    other = [
        (o.status, o.error[:2000], t(o.next_attempt_at), o.delivery_id)
        for o in outcomes if o.status != DeliveryStatus.SENT
    ]
    changed = 0
    if sent:
        cursor = await driver.executemany(
            "UPDATE delivery SET status = 'sent', sent_at = ?, provider_message_id = ?, lease_until = NULL, "
            "last_error = '' WHERE id = ? AND status IN ('sending', 'pending')",
            sent,
        )
        changed += max(0, cursor.rowcount)
        await cursor.close()
    if other:
        cursor = await driver.executemany(
            "UPDATE delivery SET status = ?, last_error = ?, lease_until = NULL, "
            "next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ? AND status = 'sending'",
            other,
        )
        changed += max(0, cursor.rowcount)
        await cursor.close()
    cursor = await driver.executemany(
        "INSERT INTO delivery_attempt (delivery_id, at, outcome, provider_message_id, error) VALUES (?, ?, ?, ?, ?)",
        [(o.delivery_id, t(o.at), o.attempt, o.provider_message_id, o.error[:2000]) for o in outcomes],
    )
    await cursor.close()
    return changed


async def _record_postgresql(session: AsyncSession, outcomes: Sequence[Outcome]) -> int:
    driver = await _driver(session)
    sent = [o for o in outcomes if o.status == DeliveryStatus.SENT]
    other = [o for o in outcomes if o.status != DeliveryStatus.SENT]
    changed = 0
    if sent:
        status = await driver.execute(
            """UPDATE delivery AS d SET status = 'sent', sent_at = t.at, provider_message_id = t.pmid,
                      lease_until = NULL, last_error = ''
               FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS t(id, at, pmid)
               WHERE d.id = t.id AND d.status IN ('sending', 'pending')""",
            [o.delivery_id for o in sent], [o.at for o in sent], [o.provider_message_id for o in sent],
        )
        changed += int(status.rsplit(" ", 1)[-1])
    if other:
        status = await driver.execute(
            """UPDATE delivery AS d SET status = t.st, last_error = t.err, lease_until = NULL,
                      next_attempt_at = COALESCE(t.nx, d.next_attempt_at)
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS t(id, st, err, nx)
               WHERE d.id = t.id AND d.status = 'sending'""",
            [o.delivery_id for o in other], [o.status for o in other], [o.error[:2000] for o in other],
            [o.next_attempt_at for o in other],
        )
        changed += int(status.rsplit(" ", 1)[-1])
    await driver.execute(
        """INSERT INTO delivery_attempt (delivery_id, at, outcome, provider_message_id, error)
           SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])""",
        [o.delivery_id for o in outcomes], [o.at for o in outcomes], [o.attempt for o in outcomes],
        [o.provider_message_id for o in outcomes], [o.error[:2000] for o in outcomes],
    )
    return changed


async def _record_core(session: AsyncSession, outcomes: Sequence[Outcome]) -> int:
    sent = [o for o in outcomes if o.status == DeliveryStatus.SENT]
    other = [o for o in outcomes if o.status != DeliveryStatus.SENT]
    table = Delivery.__table__
    ours = and_(table.c.id == bindparam("b_id"), table.c.status == DeliveryStatus.SENDING)
    changed = 0
    if sent:
        result = await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.status.in_(DeliveryStatus.QUEUED))
            .values(
                status=DeliveryStatus.SENT, sent_at=bindparam("b_at"),
                provider_message_id=bindparam("b_pmid"), lease_until=None, last_error="",
            ),
            [{"b_id": o.delivery_id, "b_at": o.at, "b_pmid": o.provider_message_id} for o in sent],
        )
        changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    if other:
        result = await session.execute(
            update(table)
            .where(ours)
            .values(
                status=bindparam("b_status"), last_error=bindparam("b_error"), lease_until=None,
                next_attempt_at=func.coalesce(
                    bindparam("b_next", type_=table.c.next_attempt_at.type), table.c.next_attempt_at
                ),
            ),
            [
                {"b_id": o.delivery_id, "b_status": o.status, "b_error": o.error[:2000],
                 "b_next": o.next_attempt_at}
                for o in other
            ],
        )
        changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(
        insert(DeliveryAttempt),
        [
            {
                "delivery_id": o.delivery_id,
                "at": o.at,
                "outcome": o.attempt,
                "provider_message_id": o.provider_message_id,
                "error": o.error[:2000],
            }
            for o in outcomes
        ],
    )
    return changed


async def renew_leases(
    session: AsyncSession, ids: Sequence[int], *, held_until: datetime, lease_until: datetime
) -> list[int]:
    """Extend the lease of rows still `sending` under the lease this worker gave them
    (`held_until`); returns the ids renewed. A row missing from the answer is no longer ours:
    it was recorded meanwhile, or its lease ran out and the sweeper handed it out again."""
    renewed: list[int] = []
    for start in range(0, len(ids), 500):
        result = await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[start : start + 500]), Delivery.status == DeliveryStatus.SENDING,
                   Delivery.lease_until == held_until)
            .values(lease_until=lease_until)
            .returning(Delivery.id),
            execution_options={"synchronize_session": False},
        )
        renewed.extend(result.scalars())
    return renewed


async def probe_write(session: AsyncSession, now: datetime) -> None:
    """Rewrite the one probe row (created on first use): fails where an outcome could not be
    recorded either (read-only database, a standby, no space for the journal)."""
    dialect = (await session.connection()).dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    statement = upsert(WriteProbe).values(id=1, checked_at=now)
    await session.execute(statement.on_conflict_do_update(index_elements=["id"], set_={"checked_at": now}))


async def defer(session: AsyncSession, outcomes: Sequence[Outcome]) -> int:
    """Put rows a shared limit held back in the queue again, giving back the attempt the claim
    counted (they were never sent). No attempt row: waiting for a token is not an attempt."""
    if not outcomes:
        return 0
    table = Delivery.__table__
    result = await session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.status == DeliveryStatus.SENDING)
        .values(
            status=DeliveryStatus.PENDING, lease_until=None, attempts=table.c.attempts - 1,
            next_attempt_at=bindparam("b_next", type_=table.c.next_attempt_at.type),
            last_error=bindparam("b_error"),
        ),
        [{"b_id": o.delivery_id, "b_next": o.next_attempt_at or o.at, "b_error": o.error[:2000]} for o in outcomes],
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def reclaim_expired_leases(session: AsyncSession, *, now: datetime, max_attempts: int) -> int:
    """The sweeper: rows whose worker vanished go back to the queue (or die at the last attempt)."""
    expired = and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
    ids = list((await session.execute(select(Delivery.id).where(expired).with_for_update(skip_locked=True))).scalars())
    if not ids:
        return 0
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(batch), expired)
            .values(
                status=case(
                    (Delivery.attempts >= max_attempts, DeliveryStatus.DEAD), else_=DeliveryStatus.PENDING
                ),
                lease_until=None,
                next_attempt_at=now,
                last_error="租约到期：发送进程中断，已重新排队",
            ),
            execution_options={"synchronize_session": False},
        )
        await session.execute(
            insert(DeliveryAttempt),
            [{"delivery_id": i, "at": now, "outcome": AttemptOutcome.LEASE_EXPIRED, "error": "lease expired"}
             for i in batch],
        )
    return len(ids)


async def prune_attempts(session: AsyncSession, *, before: datetime, batch: int = 5_000) -> int:
    """Delete up to `batch` attempt rows older than `before` (the retention horizon). The
    delivery rows stay: they are the ledger; attempts are the debugging trail."""
    ids = list((await session.execute(
        select(DeliveryAttempt.id).where(DeliveryAttempt.at < before).order_by(DeliveryAttempt.id).limit(batch)
    )).scalars())
    if ids:
        await session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.id.in_(ids)))
    return len(ids)


async def cancel_pending_for_address(session: AsyncSession, address_id: int, reason: str) -> int:
    result = await session.execute(
        update(Delivery)
        .where(Delivery.address_id == address_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, last_error=reason),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def move_address(session: AsyncSession, address_id: int, new_address: str, now: datetime) -> None:
    """A chat moved (Telegram group → supergroup): queued rows follow it at once."""
    await session.execute(
        update(Delivery)
        .where(Delivery.address_id == address_id, Delivery.status.in_(DeliveryStatus.QUEUED))
        .values(address=new_address),
        execution_options={"synchronize_session": False},
    )


async def pending_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(Delivery.status == DeliveryStatus.PENDING)) or 0)


async def next_due_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(Delivery.status == DeliveryStatus.PENDING)
    )


async def get_delivery(session: AsyncSession, delivery_id: int) -> Delivery | None:
    return await session.get(Delivery, delivery_id)


async def attempts_of(session: AsyncSession, delivery_id: int) -> list[DeliveryAttempt]:
    rows = await session.execute(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
    )
    return list(rows.scalars())


# ------------------------------------------------------------------------------------------
# receipts
# ------------------------------------------------------------------------------------------


async def mark_read(session: AsyncSession, delivery_id: int, at: datetime) -> bool:
    """Set read_at once; True the first time."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.read_at.is_(None))
        .values(read_at=at),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_acknowledged(session: AsyncSession, delivery_id: int, at: datetime) -> bool:
    """Set acknowledged_at once; True the first time. A digest is one message carrying several
    rows (same address and provider message id): 确认收到 on it acknowledges all of them."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.acknowledged_at.is_(None))
        .values(acknowledged_at=at),
        execution_options={"synchronize_session": False},
    )
    first = bool(result.rowcount)  # type: ignore[attr-defined]
    row = (await session.execute(
        select(Delivery.digest, Delivery.address_id, Delivery.provider_message_id).where(Delivery.id == delivery_id)
    )).first()
    if first and row is not None and row.digest and row.provider_message_id:
        await session.execute(
            update(Delivery)
            .where(Delivery.address_id == row.address_id, Delivery.digest.is_(True),
                   Delivery.provider_message_id == row.provider_message_id, Delivery.acknowledged_at.is_(None))
            .values(acknowledged_at=at),
            execution_options={"synchronize_session": False},
        )
    return first


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


# ------------------------------------------------------------------------------------------
# web inbox
# ------------------------------------------------------------------------------------------


async def add_inbox_message(
    session: AsyncSession, *, inbox_key: str, title: str, text: str, url: str, at: datetime
) -> int:
    result = await session.execute(
        insert(WebInboxMessage)
        .values(inbox_key=inbox_key, title=title, text=text, url=url, created_at=at, read=False)
        .returning(WebInboxMessage.id)
    )
    return int(result.scalar_one())


async def inbox_messages(session: AsyncSession, inbox_key: str, limit: int = 50) -> list[WebInboxMessage]:
    rows = await session.execute(
        select(WebInboxMessage)
        .where(WebInboxMessage.inbox_key == inbox_key)
        .order_by(WebInboxMessage.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def mark_inbox_read(session: AsyncSession, inbox_key: str, message_ids: Sequence[int]) -> int:
    result = await session.execute(
        update(WebInboxMessage)
        .where(WebInboxMessage.inbox_key == inbox_key, WebInboxMessage.id.in_(list(message_ids)))
        .values(read=True),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    for start in range(0, len(delivery_ids), 500):
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(delivery_ids[start : start + 500])), Delivery.status == DeliveryStatus.SENDING)
            .values(status=DeliveryStatus.PENDING, lease_until=None, attempts=Delivery.attempts - 1),
            execution_options={"synchronize_session": False},
        )
