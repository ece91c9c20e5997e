"""The one door into read-aloud for `web`, `bot`, `run.py` and the benches.

Preferences (the chat commands 语音播报 / 关闭语音, and the web chat's 长辈模式):
    await set_voice_preference(session, channel, address, enabled) ; await prefers_voice(session, channel, address)
Clips:
    voice = VoiceService(db, cache_dir, base_url=, secret=, phone=)    # one per process
    await voice.policy_clip(policy_id, "ogg" | "mp3") -> VoiceClip | None  (None: not a valid policy)
    voice.listen_url(policy_id) -> the public page with the audio player
Delivery (wrapped around channel adapters by `push.voice.delivery.with_voice`):
    await voice.wants(channel, address) ; await voice.policy_of(message) -> PolicyRef | None
Housekeeping:
    await voice.prune() -> clips removed of policies repealed, expired or amended since
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now as clock_now
from core.db import Database
from core.errors import NotFound
from policies import service as policies
from policies.service import faq
from push.channels.base import RenderedMessage
from push.dao import deliveries
from push.links import read_token_payload
from push.posters.service import policy_key_points
from push.voice import store
from push.voice.engine import SpeechEngine, shared_engine
from push.voice.library import MP3, OGG, VoiceClip, VoiceLibrary, cached_policies, forget_clips
from push.voice.reading import faq_script, reading_script
from vocabulary.codes import PolicyStatus

__all__ = ["MP3", "OGG", "PolicyRef", "VoiceClip", "VoiceService", "prefers_voice", "set_voice_preference",
           "voice_service_for"]

PREFERENCE_REFRESH_SECONDS = 5.0
RECENT_CLIP_SECONDS = 5.0
# Kinds of push that carry one policy worth listening to (not repeal or expiry notices).
VOICE_KINDS = frozenset({"published", "amended", "relay", "reminder"})


async def set_voice_preference(session: AsyncSession, channel: str, address: str, enabled: bool) -> None:
    """语音播报 on (or off) for one chat; pushes to it then also come as a voice message."""
    await store.set_preference(session, channel, address, enabled, clock_now())


async def prefers_voice(session: AsyncSession, channel: str, address: str) -> bool:
    return await store.preference(session, channel, address)


@dataclass(frozen=True)
class PolicyRef:
    policy_id: int
    revision: int


_services: dict[tuple[int, str], VoiceService] = {}


def voice_service_for(db: Database, settings: Any) -> VoiceService:
    """The process's voice service for `db` (pushes and the listening page share its clips)."""
    key = (id(db), str(settings.data_dir))
    found = _services.get(key)
    if found is None or found.db is not db:
        found = _services[key] = VoiceService(
            db, Path(settings.data_dir) / "voice", base_url=settings.effective_public_base_url,
            secret=settings.secret_key, phone=settings.consultation_phone,
            engine_name=getattr(settings, "voice_engine", ""))
    return found


