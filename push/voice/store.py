"""Queries of the read-aloud tables; `push.voice.service` is the only caller."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from push.voice.models import VoicePreference, VoiceUpload


async def set_preference(session: AsyncSession, channel: str, address: str, enabled: bool, now: datetime) -> None:
    row = await session.scalar(select(VoicePreference).where(VoicePreference.channel == channel,
                                                             VoicePreference.address == address))
    if row is None:
        try:
            async with session.begin_nested():
                session.add(VoicePreference(channel=channel, address=address, enabled=enabled, updated_at=now))
                await session.flush()
            return
        except IntegrityError:  # the same chat pressed twice at once
            row = await session.scalar(select(VoicePreference).where(VoicePreference.channel == channel,
                                                                     VoicePreference.address == address))
    if row is not None:
        row.enabled = enabled
        row.updated_at = now


async def preference(session: AsyncSession, channel: str, address: str) -> bool:
    return bool(await session.scalar(select(VoicePreference.enabled).where(
        VoicePreference.channel == channel, VoicePreference.address == address)))


async def listening_addresses(session: AsyncSession) -> set[tuple[str, str]]:
    rows = await session.execute(select(VoicePreference.channel, VoicePreference.address)
                                 .where(VoicePreference.enabled))
    return {(channel, address) for channel, address in rows.all()}


async def upload(session: AsyncSession, policy_id: int, revision: int, channel: str, part: int,
                 engine_key: str) -> VoiceUpload | None:
    return await session.scalar(select(VoiceUpload).where(
        VoiceUpload.policy_id == policy_id, VoiceUpload.revision == revision, VoiceUpload.channel == channel,
        VoiceUpload.part == part, VoiceUpload.engine_key == engine_key))


async def save_upload(session: AsyncSession, policy_id: int, revision: int, channel: str, part: int,
                      engine_key: str, provider_id: str, now: datetime) -> None:
    row = await upload(session, policy_id, revision, channel, part, engine_key)
    if row is None:
        try:
            async with session.begin_nested():
                session.add(VoiceUpload(policy_id=policy_id, revision=revision, channel=channel, part=part,
                                        engine_key=engine_key, provider_id=provider_id, uploaded_at=now))
                await session.flush()
            return
        except IntegrityError:
            row = await upload(session, policy_id, revision, channel, part, engine_key)
    if row is not None:
        row.provider_id = provider_id
        row.uploaded_at = now


async def forget_uploads(session: AsyncSession, policy_id: int, keep_revision: int | None = None) -> None:
    query = delete(VoiceUpload).where(VoiceUpload.policy_id == policy_id)
    if keep_revision is not None:
        query = query.where(VoiceUpload.revision != keep_revision)
    await session.execute(query)
