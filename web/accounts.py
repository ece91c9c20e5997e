"""Console accounts, API tokens, login throttling and the non-policy audit log.

Every query of the `web_*` tables lives here. Functions take the caller's session (one
unit of work) and return plain read models, never ORM rows.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import Conflict, NotFound, ValidationFailed
from web.models import ApiToken, AuditEntry, LoginAttempt, Role, User
from web.password_hashing import hash_password, needs_rehash, verify_password

TOKEN_PREFIX = "pd_"
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8

# One address trying many accounts (password spraying) is stopped, whatever the usernames.
ADDRESS_FAILURE_LIMIT = 30
# Failures on one account from every address together only slow that account's logins down,
# so an attacker cannot lock the real user out by failing on purpose from elsewhere.
ACCOUNT_SLOWDOWN_AFTER = 10
ACCOUNT_SLOWDOWN_STEP_SECONDS = 0.5
ACCOUNT_SLOWDOWN_MAX_SECONDS = 5.0


@dataclass(frozen=True)
class Principal:
    """Who is acting, from a console session or an API token.

    `actor` is the string recorded in histories; the policy service compares it to refuse
    a reviewer approving their own draft."""

    actor: str
    role: str
    agency: str | None
    hub_id: int | None = None
    review_level: int | None = None
    user_id: int | None = None
    token_id: int | None = None
    display_name: str = ""

    @property
    def role_label(self) -> str:
        return Role.LABELS.get(self.role, self.role)


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: str
    agency: str | None
    hub_id: int | None
    review_level: int | None
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    session_generation: int = 0

    @property
    def role_label(self) -> str:
        return Role.LABELS.get(self.role, self.role)


@dataclass(frozen=True)
class TokenView:
    id: int
    prefix: str
    name: str
    agency: str
    role: str
    hub_id: int | None
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


def _user_view(user: User) -> UserView:
    return UserView(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                    agency=user.agency, hub_id=user.hub_id, review_level=user.review_level, active=user.active,
                    created_at=user.created_at, last_login_at=user.last_login_at,
                    session_generation=user.session_generation or 0)


def _token_view(token: ApiToken) -> TokenView:
    return TokenView(id=token.id, prefix=token.prefix, name=token.name, agency=token.agency, role=token.role,
                     hub_id=token.hub_id, created_by=token.created_by, created_at=token.created_at,
                     last_used_at=token.last_used_at, revoked_at=token.revoked_at)


def user_principal(user: UserView) -> Principal:
    return Principal(actor=user.username, role=user.role, agency=user.agency, hub_id=user.hub_id,
                     review_level=user.review_level, user_id=user.id, display_name=user.display_name or user.username)


def check_role(role: str, agency: str | None, hub_id: int | None = None) -> None:
    """Refuses a role that does not exist or lacks what it needs (an editor's agency, an
    operator's hub), with a Chinese message naming the choices."""
    if role not in Role.ALL:
        raise ValidationFailed(f"角色“{role}”无效，可选：{'、'.join(Role.LABELS.values())}", field="role")
    if role == Role.EDITOR and not (agency or "").strip():
        raise ValidationFailed("部门编辑必须指定所属单位（发文机关）", field="agency")
    if role == Role.HUB_OPERATOR and hub_id is None:
        raise ValidationFailed("园区/协会联络员必须指定所属枢纽", field="hub_id")


def audit(session: AsyncSession, actor: str, action: str, target: str = "", detail: str = "") -> None:
    session.add(AuditEntry(at=now(), actor=actor, action=action, target=target, detail=detail))


async def list_audit(session: AsyncSession, *, offset: int = 0, limit: int = 100) -> tuple[list[AuditView], int]:
    total = (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    rows = (await session.execute(
        select(AuditEntry).order_by(AuditEntry.id.desc()).offset(offset).limit(limit))).scalars().all()
    return [AuditView(id=a.id, at=a.at, actor=a.actor, action=a.action, target=a.target, detail=a.detail)
            for a in rows], total


# --- users -------------------------------------------------------------------------------


async def create_user(session: AsyncSession, username: str, password: str, role: str, agency: str | None = None,
                      *, hub_id: int | None = None, review_level: int | None = None, display_name: str = "",
                      actor: str = "system") -> UserView:
    """Creates a console account. Raises ValidationFailed (field named) or Conflict."""
    username = username.strip()
    if not username or len(username) > 80:
        raise ValidationFailed("用户名不能为空，且不超过 80 个字符", field="username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码至少 {MIN_PASSWORD_LENGTH} 位", field="password")
    check_role(role, agency, hub_id)
    if review_level is not None and not 1 <= review_level <= 3:
        raise ValidationFailed("审核级别须为 1 至 3", field="review_level")
    if (await session.execute(select(User.id).where(User.username == username))).first():
        raise Conflict(f"用户名“{username}”已存在", field="username")
    user = User(username=username, display_name=display_name.strip(), password_hash=await hash_password(password),
                role=role, agency=(agency or "").strip() or None, hub_id=hub_id, review_level=review_level,
                active=True, created_at=now())
    session.add(user)
    await session.flush()
    audit(session, actor, "user.create", username, f"角色 {Role.LABELS[role]}，单位 {user.agency or '—'}")
    return _user_view(user)


async def get_user(session: AsyncSession, user_id: int) -> UserView | None:
    user = await session.get(User, user_id)
    return _user_view(user) if user is not None else None


async def list_users(session: AsyncSession) -> list[UserView]:
    return [_user_view(u) for u in (await session.execute(select(User).order_by(User.username))).scalars()]


async def set_user_active(session: AsyncSession, user_id: int, active: bool, actor: str) -> UserView:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在", field="user_id")
    user.active = active
    audit(session, actor, "user.enable" if active else "user.disable", user.username)
    return _user_view(user)


async def set_password(session: AsyncSession, user_id: int, password: str, actor: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码至少 {MIN_PASSWORD_LENGTH} 位", field="password")
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在", field="user_id")
    user.password_hash = await hash_password(password)
    user.session_generation = (user.session_generation or 0) + 1  # a new password ends every session
    audit(session, actor, "user.password", user.username)


async def end_sessions(session: AsyncSession, user_id: int, actor: str) -> None:
    """Ends every console session of the account (on every device); idempotent."""
    user = await session.get(User, user_id)
    if user is not None:
        user.session_generation = (user.session_generation or 0) + 1
        audit(session, actor, "user.logout", user.username)


async def authenticate(session: AsyncSession, username: str, password: str) -> UserView | None:
    """The active user with this password, or None. Never says which of the two was wrong.

    Holds `session` while hashing; request handlers use `password_hash_of` + `verify_password`
    + `finish_login` instead, so that no connection waits on a hash."""
    user_id, stored = await password_hash_of(session, username)
    if not await verify_password(stored, password) or user_id is None:
        return None
    return await finish_login(session, user_id, await rehashed(stored, password))


async def password_hash_of(session: AsyncSession, username: str) -> tuple[int | None, str | None]:
    """(id, password hash) of the account with this username, (None, None) when there is none."""
    row = (await session.execute(
        select(User.id, User.password_hash).where(User.username == username.strip()))).first()
    return (None, None) if row is None else (int(row[0]), str(row[1]))


async def rehashed(stored: str | None, password: str) -> str | None:
    """A new hash when the stored one uses outdated parameters (after a verified password)."""
    return await hash_password(password) if stored and needs_rehash(stored) else None


async def finish_login(session: AsyncSession, user_id: int, new_hash: str | None = None) -> UserView | None:
    """After the password was verified: the user if still active, with the login recorded."""
    user = await session.get(User, user_id)
    if user is None or not user.active:
        return None
    if new_hash:
        user.password_hash = new_hash
    user.last_login_at = now()
    return _user_view(user)


# --- login throttling --------------------------------------------------------------------


async def login_blocked(session: AsyncSession, username: str, ip: str) -> bool:
    """True when this username has failed too often from this address lately, or this address
    has failed too often on any accounts. Never true for an account as a whole."""
    since = now() - LOGIN_FAILURE_WINDOW
    stmt = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username.strip()[:80], LoginAttempt.ip == ip[:64], LoginAttempt.at > since)
    if (await session.execute(stmt)).scalar_one() >= LOGIN_FAILURE_LIMIT:
        return True
    from_address = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.ip == ip[:64], LoginAttempt.at > since)
    return (await session.execute(from_address)).scalar_one() >= ADDRESS_FAILURE_LIMIT


async def login_delay(session: AsyncSession, username: str) -> float:
    """Seconds to wait before checking a password for this account: grows with its recent
    failures from all addresses together, capped, so guessing slows down but the real user
    still gets in."""
    since = now() - LOGIN_FAILURE_WINDOW
    stmt = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username.strip()[:80], LoginAttempt.at > since)
    failures = (await session.execute(stmt)).scalar_one()
    if failures < ACCOUNT_SLOWDOWN_AFTER:
        return 0.0
    steps = failures - ACCOUNT_SLOWDOWN_AFTER + 1
    return min(ACCOUNT_SLOWDOWN_MAX_SECONDS, ACCOUNT_SLOWDOWN_STEP_SECONDS * steps)


