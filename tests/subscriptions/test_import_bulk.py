"""The bulk paths of the subscriber import: COPY on PostgreSQL writes what INSERT writes, the
index written from templates is the one the tables imply, a re-import of unchanged rows
writes nothing, and a bad row in a batch of thousands is still reported on its own."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from sqlalchemy import text

from core.clock import FixedClock
from core.db import Database
from subscriptions import importer, service, store
from tests.subscriptions.helpers import credit_code
from vocabulary import taxonomy

HEADER = ["类型", "名称", "统一社会信用代码", "行业", "规模", "资质", "人群", "乡镇", "渠道", "地址", "主题", "关键词"]
TABLES = {  # table: columns compared (ids made relative to the first id of the import)
    "enterprise": "id, name, credit_code, industry, size, qualifications, township, verified, created_at, updated_at",
    "subscriber": "id, kind, display_name, enterprise_id, township, \"groups\", audience, all_topics, "
                  "recommend_by_profile, frequency, paused, contact_verified, created_at, updated_at",
    "channel_address": "subscriber_id, channel, address, active, inactive_reason, created_at, updated_at",
    "subscription_topic": "subscriber_id, topic",
    "subscription_keyword": "subscriber_id, keyword, tokens",
    "match_key": "key, township, subscriber_id, detail, kind, audience, industry, rest",
    "match_change": "subscriber_id",
}  # fmt: skip


def registry(count: int, seed: int = 5) -> list[list[str]]:
    rng = random.Random(seed)
    topics = [t.name for t in taxonomy.topics()]
    towns = [r.name for r in taxonomy.regions() if r.kind == "township"]
    groups = [e.name for e in taxonomy.eligibility_tags() if e.audience == "resident"]
    quals = [e.name for e in taxonomy.eligibility_tags() if e.audience == "enterprise"]
    rows = []
    for i in range(count):
        topic = "、".join(rng.sample(topics, rng.randint(1, 2)))
        keyword = rng.choice(["贷款", "创业补贴", "养老", ""])
        if i % 3 == 0:
            rows.append(["企业", f"企业{i}", credit_code(1000 + i), rng.choice("ACE"), rng.choice("大中小微"),
                         rng.choice(["", *quals]), "", rng.choice(towns), "wechat", f"o-{i}", topic, keyword])
        else:
            rows.append(["居民", f"居民{i}", "", "", "", "", rng.choice(["", *groups]), rng.choice(towns),
                         "telegram", str(500_000 + i), topic, keyword])  # fmt: skip
    return rows


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every imported table's rows, ids relative to the smallest, sorted."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with db.reader() as s:
        base = {t: (await s.execute(text(f"SELECT COALESCE(MIN(id), 0) FROM {t}"))).scalar_one()
                for t in ("enterprise", "subscriber")}  # fmt: skip
        for table, columns in TABLES.items():
            names = [c.strip().strip('"') for c in columns.split(",")]
            found = []
            for row in await s.execute(text(f"SELECT {columns} FROM {table}")):
                values = dict(zip(names, row, strict=True))
                if table in ("enterprise", "subscriber"):
                    values["id"] -= base[table]
                if values.get("enterprise_id") is not None:
                    values["enterprise_id"] -= base["enterprise"]
                if "subscriber_id" in values:
                    values["subscriber_id"] -= base["subscriber"]
                found.append(tuple(str(v) for v in values.values()))
            tables[table] = sorted(found)
    return tables


async def empty(db: Database) -> None:
    async with db.session() as s:
        for table in ("match_change", "match_key", "subscription_keyword", "subscription_topic", "channel_address",
                      "subscriber", "enterprise"):  # fmt: skip
            await s.execute(text(f"DELETE FROM {table}"))


async def index_from_tables(db: Database) -> set[tuple[Any, ...]]:
    async with db.reader() as s:
        ids = list((await s.execute(text("SELECT id FROM subscriber"))).scalars())
        return {tuple(r.__dict__.values()) for r in await store.index_rows_of(s, ids)}


async def index_as_stored(db: Database) -> set[tuple[Any, ...]]:
    async with db.reader() as s:
        return {tuple(r) for r in await s.execute(text(f"SELECT {TABLES['match_key']} FROM match_key"))}


async def test_copy_writes_exactly_what_insert_writes_and_the_index_the_tables_imply(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = write(tmp_path / "registry.csv", registry(600))

    copied = await service.import_subscribers(db, path, progress=False, bulk_copy=True)
    by_copy = await snapshot(db)
    assert await index_as_stored(db) == await index_from_tables(db)
    await empty(db)
    inserted = await service.import_subscribers(db, path, progress=False, bulk_copy=False)
    by_insert = await snapshot(db)

    assert (copied.created, copied.errors) == (600, []) and (inserted.created, inserted.errors) == (600, [])
    assert len(by_copy["subscriber"]) == 600 and len(by_copy["match_key"]) > 600
    assert by_copy == by_insert


async def test_reimport_of_unchanged_rows_writes_nothing_and_a_changed_row_only_itself(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    rows = registry(300)
    path = write(tmp_path / "registry.csv", rows)
    await service.import_subscribers(db, path, progress=False)
    first = await snapshot(db)

    again = await service.import_subscribers(db, path, progress=False)

    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 300, [])
    assert await snapshot(db) == first  # updated_at and the change log included

    towns = [r.name for r in taxonomy.regions() if r.kind == "township"]
    rows[0][3] = "F" if rows[0][3] != "F" else "G"  # an enterprise's industry
    rows[1][7] = next(t for t in towns if t != rows[1][7])  # a resident's township
    changed = await service.import_subscribers(db, write(tmp_path / "changed.csv", rows), progress=False)

    assert (changed.created, changed.updated, changed.unchanged) == (0, 2, 298)
    after = await snapshot(db)
    assert len(after["match_change"]) == len(first["match_change"]) + 2  # the two contacts, no one else
    assert await index_as_stored(db) == await index_from_tables(db)


async def test_bad_rows_in_a_batch_of_thousands_are_reported_one_by_one(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    count = importer.BATCH + 1_000  # two batches
    rows = registry(count)
    bad = {  # file row number (the header is row 1) → (column, part of the message)
        5: ("credit_code", "校验位不正确"),
        2_502: ("topic", "没有“火星移民”这个主题"),
        importer.BATCH + 1: ("channel", "不支持的渠道"),
        importer.BATCH + 2: ("township", "没有“北京”这个乡镇"),
        count: ("address", "已登记为企业或园区联系人"),
    }
    rows[3][2] = rows[3][2][:-1] + ("0" if rows[3][2][-1] != "0" else "1")  # row 5 is an enterprise (index 3)
    rows[2_500][10] = "火星移民"
    rows[importer.BATCH - 1][8] = "信鸽"
    rows[importer.BATCH][7] = "北京"
    rows[count - 2] = ["居民", "冒用", "", "", "", "", "", "", "wechat", "o-0", "就业创业", ""]  # an enterprise's
    path = write(tmp_path / "registry.csv", rows)

    report = await service.import_subscribers(db, path, progress=False)

    assert [(e.row, e.field) for e in report.errors] == [(row, field) for row, (field, _) in sorted(bad.items())]
    for error in report.errors:
        assert bad[error.row][1] in error.message
    assert report.created == count - len(bad)
