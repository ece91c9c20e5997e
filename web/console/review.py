"""The review queue: reviewers approve or return submitted drafts (never their own: the
policy service refuses that whichever door it comes through)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.errors import DomainError
from policies import service as policies
from vocabulary.codes import PolicyStatus
from web.auth import ConsolePrincipal, CsrfChecked, may_review, may_see_unreleased, require_review
from web.console.common import render, see_other

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/review")
async def review_queue(request: Request, principal: ConsolePrincipal, error: str = "") -> Response:
    async with request.app.state.db.reader() as session:
        submitted, _ = await policies.list_policies(session, statuses=[PolicyStatus.SUBMITTED], limit=500)
        approved, _ = await policies.list_policies(session, statuses=[PolicyStatus.APPROVED], limit=500)
    queue = [p for p in submitted if may_review(principal, p.agency)]
    waiting = [p for p in approved if may_see_unreleased(principal, p.agency)]
    # An editor follows its own submissions here too, instead of an empty queue.
    mine = [p for p in submitted if not may_review(principal, p.agency) and p.agency == principal.agency]
    return render(request, "console/review.html", principal, queue=queue, waiting=waiting, mine=mine,
                  error=error[:300])


async def _decide(request: Request, principal: ConsolePrincipal, policy_id: int, approve: bool) -> Response:
    form = await request.form()
    comment = str(form.get("comment") or "")
    try:
        async with request.app.state.db.session() as session:
            require_review(principal, (await policies.get_policy(session, policy_id)).agency)
            if approve:
                await policies.approve(session, policy_id, principal.actor, comment,
                                       review_levels=request.app.state.settings.review_levels)
            else:
                await policies.return_draft(session, policy_id, principal.actor, comment)
    except DomainError as exc:
        if exc.status_code == 403 and exc.field != "reviewer":
            raise
        async with request.app.state.db.reader() as session:
            policy = await policies.get_policy(session, policy_id)
        return render(request, "console/review.html", principal, status_code=exc.status_code, queue=[policy],
                      waiting=[], mine=[], error=exc.message, comment=comment, error_field=exc.field)
    return see_other("/console/review")


@router.post("/policies/{policy_id}/approve", dependencies=[CsrfChecked])
async def approve(request: Request, principal: ConsolePrincipal, policy_id: int) -> Response:
    return await _decide(request, principal, policy_id, approve=True)


@router.post("/policies/{policy_id}/return", dependencies=[CsrfChecked])
async def return_draft(request: Request, principal: ConsolePrincipal, policy_id: int) -> Response:
    return await _decide(request, principal, policy_id, approve=False)
