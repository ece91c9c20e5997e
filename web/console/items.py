"""Console pages of a policy's items (事项): the list, the form to add one (prefilled from a
suggestion found in the text), removing one. Saving a published policy's items is an
amendment and asks what changed. Every change re-checks the role in its unit of work."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from core.errors import DomainError
from policies import service as policies
from policies.service import allowed_options, item_payload, items, suggest_items
from policies.views import SIZE_LABELS, TRACK_LABELS
from web.accounts import Principal
from web.api.fields import MAX_ID
from web.auth import ConsolePrincipal, CsrfChecked, may_edit, require_edit, require_visible
from web.console.common import field_errors, render, see_other
from web.console.items_form import form_from_item, item_from_form

router = APIRouter(prefix="/console", include_in_schema=False)

EMPTY_FORM: dict[str, Any] = form_from_item({"track": "apply"})


async def _page(request: Request, principal: Principal, policy_id: int, *, values: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, message: str = "", saved: bool = False,
                use: int | None = None, status_code: int = 200) -> Response:
    async with request.app.state.db.reader() as session:
        policy = await policies.get_policy(session, policy_id)
        require_visible(principal, policy)
        current = await items.items_of(session, policy_id)
        body = (await policies.get_revision(session, policy_id)).body
        interpretation = await policies.get_interpretation(session, policy_id)
    text = "\n".join([body, *(interpretation.elements.values() if interpretation else ())])
    suggestions = [s.as_json() for s in await asyncio.to_thread(suggest_items, text)]
    if values is None:
        values = form_from_item(suggestions[use]) if use is not None and 0 <= use < len(suggestions) else EMPTY_FORM
    return render(request, "console/items.html", principal, status_code=status_code, policy=policy, items=current,
                  suggestions=suggestions, values=values, errors=errors or {}, message=message, saved=saved,
                  can_edit=may_edit(principal, policy.agency) and policy.status in ("draft", "published"),
                  options=allowed_options(), sizes=SIZE_LABELS, tracks=TRACK_LABELS)


@router.get("/policies/{policy_id}/items")
async def items_page(request: Request, principal: ConsolePrincipal, policy_id: int = Path(ge=1, le=MAX_ID),
                     use: int | None = None, saved: str = "") -> Response:
    return await _page(request, principal, policy_id, use=use, saved=bool(saved))


async def _save(request: Request, principal: Principal, policy_id: int, payload: list[dict[str, Any]],
                change_summary: str) -> None:
    async with request.app.state.db.session() as session:
        require_edit(principal, (await policies.get_policy(session, policy_id)).agency)  # before the form's errors
        parsed = items.parse_items(payload)
        await items.set_items(session, policy_id, parsed, principal.actor, change_summary)


async def _current_payload(request: Request, policy_id: int) -> list[dict[str, Any]]:
    async with request.app.state.db.reader() as session:
        return [item_payload(i) for i in await items.items_of(session, policy_id)]


@router.post("/policies/{policy_id}/items/add", dependencies=[CsrfChecked])
async def add_item(request: Request, principal: ConsolePrincipal,
                   policy_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    form = await request.form()
    new = item_from_form(form)
    payload = [*await _current_payload(request, policy_id), new]
    try:
        await _save(request, principal, policy_id, payload, str(form.get("change_summary") or "")[:300])
    except DomainError as exc:
        errors = field_errors(exc.details, exc.field, exc.message)
        # Problems of the new item name items[n]; show them as the form's own fields.
        prefix = f"items[{len(payload) - 1}]."
        errors = {k.removeprefix(prefix): v for k, v in errors.items()}
        return await _page(request, principal, policy_id, values=form_from_item(new), errors=errors,
                           message=exc.message, status_code=exc.status_code)
    return see_other(f"/console/policies/{policy_id}/items?saved=1")


@router.post("/policies/{policy_id}/items/{position}/remove", dependencies=[CsrfChecked])
async def remove_item(request: Request, principal: ConsolePrincipal, policy_id: int = Path(ge=1, le=MAX_ID),
                      position: int = Path(ge=1, le=50)) -> Response:
    form = await request.form()
    payload = [p for n, p in enumerate(await _current_payload(request, policy_id), start=1) if n != position]
    try:
        await _save(request, principal, policy_id, payload, str(form.get("change_summary") or "")[:300])
    except DomainError as exc:
        return await _page(request, principal, policy_id, message=exc.message, status_code=exc.status_code)
    return see_other(f"/console/policies/{policy_id}/items?saved=1")


@router.post("/policies/{policy_id}/items/may-qualify", dependencies=[CsrfChecked])
async def choose_may_qualify(request: Request, principal: ConsolePrincipal,
                             policy_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    """Include (or not) those who may qualify for an item in the policy's push."""
    form = await request.form()
    async with request.app.state.db.session() as session:
        policy = await policies.get_policy(session, policy_id)
        require_edit(principal, policy.agency)
        await items.set_include_may_qualify(session, policy_id, form.get("include") == "yes", principal.actor)
    back = "publish" if policy.status == "approved" else "items"
    return see_other(f"/console/policies/{policy_id}/{back}#may-qualify")
