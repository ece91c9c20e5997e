"""Console pages of the policy lifecycle: list, draft form, detail, submit, publish, amend,
repeal. Every state change re-checks the role inside the unit of work that makes it."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from core.errors import DomainError, ValidationFailed
from policies import service as policies
from policies.service import release_texts
from vocabulary import taxonomy
from vocabulary.codes import PolicyStatus
from vocabulary.labels import labels
from web import accounts, drafting
from web import policy_actions as actions
from web.accounts import Principal
from web.auth import (
    ConsolePrincipal,
    CsrfChecked,
    may_edit,
    may_review,
    may_see_figures,
    may_see_unreleased,
    require_edit,
    require_review,
    require_role,
    require_visible,
)
from web.console import audience_preview
from web.console.common import PathId, field_errors, render, see_other
from web.console.forms import DraftForm, amendment_from_form, require_text
from web.models import Role

router = APIRouter(prefix="/console", include_in_schema=False)

STATUS_LABELS = labels("status")


def _choices() -> dict[str, Any]:
    return {
        "topics": taxonomy.topics(),
        "regions": [r for r in taxonomy.regions() if r.kind == "township"],
        "industries": taxonomy.industries(),
        "eligibility": taxonomy.eligibility_tags(),
        "status_labels": STATUS_LABELS,
    }


def _agency_for(principal: Principal, typed: str) -> str:
    # An editor always drafts for its own agency, whatever the form says.
    if principal.role == Role.EDITOR and principal.agency:
        return principal.agency
    return typed.strip()


async def _load(request: Request, policy_id: int) -> dict[str, Any]:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
        revisions = await policies.list_revisions(session, policy_id)
        interpretation = await policies.get_interpretation(session, policy_id)
        history = await policies.history(session, policy_id)
    current = next((r for r in revisions if r.number == policy.revision), revisions[-1])
    return {"policy": policy, "revisions": revisions, "current": current, "interpretation": interpretation,
            "history": history}


@router.get("/policies")
async def policy_list(
    request: Request, principal: ConsolePrincipal,
    status: Annotated[str, Query(max_length=20)] = "",
    agency: Annotated[str | None, Query(max_length=120)] = None,
    year: Annotated[str, Query(max_length=4)] = "",
    topic: Annotated[str, Query(max_length=40)] = "",
    audience: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    if agency is None:
        agency = principal.agency if principal.role == Role.EDITOR else ""
    statuses = [status] if status in PolicyStatus.ALL else list(PolicyStatus.ALL)
    if not may_see_unreleased(principal, agency or ""):
        statuses = [s for s in statuses if s in PolicyStatus.RELEASED]
    limit = 50
    views: list[Any] = []
    total = 0
    if statuses:
        async with request.app.state.db.reader() as session:
            views, total = await policies.list_policies(
                session, statuses=statuses, agency=agency or None, year=int(year) if year.isdigit() else None,
                topic=topic or None, audience=audience or None, offset=offset, limit=limit)
    filters = {"status": status, "agency": agency, "year": year, "topic": topic, "audience": audience}
    return render(request, "console/policies.html", principal, policies=views, total=total, offset=offset,
                  limit=limit, filters=filters, **_choices())


def _form_page(request: Request, principal: Principal, form: DraftForm, *, policy_id: int | None = None,
               errors: dict[str, str] | None = None, message: str = "", status_code: int = 200) -> Response:
    analysis = drafting.analyse(form.values.get("title", ""), form.values.get("body", ""), form.free_texts())
    return render(request, "console/draft_form.html", principal, status_code=status_code, form=form,
                  policy_id=policy_id, errors=errors or {}, message=message, analysis=analysis,
                  agency_locked=principal.role == Role.EDITOR, **_choices())


@router.get("/policies/new")
async def new_draft(request: Request, principal: ConsolePrincipal) -> Response:
    require_role(principal, Role.EDITOR)
    return _form_page(request, principal, DraftForm.empty(principal.agency or ""))


async def _save_draft(request: Request, principal: Principal, policy_id: int | None) -> Response:
    raw = await request.form()
    form = DraftForm.from_form(raw)
    if raw.get("action") == "mask":
        masked = form.masked(drafting.mask)
        return _form_page(request, principal, masked, policy_id=policy_id,
                          message="已遮盖识别到的个人信息，请核对后保存")
    agency = _agency_for(principal, form.values.get("agency", ""))
    form.values["agency"] = agency
    try:
        async with request.app.state.db.session() as session:
            if policy_id is None:
                require_edit(principal, agency)
                view = await policies.create_draft(session, form.to_input(agency), principal.actor)
            else:
                current = await policies.get_policy(session, policy_id)
                require_edit(principal, current.agency)
                require_edit(principal, agency)
                view = await policies.update_draft(session, policy_id, form.to_input(agency), principal.actor)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        return _form_page(request, principal, form, policy_id=policy_id, status_code=exc.status_code,
                          errors=field_errors(exc.details, exc.field, exc.message), message=exc.message)
    return see_other(f"/console/policies/{view.id}?saved=1")


@router.post("/policies/new", dependencies=[CsrfChecked])
async def create_draft(request: Request, principal: ConsolePrincipal) -> Response:
    return await _save_draft(request, principal, None)


async def _detail_page(request: Request, principal: Principal, policy_id: int, *, status_code: int = 200,
                       errors: dict[str, str] | None = None, reason: str = "", notice: str = "") -> Response:
    loaded = await _load(request, policy_id)
    policy = loaded["policy"]
    require_visible(principal, policy)
    texts = {"title": policy.title, "body": loaded["current"].body, "summary": policy.summary}
    if loaded["interpretation"]:
        texts.update({f"interpretation.{k}": v for k, v in loaded["interpretation"].elements.items()})
    pii = await asyncio.to_thread(drafting.pii_warnings, texts)
    next_reviewers = await _next_reviewers(request, policy) if policy.status == PolicyStatus.SUBMITTED else []
    return render(request, "console/policy_detail.html", principal, status_code=status_code, **loaded, pii=pii,
                  notice=notice, errors=errors or {}, reason=reason, next_reviewers=next_reviewers,
                  can_edit=may_edit(principal, policy.agency), can_review=may_review(principal, policy.agency),
                  can_see_figures=may_see_figures(principal, policy.agency), **_choices())


async def _next_reviewers(request: Request, policy: Any) -> list[str]:
    """Names of the active accounts that may review this policy (never its author)."""
    async with request.app.state.db.reader() as session:
        users = await accounts.list_users(session)
    return [u.display_name or u.username for u in users
            if u.active and u.username != policy.created_by
            and (u.role == Role.ADMIN or (u.role == Role.REVIEWER and u.agency in (None, policy.agency)))]


@router.get("/policies/{policy_id}")
async def policy_detail(request: Request, principal: ConsolePrincipal, policy_id: PathId, saved: str = "",
                        submitted: str = "", returned: str = "") -> Response:
    notices = {"已保存": saved, "已提交审核": submitted, "已退回为草稿，可以修改后重新提交": returned}
    notice = next((text for text, flag in notices.items() if flag), "")
    return await _detail_page(request, principal, policy_id, notice=notice)


@router.get("/policies/{policy_id}/edit")
async def edit_draft(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    loaded = await _load(request, policy_id)
    require_edit(principal, loaded["policy"].agency)
    form = DraftForm.of_policy(loaded["policy"], loaded["current"].body, loaded["interpretation"])
    return _form_page(request, principal, form, policy_id=policy_id)


@router.post("/policies/{policy_id}/edit", dependencies=[CsrfChecked])
async def save_draft(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    return await _save_draft(request, principal, policy_id)


@router.post("/policies/{policy_id}/submit", dependencies=[CsrfChecked])
async def submit(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    try:
        await actions.submit(request.app.state.db, principal, policy_id)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        # Shown on the draft form itself, each gap next to the field that fills it.
        loaded = await _load(request, policy_id)
        form = DraftForm.of_policy(loaded["policy"], loaded["current"].body, loaded["interpretation"])
        return _form_page(request, principal, form, policy_id=policy_id, status_code=exc.status_code,
                          errors=field_errors(exc.details, exc.field, exc.message),
                          message=f"还不能提交审核：{exc.message}")
    return see_other(f"/console/policies/{policy_id}?submitted=1")


async def _back_to_draft(request: Request, principal: Principal, policy_id: int) -> Response:
    raw = await request.form()
    reason = str(raw.get("reason") or "").strip()
    try:
        async with request.app.state.db.session() as session:
            policy = await policies.get_policy(session, policy_id)
            if may_edit(principal, policy.agency):
                await policies.withdraw(session, policy_id, principal.actor, reason)
            else:
                require_review(principal, policy.agency)
                await policies.return_draft(session, policy_id, principal.actor, reason)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        return await _detail_page(request, principal, policy_id, status_code=exc.status_code,
                                  errors={"reason": exc.message}, reason=reason)
    return see_other(f"/console/policies/{policy_id}?returned=1")


@router.post("/policies/{policy_id}/withdraw", dependencies=[CsrfChecked])
async def withdraw(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    """撤回 by its editor, 退回 by a reviewer or admin: back to draft with the reason recorded."""
    return await _back_to_draft(request, principal, policy_id)


async def _confirm_page(request: Request, principal: Principal, policy_id: int, *, status_code: int = 200,
                        errors: dict[str, str] | None = None, message: str = "") -> Response:
    loaded = await _load(request, policy_id)
    require_edit(principal, loaded["policy"].agency)
    # The same texts publishing checks, so the page warns about everything publishing would refuse.
    texts = release_texts(loaded["policy"], loaded["current"].body, loaded["interpretation"])
    pii = await asyncio.to_thread(drafting.pii_warnings, texts)
    preview = await audience_preview.preview(request.app.state.db, loaded["policy"])
    return render(request, "console/confirm_publish.html", principal, status_code=status_code, **loaded, pii=pii,
                  preview=preview, errors=errors or {}, message=message, reason="")


@router.get("/policies/{policy_id}/publish")
async def confirm_publish(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    return await _confirm_page(request, principal, policy_id)


@router.post("/policies/{policy_id}/publish", dependencies=[CsrfChecked])
async def publish(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    raw = await request.form()
    if raw.get("confirm_empty") != "yes":
        async with request.app.state.db.reader() as session:
            policy = await policies.get_policy(session, policy_id)
        require_edit(principal, policy.agency)
        if (await audience_preview.preview(request.app.state.db, policy)).total == 0:
            # Publishing to nobody is allowed (the library still lists it), but never by accident.
            message = "目前没有人会收到这项政策。如仍要发布，请勾选“确认发布给零人”"
            return await _confirm_page(request, principal, policy_id, status_code=422,
                                       errors={"confirm_empty": message}, message=message)
    try:
        await actions.publish(request.app.state.db, principal, policy_id)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        return await _confirm_page(request, principal, policy_id, status_code=exc.status_code,
                                   errors=field_errors(exc.details, exc.field, exc.message), message=exc.message)
    return see_other(f"/console/policies/{policy_id}")


@router.get("/policies/{policy_id}/amend")
async def amend_form(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    loaded = await _load(request, policy_id)
    require_edit(principal, loaded["policy"].agency)
    values = {"title": loaded["policy"].title, "body": loaded["current"].body, "change_summary": "",
              "expiry_date": loaded["policy"].expiry_date.isoformat() if loaded["policy"].expiry_date else "",
              "application_closes": (loaded["policy"].application_closes.isoformat()
                                     if loaded["policy"].application_closes else "")}
    return render(request, "console/amend.html", principal, **loaded, values=values, errors={}, message="")


@router.post("/policies/{policy_id}/amend", dependencies=[CsrfChecked])
async def amend(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    raw = await request.form()
    values = {k: str(raw.get(k) or "") for k in ("title", "body", "change_summary", "expiry_date",
                                                   "application_closes")}

    def amendment() -> policies.AmendmentInput:
        if raw.get("confirm") != "yes":
            require_text("", "confirm", "请勾选“确认发布修订”：修订会立即生效并推送给订阅者")
        return amendment_from_form(raw)

    try:
        await actions.amend(request.app.state.db, principal, policy_id, amendment)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        loaded = await _load(request, policy_id)
        return render(request, "console/amend.html", principal, status_code=exc.status_code, **loaded,
                      values=values, errors=field_errors(exc.details, exc.field, exc.message), message=exc.message)
    return see_other(f"/console/policies/{policy_id}")


@router.get("/policies/{policy_id}/repeal")
async def repeal_form(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    loaded = await _load(request, policy_id)
    require_edit(principal, loaded["policy"].agency)
    return render(request, "console/repeal.html", principal, **loaded, reason="", errors={}, message="")


@router.post("/policies/{policy_id}/repeal", dependencies=[CsrfChecked])
async def repeal(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    raw = await request.form()
    reason = str(raw.get("reason") or "")

    def confirmed_reason() -> str:
        if raw.get("confirm") != "yes":
            require_text("", "confirm", "请勾选“确认废止”：废止后政策页面将标注为已废止，并通知订阅者")
        return reason

    try:
        await actions.repeal(request.app.state.db, principal, policy_id, confirmed_reason)
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        loaded = await _load(request, policy_id)
        return render(request, "console/repeal.html", principal, status_code=exc.status_code, **loaded,
                      reason=reason, errors=field_errors(exc.details, exc.field, exc.message), message=exc.message)
    return see_other(f"/console/policies/{policy_id}")


@router.post("/audience-preview", dependencies=[CsrfChecked])
async def live_audience(request: Request, principal: ConsolePrincipal) -> Response:
    """The draft form's audience dry run, as an HTML fragment the form's script puts in place."""
    require_role(principal, Role.EDITOR)
    form = DraftForm.from_form(await request.form())
    agency = _agency_for(principal, form.values.get("agency", ""))
    preview = await audience_preview.draft_preview(request.app.state.db, form, agency)
    return render(request, "console/_audience.html", principal, preview=preview)


@router.post("/suggest", dependencies=[CsrfChecked])
async def live_suggest(request: Request, principal: ConsolePrincipal) -> JSONResponse:
    """Live tag suggestions and PII findings for the draft form's script."""
    try:
        payload = await request.json()
    except ValueError as exc:  # not JSON: the caller's mistake, not the server's
        raise ValidationFailed("请求格式不正确，请刷新页面后重试", field="body") from exc
    title = str(payload.get("title", ""))[:300] if isinstance(payload, dict) else ""
    body = str(payload.get("body", ""))[:200_000] if isinstance(payload, dict) else ""
    analysis = await asyncio.to_thread(drafting.analyse, title, body)
    return JSONResponse(asdict(analysis))
