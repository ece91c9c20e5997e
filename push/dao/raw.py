"""Small helpers of the statements that go straight to the driver (sqlite3, asyncpg)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def sqlite_time(value: datetime) -> str:
    """The exact text SQLAlchemy's SQLite DateTime writes for UTCDateTime, so that range
    comparisons (`next_attempt_at <= now`) in Core queries keep working on rows written raw."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def sqlite_changes(driver: Any) -> int:
    """sqlite3's running count of changed rows on this connection (diff it around a statement)."""
    async with driver.execute("SELECT total_changes()") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


def pg_status_rows(status: str) -> int:
    """Rows an asyncpg `execute` touched, from its status text ("INSERT 0 12", "UPDATE 3")."""
    return int(status.rsplit(" ", 1)[-1])
