"""push.dao.writing.writing: this process's SQLite writers take turns; fan-out chunks let the queue go first."""

from __future__ import annotations

import asyncio

import pytest

from core.db import Database
from push.dao.writing import writing


async def test_background_writer_lets_a_waiting_queue_writer_go_first(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL writers do not take turns in the process")
    order: list[str] = []

    async def holder() -> None:
        async with writing(db):
            await asyncio.sleep(0.05)
            order.append("holder")

    async def fanout_chunk(delay: float, name: str) -> None:
        await asyncio.sleep(delay)
        async with writing(db, background=True):
            order.append(name)

    async def claim(delay: float) -> None:
        await asyncio.sleep(delay)
        async with writing(db):
            order.append("claim")

    # The chunk queued before the claim, and one queued while the claim waits: both go after it.
    await asyncio.gather(holder(), fanout_chunk(0.01, "chunk 1"), claim(0.02), fanout_chunk(0.03, "chunk 2"))
    assert order[:2] == ["holder", "claim"]
    assert sorted(order[2:]) == ["chunk 1", "chunk 2"]


async def test_writers_release_the_turn_on_errors(db: Database) -> None:
    for background in (False, True):
        with pytest.raises(RuntimeError):
            async with writing(db, background=background):
                raise RuntimeError("boom")
    async with asyncio.timeout(2):
        async with writing(db):
            pass
        async with writing(db, background=True):
            pass
