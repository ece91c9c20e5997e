"""`python run.py migrate-to-postgres URL`: every table from the SQLite database into an empty
PostgreSQL database whose schema comes from the same Alembic migrations.

All rows are copied in one transaction, in foreign-key order and primary-key order, through
SQLAlchemy (so datetimes, booleans, JSON and times convert as the application reads them);
sequences are moved past the copied ids; the row counts of every table are compared before
the commit. Nothing is written to the SQLite file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import Base, Database, is_sqlite
from core.errors import ValidationFailed
from core.migrate import import_models, upgrade_database

BATCH = 5_000


@dataclass
class TransferReport:
    counts: dict[str, int] = field(default_factory=dict)  # table → rows copied (= rows in both)


def postgres_url(url: str) -> str:
    """The asyncpg form of a PostgreSQL URL as an operator may type it."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValidationFailed("目标地址须是 PostgreSQL 连接串，例如 postgresql://用户@主机/库名。", field="URL")


async def migrate_to_postgres(
    source_url: str, target_url: str, progress: Callable[[str, int], None] = lambda _t, _n: None
) -> TransferReport:
    if not is_sqlite(source_url):
        raise ValidationFailed("当前数据库已不是 SQLite（DATABASE_URL），无需迁移。", field="DATABASE_URL")
    source, target = Database(source_url), Database(postgres_url(target_url))
    try:
        await _require_empty(target)
        await upgrade_database(source)  # both at the same schema version
        await upgrade_database(target)
        import_models()
        report = TransferReport()
        async with source.engine.connect() as reading, target.engine.begin() as writing:
            tables = [t for t in Base.metadata.sorted_tables if t.name != "alembic_version"]
            for table in reversed(tables):  # rows a migration may have seeded; the source has them too
                await writing.execute(table.delete())
            for table in tables:
                report.counts[table.name] = await _copy_table(reading, writing, table)
                progress(table.name, report.counts[table.name])
            await _verify_counts(writing, tables, report)
            await _move_sequences(writing, tables)
        return report
    finally:
        await source.dispose()
        await target.dispose()


async def _require_empty(target: Database) -> None:
    try:
        async with target.engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")
            )
    except OSError as exc:
        raise ValidationFailed("无法连接目标 PostgreSQL，请检查地址、端口和权限。", field="URL") from exc
    if found:
        raise ValidationFailed(
            f"目标数据库不是空的（已有 {found} 张表）：请新建一个空库（CREATE DATABASE …）再迁移。", field="URL"
        )


async def _copy_table(reading: AsyncConnection, writing: AsyncConnection, table: object) -> int:
    order = list(table.primary_key.columns)  # type: ignore[attr-defined]
    result = await reading.stream(select(table).order_by(*order))  # type: ignore[call-overload]
    copied = 0
    async for part in result.partitions(BATCH):
        try:
            await writing.execute(insert(table), [dict(row._mapping) for row in part])  # type: ignore[arg-type]
        except DBAPIError as exc:
            name = table.name  # type: ignore[attr-defined]
            raise ValidationFailed(
                f"表 {name} 中有 PostgreSQL 不接受的数据（例如超长文本或不可见字符），已撤销迁移；请修正后重试。",
                field="URL",
            ) from exc
        copied += len(part)
    return copied


async def _verify_counts(writing: AsyncConnection, tables: list, report: TransferReport) -> None:  # type: ignore[type-arg]
    for table in tables:
        found = await writing.scalar(select(func.count()).select_from(table))
        if found != report.counts[table.name]:
            raise ValidationFailed(
                f"表 {table.name} 行数不一致（SQLite {report.counts[table.name]}，PostgreSQL {found}），已撤销迁移。",
                field="URL",
            )


async def _move_sequences(writing: AsyncConnection, tables: list) -> None:  # type: ignore[type-arg]
    """Copied rows kept their ids; each id sequence must continue after the largest."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = await writing.scalar(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            )
            if sequence:
                await writing.execute(
                    text(f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 1), '
                         f'(SELECT MAX("{column.name}") FROM "{table.name}") IS NOT NULL)'),
                    {"s": sequence},
                )  # fmt: skip
