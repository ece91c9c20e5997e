"""The 政策计算器 flow in the chats: the web chat's JSON endpoints and Chromium, Telegram through
a real aiogram Dispatcher against the fake Bot API, WeChat through signed callback XML with
numbered options. Each ends with the items the asker qualifies for and what stays 需核实."""

from __future__ import annotations

import pytest
from httpx import ASGITransport, AsyncClient

from core.clock import FixedClock
from core.db import Database
from subscriptions import service as subscriptions
from tests.bot.helpers import credit_code
from tests.bot.test_telegram import Chat, chat  # noqa: F401  (fixture)
from tests.bot.test_webchat import NO_BROWSER, chat_app, live_chat  # noqa: F401
from tests.bot.test_wechat import WeChat, wechat  # noqa: F401  (fixture)
from tests.factories import make_published_policy
from tests.policies.items.helpers import HIGH_TECH_AWARD, SME_LOAN_SUBSIDY, STARTUP_GRANT, save_items
from tests.web.browser import CHROMIUM, SCREENSHOTS, chromium_page


async def _items(db: Database) -> None:
    policy = await make_published_policy(db)
    await save_items(db, policy.id, [STARTUP_GRANT, HIGH_TECH_AWARD, SME_LOAN_SUBSIDY], change_summary="事项清单")


async def test_web_chat_resident_answers_buttons_and_types_the_age(db: Database, clock: FixedClock) -> None:
    await _items(db)
    async with AsyncClient(transport=ASGITransport(app=chat_app(db)), base_url="http://test") as client:
        await client.post("/chat/api/start")

        async def press(action: str) -> str:
            """The reply's text and button labels."""
            reply = (await client.post("/chat/api/press", json={"action": action})).json()["replies"][0]
            return " ".join([reply["text"], *(b["label"] for row in reply["buttons"] for b in row)])

        assert "企业还是个人" in (await client.post("/chat/api/message", json={"text": "政策计算器"})).json()[
            "replies"][0]["text"]
        assert "哪个乡镇" in await press("calc:k.resident")
        assert "哪类人员" in await press("calc:t.xiangshui")
        assert "✅ 高校毕业生" in await press("calc:g.graduate")
        assert "年龄" in await press("calc:g.ok")
        reply = (await client.post("/chat/api/message", json={"text": "24岁"})).json()["replies"][0]
    text = reply["text"]
    assert "【可能符合（需核实）】1项" in text and "一次性创业补贴：5000元，2026年12月31日前" in text
    assert "需核实：正常经营6个月以上" in text and "咨询电话：0954-5012345" in text
    assert "高新技术企业认定奖励" not in text  # an enterprise item
    full = next(b for row in reply["buttons"] for b in row if b["label"] == "查看完整结果")
    assert "/calculator?kind=resident&township=xiangshui&age=24&groups=graduate" in full["url"]


async def test_web_chat_uses_the_registered_enterprise_profile(db: Database, clock: FixedClock) -> None:
    await _items(db)
    async with AsyncClient(transport=ASGITransport(app=chat_app(db)), base_url="http://test") as client:
        await client.post("/chat/api/start")
        async with db.session() as session:
            sub = await subscriptions.get_subscriber(session, 1)  # the only subscriber: the visitor
            enterprise = await subscriptions.save_enterprise(
                session, name="泾源县六盘山科技有限公司", credit_code=credit_code(), industry="C", size="small",
                qualifications=["high_tech"], township="xiangshui")
            await subscriptions.attach_to_enterprise(session, sub.id, enterprise.id)
        start = (await client.post("/chat/api/press", json={"action": "calc:start"})).json()["replies"][0]
        assert any(b["label"] == "用我登记的资料" for row in start["buttons"] for b in row)
        text = (await client.post("/chat/api/press", json={"action": "calc:mine"})).json()["replies"][0]["text"]
    assert "【符合条件】1项" in text and "高新技术企业认定奖励：10万元" in text and "无需申请" in text
    assert "小微企业贷款贴息" in text and "需核实：成立年限：成立5年及以下" in text