async def record_login_failure(session: AsyncSession, username: str, ip: str) -> None:
    session.add(LoginAttempt(username=username.strip()[:80], ip=ip[:64], at=now()))
    # Old rows are useless for throttling; trimming here keeps the table small.
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < now() - LOGIN_FAILURE_WINDOW))


async def clear_login_failures(session: AsyncSession, username: str, ip: str) -> None:
    await session.execute(delete(LoginAttempt).where(
        LoginAttempt.username == username.strip()[:80], LoginAttempt.ip == ip[:64]))


# --- API tokens --------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(session: AsyncSession, agency: str, role: str = Role.EDITOR, *, name: str = "",
                       hub_id: int | None = None, actor: str = "system") -> str:
    """Creates an API token and returns its secret; only its hash is stored, so this is the
    one time anyone sees it. (What `python run.py token create` prints.)"""
    _view, secret = await issue_token(session, agency, role, name=name, hub_id=hub_id, actor=actor)
    return secret


async def issue_token(session: AsyncSession, agency: str, role: str = Role.EDITOR, *, name: str = "",
                      hub_id: int | None = None, actor: str = "system") -> tuple[TokenView, str]:
    agency = agency.strip()
    if not agency:
        raise ValidationFailed("请指定令牌所属单位", field="agency")
    check_role(role, agency, hub_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(token_hash=_digest(secret), prefix=secret[:10], name=name.strip(), agency=agency, role=role,
                     hub_id=hub_id, created_by=actor, created_at=now())
    session.add(token)
    await session.flush()
    audit(session, actor, "token.create", f"令牌 #{token.id} {token.prefix}…", f"{agency}，{Role.LABELS[role]}")
    return _token_view(token), secret


async def token_principal(session: AsyncSession, secret: str) -> Principal | None:
    """The principal of an active token, or None (unknown or revoked)."""
    token = (await session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret)))).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = now()
    return Principal(actor=f"api#{token.id}@{token.agency}", role=token.role, agency=token.agency,
                     hub_id=token.hub_id, token_id=token.id, display_name=token.name or f"API 令牌 #{token.id}")


async def revoke_token(session: AsyncSession, token_id: int, actor: str) -> TokenView:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"令牌 {token_id} 不存在", field="token_id")
    if token.revoked_at is None:
        token.revoked_at = now()
        token.revoked_by = actor
        audit(session, actor, "token.revoke", f"令牌 #{token.id} {token.prefix}…", token.agency)
    return _token_view(token)


async def list_tokens(session: AsyncSession, agency: str | None = None) -> list[TokenView]:
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if agency:
        stmt = stmt.where(ApiToken.agency == agency)
    return [_token_view(t) for t in (await session.execute(stmt)).scalars()]


async def count_users(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(User))).scalar_one()
