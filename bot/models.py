"""Tables of the bot package: conversation state of channels without a client-side session
(WeChat, web chat), the inbound messages already taken (WeChat retries the same message
up to three times when our reply is slow), and the one-time codes that bind a web-chat
visitor to a Telegram chat or a WeChat openid."""

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


class BotBindCode(Base):
    """A one-time code that binds a web-chat visitor to a Telegram chat or WeChat openid.

    Only a hash of the code is kept (the code is a bearer secret for a few minutes); a code
    is used once (`used_at`) and is worthless after `expires_at`."""

    __tablename__ = "bot_bind_code"
    __table_args__ = (Index("ix_bot_bind_code_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    web_address: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # "telegram:<chat id>" / "wechat:<openid>" that redeemed it (audit; empty until used)
    used_by: Mapped[str] = mapped_column(String(240), default="")
