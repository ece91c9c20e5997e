"""What a person sees on a 390×844 phone and a 1366×900 desktop in Chromium: no page
scrolls sideways, the library's results are not squeezed beside its facets, long links
wrap, charts scale to the screen."""

from __future__ import annotations

import pytest

from core.db import Database
from policies import service as policies
from push.fanout import FanOut
from tests.factories import make_published_policy
from tests.web.browser import (
    SCREENSHOTS,
    VIEWPORTS,
    browser_page,
    horizontal_overflow,
    live_server,
    log_in,
    tag,
)
from tests.web.browser import pytestmark as browser_marks
from web.demo import load_demo

pytestmark = [*browser_marks, pytest.mark.slow]
__all__ = ["live_server"]

LONG_LINK = "https://www.jingyuan.gov.cn/xxgk/zfxxgkml/zcwj/gfxwj/" + "a1b2c3d4e5" * 12 + ".html"


async def _county(db: Database) -> tuple[int, str]:
    """A published policy with a very long link, and the demo admin's (random) password."""
    report = await load_demo(db)
    linked = await make_published_policy(
        db, title="泾源县关于做好2026年高校毕业生就业创业工作的通知（附申报表下载地址及办理流程说明）",
        body="申报表下载：" + LONG_LINK + "\n对首次创业的高校毕业生给予一次性创业补贴。",
        source_url=LONG_LINK)
    await FanOut(db).run_once()
    return linked.id, report.passwords["admin"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_public_and_console_pages_fit_the_screen(live_server: str, db: Database,
                                                       viewport: dict[str, int]) -> None:
    from playwright.async_api import expect

    policy_id, admin_password = await _county(db)
    async with db.reader() as session:
        hubs_seen = await policies.list_policies(session, statuses=["published"])
    assert hubs_seen[1] >= 9
    width = viewport["width"]
    async with browser_page(viewport) as page:
        await page.goto(f"{live_server}/library")
        results = page.locator("ul.library")
        await expect(results.locator("li").first).to_be_visible()
        box = await results.bounding_box()
        assert box is not None and box["width"] >= min(width - 60, 600), box  # not a two-character column
        assert await horizontal_overflow(page) <= 0
        await page.screenshot(path=str(SCREENSHOTS / f"phone-layout-library-{tag(viewport)}.png"), full_page=True)

        await page.goto(f"{live_server}/p/{policy_id}")
        await expect(page.locator("#full-text")).to_contain_text("申报表下载")
        assert await horizontal_overflow(page) <= 0
        await page.screenshot(path=str(SCREENSHOTS / f"phone-layout-policy-{tag(viewport)}.png"), full_page=True)

        await log_in(page, live_server, "admin", admin_password)
        for name, path in [("policies", "/console/policies"), ("draft", "/console/policies/new"),
                           ("detail", f"/console/policies/{policy_id}"),
                           ("reach", f"/console/policies/{policy_id}/reach"), ("relay", "/console/relay"),
                           ("boards", "/console/boards"), ("review", "/console/review"), ("faq", "/console/faq"),
                           ("admin", "/console/admin")]:
            response = await page.goto(f"{live_server}{path}")
            assert response is not None and response.status == 200, path
            overflow = await horizontal_overflow(page)
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
            await page.screenshot(path=str(SCREENSHOTS / f"phone-layout-{name}-{tag(viewport)}.png"),
                                  full_page=True)
            if name == "reach":
                for chart in await page.locator("svg.chart").all():
                    chart_box = await chart.bounding_box()
                    assert chart_box is not None and chart_box["x"] + chart_box["width"] <= width
                smallest = await page.evaluate("""() => Math.min(...[...document.querySelectorAll('svg.chart text')]
                    .map((t) => t.getBoundingClientRect().height))""")
                assert smallest >= 14, f"chart words shrink to {smallest}px"
