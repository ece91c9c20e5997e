"""The queue's statements: claim due rows with a lease, record outcomes with their attempt rows,
renew and give back leases, and sweep the rows of vanished workers.

Every step is one short statement (or a few) over a whole batch and is safe to repeat: claiming
only takes `pending` rows that are due; recording only touches rows still `sending`; the
sweeper only returns rows whose lease has run out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import driver_connection
from push.dao.raw import pg_status_rows, sqlite_time
from push.dao.rows import DeliveryView
from push.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus

_CLAIM_COLUMNS = (
    Delivery.id, Delivery.policy_id, Delivery.revision, Delivery.kind, Delivery.subscriber_id,
    Delivery.address_id, Delivery.channel, Delivery.address, Delivery.reasons, Delivery.role,
    Delivery.hub_id, Delivery.digest, Delivery.attempts,
)


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int,
    channels: Sequence[str] | None = None, digest: bool | None = None,
) -> list[DeliveryView]:
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


async def _claim_due_sqlite(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int,
    channels: Sequence[str] | None, digest: bool | None,
) -> list[DeliveryView]:
    # The same statement as the Core one in `claim_due`, straight through the driver: the
    # claim runs about ten times a second at full speed, and SQLAlchemy's result processing
    # of 100 rows cost more than SQLite's work.
    where = "status = 'pending' AND next_attempt_at <= ?"
    params: list[Any] = [sqlite_time(lease_until), sqlite_time(now)]
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
    driver = await driver_connection(session)
    async with driver.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    reasons: dict[Any, tuple[str, ...]] = {}
    claimed = []
    for r in rows:
        why = reasons.get(r[8])
        if why is None:
            why = reasons[r[8]] = tuple(json.loads(r[8]) if isinstance(r[8], str) else (r[8] or ()))
        claimed.append(DeliveryView(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], why, r[9], r[10],
                                       bool(r[11]), r[12]))
    claimed.sort(key=lambda c: c.id)
    return claimed


def _claimed(result: Any) -> list[DeliveryView]:
    claimed = [
        DeliveryView(
            r.id, r.policy_id, r.revision, r.kind, r.subscriber_id, r.address_id, r.channel, r.address,
            tuple(r.reasons or ()), r.role, r.hub_id, bool(r.digest), r.attempts,
        )
        for r in result
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


DIGEST_LOCK_CLASS = 7_245_005


async def claim_digest_groups(
    session: AsyncSession, *, now: datetime, lease_until: datetime, max_addresses: int, max_items: int,
    channels: Sequence[str] | None = None,
) -> list[list[DeliveryView]]:
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
    groups: dict[int, list[DeliveryView]] = {}
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


async def lock_in_id_order(session: AsyncSession, ids: Sequence[int]) -> None:
    """On PostgreSQL, take the row locks of a write over many `delivery` rows in ascending id
    order before writing. Recording outcomes, the lease heartbeat, defer and release each update
    many rows, and an UPDATE locks rows in whatever order its plan visits them, so two of them
    over overlapping rows (a worker's heartbeat and its own record, seen with three workers at
    100,000 recipients) could each hold a row the other waits for: "deadlock detected". Taken in
    one order, one simply waits for the other. SQLite has one writer at a time."""
    if not ids or (await session.connection()).dialect.name != "postgresql":
        return
    driver = await driver_connection(session)
    await driver.execute(
        "SELECT 1 FROM delivery WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE", sorted(set(ids))
    )


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
    raise NotImplementedError(dialect)


async def _record_sqlite(session: AsyncSession, outcomes: Sequence[Outcome]) -> int:
    driver = await driver_connection(session)
    when: dict[datetime, str] = {}

    def t(value: datetime | None) -> str | None:
        if value is None:
            return None
        text_ = when.get(value)
        if text_ is None:
            text_ = when[value] = sqlite_time(value)
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
    driver = await driver_connection(session)
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
        changed += pg_status_rows(status)
    if other:
        status = await driver.execute(
            """UPDATE delivery AS d SET status = t.st, last_error = t.err, lease_until = NULL,
                      next_attempt_at = COALESCE(t.nx, d.next_attempt_at)
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS t(id, st, err, nx)
               WHERE d.id = t.id AND d.status = 'sending'""",
            [o.delivery_id for o in other], [o.status for o in other], [o.error[:2000] for o in other],
            [o.next_attempt_at for o in other],
        )
        changed += pg_status_rows(status)
    await driver.execute(
        """INSERT INTO delivery_attempt (delivery_id, at, outcome, provider_message_id, error)
           SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])""",
        [o.delivery_id for o in outcomes], [o.at for o in outcomes], [o.attempt for o in outcomes],
        [o.provider_message_id for o in outcomes], [o.error[:2000] for o in outcomes],
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


async def release(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    await lock_in_id_order(session, delivery_ids)
    for start in range(0, len(delivery_ids), 500):
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(delivery_ids[start : start + 500])), Delivery.status == DeliveryStatus.SENDING)
            .values(status=DeliveryStatus.PENDING, lease_until=None, attempts=Delivery.attempts - 1),
            execution_options={"synchronize_session": False},
        )
