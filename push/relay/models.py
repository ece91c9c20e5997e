"""Tables of relay tracking: a hub's task to pass a policy on to its members, the members it
covers, escalations to the releasing department, and the outbox cursor of task creation.

Like `delivery`, these rows are ledger entries (台账) that must outlive the hubs, contacts and
policies they name, so other packages' rows are referred to by id plus a snapshot of the
names a ledger shows, without foreign keys.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class RelayStatus:
    """The documented set of relay task states.

    open       waiting for the hub to act; overdue once `due_on` has passed (derived, not stored)
    forwarded  the hub forwarded through the system: each member contact got a tracked delivery
    reported   the hub reported a forward made elsewhere (e.g. its own WeChat group), with a count
    declined   the hub declined, with a reason
    withdrawn  the policy was repealed or expired before the hub acted: nothing left to relay

    open → forwarded | reported | declined | withdrawn;  forwarded ⇄ (report adds an external
    count without changing the status); reported → forwarded (a later system forward).
    """

    OPEN = "open"
    FORWARDED = "forwarded"
    REPORTED = "reported"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    ALL = (OPEN, FORWARDED, REPORTED, DECLINED, WITHDRAWN)
    DONE = (FORWARDED, REPORTED)
    LABELS = {
        OPEN: "待转达",
        FORWARDED: "已通过系统转发",
        REPORTED: "已在外部转发",
        DECLINED: "已拒绝",
        WITHDRAWN: "政策已废止/失效，无需转达",
    }


class MemberOutcome:
    """What became of one member contact of a task.

    pending         not yet forwarded (the task is open, reported or declined)
    queued          a relay delivery was queued for it by this task's forward
    already_reached it already had this policy (directly or through another hub): no second
                    message, but this hub gets credit and the same delivery is tracked
    left_hub        its enterprise left the hub before the forward: not messaged
    no_address      no active address (blocked the bot, paused) at the forward: not messaged
    """

    PENDING = "pending"
    QUEUED = "queued"
    ALREADY_REACHED = "already_reached"
    LEFT_HUB = "left_hub"
    NO_ADDRESS = "no_address"
    CREDITED = (QUEUED, ALREADY_REACHED)
    LABELS = {
        PENDING: "未转发",
        QUEUED: "已转发",
        ALREADY_REACHED: "此前已收到",
        LEFT_HUB: "已退出园区/协会",
        NO_ADDRESS: "无可用接收地址",
    }


class RelayTask(Base):
    """One hub's task to relay one policy to its members in scope, once per (policy, hub)."""

    __tablename__ = "relay_task"
    __table_args__ = (
        UniqueConstraint("policy_id", "hub_id"),
        # Reminders and escalations scan open tasks by date.
        Index("ix_relay_task_open", "status", "due_on"),
        Index("ix_relay_task_hub", "hub_id", "status"),
        Index("ix_relay_task_agency", "agency", "released_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(Integer)
    hub_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(Integer)  # the outbox event that created it
    # Snapshots for the ledger: what the names were when the task was given.
    hub_name: Mapped[str] = mapped_column(String(200))
    hub_kind: Mapped[str] = mapped_column(String(20))
    policy_title: Mapped[str] = mapped_column(String(300))
    doc_no: Mapped[str] = mapped_column(String(100), default="")
    agency: Mapped[str] = mapped_column(String(200))  # the releasing department, who gets escalations
    interpretation_path: Mapped[str] = mapped_column(String(200))
    released_on: Mapped[date] = mapped_column(Date)  # Beijing date of the release event
    due_on: Mapped[date] = mapped_column(Date)
    remind_on: Mapped[date] = mapped_column(Date)  # one working day before `due_on`
    status: Mapped[str] = mapped_column(String(12), default=RelayStatus.OPEN)
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first action of the hub
    acted_by: Mapped[str] = mapped_column(String(200), default="")
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_count: Mapped[int] = mapped_column(Integer, default=0)  # as reported; not verifiable
    note: Mapped[str] = mapped_column(Text, default="")  # report note or decline reason
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the hub had no active address to remind: someone must phone them.
    hub_unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RelayMember(Base):
    """One member contact (address) of a task, and the delivery that credits the hub."""

    __tablename__ = "relay_member"
    __table_args__ = (
        UniqueConstraint("task_id", "subscriber_id", "address_id"),
        Index("ix_relay_member_delivery", "delivery_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("relay_task.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(Integer)
    enterprise_name: Mapped[str] = mapped_column(String(200), default="")
    credit_code: Mapped[str] = mapped_column(String(18), default="")
    subscriber_id: Mapped[int] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    address_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(500))
    reasons: Mapped[str] = mapped_column(Text, default="")  # why it is in scope, "；"-joined
    outcome: Mapped[str] = mapped_column(String(20), default=MemberOutcome.PENDING)
    delivery_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RelayEscalation(Base):
    """An overdue task reported to the releasing department: one per task, shown in the console."""

    __tablename__ = "relay_escalation"
    __table_args__ = (Index("ix_relay_escalation_agency", "agency", "escalated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("relay_task.id", ondelete="CASCADE"), unique=True)
    agency: Mapped[str] = mapped_column(String(200))
    policy_id: Mapped[int] = mapped_column(Integer)
    hub_id: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the hub acts after all, so the department sees the matter closed.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RelayCursor(Base):
    """How far relay-task creation has read the policies outbox (one row, name "tasks")."""

    __tablename__ = "relay_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
