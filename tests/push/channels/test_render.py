"""Rendering: every kind on every channel, escaping, size limits, buttons, template errors."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from push.channels.base import ChannelName, MessageContext, MessageKind, PolicyItem
from push.render import (
    TELEGRAM_MAX_UTF16,
    WECHAT_TEXT_MAX_BYTES,
    WECOM_MARKDOWN_MAX_BYTES,
    Renderer,
    RenderError,
    WeChatMessage,
    telegram_visible_length,
)
from tests.fakes.telegram_api import strip_html, utf16_len

TODAY = date(2026, 3, 2)
NASTY_TITLE = '关于<script>alert("x")</script>支持 R&D & <b>中小企业</b> 的若干措施 &amp;'

ITEM = PolicyItem(
    policy_id=11,
    title="关于支持中小企业高质量发展的若干措施",
    doc_no="某政发〔2026〕3号",
    agency="县人民政府",
    validity_label="有效",
    who_qualifies="在本县注册、纳税的中小微企业",
    benefits="研发费用加计扣除，最高补贴50万元",
    application_closes=date(2026, 3, 12),
    link="https://zc.example.gov.cn/r/abc.def",
    change_summary="补贴上限由30万元提高到50万元",
)
REASON = "您订阅了“科技创新”主题"
ALL_KINDS = (
    MessageKind.PUBLISHED,
    MessageKind.AMENDED,
    MessageKind.REPEALED,
    MessageKind.EXPIRED,
    MessageKind.DIGEST,
    MessageKind.REMINDER,
    MessageKind.RELAY,
)


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(today=lambda: TODAY)


def context(kind: str, *items: PolicyItem, **overrides: object) -> MessageContext:
    fields: dict[str, object] = {
        "kind": kind,
        "items": items or (ITEM,),
        "reasons": (REASON,),
        "delivery_id": 987654321,
    }
    if kind == MessageKind.RELAY:
        fields["relayed_by"] = "经开区企业服务中心"
    fields.update(overrides)
    return MessageContext(**fields)  # type: ignore[arg-type]


def visible(channel: str, text: str) -> str:
    return strip_html(text) if channel == ChannelName.TELEGRAM else text


@pytest.mark.parametrize("channel", ChannelName.ALL)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_renders_key_points_reason_and_how_to_stop(renderer: Renderer, channel: str, kind: str) -> None:
    message = renderer.render(channel, context(kind), "addr-1")
    text = visible(channel, message.text)
    assert message.channel == channel and message.address == "addr-1"
    assert ITEM.title in text and ITEM.title in message.title
    assert ITEM.doc_no in text and ITEM.agency in text and ITEM.validity_label in text
    assert REASON in text, "every message says why the reader got it"
    assert "退订" in text, "every message says how to stop it"
    assert message.url == ITEM.link
    if channel != ChannelName.TELEGRAM:  # Telegram hides the URL behind <a href>
        assert ITEM.link in text
    else:
        assert f'href="{ITEM.link}"' in message.text


@pytest.mark.parametrize("channel", ChannelName.ALL)
def test_kind_specific_wording(renderer: Renderer, channel: str) -> None:
    def text(kind: str, **kw: object) -> str:
        return visible(channel, renderer.render(channel, context(kind, **kw), "a").text)

    published = text(MessageKind.PUBLISHED)
    assert ITEM.who_qualifies in published and ITEM.benefits in published
    assert "2026年3月12日" in published
    assert ITEM.change_summary in text(MessageKind.AMENDED)
    assert "不再适用" in text(MessageKind.REPEALED)
    assert "不再适用" in text(MessageKind.EXPIRED)
    assert "还剩10天" in text(MessageKind.REMINDER)
    assert "由经开区企业服务中心转达" in text(MessageKind.RELAY).replace("*", "").replace(" ", "")
    other = replace(ITEM, policy_id=12, title="县级稳岗补贴实施细则")
    digest = visible(channel, renderer.render(channel, context(MessageKind.DIGEST, ITEM, other), "a").text)
    assert ITEM.title in digest and other.title in digest and "2项" in digest.replace(" ", "")


def test_no_reasons_still_says_why(renderer: Renderer) -> None:
    message = renderer.render(ChannelName.WECHAT, context(MessageKind.PUBLISHED, reasons=()), "o")
    assert "推送原因：您在本平台订阅了政策推送" in message.text


def test_telegram_escapes_every_supplied_string(renderer: Renderer) -> None:
    nasty = replace(
        ITEM,
        title=NASTY_TITLE,
        doc_no="<i>文号</i>",
        agency="A&B局",
        who_qualifies="<a href='x'>企业</a>",
        benefits="5 < 6 > 4",
        change_summary="&lt;",
    )
    for kind in ALL_KINDS:
        ctx = context(kind, nasty, reasons=("<b>主题</b>&",), relayed_by="<园区>&")
        message = renderer.render(ChannelName.TELEGRAM, ctx, "1")
        shown = strip_html(message.text)  # raises like Telegram on unknown tags / bare < or &
        assert NASTY_TITLE in shown
        assert "<script>" not in message.text and "<a href='x'>" not in message.text
        assert "&lt;script&gt;" in message.text
        assert "<b>主题</b>&" in shown


@pytest.mark.parametrize("channel", [ChannelName.WECHAT, ChannelName.WECOM_ROBOT])
def test_plain_channels_neutralize_markup_in_supplied_strings(renderer: Renderer, channel: str) -> None:
    message = renderer.render(channel, context(MessageKind.PUBLISHED, replace(ITEM, title=NASTY_TITLE)), "a")
    assert "<script>" not in message.text and "<b>" not in message.text
    assert "＜script＞" in message.text and "R&D" in message.text


def huge_item(index: int = 0) -> PolicyItem:
    return replace(
        ITEM,
        policy_id=index,
        title=f"{index}号" + "关于R&D<投入>的补贴" * 120,
        who_qualifies="符合条件的企业&个体户<含分支机构>；" * 900,
        benefits="😀最高补贴100万元&奖励" * 1200,  # emoji are 2 UTF-16 units each
        change_summary="修订&说明" * 800,
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_telegram_huge_policy_fits_4096_and_keeps_key_points(renderer: Renderer, kind: str) -> None:
    items = tuple(huge_item(i) for i in range(60)) if kind == MessageKind.DIGEST else (huge_item(),)
    message = renderer.render(ChannelName.TELEGRAM, context(kind, *items), "1")
    shown = strip_html(message.text)  # never cut inside a tag or an entity
    assert utf16_len(shown) <= TELEGRAM_MAX_UTF16
    assert telegram_visible_length(message.text) == utf16_len(shown)
    assert ITEM.doc_no in shown and ITEM.agency in shown and REASON in shown and "退订" in shown
    assert f'href="{ITEM.link}"' in message.text, "links to the full text"
    if kind != MessageKind.DIGEST:
        assert "2026年3月12日" in shown or kind in (MessageKind.REPEALED, MessageKind.EXPIRED)
    else:
        assert "项政策因篇幅未列出" in shown


def test_telegram_keeps_a_message_that_fits_whole(renderer: Renderer) -> None:
    long_but_fits = replace(ITEM, benefits="补" * 3000)
    shown = strip_html(renderer.render(ChannelName.TELEGRAM, context(MessageKind.PUBLISHED, long_but_fits), "1").text)
    assert "补" * 3000 in shown and "…" not in shown


def test_utf16_units_are_counted_not_code_points(renderer: Renderer) -> None:
    emoji = replace(ITEM, benefits="😀" * 2100)  # 2,100 code points but 4,200 UTF-16 units
    shown = strip_html(renderer.render(ChannelName.TELEGRAM, context(MessageKind.PUBLISHED, emoji), "1").text)
    assert utf16_len(shown) <= TELEGRAM_MAX_UTF16
    assert "…" in shown


@pytest.mark.parametrize(
    ("channel", "limit"),
    [(ChannelName.WECHAT, WECHAT_TEXT_MAX_BYTES), (ChannelName.WECOM_ROBOT, WECOM_MARKDOWN_MAX_BYTES)],
)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_byte_limited_channels_fit(renderer: Renderer, channel: str, limit: int, kind: str) -> None:
    items = tuple(huge_item(i) for i in range(40)) if kind == MessageKind.DIGEST else (huge_item(),)
    message = renderer.render(channel, context(kind, *items), "a")
    assert len(message.text.encode("utf-8")) <= limit
    assert ITEM.link in message.text and REASON in message.text


def test_wechat_template_data(renderer: Renderer) -> None:
    message = renderer.render(ChannelName.WECHAT, context(MessageKind.PUBLISHED, huge_item()), "openid")
    assert isinstance(message, WeChatMessage)
    data = message.template_data
    assert set(data) == {"first", "keyword1", "keyword2", "keyword3", "keyword4", "remark"}
    for key, value in data.items():
        assert "\n" not in value["value"]
        if key.startswith("keyword"):
            assert 0 < len(value["value"]) <= 20
    assert data["keyword4"]["value"] == "2026年3月12日"
    assert REASON in data["remark"]["value"]


def test_telegram_buttons(renderer: Renderer) -> None:
    member = renderer.render(ChannelName.TELEGRAM, context(MessageKind.PUBLISHED), "1")
    assert [b.text for b in member.buttons] == ["查看解读", "我要咨询", "确认收到", "退订此类"]
    interpret = member.buttons[0]
    assert interpret.action == "url" and interpret.value == ITEM.link + "#interpretation"
    hub = renderer.render(ChannelName.TELEGRAM, context(MessageKind.PUBLISHED, is_hub=True), "1")
    assert "转发给会员" in [b.text for b in hub.buttons]
    gone = renderer.render(ChannelName.TELEGRAM, context(MessageKind.REPEALED, is_hub=True), "1")
    assert [b.action for b in gone.buttons] == ["ask", "ack", "unsub"]
    no_link = renderer.render(ChannelName.TELEGRAM, context(MessageKind.PUBLISHED, replace(ITEM, link="")), "1")
    assert (no_link.buttons[0].action, no_link.buttons[0].value) == ("interpret", "11")
    for message in (member, hub, gone, no_link):
        for button in message.buttons:
            if button.action != "url":
                assert button.value.isascii() and len(button.value) <= 20


def test_wecom_and_wechat_have_no_buttons(renderer: Renderer) -> None:
    assert renderer.render(ChannelName.WECOM_ROBOT, context(MessageKind.PUBLISHED), "k").buttons == ()
    assert renderer.render(ChannelName.WECHAT, context(MessageKind.PUBLISHED), "k").buttons == ()


def test_web_inbox_has_title_and_url(renderer: Renderer) -> None:
    message = renderer.render(ChannelName.WEB, context(MessageKind.PUBLISHED), "inbox-1")
    assert message.title == f"新政策发布：{ITEM.title}"
    assert message.url == ITEM.link
    assert "<" not in message.text


def test_missing_field_fails_with_a_readable_error(tmp_path: Path) -> None:
    source = Path(__file__).parents[3] / "push" / "templates"
    for path in source.rglob("*.j2"):
        target = tmp_path / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text("utf-8"), "utf-8")
    (tmp_path / "telegram" / "published.j2").write_text("{{ item.subsidy_amount }}", "utf-8")
    broken = Renderer(tmp_path, today=lambda: TODAY)
    with pytest.raises(RenderError) as error:
        broken.render(ChannelName.TELEGRAM, context(MessageKind.PUBLISHED), "1")
    assert "telegram/published.j2" in str(error.value) and "subsidy_amount" in str(error.value)


def test_unknown_kind_or_channel_is_a_render_error(renderer: Renderer) -> None:
    with pytest.raises(RenderError, match="缺少消息模板"):
        renderer.render(ChannelName.TELEGRAM, context("poster"), "1")
    with pytest.raises(RenderError, match="未知的推送渠道"):
        renderer.render("fax", context(MessageKind.PUBLISHED), "1")
    with pytest.raises(RenderError):
        renderer.render(ChannelName.WEB, MessageContext(kind=MessageKind.PUBLISHED, items=()), "1")


def test_module_level_render_uses_the_packaged_templates() -> None:
    from push.render import render

    message = render(ChannelName.TELEGRAM, context(MessageKind.PUBLISHED), "5")
    assert html.escape(ITEM.title) in message.text


@pytest.mark.parametrize("channel", ChannelName.ALL)
def test_each_recipient_gets_its_own_link(renderer: Renderer, channel: str) -> None:
    first = renderer.render(channel, context(MessageKind.PUBLISHED, replace(ITEM, link="https://a/r/1.x")), "1")
    second = renderer.render(channel, context(MessageKind.PUBLISHED, replace(ITEM, link="https://a/r/2.y")), "2")
    assert "https://a/r/1.x" in first.text and "https://a/r/2.y" not in first.text
    assert "https://a/r/2.y" in second.text and "https://a/r/1.x" not in second.text
    assert "\x00" not in first.text + second.text


def test_long_real_links_are_fitted_for_real(renderer: Renderer) -> None:
    """The cached rendering uses short placeholders; a long link must still respect the limit."""
    items = tuple(replace(ITEM, policy_id=i, link="https://a/r/" + "x" * 1500) for i in range(3))
    message = renderer.render(ChannelName.WECHAT, context(MessageKind.DIGEST, *items), "o")
    assert len(message.text.encode("utf-8")) <= WECHAT_TEXT_MAX_BYTES


def test_telegram_link_with_quote_and_ampersand_is_escaped(renderer: Renderer) -> None:
    odd = replace(ITEM, link='https://a/r/x?a=1&b="2"')
    message = renderer.render(ChannelName.TELEGRAM, context(MessageKind.PUBLISHED, odd), "1")
    assert 'href="https://a/r/x?a=1&amp;b=&#34;2&#34;"' in message.text
    strip_html(message.text)
