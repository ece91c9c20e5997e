"""Login and logout, with throttling of repeated failures."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from web import accounts
from web.auth import CsrfChecked, start_session
from web.console.common import client_ip, render, see_other
from web.password_hashing import verify_password

router = APIRouter(prefix="/console", include_in_schema=False)

THROTTLED = "登录失败次数过多，请 15 分钟后再试"
pause = asyncio.sleep  # replaced in tests that check the slow-down without waiting for it


def _safe_next(target: str) -> str:
    # Only paths inside this site: never an absolute URL an attacker could plant.
    return target if target.startswith("/") and not target.startswith("//") else "/console/policies"


@router.get("")
async def console_home() -> Response:
    return see_other("/console/policies")


@router.get("/login")
async def login_form(request: Request, next: str = "/console/policies") -> Response:
    async with request.app.state.db.reader() as session:
        fresh_install = await accounts.count_users(session) == 0
    return render(request, "console/login.html", None, next=_safe_next(next), username="", error="",
                  fresh_install=fresh_install)


@router.post("/login", dependencies=[CsrfChecked])
async def login(request: Request, username: Annotated[str, Form(max_length=80)] = "",
                password: Annotated[str, Form(max_length=200)] = "",
                next: Annotated[str, Form(max_length=500)] = "/console/policies") -> Response:
    ip = client_ip(request)
    async with request.app.state.db.reader() as session:
        blocked = await accounts.login_blocked(session, username, ip)
        delay = 0.0 if blocked else await accounts.login_delay(session, username)
        user_id, stored = await accounts.password_hash_of(session, username)
    if blocked:
        return render(request, "console/login.html", None, status_code=429, next=_safe_next(next),
                      username=username, error=THROTTLED)
    # Waiting and hashing hold no database connection: twenty logins at once must not take the pool.
    if delay:
        await pause(delay)
    verified = await verify_password(stored, password) and user_id is not None
    new_hash = await accounts.rehashed(stored, password) if verified else None
    async with request.app.state.db.session() as session:
        user = await accounts.finish_login(session, user_id, new_hash) if verified and user_id else None
        if user is None:
            await accounts.record_login_failure(session, username, ip)
        else:
            await accounts.clear_login_failures(session, username, ip)
            accounts.audit(session, user.username, "login", ip)
    if user is None:
        return render(request, "console/login.html", None, status_code=401, next=_safe_next(next),
                      username=username, error="用户名或密码错误")
    start_session(request, user.id, user.session_generation)
    return see_other(_safe_next(next))


@router.post("/logout", dependencies=[CsrfChecked])
async def logout(request: Request) -> Response:
    user_id = request.session.get("uid")
    if isinstance(user_id, int):  # logging out ends the account's sessions on every device
        async with request.app.state.db.session() as session:
            await accounts.end_sessions(session, user_id, actor=f"user#{user_id}")
    request.session.clear()
    return see_other("/console/login")
