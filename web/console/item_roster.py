"""Console: which enterprises known to the county qualify for an item, which have applied or
been granted it, the export for granting a 免申即享 item, and recording applied / granted."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from core.clock import today_in_china
from core.errors import NotFound
from policies import service as policies
from policies.service import items
from policies.views import ItemView, Outcome, PolicyView
from subscriptions import service as subscriptions
from subscriptions.views import RosterEntry
from web.accounts import Principal
from web.api.fields import MAX_ID
from web.auth import ConsolePrincipal, CsrfChecked, may_edit, require_edit, require_figures
from web.console.common import render, see_other

router = APIRouter(prefix="/console", include_in_schema=False)

PolicyIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
PositionPath = Annotated[int, Path(ge=1, le=50)]


async def _item(request: Request, principal: Principal, policy_id: int,
                position: int) -> tuple[PolicyView, ItemView, list[RosterEntry]]:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
        require_figures(principal, policy.agency)
        item = next((i for i in await items.items_of(session, policy_id) if i.position == position), None)
        if item is None:
            raise NotFound(f"这份政策没有第 {position} 项事项", field="position")
        entries = await subscriptions.item_roster(session, policy_id, item, today_in_china())
    return policy, item, entries


def _pending_grant(entries: list[RosterEntry]) -> list[RosterEntry]:
    """Meet every condition and not granted yet: the list a 免申即享 item is paid from."""
    return [e for e in entries if e.outcome == Outcome.MET and e.status != "granted"]


@router.get("/policies/{policy_id}/items/{position}/enterprises")
async def roster_page(request: Request, principal: ConsolePrincipal, policy_id: PolicyIdPath,
                      position: PositionPath,
                      show: Annotated[Literal["all", "not_applied"], Query()] = "all") -> Response:
    policy, item, entries = await _item(request, principal, policy_id, position)
    shown = [e for e in entries if not e.status] if show == "not_applied" else entries
    return render(request, "console/item_roster.html", principal, policy=policy, item=item, entries=shown,
                  show=show, met=sum(e.outcome == Outcome.MET for e in entries),
                  not_applied=sum(not e.status for e in entries), pending_grant=len(_pending_grant(entries)),
                  can_edit=may_edit(principal, policy.agency))


@router.get("/policies/{policy_id}/items/{position}/enterprises.csv")
async def roster_export(request: Request, principal: ConsolePrincipal, policy_id: PolicyIdPath,
                        position: PositionPath,
                        scope: Annotated[Literal["all", "grant"], Query()] = "all") -> Response:
    _policy, _item_view, entries = await _item(request, principal, policy_id, position)
    rows = _pending_grant(entries) if scope == "grant" else entries
    name = f"policy-{policy_id}-item-{position}-{'grant' if scope == 'grant' else 'roster'}.csv"
    return Response(subscriptions.item_roster_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/policies/{policy_id}/items/{position}/enterprises/{enterprise_id}", dependencies=[CsrfChecked])
async def record_status(request: Request, principal: ConsolePrincipal, policy_id: PolicyIdPath,
                        position: PositionPath, enterprise_id: PolicyIdPath) -> Response:
    form = await request.form()
    status = str(form.get("status") or "")[:10]
    async with request.app.state.db.session() as session:
        policy = await policies.get_policy(session, policy_id)
        require_edit(principal, policy.agency)
        item = next((i for i in await items.items_of(session, policy_id) if i.position == position), None)
        if item is None:
            raise NotFound(f"这份政策没有第 {position} 项事项", field="position")
        await subscriptions.record_item_status(session, policy_id, item.name, enterprise_id, status, principal.actor)
    return see_other(f"/console/policies/{policy_id}/items/{position}/enterprises")
