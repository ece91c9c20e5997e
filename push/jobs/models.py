"""Tables of the scheduled jobs: the run ledger that makes every job idempotent, the ledger of
application-deadline reminders, and the notices a releasing department sees on its boards.

Policies, subscribers and addresses are referred to by id only (no foreign keys), like
`delivery`: these rows are records that must outlive what they name.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class JobRunState:
    """running  claimed by a scheduler (a stale claim, older than the job's lease, may be retaken)
    done     finished: the period is never run again
    failed   raised; the next run for the same period (catch-up, restart) tries again
    """

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobRun(Base):
    """One run of one job for one period (e.g. "deadline_reminders", "2026-03-02").

    A run claims its row before acting; the unique key means two schedulers (or one scheduler
    started twice) never both act for the same period.
    """

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    period_key: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default=JobRunState.RUNNING)
    runner: Mapped[str] = mapped_column(String(120), default="")  # host:pid of the process
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text, default="")  # what the run did, or why it failed


class DeadlineReminder(Base):
    """An application-deadline (申报截止) reminder queued for one address, once per stage.

    Keyed by the deadline date rather than the revision: an amendment that keeps the date does
    not remind anyone again, one that moves it does.
    """

    __tablename__ = "deadline_reminder"
    __table_args__ = (
        UniqueConstraint("policy_id", "subscriber_id", "address_id", "closes_on", "days_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(Integer)
    subscriber_id: Mapped[int] = mapped_column(Integer)
    address_id: Mapped[int] = mapped_column(Integer)
    closes_on: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int] = mapped_column(Integer)  # 7 or 1
    delivery_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoticeKind:
    """What a department notice is about (one notice per policy and kind, ever)."""

    INTERPRETATION_DUE = "interpretation_due"  # the working day before the interpretation is due
    INTERPRETATION_OVERDUE = "interpretation_overdue"  # due date passed without an interpretation
    EXPIRY_WARNING = "expiry_warning"  # the policy expires within 30 days
    ALL = (INTERPRETATION_DUE, INTERPRETATION_OVERDUE, EXPIRY_WARNING)


class DepartmentNotice(Base):
    """Something the releasing department must act on, shown on its console boards.

    There are no department chat addresses, so the board is where the notice is delivered;
    `resolved_at` is set by the job once the cause is gone (interpretation written, policy no
    longer in force).
    """

    __tablename__ = "department_notice"
    __table_args__ = (
        UniqueConstraint("policy_id", "kind"),
        Index("ix_department_notice_agency", "agency", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))  # NoticeKind
    agency: Mapped[str] = mapped_column(String(200))
    policy_title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)  # the interpretation due date, or the expiry date
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
