"""Tables of subscribers, their channel addresses, criteria, hubs and the match index.

Other packages never query these directly: they go through `subscriptions.service`.

`match_key` is a denormalised index derived from the other tables (see docs/adr/0009);
it is rewritten in the same transaction as every change to the rows it is derived from.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Time, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class SubscriberKind:
    """Who a subscriber (one contact with its own criteria) is."""

    RESIDENT = "resident"
    ENTERPRISE = "enterprise"  # a contact of an enterprise; the profile lives on `enterprise`
    HUB = "hub"  # an operator of a park or an association
    ALL = (RESIDENT, ENTERPRISE, HUB)


class HubKind:
    PARK = "park"  # 产业园区
    ASSOCIATION = "association"  # 行业协会
    ALL = (PARK, ASSOCIATION)


class Frequency:
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    ALL = (IMMEDIATE, DAILY, WEEKLY)


class EnterpriseSize:
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"
    ALL = (LARGE, MEDIUM, SMALL, MICRO)


class InactiveReason:
    BLOCKED = "blocked"  # the user blocked the bot
    UNSUBSCRIBED = "unsubscribed"  # unsubscribed on the platform or asked us to stop
    BAD_ADDRESS = "bad_address"  # the platform says the address does not exist
    REPLACED = "replaced"  # superseded by another address (merged records)
    ALL = (BLOCKED, UNSUBSCRIBED, BAD_ADDRESS, REPLACED)


class Enterprise(Base):
    """An enterprise profile, shared by all its contacts."""

    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # 统一社会信用代码; unique when known (bots may register an enterprise before it is given).
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(2), default="")  # GB/T 4754 section letter
    size: Mapped[str] = mapped_column(String(10), default="")  # EnterpriseSize, "" = undeclared
    qualifications: Mapped[list[str]] = mapped_column(JSON, default=list)  # eligibility tag codes
    township: Mapped[str] = mapped_column(String(16), default="")
    # Known to the county: registered from the console, the API or a registry import. An
    # enterprise first named in a chat is False: its profile is only what someone typed.
    verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Hub(Base):
    """An industrial park or trade association that relays pushes to its members."""

    __tablename__ = "hub"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # HubKind
    township: Mapped[str] = mapped_column(String(16), default="")
    join_code: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HubMember(Base):
    __tablename__ = "hub_member"

    hub_id: Mapped[int] = mapped_column(ForeignKey("hub.id", ondelete="CASCADE"), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    via: Mapped[str] = mapped_column(String(20))  # "import" | "invite" | "console"
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subscriber(Base):
    """One contact: a resident, an enterprise's contact person, or a hub operator.

    Criteria (topics, keywords, townships) hang off it; so do preferences and addresses.
    """

    __tablename__ = "subscriber"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # SubscriberKind
    display_name: Mapped[str] = mapped_column(String(120), default="")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("hub.id", ondelete="CASCADE"), index=True)
    # Residents' own profile; enterprise contacts use the enterprise's.
    township: Mapped[str] = mapped_column(String(16), default="")
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)  # resident eligibility tag codes
    # Which policy audiences this contact wants: "enterprise" | "resident" | "both".
    audience: Mapped[str] = mapped_column(String(20))
    all_topics: Mapped[bool] = mapped_column(Boolean, default=False)
    recommend_by_profile: Mapped[bool] = mapped_column(Boolean, default=False)
    frequency: Mapped[str] = mapped_column(String(20), default=Frequency.IMMEDIATE)
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when this contact was merged into another (`service.merge_subscribers`): it keeps
    # its id for the history that names it, but has no criteria and no addresses any more.
    merged_into: Mapped[int | None] = mapped_column(Integer)  # no FK: SQLite adds the column without a rebuild
    # False when the link to `enterprise_id` rests only on the contact's own word in a chat
    # (it created that unverified enterprise); True when staff, an import, an approved claim
    # or an invite code made it. Only verified contacts act for a verified enterprise.
    contact_verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SubscriptionTopic(Base):
    __tablename__ = "subscription_topic"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(16), primary_key=True)


class SubscriptionKeyword(Base):
    __tablename__ = "subscription_keyword"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The keyword's jieba query tokens, space-joined; it matches a policy holding all of them.
    tokens: Mapped[str] = mapped_column(String(200))


class SubscriptionTownship(Base):
    """Townships whose regional policies the contact wants ("*" = every township).

    No rows: the contact's home township (its own or its enterprise's), if any."""

    __tablename__ = "subscription_township"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True)
    township: Mapped[str] = mapped_column(String(16), primary_key=True)


class ChannelAddress(Base):
    __tablename__ = "channel_address"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str] = mapped_column(String(40), default="")
    inactive_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatchKey(Base):
    """The match index: one row per (criterion key, township, contact[, keyword]).

    key: "t:<topic>", "t:*" (all topics), "k:<token>" (keyword anchor token),
    "p:<eligibility tag>" or "i:<industry>" (recommend by profile).
    township: a township code, "*" (every township) or "" (county-wide policies only).
    The non-key columns let the hard conditions be checked without touching `subscriber`.
    """

    __tablename__ = "match_key"
    __table_args__: Any = {"sqlite_with_rowid": False}

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    township: Mapped[str] = mapped_column(String(16), primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    detail: Mapped[str] = mapped_column(String(40), primary_key=True)  # the keyword as typed, else ""
    kind: Mapped[str] = mapped_column(String(1))  # "r" resident, "e" enterprise contact, "h" hub
    audience: Mapped[str] = mapped_column(String(1))  # "r", "e" or "b" (both)
    industry: Mapped[str] = mapped_column(String(2))  # declared industry of an enterprise, else ""
    rest: Mapped[str] = mapped_column(String(200))  # further keyword tokens, space-joined


class ClaimStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    ALL = (PENDING, APPROVED, REFUSED)


class EnterpriseClaim(Base):
    """A chat contact's request to act for an enterprise that is already registered.

    Until someone entitled approves it (see `subscriptions.claims`), the contact is an
    ordinary subscriber and sees nothing of the enterprise."""

    __tablename__ = "enterprise_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"), index=True)
    claimed_name: Mapped[str] = mapped_column(String(200), default="")  # the name as the contact typed it
    status: Mapped[str] = mapped_column(String(10), default=ClaimStatus.PENDING)
    decided_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EnterpriseInvite(Base):
    """A one-time code that makes whoever redeems it in a chat a verified contact of the
    enterprise. Only the sha256 of the code is kept; it expires and works once."""

    __tablename__ = "enterprise_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(Integer)  # subscriber id
