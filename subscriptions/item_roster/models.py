"""What a department recorded about an enterprise and an item: applied, or granted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class ApplicationStatus:
    APPLIED = "applied"
    GRANTED = "granted"
    ALL = (APPLIED, GRANTED)


STATUS_LABELS = {"": "未申请", ApplicationStatus.APPLIED: "已申请", ApplicationStatus.GRANTED: "已兑现"}


class ItemApplication(Base):
    """One enterprise and one item of a policy. The item is named by policy and item name, which
    survive amendments that renumber or reword the rest of the item."""

    __tablename__ = "item_application"
    __table_args__ = (UniqueConstraint("policy_id", "item_name", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: subscriptions does not own policies
    item_name: Mapped[str] = mapped_column(String(200))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
