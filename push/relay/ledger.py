"""The relay ledger (台账, work-plan item 50): per policy, per department and per quarter, as
.xlsx (two sheets: one row per hub task, one row per member contact) and .csv (UTF-8 with a
BOM so that Excel opens it in Chinese; one table, tasks or members).

Personal data is masked: contact names, chat ids / openids / robot keys, operator account
names and any ID or phone number typed into notes. Enterprise names and credit codes are
registry data, not personal data, and stay whole.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import CHINA_TZ, today_in_china
from core.errors import ValidationFailed
from core.export_cells import append_text_safe, csv_row
from policies import service as policies
from policies.service import mask_pii
from push.posters import service as posters
from push.posters.models import PlaceKind
from push.relay import store, texts
from push.relay.funnel import count_members
from push.relay.models import MemberOutcome, RelayMember
from push.relay.store import MemberTrack
from push.relay.views import task_view
from vocabulary.labels import labels

QUARTER_RE = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")
CHANNEL_LABELS = labels("channel")

TASK_HEADERS = (
    "序号", "发布日期", "发文机关", "政策标题", "文号", "园区/协会", "类型", "转达截止日", "状态", "转达方式",
    "办理时间", "办理人", "范围内会员", "系统转达", "已送达", "已阅读", "已确认", "确认率", "外部转发（报告数）",
    "是否逾期", "提醒时间", "上报发文单位时间", "备注/理由",
)
MEMBER_HEADERS = (
    "序号", "政策标题", "文号", "园区/协会", "会员企业", "统一社会信用代码", "联系人", "渠道", "接收地址",
    "转达结果", "送达时间", "阅读时间", "确认时间",
)
POSTER_HEADERS = (
    "序号", "政策标题", "发文机关", "张贴地点", "场所类型", "所属乡镇", "批次", "制作时间", "制作人", "首次打印时间",
    "打印次数", "扫码人次", "其中微信内扫码", "扫码后订阅", "扫码后咨询",
)
SHEETS = {"tasks": "转达台账", "members": "会员明细", "posters": "海报台账"}


# -- masking -------------------------------------------------------------------------------


_NAME_RUN = re.compile(r"[\u3400-\u9fff·]{2,}|[A-Za-z]{2,}")


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧***: enough to tell contacts apart in a meeting, no more."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_contact(contact: str) -> str:
    """A contact as typed, masked the way the work plan asks and still useful for a follow-up
    call: "张三 13812345678" → "张* 138****5678" (each name keeps its first character, each
    number what `mask_pii` keeps), never reduced to a single character."""
    contact = (contact or "").strip()
    if not contact:
        return ""
    masked = mask_pii(contact)
    if masked == contact and _NAME_RUN.search(contact) is None:
        return mask_name(contact)  # a one-character name still hides something
    return _NAME_RUN.sub(lambda run: mask_name(run.group()), masked)


def mask_identifier(value: str) -> str:
    """A chat id, openid or robot key: first two and last two characters kept."""
    value = (value or "").strip()
    if len(value) <= 4:
        return value[:1] + "*" * max(1, len(value) - 1) if value else ""
    return value[:2] + "*" * min(8, len(value) - 4) + value[-2:]


# -- filters -------------------------------------------------------------------------------


def parse_quarter(quarter: str | None) -> tuple[date, date] | None:
    """"2026Q1" → [2026-01-01, 2026-04-01); None or "" → no quarter filter."""
    if quarter is None or not quarter.strip():
        return None
    match = QUARTER_RE.match(quarter.strip())
    if match is None:
        raise ValidationFailed(texts.QUARTER_INVALID, field="quarter")
    year, q = int(match.group(1)), int(match.group(2))
    if not 1900 <= year <= 2100:  # date() fails past 9999; no ledger predates the county's records
        raise ValidationFailed(texts.QUARTER_INVALID, field="quarter")
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return start, end


def ledger_filename(ext: str, *, policy_id: int | None = None, agency: str | None = None,
                    quarter: str | None = None) -> str:
    parts = ["转达台账"]
    if policy_id is not None:
        parts.append(f"政策{policy_id}")
    if agency:
        parts.append(re.sub(r"[\\/:*?\"<>|\s]+", "", agency)[:40])
    if quarter:
        parts.append(quarter.strip().upper())
    return "_".join(parts) + f".{ext}"


# -- rows ----------------------------------------------------------------------------------


def _time(at: datetime | None) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


@dataclass(frozen=True)
class Ledger:
    tasks: list[list[object]]
    members: list[list[object]]
    posters: list[list[object]] = field(default_factory=list)  # QR posters per policy and place


async def build_ledger(
    session: AsyncSession, *, policy_id: int | None = None, agency: str | None = None,
    quarter: str | None = None, today: date | None = None,
) -> Ledger:
    """The ledger's rows (already masked), tasks in release order then hub name."""
    today = today or today_in_china()
    released = parse_quarter(quarter)
    tasks = await store.ledger_tasks(session, policy_id=policy_id, agency=(agency or "").strip() or None,
                                     released=released)
    tracks = await store.member_tracks(session, [t.id for t in tasks])
    by_task: dict[int, list[MemberTrack]] = defaultdict(list)
    for track in tracks:
        by_task[track.task_id].append(track)
    task_rows: list[list[object]] = []
    member_rows: list[list[object]] = []
    for n, task in enumerate(tasks, start=1):
        view = task_view(task, today)
        counts = count_members(by_task[task.id])
        rate = counts.acknowledgement_rate
        task_rows.append([
            n, _day(task.released_on), task.agency, task.policy_title, task.doc_no, task.hub_name,
            view.hub_kind_label, _day(task.due_on), view.status_label, texts.METHOD_LABELS.get(view.method, ""),
            _time(task.acted_at), mask_identifier(task.acted_by), counts.in_scope, counts.messaged, counts.reached,
            counts.read, counts.acknowledged, "" if rate is None else f"{rate:.0%}", task.external_count,
            "是" if view.overdue or task.escalated_at else "否", _time(task.reminded_at), _time(task.escalated_at),
            mask_pii(task.note),
        ])
        tracked = {t.member_id: t for t in by_task[task.id]}
        for member in await store.members_of(session, task.id):
            member_rows.append(_member_row(len(member_rows) + 1, task.policy_title, task.doc_no, task.hub_name,
                                           member, tracked.get(member.id)))
    poster_rows = await _poster_rows(session, policy_id=policy_id, agency=(agency or "").strip() or None,
                                     released=released)
    return Ledger(task_rows, member_rows, poster_rows)


