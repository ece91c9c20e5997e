"""Boards: what needs a department's attention today.

- interpretations due (published within the last 3 working days, no interpretation yet) and
  overdue (past `Interpretation.due_on` with none) — work-plan item 18;
- policies expiring within 30 days;
- the most frequent unanswered questions (Q&A log), linked to the FAQ pages;
- dead-lettered deliveries (push, when it offers them);
- department notices written by the scheduled jobs (push.jobs): interpretation due tomorrow or
  overdue, policies expiring within 30 days; the board is where departments receive them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.clock import today_in_china
from policies import service as policies
from policies.service import qa
from policies.views import PolicyView, UnansweredQuestion
from push.service import dead_letters, scheduled
from push.views import DeadLetter
from vocabulary.codes import PolicyStatus
from web.accounts import Principal
from web.auth import ConsolePrincipal, may_see_figures
from web.console.common import render

router = APIRouter(prefix="/console", include_in_schema=False)

EXPIRY_HORIZON = timedelta(days=30)
UNANSWERED_SHOWN = 20


@dataclass(frozen=True)
class InterpretationDue:
    policy: PolicyView
    due_on: date
    overdue: bool


async def interpretation_board(request: Request, principal: Principal, today: date) -> list[InterpretationDue]:
    rows: list[InterpretationDue] = []
    async with request.app.state.db.reader() as session:
        published, _ = await policies.list_policies(session, statuses=[PolicyStatus.PUBLISHED], limit=10_000)
        for policy in published:
            if not may_see_figures(principal, policy.agency):
                continue
            interpretation = await policies.get_interpretation(session, policy.id)
            if interpretation is None or interpretation.due_on is None:
                continue
            if any((v or "").strip() for v in interpretation.elements.values()):
                continue
            rows.append(InterpretationDue(policy=policy, due_on=interpretation.due_on,
                                          overdue=interpretation.due_on < today))
    return sorted(rows, key=lambda r: r.due_on)


async def expiring_board(request: Request, principal: Principal, today: date) -> list[PolicyView]:
    async with request.app.state.db.reader() as session:
        published, _ = await policies.list_policies(session, statuses=[PolicyStatus.PUBLISHED], limit=10_000)
    horizon = today + EXPIRY_HORIZON
    return sorted((p for p in published if p.expiry_date and today <= p.expiry_date <= horizon
                   and may_see_figures(principal, p.agency)), key=lambda p: p.expiry_date or today)


async def unanswered_board(request: Request) -> list[UnansweredQuestion]:
    async with request.app.state.db.reader() as session:
        return await qa.top_unanswered(session, limit=UNANSWERED_SHOWN)


async def dead_letter_board(request: Request) -> list[DeadLetter]:
    async with request.app.state.db.reader() as session:
        return await dead_letters(session, limit=20)


async def notice_board(request: Request, principal: Principal) -> list[scheduled.NoticeView]:
    async with request.app.state.db.reader() as session:
        notices = await scheduled.department_notices(session)
    return [n for n in notices if may_see_figures(principal, n.agency)]


@router.get("/boards")
async def boards(request: Request, principal: ConsolePrincipal) -> Response:
    today = today_in_china()
    return render(
        request, "console/boards.html", principal, today=today,
        interpretations=await interpretation_board(request, principal, today),
        expiring=await expiring_board(request, principal, today),
        unanswered=await unanswered_board(request),
        dead_letters=await dead_letter_board(request),
        notices=await notice_board(request, principal),
    )
