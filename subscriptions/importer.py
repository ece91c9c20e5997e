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
enterprise is found by credit code, a contact by its channel address. Rows are committed in
batches; each batch runs in its own unit of work.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from core.db import Database
from core.errors import DomainError, ValidationFailed
from subscriptions import service, store
from subscriptions import validation as valid
from subscriptions.views import ImportReport, RowError

BATCH = 500
COLUMNS = {
    "kind": ("类型", "kind", "订阅者类型"),
    "name": ("名称", "name", "企业名称", "姓名"),
    "credit_code": ("统一社会信用代码", "credit_code", "信用代码"),
    "industry": ("行业", "industry", "行业门类"),
    "size": ("规模", "size", "企业规模"),
    "qualifications": ("资质", "qualifications"),
    "groups": ("人群", "groups", "身份"),
    "township": ("乡镇", "township"),
    "channel": ("渠道", "channel"),
    "address": ("地址", "address", "渠道地址"),
    "contact": ("联系人", "contact"),
    "topics": ("主题", "topics"),
    "keywords": ("关键词", "keywords"),
    "hub": ("园区协会", "hub", "园区", "协会"),
}
_SPLIT = re.compile(r"[、,，;；\s]+")


@dataclass
class ImportRow:
    number: int
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def words(self, name: str) -> list[str]:
        return [w for w in _SPLIT.split(self.get(name)) if w]


def _header_map(header: list[str]) -> dict[int, str]:
    lookup = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}
    return {i: lookup[h.strip().lower()] for i, h in enumerate(header) if h and h.strip().lower() in lookup}


def _rows_from_table(table: Iterator[list[str]]) -> Iterator[ImportRow]:
    header = next(table, None)
    if header is None:
        return
    columns = _header_map(header)
    for number, cells in enumerate(table, start=2):
        if not any((c or "").strip() for c in cells):
            continue
        yield ImportRow(number, {columns[i]: (c or "") for i, c in enumerate(cells) if i in columns})


def _csv_table(path: Path) -> Iterator[list[str]]:
    # utf-8-sig: Excel writes a BOM; GB18030 is what older registry exports use.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with path.open(encoding=encoding, newline="") as fh:
                rows = list(csv.reader(fh))
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationFailed("无法识别文件编码，请另存为 UTF-8 编码的 CSV。", field="file")
    yield from rows


