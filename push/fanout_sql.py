"""The fan-out's group statements: one slice's groups into `delivery`, in as few statements as
the backend allows.

SQLite runs in-process, so a statement per group costs little; there each group keeps its own
INSERT … SELECT (`store.insert_group_deliveries`). On PostgreSQL each statement is a round
trip, a parse and a plan (2–5 ms on this machine, ~12 groups per slice of 5,000 contacts), so
all of a slice's groups go in ONE statement: the groups' shared fields as arrays, each contact
tagged with its group's position, joined to the same address statement
(`subscriptions.service.reachable_addresses_sql`). The slice's transaction commits without
waiting for its WAL flush (`synchronous_commit = off`, that transaction only): a crash may
lose the last slices' rows *and* their progress together, and the resumed fan-out writes
them again; a worker that claimed such a row commits synchronously afterwards, which flushes
the WAL up to and including the fan-out's commit, so no sent message can lose its row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import driver_connection
from push.dao import fanout as store

# $1: every contact id of the slice (the address statement's one parameter); $2: each one's
# group (1-based); $3…: one array element per group.
_SLICE_INSERT = """
    INSERT INTO delivery (policy_id, revision, kind, subscriber_id, address_id, channel, address, reasons,
                          role, hub_id, urgent, digest, due_at, next_attempt_at, created_at,
                          status, attempts, last_error)
    SELECT g.policy_id, g.revision, g.kind, r.subscriber_id, r.address_id, r.channel, r.address,
           g.reasons::json, g.role, g.hub_id, g.urgent, g.digest, g.due_at, g.due_at, g.created_at,
           'pending', 0, ''
    FROM ({addresses}) r
    JOIN unnest($1::int[], $2::int[]) AS m(subscriber_id, grp) ON m.subscriber_id = r.subscriber_id
    JOIN unnest($3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bool[], $10::bool[],
                $11::timestamptz[], $12::timestamptz[])
         WITH ORDINALITY AS g(policy_id, revision, kind, reasons, role, hub_id, urgent, digest, due_at,
                              created_at, n)
      ON g.n = m.grp
    ORDER BY r.subscriber_id, r.address_id
    {on_conflict}
"""
_IGNORE = "ON CONFLICT DO NOTHING"
_UNIQUE_VIOLATION = "23505"

Groups = Sequence[tuple[store.GroupDelivery, tuple[int, ...]]]


async def insert_groups(session: AsyncSession, groups: Groups, addresses_sql: str) -> int:
    """Rows for every (shared fields, contact ids) of one slice; returns how many were new."""
    groups = [(shared, ids) for shared, ids in groups if ids]
    if not groups:
        return 0
    conn = await session.connection()
    if conn.dialect.name != "postgresql":
        inserted = 0
        for shared, subscriber_ids in groups:
            inserted += await store.insert_group_deliveries(session, shared, subscriber_ids, addresses_sql)
        return inserted
    driver = await driver_connection(session)
    ids: list[int] = []
    tags: list[int] = []
    for n, (_shared, subscriber_ids) in enumerate(groups, start=1):
        ids += [int(i) for i in subscriber_ids]
        tags += [n] * len(subscriber_ids)
    shared = [g for g, _ids in groups]
    params = (
        ids, tags,
        [g.policy_id for g in shared], [g.revision for g in shared], [g.kind for g in shared],
        [json.dumps(list(g.reasons), ensure_ascii=False) for g in shared], [g.role for g in shared],
        [g.hub_id for g in shared], [g.urgent for g in shared], [g.digest for g in shared],
        [g.due_at for g in shared], [g.created_at for g in shared],
    )  # fmt: skip
    # A slice's rows are normally all new (its progress commits with them), so they go in as a
    # plain INSERT: ON CONFLICT DO NOTHING inserts each row speculatively (an extra look-up in
    # the unique index and an extra WAL record per row), about half the statement's time. If
    # some row exists after all (a concurrent or older runner), the savepoint undoes the plain
    # insert and the slice goes again with insert-or-ignore.
    await driver.execute("SAVEPOINT fanout_slice")
    try:
        status = await driver.execute(_SLICE_INSERT.format(addresses=addresses_sql, on_conflict=""), *params)
    except Exception as error:  # asyncpg's UniqueViolationError, told by its SQLSTATE (no import on SQLite)
        if getattr(error, "sqlstate", None) != _UNIQUE_VIOLATION:
            raise
        await driver.execute("ROLLBACK TO SAVEPOINT fanout_slice")
        status = await driver.execute(_SLICE_INSERT.format(addresses=addresses_sql, on_conflict=_IGNORE), *params)
    await driver.execute("RELEASE SAVEPOINT fanout_slice")
    return int(status.rsplit(" ", 1)[-1])


async def commit_fast(session: AsyncSession) -> None:
    """Let this transaction's commit skip the wait for its WAL flush (PostgreSQL; see above)."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("SET LOCAL synchronous_commit = off")


async def explain_group_insert(
    session: AsyncSession, policy_id: int, revision: int, subscriber_ids: list[int], addresses_sql: str
) -> list[str]:
    """EXPLAIN ANALYZE of the slice statement over these contacts as one group (PostgreSQL; the
    caller rolls back). For `bench.fanout_bench --explain`."""
    driver = await driver_connection(session)
    now = datetime.now(UTC)
    rows = await driver.fetch(
        "EXPLAIN (ANALYZE, BUFFERS) " + _SLICE_INSERT.format(addresses=addresses_sql, on_conflict=""),
        subscriber_ids, [1] * len(subscriber_ids), [policy_id], [revision], ["published"], ["[]"], ["subscriber"],
        [None], [False], [False], [now], [now],
    )  # fmt: skip
    return [r[0] for r in rows]
