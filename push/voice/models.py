"""Tables of read-aloud: who chose to listen, and what a platform already holds of a clip
(a Telegram file id reused for every later recipient, a WeChat media id valid three days)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class VoicePreference(Base):
    """语音播报 chosen in one chat (channel + address), so the choice follows that chat."""

    __tablename__ = "voice_preference"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VoiceUpload(Base):
    """A clip part a platform already holds, by policy revision, channel, part and voice."""

    __tablename__ = "voice_upload"
    __table_args__ = (UniqueConstraint("policy_id", "revision", "channel", "part", "engine_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    part: Mapped[int] = mapped_column(Integer)
    engine_key: Mapped[str] = mapped_column(String(100))
    provider_id: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
