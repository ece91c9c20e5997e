"""Subscriber import under bad input: a bad file is refused with a reason (CLI and HTTP 422),
a bad row is reported with its row and field, and never takes the good rows down with it, on
SQLite and PostgreSQL alike."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.db import Database
from core.errors import ValidationFailed
from subscriptions import service
from subscriptions.models import ChannelAddress, Enterprise
from tests.subscriptions.helpers import credit_code

HEADER = ["类型", "名称", "统一社会信用代码", "乡镇", "渠道", "地址", "主题"]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


async def _count(db: Database, model: type) -> int:
    async with db.reader() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


BAD_FILES = {
    "empty.csv": b"",
    "header_only.csv": ",".join(HEADER).encode(),
    "no_known_columns.csv": "甲,乙,丙\n1,2,3\n".encode(),
    "nul_bytes.csv": b"\xe5\x90\x8d\xe7\xa7\xb0\x00,x\n\x00\x00\n",
    "broken.xlsx": b"PK\x03\x04 this is not a workbook",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
async def test_a_bad_file_is_refused_with_a_reason(db: Database, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    with pytest.raises(ValidationFailed) as refused:
        await service.import_subscribers(db, path, progress=False)
    assert refused.value.field == "file"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    assert await _count(db, ChannelAddress) == 0


async def test_control_characters_are_a_row_error_not_a_failed_import(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "registry.csv", [
        ["居民", "小王", "", "香水镇", "telegram", "7001", "就业创业"],
        ["居民", "小\x07李", "", "香水镇", "telegram", "7002", "就业创业"],
        ["居民", "小赵", "", "香水镇", "telegram", "7003", "就业创业"],
    ])  # fmt: skip
    report = await service.import_subscribers(db, path, progress=False)
    assert [(e.row, e.field) for e in report.errors] == [(3, "name")]
    assert report.created == 2
    assert await _count(db, ChannelAddress) == 2


async def _refuse_enterprise_named(db: Database, name: str) -> None:
    """A database-side rule (a trigger) that refuses one row: what a constraint the validation
    does not know about looks like."""
    async with db.session() as s:
        if db.dialect == "postgresql":
            await s.execute(text(
                "CREATE FUNCTION refuse_enterprise() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.name = '{name}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ))  # fmt: skip
            await s.execute(text(
                "CREATE TRIGGER refuse_enterprise BEFORE INSERT ON enterprise FOR EACH ROW "
                "EXECUTE FUNCTION refuse_enterprise()"
            ))  # fmt: skip
        else:
            await s.execute(text(
                f"CREATE TRIGGER refuse_enterprise BEFORE INSERT ON enterprise WHEN NEW.name = '{name}' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            ))  # fmt: skip


async def test_a_row_the_database_refuses_keeps_the_good_rows_of_its_batch(db: Database, tmp_path: Path) -> None:
    await _refuse_enterprise_named(db, "拒收公司")
    path = write_csv(tmp_path / "registry.csv", [
        ["企业", "泾源智造", credit_code(21), "香水镇", "telegram", "8001", "惠企政策"],
        ["企业", "拒收公司", credit_code(22), "香水镇", "telegram", "8002", "惠企政策"],
        ["居民", "小王", "", "香水镇", "telegram", "8003", "就业创业"],
        ["居民", "小李", "", "火星", "telegram", "8004", "就业创业"],
    ])  # fmt: skip
    report = await service.import_subscribers(db, path, progress=False)
    assert sorted((e.row, e.field) for e in report.errors) == [(3, ""), (5, "township")]
    refused = next(e for e in report.errors if e.row == 3)
    assert "无法保存" in refused.message
    assert report.created == 2
    async with db.reader() as s:
        names = set((await s.execute(select(Enterprise.name))).scalars())
        addresses = set((await s.execute(select(ChannelAddress.address))).scalars())
    assert names == {"泾源智造"}
    assert addresses == {"8001", "8003"}
    again = await service.import_subscribers(db, path, progress=False)
    assert (again.created, again.unchanged) == (0, 2)
