"""Tables of QR posters: the poster per (policy, place), its scans and what followed them.

Like the relay tables these are ledger rows that must outlive the policy's later revisions,
so the policy is referred to by id (the scan always resolves to its current revision) plus
the title snapshot the ledger shows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class PlaceKind:
    """Where a poster hangs; the labels are what the console and the poster show."""

    VILLAGE = "village"
    COMMUNITY = "community"
    SERVICE_HALL = "service_hall"
    NOTICE_BOARD = "notice_board"
    OTHER = "other"
    LABELS = {
        VILLAGE: "村委会",
        COMMUNITY: "社区",
        SERVICE_HALL: "便民服务大厅",
        NOTICE_BOARD: "园区/公共公告栏",
        OTHER: "其他场所",
    }
    ALL = tuple(LABELS)


class CreditKind:
    """What a scan led to. `subscription` covers a WeChat follow through the poster's
    parametric code as well as 订阅此类 pressed in a chat opened from the poster."""

    SUBSCRIPTION = "subscription"
    QUESTION = "question"
    LABELS = {SUBSCRIPTION: "扫码后订阅", QUESTION: "扫码后咨询"}


class Poster(Base):
    __tablename__ = "poster"
    __table_args__ = (Index("ix_poster_policy", "policy_id", "place_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(Integer)
    policy_title: Mapped[str] = mapped_column(String(300))
    place_name: Mapped[str] = mapped_column(String(200))
    place_kind: Mapped[str] = mapped_column(String(20), default=PlaceKind.OTHER)
    township: Mapped[str] = mapped_column(String(100), default="")
    batch: Mapped[str] = mapped_column(String(40), default="")  # one township list printed together
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first PDF made for printing
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    # Content of the WeChat parametric code (scene "p:<id>"), when a service account made one.
    wechat_qr_url: Mapped[str] = mapped_column(String(300), default="")


class PosterScan(Base):
    """One visitor's scans of one poster on one Beijing day (later scans that day add nothing).

    `visitor_key` is an HMAC of the address and browser under the app's key and the day, so
    it cannot be turned back into an address and does not link a visitor across days."""

    __tablename__ = "poster_scan"
    __table_args__ = (
        UniqueConstraint("poster_id", "day", "visitor_key"),
        Index("ix_poster_scan_policy", "policy_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poster_id: Mapped[int] = mapped_column(ForeignKey("poster.id", ondelete="CASCADE"))
    policy_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    visitor_key: Mapped[str] = mapped_column(String(64))
    in_wechat: Mapped[bool] = mapped_column(Boolean, default=False)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PosterCredit(Base):
    """A subscription or consultation that followed a scan, once per poster, kind and person."""

    __tablename__ = "poster_credit"
    __table_args__ = (
        UniqueConstraint("poster_id", "kind", "subscriber_id"),
        Index("ix_poster_credit_policy", "policy_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poster_id: Mapped[int] = mapped_column(ForeignKey("poster.id", ondelete="CASCADE"))
    policy_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    subscriber_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    credited_at: Mapped[datetime] = mapped_column(UTCDateTime)
