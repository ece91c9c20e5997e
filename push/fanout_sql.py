"""The fan-out's group statements: one slice's groups into `delivery`, as few statements as the
backend allows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from push import store


async def insert_groups(
    session: AsyncSession, groups: Sequence[tuple[store.GroupDelivery, tuple[int, ...]]], addresses_sql: str
) -> int:
    """Rows for every (shared fields, contact ids) of one slice; returns how many were new."""
    inserted = 0
    for shared, subscriber_ids in groups:
        inserted += await store.insert_group_deliveries(session, shared, subscriber_ids, addresses_sql)
    return inserted


async def commit_fast(session: AsyncSession) -> None:
    """Placeholder for the commit of a slice (the session commits on leaving)."""
    return None


async def explain_group_insert(
    session: AsyncSession, policy_id: int, revision: int, subscriber_ids: list[int]
) -> list[str]:
    """EXPLAIN ANALYZE of one group's INSERT … SELECT over these contacts (PostgreSQL; the
    caller rolls back). For the fan-out bench."""
    from datetime import UTC, datetime

    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    await conn.exec_driver_sql("SELECT 1")
    from subscriptions import service as subscriptions

    addresses_sql = subscriptions.reachable_addresses_sql("postgresql")
    values = (
        "$2, $3, 'published', r.subscriber_id, r.address_id, r.channel, r.address, '[]'::json, 'subscriber', "
        "NULL, false, false, $4, $4, $4"
    )
    sql = store._GROUP_INSERT.format(values=values, addresses=addresses_sql)
    now = datetime.now(UTC)
    rows = await driver.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", subscriber_ids, policy_id, revision, now)
    return [r[0] for r in rows]