def _xlsx_table(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield ["" if v is None else str(v) for v in values]
    finally:
        workbook.close()


def read_rows(path: Path) -> list[ImportRow]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return list(_rows_from_table(_csv_table(path)))
    if suffix == ".xlsx":
        return list(_rows_from_table(_xlsx_table(path)))
    raise ValidationFailed("只能导入 .csv 或 .xlsx 文件。", field="file")


async def import_subscribers(db: Database, path: str | Path, progress: bool = True) -> ImportReport:
    """Import enterprises and residents from a .csv or .xlsx file; see the module docstring."""
    rows = read_rows(Path(path))
    report = ImportReport(rows=len(rows))
    bar = tqdm(total=len(rows), unit="行", desc="导入订阅者", disable=not progress)
    try:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            async with db.session() as session:
                for row in batch:
                    await _import_one(session, row, report)
            bar.update(len(batch))
    finally:
        bar.close()
    return report


async def _import_one(session: AsyncSession, row: ImportRow, report: ImportReport) -> None:
    # A savepoint per row: a row that fails half-way leaves nothing behind.
    savepoint = await session.begin_nested()
    try:
        outcome = await _apply(session, row)
    except DomainError as exc:
        await savepoint.rollback()
        report.errors.append(RowError(row.number, exc.field or "", exc.message))
        return
    await savepoint.commit()
    if outcome == "created":
        report.created += 1
    elif outcome == "updated":
        report.updated += 1
    else:
        report.unchanged += 1


def _kind(row: ImportRow) -> str:
    text = row.get("kind").lower()
    if text in ("企业", "enterprise"):
        return "enterprise"
    if text in ("居民", "个人", "resident"):
        return "resident"
    if not text:
        return "enterprise" if row.get("credit_code") else "resident"
    raise ValidationFailed(f"类型“{row.get('kind')}”无法识别，请填 企业 或 居民。", field="kind")


async def _apply(session: AsyncSession, row: ImportRow) -> str:
    kind = _kind(row)
    topics = [valid.topic(t) for t in row.words("topics")]
    keywords = [valid.keyword(k)[0] for k in row.words("keywords")]
    channel = valid.channel(row.get("channel")) if row.get("channel") else ""
    address = valid.address(row.get("address")) if channel else ""
    if row.get("address") and not channel:
        raise ValidationFailed("填写了地址但没有填写渠道。", field="channel")
    if kind == "enterprise":
        return await _apply_enterprise(session, row, topics, keywords, channel, address)
    existing = await store.address_by_channel(session, channel, address) if channel else None
    if existing is None and not channel:
        raise ValidationFailed("居民须填写渠道和地址，才能收到推送。", field="address")
    if existing is not None:
        before = await service.get_subscriber(session, existing.subscriber_id)
        if before.kind != "resident":
            raise ValidationFailed("这个渠道地址已登记为企业或园区联系人。", field="address")
        view = await service.set_resident_profile(
            session, existing.subscriber_id, township=row.get("township"), groups=row.words("groups")
        )
        sid = existing.subscriber_id
        outcome = "unchanged"
    else:
        view = await service.create_resident(
            session,
            display_name=row.get("name") or row.get("contact"),
            township=row.get("township"),
            groups=row.words("groups"),
            channel=channel,
            address=address,
        )
        sid, before, outcome = view.id, None, "created"
    view = await _criteria(session, sid, topics, keywords)
    if before is not None and _criteria_key(before) != _criteria_key(view):
        outcome = "updated"
    return outcome


def _criteria_key(view: object) -> tuple[object, ...]:
    return tuple(getattr(view, f) for f in ("township", "groups", "topics", "keywords", "enterprise_id"))


async def _criteria(session: AsyncSession, sid: int, topics: list[str], keywords: list[str]) -> service.SubscriberView:
    view = None
    if topics:
        view = await service.subscribe_topics(session, sid, topics)
    if keywords:
        view = await service.add_keywords(session, sid, keywords)
    return view or await service.get_subscriber(session, sid)


async def _apply_enterprise(
    session: AsyncSession,
    row: ImportRow,
    topics: list[str],
    keywords: list[str],
    channel: str,
    address: str,
) -> str:
    if not row.get("credit_code"):
        raise ValidationFailed("企业须填写统一社会信用代码。", field="credit_code")
    code = valid.credit_code(row.get("credit_code"))
    if channel:
        existing = await store.address_by_channel(session, channel, address)
        if existing is not None:
            owner = await service.get_subscriber(session, existing.subscriber_id)
            ent = await store.enterprise_by_credit_code(session, code)
            if ent is None or owner.enterprise_id != ent.id:
                raise ValidationFailed("这个渠道地址已登记在另一位订阅者名下。", field="address")
    hub = None
    if row.get("hub"):
        hub = await store.hub_by_name(session, row.get("hub"))
        if hub is None:
            raise ValidationFailed(f"没有登记名为“{row.get('hub')}”的园区或协会。", field="hub")
    before = await store.enterprise_by_credit_code(session, code)
    snapshot = None if before is None else _enterprise_key(before)
    ent = await service.save_enterprise(
        session,
        name=row.get("name"),
        credit_code=code,
        industry=row.get("industry"),
        size=row.get("size"),
        qualifications=row.words("qualifications"),
        township=row.get("township"),
    )
    changed = snapshot is not None and snapshot != _enterprise_key(ent)
    if channel:
        had = await store.address_by_channel(session, channel, address)
        contact = await service.add_enterprise_contact(
            session, ent.id, channel=channel, address=address, display_name=row.get("contact")
        )
        old = None if had is None else await service.get_subscriber(session, contact.id)
        new = await _criteria(session, contact.id, topics, keywords)
        changed = changed or (had is None and before is not None)
        changed = changed or (old is not None and _criteria_key(old) != _criteria_key(new))
    if hub is not None:
        changed = await service.add_hub_member(session, hub.id, ent.id, via="import") or changed
    if before is None:
        return "created"
    return "updated" if changed else "unchanged"


def _enterprise_key(ent: object) -> tuple[object, ...]:
    return tuple(
        tuple(v) if isinstance(v := getattr(ent, f), list | tuple) else v
        for f in ("name", "industry", "size", "qualifications", "township")
    )
