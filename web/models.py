"""Tables of the HTTP face: console accounts, API tokens, login attempts and the audit
log of actions that are not policy actions (those live in `policy_history`).

Sessions are not stored: they are signed cookies (see web/sessions.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class Role:
    """The documented set of roles.

    admin        everything, every agency; manages accounts and tokens
    editor       drafts, submits, publishes (once approved), amends and repeals the policies
                 of its own agency; sees their figures
    reviewer     approves or returns submitted drafts (never one it drafted); an agency-bound
                 reviewer only reviews its agency's drafts
    hub_operator the tasks and members of its hub
    viewer       reads
    """

    ADMIN = "admin"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    HUB_OPERATOR = "hub_operator"
    VIEWER = "viewer"
    ALL = (ADMIN, EDITOR, REVIEWER, HUB_OPERATOR, VIEWER)
    LABELS = {
        ADMIN: "管理员",
        EDITOR: "部门编辑",
        REVIEWER: "审核人",
        HUB_OPERATOR: "园区/协会联络员",
        VIEWER: "只读用户",
    }


class User(Base):
    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    agency: Mapped[str | None] = mapped_column(String(120))
    hub_id: Mapped[int | None] = mapped_column(Integer)
    review_level: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written into each console session at login and compared on every request: raising it
    # (logout, password change) ends every session of the account at once.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    """An agency's API token. Only the sha256 of the secret is kept: tokens are random
    and high-entropy, so a slow password hash would add cost without adding safety."""

    __tablename__ = "web_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # first characters, to tell tokens apart
    name: Mapped[str] = mapped_column(String(120), default="")
    agency: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    hub_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(120))


class LoginAttempt(Base):
    """Failed console logins, kept in the database so throttling holds across processes."""

    __tablename__ = "web_login_attempt"
    __table_args__ = (Index("ix_web_login_attempt_who", "username", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did what outside the policy lifecycle: accounts, tokens, logins."""

    __tablename__ = "web_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
