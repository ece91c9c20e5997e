"""Who may do what, and the FastAPI dependencies that establish who is asking.

API clients authenticate with `Authorization: Bearer <token>`; console users with a signed
session cookie. Both become a `Principal`; the permission checks below are shared, so a
rule holds the same through the API and the console.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.errors import Forbidden
from policies.views import PolicyView
from vocabulary.codes import PolicyStatus
from web import accounts
from web.accounts import Principal
from web.models import Role

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

_bearer = HTTPBearer(auto_error=False,
                     description="机构 API 令牌：python run.py token create --agency 单位 --role editor")


# --- permission rules --------------------------------------------------------------------


def may_edit(principal: Principal, agency: str) -> bool:
    return principal.role == Role.ADMIN or (principal.role == Role.EDITOR and principal.agency == agency)


def may_review(principal: Principal, agency: str) -> bool:
    if principal.role == Role.ADMIN:
        return True
    return principal.role == Role.REVIEWER and principal.agency in (None, agency)


def may_see_unreleased(principal: Principal, agency: str) -> bool:
    """The one rule for drafts (every status before publication): the drafting department's
    editors, the reviewers who may review them, and admins see them; viewers, hub operators
    and other departments do not. Every page and route that shows a draft asks this."""
    return principal.role == Role.ADMIN or may_edit(principal, agency) or may_review(principal, agency)


def may_see_figures(principal: Principal, agency: str) -> bool:
    return principal.role in (Role.ADMIN, Role.VIEWER, Role.REVIEWER) or may_edit(principal, agency)


def require_edit(principal: Principal, agency: str) -> None:
    if not may_edit(principal, agency):
        raise Forbidden(f"您（{principal.role_label}{_of(principal)}）无权处理“{agency}”的政策", field="agency")


def require_review(principal: Principal, agency: str) -> None:
    if not may_review(principal, agency):
        raise Forbidden(f"您（{principal.role_label}{_of(principal)}）无权审核“{agency}”的政策", field="role")


def require_visible(principal: Principal, policy: PolicyView) -> None:
    if policy.status not in PolicyStatus.RELEASED and not may_see_unreleased(principal, policy.agency):
        raise Forbidden(f"政策 {policy.id} 尚未发布，只有“{policy.agency}”和审核人可以查看", field="policy_id")


def require_figures(principal: Principal, agency: str) -> None:
    if not may_see_figures(principal, agency):
        raise Forbidden(f"您无权查看“{agency}”政策的推送数据", field="agency")


def require_admin(principal: Principal) -> None:
    if principal.role != Role.ADMIN:
        raise Forbidden("只有管理员可以进行此操作", field="role")


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role != Role.ADMIN and principal.role not in roles:
        labels = "、".join(Role.LABELS[r] for r in roles)
        raise Forbidden(f"此操作需要以下角色之一：{labels}", field="role")


def _of(principal: Principal) -> str:
    return f"，{principal.agency}" if principal.agency else ""


# --- API: bearer tokens ------------------------------------------------------------------


async def api_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(401, "缺少 API 令牌：请在请求头中加入 Authorization: Bearer <令牌>",
                            headers={"WWW-Authenticate": "Bearer"})
    async with request.app.state.db.session() as session:
        principal = await accounts.token_principal(session, credentials.credentials)
    if principal is None:
        raise HTTPException(401, "API 令牌无效或已被吊销", headers={"WWW-Authenticate": "Bearer"})
    return principal


ApiPrincipal = Annotated[Principal, Depends(api_principal)]


# --- console: session cookie and CSRF ----------------------------------------------------


class LoginRequired(Exception):
    """Raised by console dependencies; the app turns it into a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def start_session(request: Request, user_id: int, generation: int = 0) -> None:
    # A fresh session (and CSRF token) at login, so a token planted before login is useless.
    request.session.clear()
    request.session["uid"] = user_id
    request.session["gen"] = generation  # see User.session_generation
    csrf_token(request)


async def console_principal(request: Request) -> Principal:
    user_id = request.session.get("uid")
    if isinstance(user_id, int):
        async with request.app.state.db.reader() as session:
            user = await accounts.get_user(session, user_id)
        # A session from before the account's last logout or password change is over.
        if user is not None and user.active and request.session.get("gen") == user.session_generation:
            principal = accounts.user_principal(user)
            request.state.principal = principal
            return principal
    request.session.pop("uid", None)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(target)


async def require_csrf(request: Request) -> None:
    """Refuses (403) a state-changing console request without the session's CSRF token."""
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise HTTPException(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")


ConsolePrincipal = Annotated[Principal, Depends(console_principal)]
CsrfChecked = Depends(require_csrf)
