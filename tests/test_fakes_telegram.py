"""The fake Telegram Bot API, driven by the REAL aiogram client.

If these pass, a product test that fails against the fake is failing for a product reason.
No test asserts wall-clock durations: rate limits use a ManualClock. The other fakes are
checked in tests/test_fakes_wechat.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from tests.fakes import ManualClock
from tests.fakes.telegram_api import FakeTelegram, strip_html

TOKEN = "123456:TEST-token_ok"


def make_bot(tg: FakeTelegram, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))


@pytest_asyncio.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(fake_telegram)
    yield bot
    await bot.session.close()


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="订阅税收", callback_data="sub:tax:1")]]
    )


# ----------------------------------------------------------------------------------------------------
# Telegram: sending and parameter decoding
# ----------------------------------------------------------------------------------------------------
async def test_send_message_returns_a_real_message(bot: Bot, fake_telegram: FakeTelegram) -> None:
    sent = await bot.send_message(
        1001, "<b>新政策</b>：研发费用加计扣除 &amp; 补贴", reply_markup=keyboard(), parse_mode="HTML"
    )

    assert isinstance(sent, Message)
    assert sent.chat.id == 1001 and sent.chat.type == "private"
    assert sent.text == "新政策：研发费用加计扣除 & 补贴"  # tags stripped, entities decoded, like Telegram
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "sub:tax:1"

    [params] = fake_telegram.sent_messages(chat_id=1001)
    assert params["chat_id"] == 1001  # multipart strings decoded back to int
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "订阅税收", "callback_data": "sub:tax:1"}]]
    }  # JSON string field decoded
    assert fake_telegram.tokens_seen == {TOKEN}
    assert fake_telegram.calls[-1].token == TOKEN and fake_telegram.calls[-1].status == 200

    second = await bot.send_message(-1001234567890, "群通知")
    assert second.chat.type == "supergroup" and second.message_id > sent.message_id
    assert (await bot.send_message(-4567, "群通知")).chat.type == "group"


async def test_token_format_and_revocation(fake_telegram: FakeTelegram) -> None:
    assert fake_telegram.token_ok("42:TEST") and not fake_telegram.token_ok("not-a-token")
    bot = make_bot(fake_telegram, "777:REVOKED")
    try:
        me = await bot.get_me()
        assert me.id == 777 and me.is_bot
        fake_telegram.revoke_token("777:REVOKED")
        with pytest.raises(TelegramUnauthorizedError):
            await bot.get_me()
    finally:
        await bot.session.close()


async def test_html_is_validated_like_telegram(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(1001, "补贴 < 100 万", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Unsupported start tag"):
        await bot.send_message(1001, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1001, "政" * 4097)
    # Without parse_mode the same text is fine.
    assert (await bot.send_message(1001, "补贴 < 100 万")).text == "补贴 < 100 万"


def test_strip_html_accepts_the_documented_subset() -> None:
    text = '<a href="https://x.cn/?a=1&amp;b=2">链接</a> <i>斜</i> <code>&lt;tag&gt;</code> &#20013;'
    assert strip_html(text) == "链接 斜 <tag> 中"
    with pytest.raises(Exception, match="Unmatched end tag"):
        strip_html("<b>粗</i>")
    with pytest.raises(Exception, match="Can't find end tag"):
        strip_html("<b>粗")


async def test_edit_message_text_and_markup(bot: Bot, fake_telegram: FakeTelegram) -> None:
    sent = await bot.send_message(1001, "第一版", reply_markup=keyboard())
    edited = await bot.edit_message_text("第二版", chat_id=1001, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "第二版" and edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("第二版", chat_id=1001, message_id=sent.message_id)
    again = await bot.edit_message_reply_markup(
        chat_id=1001, message_id=sent.message_id, reply_markup=keyboard()
    )
    assert isinstance(again, Message) and again.reply_markup is not None
    assert [c.method for c in fake_telegram.calls] == [
        "sendMessage",
        "editMessageText",
        "editMessageText",
        "editMessageReplyMarkup",
    ]


async def test_commands_webhook_and_misc_methods(bot: Bot, fake_telegram: FakeTelegram) -> None:
    assert await bot.set_my_commands([BotCommand(command="start", description="开始")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []

    assert await bot.set_webhook("https://bot.example.cn/tg", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.cn/tg"
    with pytest.raises(TelegramConflictError):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""

    assert await bot.send_chat_action(1001, "typing")
    assert await bot.leave_chat(-4567)  # not emulated: generic ok/true, recorded as unknown
    assert fake_telegram.unknown_methods == ["leaveChat"]


# ----------------------------------------------------------------------------------------------------
# Telegram: faults
# ----------------------------------------------------------------------------------------------------
async def test_chat_faults_map_to_aiogram_exceptions(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.block_chat(1)
    fake_telegram.forget_chat(2)
    fake_telegram.migrate_chat(-3, -1009999999999)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1, "x")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(2, "x")
    with pytest.raises(TelegramMigrateToChat) as migrated:
        await bot.send_message(-3, "x")
    assert migrated.value.migrate_to_chat_id == -1009999999999
    assert (await bot.send_message(-1009999999999, "x")).chat.type == "supergroup"

    assert fake_telegram.sent_messages() == [{"chat_id": -1009999999999, "text": "x"}]
    assert [c.status for c in fake_telegram.calls_to("sendMessage")] == [403, 400, 400, 200]


async def test_injected_faults_are_one_shot(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.inject(retry_after=3)
    fake_telegram.inject(status=500)
    fake_telegram.inject(status=502, raw_body="<html><body>502 Bad Gateway</body></html>")
    fake_telegram.inject(status=403, description="Forbidden: user is deactivated", chat_id=5)

    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(1001, "x")
    assert retry.value.retry_after == 3
    with pytest.raises(TelegramServerError):
        await bot.send_message(1001, "x")
    with pytest.raises(ClientDecodeError):  # a real 502 is HTML, which is NOT a TelegramAPIError
        await bot.send_message(1001, "x")
    assert (await bot.send_message(1001, "x")).text == "x"  # chat 1001 unaffected by chat 5's fault
    with pytest.raises(TelegramForbiddenError, match="deactivated"):
        await bot.send_message(5, "x")
    assert (await bot.send_message(5, "x")).text == "x"  # consumed


async def test_slow_answer_times_out_the_client(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.delay(30, method="sendMessage", times=1)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1001, "x", request_timeout=1)
    assert (await bot.send_message(1001, "y")).text == "y"


async def test_enforce_limits_refuses_a_burst(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.clock = ManualClock()  # frozen time: the whole burst falls in one window
    fake_telegram.enforce_limits(per_second=30)

    results = await asyncio.gather(
        *(bot.send_message(2000 + i, "通知") for i in range(40)), return_exceptions=True
    )

    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert len(refused) == 10 and all(r.retry_after >= 1 for r in refused)
    assert sum(isinstance(r, Message) for r in results) == 30
    assert len(fake_telegram.rate_violations) == 10
    assert {v.kind for v in fake_telegram.rate_violations} == {"global"}


async def test_enforce_limits_accepts_a_paced_sender(fake_telegram: FakeTelegram, bot: Bot) -> None:
    clock = ManualClock()
    fake_telegram.clock = clock
    fake_telegram.enforce_limits()
    for i in range(40):
        await bot.send_message(2000 + i, "通知")
        clock.advance(1 / 25)  # the client paces itself at 25 msg/s
    for _ in range(3):
        await bot.send_message(3000, "同一用户")
        clock.advance(1.0)
    assert fake_telegram.rate_violations == []


async def test_enforce_limits_per_chat_and_per_group(fake_telegram: FakeTelegram, bot: Bot) -> None:
    clock = ManualClock()
    fake_telegram.clock = clock
    fake_telegram.enforce_limits()

    await bot.send_message(1001, "一")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(1001, "二")  # same private chat within a second

    for _ in range(20):
        await bot.send_message(-4567, "群")
        clock.advance(1.5)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(-4567, "第 21 条")
    assert retry.value.retry_after >= 1
    assert [v.kind for v in fake_telegram.rate_violations] == ["chat", "group"]
    clock.advance(60)
    assert (await bot.send_message(-4567, "一分钟后")).text == "一分钟后"


# ----------------------------------------------------------------------------------------------------
# Telegram: updates
# ----------------------------------------------------------------------------------------------------
def test_update_builders_validate_as_aiogram_updates(fake_telegram: FakeTelegram) -> None:
    tg = fake_telegram
    built = [
        tg.message_update(1001, "/start abc_1"),
        tg.message_update(-4567, "大家好", user_id=55),
        tg.callback_update(1001, "sub:tax:1", message_id=7),
        tg.user_update_non_text(1001, "sticker"),
        tg.user_update_non_text(1001, "voice"),
        tg.user_update_non_text(1001, "photo"),
        tg.chat_member_update(1001),
    ]
    updates = [Update.model_validate(u) for u in built]
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    start = updates[0].message
    assert start is not None and start.entities is not None
    assert start.entities[0].type == "bot_command" and start.entities[0].length == len("/start")
    assert updates[1].message is not None and updates[1].message.chat.type == "group"
    assert updates[2].callback_query is not None and updates[2].callback_query.data == "sub:tax:1"
    assert updates[3].message is not None and updates[3].message.sticker is not None
    assert updates[4].message is not None and updates[4].message.voice is not None
    assert updates[5].message is not None and updates[5].message.photo is not None
    member = updates[6].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"


async def _get_updates(
    session: aiohttp.ClientSession, tg: FakeTelegram, **params: Any
) -> list[dict[str, Any]]:
    async with session.post(f"{tg.base_url}/bot{TOKEN}/getUpdates", json=params) as resp:
        payload = await resp.json()
    assert payload["ok"], payload
    return payload["result"]


async def test_get_updates_offset_and_long_poll(fake_telegram: FakeTelegram) -> None:
    tg = fake_telegram
    first, second, third = (tg.push_update(tg.message_update(1001, t)) for t in ("一", "二", "三"))
    async with aiohttp.ClientSession() as session:
        assert [u["update_id"] for u in await _get_updates(session, tg)] == [
            first["update_id"],
            second["update_id"],
            third["update_id"],
        ]
        # offset confirms everything below it
        got = await _get_updates(session, tg, offset=second["update_id"])
        assert [u["update_id"] for u in got] == [second["update_id"], third["update_id"]]
        assert await _get_updates(session, tg, offset=third["update_id"] + 1, timeout=0) == []
        assert tg.pending_updates == []

        # A waiting long poll is answered as soon as an update is pushed.
        poll = asyncio.create_task(_get_updates(session, tg, offset=third["update_id"] + 1, timeout=30))
        await tg.wait_for(lambda calls: len([c for c in calls if c.method == "getUpdates"]) == 4)
        pushed = tg.push_update({"message": tg.message_update(1001, "四")["message"]})
        assert [u["update_id"] for u in await poll] == [pushed["update_id"]]

        # urlencoded and GET query params are understood as well
        async with session.get(f"{tg.base_url}/bot{TOKEN}/getUpdates", params={"offset": "-1"}) as resp:
            assert [u["update_id"] for u in (await resp.json())["result"]] == [pushed["update_id"]]


async def test_second_poller_gets_conflict(fake_telegram: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as session:
        first = asyncio.create_task(
            session.post(f"{fake_telegram.base_url}/bot{TOKEN}/getUpdates", json={"timeout": 30})
        )
        await fake_telegram.wait_for(lambda: fake_telegram.calls_to("getUpdates"))
        assert await _get_updates(session, fake_telegram, timeout=0) == []
        resp = await first
        assert resp.status == 409 and "terminated by other getUpdates" in (await resp.json())["description"]
        resp.release()


async def test_dispatcher_polling_answers_start_and_callback(fake_telegram: FakeTelegram) -> None:
    tg = fake_telegram
    router = Router()

    @router.message(CommandStart())
    async def on_start(message: Message) -> None:
        await message.answer("欢迎使用政策直达", reply_markup=keyboard())

    @router.callback_query(F.data == "sub:tax:1")
    async def on_subscribe(query: CallbackQuery) -> None:
        await query.answer("已订阅")
        assert query.message is not None
        await query.message.answer("已订阅：税收")

    dp = Dispatcher()
    dp.include_router(router)
    bot = make_bot(tg)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        await tg.wait_for(lambda: tg.calls_to("getUpdates"))
        tg.push_update(tg.message_update(1001, "/start"))
        [welcome] = await tg.wait_for(lambda: tg.sent_messages(chat_id=1001))
        assert welcome["text"] == "欢迎使用政策直达"
        assert welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "sub:tax:1"

        message_id = tg.calls_to("sendMessage")[0].result["message_id"]
        tg.push_update(tg.callback_update(1001, "sub:tax:1", message_id=message_id))
        await tg.wait_for(lambda: len(tg.sent_messages(chat_id=1001)) == 2)
        [answer] = tg.calls_to("answerCallbackQuery")
        assert answer.params["text"] == "已订阅"
        # aiogram confirms handled updates with the next offset
        await tg.wait_for(lambda: not tg.pending_updates)
        assert sorted(tg.calls_to("getUpdates")[0].params["allowed_updates"]) == ["callback_query", "message"]
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, timeout=10)
    assert bot.session._session is None or bot.session._session.closed  # close_bot_session=True
