"""A captured WeChat request cannot be played again: plain and safe mode requests are accepted
only within 5 minutes of their timestamp, and each (timestamp, nonce) pair only once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from sqlalchemy import func, select

from bot.models import BotInboundMessage
from bot.wechat.endpoint import REPLAY_CHANNEL
from core.clock import FixedClock
from core.db import Database
from policies.qa.models import QuestionLog
from tests.bot.test_wechat import AES_KEY, TOKEN, WeChat, _wechat
from tests.fakes import wechat_callbacks as cb
from tests.fakes.wechat_api import FakeWeChat


@pytest_asyncio.fixture
async def wechat(db: Database, fake_wechat: FakeWeChat, clock: FixedClock) -> AsyncIterator[WeChat]:
    async for w in _wechat(db, fake_wechat):
        yield w


def _signed(wechat: WeChat, xml: str, *, encrypted: bool, timestamp: int | None = None,
            nonce: str | None = None) -> tuple[dict[str, str], str]:
    return cb.signed_post(TOKEN, xml, AES_KEY if encrypted else None, wechat.wx.appid if encrypted else None,
                          timestamp=None if timestamp is None else str(timestamp), nonce=nonce)


async def _questions(db: Database) -> int:
    async with db.reader() as session:
        return int((await session.execute(select(func.count()).select_from(QuestionLog))).scalar_one())


async def test_the_same_signed_request_is_accepted_once(wechat: WeChat, db: Database) -> None:
    for n, encrypted in enumerate((False, True)):
        xml = cb.text_message_xml(from_user=f"o_replay_{n}", content="创业补贴怎么申请", msg_id=5000 + n)
        query, body = _signed(wechat, xml, encrypted=encrypted)
        first = await wechat.client.post("/wechat", params=query, content=body.encode())
        assert first.status_code == 200 and "<xml>" in first.text
        for _ in range(3):
            again = await wechat.client.post("/wechat", params=query, content=body.encode())
            assert again.status_code == 403 and "重复的请求" in again.text
        # The same message with a fresh nonce is a WeChat retry: taken, but answered only once (MsgId).
        query2, body2 = _signed(wechat, xml, encrypted=encrypted)
        retry = await wechat.client.post("/wechat", params=query2, content=body2.encode())
        assert retry.status_code == 200 and retry.text == "success"
    await wechat.endpoint.drain()
    assert await _questions(db) == 2


async def test_requests_outside_five_minutes_are_refused(wechat: WeChat, clock: FixedClock) -> None:
    at = int(clock.now().timestamp())
    for n, (offset, status) in enumerate([(-301, 403), (301, 403), (-3600 * 24, 403), (-290, 200), (290, 200)]):
        for encrypted in (False, True):
            xml = cb.text_message_xml(from_user=f"o_time_{n}", content="你好", msg_id=6000 + 2 * n + encrypted)
            query, body = _signed(wechat, xml, encrypted=encrypted, timestamp=at + offset)
            response = await wechat.client.post("/wechat", params=query, content=body.encode())
            assert response.status_code == status, (offset, encrypted, response.text)
            if status == 403:
                assert "请求已过期" in response.text
    for bad in ("", "abc", "-5", "1e9"):
        query, body = _signed(wechat, cb.text_message_xml(content="你好"), encrypted=False)
        query = {**query, "timestamp": bad, "signature": cb.signature(TOKEN, bad, query["nonce"])}
        response = await wechat.client.post("/wechat", params=query, content=body.encode())
        assert response.status_code == 403


async def test_taken_pairs_are_cleaned_up_after_the_window(wechat: WeChat, db: Database, clock: FixedClock) -> None:
    for n in range(3):
        query, body = _signed(wechat, cb.text_message_xml(content="你好", msg_id=7000 + n), encrypted=False)
        assert (await wechat.client.post("/wechat", params=query, content=body.encode())).status_code == 200

    async def pairs() -> int:
        async with db.reader() as session:
            query = select(func.count()).select_from(BotInboundMessage).where(
                BotInboundMessage.channel == REPLAY_CHANNEL)
            return int((await session.execute(query)).scalar_one())

    assert await pairs() == 3
    clock.advance(timedelta(days=2))
    query, body = _signed(wechat, cb.text_message_xml(content="你好", msg_id=7100), encrypted=False)
    assert (await wechat.client.post("/wechat", params=query, content=body.encode())).status_code == 200
    assert await pairs() == 1
    await wechat.endpoint.drain()
