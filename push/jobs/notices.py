"""Department notices: interpretation deadlines and policies about to expire.

The releasing department (the policy's agency) is told on its console boards; there are no
department chat addresses. Each notice exists once per (policy, kind) and is resolved by a
later run once its cause is gone.

Interpretations are due 3 working days after publication (`Interpretation.due_on`, computed
at publish with the China working-day calendar). The department is reminded from the working
day before the due date; after the due date the notice says overdue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from core import clock
from core.db import Database
from core.workdays import previous_working_day
from policies import service as policies
from policies.views import InterpretationView, PolicyView
from push.jobs import store, texts
from push.jobs.models import NoticeKind
from vocabulary.codes import PolicyStatus

EXPIRY_WARNING_DAYS = 30
INTERPRETATION_KINDS = (NoticeKind.INTERPRETATION_DUE, NoticeKind.INTERPRETATION_OVERDUE)


@dataclass
class NoticeReport:
    created: dict[str, list[int]] = field(default_factory=dict)  # kind -> policy ids
    resolved: int = 0

    def add(self, kind: str, policy_id: int) -> None:
        self.created.setdefault(kind, []).append(policy_id)


def interpretation_written(interpretation: InterpretationView | None) -> bool:
    """The same test the boards use: any element filled in."""
    return interpretation is not None and any((v or "").strip() for v in interpretation.elements.values())


def interpretation_stage(due_on: date, today: date) -> str | None:
    """Which interpretation notice applies today (None: not yet)."""
    if today > due_on:
        return NoticeKind.INTERPRETATION_OVERDUE
    if today >= previous_working_day(due_on):
        return NoticeKind.INTERPRETATION_DUE
    return None


def _notice(policy: PolicyView, kind: str, due_on: date, template: str) -> dict[str, object]:
    return {
        "policy_id": policy.id, "kind": kind, "agency": policy.agency, "policy_title": policy.title[:300],
        "due_on": due_on, "message": template.format(title=policy.title, due=texts.cn_date(due_on)),
        "created_at": clock.now(), "resolved_at": None,
    }


async def _published(db: Database) -> list[PolicyView]:

    async with db.reader() as session:
        rows, _ = await policies.list_policies(session, statuses=[PolicyStatus.PUBLISHED], limit=1_000_000)
    return rows


async def check_interpretations(db: Database, today: date) -> NoticeReport:

    report = NoticeReport()
    published = await _published(db)
    async with db.session() as session:
        settled: set[int] = set()
        for policy in published:
            interpretation = await policies.get_interpretation(session, policy.id)
            if interpretation_written(interpretation) or interpretation is None or interpretation.due_on is None:
                settled.add(policy.id)
                continue
            kind = interpretation_stage(interpretation.due_on, today)
            if kind is None:
                continue
            template = texts.INTERPRETATION_OVERDUE if kind == NoticeKind.INTERPRETATION_OVERDUE \
                else texts.INTERPRETATION_DUE
            if await store.add_notice(session, _notice(policy, kind, interpretation.due_on, template)):
                report.add(kind, policy.id)
            if kind == NoticeKind.INTERPRETATION_OVERDUE:  # "due" is superseded, not shown twice
                report.resolved += await store.resolve_notices(
                    session, [policy.id], [NoticeKind.INTERPRETATION_DUE], clock.now())
        gone = await store.unresolved_policy_ids(session, INTERPRETATION_KINDS) - {p.id for p in published}
        report.resolved += await store.resolve_notices(session, settled | gone, INTERPRETATION_KINDS, clock.now())
    return report


async def warn_expiring(db: Database, today: date) -> NoticeReport:
    report = NoticeReport()
    published = await _published(db)
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    async with db.session() as session:
        in_window: set[int] = set()
        for policy in published:
            if policy.expiry_date is None or not today <= policy.expiry_date <= horizon:
                continue
            in_window.add(policy.id)
            notice = _notice(policy, NoticeKind.EXPIRY_WARNING, policy.expiry_date, texts.EXPIRY_WARNING)
            if await store.add_notice(session, notice):
                report.add(NoticeKind.EXPIRY_WARNING, policy.id)
        # Expired, repealed, or its expiry date moved out of the window by an amendment.
        stale = await store.unresolved_policy_ids(session, [NoticeKind.EXPIRY_WARNING]) - in_window
        report.resolved += await store.resolve_notices(session, stale, [NoticeKind.EXPIRY_WARNING], clock.now())
    return report
