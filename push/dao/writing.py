"""The one session every pipeline write goes through: on SQLite, this process's writers take turns."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database


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
