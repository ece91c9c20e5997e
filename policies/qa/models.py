"""Tables of policy Q&A: the FAQ knowledge base (政策知识问答库), every question asked, and
the 有用/没用 feedback on each answer. Other packages go through `policies.qa.service`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class AnswerKind:
    """How a question was answered: the documented set stored in `qa_question.outcome`."""

    FAQ = "faq"  # a confident FAQ match, answered with the department's own answer
    POLICY = "policy"  # the best policy and its best passage
    CHOICES = "choices"  # two or three policies are plausible: "您可能想问" with up to three choices
    NOT_FOUND = "not_found"  # no good answer: said so, phone line given, shown to departments
    INVALID = "invalid"  # empty, emoji-only or otherwise not a question we can search
    SMALL_TALK = "small_talk"  # greeting, thanks, asking for a person: a helpful reply, not a question
    ALL = (FAQ, POLICY, CHOICES, NOT_FOUND, INVALID, SMALL_TALK)
    ANSWERED = (FAQ, POLICY, CHOICES)
    UNANSWERED = (NOT_FOUND,)


class FaqEntry(Base):
    __tablename__ = "faq_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(300), unique=True)
    # Other ways people ask the same thing; the question itself is not repeated here.
    variants: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    policy_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    department: Mapped[str] = mapped_column(String(120), default="")
    # One line per phrasing (question first, then variants), each its space-joined search
    # tokens, so that a restart never re-tokenises.
    tokens: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuestionLog(Base):
    """Every question asked in any channel, with how it was answered; its id is the answer id."""

    __tablename__ = "qa_question"
    __table_args__ = (Index("ix_qa_question_outcome_normalized", "outcome", "normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))
    # The folded form (simplified, lower case, capped): identical questions group together.
    normalized: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policy.id", ondelete="SET NULL"), index=True)
    faq_id: Mapped[int | None] = mapped_column(ForeignKey("faq_entry.id", ondelete="SET NULL"), index=True)
    alternatives: Mapped[list[int]] = mapped_column(JSON, default=list)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)


class AnswerFeedback(Base):
    """有用 / 没用 on one answer; a second click replaces the first."""

    __tablename__ = "qa_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qa_question.id", ondelete="CASCADE"), unique=True)
    useful: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
