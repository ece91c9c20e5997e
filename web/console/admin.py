"""Accounts, API tokens and the audit log, for administrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.errors import DomainError
from web import accounts
from web.auth import ConsolePrincipal, CsrfChecked, require_admin
from web.console.common import PathId, field_errors, render, see_other
from web.models import Role

router = APIRouter(prefix="/console/admin", include_in_schema=False)


async def _page(request: Request, principal: ConsolePrincipal, *, status_code: int = 200, new_token: str = "",
                errors: dict[str, str] | None = None, message: str = "", values: dict[str, str] | None = None
                ) -> Response:
    async with request.app.state.db.reader() as session:
        users = await accounts.list_users(session)
        tokens = await accounts.list_tokens(session)
        audit, _ = await accounts.list_audit(session, limit=100)
    return render(request, "console/admin.html", principal, status_code=status_code, users=users, tokens=tokens,
                  audit=audit, roles=Role.ALL, new_token=new_token, errors=errors or {}, message=message,
                  values=values or {})


def _int_or_none(raw: object) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() else None


@router.get("")
async def admin_home(request: Request, principal: ConsolePrincipal) -> Response:
    require_admin(principal)
    return await _page(request, principal)


@router.post("/users", dependencies=[CsrfChecked])
async def create_user(request: Request, principal: ConsolePrincipal) -> Response:
    require_admin(principal)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("username", "display_name", "role", "agency", "hub_id",
                                                  "review_level")}
    try:
        async with request.app.state.db.session() as session:
            await accounts.create_user(session, values["username"], str(form.get("password") or ""),
                                       values["role"], values["agency"] or None,
                                       hub_id=_int_or_none(values["hub_id"]),
                                       review_level=_int_or_none(values["review_level"]),
                                       display_name=values["display_name"], actor=principal.actor)
    except DomainError as exc:
        return await _page(request, principal, status_code=exc.status_code, values=values, message=exc.message,
                           errors=field_errors(exc.details, exc.field, exc.message))
    return see_other("/console/admin")


@router.post("/users/{user_id}/active", dependencies=[CsrfChecked])
async def set_active(request: Request, principal: ConsolePrincipal, user_id: PathId) -> Response:
    require_admin(principal)
    form = await request.form()
    async with request.app.state.db.session() as session:
        await accounts.set_user_active(session, user_id, form.get("active") == "1", principal.actor)
    return see_other("/console/admin")


@router.post("/tokens", dependencies=[CsrfChecked])
async def create_token(request: Request, principal: ConsolePrincipal) -> Response:
    require_admin(principal)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("token_agency", "token_role", "token_name", "token_hub_id")}
    try:
        async with request.app.state.db.session() as session:
            secret = await accounts.create_token(session, values["token_agency"], values["token_role"] or "editor",
                                                 name=values["token_name"],
                                                 hub_id=_int_or_none(values["token_hub_id"]), actor=principal.actor)
    except DomainError as exc:
        errors = {f"token_{k}": v for k, v in field_errors(exc.details, exc.field, exc.message).items()}
        return await _page(request, principal, status_code=exc.status_code, values=values, message=exc.message,
                           errors=errors)
    return await _page(request, principal, new_token=secret)


@router.post("/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
async def revoke_token(request: Request, principal: ConsolePrincipal, token_id: PathId) -> Response:
    require_admin(principal)
    async with request.app.state.db.session() as session:
        await accounts.revoke_token(session, token_id, principal.actor)
    return see_other("/console/admin")
