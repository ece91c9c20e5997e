"""Console page of enterprise claims: pending claims the user may decide (approve / refuse),
and one-time invite codes for an enterprise, shown once. Who may: as the API
(`web.api.claims.approver_of`); the rule itself is in `subscriptions.claims`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from core.errors import DomainError, ValidationFailed
from subscriptions import service as subscriptions
from subscriptions.service import INVITE_DEFAULT_DAYS, INVITE_MAX_DAYS
from web.api.claims import approver_of
from web.api.fields import MAX_ID
from web.auth import ConsolePrincipal, CsrfChecked
from web.console.common import render, see_other

router = APIRouter(prefix="/console/claims", include_in_schema=False)

ClaimId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("")
async def claims_page(
    request: Request, principal: ConsolePrincipal, message: Annotated[str, Query(max_length=300)] = ""
) -> Response:
    approver = approver_of(principal)
    async with request.app.state.db.reader() as session:
        pending = await subscriptions.claims_for(session, approver)
    return render(request, "claims/list.html", principal, claims=pending, message=message, issued=None,
                  default_days=INVITE_DEFAULT_DAYS, max_days=INVITE_MAX_DAYS)


@router.post("/{claim_id}/{decision}", dependencies=[CsrfChecked])
async def decide(request: Request, principal: ConsolePrincipal, claim_id: ClaimId, decision: str) -> Response:
    if decision not in ("approve", "refuse"):
        raise ValidationFailed("未知的操作", field="decision")
    approver = approver_of(principal)
    async with request.app.state.db.session() as session:
        claim = await subscriptions.decide_claim(session, claim_id, approver, approve=decision == "approve")
    return see_other(f"/console/claims?message=认领申请 {claim.id} {claim.status_label}")


@router.post("/invites", dependencies=[CsrfChecked])
async def issue_invite(request: Request, principal: ConsolePrincipal) -> Response:
    approver = approver_of(principal)
    form = await request.form()
    raw_id, raw_days = str(form.get("enterprise_id") or ""), str(form.get("days") or INVITE_DEFAULT_DAYS)
    message = ""
    issued = None
    try:
        if not raw_id.isdigit() or not 1 <= int(raw_id) <= MAX_ID:
            raise ValidationFailed("请填写企业编号（数字）", field="enterprise_id")
        if not raw_days.isdigit():
            raise ValidationFailed(f"有效天数须在 1 到 {INVITE_MAX_DAYS} 之间", field="days")
        async with request.app.state.db.session() as session:
            issued = await subscriptions.issue_enterprise_invite(session, int(raw_id), approver, days=int(raw_days))
            enterprise = await subscriptions.get_enterprise(session, issued.enterprise_id)
    except DomainError as exc:
        message = exc.message
        enterprise = None
    async with request.app.state.db.reader() as session:
        pending = await subscriptions.claims_for(session, approver)
    return render(request, "claims/list.html", principal, status_code=201 if issued else 422, claims=pending,
                  message=message, issued=issued, enterprise=enterprise, default_days=INVITE_DEFAULT_DAYS,
                  max_days=INVITE_MAX_DAYS)
