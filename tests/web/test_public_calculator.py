"""The public calculator page: answers in Chinese with no internal codes, unknown answers shown
as 需核实, bad numbers refused politely; and in Chromium on a 390 px phone."""

from __future__ import annotations

import re

import httpx
import pytest

from core.clock import FixedClock
from core.db import Database
from tests.factories import make_published_policy
from tests.policies.items.helpers import HIGH_TECH_AWARD, SME_LOAN_SUBSIDY, STARTUP_GRANT, save_items
from tests.web.browser import CHROMIUM, SCREENSHOTS, chromium_page, live_server  # noqa: F401

CODES = re.compile(r"\b(high_tech|xiangshui|small_micro|to_verify|not_met|enterprise|resident)\b")


async def _publish_items(db: Database) -> int:
    policy = await make_published_policy(db)
    await save_items(db, policy.id, [STARTUP_GRANT, HIGH_TECH_AWARD, SME_LOAN_SUBSIDY], change_summary="事项清单")
    return policy.id


def _visible_text(html: str) -> str:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)  # attribute values (form codes) are not read by people
    return body


async def test_enterprise_answer_lists_items_by_standing(client: httpx.AsyncClient, db: Database,
                                                         clock: FixedClock) -> None:
    await _publish_items(db)
    page = await client.get("/calculator", params=[
        ("kind", "enterprise"), ("township", "xiangshui"), ("industry", "C"), ("employees", "40"),
        ("revenue", "800"), ("qualifications", "high_tech")])
    assert page.status_code == 200
    text = _visible_text(page.text)
    qualified = text[text.index("符合条件（1项）"):text.index("可能符合（需核实）")]
    assert "高新技术企业认定奖励" in qualified and "无需申请，符合条件的将直接兑现" in qualified
    to_verify = text[text.index("可能符合（需核实）（1项）"):]
    assert "小微企业贷款贴息" in to_verify and "需核实  成立年限：成立5年及以下" in to_verify
    assert "<h3>一次性创业补贴</h3>" not in page.text  # a resident's item
    assert not CODES.search(text), CODES.search(text)


async def test_nothing_answered_is_never_met_and_bad_numbers_are_explained(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    await _publish_items(db)
    blank = _visible_text((await client.get("/calculator", params={"kind": "resident"})).text)
    assert "符合条件（0项）" in blank and "一次性创业补贴" in blank
    bad = await client.get("/calculator", params={"kind": "resident", "age": "很老"})
    assert bad.status_code == 200 and "年龄填写有误" in bad.text and "Traceback" not in bad.text


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")
async def test_the_calculator_on_a_390px_phone(live_server: str, db: Database,  # noqa: F811
                                               clock: FixedClock) -> None:
    from playwright.async_api import expect

    await _publish_items(db)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with chromium_page(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                             has_touch=True) as page:
        await page.goto(f"{live_server}/calculator")
        await page.get_by_label("个人").check()
        await expect(page.locator(".calc-enterprise")).to_be_hidden()  # only the person's questions
        await page.get_by_label("年龄（周岁）").fill("24")
        await page.get_by_label("高校毕业生").first.check()
        await page.get_by_role("button", name="查看我能享受的政策").click()
        card = page.locator(".calc-item", has_text="一次性创业补贴")
        await expect(card).to_be_visible()
        await expect(card.locator(".calc-check")).to_contain_text("正常经营6个月以上")
        await expect(card.get_by_role("link", name="去办理")).to_have_attribute(
            "href", "https://zwfw.example.gov.cn/item/1")
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"page is {overflow}px wider than the phone"
        await page.screenshot(path=str(SCREENSHOTS / "calculator-390.png"), full_page=True)


async def test_the_policy_page_lists_its_items_as_of_each_revision(client: httpx.AsyncClient, db: Database,
                                                                    clock: FixedClock) -> None:
    policy_id = await _publish_items(db)
    current = await client.get(f"/p/{policy_id}")
    assert "事项清单（3项）" in current.text and "小微企业贷款贴息" in current.text
    assert "享受条件：面向对象：企业；所属行业：制造业或住宿和餐饮业" in current.text
    first = await client.get(f"/p/{policy_id}/r/1")  # published before the items were added
    assert first.status_code == 200 and "事项清单（" not in first.text and "小微企业贷款贴息" not in first.text