class VoiceService:
    def __init__(self, db: Database, cache_dir: Path, *, base_url: str, secret: str, phone: str,
                 engine: SpeechEngine | None = None, engine_name: str = "") -> None:
        self.db = db
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.phone = phone
        self._engine = engine
        self._engine_name = engine_name
        self._library: VoiceLibrary | None = None
        self._cache_dir = Path(cache_dir)
        self._listeners: set[tuple[str, str]] = set()
        self._listeners_at = float("-inf")
        self._listeners_lock = asyncio.Lock()
        self.upload_locks: dict[tuple[int, int, str], asyncio.Lock] = {}
        self._provider_ids: dict[tuple[int, int, str, int], tuple[str, datetime]] = {}
        self._recent_clips: dict[tuple[int, str], tuple[VoiceClip, float]] = {}

    @property
    def library(self) -> VoiceLibrary:
        if self._library is None:  # the engine loads on first use, not at start-up
            self._library = VoiceLibrary(self._cache_dir, self._engine or shared_engine(self._engine_name))
        return self._library

    def listen_url(self, policy_id: int) -> str:
        return f"{self.base_url}/p/{int(policy_id)}/listen"

    async def wants(self, channel: str, address: str) -> bool:
        """Whether this chat chose 语音播报 (a snapshot refreshed every few seconds, so a push to
        10,000 chats does not ask the database 10,000 times)."""
        async with self._listeners_lock:
            if time.monotonic() - self._listeners_at > PREFERENCE_REFRESH_SECONDS:
                async with self.db.reader() as session:
                    self._listeners = await store.listening_addresses(session)
                self._listeners_at = time.monotonic()
        return (channel, address) in self._listeners

    def refresh_preferences(self) -> None:
        self._listeners_at = float("-inf")

    async def policy_of(self, message: RenderedMessage) -> PolicyRef | None:
        """The policy a pushed message is about, from its signed tracked link (None for digests,
        repeal notices and messages without a link)."""
        url = message.url or ""
        if "/r/" not in url or not self.secret:
            return None
        delivery_id = read_token_payload(url.rsplit("/r/", 1)[1].split("#", 1)[0], self.secret)
        if delivery_id is None:
            return None
        async with self.db.reader() as session:
            delivery = await deliveries.get_delivery(session, delivery_id)
        if delivery is None or delivery.kind not in VOICE_KINDS:
            return None
        return PolicyRef(delivery.policy_id, delivery.revision)

    async def policy_clip(self, policy_id: int, fmt: str, *, recent_ok: bool = False) -> VoiceClip | None:
        """The clip of a valid policy's current revision (made on first request). With
        `recent_ok` (the push to many listeners) a clip handed out in the last few seconds is
        handed out again without asking the database: one policy read per push, not one each."""
        recent = self._recent_clips.get((policy_id, fmt)) if recent_ok else None
        if recent is not None and time.monotonic() - recent[1] < RECENT_CLIP_SECONDS \
                and all(part.exists() for part in recent[0].parts):
            return recent[0]
        clip = await self._policy_clip(policy_id, fmt)
        if clip is not None:
            self._recent_clips[(policy_id, fmt)] = (clip, time.monotonic())
        return clip

    async def _policy_clip(self, policy_id: int, fmt: str) -> VoiceClip | None:
        async with self.db.reader() as session:
            try:
                policy = await policies.get_policy(session, policy_id)
            except NotFound:
                return None
            if policy.status != PolicyStatus.PUBLISHED:
                return None
            points = await policy_key_points(session, policy, self.phone)
        return await self.library.clip(policy.id, policy.revision, fmt, reading_script(points))

    async def faq_clip(self, faq_id: int, fmt: str) -> tuple[str, list[str], VoiceClip] | None:
        """(question, reading, clip) of a knowledge-base answer, or None when there is no such entry."""
        async with self.db.reader() as session:
            try:
                entry = await faq.get_faq(session, faq_id)
            except NotFound:
                return None
        script = faq_script(entry.question, entry.answer, self.phone)
        return entry.question, script, await self.library.text_clip("faq", fmt, script)

    async def prune(self) -> int:
        """Remove clips of policies no longer valid or since amended (and what the platforms
        hold of them): the audio always says what the current revision says."""
        removed = 0
        for policy_id in cached_policies(self._cache_dir):
            async with self.db.reader() as session:
                try:
                    policy = await policies.get_policy(session, policy_id)
                except NotFound:
                    policy = None
            keep = policy.revision if policy is not None and policy.status == PolicyStatus.PUBLISHED else None
            removed += forget_clips(self._cache_dir, policy_id, keep_revision=keep)
            async with self.db.session() as session:
                await store.forget_uploads(session, policy_id, keep_revision=keep)
            for key in [k for k in self._provider_ids if k[0] == policy_id and k[1] != keep]:
                del self._provider_ids[key]
            for recent in [k for k in self._recent_clips if k[0] == policy_id]:
                del self._recent_clips[recent]
        return removed

    async def provider_id(self, ref: PolicyRef, channel: str, part: int) -> tuple[str, float] | None:
        """(id, age in seconds) of a clip part the platform already holds (kept in memory once
        seen, so a push to thousands of listeners reads it once)."""
        key = (ref.policy_id, ref.revision, channel, part)
        known = self._provider_ids.get(key)
        if known is None:
            async with self.db.reader() as session:
                row = await store.upload(session, ref.policy_id, ref.revision, channel, part,
                                         self.library.engine.key)
            if row is None:
                return None
            known = self._provider_ids[key] = (row.provider_id, row.uploaded_at)
        return known[0], (clock_now() - known[1]).total_seconds()

    async def remember_provider_id(self, ref: PolicyRef, channel: str, part: int, provider_id: str) -> None:
        at = clock_now()
        async with self.db.session() as session:
            await store.save_upload(session, ref.policy_id, ref.revision, channel, part, self.library.engine.key,
                                    provider_id, at)
        self._provider_ids[(ref.policy_id, ref.revision, channel, part)] = (provider_id, at)
