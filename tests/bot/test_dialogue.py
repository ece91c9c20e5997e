"""The dialogue core through `run_turn`, as the web chat and WeChat use it."""

from __future__ import annotations

from bot.dialogue.replies import Reply
from bot.runner import run_turn
from core.db import Database
from policies.qa import service as qa
from subscriptions import service as subscriptions
from subscriptions.views import SubscriberView
from tests.bot.helpers import credit_code, services
from tests.factories import make_published_policy
from vocabulary.actions import Kind, encode

ADDRESS = "web-visitor-1"


async def say(db: Database, text: str, *, channel: str = "web", address: str = ADDRESS,
              buttons: bool = True) -> list[Reply]:
    s = services(db)
    return await run_turn(db, channel, address, lambda t: s.dialogue.text(t, text), has_buttons=buttons,
                          phone=s.phone)


async def press(db: Database, action: str, *, address: str = ADDRESS) -> list[Reply]:
    s = services(db)
    return await run_turn(db, "web", address, lambda t: s.dialogue.press(t, action), has_buttons=True,
                          phone=s.phone)


async def start(db: Database, payload: str = "", *, address: str = ADDRESS) -> list[Reply]:
    s = services(db)
    return await run_turn(db, "web", address, lambda t: s.dialogue.start(t, payload), has_buttons=True,
                          phone=s.phone)


async def subscriber(db: Database, address: str = ADDRESS) -> SubscriberView:
    async with db.reader() as session:
        found = await subscriptions.find_address(session, "web", address)
        assert found is not None
        return await subscriptions.get_subscriber(session, found.subscriber_id)


def labels(reply: Reply) -> list[str]:
    return [b.label for b in reply.flat_buttons]


async def test_onboarding_saves_each_answer(db: Database) -> None:
    replies = await start(db)
    assert "欢迎" in replies[0].text and labels(replies[1])[:3] == ["居民", "企业", "园区或协会"]
    replies = await press(db, encode(Kind.PERSON, "enterprise"))
    assert "乡镇" in replies[-1].text
    replies = await press(db, encode(Kind.TOWNSHIP, "xiangshui"))
    assert "第3步" in replies[-1].text
    replies = await press(db, encode(Kind.TOPIC, "tax"))
    assert replies[0].replace and "✅ 税费优惠" in labels(replies[0])
    await press(db, encode(Kind.TOPIC, "business"))
    await press(db, encode(Kind.TOPIC, "business"))  # toggled off again
    replies = await press(db, encode(Kind.TOPICS_DONE))
    assert "第4步" in replies[-1].text
    replies = await press(db, encode(Kind.FREQUENCY, "daily"))
    assert "统一社会信用代码" in replies[-1].text
    replies = await say(db, f"{credit_code()} 泾源县六盘山农业有限公司")
    assert "已登记企业" in replies[0].text and "设置完成" in replies[-1].text
    sub = await subscriber(db)
    assert sub.topics == ("tax",) and sub.townships == ("xiangshui",)
    assert sub.preference.frequency == "daily" and sub.recommend_by_profile and sub.enterprise_id


async def test_everything_is_skippable_and_a_question_mid_flow_ends_it(db: Database) -> None:
    await start(db)
    replies = await press(db, encode(Kind.PERSON, "skip"))
    assert replies[0].text == "已跳过。"
    replies = await say(db, "我的订阅")
    assert "没有订阅任何政策" in replies[0].text
    sub = await subscriber(db)
    assert not sub.topics


async def test_text_intents(db: Database) -> None:
    replies = await say(db, "订阅 就业创业 光伏")
    assert "就业创业" in replies[0].text and "光伏" in replies[0].text
    sub = await subscriber(db)
    assert sub.topics == ("employment",) and sub.keywords == ("光伏",)
    replies = await say(db, "退订 就业创业")
    assert "已退订主题：就业创业" in replies[0].text
    replies = await say(db, "暂停")
    assert (await subscriber(db)).preference.paused
    await say(db, "恢复")
    assert not (await subscriber(db)).preference.paused
    await say(db, "订阅全部")
    assert (await subscriber(db)).all_topics
    replies = await say(db, "退订")
    assert "已退订全部" in replies[0].text
    sub = await subscriber(db)
    assert not sub.all_topics and not sub.keywords and sub.addresses[0].active
    replies = await say(db, "帮助")
    assert "订阅" in replies[0].text and "0954-12345" in replies[0].text


async def test_latest_and_policy_card(db: Database) -> None:
    policy = await make_published_policy(db, doc_no="泾人社发〔2026〕1号")
    await say(db, "订阅 就业创业")
    replies = await say(db, "最新")
    assert policy.title in replies[0].text and f"http://policy.test/p/{policy.id}" in replies[0].text
    replies = await press(db, replies[0].flat_buttons[0].action)
    assert "泾人社发〔2026〕1号" in replies[0].text and "有效" in replies[0].text
    replies = await press(db, encode(Kind.OPEN, 999999))
    assert "不存在" in replies[0].text


async def test_question_is_answered_with_its_policy(db: Database) -> None:
    policy = await make_published_policy(db, doc_no="泾人社发〔2026〕1号")
    replies = await say(db, "一次性创业补贴多少钱")
    text = replies[0].text
    assert policy.title in text and "泾人社发〔2026〕1号" in text and "有效" in text
    assert f"/p/{policy.id}" in text
    useful = next(b for b in replies[0].flat_buttons if b.label == "👍 有用")
    answer_id = int(useful.action.split(":")[1].split(".")[0])
    replies = await press(db, useful.action)
    assert "感谢" in replies[0].text
    async with db.reader() as session:
        assert await qa.answer_feedback(session, answer_id) is True
    replies = await say(db, "宠物医院营业执照年检流程")
    assert "0954-12345" in replies[0].text and "已记录" in replies[0].text
    async with db.reader() as session:
        [unanswered] = await qa.top_unanswered(session)
    assert unanswered.text == "宠物医院营业执照年检流程" and unanswered.channels == ("web",)


async def test_numbered_options_without_buttons(db: Database) -> None:
    replies = await say(db, "订阅", buttons=False)
    assert replies[0].flat_buttons
    await say(db, "1 2", buttons=False)
    sub = await subscriber(db)
    assert len(sub.topics) == 2
    replies = await say(db, "99", buttons=False)
    assert "没有第99项" in replies[0].text


async def test_bad_input(db: Database) -> None:
    assert "没有收到文字" in (await say(db, "   "))[0].text
    assert "太长" in (await say(db, "政" * 5000))[0].text
    assert "失效" in (await press(db, "zzz:1"))[0].text
    assert "过期" in (await press(db, encode(Kind.ACK, 12345)))[0].text
    assert "过期" in (await press(db, encode(Kind.UNSUB, 12345)))[0].text


async def test_hub_invite_registers_the_enterprise_then_joins(db: Database) -> None:
    async with db.session() as session:
        hub = await subscriptions.create_hub(session, name="泾源县工业园区", kind="park", join_code="park2026")
    replies = await start(db, hub.invite_payload)
    assert "泾源县工业园区" in replies[0].text and "统一社会信用代码" in replies[0].text
    replies = await say(db, f"{credit_code()} 泾源县某某公司")
    assert any("已加入“泾源县工业园区”" in r.text for r in replies)
    async with db.reader() as session:
        members = await subscriptions.hub_members(session, hub.id)
    assert [m.name for m in members] == ["泾源县某某公司"]
    replies = await start(db, "hub-nosuchcode")
    assert "无效" in replies[0].text
