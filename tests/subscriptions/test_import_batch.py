"""Rows of one import batch that name the same contact or enterprise twice: the batch creates
them once (as plain rows, not ORM objects) and the later row's criteria and profile count."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from core.clock import FixedClock
from core.db import Database
from subscriptions import service
from subscriptions.models import ChannelAddress, Enterprise, Subscriber
from tests.subscriptions.helpers import credit_code, policy

HEADER = ["类型", "名称", "统一社会信用代码", "行业", "规模", "乡镇", "渠道", "地址", "主题", "关键词"]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


async def test_a_contact_named_twice_in_one_file_is_created_once_with_both_rows_criteria(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    code = credit_code(21)
    path = write(tmp_path / "twice.csv", [
        ["居民", "小王", "", "", "", "香水镇", "telegram", "700", "就业创业", ""],
        ["居民", "小王", "", "", "", "香水镇", "telegram", "700", "税费优惠", "创业贷款"],
        ["企业", "旧名称", code, "制造业", "小", "香水镇", "wechat", "o-1", "惠企政策", ""],
        ["企业", "新名称", code, "制造业", "小", "香水镇", "wechat", "o-2", "惠企政策", ""],
    ])  # fmt: skip

    report = await service.import_subscribers(db, path, progress=False)

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (2, 2, 0)
    async with db.reader() as s:
        counts = [(await s.execute(select(func.count()).select_from(t))).scalar_one()
                  for t in (Enterprise, Subscriber, ChannelAddress)]  # fmt: skip
        names = list((await s.execute(select(Enterprise.name))).scalars())
        resident = (await s.execute(select(Subscriber.id).where(Subscriber.kind == "resident"))).scalar_one()
        view = await service.get_subscriber(s, resident)
        # The memory index learns the new contacts from the change log: both rows' topics match.
        reached = await service.audience(s, policy(topics=("tax",), audience="resident"))
    assert counts == [1, 3, 3]
    assert names == ["新名称"]
    assert set(view.topics) == {"employment", "tax"}
    assert len(view.keywords) == 1
    assert [r.address for r in reached] == ["700"]

    again = await service.import_subscribers(db, path, progress=False)
    assert again.created == 0 and again.errors == []
    assert again.unchanged >= 2  # the resident's two rows change nothing
