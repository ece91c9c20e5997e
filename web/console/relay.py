"""Console pages for relay tracking: a policy's relay table (linked from its reach dashboard),
a hub's page with its open tasks and their actions, escalations, and ledger downloads.

Permissions are the API's (`web.api.relay`), so a rule holds the same on both faces.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from core.clock import today_in_china
from core.errors import DomainError, Forbidden, ValidationFailed
from policies import service as policies
from push.service import posters, relay
from subscriptions import service as subscriptions
from web.accounts import Principal
from web.api.relay import (
    ledger_agency,
    ledger_response,
    may_act_for_hub,
    require_hub_actor,
    require_hub_reader,
    visible_tasks,
)
from web.auth import ConsolePrincipal, CsrfChecked, require_figures
from web.console.common import PathId, render, see_other
from web.models import Role

router = APIRouter(prefix="/console", include_in_schema=False)

MAX_FORM_TEXT = 500


@router.get("/relay")
async def relay_home(request: Request, principal: ConsolePrincipal) -> Response:
    """Hub operators land on their hub; departments see escalations and the ledger export."""
    if principal.role == Role.HUB_OPERATOR:
        if principal.hub_id is None:
            raise Forbidden("您的账号未绑定园区/协会，请联系管理员", field="hub_id")
        return see_other(f"/console/hubs/{principal.hub_id}/relay")
    agency = ledger_agency(principal, None)
    async with request.app.state.db.reader() as session:
        rows = await relay.escalations(session, agency=agency)
    return render(request, "relay/index.html", principal, escalations=rows, agency=agency or "",
                  quarters=recent_quarters(today_in_china()))


def recent_quarters(today: date, count: int = 8) -> list[tuple[str, str]]:
    """(code, label) of this quarter and the ones before it, newest first: 2026Q2 → 2026年第2季度."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    found = []
    for _ in range(count):
        found.append((f"{year}Q{quarter}", f"{year}年第{quarter}季度"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return found


async def _hub_page(request: Request, principal: Principal, hub_id: int, *, message: str = "",
                    error: str = "", status_code: int = 200) -> Response:
    require_hub_reader(principal, hub_id)
    if principal.role == Role.EDITOR:
        raise Forbidden("部门编辑请在政策的“转达情况”页查看", field="role")
    async with request.app.state.db.reader() as session:
        hub = await subscriptions.get_hub(session, hub_id)
        overview = await relay.hub_overview(session, hub_id)
        members = {t.id: await relay.task_members(session, t.id) for t in overview.open_tasks}
    return render(request, "relay/hub.html", principal, status_code=status_code, hub=hub, overview=overview,
                  members=members, can_act=may_act_for_hub(principal, hub_id), message=message, error=error)


@router.get("/hubs/{hub_id}/relay")
async def hub_page(request: Request, principal: ConsolePrincipal, hub_id: PathId) -> Response:
    return await _hub_page(request, principal, hub_id)


async def _act(request: Request, principal: Principal, task_id: int, action: str) -> Response:
    async with request.app.state.db.reader() as session:
        task = await relay.get_task(session, task_id)
    require_hub_actor(principal, task.hub_id)
    form = await request.form()
    text = str(form.get("note") or form.get("reason") or "")[:MAX_FORM_TEXT + 1]
    try:
        async with request.app.state.db.session() as session:
            if action == "forward":
                outcome = await relay.forward_through_system(session, task_id, principal.actor)
            elif action == "report":
                raw = str(form.get("count") or "").strip()
                count = int(raw) if raw.isdigit() and len(raw) <= 6 else -1
                outcome = await relay.report_external_forward(session, task_id, count, text, principal.actor)
            else:
                outcome = await relay.decline(session, task_id, text, principal.actor)
    except DomainError as exc:
        return await _hub_page(request, principal, task.hub_id, error=exc.message, status_code=exc.status_code)
    return await _hub_page(request, principal, task.hub_id, message=outcome.message)


@router.post("/relay-tasks/{task_id}/forward", dependencies=[CsrfChecked])
async def forward(request: Request, principal: ConsolePrincipal, task_id: PathId) -> Response:
    return await _act(request, principal, task_id, "forward")


@router.post("/relay-tasks/{task_id}/report", dependencies=[CsrfChecked])
async def report(request: Request, principal: ConsolePrincipal, task_id: PathId) -> Response:
    return await _act(request, principal, task_id, "report")


@router.post("/relay-tasks/{task_id}/decline", dependencies=[CsrfChecked])
async def decline(request: Request, principal: ConsolePrincipal, task_id: PathId) -> Response:
    return await _act(request, principal, task_id, "decline")


@router.get("/policies/{policy_id}/relay")
async def policy_relay(request: Request, principal: ConsolePrincipal, policy_id: PathId) -> Response:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
        require_figures(principal, policy.agency)
        funnel = await relay.relay_funnel(session, policy_id)
        poster_rows = await posters.posters_with_counts(session, policy_id)
    return render(request, "relay/policy.html", principal, policy=policy, funnel=funnel, poster_rows=poster_rows)


@router.get("/ledger.{fmt}")
async def ledger(request: Request, principal: ConsolePrincipal, fmt: str,
                 policy_id: int | None = Query(None, ge=1, le=2**31 - 1),
                 agency: str | None = Query(None, max_length=200),
                 quarter: str | None = Query(None, max_length=10),
                 sheet: str = Query("tasks", max_length=10)) -> Response:
    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed("只能导出 xlsx 或 csv 格式的台账", field="format")
    agency = ledger_agency(principal, agency)
    async with request.app.state.db.reader() as session:
        if policy_id is not None:
            require_figures(principal, (await policies.get_policy(session, policy_id)).agency)
        content = await relay.export_ledger(session, fmt, policy_id=policy_id, agency=agency, quarter=quarter,
                                            sheet=sheet)
    filename = relay.ledger_filename(fmt, policy_id=policy_id, agency=agency, quarter=quarter)
    if sheet == "members":  # the member detail must not overwrite the task list of the same download
        filename = filename.replace("转达台账", "转达台账_会员明细", 1)
    return ledger_response(content, fmt, filename)


def ledger_link(fmt: str, **params: object) -> str:
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items() if v not in (None, ""))
    return f"/console/ledger.{fmt}" + (f"?{query}" if query else "")


__all__ = ["ledger_link", "router", "visible_tasks"]
