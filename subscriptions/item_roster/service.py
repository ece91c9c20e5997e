"""The roster of one item: enterprises known to the county whose registered profile meets its
conditions (or may: 需核实), with what the department recorded (applied, granted), and the
export a department uses to grant a 免申即享 item.

"Known to the county" is one predicate, passed in: until enterprises are verified it means
"registered with a 统一社会信用代码"."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import ValidationFailed
from policies.service import check_conditions, name_of
from policies.views import ItemView, Outcome
from subscriptions.claims import known_to_county_clause
from subscriptions.item_profile import enterprise_profile
from subscriptions.item_roster.models import ApplicationStatus, ItemApplication
from subscriptions.models import Enterprise
from subscriptions.views import EnterpriseView, RosterEntry

KnownPredicate = Callable[[], ColumnElement[bool]]
CSV_HEADERS = ("企业名称", "统一社会信用代码", "乡镇", "行业", "判断", "需核实的条件", "状态")


def registered_in_the_county() -> ColumnElement[bool]:
    # Known to the county (never one only named in a chat), and with the credit code a grant
    # list needs.
    return known_to_county_clause() & Enterprise.credit_code.is_not(None)


async def known_enterprises(session: AsyncSession,
                            is_known: KnownPredicate = registered_in_the_county) -> list[EnterpriseView]:
    """Enterprises known to the county, by name."""
    rows = (await session.execute(select(Enterprise).where(is_known()).order_by(Enterprise.name, Enterprise.id)))
    return [EnterpriseView(e.id, e.name, e.credit_code, e.industry, e.size, tuple(e.qualifications or ()), e.township)
            for e in rows.scalars().all()]


async def roster(session: AsyncSession, policy_id: int, item: ItemView, today: date,
                 is_known: KnownPredicate = registered_in_the_county) -> list[RosterEntry]:
    """Known enterprises that meet (first) or may meet the item, each with its recorded status."""
    recorded = dict((await session.execute(
        select(ItemApplication.enterprise_id, ItemApplication.status)
        .where(ItemApplication.policy_id == policy_id, ItemApplication.item_name == item.name))).all())  # fmt: skip
    entries = []
    for enterprise in await known_enterprises(session, is_known):
        checks = check_conditions(item.conditions, enterprise_profile(enterprise), today)
        if any(c.outcome == Outcome.NOT_MET for c in checks):
            continue
        unknown = tuple(c.condition.describe() for c in checks if c.outcome == Outcome.UNKNOWN)
        entries.append(RosterEntry(enterprise, Outcome.UNKNOWN if unknown else Outcome.MET, unknown,
                                   recorded.get(enterprise.id, "")))
    return sorted(entries, key=lambda e: (e.outcome != Outcome.MET, e.enterprise.name))


async def record(session: AsyncSession, policy_id: int, item_name: str, enterprise_id: int, status: str,
                 actor: str) -> None:
    """Records that the enterprise applied for, or was granted, the item ("" clears it)."""
    if status not in (*ApplicationStatus.ALL, ""):
        raise ValidationFailed("状态只能是已申请、已兑现或清除", field="status")
    found = (await session.execute(select(ItemApplication).where(
        ItemApplication.policy_id == policy_id, ItemApplication.item_name == item_name,
        ItemApplication.enterprise_id == enterprise_id))).scalar_one_or_none()  # fmt: skip
    if not status:
        if found is not None:
            await session.delete(found)
        return
    if found is None:
        session.add(ItemApplication(policy_id=policy_id, item_name=item_name, enterprise_id=enterprise_id,
                                    status=status, recorded_by=actor, recorded_at=now()))
    else:
        found.status, found.recorded_by, found.recorded_at = status, actor, now()


def _cell(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def roster_csv(entries: list[RosterEntry]) -> bytes:
    """UTF-8 with BOM (Excel opens it in Chinese), one row per enterprise."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for e in entries:
        ent = e.enterprise
        writer.writerow([_cell(v) for v in (
            ent.name, ent.credit_code or "", name_of("township", ent.township) if ent.township else "",
            name_of("industry", ent.industry) if ent.industry else "", e.judgement, "；".join(e.to_verify),
            e.status_label)])  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")
