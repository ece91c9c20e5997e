from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from core.db import Base, Database
from core.migrate import import_models, migration_packages, model_modules


async def test_migrations_match_the_models(db: Database) -> None:
    import_models()

    def diff(sync_conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == [], f"models and migrations differ; write a migration: {differences}"


async def test_sqlite_connections_use_wal_and_foreign_keys(db: Database) -> None:
    if db.dialect != "sqlite":
        return
    async with db.reader() as session:
        journal = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
        fks = (await session.execute(text("PRAGMA foreign_keys"))).scalar_one()
        busy = (await session.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert (journal, fks, busy) == ("wal", 1, 30000)


async def test_aware_datetimes_round_trip_as_utc(db: Database) -> None:
    from policies.models import PolicyHistory  # noqa: F401

    moment = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    async with db.session() as session:
        value = (await session.execute(text("SELECT 1"))).scalar_one()
    assert value == 1
    assert moment.tzinfo is not None


def test_every_domain_package_has_a_migration_branch() -> None:
    assert {"policies", "subscriptions", "push", "bot", "web"} <= set(migration_packages())


async def test_session_rolls_back_on_error(db: Database) -> None:
    from policies.models import Policy

    now = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with db.session() as session:
            session.add(Policy(title="t", agency="a", created_by="u", created_at=now, updated_at=now))
            await session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with db.reader() as session:
        count = (await session.execute(text("SELECT count(*) FROM policy"))).scalar_one()
    assert count == 0


def test_model_discovery_finds_sub_package_models() -> None:
    modules = model_modules()
    assert "policies.models" in modules and "policies.qa.models" in modules
    assert not any("migrations" in m for m in modules)
