"""Tables of the delivery pipeline. Other packages reach them only through `push.service`.

Subscribers, addresses and policies are referred to by id only (no foreign keys): they
belong to other packages, and a delivery row is a ledger entry that must outlive them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class DeliveryStatus:
    """The documented set of delivery states (modelled on GOV.UK Notify's).

    pending   waiting in the queue until `next_attempt_at` (new rows, and retries after backoff)
    sending   claimed by a worker whose lease runs until `lease_until`; an expired lease goes
              back to pending (the sweeper), so a crashed worker loses nothing
    sent      the platform accepted the message; NOT proof that anyone read it
    failed    cannot be sent: bad content, or the address is gone (blocked, unsubscribed);
              `last_error` says why in words a department can act on
    dead      transient errors until the last attempt: dead-lettered, visible, not retried
    cancelled never to be sent: superseded by a newer revision, policy withdrawn, address gone

    pending → sending → sent | pending (retry) | failed | dead;  pending → cancelled.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"
    ALL = (PENDING, SENDING, SENT, FAILED, DEAD, CANCELLED)
    QUEUED = (PENDING, SENDING)
    FINAL = (SENT, FAILED, DEAD, CANCELLED)


class AttemptOutcome:
    SENT = "sent"
    RETRY = "retry"
    PERMANENT = "permanent"
    FAILED = "failed"
    DEAD = "dead"
    NEW_ADDRESS = "new_address"
    LEASE_EXPIRED = "lease_expired"
    DEFERRED = "deferred"  # a shared limit was full: back to the queue, no attempt spent, no attempt row


_PENDING = text("status = 'pending'")
_SENDING = text("status = 'sending'")
_SENT = text("status = 'sent'")
_DEAD = text("status = 'dead'")


class Delivery(Base):
    """One message about one policy revision to one channel address of one subscriber.

    The unique key makes every fan-out step idempotent: a second run, or a resumed one,
    inserts nothing it already inserted. `kind` is part of the key because one revision can
    legitimately reach the same address twice: first published, later repealed.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        # Idempotent fan-out; its leading policy_id also serves every per-policy query.
        UniqueConstraint("policy_id", "revision", "kind", "subscriber_id", "address_id"),
        # Only the rows each query looks for are indexed (ADR 0015): a fan-out writes tens of
        # thousands of pending rows at once, and an index it does not need costs it time.
        # The claim query (and the due gauge): due pending rows in order; sent rows drop out.
        Index("ix_delivery_queue", "next_attempt_at", "id", sqlite_where=_PENDING, postgresql_where=_PENDING),
        # The sweeper: leases of claimed rows; the dead-letter list.
        Index("ix_delivery_leases", "lease_until", sqlite_where=_SENDING, postgresql_where=_SENDING),
        Index("ix_delivery_dead", "id", sqlite_where=_DEAD, postgresql_where=_DEAD),
        Index("ix_delivery_address", "address_id", "status"),
        # 收到 in a chat acknowledges that chat's newest sent push: looked up by channel and
        # address. Only sent rows: the fan-out's rows (random addresses) are not written here.
        Index("ix_delivery_channel_address", "channel", "address", sqlite_where=_SENT, postgresql_where=_SENT),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    policy_id: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # push.channels.base.MessageKind
    subscriber_id: Mapped[int] = mapped_column(Integer)
    address_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(500))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    role: Mapped[str] = mapped_column(String(20), default="subscriber")  # subscriber | relayer
    hub_id: Mapped[int | None] = mapped_column(Integer)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Sent in the subscriber's daily/weekly digest rather than on its own.
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """Every send attempt, with what the platform answered: the audit trail of a delivery."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))  # AttemptOutcome
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str] = mapped_column(Text, default="")


class FanoutState:
    RUNNING = "running"
    DONE = "done"


class FanoutProgress(Base):
    """How far the fan-out of one outbox event has got, committed with each chunk of rows.

    Recipients are inserted in (subscriber_id, address_id) order; `last_subscriber_id` /
    `last_address_id` is the last key committed, so a resumed fan-out starts after it.
    """

    __tablename__ = "fanout_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, unique=True)
    policy_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default=FanoutState.RUNNING)
    last_subscriber_id: Mapped[int] = mapped_column(Integer, default=0)
    last_address_id: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebInboxMessage(Base):
    """A message for the web chat's inbox (the web channel stores instead of sending)."""

    __tablename__ = "web_inbox_message"
    __table_args__ = (Index("ix_web_inbox_key", "inbox_key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read: Mapped[bool] = mapped_column(Boolean, default=False)


class WriteProbe(Base):
    """One row that /healthz rewrites: a database that answers reads but takes no writes (disk
    full, read-only, a standby) cannot record outcomes, so it is not healthy."""

    __tablename__ = "write_probe"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
