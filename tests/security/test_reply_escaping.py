"""Text that reaches a platform cannot break its framing: a "]]>" in a WeChat reply never
closes the CDATA section, and long Telegram replies are split before HTML escaping, so no
piece ends inside an entity and the real aiogram client gets every piece accepted."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy import parse_message

from bot.dialogue.replies import Reply
from bot.telegram.render import MAX_UTF16, escaped_pieces, send, utf16_len
from bot.wechat.render import passive_reply_xml
from core.db import Database
from push.channels.telegram import make_telegram_bot
from tests.bot.test_wechat import WeChat
from tests.bot.test_wechat import wechat as wechat  # the fixture, re-exported
from tests.factories import make_published_policy
from tests.fakes import wechat_callbacks as cb
from tests.fakes.telegram_api import FakeTelegram

HOSTILE_TEXTS = [
    "答复]]><MsgType><![CDATA[news]]></MsgType><Content>伪造",
    "a]]>b]]>c",
    "]]>",
    "<![CDATA[ 嵌套 ]]> ]]]]>",
    "控制字符\x00\x08\x0b\x1f也不会破坏 XML",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_wechat_reply_content_survives_cdata_breakers(text: str) -> None:
    incoming = parse_message(cb.text_message_xml(from_user="o_x", content="你好"))
    xml = passive_reply_xml(incoming, text)
    root = ET.fromstring(xml)  # well-formed
    assert [child.tag for child in root].count("MsgType") == 1 and root.findtext("MsgType") == "text"
    expected = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
    assert root.findtext("Content") == expected


async def test_a_policy_title_with_cdata_breakers_is_answered_intact(wechat: WeChat, db: Database) -> None:
    title = "关于]]><MsgType>news</MsgType>创业补贴的通知"
    await make_published_policy(db, title=title)
    response = await wechat.post(cb.text_message_xml(from_user="o_title", content="创业补贴"))
    assert response.status_code == 200
    root = ET.fromstring(response.text)
    assert root.findtext("MsgType") == "text" and title in (root.findtext("Content") or "")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(["&", "<", ">", "a", "政", "\n", "😀", " "]), min_size=1, max_size=12000),
       st.integers(16, MAX_UTF16))
def test_split_pieces_fit_and_never_cut_an_entity(text: str, limit: int) -> None:
    pieces = escaped_pieces(text, limit)
    for piece in pieces:
        assert utf16_len(piece) <= limit
        assert html.escape(html.unescape(piece), quote=False) == piece  # whole entities only
    rebuilt = "".join(html.unescape(p) for p in pieces)
    assert rebuilt.replace("\n", "") == text.replace("\n", "")


async def test_long_replies_full_of_markup_reach_telegram(fake_telegram: FakeTelegram) -> None:
    bot = make_telegram_bot("123:ESCAPE", fake_telegram.base_url)
    try:
        texts = [
            ("&" * 3000) + ("<b>" * 700) + "结尾",  # every escape just at the cut
            "政策<>&" * 2000,
            ("x" * 4090 + "&&&&\n") * 3,
        ]
        for n, text in enumerate(texts):
            await send(bot, 9100 + n, Reply(text))
            received = fake_telegram.sent_messages(9100 + n)
            assert len(received) >= 2
            visible = html.unescape("".join(m["text"] for m in received))  # the fake keeps what was sent
            assert visible.replace("\n", "") == text.replace("\n", "")
    finally:
        await bot.session.close()
