"""The web chat: its JSON endpoints through httpx, and a newcomer in Debian's Chromium
(Playwright, never downloading a browser) who subscribes and asks a question.

The router runs under uvicorn as a task in the test's own event loop (so it shares the `db`
fixture's connections) on 127.0.0.1 and a free port. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from bot.web_routes import build_router
from bot.webchat.identity import COOKIE_NAME, address_of
from core.db import Database
from push import service as push
from push.channels.base import RenderedMessage
from subscriptions import service as subscriptions
from tests.bot.helpers import services, settings
from tests.bot.test_acknowledge import send_all
from tests.factories import make_published_policy
from tests.push.helpers import deliveries
from tests.web.browser import CHROMIUM, CHROMIUM_PRESENT, SCREENSHOTS, chromium_page, serve

NO_BROWSER = not CHROMIUM_PRESENT and os.environ.get("CI") != "true"  # under CI a missing browser fails


def chat_app(db: Database) -> FastAPI:
    app = FastAPI()
    app.include_router(build_router(db, settings(), services(db)))
    return app


async def test_chat_api_cookie_and_inbox(db: Database) -> None:
    async with AsyncClient(transport=ASGITransport(app=chat_app(db)), base_url="http://test") as client:
        page = await client.get("/chat")
        assert page.status_code == 200 and "政策直达" in page.text
        cookie = page.headers["set-cookie"]
        assert f"{COOKIE_NAME}=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        token = client.cookies[COOKIE_NAME]

        replies = (await client.post("/chat/api/start")).json()["replies"]
        assert "欢迎" in replies[0]["text"]
        replies = (await client.post("/chat/api/message", json={"text": "订阅 就业创业"})).json()["replies"]
        assert "已订阅：就业创业" in replies[0]["text"]
        replies = (await client.post("/chat/api/press", json={"action": "m:my"})).json()["replies"]
        assert "就业创业" in replies[0]["text"]
        replies = (await client.post("/chat/api/press", json={"action": "no-such-button"})).json()["replies"]
        assert "失效" in replies[0]["text"]
        replies = (await client.post("/chat/api/message", json={"text": ""})).json()["replies"]
        assert "没有收到文字" in replies[0]["text"]
        too_big = await client.post("/chat/api/message", json={"text": "x" * 20_000})
        assert too_big.status_code == 413 and "太长" in too_big.json()["replies"][0]["text"]
        assert (await client.post("/chat/api/message", json={"text": "x" * 10_001})).status_code == 422
        assert (await client.post("/chat/api/message", json={})).status_code == 422
        assert (await client.post("/chat/api/message", content=b"{not json")).status_code == 422

        address = address_of(token)
        assert token not in address  # the database keeps only a hash of the cookie
        await push.store_web_message(db, RenderedMessage(channel="web", address=address, text="正文",
                                                         title="新政策发布：创业补贴", url="http://x/r/1"))
        inbox = (await client.get("/chat/api/inbox")).json()["messages"]
        assert [m["title"] for m in inbox] == ["新政策发布：创业补贴"]

    async with db.reader() as session:
        found = await subscriptions.find_address(session, "web", address)
        assert found is not None
        assert (await subscriptions.get_subscriber(session, found.subscriber_id)).topics == ("employment",)


@pytest_asyncio.fixture
async def live_chat(db: Database) -> AsyncIterator[str]:
    async with serve(chat_app(db)) as base:
        yield base


@pytest.mark.browser
@pytest.mark.skipif(NO_BROWSER, reason=f"{CHROMIUM} is not installed (apt install chromium)")
async def test_a_newcomer_subscribes_and_asks_in_chromium(live_chat: str, db: Database) -> None:
    assert CHROMIUM_PRESENT, f"{CHROMIUM} is missing and CI=true: install Debian's chromium"
    from playwright.async_api import expect

    policy = await make_published_policy(db, doc_no="泾人社发〔2026〕8号")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with chromium_page(locale="zh-CN", viewport={"width": 900, "height": 900}) as page:
        await page.goto(f"{live_chat}/chat")
        log = page.locator("#log")
        await expect(log).to_contain_text("欢迎使用泾源县“政策直达”")
        await page.click("button[data-action='who:resident']")
        await expect(log).to_contain_text("第2步")
        await page.click("button[data-action='town:skip']")
        await page.click("button[data-action='tp:employment']")
        chosen = page.locator("button[data-action='tp:employment']")
        await expect(chosen).to_have_attribute("aria-pressed", "true")
        await expect(chosen).to_have_text("就业创业")  # marked by style and "已选", not only an emoji
        await page.screenshot(path=str(SCREENSHOTS / "bot-01-webchat-topics.png"), full_page=True)
        await page.click("button[data-action='tpok']")
        await page.click("button[data-action='freq:skip']")
        await expect(log).to_contain_text("设置完成")

        await page.fill("#text", "一次性创业补贴多少钱")
        await page.press("#text", "Enter")
        answer = log.locator(".msg.bot").last
        await expect(answer).to_contain_text(policy.title)
        await expect(answer).to_contain_text("泾人社发〔2026〕8号")
        await expect(answer.locator(f"a[href$='/p/{policy.id}']").first).to_be_visible()
        await page.screenshot(path=str(SCREENSHOTS / "bot-02-webchat-answer.png"), full_page=True)

        # 绑定 with no chat channel configured says so honestly.
        await page.click("#bind")
        await expect(log.locator(".msg.bot").last).to_contain_text("暂未开通")

        # A new policy arrives in the inbox; 确认收到 under it records the acknowledgement.
        second = await make_published_policy(db, title="泾源县高校毕业生就业见习补贴办法")
        await send_all(db, settings().secret_key)
        await page.click("#tab-inbox")
        item = page.locator("#inbox article", has_text=second.title)
        await item.locator("button.ack").click()
        await expect(item.locator(".ack-result")).to_contain_text("已确认收到")
        await page.screenshot(path=str(SCREENSHOTS / "bot-03-webchat-inbox-ack.png"), full_page=True)

    async with db.reader() as session:
        sub = await subscriptions.get_subscriber(session, 1)  # the only subscriber: the visitor
        assert sub.topics == ("employment",) and sub.audience == "resident"
    [delivery] = await deliveries(db, policy_id=second.id)
    assert delivery.channel == "web" and delivery.acknowledged_at is not None


class Ticks:
    """A monotonic clock the test moves by hand (the limiter never reads the wall clock here)."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


