"""End-to-end Telegram conversations: real-format updates through a real aiogram Dispatcher
long-polling the fake Bot API (tests/fakes/telegram_api.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from httpx import ASGITransport, AsyncClient

from bot.telegram.app import TelegramRuntime, build_telegram, run_polling
from bot.telegram.callback_data import AckCb, DialogueCb, to_callback_data
from bot.wiring import BotServices
from core.db import Database
from push.fanout import FanOut
from subscriptions import service as subscriptions
from subscriptions.views import SubscriberView
from tests.bot.helpers import credit_code, services
from tests.factories import make_published_policy
from tests.fakes.telegram_api import FakeTelegram
from tests.push.helpers import StaticAudience, deliveries, make_recipients

TOKEN = "42:TEST-token"
CHAT = 5001


@dataclass
class Chat:
    tg: FakeTelegram
    runtime: TelegramRuntime
    services: BotServices

    async def say(self, text: str, chat: int = CHAT) -> dict[str, Any]:
        """Send a text and return the last bot message once the bot has answered."""
        return await self._wait_after(lambda: self.tg.push_update(self.tg.message_update(chat, text)), chat)

    async def press(self, data: str, message_id: int, chat: int = CHAT) -> None:
        before = len(self.tg.calls_to("answerCallbackQuery"))
        self.tg.push_update(self.tg.callback_update(chat, data, message_id))
        await self.tg.wait_for(lambda: len(self.tg.calls_to("answerCallbackQuery")) > before)
        await self._settled()

    async def _wait_after(self, action: Any, chat: int) -> dict[str, Any]:
        before = len(self.tg.sent_messages(chat))
        action()
        await self.tg.wait_for(lambda: len(self.tg.sent_messages(chat)) > before)
        await self._settled()
        return self.tg.sent_messages(chat)[-1]

    async def _settled(self) -> None:
        # A turn may send several messages; wait until the update is confirmed and handled.
        await self.tg.wait_for(lambda: not self.tg.pending_updates)
        # The callback is answered before the turn's messages go out, one after another: wait
        # until the bot has been quiet for a moment (a fixed 50 ms lost the race on a busy machine).
        seen = -1
        while (count := sum(c.method != "getUpdates" for c in self.tg.calls)) != seen:
            seen = count
            await asyncio.sleep(0.3)

    def texts(self, chat: int = CHAT) -> list[str]:
        return [m["text"] for m in self.tg.sent_messages(chat)]

    def last_message_id(self, chat: int = CHAT) -> int:
        sent = [c for c in self.tg.calls_to("sendMessage") if c.params.get("chat_id") == chat and c.status == 200]
        return int(sent[-1].result["message_id"])

    def button(self, label_part: str, chat: int = CHAT) -> tuple[str, int]:
        """(callback data, message id) of the newest button whose label contains `label_part`."""
        for call in reversed([c for c in self.tg.calls if c.status == 200 and c.params.get("chat_id") == chat]):
            markup = call.params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for b in row:
                    if label_part in b["text"] and "callback_data" in b:
                        return b["callback_data"], int(call.result["message_id"])
        raise AssertionError(f"no button {label_part!r}")


@pytest_asyncio.fixture
async def chat(db: Database, fake_telegram: FakeTelegram) -> AsyncIterator[Chat]:
    s = services(db, telegram_bot_token=TOKEN, telegram_api_base=fake_telegram.base_url)
    runtime = build_telegram(s)
    assert runtime is not None
    polling = asyncio.create_task(run_polling(runtime, polling_timeout=1))
    await fake_telegram.wait_for(lambda: fake_telegram.calls_to("getUpdates"))
    try:
        yield Chat(fake_telegram, runtime, s)
    finally:
        await runtime.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)


async def subscriber_of(db: Database, chat: int = CHAT) -> SubscriberView:
    async with db.reader() as session:
        found = await subscriptions.find_address(session, "telegram", str(chat))
        assert found is not None
        return await subscriptions.get_subscriber(session, found.subscriber_id)


def test_callback_data_fits_in_64_bytes() -> None:
    longest_topic = max(("tp:" + t for t in ("social_security", "culture_tourism", "ethnic_religion")), key=len)
    for action in (longest_topic, "fb:999999999999.1", "ack:999999999999", "uns:999999999999", "m:unsuball",
                   "town:liupanshan", "who:enterprise", "p:9999999999"):
        assert len(to_callback_data(action).encode()) <= 64
    assert AckCb(delivery_id=7).pack() == "ack:7"
    assert DialogueCb(kind="tp", arg="tax").pack() == "d:tp:tax"


async def test_commands_are_registered(chat: Chat) -> None:
    [call] = chat.tg.calls_to("setMyCommands")
    assert [c["command"] for c in call.params["commands"]] == ["start", "subscribe", "my", "unsubscribe", "latest",
                                                              "help"]


async def test_onboarding_with_multi_select_edited_in_place(chat: Chat, db: Database) -> None:
    await chat.say("/start")
    assert "欢迎" in chat.texts()[0] and chat.texts()[-1] == "第1步：您是？"
    data, message_id = chat.button("居民")
    await chat.press(data, message_id)
    assert chat.texts()[-1].startswith("第2步")
    data, message_id = chat.button("泾河源镇")
    await chat.press(data, message_id)
    data, topics_message = chat.button("就业创业")
    await chat.press(data, topics_message)
    edits = chat.tg.calls_to("editMessageText")
    assert edits and edits[-1].params["message_id"] == topics_message
    labels = [b["text"] for row in edits[-1].params["reply_markup"]["inline_keyboard"] for b in row]
    assert "✅ 就业创业" in labels
    data, _ = chat.button("住房保障")
    await chat.press(data, topics_message)
    data, _ = chat.button("完成")
    await chat.press(data, topics_message)
    data, message_id = chat.button("每周汇总")
    await chat.press(data, message_id)
    assert "设置完成" in chat.texts()[-1]
    sub = await subscriber_of(db)
    assert set(sub.topics) == {"employment", "housing"} and sub.townships == ("jingheyuan",)
    assert sub.preference.frequency == "weekly" and sub.audience == "resident"


async def test_subscribe_my_unsubscribe_latest(chat: Chat, db: Database) -> None:
    policy = await make_published_policy(db, title="泾源县一次性创业补贴实施办法 <试行>")
    await chat.say("/subscribe 就业创业")
    assert "已订阅：就业创业" in chat.texts()[-1]
    await chat.say("/my")
    assert "就业创业" in chat.texts()[-1]
    last = await chat.say("/latest")
    # Department text is escaped for parse_mode=HTML (these are the params the bot sent).
    assert "《泾源县一次性创业补贴实施办法 &lt;试行&gt;》" in last["text"] and last["parse_mode"] == "HTML"
    assert f"/p/{policy.id}" in last["text"]
    await chat.say("/unsubscribe 就业创业")
    assert "已退订主题：就业创业" in chat.texts()[-1]
    await chat.say("订阅 税费优惠")
    await chat.say("/unsubscribe")
    assert "已退订全部" in chat.texts()[-1]
    sub = await subscriber_of(db)
    assert not sub.topics and sub.addresses[0].active


async def test_a_question_gets_its_policy_and_feedback_buttons(chat: Chat, db: Database) -> None:
    policy = await make_published_policy(db, doc_no="泾人社发〔2026〕3号")
    last = await chat.say("一次性创业补贴多少钱")
    assert policy.title in last["text"] and "泾人社发〔2026〕3号" in last["text"] and "有效" in last["text"]
    data, message_id = chat.button("有用")
    assert data.startswith("d:fb:")
    await chat.press(data, message_id)
    assert "感谢反馈" in chat.tg.calls_to("answerCallbackQuery")[-1].params["text"]
    last = await chat.say("宠物医院营业执照年检流程")
    assert "0954-12345" in last["text"]


async def test_acknowledging_a_pushed_policy(chat: Chat, db: Database) -> None:
    [recipient] = await make_recipients(db, 1, channel="telegram", first_chat=CHAT)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience([recipient])).run_once()
    [delivery] = await deliveries(db)
    await chat.press(f"ack:{delivery.id}", message_id=77)
    [answer] = [c for c in chat.tg.calls_to("answerCallbackQuery") if c.params.get("text")]
    assert "已确认收到" in answer.params["text"]
    [delivery] = await deliveries(db)
    assert delivery.acknowledged_at is not None
    await chat.press(f"ack:{delivery.id}", message_id=77, chat=CHAT + 1)  # someone else's push
    assert "只能确认" in chat.tg.calls_to("answerCallbackQuery")[-1].params["text"]
    await chat.say("订阅 就业创业")
    await chat.press(f"uns:{delivery.id}", message_id=77)  # 退订此类 under the pushed policy
    assert "已退订主题：就业创业" in chat.texts()[-1]
    assert (await subscriber_of(db)).topics == ()
    await chat.press("ask:999999", message_id=77)  # a policy that does not exist (stale button)
    assert "不存在" in chat.texts()[-1]
    await chat.press("garbage-data", message_id=77)
    assert "失效" in chat.texts()[-1]


async def test_hub_invite_deep_link(chat: Chat, db: Database) -> None:
    async with db.session() as session:
        hub = await subscriptions.create_hub(session, name="泾源县商贸协会", kind="association", join_code="assoc-01")
    await chat.say(f"/start {hub.invite_payload}")
    assert "泾源县商贸协会" in chat.texts()[-1]
    await chat.say(f"{credit_code()} 泾源县某某商贸有限公司")
    assert any("已加入“泾源县商贸协会”" in t for t in chat.texts())
    async with db.reader() as session:
        assert [m.name for m in await subscriptions.hub_members(session, hub.id)] == ["泾源县某某商贸有限公司"]


async def test_non_text_and_unknown_command(chat: Chat) -> None:
    chat.tg.push_update(chat.tg.user_update_non_text(CHAT, "voice"))
    await chat.tg.wait_for(lambda: chat.tg.sent_messages(CHAT))
    assert "语音" in chat.texts()[-1]
    await chat.say("/frobnicate")
    assert "没有“/frobnicate”这个命令" in chat.texts()[-1]


async def test_webhook_checks_the_secret(db: Database, fake_telegram: FakeTelegram) -> None:
    from fastapi import FastAPI

    from bot.telegram.webhook import SECRET_HEADER, webhook_router

    s = services(db, telegram_bot_token=TOKEN, telegram_api_base=fake_telegram.base_url,
                 telegram_webhook_secret="s3cret")
    runtime = build_telegram(s)
    assert runtime is not None
    app = FastAPI()
    app.include_router(webhook_router(runtime, "s3cret"))
    update = fake_telegram.message_update(CHAT, "/help")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        refused = await client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "wrong"})
        assert refused.status_code == 401
        accepted = await client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "s3cret"})
        assert accepted.status_code == 200
    [reply] = await fake_telegram.wait_for(lambda: fake_telegram.sent_messages(CHAT))
    assert "政策直达可以" in reply["text"]
    await runtime.bot.session.close()


def test_every_push_button_prefix_has_a_handler() -> None:
    from bot.telegram.callback_data import AckCb, AskCb, ForwardCb, InterpretCb, UnsubCb
    from push.channels.telegram import CALLBACK_PREFIXES

    handled = {cls.__prefix__ for cls in (AckCb, AskCb, UnsubCb, ForwardCb, InterpretCb)}
    assert set(CALLBACK_PREFIXES.values()) == handled


async def test_hub_operator_forwards_to_members_with_the_button(db: Database, fake_telegram: FakeTelegram) -> None:
    from push.relay import service as relay
    from tests.push.relay.helpers import E1_CHAT, E2_CHAT, HUB_A_CHAT, make_county, release

    county = await make_county(db)
    policy = await release(db)
    [to_hub] = await deliveries(db, policy_id=policy.id, address=str(HUB_A_CHAT))
    s = services(db, telegram_bot_token=TOKEN, telegram_api_base=fake_telegram.base_url)
    runtime = build_telegram(s)
    assert runtime is not None
    polling = asyncio.create_task(run_polling(runtime, polling_timeout=1))
    try:
        await fake_telegram.wait_for(lambda: fake_telegram.calls_to("getUpdates"))
        hub_chat = Chat(fake_telegram, runtime, s)
        await hub_chat.press(f"fwd:{to_hub.id}", message_id=5, chat=HUB_A_CHAT)
        first = [c for c in fake_telegram.calls_to("answerCallbackQuery") if c.params.get("text")][-1]
        await hub_chat.press(f"fwd:{to_hub.id}", message_id=5, chat=HUB_A_CHAT)
        second = [c for c in fake_telegram.calls_to("answerCallbackQuery") if c.params.get("text")][-1]
    finally:
        await runtime.dispatcher.stop_polling()
        await asyncio.wait_for(polling, timeout=10)
    assert "不会重复" not in first.params["text"]
    assert "不会重复" in second.params["text"]
    relayed = await deliveries(db, policy_id=policy.id, kind="relay")
    assert {d.address for d in relayed} == {str(E1_CHAT), str(E2_CHAT)}
    async with db.reader() as session:
        task = (await relay.tasks_of_hub(session, county.hub_a))[0]
    assert task.status != "open"
