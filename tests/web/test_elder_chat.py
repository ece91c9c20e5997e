"""The web chat as an elderly resident uses it on a phone (and a desktop): big enough to
read and tap, a remembered 长辈模式, chosen topics marked in words, spent buttons disabled,
the main menu behind one 菜单 button instead of under every reply, a conversation that
survives a reload, and an inbox with an unread count, 查看全文 and 退订此类."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from bot.web_routes import build_router
from core.db import Database
from subscriptions import service as subscriptions
from tests.bot.helpers import services, settings
from tests.bot.test_acknowledge import send_all
from tests.factories import make_published_policy
from tests.web.browser import SCREENSHOTS, VIEWPORTS, browser_page, horizontal_overflow, live_server, tag
from tests.web.browser import pytestmark as browser_marks
from web.app import create_app

pytestmark = browser_marks
__all__ = ["live_server"]


@pytest.fixture
def app(db: Database) -> FastAPI:
    chat_settings = settings()
    return create_app(db, chat_settings, extra_routers=[build_router(db, chat_settings, services(db))])


async def _px(page: Any, selector: str, prop: str) -> float:
    value = await page.locator(selector).first.evaluate(f"(el) => getComputedStyle(el).{prop}")
    return float(str(value).removesuffix("px"))


async def _small_tap_targets(page: Any) -> list[str]:
    return await page.evaluate("""() => [...document.querySelectorAll('button, .buttons a, #inbox .actions a')]
        .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
        .map((el) => el.textContent.trim())""")


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_elder_friendly_chat(live_server: str, db: Database, viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    await make_published_policy(db, title="泾源县一次性创业补贴实施办法")
    async with browser_page(viewport) as page:
        await page.goto(f"{live_server}/chat")
        log = page.locator("#log")
        await expect(log).to_contain_text("欢迎使用")
        assert await _px(page, ".msg.bot", "fontSize") >= 16
        title_height = (await page.locator("header h1").bounding_box())["height"]
        assert title_height <= 2 * await _px(page, "header h1", "lineHeight") + 1  # one or two lines
        assert await _small_tap_targets(page) == []

        await page.click("button[data-action='who:resident']")
        await expect(log).to_contain_text("第2步")
        await expect(page.locator("button[data-action='who:enterprise']")).to_have_count(0)  # answered in place
        await page.click("button[data-action='town:skip']")
        topic = page.locator("button[data-action='tp:employment']")
        await topic.click()
        await expect(topic).to_have_attribute("aria-pressed", "true")
        assert await topic.evaluate("(el) => getComputedStyle(el, '::before').content") == '"已选 "'
        assert await topic.evaluate("(el) => getComputedStyle(el).backgroundColor") != "rgb(255, 255, 255)"
        await page.screenshot(path=str(SCREENSHOTS / f"elder-chat-topics-{tag(viewport)}.png"), full_page=True)
        await page.click("button[data-action='tpok']")
        await page.click("button[data-action='freq:skip']")
        await expect(log).to_contain_text("设置完成")
        for question in ("最新", "帮助"):
            await page.fill("#text", question)
            await page.press("#text", "Enter")
        # A reply's buttons are spent once one of them was pressed.
        latest = log.locator(".msg.bot", has=page.locator("button[data-action^='p:']")).first
        await latest.locator("button[data-action^='p:']").first.click()
        await expect(latest.locator("button[data-action^='p:']").first).to_be_disabled()
        await expect(log.locator(".msg.bot").last).to_contain_text("创业补贴")
        await expect(page.locator("#menu-toggle")).to_be_visible()
        assert await log.locator("button[data-action='m:help']").count() == 0  # never repeated in the log
        await page.click("#menu-toggle")
        await expect(page.locator("#menu button[data-action='m:my']")).to_be_visible()
        assert await horizontal_overflow(page) <= 0
        assert await _small_tap_targets(page) == []

        await page.click("#elder")
        assert await _px(page, "body", "fontSize") >= 20
        await page.reload()
        await expect(page.locator("#elder")).to_have_attribute("aria-pressed", "true")
        assert await _px(page, "body", "fontSize") >= 20
        await expect(log).to_contain_text("设置完成")  # the conversation survived the reload
        await expect(latest.locator("button[data-action^='p:']").first).to_be_disabled()
        await expect(page.locator("#bind")).to_be_hidden()  # fewer buttons
        await page.screenshot(path=str(SCREENSHOTS / f"elder-chat-elder-mode-{tag(viewport)}.png"), full_page=True)

        # A push arrives: 收件箱 counts it, and it carries 查看全文 and 退订此类.
        await send_all(db, settings().secret_key)
        await page.reload()
        await expect(page.locator("#unread")).to_have_text("1")
        await page.click("#tab-inbox")
        item = page.locator("#inbox article", has_text="创业补贴").first
        await expect(item.locator("a.open")).to_have_text("查看全文")
        await expect(page.locator("#unread")).to_be_hidden()
        assert await horizontal_overflow(page) <= 0
        await page.screenshot(path=str(SCREENSHOTS / f"elder-chat-inbox-{tag(viewport)}.png"), full_page=True)
        await item.locator("button.unsubscribe").click()
        await expect(item.locator(".ack-result")).to_contain_text("已退订主题：就业创业")
    async with db.reader() as session:
        visitor = await subscriptions.get_subscriber(session, 1)
    assert visitor.topics == ()