async def test_chat_api_is_rate_limited_per_visitor_and_per_ip(db: Database) -> None:
    from bot.webchat.ratelimit import ChatRateLimit, Limit
    from bot.webchat.routes import webchat_router

    ticks = Ticks()
    app = FastAPI()
    app.include_router(webchat_router(services(db), rate_limit=ChatRateLimit(Limit(3, 60), Limit(5, 60),
                                                                              clock=ticks)))
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://test") as first:
        for _ in range(3):
            assert (await first.post("/chat/api/message", json={"text": "帮助"})).status_code == 200
        refused = await first.post("/chat/api/message", json={"text": "帮助"})
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert "太快" in refused.json()["replies"][0]["text"] and "0954-12345" in refused.json()["error"]
        assert (await first.get("/chat/api/inbox")).status_code == 429  # every /chat/api/* counts
        ticks.at += 30
        assert (await first.post("/chat/api/press", json={"action": "m:help"})).headers["Retry-After"] == "30"

        async with AsyncClient(transport=transport, base_url="http://test") as second:
            # Another visitor has its own window, but shares the IP's (5 per window).
            assert (await second.post("/chat/api/start")).status_code == 200
            assert (await second.post("/chat/api/start")).status_code == 200
            assert (await second.post("/chat/api/start")).status_code == 429
        ticks.at += 31  # the first window has slid past
        assert (await first.post("/chat/api/message", json={"text": "帮助"})).status_code == 200

