"""TelegramChannel against the fake Bot API: real aiogram client, real wire protocol."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date

import pytest
import pytest_asyncio

from push.channels.base import Button, ChannelName, MessageContext, MessageKind, PolicyItem, RenderedMessage
from push.channels.base import SendStatus as S
from push.channels.telegram import (
    ButtonError,
    TelegramChannel,
    callback_data,
    inline_keyboard,
    keyboard_wire,
    make_telegram_bot,
)
from push.ratelimit import LimiterConfig, telegram_limiter
from push.render import Renderer
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "42:TEST-token_abc"
RENDERER = Renderer(today=lambda: date(2026, 3, 2))  # one instance: templates compile once


@pytest_asyncio.fixture
async def channel(fake_telegram: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    adapter = TelegramChannel(
        make_telegram_bot(TOKEN, fake_telegram.base_url), telegram_limiter(LimiterConfig.unlimited().telegram)
    )
    yield adapter
    await adapter.close()


def rendered(
    chat_id: int | str, *, hub: bool = False, title: str = "关于支持中小企业发展的若干措施"
) -> RenderedMessage:
    item = PolicyItem(
        policy_id=123456789,
        title=title,
        doc_no="某政发〔2026〕3号",
        agency="县人民政府",
        validity_label="有效",
        who_qualifies="中小微企业",
        benefits="最高补贴50万元",
        application_closes=date(2026, 3, 12),
        link="http://127.0.0.1:8080/r/abc.def",
    )
    context = MessageContext(
        MessageKind.PUBLISHED, (item,), reasons=("您订阅了“科技创新”",), is_hub=hub, delivery_id=2**62
    )
    return RENDERER.render(ChannelName.TELEGRAM, context, str(chat_id))


def sends(tg: FakeTelegram) -> list:  # type: ignore[type-arg]
    return [call for call in tg.calls if call.method.lower() == "sendmessage"]


async def test_sends_html_with_buttons_and_no_preview(fake_telegram: FakeTelegram, channel: TelegramChannel) -> None:
    nasty = "<script>alert(1)</script> R&D & <b>企业</b>"
    result = await channel.send(rendered(1001, hub=True, title=nasty))
    assert result.status == S.SENT and result.provider_message_id
    (call,) = sends(fake_telegram)
    assert call.status == 200, call.result  # the fake parses HTML like Telegram does
    assert call.params["chat_id"] == 1001 and call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"]["is_disabled"] is True
    assert nasty in call.result["text"]
    rows = call.params["reply_markup"]["inline_keyboard"]
    keys = [key for row in rows for key in row]
    assert [k["text"] for k in keys] == ["查看解读", "我要咨询", "确认收到", "转发给会员", "退订此类"]
    assert keys[0]["url"] == "http://127.0.0.1:8080/r/abc.def#interpretation"
    datas = [k["callback_data"] for k in keys[1:]]
    assert datas == [f"ask:{123456789}", f"ack:{2**62}", f"fwd:{2**62}", f"uns:{2**62}"]
    assert all(len(d.encode()) <= 64 and d.isascii() for d in datas)


def test_callback_data_over_64_bytes_is_refused() -> None:
    assert callback_data(Button("确认收到", "ack", "9" * 60)) == "ack:" + "9" * 60
    with pytest.raises(ValueError, match="64"):
        callback_data(Button("确认收到", "ack", "9" * 61))


async def test_too_long_button_payload_fails_without_calling_telegram(
    fake_telegram: FakeTelegram, channel: TelegramChannel
) -> None:
    message = RenderedMessage(ChannelName.TELEGRAM, "1", "hi", buttons=(Button("x", "ack", "1" * 100),))
    result = await channel.send(message)
    assert result.status == S.FAILED and "64" in result.error
    assert sends(fake_telegram) == []


@pytest.mark.parametrize(
    "fault",
    [
        lambda tg: tg.block_chat(1001),
        lambda tg: tg.block_chat(1001, "Forbidden: user is deactivated"),
        lambda tg: tg.block_chat(1001, "Forbidden: bot can't initiate conversation with a user"),
        lambda tg: tg.block_chat(-1001, "Forbidden: bot was kicked from the group chat"),
        lambda tg: tg.forget_chat(1001),
    ],
)
async def test_gone_addresses_are_permanent(fake_telegram: FakeTelegram, channel: TelegramChannel, fault) -> None:  # type: ignore[no-untyped-def]
    fault(fake_telegram)
    chat = -1001 if fake_telegram._blocked.get(-1001) else 1001
    result = await channel.send(rendered(chat))
    assert result.status == S.PERMANENT and result.error


async def test_migrated_group_is_retried_at_the_new_id(fake_telegram: FakeTelegram, channel: TelegramChannel) -> None:
    fake_telegram.migrate_chat(-555, -1001234567890)
    result = await channel.send(rendered(-555))
    assert result.status == S.RETRY and result.new_address == "-1001234567890"
    again = await channel.send(rendered(result.new_address))
    assert again.status == S.SENT


async def test_429_retries_after_and_pauses_the_whole_bot(fake_telegram: FakeTelegram) -> None:
    limiter = telegram_limiter()
    adapter = TelegramChannel(make_telegram_bot(TOKEN, fake_telegram.base_url), limiter)
    try:
        fake_telegram.inject(status=429, retry_after=7)
        before = limiter.now()
        result = await adapter.send(rendered(1))
        assert result.status == S.RETRY and result.retry_after == 7.0
        assert limiter.paused_until >= before + 7.0  # every chat waits, not just chat 1
    finally:
        await adapter.close()


@pytest.mark.parametrize(
    ("inject", "status"),
    [
        ({"status": 500}, S.RETRY),
        ({"status": 502, "raw_body": "<html><body>502 Bad Gateway</body></html>"}, S.RETRY),
        ({"status": 400, "description": "Bad Request: message is too long"}, S.FAILED),
        ({"status": 400, "description": "Bad Request: can't parse entities: unexpected end tag"}, S.FAILED),
        ({"status": 400, "description": "Bad Request: chat not found"}, S.PERMANENT),
        # A 200 the adapter cannot read (a proxy's page): aiogram's check_response decides, a retry.
        ({"status": 200, "raw_body": "<html><body>OK</body></html>"}, S.RETRY),
        ({"status": 403, "description": "Forbidden: bot was blocked by the user"}, S.PERMANENT),
    ],
)
async def test_error_mapping(fake_telegram: FakeTelegram, channel: TelegramChannel, inject: dict, status: str) -> None:  # type: ignore[type-arg]
    fake_telegram.inject(**inject)
    result = await channel.send(rendered(1))
    assert result.status == status
    if status == S.FAILED:
        assert inject["description"] in result.error


async def test_slow_answer_is_a_retry(fake_telegram: FakeTelegram) -> None:
    adapter = TelegramChannel(
        make_telegram_bot(TOKEN, fake_telegram.base_url),
        telegram_limiter(LimiterConfig.unlimited().telegram),
        timeout=0.2,
    )
    try:
        fake_telegram.delay(1.0)
        result = await adapter.send(rendered(1))
        assert result.status == S.RETRY
    finally:
        await adapter.close()


async def test_network_error_is_a_retry() -> None:
    adapter = TelegramChannel(make_telegram_bot(TOKEN, "http://127.0.0.1:9"), telegram_limiter())
    try:
        result = await adapter.send(rendered(1))
        assert result.status == S.RETRY
    finally:
        await adapter.close()


async def test_default_limits_keep_the_fake_free_of_429(fake_telegram: FakeTelegram) -> None:
    """90 messages to 30 chats at once: never more than 30 in a second, nor 2 to a chat in a second."""
    fake_telegram.enforce_limits()
    adapter = TelegramChannel(make_telegram_bot(TOKEN, fake_telegram.base_url), telegram_limiter())
    try:
        chats = [1000 + n for n in range(29)] + [-100777]
        messages = [rendered(chat) for chat in chats for _ in range(3)]
        results = await asyncio.gather(*(adapter.send(m) for m in messages))
    finally:
        await adapter.close()
    assert [r.status for r in results] == [S.SENT] * 90
    assert fake_telegram.rate_violations == []
    calls = sends(fake_telegram)
    assert len(calls) == 90 and all(c.status == 200 for c in calls)
    times = sorted(c.at for c in calls)
    assert max(sum(1 for u in times if t - 1.0 < u <= t) for t in times) <= 30
    per_chat: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        per_chat[call.params["chat_id"]].append(call.at)
    for chat_times in per_chat.values():
        chat_times.sort()
        assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(chat_times))


def test_inline_keyboard_serialises_like_validated_models() -> None:
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    buttons = (
        Button("查看解读", "url", "https://pd.example/r/abc#interpretation"),
        Button("我要咨询", "ask", "7"),
        Button("确认收到", "ack", "42"),
    )
    built = inline_keyboard(buttons)
    validated = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text="查看解读", url="https://pd.example/r/abc#interpretation"),
         InlineKeyboardButton(text="我要咨询", callback_data="ask:7")],
        [InlineKeyboardButton(text="确认收到", callback_data="ack:42")],
    ])
    assert built is not None
    assert built.model_dump(warnings=False) == validated.model_dump(warnings=False)
    assert inline_keyboard(()) is None
    with pytest.raises(ButtonError):
        inline_keyboard((Button("转发", "share", "1"),))  # not an action the bot handles


def test_keyboard_wire_is_what_aiogram_would_send() -> None:
    """The adapter posts the keyboard as plain JSON; it must be aiogram's own serialisation."""
    buttons = (
        Button("查看解读", "url", "https://pd.example/r/abc#interpretation"),
        Button("我要咨询", "ask", "7"),
        Button("确认收到", "ack", "42"),
        Button("退订此类", "unsub", "42"),
        Button("转发给会员", "forward", "42"),
    )
    built = inline_keyboard(buttons)
    assert built is not None
    assert keyboard_wire(buttons) == built.model_dump(warnings=False, exclude_none=True)
    assert keyboard_wire(()) is None
    with pytest.raises(ButtonError):
        keyboard_wire((Button("转发", "share", "1"),))
