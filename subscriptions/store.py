"""The upkeep of the match index, and the recipients of a policy read in bulk.

The match index (`match_key`) is derived from the subscriber, enterprise and criteria
tables by `matching.index_rows`. Writers wrap each change in `keeping_index(...)`, which
computes the affected contacts' rows before and after the change and applies the
difference in the same transaction, so every process sees an index consistent with the
tables it was derived from. The same transaction appends the changed contacts to the
match-change log, which each process's in-memory index (`match_index`) follows.

The recipients of a policy are read with plain SQL through the driver (`reachable_rows`):
at ~77k recipients the ORM's per-row work would cost more than the rest of `audience()`.

The other queries live by purpose: `contact_store` (addresses, criteria, enterprises),
`hub_store` (hubs) and `audience_store` (what the audience reads through the ORM).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import driver_connection
from subscriptions import matching
from subscriptions.match_index import changes
from subscriptions.matching import ContactFacts, IndexRow
from subscriptions.models import (
    Enterprise,
    Hub,
    MatchKey,
    Subscriber,
    SubscriptionKeyword,
    SubscriptionTopic,
    SubscriptionTownship,
)

CHUNK = 500  # ids per IN list: well under SQLite's and asyncpg's parameter limits


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The importer looks hubs up by name through this module.
async def hub_names(session: AsyncSession) -> dict[int, str]:
    return dict((await session.execute(select(Hub.id, Hub.name))).all())  # type: ignore[arg-type]

# --- contacts' facts and the index ------------------------------------------------------


async def load_facts(session: AsyncSession, subscriber_ids: Iterable[int]) -> dict[int, ContactFacts]:
    ids = sorted(set(subscriber_ids))
    facts: dict[int, ContactFacts] = {}
    for part in chunks(ids):
        # Columns, not entities: building ORM objects was most of the cost of a large import.
        rows = [
            (_SubscriberFacts(*row[:7]), _EnterpriseFacts(*row[8:]) if row[7] is not None else None)
            for row in await session.execute(
                select(*_SUBSCRIBER_COLUMNS, Enterprise.id, *_ENTERPRISE_COLUMNS)
                .outerjoin(Enterprise, Enterprise.id == Subscriber.enterprise_id)
                .where(Subscriber.id.in_(part))
            )
        ]
        topics: dict[int, set[str]] = {i: set() for i in part}
        for sid, topic in await session.execute(
            select(SubscriptionTopic.subscriber_id, SubscriptionTopic.topic).where(
                SubscriptionTopic.subscriber_id.in_(part)
            )
        ):
            topics[sid].add(topic)
        keywords: dict[int, list[tuple[str, tuple[str, ...]]]] = {i: [] for i in part}
        for sid, keyword, tokens in await session.execute(
            select(SubscriptionKeyword.subscriber_id, SubscriptionKeyword.keyword, SubscriptionKeyword.tokens).where(
                SubscriptionKeyword.subscriber_id.in_(part)
            )
        ):
            keywords[sid].append((keyword, tuple(tokens.split(" "))))
        towns: dict[int, set[str]] = {i: set() for i in part}
        for sid, town in await session.execute(
            select(SubscriptionTownship.subscriber_id, SubscriptionTownship.township).where(
                SubscriptionTownship.subscriber_id.in_(part)
            )
        ):
            towns[sid].add(town)
        for sub, ent in rows:
            facts[sub.id] = facts_of(sub, ent, topics[sub.id], keywords[sub.id], towns[sub.id])
    return facts


class _SubscriberFacts(NamedTuple):
    id: int
    kind: str
    audience: str
    township: str
    all_topics: bool
    recommend_by_profile: bool
    groups: list[str] | None


class _EnterpriseFacts(NamedTuple):
    township: str
    qualifications: list[str] | None
    size: str
    industry: str


_SUBSCRIBER_COLUMNS = (Subscriber.id, Subscriber.kind, Subscriber.audience, Subscriber.township,
                       Subscriber.all_topics, Subscriber.recommend_by_profile, Subscriber.groups)  # fmt: skip
_ENTERPRISE_COLUMNS = (Enterprise.township, Enterprise.qualifications, Enterprise.size, Enterprise.industry)


def home_township(sub: Subscriber | _SubscriberFacts, ent: Enterprise | _EnterpriseFacts | None) -> str:
    return ent.township if ent is not None else sub.township


def facts_of(
    sub: Subscriber | _SubscriberFacts,
    ent: Enterprise | _EnterpriseFacts | None,
    topics: set[str],
    keywords: list[tuple[str, tuple[str, ...]]],
    townships: set[str],
) -> ContactFacts:
    home = home_township(sub, ent)
    effective = townships or ({home} if home else set())
    return ContactFacts(
        subscriber_id=sub.id,
        kind=sub.kind,
        audience=sub.audience,
        townships=frozenset(effective),
        all_topics=sub.all_topics,
        topics=frozenset(topics),
        keywords=tuple(sorted(keywords)),
        recommend_by_profile=sub.recommend_by_profile,
        profile_tags=matching.profile_tags(
            sub.kind,
            ent.qualifications if ent else (),
            ent.size if ent else "",
            sub.groups or (),
        ),
        industry=ent.industry if ent is not None and sub.kind == "enterprise" else "",
    )


async def index_rows_of(session: AsyncSession, subscriber_ids: Iterable[int]) -> set[IndexRow]:
    facts = await load_facts(session, subscriber_ids)
    rows: set[IndexRow] = set()
    for f in facts.values():
        rows |= matching.index_rows(f)
    return rows


def _pk(row: IndexRow) -> tuple[str, str, int, str]:
    return (row.key, row.township, row.subscriber_id, row.detail)


async def apply_index_diff(session: AsyncSession, before: set[IndexRow], after: set[IndexRow]) -> None:
    stale = sorted(_pk(r) for r in before - after)
    fresh = after - before
    pk = tuple_(MatchKey.key, MatchKey.township, MatchKey.subscriber_id, MatchKey.detail)
    # Non-key columns may change while the key stays: delete-then-insert covers both.
    for part in chunks(stale, 200):
        await session.execute(delete(MatchKey).where(pk.in_(part)))
    if fresh:
        await insert_index_rows(session, fresh)
    await changes.record(session, {r.subscriber_id for r in before ^ after})


async def insert_index_rows(session: AsyncSession, rows: Iterable[IndexRow]) -> None:
    values = [r.__dict__ for r in rows]
    for part in chunks(values, 5000):
        await session.execute(insert(MatchKey.__table__), list(part))  # Core: no ORM bulk bookkeeping


@asynccontextmanager
async def keeping_index(session: AsyncSession, subscriber_ids: Iterable[int]) -> AsyncIterator[None]:
    """Wrap a change to these contacts (or their enterprise) so the index follows it."""
    ids = set(subscriber_ids)
    before = await index_rows_of(session, ids)
    yield
    await session.flush()
    after = await index_rows_of(session, ids)
    await apply_index_diff(session, before, after)


async def rebuild_index(session: AsyncSession) -> int:
    """Rewrite the whole index from the tables (after a change to the rule itself)."""
    await session.execute(delete(MatchKey))
    ids = list((await session.execute(select(Subscriber.id).order_by(Subscriber.id))).scalars())
    total = 0
    for part in chunks(ids, 5000):
        rows = await index_rows_of(session, part)
        await insert_index_rows(session, rows)
        total += len(rows)
    await changes.record_everything(session)
    return total


async def contact_ids_of_enterprise(session: AsyncSession, enterprise_id: int) -> list[int]:
    return list(
        (await session.execute(select(Subscriber.id).where(Subscriber.enterprise_id == enterprise_id))).scalars()
    )


# --- recipients in bulk (plain SQL through the driver) ----------------------------------

# Three narrow statements rather than one join: SQLite plans the four-way join with the id
# list badly (about twice the time of the three at 77k ids), and the enterprise look-up is
# only needed when reasons depend on the profile.
_IDS = {"sqlite": "json_each(?) j", "postgresql": "unnest($1::int[]) AS j(value)"}
_CONTACTS = (
    "SELECT s.id, s.kind, s.hub_id, s.enterprise_id, s.township, s.groups, s.frequency, s.quiet_start, "
    "s.quiet_end, s.daily_cap FROM {ids} {join} subscriber s ON s.id = j.value WHERE s.paused = {false}"
)
_ADDRESSES = (
    "SELECT a.subscriber_id, a.id AS address_id, a.channel, a.address FROM {ids} "
    "{join} channel_address a ON a.subscriber_id = j.value WHERE a.active = {true}"
)
_ENTERPRISES = (
    "SELECT e.id, e.qualifications, e.size, e.industry, e.township, e.verified "
    "FROM {ids} {join} enterprise e ON e.id = j.value"
)
_SQL = {
    dialect: {
        name: sql.format(ids=_IDS[dialect], join=join, true=true, false=false)
        for name, sql in (("contacts", _CONTACTS), ("addresses", _ADDRESSES), ("enterprises", _ENTERPRISES))
    }
    # SQLite: CROSS JOIN keeps the id list as the outer loop (PostgreSQL plans that itself).
    for dialect, join, true, false in (("sqlite", "CROSS JOIN", "1", "0"), ("postgresql", "JOIN", "true", "false"))
}
_NO_ENTERPRISE = (None, None, None, None, None)

ReachableRow = tuple[
    int, str, int | None, int | None, str, Any, str, Any, Any, int | None, Any, str | None, str | None, str | None,
    Any, int, str, str,
]  # fmt: skip
"""(subscriber_id, kind, hub_id, enterprise_id, own township, groups JSON, frequency,
quiet_start, quiet_end, daily_cap, qualifications JSON, size, industry, enterprise township,
enterprise verified, address_id, channel, address): a `ContactRow` and one of its addresses.
JSON columns come as text; times as `datetime.time` on PostgreSQL and as ISO text on SQLite;
the five enterprise columns are None unless asked for."""


async def _driver(session: AsyncSession) -> tuple[str, Any]:
    return (await session.connection()).dialect.name, await driver_connection(session)


async def _fetch_ids(dialect: str, driver: Any, sql: str, ids: list[int]) -> list[tuple[Any, ...]]:
    if dialect == "postgresql":
        return [tuple(r) for r in await driver.fetch(sql, ids)]
    cursor = await driver.execute(sql, (json.dumps(ids),))
    rows = await cursor.fetchall()
    await cursor.close()
    return list(rows)


def reachable_addresses_sql(dialect: str) -> str:
    """SELECT (subscriber_id, address_id, channel, address) of the active addresses of the
    contacts whose ids are its one parameter: JSON array text on SQLite (`?`), an int array on
    PostgreSQL (`$1`). Pausing is not checked here: callers pass ids of contacts read as not paused."""
    if dialect not in _SQL:
        raise NotImplementedError(dialect)
    return _SQL[dialect]["addresses"]


ContactRow = tuple[
    int, str, int | None, int | None, str, Any, str, Any, Any, int | None, Any, str | None, str | None, str | None,
    Any,
]  # fmt: skip
"""The first 15 columns of `ReachableRow` (no address)."""


async def contact_rows(
    session: AsyncSession, subscriber_ids: Sequence[int], *, with_enterprise: bool = True
) -> dict[int, ContactRow]:
    """Not-paused contacts among these ids (ascending), with what reasons and preferences need."""
    if not subscriber_ids:
        return {}
    dialect, driver = await _driver(session)
    if dialect not in _SQL:
        raise NotImplementedError(dialect)
    return await _contact_rows(dialect, driver, [int(i) for i in subscriber_ids], with_enterprise)


async def _contact_rows(dialect: str, driver: Any, ids: list[int], with_enterprise: bool) -> dict[int, ContactRow]:
    sql = _SQL[dialect]
    contacts = {row[0]: row for row in await _fetch_ids(dialect, driver, sql["contacts"], ids)}
    enterprises: dict[int, tuple[Any, ...]] = {}
    if with_enterprise:
        wanted = sorted({row[3] for row in contacts.values() if row[3] is not None})
        if wanted:
            enterprises = {row[0]: row[1:] for row in await _fetch_ids(dialect, driver, sql["enterprises"], wanted)}
    return {
        sid: (*contact, *(enterprises.get(contact[3], _NO_ENTERPRISE) if contact[3] is not None else _NO_ENTERPRISE))
        for sid, contact in contacts.items()
    }  # type: ignore[misc]


async def reachable_rows(
    session: AsyncSession, subscriber_ids: Sequence[int], *, with_enterprise: bool = True
) -> list[ReachableRow]:
    """Active addresses of not-paused contacts among these ids, with what reasons and
    preferences need, in (subscriber_id, address_id) order (ids passed as one parameter)."""
    if not subscriber_ids:
        return []
    dialect, driver = await _driver(session)
    if dialect not in _SQL:
        raise NotImplementedError(dialect)
    ids = [int(i) for i in subscriber_ids]
    contacts = await _contact_rows(dialect, driver, ids, with_enterprise)
    addresses = await _fetch_ids(dialect, driver, _SQL[dialect]["addresses"], ids)
    addresses.sort()
    rows: list[ReachableRow] = []
    for sid, address_id, channel, address in addresses:
        contact = contacts.get(sid)
        if contact is not None:
            rows.append((*contact, address_id, channel, address))
    return rows

