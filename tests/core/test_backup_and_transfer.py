"""`run.py backup` (an online SQLite copy plus the secret key) and `run.py migrate-to-postgres`
(every table into an empty PostgreSQL database, counts verified), as an operator runs them."""

from __future__ import annotations

import sqlite3
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import Base, Database
from core.migrate import import_models, upgrade_database
from core.secret_key import secret_key
from core.settings import Settings
from push.fanout import FanOut
from push.models import Delivery
from tests.conftest import PG_ADMIN_URL, REQUIRE_POSTGRES, _pg_available
from tests.factories import make_published_policy
from tests.push.helpers import StaticAudience, make_recipients
from tests.test_cli import run_cli


async def _county_on_sqlite(tmp_path: Path) -> Database:
    """The CLI's database (`cli.db` in DATA_DIR) with a policy, contacts and queued deliveries."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    await upgrade_database(db)
    people = await make_recipients(db, 4)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(people)).run_once()
    return db


async def _counts(db: Database) -> dict[str, int]:
    import_models()
    async with db.reader() as s:
        return {t.name: int((await s.execute(select(func.count()).select_from(t))).scalar_one())
                for t in Base.metadata.sorted_tables}  # fmt: skip


async def test_backup_copies_the_database_and_the_key(tmp_path: Path) -> None:
    db = await _county_on_sqlite(tmp_path)
    key = secret_key(Settings(data_dir=tmp_path))
    expected = await _counts(db)
    await db.dispose()

    result = run_cli(tmp_path, "backup", str(tmp_path / "backup"))
    assert result.returncode == 0, result.stderr
    assert "已备份数据库" in result.stdout and "已备份密钥" in result.stdout
    copy = tmp_path / "backup" / "policy_direct.db"
    with sqlite3.connect(copy) as conn:
        copied = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in expected}
    assert copied == expected and copied["delivery"] == 4
    key_copy = tmp_path / "backup" / "secret_key"
    assert key_copy.read_text().strip() == key
    assert stat.S_IMODE(key_copy.stat().st_mode) == 0o600

    again = run_cli(tmp_path, "backup", str(tmp_path / "backup"))
    assert again.returncode == 1 and "已存在" in again.stderr


@pytest.mark.postgres
async def test_migrate_to_postgres_copies_every_table(tmp_path: Path) -> None:
    import asyncpg

    problem = await _pg_available()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(problem)
        pytest.skip(problem)
    source = await _county_on_sqlite(tmp_path)
    expected = await _counts(source)
    async with source.reader() as s:
        original = sorted((d.subscriber_id, d.address, tuple(d.reasons), d.due_at, d.urgent)
                          for d in (await s.execute(select(Delivery))).scalars())  # fmt: skip
    await source.dispose()

    name = f"pd_migrate_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    target = Database(url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        result = run_cli(tmp_path, "migrate-to-postgres", url)
        assert result.returncode == 0, result.stderr
        assert "行数逐表核对一致" in result.stdout and "DATABASE_URL=postgresql+asyncpg://" in result.stdout
        assert await _counts(target) == expected
        async with target.reader() as s:
            moved = sorted((d.subscriber_id, d.address, tuple(d.reasons), d.due_at, d.urgent)
                           for d in (await s.execute(select(Delivery))).scalars())  # fmt: skip
        assert moved == original and len(moved) == 4
        # Sequences continue after the copied ids: new rows do not collide.
        await make_published_policy(target, title="迁移后发布的政策")
        await make_recipients(target, 1, first_chat=99_001)

        refused = run_cli(tmp_path, "migrate-to-postgres", url)
        assert refused.returncode == 1 and "不是空的" in refused.stderr
    finally:
        await target.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_backup_refuses_postgres_and_migrate_refuses_a_non_postgres_url(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.test_cli import REPO

    env = {**os.environ, "DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none", "DATA_DIR": str(tmp_path)}
    refused = subprocess.run([sys.executable, "run.py", "backup", str(tmp_path / "b")], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert refused.returncode == 1 and "pg_dump" in refused.stderr
    wrong = run_cli(tmp_path, "migrate-to-postgres", "mysql://somewhere/db")
    assert wrong.returncode == 1 and "PostgreSQL 连接串" in wrong.stderr
