"""WeCom group robot against its fake, the web inbox adapter, and the channel registry."""

from __future__ import annotations

from datetime import date

import pytest

from core.settings import Settings
from push.channels.base import ChannelName, MessageContext, MessageKind, PolicyItem, RenderedMessage
from push.channels.base import SendStatus as S
from push.channels.registry import build_channels, close_all
from push.channels.telegram import TelegramChannel
from push.channels.web_inbox import WebInboxChannel
from push.channels.wechat import WeChatChannel
from push.channels.wecom_robot import WeComRobotChannel
from push.ratelimit import LimiterConfig, WeComRobotLimits, wecom_robot_limiter
from push.render import Renderer
from tests.fakes.wecom_robot import FakeWeComRobot

RENDERER = Renderer(today=lambda: date(2026, 3, 2))
SECRET_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def rendered(channel: str, address: str, benefits: str = "最高补贴50万元") -> RenderedMessage:
    item = PolicyItem(
        policy_id=5,
        title="关于支持中小企业发展的若干措施",
        doc_no="某政发〔2026〕3号",
        agency="县人民政府",
        validity_label="有效",
        who_qualifies="中小微企业",
        benefits=benefits,
        application_closes=date(2026, 3, 12),
        link="http://127.0.0.1:8080/r/abc.def",
    )
    context = MessageContext(MessageKind.RELAY, (item,), reasons=("贵企业是园区会员",), relayed_by="经开区")
    return RENDERER.render(channel, context, address)


def robot(fake: FakeWeComRobot, per_minute: int = 0) -> WeComRobotChannel:
    return WeComRobotChannel(
        f"{fake.base_url}/cgi-bin/webhook/send?key=", wecom_robot_limiter(WeComRobotLimits(per_minute))
    )


async def test_markdown_to_a_key_or_a_full_url(fake_wecom: FakeWeComRobot) -> None:
    full_url = fake_wecom.webhook_url("group-a")
    fake_wecom.webhook_url("group-b")
    adapter = robot(fake_wecom)
    try:
        by_url = await adapter.send(rendered(ChannelName.WECOM_ROBOT, full_url))
        by_key = await adapter.send(rendered(ChannelName.WECOM_ROBOT, "group-b"))
    finally:
        await adapter.close()
    assert by_url.status == S.SENT and by_key.status == S.SENT
    (message,) = fake_wecom.messages("group-a")
    assert message["msgtype"] == "markdown" and "经开区" in message["markdown"]["content"]
    assert len(fake_wecom.messages("group-b")) == 1


async def test_huge_policy_fits_the_robot_limit(fake_wecom: FakeWeComRobot) -> None:
    fake_wecom.webhook_url("g")
    adapter = robot(fake_wecom)
    try:
        result = await adapter.send(rendered(ChannelName.WECOM_ROBOT, "g", benefits="补贴" * 5000))
    finally:
        await adapter.close()
    assert result.status == S.SENT  # the fake answers 40058 above 4,096 bytes


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        (lambda r: r.remove_key(SECRET_KEY), S.PERMANENT),
        (lambda r: r.inject(45009), S.RETRY),
        (lambda r: r.inject(-1), S.RETRY),
        (lambda r: r.inject(-1, http_status=502), S.RETRY),
        (lambda r: r.inject(40058), S.FAILED),
    ],
)
async def test_robot_error_mapping(fake_wecom: FakeWeComRobot, setup, status: str) -> None:  # type: ignore[no-untyped-def]
    fake_wecom.webhook_url(SECRET_KEY)
    setup(fake_wecom)
    adapter = robot(fake_wecom)
    try:
        result = await adapter.send(rendered(ChannelName.WECOM_ROBOT, SECRET_KEY))
    finally:
        await adapter.close()
    assert result.status == status
    assert SECRET_KEY not in result.error  # anyone holding the key can post to the group


async def test_robot_reuses_one_http_session(fake_wecom: FakeWeComRobot) -> None:
    fake_wecom.webhook_url("g")
    adapter = robot(fake_wecom)
    try:
        await adapter.send(rendered(ChannelName.WECOM_ROBOT, "g"))
        session = adapter._client()
        await adapter.send(rendered(ChannelName.WECOM_ROBOT, "g"))
        assert adapter._client() is session
    finally:
        await adapter.close()


async def test_web_stores_through_the_callback() -> None:
    stored: list[tuple[str, RenderedMessage]] = []

    async def store(address: str, message: RenderedMessage) -> str:
        stored.append((address, message))
        return "inbox-42"

    message = rendered(ChannelName.WEB, "subscriber-7")
    result = await WebInboxChannel(store).send(message)
    assert result.status == S.SENT and result.provider_message_id == "inbox-42"
    assert stored == [("subscriber-7", message)]
    assert message.title.startswith("政策转达：") and message.url.endswith("/r/abc.def")


async def test_web_store_failure_is_not_a_send() -> None:
    async def broken(address: str, message: RenderedMessage) -> str:
        raise ConnectionError("database is locked")

    result = await WebInboxChannel(broken).send(rendered(ChannelName.WEB, "s"))
    assert result.status == S.RETRY and "database is locked" in result.error


async def test_registry_builds_what_the_settings_enable() -> None:
    bare = build_channels(Settings(_env_file=None), LimiterConfig())
    assert set(bare) == {ChannelName.WECOM_ROBOT, ChannelName.WEB}
    unconfigured_web = await bare[ChannelName.WEB].send(rendered(ChannelName.WEB, "s"))
    assert unconfigured_web.status == S.FAILED and "web_store" in unconfigured_web.error
    await close_all(bare)

    full = build_channels(
        Settings(
            _env_file=None,
            telegram_bot_token="42:TEST",
            telegram_api_base="http://127.0.0.1:9",
            wechat_app_id="wx1",
            wechat_app_secret="s",
            wechat_api_base="http://127.0.0.1:9/cgi-bin/",
        ),
        LimiterConfig.unlimited(),
    )
    assert isinstance(full[ChannelName.TELEGRAM], TelegramChannel)
    assert isinstance(full[ChannelName.WECHAT], WeChatChannel)
    assert isinstance(full[ChannelName.WECOM_ROBOT], WeComRobotChannel)
    assert isinstance(full[ChannelName.WEB], WebInboxChannel)
    assert all(adapter.name == name for name, adapter in full.items())
    await close_all(full)
