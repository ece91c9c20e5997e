"""A clerk drafting in Chromium, on a phone and a desktop: the audience dry run is on the
draft page from the start and follows the tags, says why it is empty, and publishing to
nobody asks first; everything chosen is shown; checkboxes instead of Ctrl-click lists; date
pickers without a filled-in look; 惠企举措 once and only for enterprise policies."""

from __future__ import annotations

import pytest

from core.db import Database
from policies import service as policies
from subscriptions import service as subscriptions
from tests.factories import make_draft
from tests.web.browser import SCREENSHOTS, VIEWPORTS, browser_page, horizontal_overflow, live_server, log_in, tag
from tests.web.browser import pytestmark as browser_marks
from tests.web.conftest import HR, make_user

pytestmark = browser_marks
__all__ = ["live_server"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_draft_page_shows_choices_and_a_live_audience(live_server: str, db: Database,
                                                            viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    await make_user(db, "hr-editor", "editor", HR)
    async with db.session() as session:
        resident = await subscriptions.create_resident(session, display_name="马先生", channel="web",
                                                       address="visitor-1")
        await subscriptions.subscribe_all_topics(session, resident.id)
    async with browser_page(viewport) as page:
        await log_in(page, live_server, "hr-editor")
        await page.goto(f"{live_server}/console/policies/new")
        live = page.locator("#audience-live")
        await expect(live.locator("#audience-live-total")).to_have_text("1")  # before anything is typed
        assert await page.locator("select[multiple]").count() == 0
        assert await page.locator("input[type=date][placeholder]").count() == 0
        assert await page.locator("input[type=date]").count() == 5
        await expect(page.locator("label[for=body]")).to_be_visible()
        assert await page.get_by_text("惠企举措", exact=False).count() == 1

        await page.locator("#choose-industries label", has_text="住宿和餐饮业").click()
        await expect(page.locator("[data-chosen=industries]")).to_have_text("住宿和餐饮业")
        await page.select_option("#audience", "enterprise")
        await expect(page.locator("[data-chosen=audience]")).to_have_text("企业")
        await expect(live.locator("#audience-live-total")).to_have_text("0")
        await expect(live.locator("#audience-live-why-empty")).to_contain_text("住宿和餐饮业")
        assert await horizontal_overflow(page) <= 0
        await page.screenshot(path=str(SCREENSHOTS / f"drafting-empty-audience-{tag(viewport)}.png"),
                              full_page=True)

        await page.select_option("#audience", "resident")
        await expect(page.locator("#benefits-field")).to_be_hidden()
        await page.select_option("#audience", "both")
        await expect(page.locator("#benefits-field")).to_be_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_publishing_to_nobody_asks_first(live_server: str, db: Database, viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    await make_user(db, "hr-editor", "editor", HR)
    draft = await make_draft(db, author="hr-editor", audience="enterprise", industries=["H"], topics=[])
    async with db.session() as session:
        await policies.submit(session, draft.id, "hr-editor")
    async with db.session() as session:
        await policies.approve(session, draft.id, "hr-reviewer")
    async with browser_page(viewport) as page:
        await log_in(page, live_server, "hr-editor")
        await page.goto(f"{live_server}/console/policies/{draft.id}/publish")
        await expect(page.locator("#empty-audience")).to_contain_text("住宿和餐饮业")
        await page.click("button:has-text('确认发布')")
        await expect(page.locator(".field-error[data-field=confirm_empty]")).to_contain_text("确认发布给零人")
        async with db.reader() as session:
            assert (await policies.get_policy(session, draft.id)).status == "approved"
        await page.check("input[name=confirm_empty]")
        await page.click("button:has-text('确认发布')")
        await expect(page.locator("h1 .badge")).to_contain_text("有效")
