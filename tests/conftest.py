"""Shared fixtures: a real database per backend (SQLite file and PostgreSQL), migrated
once per test session and emptied between tests, and an injectable clock.

Tests that touch the database take the `db` fixture and so run twice: on SQLite and on
PostgreSQL. PostgreSQL tests skip with a visible reason when no server answers at
127.0.0.1:5432, unless REQUIRE_POSTGRES=1 (set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from core import clock as clock_module
from core.clock import FixedClock
from core.db import Base, Database
from core.migrate import upgrade_database

pytest_plugins = ["tests.fakes.fixtures"] if (Path(__file__).parent / "fakes" / "fixtures.py").exists() else []

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


async def _pg_available() -> str | None:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(PG_ADMIN_URL), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"no PostgreSQL at {PG_ADMIN_URL}: {exc}"
    await conn.close()
    return None


class _Backends:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.databases: dict[str, Database] = {}
        self.pg_name: str | None = None
        self.pg_problem: str | None = None

    async def get(self, backend: str) -> Database:
        if backend in self.databases:
            return self.databases[backend]
        if backend == "sqlite":
            db = Database(f"sqlite+aiosqlite:///{self.tmp / 'test.db'}")
        else:
            db = await self._create_postgres()
        await upgrade_database(db)
        self.databases[backend] = db
        return db

    async def _create_postgres(self) -> Database:
        import asyncpg

        problem = await _pg_available()
        if problem:
            self.pg_problem = problem
            raise RuntimeError(problem)
        self.pg_name = f"pd_test_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{self.pg_name}"')
        finally:
            await conn.close()
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return Database(f"{base}/{self.pg_name}")

    async def close(self) -> None:
        for db in self.databases.values():
            await db.dispose()
        if self.pg_name:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN_URL)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            finally:
                await conn.close()


@pytest_asyncio.fixture(scope="session")
async def _backends(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[_Backends]:
    backends = _Backends(tmp_path_factory.mktemp("db"))
    yield backends
    await backends.close()


async def empty_all_tables(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            names = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f'DELETE FROM "{table}"'))
            has_seq = await conn.execute(text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'"))
            if has_seq.first():
                await conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, _backends: _Backends) -> AsyncIterator[Database]:
    """A migrated, empty database; each test using it runs on SQLite and on PostgreSQL."""
    backend: str = request.param
    try:
        database = await _backends.get(backend)
    except RuntimeError as exc:
        if backend == "postgres" and not REQUIRE_POSTGRES:
            pytest.skip(str(exc))
        raise
    await empty_all_tables(database)
    yield database


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    """A fixed clock at 2026-03-02 09:00 Beijing time (a Monday and a working day)."""
    previous = clock_module.get_clock()
    fixed = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    clock_module.set_clock(fixed)
    yield fixed
    clock_module.set_clock(previous)
