"""Tables of the policy library. Other packages never query these directly: they go
through `policies.service`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from vocabulary.codes import Audience, EventKind, PolicyKind, PolicyStatus

__all__ = [
    "INTERPRETATION_ELEMENTS",
    "Audience",
    "EventKind",
    "Interpretation",
    "Policy",
    "PolicyEvent",
    "PolicyHistory",
    "PolicyKind",
    "PolicyRevision",
    "PolicyStatus",
    "ReviewAction",
]


class Policy(Base):
    __tablename__ = "policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    doc_no: Mapped[str | None] = mapped_column(String(80), unique=True)
    doc_issuer: Mapped[str | None] = mapped_column(String(40))
    doc_year: Mapped[int | None] = mapped_column(Integer)
    doc_serial: Mapped[int | None] = mapped_column(Integer)
    agency: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=PolicyKind.OTHER)
    audience: Mapped[str] = mapped_column(String(20), default=Audience.BOTH)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    benefits: Mapped[str] = mapped_column(Text, default="")
    who_qualifies: Mapped[str] = mapped_column(Text, default="")
    application_opens: Mapped[date | None] = mapped_column(Date)
    application_closes: Mapped[date | None] = mapped_column(Date)
    effective_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date, index=True)
    issued_on: Mapped[date | None] = mapped_column(Date)
    source_url: Mapped[str] = mapped_column(String(500), default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=PolicyStatus.DRAFT, index=True)
    approvals: Mapped[int] = mapped_column(Integer, default=0)
    current_revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repeal_reason: Mapped[str] = mapped_column(Text, default="")

    revisions: Mapped[list[PolicyRevision]] = relationship(
        back_populates="policy", order_by="PolicyRevision.number", lazy="raise"
    )
    interpretation: Mapped[Interpretation | None] = relationship(back_populates="policy", lazy="raise")


class PolicyRevision(Base):
    """The full text of one revision. Amending adds a row; old rows stay readable."""

    __tablename__ = "policy_revision"
    __table_args__ = (UniqueConstraint("policy_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    change_summary: Mapped[str] = mapped_column(Text, default="")
    # Search-mode jieba tokens, space-joined, kept so that a restart never re-tokenises.
    tokens: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    policy: Mapped[Policy] = relationship(back_populates="revisions", lazy="raise")


INTERPRETATION_ELEMENTS: dict[str, str] = {
    "background": "背景依据",
    "goals": "目标任务",
    "key_points": "创新特点与主要内容",
    "differences": "新旧差异",
    "scope": "影响范围",
    "standards": "执行标准",
    "notes": "注意事项",
    "benefits": "惠企举措",
    "eligibility": "享受条件",
    "keywords": "关键词与专有词",
}
"""Interpretation elements of work-plan item 18, in the order a reader sees them."""


class Interpretation(Base):
    """The official interpretation (解读) of a policy, with the elements of item 18."""

    __tablename__ = "interpretation"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), unique=True)
    elements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    unit: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    tokens: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    policy: Mapped[Policy] = relationship(back_populates="interpretation", lazy="raise")


class ReviewAction(Base):
    __tablename__ = "policy_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))  # approve | return
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class PolicyHistory(Base):
    """Who did what to a policy and when (also the audit log for policies)."""

    __tablename__ = "policy_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text, default="")


class PolicyEvent(Base):
    """Outbox: written in the same transaction as the change it announces."""

    __tablename__ = "policy_event"
    __table_args__ = (Index("ix_policy_event_policy", "policy_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Q&A tables live in their own module; importing them here registers them for Alembic.
import policies.qa.models  # noqa: E402, F401
