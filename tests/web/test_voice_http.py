"""Read-aloud over HTTP: 语音播报 / 关闭语音 in the web chat, the 朗读 button of an answer,
and the listening page with its OGG/Opus and MP3 audio (none for a repealed policy)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
import soundfile
from fastapi import FastAPI

from bot.webchat.identity import address_of
from bot.webchat.routes import webchat_router
from bot.wiring import build_services
from core.db import Database
from core.settings import Settings
from push.voice.service import prefers_voice
from subscriptions import service as subscriptions
from tests.factories import make_published_policy, repeal_policy
from tests.fakes.telegram_api import is_ogg_opus
from web.app import create_app


@pytest_asyncio.fixture
async def site(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(db, settings, extra_routers=[webchat_router(build_services(db, settings))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def _say(site: httpx.AsyncClient, text: str) -> list[dict[str, object]]:
    answer = await site.post("/chat/api/message", json={"text": text})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["replies"])


async def test_voice_preference_commands_in_the_web_chat(site: httpx.AsyncClient, db: Database) -> None:
    await site.post("/chat/api/start", json={})
    on = await _say(site, "语音播报")
    assert "已开启语音播报" in str(on[0]["text"])
    address = address_of(str(site.cookies.get("pd_chat")))
    async with db.reader() as session:
        assert await prefers_voice(session, "web", address)
    off = await _say(site, "关闭语音")
    assert "已关闭语音播报" in str(off[0]["text"])
    async with db.reader() as session:
        assert not await prefers_voice(session, "web", address)


async def test_an_answer_has_a_read_aloud_button_leading_to_audio(site: httpx.AsyncClient, db: Database) -> None:
    policy = await make_published_policy(db)
    await site.post("/chat/api/start", json={})
    opened = (await site.post("/chat/api/press", json={"action": f"p:{policy.id}"})).json()["replies"]
    urls = [b["url"] for row in opened[0]["buttons"] for b in row if b["label"] == "🔊 朗读"]
    assert urls == [f"http://127.0.0.1:8080/p/{policy.id}/listen"]

    page = await site.get(f"/p/{policy.id}/listen")
    assert page.status_code == 200 and 'id="policy-audio"' in page.text
    assert "一次性创业补贴" in page.text and "五千元" in page.text  # the reading, in words
    ogg = await site.get(f"/p/{policy.id}/audio.ogg")
    assert ogg.status_code == 200 and ogg.headers["content-type"] == "audio/ogg" and is_ogg_opus(ogg.content)
    mp3 = await site.get(f"/p/{policy.id}/audio-1.mp3")
    assert mp3.status_code == 200 and soundfile.info(io.BytesIO(mp3.content)).duration <= 55.5
    assert 'id="listen-link"' in (await site.get(f"/p/{policy.id}")).text

    await repeal_policy(db, policy.id)
    assert (await site.get(f"/p/{policy.id}/audio.ogg")).status_code == 404
    assert (await site.get(f"/p/{policy.id}/listen")).status_code == 404


async def test_a_listeners_tracked_link_records_the_read_and_lands_on_the_audio(
        site: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    from push.fanout import FanOut
    from push.links import tracked_link
    from tests.push.helpers import StaticAudience, deliveries, make_recipients

    recipients = await make_recipients(db, 1, channel="web", first_chat=501)
    policy = await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    (row,) = await deliveries(db)
    link = tracked_link("http://testserver", row.id, settings.secret_key)
    answer = await site.get(link.replace("http://testserver", "") + "?to=listen")
    assert answer.status_code == 303 and answer.headers["location"] == f"/p/{policy.id}/listen"
    (row,) = await deliveries(db)
    assert row.read_at is not None


async def test_a_listeners_web_inbox_has_an_audio_player(site: httpx.AsyncClient, db: Database,
                                                         settings: Settings) -> None:
    from push import service as push

    await site.post("/chat/api/start", json={})
    await _say(site, "语音播报")
    address = address_of(str(site.cookies.get("pd_chat")))
    async with db.session() as session:
        subscriber = await subscriptions.ensure_subscriber_for_address(session, "web", address)
        await subscriptions.subscribe_topics(session, subscriber.id, ["employment"])
    channels = await push.build_channels(db, settings)
    policy = await make_published_policy(db)
    from push.fanout import FanOut
    from push.worker import DeliveryWorker

    await FanOut(db).run_once()

    await DeliveryWorker(db, channels, base_url="http://127.0.0.1:8080", secret=settings.secret_key).run_once()
    inbox = (await site.get("/chat/api/inbox")).json()["messages"]
    assert [m["audio"] for m in inbox] == [f"/p/{policy.id}/audio.ogg"]
    assert 'player.src = m.audio' in (await site.get("/chat")).text


async def test_the_elder_mode_switch_turns_voice_on_without_a_chat_message(
        site: httpx.AsyncClient, db: Database) -> None:
    on = await site.post("/chat/api/voice", json={"on": True})
    assert on.status_code == 200 and "已开启语音播报" in on.json()["replies"][0]["text"]
    address = address_of(str(site.cookies.get("pd_chat")))
    async with db.reader() as session:
        assert await prefers_voice(session, "web", address)
    assert (await site.post("/chat/api/voice", json={"on": "maybe"})).status_code == 422
    await site.post("/chat/api/voice", json={"on": False})
    async with db.reader() as session:
        assert not await prefers_voice(session, "web", address)


async def test_a_knowledge_base_answer_is_read_aloud(site: httpx.AsyncClient, db: Database) -> None:
    from bot.dialogue.questions import answer_buttons
    from policies.qa import faq
    from policies.qa.views import Answer

    async with db.session() as session:
        entry = await faq.create_faq(session, faq.FaqInput(
            question="创业补贴多久能到账？", answer="审核通过后15个工作日内拨付到社会保障卡。"))
    answer = Answer(kind="faq", question="补贴多久到账", text=entry.answer, faq_id=entry.id, answer_id=3)
    urls = [b.url for row in answer_buttons(answer, "http://pd.test") for b in row if b.label == "🔊 朗读"]
    assert urls == [f"http://pd.test/faq/{entry.id}/listen"]
    page = await site.get(f"/faq/{entry.id}/listen")
    assert page.status_code == 200 and "十五个工作日内" in page.text
    ogg = await site.get(f"/faq/{entry.id}/audio.ogg")
    assert ogg.status_code == 200 and is_ogg_opus(ogg.content)
    assert (await site.get("/faq/999999/listen")).status_code == 404