async def test_telegram_enterprise_flow(chat: Chat, db: Database, clock: FixedClock) -> None:  # noqa: F811
    await _items(db)
    await chat.say("/start")
    await chat.say("政策计算器")
    for label in ("企业", "香水镇", "制造业", "小型企业", "高新技术企业", "完成"):
        data, message_id = chat.button(label)
        await chat.press(data, message_id)
    result = chat.texts()[-1]
    assert "【符合条件】1项" in result and "高新技术企业认定奖励：10万元，2026年10月31日前" in result
    assert "【可能符合（需核实）】1项" in result and "成立年限：成立5年及以下" in result
    # The multi-select edited its own message rather than sending a new one per tick.
    assert any("✅ 高新技术企业" in str(c.params.get("reply_markup")) for c in chat.tg.calls_to("editMessageText"))


async def test_wechat_numbered_options_and_typed_age(wechat: WeChat, db: Database,  # noqa: F811
                                                     clock: FixedClock) -> None:
    await _items(db)
    asked = await wechat.say("政策计算器")
    assert "1. 企业" in asked and "2. 个人" in asked
    towns = await wechat.say("2")
    assert "香水镇" in towns
    number = next(line.split(".")[0] for line in towns.splitlines() if line.endswith("香水镇"))
    groups = await wechat.say(number)
    graduate = next(line.split(".")[0] for line in groups.splitlines() if line.endswith("高校毕业生"))
    done = next(line.split(".")[0] for line in groups.splitlines() if line.endswith("完成"))
    await wechat.say(graduate)
    assert "年龄" in await wechat.say(done)
    result = await wechat.say("24")
    assert "一次性创业补贴：5000元" in result and "需核实：正常经营6个月以上" in result
    assert "完整结果：http://policy.test/calculator?kind=resident" in result


@pytest.mark.browser
@pytest.mark.skipif(NO_BROWSER, reason=f"{CHROMIUM} is not installed (apt install chromium)")
async def test_web_chat_calculator_in_chromium(live_chat: str, db: Database,  # noqa: F811
                                               clock: FixedClock) -> None:
    from playwright.async_api import expect

    await _items(db)
    async with chromium_page(locale="zh-CN", viewport={"width": 390, "height": 844}) as page:
        await page.goto(f"{live_chat}/chat")
        log = page.locator("#log")
        await expect(log).to_contain_text("欢迎")
        await page.fill("#text", "政策计算器")
        await page.press("#text", "Enter")
        await page.click("button[data-action='calc:k.enterprise']")
        await page.click("button[data-action='calc:t.xiangshui']")
        await page.click("button[data-action='calc:i.C']")
        await page.click("button[data-action='calc:s.small']")
        await page.click("button[data-action='calc:q.high_tech']")
        # The web chat marks a chosen answer in words and state, not by an emoji alone.
        chosen = page.locator("button[data-action='calc:q.high_tech']").last
        await expect(chosen).to_have_attribute("aria-pressed", "true")
        await expect(chosen).to_have_text("高新技术企业")
        await page.click("button[data-action='calc:q.ok'] >> nth=-1")
        answer = log.locator(".msg.bot").last
        await expect(answer).to_contain_text("高新技术企业认定奖励：10万元")
        await expect(answer).to_contain_text("需核实：成立年限：成立5年及以下")
        await page.screenshot(path=str(SCREENSHOTS / "calculator-webchat.png"), full_page=True)


async def test_wechat_menu_has_the_calculator(wechat: WeChat, db: Database, clock: FixedClock) -> None:  # noqa: F811
    from bot.wechat.menu import menu_definition
    from tests.bot.test_wechat import OPENID
    from tests.fakes import wechat_callbacks as cb

    assert {"type": "click", "name": "政策计算器", "key": "CALCULATOR"} in menu_definition()["button"]
    response = await wechat.post(cb.event_xml(OPENID, "CLICK", "CALCULATOR"))
    assert "企业还是个人" in cb.xml_fields(response.text)["Content"]
