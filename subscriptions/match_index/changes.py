"""Writing and reading the match-change log (`match_change`).

Writers append one row per contact whose index rows changed, in the transaction that
changed them. Readers ask for rows after the last one they applied. For that to be safe
the log must be appended in commit order: SQLite has one writer at a time anyway; on
PostgreSQL a transaction-scoped advisory lock serialises appenders from the moment they
append until they commit (sequence numbers alone may commit out of order and a reader
that had already moved past a number would miss it for good).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from subscriptions.match_index.models import MatchChange

EVERYONE = 0  # subscriber_id of a row meaning "rebuild everything"
LOG_LOCK_KEY = 7_245_002  # any 64-bit number; the same in every process
KEEP_ROWS = 200_000  # older rows are pruned; a reader further behind rebuilds
PRUNE_EVERY = 4_096
# Set on a session that has appended to the log but not committed: its own matches must
# read the database index, which already holds its changes, not the shared memory index.
PENDING = "subscriptions.match_changes_pending"


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    subscriber_id: int
    token: int


# Writes (subscriber_id, token) tuples to match_change in the session's transaction.
RowWriter = Callable[[list[tuple[int, int]]], Awaitable[None]]


async def _append(session: AsyncSession, subscriber_ids: Iterable[int], write: RowWriter | None = None) -> None:
    ids = sorted(set(subscriber_ids))
    if not ids:
        return
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_LOCK_KEY})
    if write is not None:
        await write([(sid, secrets.randbits(62)) for sid in ids])
    else:
        rows = [{"subscriber_id": sid, "token": secrets.randbits(62)} for sid in ids]
        await session.execute(insert(MatchChange.__table__), rows)  # Core: no ORM bulk bookkeeping
    session.info[PENDING] = True
    last = (await session.execute(select(MatchChange.seq).order_by(MatchChange.seq.desc()).limit(1))).scalar_one()
    if last // PRUNE_EVERY != (last - len(ids)) // PRUNE_EVERY:
        await session.execute(delete(MatchChange).where(MatchChange.seq <= last - KEEP_ROWS))


async def record(session: AsyncSession, subscriber_ids: Iterable[int], write: RowWriter | None = None) -> None:
    """These contacts' index rows changed in this transaction. `write`: how a bulk writer
    (the importer's COPY) inserts the log rows; by default a Core executemany."""
    await _append(session, subscriber_ids, write)


async def record_everything(session: AsyncSession) -> None:
    """The whole index was rewritten (a rebuild or a bulk load bypassing the service)."""
    await _append(session, [EVERYONE])


async def since(session: AsyncSession, seq: int, limit: int) -> list[Change]:
    """Rows from `seq` on (inclusive, so the reader can check its anchor), oldest first."""
    rows = await session.execute(
        select(MatchChange.seq, MatchChange.subscriber_id, MatchChange.token)
        .where(MatchChange.seq >= seq)
        .order_by(MatchChange.seq)
        .limit(limit)
    )
    return [Change(*row) for row in rows]


async def newest(session: AsyncSession) -> Change | None:
    row = (
        await session.execute(
            select(MatchChange.seq, MatchChange.subscriber_id, MatchChange.token)
            .order_by(MatchChange.seq.desc())
            .limit(1)
        )
    ).first()
    return Change(*row) if row else None


def has_pending(session: AsyncSession) -> bool:
    return bool(session.info.get(PENDING))
