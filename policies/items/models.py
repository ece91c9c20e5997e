"""The item table. One row is one version of one item (事项) of a policy: a policy's items at
revision n are its rows with the highest `revision` ≤ n, so an amendment that changes the items
adds rows and the old ones stay readable, like the revision texts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class PolicyItem(Base):
    __tablename__ = "policy_item"
    __table_args__ = (UniqueConstraint("policy_id", "revision", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)  # the policy revision this version applies from
    position: Mapped[int] = mapped_column(Integer)  # order within the policy, from 1
    name: Mapped[str] = mapped_column(String(200))
    benefit: Mapped[str] = mapped_column(Text, default="")  # what one gets, as written
    amount_yuan: Mapped[int | None] = mapped_column(Integer)  # a fixed sum, when there is one
    rate_percent: Mapped[float | None] = mapped_column(Float)  # a share, e.g. 30 for 30%
    cap_yuan: Mapped[int | None] = mapped_column(Integer)  # 封顶
    track: Mapped[str] = mapped_column(String(10))  # vocabulary.Track
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    apply_url: Mapped[str] = mapped_column(String(500), default="")
    apply_place: Mapped[str] = mapped_column(String(300), default="")  # 受理窗口
    materials: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None] = mapped_column(Date)  # 申报截止 / 兑现时限
    phone: Mapped[str] = mapped_column(String(40), default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ItemPushChoice(Base):
    """Whether a policy's push also goes to those who may qualify for an item (需核实), as the
    department chose in the dry run. No row: only those who meet every condition."""

    __tablename__ = "policy_item_push_choice"

    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), primary_key=True)
    include_may_qualify: Mapped[bool] = mapped_column(Boolean, default=False)
    chosen_by: Mapped[str] = mapped_column(String(120))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime)