async def _poster_rows(session: AsyncSession, *, policy_id: int | None, agency: str | None,
                       released: tuple[date, date] | None) -> list[list[object]]:
    """One row per poster (a place a policy was posted at), with its scans and what followed."""
    rows: list[list[object]] = []
    agencies: dict[int, str] = {}
    for row in await posters.posters_with_counts(session, policy_id):
        p, counts = row.poster, row.counts
        if p.policy_id not in agencies:
            agencies[p.policy_id] = (await policies.get_policy(session, p.policy_id)).agency
        made_on = p.created_at.astimezone(CHINA_TZ).date()
        if (agency and agencies[p.policy_id] != agency) or (released and not released[0] <= made_on <= released[1]):
            continue
        rows.append([
            len(rows) + 1, p.policy_title, agencies[p.policy_id], mask_pii(p.place_name),
            PlaceKind.LABELS.get(p.place_kind, p.place_kind), p.township, p.batch, _time(p.created_at),
            mask_identifier(p.created_by), _time(p.printed_at), p.print_count, counts.scans, counts.scans_in_wechat,
            counts.subscriptions, counts.questions,
        ])
    return rows


def _member_row(n: int, title: str, doc_no: str, hub: str, m: RelayMember, t: MemberTrack | None) -> list[object]:
    credited = m.outcome in MemberOutcome.CREDITED and t is not None
    return [
        n, title, doc_no, hub, m.enterprise_name, m.credit_code, mask_contact(m.contact_name),
        CHANNEL_LABELS.get(m.channel, m.channel), mask_identifier(m.address),
        MemberOutcome.LABELS.get(m.outcome, m.outcome),
        _time(t.sent_at) if credited and t else "", _time(t.read_at) if credited and t else "",
        _time(t.acknowledged_at) if credited and t else "",
    ]


# -- files ---------------------------------------------------------------------------------


def _display_width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _sheet(wb: Workbook, title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], first: bool) -> None:
    ws = wb.active if first else wb.create_sheet()
    assert ws is not None
    ws.title = title
    ws.append(list(headers))
    for row in rows:
        append_text_safe(ws, row)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, header in enumerate(headers, start=1):
        widest = max([_display_width(header), *(_display_width(r[index - 1]) for r in rows)])
        ws.column_dimensions[get_column_letter(index)].width = min(60, max(6, widest + 2))
    ws.freeze_panes = "A2"  # the header row stays in view while scrolling
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


def ledger_xlsx(ledger: Ledger) -> bytes:
    wb = Workbook()
    _sheet(wb, SHEETS["tasks"], TASK_HEADERS, ledger.tasks, first=True)
    _sheet(wb, SHEETS["members"], MEMBER_HEADERS, ledger.members, first=False)
    _sheet(wb, SHEETS["posters"], POSTER_HEADERS, ledger.posters, first=False)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ledger_csv(ledger: Ledger, sheet: str = "tasks") -> bytes:
    if sheet not in SHEETS:
        raise ValidationFailed("sheet 只能是 tasks（转达台账）、members（会员明细）或 posters（海报台账）。",
                               field="sheet")
    headers, rows = {"tasks": (TASK_HEADERS, ledger.tasks), "members": (MEMBER_HEADERS, ledger.members),
                     "posters": (POSTER_HEADERS, ledger.posters)}[sheet]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(csv_row(row) for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def export_ledger(
    session: AsyncSession, fmt: str, *, policy_id: int | None = None, agency: str | None = None,
    quarter: str | None = None, sheet: str = "tasks", today: date | None = None,
) -> bytes:
    """The ledger file: fmt "xlsx" or "csv" (`sheet` picks the csv's table)."""
    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("导出格式只能是 xlsx 或 csv。", field="format")
    ledger = await build_ledger(session, policy_id=policy_id, agency=agency, quarter=quarter, today=today)
    return ledger_xlsx(ledger) if fmt == "xlsx" else ledger_csv(ledger, sheet)


__all__ = [
    "Ledger",
    "build_ledger",
    "export_ledger",
    "ledger_csv",
    "ledger_filename",
    "ledger_xlsx",
    "mask_contact",
    "mask_identifier",
    "mask_name",
    "parse_quarter",
]
