"""Binding the web chat to Telegram (deep link) and to WeChat (绑定 <code>), end to end: the
web chat through httpx, Telegram through a real Dispatcher polling the fake Bot API, WeChat
as real-format XML through the router. After binding, a published policy reaches both the
chat and the web inbox (fan-out rows), and 我的订阅 is the same everywhere."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest_asyncio
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from bot.telegram.app import build_telegram, run_polling
from bot.web_routes import build_router
from bot.webchat.identity import COOKIE_NAME, address_of
from bot.webchat.routes import webchat_router
from bot.wechat.endpoint import WeChatEndpoint, wechat_router
from bot.wiring import BotServices
from core.clock import FixedClock
from core.db import Database
from push.fanout import FanOut
from subscriptions import service as subscriptions
from subscriptions.views import SubscriberView
from tests.bot.helpers import services
from tests.bot.test_telegram import CHAT, TOKEN, Chat
from tests.bot.test_wechat import AES_KEY, OPENID
from tests.bot.test_wechat import TOKEN as WECHAT_TOKEN
from tests.factories import make_published_policy
from tests.fakes import wechat_callbacks as cb
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.wechat_api import FakeWeChat
from tests.push.helpers import deliveries

CODE = re.compile(r"绑定码：([A-Za-z0-9]{10})")


@dataclass
class Web:
    client: AsyncClient

    async def say(self, text: str) -> str:
        response = await self.client.post("/chat/api/message", json={"text": text})
        assert response.status_code == 200, response.text
        return "\n".join(r["text"] for r in response.json()["replies"])

    async def bind_code(self) -> str:
        found = CODE.search(await self.say("绑定"))
        assert found, "no bind code in the reply"
        return found.group(1)

    @property
    def address(self) -> str:
        return address_of(self.client.cookies[COOKIE_NAME])


def web_app(s: BotServices) -> FastAPI:
    app = FastAPI()
    app.include_router(build_router(s.db, s.settings, s))
    return app


async def contact(db: Database, channel: str, address: str) -> SubscriberView:
    async with db.reader() as session:
        found = await subscriptions.find_address(session, channel, address)
        assert found is not None and found.active
        return await subscriptions.get_subscriber(session, found.subscriber_id)


# --- Telegram -----------------------------------------------------------------------------


@dataclass
class TelegramAndWeb:
    chat: Chat
    web: Web


@pytest_asyncio.fixture
async def tg_web(db: Database, fake_telegram: FakeTelegram) -> AsyncIterator[TelegramAndWeb]:
    s = services(db, telegram_bot_token=TOKEN, telegram_api_base=fake_telegram.base_url)
    runtime = build_telegram(s)
    assert runtime is not None
    polling = asyncio.create_task(run_polling(runtime, polling_timeout=1))
    await fake_telegram.wait_for(lambda: fake_telegram.calls_to("getUpdates"))
    try:
        async with AsyncClient(transport=ASGITransport(app=web_app(s)), base_url="http://test") as client:
            yield TelegramAndWeb(Chat(fake_telegram, runtime, s), Web(client))
    finally:
        await runtime.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)


async def test_web_binds_to_telegram_with_the_deep_link(tg_web: TelegramAndWeb, db: Database) -> None:
    chat, web = tg_web.chat, tg_web.web
    await chat.say("订阅 税费优惠")  # the Telegram contact has its own subscription already
    assert "已订阅" in await web.say("订阅 就业创业")
    offer = await web.say("绑定")
    code = CODE.search(offer).group(1)  # type: ignore[union-attr]
    bot_username = (await chat.runtime.bot.get_me()).username
    assert f"https://t.me/{bot_username}?start=bind-{code}" in offer and "绑定 " + code not in offer  # no WeChat
    web_before = await contact(db, "web", web.address)
    web_contact = web_before.id

    await chat.say(f"/start bind-{code}")
    assert "绑定成功" in chat.texts()[-1] and "就业创业" in chat.texts()[-1]
    merged = await contact(db, "telegram", str(CHAT))
    assert set(merged.topics) == {"employment", "tax"}
    assert {(a.channel, a.address) for a in merged.addresses if a.active} == {
        ("telegram", str(CHAT)),
        ("web", web.address),
    }
    async with db.reader() as session:
        emptied = await subscriptions.get_subscriber(session, web_contact)
        assert emptied.topics == ()  # emptied, not lost
        assert emptied.addresses == () and emptied.merged_into == merged.id
    # The web address row itself moved (same id, no renamed leftovers).
    moved = next(a for a in merged.addresses if a.channel == "web")
    assert moved.id == next(a.id for a in web_before.addresses if a.channel == "web")
    assert not any("#merged-" in a.address for a in merged.addresses)
    my_web = await web.say("我的订阅")
    await chat.say("/my")
    for said in (my_web, chat.texts()[-1]):
        assert "就业创业" in said and "税费优惠" in said

    policy = await make_published_policy(db)  # topic employment
    await FanOut(db).run_once()
    rows = await deliveries(db, policy_id=policy.id)
    assert {(d.channel, d.address) for d in rows} == {("telegram", str(CHAT)), ("web", web.address)}
    assert {d.subscriber_id for d in rows} == {merged.id}

    await chat.say(f"/start bind-{code}")  # the same code again
    assert "已经用过" in chat.texts()[-1]


async def test_wrong_and_expired_codes_change_nothing(tg_web: TelegramAndWeb, db: Database, clock: FixedClock) -> None:
    chat, web = tg_web.chat, tg_web.web
    await web.say("订阅 就业创业")
    await chat.say("/start bind-WrongCode12")
    assert "绑定码不正确" in chat.texts()[-1]
    code = await web.bind_code()
    clock.advance(timedelta(minutes=31))
    await chat.say(f"/start bind-{code}")
    assert "已过期" in chat.texts()[-1]
    web_contact = await contact(db, "web", web.address)
    tg_contact = await contact(db, "telegram", str(CHAT))
    assert web_contact.id != tg_contact.id and web_contact.topics == ("employment",) and tg_contact.topics == ()
    assert "只能用一次" in await web.say("绑定") and "在微信公众号或 Telegram 中发送" in await web.say(f"绑定 {code}")


# --- WeChat -------------------------------------------------------------------------------


@dataclass
class WeChatAndWeb:
    client: AsyncClient
    endpoint: WeChatEndpoint
    web: Web

    async def say(self, text: str, openid: str = OPENID) -> str:
        query, body = cb.signed_post(WECHAT_TOKEN, cb.text_message_xml(from_user=openid, content=text))
        response = await self.client.post("/wechat", params=query, content=body.encode())
        assert response.status_code == 200
        return str(cb.xml_fields(response.text)["Content"])


@pytest_asyncio.fixture
async def wx_web(db: Database, fake_wechat: FakeWeChat) -> AsyncIterator[WeChatAndWeb]:
    s = services(
        db,
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=fake_wechat.appid,
        wechat_app_secret=fake_wechat.secret,
        wechat_aes_key=AES_KEY,
        wechat_api_base=fake_wechat.api_base,
    )
    endpoint = WeChatEndpoint(s)
    app = FastAPI()
    app.include_router(webchat_router(s))
    app.include_router(wechat_router(endpoint))
    async with (
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as wx_client,
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as web_client,
    ):
        yield WeChatAndWeb(wx_client, endpoint, Web(web_client))
        await endpoint.drain()


async def test_web_binds_to_wechat_with_a_code(wx_web: WeChatAndWeb, db: Database) -> None:
    web = wx_web.web
    await web.say("订阅 就业创业")
    offer = await web.say("绑定")
    code = CODE.search(offer).group(1)  # type: ignore[union-attr]
    assert f"绑定 {code}" in offer and "t.me" not in offer  # Telegram is not configured
    assert "绑定码不正确" in await wx_web.say("绑定 NotTheCode1")
    assert "绑定成功" in await wx_web.say(f"绑定 {code}")
    merged = await contact(db, "wechat", OPENID)
    assert merged.topics == ("employment",) and merged.id == (await contact(db, "web", web.address)).id
    assert "已经用过" in await wx_web.say(f"绑定 {code}")
    assert "就业创业" in await web.say("我的订阅") and "就业创业" in await wx_web.say("我的订阅")

    policy = await make_published_policy(db)
    await FanOut(db).run_once()
    rows = await deliveries(db, policy_id=policy.id)
    assert {(d.channel, d.address) for d in rows} == {("wechat", OPENID), ("web", web.address)}

    # Binding the same web chat a second time from the same account changes nothing.
    code = await web.bind_code()
    assert "已经绑定" in await wx_web.say(f"绑定 {code}")


async def test_binding_needs_a_code_from_the_web(wx_web: WeChatAndWeb) -> None:
    assert "网上咨询" in await wx_web.say("绑定")


# --- what a merge keeps --------------------------------------------------------------------


async def test_merge_keeps_everything_and_refuses_two_enterprises(db: Database) -> None:
    from bot import bindcodes
    from bot.dialogue import merging
    from core.errors import Conflict
    from tests.bot.helpers import credit_code

    async with db.session() as session:
        web = await subscriptions.ensure_subscriber_for_address(session, "web", "web-visitor-merge")
        await subscriptions.subscribe_topics(session, web.id, ["housing"])
        await subscriptions.add_keywords(session, web.id, ["光伏"])
        await subscriptions.set_townships(session, web.id, ["xiangshui"])
        await subscriptions.set_preferences(session, web.id, frequency="weekly")
        chat = await subscriptions.ensure_subscriber_for_address(session, "wechat", "o_merge_target")
        await subscriptions.set_resident_profile(session, chat.id, township="jingheyuan")
        merged = await merging.merge_into(session, web.id, chat.id)
    # The chat contact had no subscription: it takes the web contact's settings, keeps its township.
    assert merged.topics == ("housing",) and merged.keywords == ("光伏",)
    assert set(merged.townships) == {"xiangshui", "jingheyuan"} and merged.preference.frequency == "weekly"
    assert {a.channel for a in merged.addresses if a.active} == {"web", "wechat"}
    assert len(merged.addresses) == 2  # moved, not copied: no retired "#merged-" rows

    async with db.session() as session:
        other = await subscriptions.ensure_subscriber_for_address(session, "telegram", "777")
        first = await subscriptions.save_enterprise(session, name="甲公司", credit_code=credit_code())
        second = await subscriptions.save_enterprise(
            session, name="乙公司", credit_code=credit_code("91640424MA76BCDEF")
        )
        await subscriptions.attach_to_enterprise(session, merged.id, first.id)
        await subscriptions.attach_to_enterprise(session, other.id, second.id)
        try:
            await merging.merge_into(session, merged.id, other.id)
        except Conflict as exc:
            assert "不同的企业" in exc.message
        else:
            raise AssertionError("two enterprises were merged")
        # A code redeemed once cannot be redeemed again, whatever happened after.
        issued = await bindcodes.issue_bind_code(session, "web-visitor-merge")
        assert (await bindcodes.redeem_bind_code(session, issued.code, used_by="x")).web_address == "web-visitor-merge"
        assert (await bindcodes.redeem_bind_code(session, issued.code, used_by="x")).problem == "used"
        assert (await bindcodes.redeem_bind_code(session, "短", used_by="x")).problem == "unknown"
