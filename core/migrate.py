"""Alembic migrations, run at start-up.

Each domain package keeps its own migration branch under `<package>/migrations/versions`
(branch label = package name), so packages own their tables; `upgrade heads` applies all.
Packages are discovered on disk, which keeps `core` free of imports of domain code.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from core.db import Database
from core.settings import REPO_ROOT

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any 64-bit number works; it only has to be the same in every process.
MIGRATION_LOCK_KEY = 7_245_001


def migration_packages() -> list[str]:
    return sorted(
        p.parent.parent.name
        for p in REPO_ROOT.glob("*/migrations/versions")
        if p.is_dir() and p.parent.parent.name != "core"
    )


def model_modules() -> list[str]:
    """Every `models.py` inside a domain package (sub-packages too, e.g. `push.relay.models`)."""
    modules = []
    for package in migration_packages():
        for path in sorted((REPO_ROOT / package).rglob("models.py")):
            relative = path.relative_to(REPO_ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            modules.append(".".join(relative.parts))
    return modules


def import_models() -> None:
    """Registers every table on `core.db.Base.metadata` (for Alembic and schema checks)."""
    for module in model_modules():
        importlib.import_module(module)


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    locations = [str(REPO_ROOT / pkg / "migrations" / "versions") for pkg in migration_packages()]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two processes starting together must not both migrate.
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")


async def upgrade_database(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade)
