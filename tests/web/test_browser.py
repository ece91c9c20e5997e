"""The console in Debian's Chromium, driven by Playwright: log in, draft a policy, see tag
suggestions and a personal-data warning, mask it, publish, open the reach dashboard.

The app runs under uvicorn as a task in the test's own event loop (so it shares the `db`
fixture's connections) on 127.0.0.1 and a free port. Playwright never downloads a browser:
it launches /usr/bin/chromium. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

from core.db import Database
from policies import service as policies
from push.fanout import FanOut
from subscriptions import service as subscriptions
from tests.fakes.telegram_api import FakeTelegram
from tests.push.relay.helpers import drain, worker
from tests.web.browser import (  # noqa: F401  (live_server: fixture)
    CHROMIUM,
    CHROMIUM_PRESENT,
    SCREENSHOTS,
    chromium_page,
    live_server,
    pytestmark,
)
from tests.web.conftest import HR, PASSWORD, make_user

RESIDENT_CHAT = 777_001


async def test_draft_publish_and_reach_in_chromium(live_server: str, db: Database,  # noqa: F811
                                                   fake_telegram: FakeTelegram) -> None:
    assert CHROMIUM_PRESENT, f"{CHROMIUM} is missing and CI=true: install Debian's chromium"
    from playwright.async_api import expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await make_user(db, "hr-editor", "editor", HR)
    async with db.session() as session:  # a resident who will receive the policy on Telegram
        resident = await subscriptions.create_resident(session, display_name="马先生", channel="telegram",
                                                       address=str(RESIDENT_CHAT))
        await subscriptions.subscribe_all_topics(session, resident.id)
    async with chromium_page(locale="zh-CN", viewport={"width": 1280, "height": 900}) as page:
        await page.goto(f"{live_server}/console/login")
        await page.fill("input[name=username]", "hr-editor")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await expect(page.locator("h1")).to_contain_text("政策")

        await page.goto(f"{live_server}/console/policies/new")
        await page.fill("input[name=title]", "泾源县支持高校毕业生创业就业的若干措施")
        await page.fill("textarea[name=body]",
                        "对高校毕业生首次创业并正常经营6个月以上的，给予一次性创业补贴5000元。"
                        "咨询联系人张老师，手机13912345678。")
        await expect(page.locator("#suggestions .chip").first).to_be_visible(timeout=15_000)
        await expect(page.locator("#pii .pii-warning").first).to_contain_text("手机", timeout=15_000)
        await page.screenshot(path=str(SCREENSHOTS / "01-draft-suggestions-pii.png"), full_page=True)

        await page.locator("#suggestions .chip").first.click()
        await page.click("button[value=mask]")
        await expect(page.locator("#form-message")).to_contain_text("已遮盖")
        assert "13912345678" not in await page.input_value("textarea[name=body]")
        await page.click("button[value=save]")
        await expect(page.locator(".notice")).to_contain_text("已保存")
        policy_id = int(page.url.split("/policies/")[1].split("?")[0])
        await page.click("button:has-text(\"提交审核\")")
        await expect(page.locator("h1 .badge")).to_contain_text("待审核")

        async with db.session() as session:
            await policies.approve(session, policy_id, "hr-reviewer")
        await page.goto(f"{live_server}/console/policies/{policy_id}/publish")
        await expect(page.locator("#audience-preview")).to_be_visible()
        await page.screenshot(path=str(SCREENSHOTS / "02-confirm-publish.png"), full_page=True)
        await page.click("button:has-text(\"确认发布\")")
        await expect(page.locator("h1 .badge")).to_contain_text("有效")

        await page.click("a:has-text(\"推送与触达\")")
        await expect(page.locator("h1")).to_contain_text("推送与触达")
        await expect(page.locator("[data-stage=sent]")).to_have_text("0")

        # The pipeline fans out and sends through the real Telegram adapter to the fake Bot API;
        # the dashboard then shows the message as sent.
        await FanOut(db).run_once()
        await drain(worker(db, fake_telegram))
        assert len(fake_telegram.sent_messages(RESIDENT_CHAT)) == 1
        await page.reload()
        await expect(page.locator("[data-stage=sent]")).to_have_text("1")
        await page.screenshot(path=str(SCREENSHOTS / "03-reach-dashboard.png"), full_page=True)

        await page.goto(f"{live_server}/p/{policy_id}")
        await expect(page.locator("#validity")).to_contain_text("有效")
        await page.screenshot(path=str(SCREENSHOTS / "04-public-page.png"), full_page=True)
