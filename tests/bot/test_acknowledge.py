"""确认收到 outside Telegram: "收到" in WeChat (real-format XML through the router) acknowledges the
newest push to that openid, and the web inbox's 确认收到 button (httpx through the chat API)
acknowledges one inbox message of this visitor only. A repealed policy is refused clearly."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from bot.webchat.identity import COOKIE_NAME, address_of
from bot.webchat.routes import webchat_router
from bot.wechat.endpoint import WeChatEndpoint, wechat_router
from bot.wiring import BotServices
from core.db import Database
from policies import service as policies
from push import receipts
from push import service as push
from push.channels.base import RenderedMessage
from push.channels.web_inbox import WebInboxChannel
from push.fanout import FanOut
from push.worker import DeliveryWorker
from tests.bot.helpers import BASE_URL, services
from tests.bot.test_wechat import AES_KEY, OPENID, TOKEN
from tests.factories import make_published_policy
from tests.fakes import wechat_callbacks as cb
from tests.fakes.wechat_api import FakeWeChat
from tests.push.helpers import RecordingChannel, deliveries


@dataclass
class Front:
    client: AsyncClient
    services: BotServices
    endpoint: WeChatEndpoint

    async def wechat(self, text: str, openid: str = OPENID) -> str:
        query, body = cb.signed_post(TOKEN, cb.text_message_xml(from_user=openid, content=text))
        response = await self.client.post("/wechat", params=query, content=body.encode())
        assert response.status_code == 200
        return str(cb.xml_fields(response.text)["Content"])


@pytest_asyncio.fixture
async def front(db: Database, fake_wechat: FakeWeChat) -> AsyncIterator[Front]:
    s = services(db, wechat_token=TOKEN, wechat_app_id=fake_wechat.appid, wechat_app_secret=fake_wechat.secret,
                 wechat_aes_key=AES_KEY, wechat_api_base=fake_wechat.api_base)
    endpoint = WeChatEndpoint(s)
    app = FastAPI()
    app.include_router(webchat_router(s))
    app.include_router(wechat_router(endpoint))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield Front(client, s, endpoint)
        await endpoint.drain()


async def send_all(db: Database, secret: str) -> RecordingChannel:
    """Fan out and send every queued delivery: WeChat to a recording channel, web into the inbox."""
    await FanOut(db).run_once()
    wechat = RecordingChannel(name="wechat")

    async def store(address: str, message: RenderedMessage) -> str:
        return str(await push.store_web_message(db, message, inbox_key=address))

    worker = DeliveryWorker(db, {"wechat": wechat, "web": WebInboxChannel(store)}, base_url=BASE_URL,
                            secret=secret, rng=random.Random(1))
    while await worker.run_once():
        pass
    return wechat


async def test_wechat_shou_dao_acknowledges_the_newest_push(front: Front, db: Database) -> None:
    assert "还没有收到过" in await front.wechat("收到")
    await front.wechat("订阅 就业创业")
    older = await make_published_policy(db, title="泾源县稳岗返还实施办法")
    newer = await make_published_policy(db, title="泾源县一次性创业补贴实施办法")
    wechat = await send_all(db, front.services.settings.secret_key)
    assert len(wechat.to(OPENID)) == 2
    async with db.reader() as session:
        newest = await receipts.latest_unacknowledged(session, "wechat", OPENID)
    [to_newer] = await deliveries(db, policy_id=newer.id)
    assert newest == to_newer.id

    answer = await front.wechat("收到")
    assert "已确认收到" in answer and newer.title in answer
    assert (await deliveries(db, policy_id=newer.id))[0].acknowledged_at is not None
    assert (await deliveries(db, policy_id=older.id))[0].acknowledged_at is None
    answer = await front.wechat("确认收到")  # the next unacknowledged one: the older policy
    assert "已确认收到" in answer and older.title in answer
    answer = await front.wechat("收到")  # nothing left: the newest says it was done already
    assert "已确认过" in answer and newer.title in answer
    assert "还没有收到过" in await front.wechat("收到", openid="o_someone_else_0002")


async def test_acknowledging_a_repealed_policy_is_refused(front: Front, db: Database) -> None:
    await front.wechat("订阅 就业创业")
    policy = await make_published_policy(db)
    await send_all(db, front.services.settings.secret_key)
    async with db.session() as session:
        await policies.repeal(session, policy.id, "被新办法替代", "editor")
    await send_all(db, front.services.settings.secret_key)  # the repeal notice goes out too
    answer = await front.wechat("收到")
    assert "已废止" in answer and "无需确认" in answer
    assert all(d.acknowledged_at is None for d in await deliveries(db, policy_id=policy.id))


async def test_web_inbox_acknowledge_button(front: Front, db: Database) -> None:
    client = front.client
    subscribed = await client.post("/chat/api/message", json={"text": "订阅 就业创业"})
    assert "已订阅" in subscribed.json()["replies"][0]["text"]
    policy = await make_published_policy(db)
    await send_all(db, front.services.settings.secret_key)
    [message] = (await client.get("/chat/api/inbox")).json()["messages"]
    assert message["can_ack"] is True

    replies = (await client.post("/chat/api/inbox/ack", json={"id": message["id"]})).json()["replies"]
    assert "已确认收到" in replies[0]["text"]
    [delivery] = await deliveries(db, policy_id=policy.id)
    assert delivery.channel == "web" and delivery.address == address_of(client.cookies[COOKIE_NAME])
    assert delivery.acknowledged_at is not None
    replies = (await client.post("/chat/api/inbox/ack", json={"id": message["id"]})).json()["replies"]
    assert "已确认过" in replies[0]["text"]

    async with AsyncClient(transport=client._transport, base_url="http://test") as stranger:
        refused = (await stranger.post("/chat/api/inbox/ack", json={"id": message["id"]})).json()["replies"]
        assert "只能确认发给您本人" in refused[0]["text"]
        assert (await stranger.post("/chat/api/inbox/ack", json={"id": "x"})).status_code == 422

    # A message without a tracked link (not a policy push) has no button and cannot be acknowledged.
    key = address_of(client.cookies[COOKIE_NAME])
    await push.store_web_message(db, RenderedMessage(channel="web", address=key, text="系统通知", title="通知", url=""))
    plain = (await client.get("/chat/api/inbox")).json()["messages"][0]
    assert plain["can_ack"] is False
    replies = (await client.post("/chat/api/inbox/ack", json={"id": plain["id"]})).json()["replies"]
    assert "无需确认" in replies[0]["text"]
