"""Read-aloud: the reading text of a sample policy, the clips (OGG/Opus, MP3 chunks within
WeChat's limits), and voice pushes through the real aiogram and wechatpy clients against the
fake Bot API and the fake WeChat API: made once, uploaded once, the file id reused."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import soundfile

from core.db import Database
from push.channels.base import ChannelAdapter
from push.channels.telegram import TelegramChannel, make_telegram_bot
from push.channels.wechat import WeChatChannel
from push.models import DeliveryStatus
from push.posters.content import PolicyKeyPoints
from push.ratelimit import TelegramLimits, WeChatLimits, telegram_limiter, wechat_limiter
from push.service import Pipeline
from push.voice import service as voice_service
from push.voice.delivery import with_voice
from push.voice.engine import shared_engine
from push.voice.library import MP3, OGG, VoiceLibrary
from push.voice.reading import reading_script, reading_text
from push.voice.service import VoiceService
from subscriptions import service as subscriptions
from tests.factories import make_published_policy
from tests.fakes.telegram_api import FakeTelegram, is_ogg_opus
from tests.fakes.wechat_api import FakeWeChat
from tests.push.helpers import deliveries

TOKEN = "123456:TESTTOKEN"
BASE = "http://pd.test"
SAMPLE = PolicyKeyPoints(
    title="泾源县稳岗补贴实施办法", doc_no="泾人社发〔2026〕3号", agency="泾源县人力资源和社会保障局",
    valid_until=date(2028, 2, 29), is_valid=True, validity_label="有效",
    who_qualifies="参加失业保险满12个月的中小微企业", benefits="每户补贴5000元，最高1.5万元，返还比例60%",
    application_closes=date(2027, 1, 20), how_to_apply="到县人社局3楼窗口提交申请",
    phone="0954-5012345", phone_unit="县人社局",
)


def test_reading_text_is_written_for_listening() -> None:
    text = reading_text(SAMPLE)
    assert "申请截止时间，二零二七年一月二十日。" in text
    assert "每户补贴五千元" in text and "最高一点五万元" in text and "百分之六十" in text
    assert "泾人社发二零二六年三号" in text
    assert "满十二个月" in text and "三楼窗口" in text
    assert "咨询电话，零九五四，五零幺二三四五" in text
    assert not any(ch.isascii() and ch.isdigit() for ch in text)  # every number is spelled out
    assert text.startswith("政策播报，泾源县稳岗补贴实施办法。")


def test_clips_are_ogg_opus_and_wechat_sized_mp3_made_once(tmp_path: Path) -> None:
    library = VoiceLibrary(tmp_path, shared_engine())
    long_script = reading_script(SAMPLE) * 4  # well over a minute
    clip = asyncio.run(library.clip(9, 2, OGG, reading_script(SAMPLE)))
    data = clip.data()
    assert is_ogg_opus(data)
    info = soundfile.info(io.BytesIO(data))
    assert info.samplerate == 16_000 and info.channels == 1
    assert abs(info.duration - clip.total_seconds) < 0.1 and 10 < clip.total_seconds < 90
    chunks = asyncio.run(library.clip(9, 2, MP3, long_script))
    assert len(chunks.parts) >= 2 and chunks.total_seconds > 60
    for part, seconds in zip(chunks.parts, chunks.seconds, strict=True):
        mp3 = soundfile.info(io.BytesIO(part.read_bytes()))
        assert mp3.duration <= 55.5 and abs(mp3.duration - seconds) < 0.2
        assert part.stat().st_size < 2 * 1024 * 1024
    assert library.syntheses == 2
    asyncio.run(library.clip(9, 2, OGG, reading_script(SAMPLE)))
    assert library.syntheses == 2  # served from disk
    asyncio.run(library.clip(9, 3, OGG, reading_script(SAMPLE)))  # the policy was amended
    assert library.cached(9, 2, OGG) is None and library.cached(9, 3, OGG) is not None
    assert library.forget(9) > 0 and library.cached(9, 3, OGG) is None  # repealed


async def _subscribe(db: Database, channel: str, addresses: list[str], *, voice: list[str]) -> None:
    async with db.session() as session:
        for address in addresses:
            sub = await subscriptions.ensure_subscriber_for_address(session, channel, address)
            await subscriptions.subscribe_topics(session, sub.id, ["employment"])
            if address in voice:
                await voice_service.set_voice_preference(session, channel, address, True)


@asynccontextmanager
async def _pipeline(db: Database, channels: dict[str, ChannelAdapter]) -> AsyncIterator[None]:
    pipeline = Pipeline(db, channels, base_url=BASE, secret="s", poll_interval=0.02, fanout_poll_interval=0.02,
                        record_interval=0.01, rng=random.Random(3))
    stop = asyncio.Event()
    task = asyncio.create_task(pipeline.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        for adapter in channels.values():
            await adapter.close()


async def _until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    for _ in range(int(timeout / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def test_telegram_voice_is_uploaded_once_and_the_file_id_reused(
        db: Database, fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    await _subscribe(db, "telegram", ["7001", "7002", "7003"], voice=["7001", "7002"])
    voice = VoiceService(db, tmp_path, base_url=BASE, secret="s", phone="12345")
    telegram = TelegramChannel(make_telegram_bot(TOKEN, fake_telegram.base_url),
                               telegram_limiter(TelegramLimits(0, 0, 0)))
    async with _pipeline(db, with_voice({"telegram": telegram}, voice)):
        policy = await make_published_policy(db)

        async def voices_sent() -> bool:
            return len(fake_telegram.calls_to("sendVoice")) >= 2 and all(
                r.status == DeliveryStatus.SENT for r in await deliveries(db))

        await _until(voices_sent)
    calls = fake_telegram.calls_to("sendVoice")
    assert sorted(c.params["chat_id"] for c in calls) == [7001, 7002]
    first, second = calls
    upload = first.params[str(first.params["voice"]).removeprefix("attach://")]  # aiogram's multipart reference
    assert is_ogg_opus(upload["data"])
    assert second.params["voice"] == fake_telegram.voice_uploads[0]  # the second chat got the file id
    assert len(fake_telegram.voice_uploads) == 1 and voice.library.syntheses == 1
    assert 0 < int(first.params["duration"]) < 60
    assert all(policy.title in m["text"] for chat in (7001, 7002, 7003) for m in fake_telegram.sent_messages(chat))


async def test_wechat_voice_is_an_uploaded_mp3_sent_as_a_voice_message(
        db: Database, fake_wechat: FakeWeChat, tmp_path: Path) -> None:
    await _subscribe(db, "wechat", ["o_listener_1", "o_listener_2"], voice=["o_listener_1", "o_listener_2"])
    voice = VoiceService(db, tmp_path, base_url=BASE, secret="s", phone="12345")
    wechat = WeChatChannel(fake_wechat.appid, fake_wechat.secret, fake_wechat.api_base,
                           limiter=wechat_limiter(WeChatLimits()))
    async with _pipeline(db, with_voice({"wechat": wechat}, voice)):
        policy = await make_published_policy(db)

        async def voices_sent() -> bool:
            sent = [m for m in fake_wechat.sent_custom_messages() if m.get("msgtype") == "voice"]
            return len(sent) >= 2

        await _until(voices_sent)
    uploads = [m for m in fake_wechat.media.values() if m.media_type == "voice"]
    assert len(uploads) == 1 and uploads[0].filename.endswith(".mp3")  # uploaded once for both
    assert soundfile.info(io.BytesIO(uploads[0].data)).duration <= 55.5
    texts = [m for m in fake_wechat.sent_custom_messages() if m.get("msgtype") == "text"]
    assert len(texts) == 2
    assert all(f"{BASE}/p/{policy.id}/listen" in m["text"]["content"] for m in texts)
    voices = [m for m in fake_wechat.sent_custom_messages() if m.get("msgtype") == "voice"]
    assert {m["touser"] for m in voices} == {"o_listener_1", "o_listener_2"}
    assert {m["voice"]["media_id"] for m in voices} == set(fake_wechat.media)


async def test_clips_follow_the_current_revision_and_go_when_repealed(db: Database, tmp_path: Path) -> None:
    from tests.factories import amend_policy, repeal_policy

    policy = await make_published_policy(db)
    voice = VoiceService(db, tmp_path, base_url=BASE, secret="s", phone="12345")
    first = await voice.policy_clip(policy.id, OGG)
    assert first is not None and first.revision == 1
    await voice.remember_provider_id(voice_service.PolicyRef(policy.id, 1), "telegram", 0, "file-r1")
    await amend_policy(db, policy.id)
    assert await voice.prune() > 0  # the first revision's audio says the old amount
    assert voice.library.cached(policy.id, 1, OGG) is None
    assert await voice.provider_id(voice_service.PolicyRef(policy.id, 1), "telegram", 0) is None
    second = await voice.policy_clip(policy.id, OGG)
    assert second is not None and second.revision == 2
    await repeal_policy(db, policy.id)
    assert await voice.prune() > 0
    assert voice.library.cached(policy.id, 2, OGG) is None and await voice.policy_clip(policy.id, OGG) is None


async def test_outside_wechats_window_the_push_says_where_to_listen(
        db: Database, fake_wechat: FakeWeChat, tmp_path: Path) -> None:
    await _subscribe(db, "wechat", ["o_quiet_listener"], voice=["o_quiet_listener"])
    fake_wechat.close_window("o_quiet_listener")  # no message from this user for over 48 hours
    voice = VoiceService(db, tmp_path, base_url=BASE, secret="s", phone="12345")
    wechat = WeChatChannel(fake_wechat.appid, fake_wechat.secret, fake_wechat.api_base, template_id="TPL-1",
                           limiter=wechat_limiter(WeChatLimits()))
    async with _pipeline(db, with_voice({"wechat": wechat}, voice)):
        policy = await make_published_policy(db)

        async def settled() -> bool:
            rows = await deliveries(db)
            return bool(rows) and all(r.status == DeliveryStatus.SENT for r in rows) and bool(
                fake_wechat.calls_to("message/custom/send"))

        await _until(settled)
    (template,) = fake_wechat.sent_templates("o_quiet_listener")
    assert f"{BASE}/p/{policy.id}/listen" in template["data"]["remark"]["value"]
    assert template["url"].startswith(f"{BASE}/r/") and template["url"].endswith("?to=listen")
    assert [c.errcode for c in fake_wechat.calls_to("message/custom/send")] == [45015]  # the voice could not go


async def test_the_web_inbox_of_a_listener_gets_the_listening_link(db: Database, tmp_path: Path) -> None:
    from core.settings import Settings
    from push import service as push

    settings = Settings(_env_file=None, secret_key="s", data_dir=tmp_path, public_base_url=BASE)  # type: ignore[call-arg]
    await _subscribe(db, "web", ["inbox-listener", "inbox-reader"], voice=["inbox-listener"])
    channels = await push.build_channels(db, settings)  # VOICE_ENABLED is on by default
    async with _pipeline(db, channels):
        policy = await make_published_policy(db)

        async def settled() -> bool:
            rows = await deliveries(db)
            return len(rows) == 2 and all(r.status == DeliveryStatus.SENT for r in rows)

        await _until(settled)
    async with db.reader() as session:
        (heard,) = await push.web_inbox(session, "inbox-listener")
        (read,) = await push.web_inbox(session, "inbox-reader")
    assert f"{BASE}/p/{policy.id}/listen" in heard.text and "/listen" not in read.text


def test_debians_espeak_ng_is_the_fallback_voice() -> None:
    from push.voice.engine import EspeakCommandEngine, load_engine

    engine = load_engine("espeak-command")
    assert isinstance(engine, EspeakCommandEngine) and "cmn-latn-pinyin" in engine.key
    speech = engine.speak("政策播报，补贴五千元。")
    assert speech.sample_rate == 22_050 and 1.0 < speech.seconds < 10.0
