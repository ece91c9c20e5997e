"""One in-memory index per database and process, kept up to date from the change log.

Before each match the index reads the log from the last row it applied (one indexed
query, normally returning that single row): if that row is gone or carries another token,
the log was pruned past it or emptied, and the index is rebuilt; otherwise the contacts
named after it are reloaded from the tables and replaced in the overlay. A row for
`changes.EVERYONE`, or more than `MAX_INCREMENTAL` rows, also means a rebuild.

The database index stays the source of truth: a session that has itself changed
subscriptions (not yet committed) matches against the database, which already holds its
changes, and `IN_MEMORY = False` turns the memory index off altogether.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from subscriptions import matching, store
from subscriptions.match_index import changes, load
from subscriptions.match_index.memory import MemoryIndex

log = logging.getLogger(__name__)

IN_MEMORY = True
MAX_INCREMENTAL = 20_000  # more changes than this at once: a rebuild is cheaper


@dataclass
class LiveIndex:
    memory: MemoryIndex | None = None
    seq: int = 0
    token: int | None = None
    build_seconds: float = 0.0
    timer: Callable[[], float] = field(default=time.perf_counter, repr=False)  # seconds, for build_seconds
    _lock: asyncio.Lock | None = None
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def current(self, session: AsyncSession) -> MemoryIndex:
        async with self.lock():
            if self.memory is None or not await self._catch_up(session):
                await self._rebuild(session)
            assert self.memory is not None
            return self.memory

    async def _rebuild(self, session: AsyncSession) -> None:
        start = self.timer()
        # The anchor first: changes committed while loading are applied again later,
        # which is harmless (applying a contact's current rows is idempotent).
        head = await changes.newest(session)
        self.memory = await load.load(session)
        self.seq, self.token = (head.seq, head.token) if head else (0, None)
        self.build_seconds = self.timer() - start
        log.info("match index built in %.1f s (%d arrays)", self.build_seconds, len(self.memory.base))

    async def _catch_up(self, session: AsyncSession) -> bool:
        """Apply logged changes; False when only a rebuild can bring the index up to date."""
        assert self.memory is not None
        rows = await changes.since(session, self.seq, MAX_INCREMENTAL + 2)
        if self.token is not None:
            if not rows or (rows[0].seq, rows[0].token) != (self.seq, self.token):
                return False
            rows = rows[1:]
        if not rows:
            return True
        if len(rows) > MAX_INCREMENTAL or any(r.subscriber_id == changes.EVERYONE for r in rows):
            return False
        ids = sorted({r.subscriber_id for r in rows})
        facts = await store.load_facts(session, ids)
        for sid in ids:
            self.memory.apply(sid, matching.index_rows(facts[sid]) if sid in facts else ())
        self.seq, self.token = rows[-1].seq, rows[-1].token
        return True


_indexes: dict[str, LiveIndex] = {}


def live_index(session: AsyncSession) -> LiveIndex:
    bind = session.bind
    assert bind is not None, "the session must be bound to an engine"
    return _indexes.setdefault(bind.url.render_as_string(hide_password=True), LiveIndex())


def usable(session: AsyncSession) -> bool:
    return IN_MEMORY and not changes.has_pending(session)


async def warm_up(db: Database) -> LiveIndex:
    """Build this process's index now (call at start-up, so the first publish does not wait)."""
    async with db.reader() as session:
        live = live_index(session)
        await live.current(session)
    return live


def forget_all() -> None:
    """Drop every process-local index (tests)."""
    _indexes.clear()
