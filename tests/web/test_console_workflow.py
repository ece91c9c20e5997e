"""A clerk's way through review in a real browser, on a phone and a desktop: submitting an
incomplete normative document names the gaps next to the form; a policy approved before that
check existed can be withdrawn or returned to draft with a reason; errors stay on the page
the clerk was on, in Chinese, never as a bare status page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from core.db import Database
from policies import service as policies
from policies.models import Policy
from policies.service import InterpretationInput
from tests.factories import make_draft
from tests.web.browser import SCREENSHOTS, VIEWPORTS, browser_page, horizontal_overflow, live_server, log_in, tag
from tests.web.browser import pytestmark as browser_marks
from tests.web.conftest import HR, make_user

pytestmark = browser_marks
__all__ = ["live_server"]

INCOMPLETE = InterpretationInput(elements={"background": "依据上级文件制定。"}, unit="", phone="")


async def _normative_draft(db: Database, title: str) -> int:
    draft = await make_draft(db, author="hr-editor", kind="normative", doc_no=None, title=title,
                             interpretation=INCOMPLETE)
    return draft.id


async def _approved_without_check(db: Database, policy_id: int) -> None:
    # As left by the old rules: approved although publishing would refuse it.
    async with db.session() as session:
        await session.execute(update(Policy).where(Policy.id == policy_id).values(status="approved", approvals=1))


async def _no_bare_status(page: Any) -> None:
    text = await page.inner_text("body")
    assert "无法完成" not in text and "422" not in text and "409" not in text


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_submit_names_missing_interpretation_elements_next_to_the_form(
        live_server: str, db: Database, viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    await make_user(db, "hr-editor", "editor", HR)
    await make_user(db, "hr-reviewer", "reviewer", HR)
    policy_id = await _normative_draft(db, "泾源县就业补助资金管理办法")
    async with browser_page(viewport) as page:
        await log_in(page, live_server, "hr-editor")
        await page.goto(f"{live_server}/console/policies/{policy_id}")
        await page.click("button:has-text('提交审核')")
        await expect(page.locator("#form-message")).to_contain_text("还不能提交审核")
        goals = page.locator(".field-error[data-field='interpretation.goals']")
        await expect(goals).to_contain_text("目标任务")
        await expect(page.locator(".field-error[data-field='interpretation.phone']")).to_be_visible()
        await expect(page.locator(".field-error[data-field='interpretation.background']")).to_have_count(0)
        await _no_bare_status(page)
        assert await horizontal_overflow(page) <= 0
        await page.screenshot(path=str(SCREENSHOTS / f"workflow-submit-gaps-{tag(viewport)}.png"), full_page=True)

        # Filling the gaps on that same form, saving and submitting goes through, and says who reviews.
        for name, text in {"goals": "稳就业。", "key_points": "补助标准。", "scope": "全县。",
                           "standards": "按月发放。", "notes": "按时申报。"}.items():
            await page.fill(f"textarea[name=element_{name}]", text)
        await page.fill("input[name=interpretation_unit]", HR)
        await page.fill("input[name=interpretation_phone]", "0954-5012345")
        await page.click("button[value=save]")
        await page.click("button:has-text('提交审核')")
        await expect(page.locator("#notice")).to_contain_text("hr-reviewer")
        await expect(page.locator("h1 .badge")).to_contain_text("待审核")
        await page.goto(f"{live_server}/console/review")
        await expect(page.locator("#my-submissions")).to_contain_text("泾源县就业补助资金管理办法")


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_failed_publish_stays_on_the_page_and_offers_a_way_back(
        live_server: str, db: Database, viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    await make_user(db, "hr-editor", "editor", HR)
    policy_id = await _normative_draft(db, "泾源县技能培训补贴办法")
    await _approved_without_check(db, policy_id)
    async with browser_page(viewport) as page:
        await log_in(page, live_server, "hr-editor")
        await page.goto(f"{live_server}/console/policies/{policy_id}/publish")
        await page.check("input[name=confirm_empty]")  # nobody subscribed yet: asked first
        await page.click("button:has-text('确认发布')")
        error = page.locator("#publish-error")
        await expect(error).to_contain_text("政策解读缺少“目标任务”")
        await _no_bare_status(page)
        assert await horizontal_overflow(page) <= 0
        await page.screenshot(path=str(SCREENSHOTS / f"workflow-publish-refused-{tag(viewport)}.png"),
                              full_page=True)
        await error.locator("button:has-text('撤回为草稿')").click()
        await expect(page.locator("h1 .badge")).to_contain_text("草稿")
        await expect(page.locator("#notice")).to_contain_text("已退回为草稿")
        await expect(page.locator("a:has-text('修改')")).to_be_visible()
        await expect(page.locator("table.list")).to_contain_text("撤回")
    async with db.reader() as session:
        history = await policies.history(session, policy_id)
    assert history[-1].action == "withdraw" and "目标任务" in history[-1].detail


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_reviewer_returns_an_approved_policy_with_a_reason(
        live_server: str, db: Database, viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    await make_user(db, "hr-reviewer", "reviewer", HR)
    policy_id = await _normative_draft(db, "泾源县创业担保贷款贴息办法")
    await _approved_without_check(db, policy_id)
    async with browser_page(viewport) as page:
        await log_in(page, live_server, "hr-reviewer")
        await page.goto(f"{live_server}/console/policies/{policy_id}")
        back = page.locator("#back-to-draft")
        await back.locator("button:has-text('退回修改')").click()  # no reason yet: told so on the page
        await expect(back.locator(".field-error[data-field=reason]")).to_contain_text("退回意见")
        await _no_bare_status(page)
        await back.locator("textarea[name=reason]").fill("解读要素不全，请补充后重新提交")
        await back.locator("button:has-text('退回修改')").click()
        await expect(page.locator("h1 .badge")).to_contain_text("草稿")
        await expect(page.locator("table.list")).to_contain_text("退回修改")
        await page.screenshot(path=str(SCREENSHOTS / f"workflow-returned-{tag(viewport)}.png"), full_page=True)
    async with db.reader() as session:
        history = await policies.history(session, policy_id)
    assert (history[-1].action, history[-1].detail) == ("return", "解读要素不全，请补充后重新提交")
