"""WeChatChannel against the fake 公众号 API with the real wechatpy client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import pytest_asyncio

from push.channels.base import ChannelName, MessageContext, MessageKind, PolicyItem, RenderedMessage
from push.channels.base import SendStatus as S
from push.channels.wechat import WeChatChannel
from push.ratelimit import DailyQuota, LimiterConfig, wechat_limiter
from push.render import Renderer
from tests.fakes.wechat_api import DEFAULT_APPID, DEFAULT_SECRET, FakeWeChat

RENDERER = Renderer(today=lambda: date(2026, 3, 2))
OPENID = "oFAKE_user_0001"


def rendered(openid: str = OPENID) -> RenderedMessage:
    item = PolicyItem(
        policy_id=5,
        title="关于支持<中小企业>发展的若干措施",
        doc_no="某政发〔2026〕3号",
        agency="县人民政府",
        validity_label="有效",
        who_qualifies="中小微企业",
        benefits="最高补贴50万元",
        application_closes=date(2026, 3, 12),
        link="http://127.0.0.1:8080/r/abc.def",
    )
    context = MessageContext(MessageKind.PUBLISHED, (item,), reasons=("您订阅了“科技创新”",), delivery_id=9)
    return RENDERER.render(ChannelName.WECHAT, context, openid)


def make_channel(wx: FakeWeChat, template_id: str | None = None, quota: DailyQuota | None = None) -> WeChatChannel:
    return WeChatChannel(
        DEFAULT_APPID,
        DEFAULT_SECRET,
        wx.api_base,
        template_id,
        wechat_limiter(LimiterConfig.unlimited().wechat),
        daily_quota=quota or DailyQuota(0),
    )


@pytest_asyncio.fixture
async def channel(fake_wechat: FakeWeChat) -> AsyncIterator[WeChatChannel]:
    adapter = make_channel(fake_wechat)
    yield adapter
    await adapter.close()


async def test_customer_service_text(fake_wechat: FakeWeChat, channel: WeChatChannel) -> None:
    message = rendered()
    result = await channel.send(message)
    assert result.status == S.SENT
    (sent,) = fake_wechat.sent_custom_messages(OPENID)
    assert sent["msgtype"] == "text" and sent["text"]["content"] == message.text
    assert "＜中小企业＞" in sent["text"]["content"]
    assert len(fake_wechat.calls_to("token")) == 1


async def test_token_is_cached_between_sends(fake_wechat: FakeWeChat, channel: WeChatChannel) -> None:
    for _ in range(3):
        assert (await channel.send(rendered())).status == S.SENT
    assert len(fake_wechat.calls_to("token")) == 1


async def test_template_message_when_a_template_id_is_configured(fake_wechat: FakeWeChat) -> None:
    adapter = make_channel(fake_wechat, template_id="TPL-policy-notice")
    try:
        result = await adapter.send(rendered())
    finally:
        await adapter.close()
    assert result.status == S.SENT and result.provider_message_id
    (sent,) = fake_wechat.sent_templates(OPENID)
    assert sent["template_id"] == "TPL-policy-notice"
    assert sent["url"] == "http://127.0.0.1:8080/r/abc.def"
    assert sent["data"]["keyword2"] == {"value": "县人民政府"}
    assert all(len(v["value"]) <= 20 for k, v in sent["data"].items() if k.startswith("keyword"))
    assert fake_wechat.sent_custom_messages() == []


async def test_expired_token_is_refreshed_once(fake_wechat: FakeWeChat, channel: WeChatChannel) -> None:
    assert (await channel.send(rendered())).status == S.SENT
    fake_wechat.expire_tokens()
    assert (await channel.send(rendered())).status == S.SENT
    assert len(fake_wechat.calls_to("token")) == 2
    assert len(fake_wechat.sent_custom_messages()) == 2


async def test_token_error_after_the_retry_is_a_retry(fake_wechat: FakeWeChat, channel: WeChatChannel) -> None:
    fake_wechat.inject(errcode=40001, times=5, path_suffix="message/custom/send")
    result = await channel.send(rendered())
    assert result.status == S.RETRY and "40001" in result.error
    # one send, one refresh, one retry: wechatpy's own unbounded retry loop is off
    assert len(fake_wechat.calls_to("message/custom/send")) == 2


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        (lambda wx: wx.unsubscribe(OPENID), S.PERMANENT),
        (lambda wx: wx.inject(errcode=40003), S.PERMANENT),
        (lambda wx: wx.inject(errcode=45009), S.RETRY),
        (lambda wx: wx.inject(errcode=-1), S.RETRY),
        (lambda wx: wx.inject(errcode=-1, http_status=502), S.RETRY),
        (lambda wx: wx.inject(errcode=47001), S.FAILED),
    ],
)
async def test_errcode_mapping(fake_wechat: FakeWeChat, channel: WeChatChannel, setup, status: str) -> None:  # type: ignore[no-untyped-def]
    setup(fake_wechat)
    result = await channel.send(rendered())
    assert result.status == status, result


async def test_closed_48_hour_window_fails_with_a_readable_reason(
    fake_wechat: FakeWeChat, channel: WeChatChannel
) -> None:
    fake_wechat.close_window(OPENID)
    result = await channel.send(rendered())
    assert result.status == S.FAILED
    assert "48小时" in result.error and "45015" in result.error


async def test_network_error_is_a_retry() -> None:
    adapter = WeChatChannel(DEFAULT_APPID, DEFAULT_SECRET, "http://127.0.0.1:9/cgi-bin/", daily_quota=DailyQuota(0))
    try:
        assert (await adapter.send(rendered())).status == S.RETRY
    finally:
        await adapter.close()


async def test_daily_quota_defers_to_beijing_midnight(fake_wechat: FakeWeChat) -> None:
    at_2300_beijing = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    adapter = make_channel(fake_wechat, quota=DailyQuota(1, clock=lambda: at_2300_beijing))
    try:
        assert (await adapter.send(rendered())).status == S.SENT
        over = await adapter.send(rendered())
    finally:
        await adapter.close()
    assert over.status == S.RETRY and over.retry_after == 3600.0
    assert len(fake_wechat.sent_custom_messages()) == 1
