"""Enterprise claims and invite codes through `subscriptions.service`.

Who may decide: admins and department editors (departments hold the registries) and the
operator of a park the enterprise is a member of. The rule itself is in
`subscriptions.claims`; `approver_of` only says who the principal is."""

from __future__ import annotations

import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from core.errors import Forbidden
from subscriptions import service as subscriptions
from subscriptions.service import INVITE_DEFAULT_DAYS, INVITE_MAX_DAYS
from web.accounts import Principal
from web.api.common import ERROR_RESPONSES
from web.api.fields import MAX_ID, WHOLE
from web.auth import ApiPrincipal
from web.models import Role

router = APIRouter(prefix="/api", tags=["企业认领"], responses=ERROR_RESPONSES)

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def approver_of(principal: Principal) -> subscriptions.Approver:
    """The claims approver a console user or token stands for; Forbidden for other roles."""
    label = f"{principal.role_label}{principal.display_name or principal.actor}"
    if principal.role in (Role.ADMIN, Role.EDITOR):
        return subscriptions.Approver.department_staff(label)
    if principal.role == Role.HUB_OPERATOR and principal.hub_id is not None:
        return subscriptions.Approver.hub_operator(principal.hub_id, label)
    raise Forbidden("只有管理员、部门编辑或企业所在园区的联络员可以处理企业认领", field="role")


class ClaimOut(BaseModel):
    id: int
    enterprise_id: int
    enterprise_name: str
    subscriber_id: int
    claimed_name: str = Field(description="申请人在对话中自报的企业名称")
    status: str = Field(description="pending 待审核 / approved 已同意 / refused 已拒绝")
    status_label: str
    decided_by: str
    created_at: datetime.datetime

    @classmethod
    def of(cls, c: subscriptions.ClaimView) -> ClaimOut:
        return cls(id=c.id, enterprise_id=c.enterprise_id, enterprise_name=c.enterprise_name,
                   subscriber_id=c.subscriber_id, claimed_name=c.claimed_name, status=c.status,
                   status_label=c.status_label, decided_by=c.decided_by, created_at=c.created_at)


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: Annotated[int, WHOLE] = Field(INVITE_DEFAULT_DAYS, ge=1, le=INVITE_MAX_DAYS, description="有效天数")


class InviteOut(BaseModel):
    code: str = Field(description="一次性认领码，只显示这一次；企业联系人在对话中发送“认领 认领码”")
    enterprise_id: int
    expires_at: datetime.datetime


@router.get("/enterprise-claims", summary="待我审核的企业认领申请")
async def list_claims(request: Request, principal: ApiPrincipal) -> list[ClaimOut]:
    approver = approver_of(principal)
    async with request.app.state.db.reader() as session:
        return [ClaimOut.of(c) for c in await subscriptions.claims_for(session, approver)]


async def _decide(request: Request, principal: Principal, claim_id: int, approve: bool) -> ClaimOut:
    approver = approver_of(principal)
    async with request.app.state.db.session() as session:
        return ClaimOut.of(await subscriptions.decide_claim(session, claim_id, approver, approve=approve))


@router.post("/enterprise-claims/{claim_id}/approve", summary="同意认领（申请人成为企业已认证联系人）")
async def approve_claim(request: Request, principal: ApiPrincipal, claim_id: IdPath) -> ClaimOut:
    return await _decide(request, principal, claim_id, True)


@router.post("/enterprise-claims/{claim_id}/refuse", summary="拒绝认领")
async def refuse_claim(request: Request, principal: ApiPrincipal, claim_id: IdPath) -> ClaimOut:
    return await _decide(request, principal, claim_id, False)


@router.post("/enterprises/{enterprise_id}/invites", status_code=201, summary="签发一次性企业认领码")
async def issue_invite(request: Request, principal: ApiPrincipal, enterprise_id: IdPath,
                       invite: InviteIn | None = None) -> InviteOut:
    approver = approver_of(principal)
    days = invite.days if invite else INVITE_DEFAULT_DAYS
    async with request.app.state.db.session() as session:
        issued = await subscriptions.issue_enterprise_invite(session, enterprise_id, approver, days=days)
    return InviteOut(code=issued.code, enterprise_id=issued.enterprise_id, expires_at=issued.expires_at)
