"""Bulk import from .csv and .xlsx: row errors named, good rows in, re-import idempotent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core.clock import FixedClock
from core.db import Database
from subscriptions import service
from subscriptions.models import ChannelAddress, Enterprise, HubMember, Subscriber
from tests.subscriptions.helpers import credit_code, policy

HEADER = ["类型", "名称", "统一社会信用代码", "行业", "规模", "资质", "人群", "乡镇", "渠道", "地址", "联系人", "主题",
          "关键词", "园区协会"]  # fmt: skip


def rows() -> list[list[str]]:
    good = credit_code(11)
    return [
        HEADER,
        ["企业", "泾源智造", good, "制造业", "小", "高新技术企业", "", "香水镇", "telegram", "900", "张总",
         "惠企政策、税费优惠", "技术改造", "泾源县工业园区"],
        ["企业", "泾源智造", good, "制造业", "小", "高新技术企业", "", "香水镇", "wechat", "o-fin", "李会计",
         "税费优惠", "", ""],
        ["企业", "坏代码公司", credit_code(12)[:-1] + "0", "", "", "", "", "", "telegram", "901", "", "", "", ""],
        ["居民", "小王", "", "", "", "", "高校毕业生", "香水镇", "telegram", "902", "", "火星移民", "", ""],
        ["居民", "小李", "", "", "", "", "退役军人", "大湾乡", "telegram", "903", "", "就业创业", "", ""],
        ["居民", "小赵", "", "", "", "", "", "大湾乡", "telegram", "900", "", "就业创业", "", ""],
        ["居民", "小孙", "", "", "", "", "", "北京", "telegram", "904", "", "", "", ""],
    ]  # fmt: skip


def write_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows())
    return path


def write_xlsx(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows():
        sheet.append(row)
    book.save(path)
    return path


async def _counts(db: Database) -> tuple[int, ...]:
    async with db.reader() as s:
        counts = []
        for table in (Enterprise, Subscriber, ChannelAddress, HubMember):
            counts.append((await s.execute(select(func.count()).select_from(table))).scalar_one())
    return tuple(counts)


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv", "xlsx"])
async def test_import_reports_bad_rows_imports_good_ones_and_is_idempotent(
    db: Database, clock: FixedClock, tmp_path: Path, writer
) -> None:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        await service.create_hub(s, name="泾源县工业园区", kind="园区")
    path = writer(tmp_path / ("registry.csv" if writer is write_csv else "registry.xlsx"))

    report = await service.import_subscribers(db, path, progress=False)

    assert report.rows == 7
    errors = {(e.row, e.field) for e in report.errors}
    assert errors == {(4, "credit_code"), (5, "topic"), (7, "address"), (8, "township")}
    assert all(e.message for e in report.errors)
    assert "火星移民" in next(e.message for e in report.errors if e.row == 5)
    assert (report.created, report.updated, report.unchanged) == (2, 1, 0)
    # 1 enterprise with 2 contacts sharing it, 1 hub operator-less hub, 1 resident; the hub membership.
    assert await _counts(db) == (1, 3, 3, 1)

    again = await service.import_subscribers(db, path, progress=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert len(again.errors) == 4
    assert await _counts(db) == (1, 3, 3, 1)

    tax = policy(topics=("tax",), audience="enterprise", eligibility=("high_tech",))
    async with db.reader() as s:
        reached = await service.audience(s, tax)
    assert {r.address for r in reached} == {"900", "o-fin"}
    assert all("贵企业为高新技术企业" in r.reasons for r in reached)


async def test_import_rejects_unknown_file_type(db: Database, tmp_path: Path) -> None:
    from core.errors import ValidationFailed

    path = tmp_path / "x.txt"
    path.write_text("a")
    with pytest.raises(ValidationFailed):
        await service.import_subscribers(db, path, progress=False)
