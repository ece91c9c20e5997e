"""Tables of the bot package: conversation state of channels without a client-side session
(WeChat, web chat), and the inbound messages already taken (WeChat retries the same message
up to three times when our reply is slow)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class BotConversation(Base):
    __tablename__ = "bot_conversation"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    address: Mapped[str] = mapped_column(String(200), primary_key=True)
    step: Mapped[str] = mapped_column(String(20), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotInboundMessage(Base):
    """One row per platform message taken; the unique key makes a retried delivery a no-op."""

    __tablename__ = "bot_inbound_message"
    __table_args__ = (
        UniqueConstraint("channel", "dedupe_key"),
        Index("ix_bot_inbound_message_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    # WeChat: "m<MsgId>" for messages, "e<FromUserName>:<CreateTime>:<Event>" for events.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
