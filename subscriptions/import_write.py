"""The rows an import batch writes, through the driver as plain tuples.

SQLAlchemy's Core executemany processes every parameter of every row (≈ 1/3 of an import's
time at 100,000 rows); here each row is one tuple already in the driver's form: on SQLite
times as the text SQLAlchemy writes for `UTCDateTime`, booleans as 0/1; on PostgreSQL aware
datetimes. New rows go in with one executemany per table on SQLite and one binary COPY per
table on PostgreSQL (asyncpg's `copy_records_to_table`, in the session's transaction: about
three times fewer server-side costs per row than INSERT). JSON columns are JSON text on
both. Errors still come as `sqlalchemy.exc.DBAPIError`, which the importer's halving retry
relies on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import driver_connection
from subscriptions.match_index import changes

COLUMNS = {
    "enterprise": ("id", "name", "credit_code", "industry", "size", "qualifications", "township", "verified",
                   "created_at", "updated_at"),
    "subscriber": ("id", "kind", "display_name", "enterprise_id", "township", "groups", "audience", "all_topics",
                   "recommend_by_profile", "frequency", "paused", "contact_verified", "created_at", "updated_at"),
    "channel_address": ("subscriber_id", "channel", "address", "active", "inactive_reason", "created_at",
                        "updated_at"),
    "subscription_topic": ("subscriber_id", "topic"),
    "subscription_keyword": ("subscriber_id", "keyword", "tokens"),
    "hub_member": ("hub_id", "enterprise_id", "via", "joined_at"),
    "match_change": ("subscriber_id", "token"),
    "match_key": ("key", "township", "subscriber_id", "detail", "kind", "audience", "industry", "rest"),
}  # fmt: skip


@dataclass(slots=True)
class NewEnterprise:
    """An enterprise this batch creates (attribute names as `models.Enterprise`)."""

    credit_code: str
    name: str
    industry: str
    size: str
    qualifications: list[str]
    township: str
    verified: bool = True
    id: int = 0
    stored: bool = False  # read from the database (else created by this batch)


@dataclass(slots=True, eq=False)
class StoredContact:
    """A contact that exists, as far as the importer compares and changes it (columns, not
    an ORM object: loading 100,000 of them cost more than the rest of a re-import)."""

    id: int
    kind: str
    enterprise_id: int | None
    township: str
    groups: list[str]


@dataclass(slots=True, eq=False)
class NewContact:
    """A contact this batch creates (attribute names as `models.Subscriber`, as far as
    `store.facts_of` reads them). Hashable by identity, like the ORM object it replaces."""

    kind: str
    display_name: str
    township: str
    groups: list[str]
    audience: str
    enterprise: NewEnterprise | Any | None = None
    id: int = 0
    enterprise_id: int | None = None
    all_topics: bool = False
    recommend_by_profile: bool = False
    topics: list[str] = field(default_factory=list)
    keywords: list[tuple[str, str]] = field(default_factory=list)  # (keyword, space-joined tokens)


class Writer:
    """Tuples in the session's driver form, inserted with one executemany per table."""

    def __init__(self, dialect: str, at: datetime, *, copy: bool = True) -> None:
        self.sqlite = dialect == "sqlite"
        self.copy = copy and not self.sqlite  # False: executemany on PostgreSQL too (tests compare)
        self.at = self.time(at)
        self._json: dict[tuple[str, ...], str] = {}

    def json(self, values: list[str]) -> str:
        """JSON text of a list, remembered: a registry repeats a few group and qualification lists."""
        key = tuple(values)
        found = self._json.get(key)
        if found is None:
            found = self._json[key] = json.dumps(values)
        return found

    def time(self, value: datetime) -> Any:
        if self.sqlite:
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    def enterprise(self, e: NewEnterprise) -> tuple[Any, ...]:
        return (e.id, e.name, e.credit_code, e.industry, e.size, self.json(e.qualifications), e.township,
                self.flag(e.verified), self.at, self.at)  # fmt: skip

    def contact(self, c: NewContact) -> tuple[Any, ...]:
        false = self.flag(False)
        return (c.id, c.kind, c.display_name, c.enterprise_id, c.township, self.json(c.groups), c.audience,
                false, false, "immediate", false, self.flag(True), self.at, self.at)  # fmt: skip

    def address(self, subscriber_id: int, channel: str, address: str) -> tuple[Any, ...]:
        return (subscriber_id, channel, address, self.flag(True), "", self.at, self.at)

    async def insert(self, session: AsyncSession, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        if self.copy:
            await _copy(session, table, columns, rows)
            return
        marks = ", ".join("?" if self.sqlite else f"${n}" for n in range(1, len(columns) + 1))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        conn = await session.connection()
        await conn.exec_driver_sql(sql, list(rows))

    async def update(self, session: AsyncSession, table: str, columns: Sequence[str],
                     rows: Sequence[tuple[Any, ...]]) -> None:  # fmt: skip
        """`UPDATE table SET columns… WHERE id = last value`, one executemany for all rows."""
        if not rows:
            return
        mark = (lambda n: "?") if self.sqlite else (lambda n: f"${n}")
        sets = ", ".join(f'"{c}" = {mark(n)}' for n, c in enumerate(columns, start=1))
        sql = f"UPDATE {table} SET {sets} WHERE id = {mark(len(columns) + 1)}"
        conn = await session.connection()
        await conn.exec_driver_sql(sql, list(rows))

    async def index_rows(self, session: AsyncSession, rows: Sequence[tuple[Any, ...]], contacts: Iterable[int]) -> None:
        """Index rows (as `COLUMNS["match_key"]` tuples) of contacts created in this transaction
        (none existed before), and the change log entry that tells other processes' memory
        indexes about them."""
        await self.insert(session, "match_key", rows)
        await changes.record(session, contacts, lambda rows: self.insert(session, "match_change", rows))


async def _copy(session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    driver = await driver_connection(session)  # asyncpg.Connection, inside the session's transaction
    try:
        await driver.copy_records_to_table(table, records=rows, columns=list(columns))
    except Exception as exc:
        # asyncpg's own errors: as SQLAlchemy's, so the importer's halving retry sees a refusal.
        if type(exc).__module__.startswith("asyncpg"):
            raise DBAPIError(f"COPY {table}", None, exc) from exc
        raise


async def new_ids(session: AsyncSession, table: str, count: int) -> list[int]:
    """`count` ids for new rows: from the table's sequence (PostgreSQL), or after the largest
    under the write lock every import session holds (SQLite), so inserts need no RETURNING."""
    if not count:
        return []
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        # Through the driver: 100,000 ids through SQLAlchemy's result rows cost ~1 s of CPU.
        sql = "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)"
        found = await conn.exec_driver_sql(sql, (table, count))
        return sorted(int(row[0]) for row in found)
    largest = (await session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))).scalar_one()
    return list(range(int(largest) + 1, int(largest) + 1 + count))
