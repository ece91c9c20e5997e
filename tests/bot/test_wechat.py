"""WeChat official account: real-format callback XML (plain and safe mode) through the
FastAPI router with httpx's ASGI transport; late answers go out through the fake WeChat API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from bot.dialogue import Reply, Turn
from bot.wechat.endpoint import WeChatEndpoint, wechat_router
from bot.wiring import BotServices
from core.db import Database
from subscriptions import service as subscriptions
from tests.bot.helpers import services
from tests.factories import make_published_policy
from tests.fakes import wechat_callbacks as cb
from tests.fakes.wechat_api import FakeWeChat

TOKEN = "wechat-token-1"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
OPENID = "o_test_openid_0001"


@dataclass
class WeChat:
    client: AsyncClient
    endpoint: WeChatEndpoint
    services: BotServices
    wx: FakeWeChat

    async def post(self, xml: str, *, encrypted: bool = False) -> Response:
        query, body = cb.signed_post(TOKEN, xml, AES_KEY if encrypted else None, self.wx.appid if encrypted else None)
        return await self.client.post("/wechat", params=query, content=body.encode())

    async def say(self, text: str, openid: str = OPENID) -> str:
        response = await self.post(cb.text_message_xml(from_user=openid, content=text))
        assert response.status_code == 200
        return str(cb.xml_fields(response.text)["Content"])


async def _wechat(db: Database, wx: FakeWeChat, reply_window: float = 4.0) -> AsyncIterator[WeChat]:
    s = services(db, wechat_token=TOKEN, wechat_app_id=wx.appid, wechat_app_secret=wx.secret,
                 wechat_aes_key=AES_KEY, wechat_api_base=wx.api_base)
    endpoint = WeChatEndpoint(s, reply_window=reply_window)
    app = FastAPI()
    app.include_router(wechat_router(endpoint))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield WeChat(client, endpoint, s, wx)
        await endpoint.drain()


@pytest_asyncio.fixture
async def wechat(db: Database, fake_wechat: FakeWeChat) -> AsyncIterator[WeChat]:
    async for w in _wechat(db, fake_wechat):
        yield w


async def address_active(db: Database, openid: str = OPENID) -> bool | None:
    async with db.reader() as session:
        found = await subscriptions.find_address(session, "wechat", openid)
        return None if found is None else found.active


async def test_server_verification(wechat: WeChat) -> None:
    ok = await wechat.client.get("/wechat", params=cb.verification_query(TOKEN, "echo-123"))
    assert ok.status_code == 200 and ok.text == "echo-123"
    bad = cb.verification_query(TOKEN, "echo-123")
    bad["signature"] = bad["signature"][:-1] + ("0" if bad["signature"][-1] != "0" else "1")
    assert (await wechat.client.get("/wechat", params=bad)).status_code == 403


async def test_a_question_is_answered_in_the_passive_reply(wechat: WeChat, db: Database) -> None:
    policy = await make_published_policy(db, doc_no="泾人社发〔2026〕5号")
    content = await wechat.say("一次性创业补贴多少钱")
    assert policy.title in content and "泾人社发〔2026〕5号" in content and f"/p/{policy.id}" in content


async def test_follow_unfollow_events(wechat: WeChat, db: Database) -> None:
    response = await wechat.post(cb.event_xml(OPENID, "subscribe"))
    content = cb.xml_fields(response.text)["Content"]
    assert "欢迎" in content and "回复数字即可选择" in content
    assert await address_active(db) is True
    response = await wechat.post(cb.event_xml(OPENID, "unsubscribe", create_time=1_700_000_100))
    assert response.text == "success"
    assert await address_active(db) is False
    await wechat.post(cb.event_xml(OPENID, "subscribe", create_time=1_700_000_200))
    assert await address_active(db) is True


async def test_menu_click_and_numbered_options(wechat: WeChat, db: Database) -> None:
    content = await wechat.say("订阅")
    assert "1. 就业创业" in content
    content = await wechat.say("1")
    assert "✅ 就业创业" in content
    response = await wechat.post(cb.event_xml(OPENID, "CLICK", "MY"))
    assert "就业创业" in cb.xml_fields(response.text)["Content"]
    content = await wechat.say("退订 就业创业")
    assert "已退订主题：就业创业" in content


async def test_an_encrypted_message(wechat: WeChat) -> None:
    response = await wechat.post(cb.text_message_xml(from_user=OPENID, content="帮助"), encrypted=True)
    assert response.status_code == 200
    inner = cb.decrypt_reply(TOKEN, AES_KEY, wechat.wx.appid, response.text)
    assert "政策直达可以" in cb.xml_fields(inner)["Content"]


async def test_a_duplicate_delivery_is_processed_once(wechat: WeChat) -> None:
    calls: list[str] = []
    original = wechat.services.dialogue.text

    async def counting(turn: Turn, text: str) -> list[Reply]:
        calls.append(text)
        return await original(turn, text)

    wechat.services.dialogue.text = counting  # type: ignore[method-assign]
    xml = cb.text_message_xml(from_user=OPENID, content="订阅 就业创业", msg_id=1234567890123)
    first = await wechat.post(xml)
    again = await wechat.post(xml)
    assert "已订阅" in cb.xml_fields(first.text)["Content"]
    assert again.status_code == 200 and again.text == "success"
    assert calls == ["订阅 就业创业"]


async def test_bad_signature_is_refused_and_nothing_processed(wechat: WeChat, db: Database) -> None:
    query, body = cb.signed_post("not-our-token", cb.text_message_xml(from_user=OPENID, content="订阅"))
    response = await wechat.client.post("/wechat", params=query, content=body.encode())
    assert response.status_code == 403
    assert await address_active(db) is None
    query, body = cb.signed_post(TOKEN, cb.text_message_xml(from_user=OPENID, content="订阅"), AES_KEY,
                                 wechat.wx.appid)
    query["msg_signature"] = "0" * 40
    assert (await wechat.client.post("/wechat", params=query, content=body.encode())).status_code == 403
    assert await address_active(db) is None


async def test_malformed_xml_is_a_bad_request(wechat: WeChat) -> None:
    for body in ("<xml><ToUserName>broken", "<xml><a>1</a></xml>", "not xml at all"):
        query, _ = cb.signed_post(TOKEN, cb.text_message_xml())
        response = await wechat.client.post("/wechat", params=query, content=body.encode())
        assert response.status_code == 400, body


async def test_non_text_gets_a_helpful_reply(wechat: WeChat) -> None:
    response = await wechat.post(cb.image_message_xml(from_user=OPENID))
    assert "图片" in cb.xml_fields(response.text)["Content"]
    response = await wechat.post(cb.voice_message_xml(from_user=OPENID, recognition="帮助"))
    assert "政策直达可以" in cb.xml_fields(response.text)["Content"]


async def test_a_slow_answer_goes_out_as_a_customer_service_message(db: Database, fake_wechat: FakeWeChat) -> None:
    async for wechat in _wechat(db, fake_wechat, reply_window=0.0):
        response = await wechat.post(cb.text_message_xml(from_user=OPENID, content="帮助"))
        assert response.text == "success"
        await wechat.endpoint.drain()
        [sent] = fake_wechat.sent_custom_messages(OPENID)
        assert "政策直达可以" in sent["text"]["content"]
