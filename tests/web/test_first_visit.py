"""First impressions, on a phone and a desktop: a fresh install's /console says how to create
the first administrator; a resident who follows a dead link gets a public 404 page (no
console link, in plain Chinese); the site has a favicon."""

from __future__ import annotations

import pytest

from core.db import Database
from tests.web.browser import SCREENSHOTS, VIEWPORTS, browser_page, horizontal_overflow, live_server, tag
from tests.web.browser import pytestmark as browser_marks
from tests.web.conftest import make_user

pytestmark = browser_marks
__all__ = ["live_server"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_fresh_install_console_says_how_to_start(live_server: str, db: Database,
                                                       viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    async with browser_page(viewport) as page:
        await page.goto(f"{live_server}/console")
        hint = page.locator("#first-admin")
        await expect(hint).to_contain_text("还没有任何账号")
        await expect(hint.locator("pre")).to_have_text(".venv/bin/python run.py user create --username admin")
        assert await horizontal_overflow(page) <= 0
        await page.screenshot(path=str(SCREENSHOTS / f"first-visit-console-{tag(viewport)}.png"), full_page=True)
        await make_user(db, "admin", "admin")
        await page.reload()
        await expect(page.locator("input[name=username]")).to_be_visible()
        await expect(hint).to_have_count(0)


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_public_not_found_page_and_favicon(live_server: str, db: Database, viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    async with browser_page(viewport) as page:
        response = await page.goto(f"{live_server}/p/987654")
        assert response is not None and response.status == 404
        await expect(page.locator("h1")).to_have_text("没有找到这个页面")
        await expect(page.locator("a[href='/console']")).to_have_count(0)
        await expect(page.locator("main a[href='/library']")).to_be_visible()
        body = await page.inner_text("body")
        assert "404" not in body and "控制台" not in body
        icon = await page.locator("link[rel=icon]").get_attribute("href")
        assert icon is not None
        assert (await page.request.get(f"{live_server}{icon}")).ok
        favicon = await page.request.get(f"{live_server}/favicon.ico")
        assert favicon.ok and favicon.headers["content-type"].startswith("image/")
        await page.screenshot(path=str(SCREENSHOTS / f"first-visit-404-{tag(viewport)}.png"), full_page=True)
