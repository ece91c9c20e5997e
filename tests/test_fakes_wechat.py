"""The fakes of WeChat (公众号 API, callbacks) and the WeCom group robot, driven by the REAL
clients (wechatpy, aiohttp).

If these pass, a product test that fails against a fake is failing for a product reason.
No test asserts wall-clock durations: rate limits use a ManualClock.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException
from wechatpy.replies import create_reply
from wechatpy.utils import check_signature

from tests.fakes import ManualClock
from tests.fakes import wechat_callbacks as cb
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.wechat_api import FakeWeChat, wechatpy_client
from tests.fakes.wecom_robot import FakeWeComRobot


# ----------------------------------------------------------------------------------------------------
# WeChat official account via the real wechatpy client
# ----------------------------------------------------------------------------------------------------
async def test_wechatpy_sends_through_the_fake_and_refreshes_tokens(fake_wechat: FakeWeChat) -> None:
    wx = fake_wechat
    client = wechatpy_client(wx)

    result = await asyncio.to_thread(client.message.send_text, "o_user_1", "您订阅的政策已更新")
    assert result == {"errcode": 0, "errmsg": "ok"}
    assert wx.sent_custom_messages("o_user_1") == [
        {"touser": "o_user_1", "msgtype": "text", "text": {"content": "您订阅的政策已更新"}}
    ]
    assert [c.path for c in wx.calls] == ["token", "message/custom/send"]

    wx.expire_tokens()
    await asyncio.to_thread(client.message.send_text, "o_user_1", "第二条")
    assert [(c.path, c.errcode) for c in wx.calls[2:]] == [
        ("message/custom/send", 40001),
        ("token", 0),
        ("message/custom/send", 0),
    ]
    assert len(wx.tokens_issued) == 2

    wx.inject(path_suffix="message/custom/send", errcode=42001)  # expired: wechatpy retries too
    await asyncio.to_thread(client.message.send_text, "o_user_1", "第三条")
    assert len(wx.sent_custom_messages()) == 3


async def test_wechatpy_errors(fake_wechat: FakeWeChat) -> None:
    wx = fake_wechat
    client = wechatpy_client(wx)

    wx.inject(errcode=45015, openid="o_quiet")
    with pytest.raises(WeChatClientException) as closed:
        await asyncio.to_thread(client.message.send_text, "o_quiet", "x")
    assert closed.value.errcode == 45015
    assert closed.value.errmsg == "response out of time limit or subscription is canceled"

    wx.unsubscribe("o_gone")
    with pytest.raises(WeChatClientException) as gone:
        await asyncio.to_thread(client.message.send_text, "o_gone", "x")
    assert gone.value.errcode == 43004
    info = await asyncio.to_thread(client.user.get, "o_gone")
    assert info["subscribe"] == 0

    wx.close_window("o_old")
    with pytest.raises(WeChatClientException, match="45015"):
        await asyncio.to_thread(client.message.send_text, "o_old", "x")

    wx.inject(path_suffix="message/custom/send", http_status=502)
    with pytest.raises(WeChatClientException) as http_error:
        await asyncio.to_thread(client.message.send_text, "o_user", "x")
    assert http_error.value.errcode is None

    bad = wechatpy_client(wx, secret="wrong")
    with pytest.raises(WeChatClientException) as secret_error:
        await asyncio.to_thread(bad.message.send_text, "o_user", "x")
    assert secret_error.value.errcode == 40125


async def test_wechatpy_template_menu_user_and_stable_token(fake_wechat: FakeWeChat) -> None:
    wx = fake_wechat
    client = wechatpy_client(wx)
    sent = await asyncio.to_thread(
        client.message.send_template,
        "o_user",
        "TPL_POLICY",
        {"first": {"value": "新政策"}, "keyword1": {"value": "研发费用加计扣除"}},
        url="https://gov.example.cn/p/1",
    )
    assert sent["errcode"] == 0 and isinstance(sent["msgid"], int)
    assert wx.sent_templates("o_user")[0]["data"]["keyword1"]["value"] == "研发费用加计扣除"

    assert await asyncio.to_thread(client.menu.get) is None  # wechatpy maps 46003 "menu no exist" to None
    assert wx.calls[-1].errcode == 46003
    menu = {"button": [{"type": "click", "name": "我的订阅", "key": "MY_SUBS"}]}
    await asyncio.to_thread(client.menu.create, menu)
    assert (await asyncio.to_thread(client.menu.get))["menu"] == menu

    info = await asyncio.to_thread(client.user.get, "o_user")
    assert info["subscribe"] == 1 and info["openid"] == "o_user"

    async with aiohttp.ClientSession() as session:
        body = {"grant_type": "client_credential", "appid": wx.appid, "secret": wx.secret}
        async with session.post(f"{wx.api_base}stable_token", json=body) as resp:
            first = await resp.json()
        async with session.post(f"{wx.api_base}stable_token", json=body) as resp:
            assert (await resp.json())["access_token"] == first["access_token"]
        async with session.post(f"{wx.api_base}stable_token", json={**body, "force_refresh": True}) as resp:
            assert (await resp.json())["access_token"] != first["access_token"]
        async with session.post(
            f"{wx.api_base}message/custom/send", params={"access_token": "nope"}, json={}
        ) as resp:
            assert (await resp.json())["errcode"] == 40001


# ----------------------------------------------------------------------------------------------------
# WeCom group robot
# ----------------------------------------------------------------------------------------------------
async def _robot_post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
        assert resp.status == 200
        return await resp.json()


async def test_wecom_robot(fake_wecom: FakeWeComRobot) -> None:
    url = fake_wecom.webhook_url("k1")
    markdown = {"msgtype": "markdown", "markdown": {"content": "## 新政策\n> 研发费用加计扣除"}}
    assert await _robot_post(url, markdown) == {"errcode": 0, "errmsg": "ok"}
    assert await _robot_post(
        url, {"msgtype": "text", "text": {"content": "提醒", "mentioned_list": ["@all"]}}
    ) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert fake_wecom.messages("k1")[0] == markdown

    unknown = await _robot_post(url.replace("k1", "nope"), markdown)
    assert unknown["errcode"] == 93000 and unknown["errmsg"].startswith("invalid webhook url")

    exactly = "政" * (4096 // 3) + "a" * (4096 % 3)  # 4096 UTF-8 bytes
    assert (await _robot_post(url, {"msgtype": "markdown", "markdown": {"content": exactly}}))["errcode"] == 0
    too_long = {"msgtype": "markdown", "markdown": {"content": exactly + "a"}}
    assert (await _robot_post(url, too_long))["errcode"] == 40058
    assert (await _robot_post(url, {"msgtype": "text", "text": {"content": "a" * 2049}}))["errcode"] == 40058
    assert (await _robot_post(url, {"msgtype": "bogus"}))["errcode"] == 40008

    fake_wecom.inject(errcode=-1)
    assert (await _robot_post(url, markdown))["errcode"] == -1
    assert (await _robot_post(url, markdown))["errcode"] == 0


async def test_wecom_robot_rate_limit(fake_wecom: FakeWeComRobot) -> None:
    clock = ManualClock()
    fake_wecom.clock = clock
    fake_wecom.enforce_limits(per_minute=20)
    url = fake_wecom.webhook_url("k1")
    body = {"msgtype": "text", "text": {"content": "x"}}
    codes = [(await _robot_post(url, body))["errcode"] for _ in range(21)]
    assert codes == [0] * 20 + [45009]
    clock.advance(61)
    assert (await _robot_post(url, body))["errcode"] == 0


# ----------------------------------------------------------------------------------------------------
# WeChat calling us: signatures and safe-mode encryption (official vectors, ecosystem.md C2)
# ----------------------------------------------------------------------------------------------------
VECTOR_TOKEN = "123456"
VECTOR_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
VECTOR_APPID = "wx49f0ab532d5d035a"


def test_signature_vector() -> None:
    assert cb.signature("test", "1410685589", "test") == "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
    assert cb.signature("test", 1410685589, "tesu") != "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
    query = cb.verification_query("tok", "echo-123")
    check_signature("tok", query["signature"], query["timestamp"], query["nonce"])  # raises if wrong
    with pytest.raises(InvalidSignatureException):
        check_signature("other", query["signature"], query["timestamp"], query["nonce"])


def test_decrypt_official_vector() -> None:
    body = (
        "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<Encrypt><![CDATA["
        "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGym"
        "zxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hI"
        "iOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEv"
        "ccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
        "]]></Encrypt>\n<AgentID><![CDATA[1]]></AgentID>\n</xml>"
    )
    query = {
        "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
        "timestamp": "1411525903",
        "nonce": "461056294",
    }
    fields = cb.xml_fields(cb.decrypt_reply(VECTOR_TOKEN, VECTOR_AES_KEY, VECTOR_APPID, body, query))
    assert fields["FromUserName"] == "messense"
    assert fields["Content"] == "test"
    assert fields["MsgId"] == "4363689963896700987"


def test_encrypt_official_vector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PrpCrypto, "get_random_string", lambda self: "1234567890123456")
    reply = (
        "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
        "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
        "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
    )
    query, body = cb.signed_post(
        VECTOR_TOKEN, reply, VECTOR_AES_KEY, VECTOR_APPID, timestamp="1411525903", nonce="461056294"
    )
    assert query["msg_signature"] == "407518b7649e86ef23978113f92d27afa9296533"
    assert query["encrypt_type"] == "aes" and query["openid"] == "wx49f0ab532d5d035a"
    assert query["signature"] == cb.signature(VECTOR_TOKEN, "1411525903", "461056294")
    assert cb.xml_fields(body)["Encrypt"].startswith(
        "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhS"
    )


def test_callback_messages_parse_with_wechatpy() -> None:
    token, key, appid = "tok", VECTOR_AES_KEY, "wx0000000000fake01"
    xml = cb.text_message_xml(
        "gh_test", "o_user_1", "研发费用加计扣除怎么申请？", msg_id=42, create_time=1700000000
    )

    query, body = cb.signed_post(token, xml)  # plain mode
    assert body == xml and query["openid"] == "o_user_1" and "encrypt_type" not in query
    check_signature(token, query["signature"], query["timestamp"], query["nonce"])

    query, body = cb.signed_post(token, xml, encrypt_aes_key=key, app_id=appid)
    assert "研发" not in body and cb.xml_fields(body)["ToUserName"] == "gh_test"
    check_signature(token, query["signature"], query["timestamp"], query["nonce"])
    crypto = WeChatCrypto(token, key, appid)
    message = parse_message(
        crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
    )
    assert message.type == "text" and message.content == "研发费用加计扣除怎么申请？"
    assert message.id == 42 and message.source == "o_user_1"

    # Our encrypted passive reply can be read back.
    reply_xml = crypto.encrypt_message(create_reply("已收到", message).render(), "123", "1700000001")
    assert cb.xml_fields(cb.decrypt_reply(token, key, appid, reply_xml))["Content"] == "已收到"
    assert cb.decrypt_reply(token, key, appid, "success") == "success"

    events = [
        parse_message(cb.event_xml("o_user_1", "subscribe", create_time=1)),
        parse_message(cb.event_xml("o_user_1", "unsubscribe")),
        parse_message(cb.event_xml("o_user_1", "CLICK", event_key="MY_SUBS")),
        parse_message(cb.event_xml("o_user_1", "subscribe", event_key="qrscene_park7")),
    ]
    assert [e.event for e in events] == ["subscribe", "unsubscribe", "click", "subscribe_scan"]
    assert events[2].key == "MY_SUBS" and events[3].scene_id == "park7"

    voice = parse_message(cb.voice_message_xml(from_user="o_user_1", recognition="补贴政策"))
    assert voice.type == "voice" and voice.recognition == "补贴政策"
    image = parse_message(cb.image_message_xml(from_user="o_user_1"))
    assert image.type == "image" and image.image


def test_callback_xml_escapes_cdata_terminator() -> None:
    xml = cb.text_message_xml(content="a]]>b")
    assert parse_message(xml).content == "a]]>b"


async def test_fixtures_serve_on_distinct_ports(
    fake_telegram: FakeTelegram, fake_wechat: FakeWeChat, fake_wecom: FakeWeComRobot
) -> None:
    ports = {fake_telegram.port, fake_wechat.port, fake_wecom.port}
    assert len(ports) == 3
    assert fake_wechat.api_base == f"http://127.0.0.1:{fake_wechat.port}/cgi-bin/"
    assert json.loads(json.dumps(fake_telegram.bot_user()))["is_bot"] is True
