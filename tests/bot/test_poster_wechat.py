"""A poster's WeChat parametric code: made through the fake WeChat API when a service account is
configured, printed next to the poster's own code, and a follow through it subscribes the
newcomer to the policy's topics and credits the poster in one step."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from bot.wechat.endpoint import WeChatEndpoint, wechat_router
from bot.wiring import build_services
from core.db import Database
from push.posters import service as posters
from subscriptions import service as subscriptions
from subscriptions.views import ChannelName
from tests.bot.helpers import settings as bot_settings
from tests.factories import make_published_policy
from tests.fakes import wechat_callbacks as cb
from tests.fakes.wechat_api import FakeWeChat
from tests.push.posters.helpers import pdf_pages, qr_contents
from tests.web.conftest import HR, bearer, make_token
from web.app import create_app

TOKEN = "wechat-token-posters"
OPENID = "o_poster_newcomer_0001"


async def test_wechat_code_follow_subscribes_and_credits_the_poster(db: Database, fake_wechat: FakeWeChat) -> None:
    settings = bot_settings(wechat_token=TOKEN, wechat_app_id=fake_wechat.appid,
                            wechat_app_secret=fake_wechat.secret, wechat_api_base=fake_wechat.api_base)
    services = build_services(db, settings)
    endpoint = WeChatEndpoint(services)
    app: FastAPI = create_app(db, settings, extra_routers=[wechat_router(endpoint)])
    policy = await make_published_policy(db, topics=["employment"])
    token = await make_token(db, HR)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        made = await client.post(f"/api/policies/{policy.id}/posters", headers=bearer(token),
                                 json={"places": [{"name": "东山坡村村委会", "kind": "village"}]})
        assert made.status_code == 201, made.text
        poster = made.json()[0]
        assert poster["has_wechat_code"]
        async with db.reader() as session:
            wechat_url = (await posters.get_poster(session, poster["id"])).wechat_qr_url
        assert fake_wechat.scene_of(wechat_url) == f"p:{poster['id']}"
        assert fake_wechat.qrcodes[wechat_url]["action_name"] == "QR_LIMIT_STR_SCENE"

        pdf = await client.get(poster["pdf"], headers=bearer(token))
        assert qr_contents(pdf_pages(pdf.content)[0]) == sorted([poster["link"], wechat_url])

        xml = cb.event_xml(OPENID, "subscribe", event_key=f"qrscene_{fake_wechat.scene_of(wechat_url)}")
        query, body = cb.signed_post(TOKEN, xml)
        answer = await client.post("/wechat", params=query, content=body.encode())
        assert answer.status_code == 200
        await endpoint.drain()
        reply = str(cb.xml_fields(answer.text).get("Content", "")) if answer.text.strip() else ""
        texts = reply + "".join(str(m.get("text", {}).get("content", ""))
                                for m in fake_wechat.sent_custom_messages(OPENID))
        assert "东山坡村村委会" in texts and "已为您订阅" in texts

    async with db.reader() as session:
        address = await subscriptions.find_address(session, ChannelName.WECHAT, OPENID)
        assert address is not None
        subscriber = await subscriptions.get_subscriber(session, address.subscriber_id)
        (row,) = await posters.posters_with_counts(session, policy.id)
    assert "employment" in subscriber.topics
    assert (row.counts.scans, row.counts.scans_in_wechat, row.counts.subscriptions) == (1, 1, 1)
