"""Voice as a channel-level capability: `with_voice` wraps the Telegram, WeChat and web adapters
so that a push to a chat that chose 语音播报 is followed by a voice message of the policy's
key points. The delivery worker and its queue are untouched: the text message is the delivery
(its outcome is what the worker records); the voice follows it and never fails it.

- Telegram: sendVoice with the OGG/Opus clip, uploaded once; every later recipient gets the
  stored file id.
- WeChat: the MP3 chunks (≤55 s each) uploaded as temporary material (reused for up to 2.5 of
  their 3 days) and sent as customer-service voice messages. Those are only allowed within 48 h
  of the user's last message, so the text push itself carries the listening page's address.
- Web: the inbox message carries the listening page's address (it has the audio player).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import replace
from typing import Any

from wechatpy.exceptions import WeChatClientException

from push.channels.base import ChannelAdapter, ChannelName, RenderedMessage, SendResult, SendStatus
from push.voice.library import MP3, OGG
from push.voice.service import PolicyRef, VoiceService

log = logging.getLogger(__name__)

LISTEN_LINE = "\n🔊 语音播报（点击收听）：{url}"
WECHAT_MEDIA_REUSE_SECONDS = 2.5 * 24 * 3600  # temporary material lives 3 days
WINDOW_CLOSED = 45015


def with_listen_line(message: RenderedMessage, url: str) -> RenderedMessage:
    """The message pointing a listener at the listening page: a line under the text, and for
    a WeChat template message (which shows no free text since 2023) the tracked link that the
    message opens, told to land on the audio, so that the read receipt is still recorded."""
    changes: dict[str, Any] = {"text": message.text + LISTEN_LINE.format(url=url)}
    template = getattr(message, "template_data", None)
    if template is not None and "/r/" in message.url:
        changes["url"] = message.url.split("#", 1)[0] + "?to=listen"
        if "remark" in template:
            changes["template_data"] = {**template,
                                        "remark": {"value": f"{template['remark']['value']} 语音播报：{url}"}}
    return replace(message, **changes)


class VoiceFollowUp:
    """A channel adapter that adds the voice message after a successful text push."""

    def __init__(self, inner: ChannelAdapter, voice: VoiceService) -> None:
        self.inner = inner
        self.voice = voice
        self.name = inner.name
        self.voices_sent = 0

    async def send(self, message: RenderedMessage) -> SendResult:
        if not await self.voice.wants(self.name, message.address):
            return await self.inner.send(message)
        ref = await self.voice.policy_of(message)
        if ref is None:
            return await self.inner.send(message)
        if self.name in (ChannelName.WECHAT, ChannelName.WEB):
            message = with_listen_line(message, self.voice.listen_url(ref.policy_id))
        result = await self.inner.send(message)
        if result.status == SendStatus.SENT and self.name in (ChannelName.TELEGRAM, ChannelName.WECHAT):
            try:
                if await self._send_voice(message.address, ref):
                    self.voices_sent += 1
            except Exception:  # the text went out; a missing voice must not resend it
                log.exception("voice follow-up to %s %s failed", self.name, message.address)
        return result

    async def _send_voice(self, address: str, ref: PolicyRef) -> bool:
        if self.name == ChannelName.TELEGRAM:
            return await self._telegram(address, ref)
        return await self._wechat(address, ref)

    async def _telegram(self, address: str, ref: PolicyRef) -> bool:
        limiter = self.inner.limiter  # type: ignore[attr-defined]
        return await send_telegram_voice(self.inner.bot, self.voice, address, ref.policy_id,  # type: ignore[attr-defined]
                                         pace=lambda: limiter.slot(address))

    async def _wechat(self, address: str, ref: PolicyRef) -> bool:
        clip = await self.voice.policy_clip(ref.policy_id, MP3, recent_ok=True)
        if clip is None:
            return False
        current = PolicyRef(clip.policy_id, clip.revision)
        client = self.inner.client  # type: ignore[attr-defined]
        for part in range(len(clip.parts)):
            media_id = await self._wechat_media(client, current, clip.data(part), part)
            try:
                async with self.inner.limiter.slot(address):  # type: ignore[attr-defined]
                    await asyncio.to_thread(client.message.send_voice, address, media_id)
            except WeChatClientException as exc:
                if exc.errcode == WINDOW_CLOSED:  # outside 48 h: the text carried the listening page
                    return False
                raise
        return True

    async def _wechat_media(self, client: Any, ref: PolicyRef, data: bytes, part: int) -> str:
        lock = self.voice.upload_locks.setdefault((ref.policy_id, ref.revision, f"{self.name}:{part}"),
                                                  asyncio.Lock())
        async with lock:
            known = await self.voice.provider_id(ref, self.name, part)
            if known is not None and known[1] < WECHAT_MEDIA_REUSE_SECONDS:
                return known[0]
            upload = io.BytesIO(data)
            upload.name = f"policy-{ref.policy_id}-{part + 1}.mp3"  # requests names the part after it
            answer = await asyncio.to_thread(client.media.upload, "voice", upload)
            media_id = str(answer["media_id"])
            await self.voice.remember_provider_id(ref, self.name, part, media_id)
            return media_id

    async def close(self) -> None:
        await self.inner.close()


async def send_telegram_voice(bot: Any, voice: VoiceService, address: str, policy_id: int,
                              pace: Callable[[], AbstractAsyncContextManager[Any]] | None = None) -> bool:
    """sendVoice of a policy's reading to one chat: the first chat gets the upload, every later
    one the file id Telegram gave it (the others wait for it rather than upload again)."""
    from aiogram.types import BufferedInputFile

    clip = await voice.policy_clip(policy_id, OGG, recent_ok=True)
    if clip is None:
        return False
    current = PolicyRef(clip.policy_id, clip.revision)
    chat_id = int(address) if address.lstrip("-").isdigit() else address
    duration = max(1, round(clip.total_seconds))
    paced = pace or nullcontext
    known = await voice.provider_id(current, ChannelName.TELEGRAM, 0)
    if known is not None:
        async with paced():
            await bot.send_voice(chat_id, known[0], duration=duration)
        return True
    lock = voice.upload_locks.setdefault((clip.policy_id, clip.revision, ChannelName.TELEGRAM), asyncio.Lock())
    async with lock:
        known = await voice.provider_id(current, ChannelName.TELEGRAM, 0)
        if known is None:
            async with paced():
                sent = await bot.send_voice(chat_id, BufferedInputFile(clip.data(), "政策播报.ogg"), duration=duration)
            if sent.voice is not None:
                await voice.remember_provider_id(current, ChannelName.TELEGRAM, 0, sent.voice.file_id)
            return True
    async with paced():
        await bot.send_voice(chat_id, known[0], duration=duration)
    return True


def with_voice(channels: Mapping[str, ChannelAdapter], voice: VoiceService) -> dict[str, ChannelAdapter]:
    """The adapters, those of Telegram, WeChat and the web inbox wrapped with the voice follow-up."""
    wrapped: dict[str, ChannelAdapter] = {}
    for name, adapter in channels.items():
        voiced = name in (ChannelName.TELEGRAM, ChannelName.WECHAT, ChannelName.WEB)
        wrapped[name] = VoiceFollowUp(adapter, voice) if voiced else adapter
    return wrapped
