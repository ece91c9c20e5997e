"""The ledger export as a department clerk uses it, on a phone and a desktop: one export
block, the quarter picked from a list, and each download with its own file name."""

from __future__ import annotations

import pytest

from core.db import Database
from tests.web.browser import SCREENSHOTS, VIEWPORTS, browser_page, horizontal_overflow, live_server, log_in, tag
from tests.web.browser import pytestmark as browser_marks
from tests.web.conftest import make_user

pytestmark = browser_marks
__all__ = ["live_server"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_one_export_block_with_a_quarter_list(live_server: str, db: Database,
                                                    viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    await make_user(db, "office-admin", "admin")
    async with browser_page(viewport) as page:
        await log_in(page, live_server, "office-admin")
        await page.goto(f"{live_server}/console/relay")
        await expect(page.get_by_role("heading", name="导出台账")).to_have_count(1)
        block = page.locator("#ledger-export")
        assert await page.locator("a[href^='/console/ledger.']").count() == 0  # no second set of links
        quarters = block.locator("select[name=quarter] option")
        assert await quarters.count() == 9  # 全部季度 and the last eight quarters
        second = await quarters.nth(2).get_attribute("value")
        assert second and second[4] == "Q"
        await block.locator("select[name=quarter]").select_option(second)
        assert await horizontal_overflow(page) <= 0
        await page.screenshot(path=str(SCREENSHOTS / f"ledger-export-{tag(viewport)}.png"), full_page=True)
        names = []
        for button in ("导出 Excel（.xlsx）", "导出 CSV（任务）", "导出 CSV（会员明细）"):
            async with page.expect_download() as download:
                await block.locator("button", has_text=button).click()
            names.append((await download.value).suggested_filename)
    assert len(set(names)) == 3, names
    assert all(second in name for name in names), names
    assert names[2].startswith("转达台账_会员明细") and names[0].endswith(".xlsx")
