"""Bulk import of enterprises and residents from a registry export (.csv or .xlsx).

Columns (header row, Chinese or English names; order free, unknown columns ignored):

| column | meaning |
| --- | --- |
| 类型 / kind | 企业 or 居民 (default: 企业 when a credit code or enterprise name is given) |
| 名称 / name | enterprise name, or the resident's display name |
| 统一社会信用代码 / credit_code | enterprises: validated with its check character |
| 行业 / industry, 规模 / size, 资质 / qualifications | enterprise profile |
| 人群 / groups | resident groups (高校毕业生、退役军人…) |
| 乡镇 / township | |
| 渠道 / channel, 地址 / address | telegram, wechat, wecom_robot or web, and the address |
| 联系人 / contact | the contact's display name |
| 主题 / topics, 关键词 / keywords | criteria for the contact (separated by 、 , ; or spaces) |
| 园区协会 / hub | name of a registered hub the enterprise is a member of |

Each row is validated on its own; a bad row is reported (row number, field, Chinese message)
and skipped, the others are imported. Re-importing the same file changes nothing: an
enterprise is found by credit code, a contact by its channel address, and only what differs
from the stored row is written. Rows are committed in batches; each batch runs in its own
unit of work (`import_batch.Batch`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tqdm import tqdm

from core.db import Database
from core.errors import DomainError
from subscriptions.import_batch import Batch
from subscriptions.import_rows import Parsed, Parser, read_rows
from subscriptions.views import ImportReport, RowError

log = logging.getLogger(__name__)

BATCH = 5_000


async def import_subscribers(
    db: Database, path: str | Path, progress: bool = True, *, bulk_copy: bool = True
) -> ImportReport:
    """Import enterprises and residents from a .csv or .xlsx file; see the module docstring.
    `bulk_copy=False` writes new rows with INSERT on PostgreSQL too (tests compare the two)."""
    rows = read_rows(Path(path))
    report = ImportReport(rows=len(rows))
    bar = tqdm(total=len(rows), unit="行", desc="导入订阅者", disable=not progress)
    batches = 0
    parser = Parser()
    try:
        for start in range(0, len(rows), BATCH):
            parsed: list[Parsed] = []
            for row in rows[start : start + BATCH]:
                try:
                    parsed.append(parser.parse(row))
                except DomainError as exc:
                    report.errors.append(RowError(row.number, exc.field or "", exc.message))
            created = report.created
            await _apply_batch(db, parsed, report, bulk_copy)
            # Only batches that grew the tables count: a re-import leaves the statistics right.
            batches += report.created > created
            if db.dialect == "postgresql" and report.created > created and batches & (batches - 1) == 0:
                await _refresh_statistics(db)  # after growing batch 1, 2, 4, 8…
            bar.update(min(BATCH, len(rows) - start))
    finally:
        bar.close()
    report.errors.sort(key=lambda e: e.row)
    return report


ROW_REFUSED = "这一行无法保存（数据库拒绝：内容超长、格式不符或与已有数据冲突），请核对后重新导入。"


async def _apply_batch(db: Database, parsed: list[Parsed], report: ImportReport, copy: bool) -> None:
    """One unit of work for the rows; if the database refuses it, each half is tried on its own,
    down to single rows, so one bad row is reported and the good rows around it are imported."""
    attempt = ImportReport(rows=0)
    try:
        async with db.session() as session:
            await Batch(session, attempt, copy=copy).run(parsed)
    except DBAPIError:
        if len(parsed) == 1:
            log.warning("subscriber import: the database refused one row")
            report.errors.append(RowError(parsed[0].number, "", ROW_REFUSED))
            return
        middle = len(parsed) // 2
        await _apply_batch(db, parsed[:middle], report, copy)
        await _apply_batch(db, parsed[middle:], report, copy)
        return
    _add(report, attempt)


IMPORTED_TABLES = "enterprise, subscriber, channel_address, subscription_topic, subscription_keyword, match_key"


async def _refresh_statistics(db: Database) -> None:
    """PostgreSQL plans the next batch's look-ups from table statistics; tables that grew from
    nearly empty would otherwise be scanned whole for every chunk (autovacuum comes too late)."""
    async with db.session() as session:
        await session.execute(text(f"ANALYZE {IMPORTED_TABLES}"))


def _add(report: ImportReport, part: ImportReport) -> None:
    report.created += part.created
    report.updated += part.updated
    report.unchanged += part.unchanged
    report.errors += part.errors
