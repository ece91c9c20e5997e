"""Policy routes of the REST API: the lifecycle through `policies.service`, with the role
check done before anything changes, in the same unit of work."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from policies import service as policies
from vocabulary.codes import PolicyStatus
from web import policy_actions as actions
from web.api.common import ERROR_RESPONSES, Limit, Offset, Page, PolicyId, QueryText
from web.api.schemas import (
    AmendmentIn,
    InterpretationIn,
    InterpretationOut,
    PolicyDetailOut,
    PolicyDraftIn,
    PolicyOut,
    RepealIn,
    ReviewIn,
    RevisionOut,
)
from web.auth import ApiPrincipal, may_see_unreleased, require_edit, require_review, require_visible

router = APIRouter(prefix="/api/policies", tags=["政策"], responses=ERROR_RESPONSES)

Status = Literal["draft", "submitted", "approved", "published", "expired", "repealed"]


def _base(request: Request) -> str:
    return request.app.state.settings.effective_public_base_url


@router.post("", status_code=201, summary="起草政策（草稿）")
async def create_draft(request: Request, principal: ApiPrincipal, draft: PolicyDraftIn) -> PolicyOut:
    agency = (draft.agency or principal.agency or "").strip()
    require_edit(principal, agency)
    async with request.app.state.db.session() as session:
        view = await policies.create_draft(session, draft.to_input(agency), principal.actor)
    return PolicyOut.of(view, _base(request))


@router.put("/{policy_id}", summary="修改草稿（整体替换）")
async def update_draft(request: Request, principal: ApiPrincipal, policy_id: PolicyId,
                       draft: PolicyDraftIn) -> PolicyOut:
    async with request.app.state.db.session() as session:
        current = await policies.get_policy(session, policy_id)
        require_edit(principal, current.agency)
        agency = (draft.agency or current.agency).strip()
        require_edit(principal, agency)
        view = await policies.update_draft(session, policy_id, draft.to_input(agency), principal.actor)
    return PolicyOut.of(view, _base(request))


@router.put("/{policy_id}/interpretation", summary="添加或替换政策解读")
async def set_interpretation(request: Request, principal: ApiPrincipal, policy_id: PolicyId,
                             interpretation: InterpretationIn) -> InterpretationOut:
    async with request.app.state.db.session() as session:
        require_edit(principal, (await policies.get_policy(session, policy_id)).agency)
        view = await policies.set_interpretation(session, policy_id, interpretation.to_input(), principal.actor)
    return InterpretationOut.of(view)


@router.post("/{policy_id}/submit", summary="提交审核")
async def submit(request: Request, principal: ApiPrincipal, policy_id: PolicyId) -> PolicyOut:
    view = await actions.submit(request.app.state.db, principal, policy_id)
    return PolicyOut.of(view, _base(request))


@router.post("/{policy_id}/approve", summary="审核通过（本级）")
async def approve(request: Request, principal: ApiPrincipal, policy_id: PolicyId, review: ReviewIn) -> PolicyOut:
    async with request.app.state.db.session() as session:
        require_review(principal, (await policies.get_policy(session, policy_id)).agency)
        view = await policies.approve(session, policy_id, principal.actor, review.comment,
                                      review_levels=request.app.state.settings.review_levels)
    return PolicyOut.of(view, _base(request))


@router.post("/{policy_id}/return", summary="退回修改")
async def return_draft(request: Request, principal: ApiPrincipal, policy_id: PolicyId,
                       review: ReviewIn) -> PolicyOut:
    async with request.app.state.db.session() as session:
        require_review(principal, (await policies.get_policy(session, policy_id)).agency)
        view = await policies.return_draft(session, policy_id, principal.actor, review.comment)
    return PolicyOut.of(view, _base(request))


@router.post("/{policy_id}/publish", summary="发布（须已审核通过）")
async def publish(request: Request, principal: ApiPrincipal, policy_id: PolicyId) -> PolicyOut:
    view = await actions.publish(request.app.state.db, principal, policy_id)
    return PolicyOut.of(view, _base(request))


@router.post("/{policy_id}/amend", summary="修订（生成新版本）")
async def amend(request: Request, principal: ApiPrincipal, policy_id: PolicyId, amendment: AmendmentIn) -> PolicyOut:
    view = await actions.amend(request.app.state.db, principal, policy_id, amendment.to_input)
    return PolicyOut.of(view, _base(request))


@router.post("/{policy_id}/repeal", summary="废止")
async def repeal(request: Request, principal: ApiPrincipal, policy_id: PolicyId, repeal: RepealIn) -> PolicyOut:
    view = await actions.repeal(request.app.state.db, principal, policy_id, lambda: repeal.reason)
    return PolicyOut.of(view, _base(request))


@router.get("", summary="政策列表（可按主题、单位、年份、状态、面向对象筛选）")
async def list_policies(
    request: Request,
    principal: ApiPrincipal,
    status: Annotated[list[Status] | None, Query(description="可多选；缺省为全部可见的")] = None,
    agency: QueryText = None,
    year: Annotated[int | None, Query(ge=1900, le=2100, description="文号年份")] = None,
    topic: QueryText = None,
    audience: Annotated[Literal["enterprise", "resident", "both"] | None, Query()] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[PolicyOut]:
    statuses = list(status or PolicyStatus.ALL)
    if not may_see_unreleased(principal, agency or ""):
        # Drafts are listed only to whoever may see them (an editor: filter by its agency).
        statuses = [s for s in statuses if s in PolicyStatus.RELEASED]
    if not statuses:
        return Page[PolicyOut](items=[], total=0, offset=offset, limit=limit)
    async with request.app.state.db.reader() as session:
        views, total = await policies.list_policies(session, statuses=statuses, agency=agency or None, year=year,
                                                    topic=topic or None, audience=audience, offset=offset,
                                                    limit=limit)
    return Page[PolicyOut](items=[PolicyOut.of(v, _base(request)) for v in views], total=total, offset=offset,
                           limit=limit)


@router.get("/{policy_id}", summary="政策详情（含各版本与解读）")
async def get_policy(request: Request, principal: ApiPrincipal, policy_id: PolicyId) -> PolicyDetailOut:
    async with request.app.state.db.reader() as session:
        view = await policies.get_policy(session, policy_id)
        require_visible(principal, view)
        revisions = await policies.list_revisions(session, policy_id)
        interpretation = await policies.get_interpretation(session, policy_id)
    current = next((r for r in revisions if r.number == view.revision), revisions[-1])
    return PolicyDetailOut(**PolicyOut.of(view, _base(request)).model_dump(), body=current.body,
                           revisions=[RevisionOut.of(r) for r in revisions],
                           interpretation=InterpretationOut.of(interpretation) if interpretation else None)


@router.get("/{policy_id}/revisions/{number}", summary="某一版本的全文")
async def get_revision(request: Request, principal: ApiPrincipal, policy_id: PolicyId,
                       number: Annotated[int, Path(ge=1, le=10_000, description="版本号")]) -> RevisionOut:
    async with request.app.state.db.reader() as session:
        require_visible(principal, await policies.get_policy(session, policy_id))
        return RevisionOut.of(await policies.get_revision(session, policy_id, number))
