"""Turn a `MessageContext` into a `RenderedMessage` for one channel, from Jinja2 templates.

Templates live in `push/templates/{channel}/{kind}.j2`; all Chinese wording is there. Telegram
templates are HTML with autoescape on, so every department- or user-supplied string is escaped;
the other channels are plain text or markdown, where `<` and `>` in supplied strings are replaced
by full-width brackets so they cannot turn into markup (WeChat links, WeCom `<font>`).

Each channel has a size limit. A message that would exceed it is rendered again with the long
fields (who qualifies, benefits, change summary) clipped harder, then titles, then (digests) fewer
items; the key points and the link to the full text always stay. Fields are clipped *before*
escaping, so a cut can never fall inside an HTML tag or entity.

A template that refers to a missing field raises `RenderError` (StrictUndefined): the pipeline
records it as a failed delivery with that message.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    UndefinedError,
)
from markupsafe import escape

from core.clock import today_in_china
from push.channels.base import Button, ChannelName, MessageContext, MessageKind, PolicyItem, RenderedMessage
from vocabulary.labels import label

TEMPLATE_DIR = Path(__file__).parent / "templates"

TELEGRAM_MAX_UTF16 = 4096  # Bot API: 1-4096 characters after entity parsing, counted in UTF-16 units
WECHAT_TEXT_MAX_BYTES = 2048  # customer-service text: longer content is refused or cut by WeChat
WECHAT_TEMPLATE_FIELD_MAX = 20  # since 2023-05-04 each template field shows at most 20 characters
WECOM_MARKDOWN_MAX_BYTES = 4096  # WeCom group robot markdown content, UTF-8
WEB_MAX_CHARS = 20_000  # our own ceiling for the web inbox

# Actions whose Button.value is a short ASCII payload (ids); "url" carries a URL instead.
BUTTON_ACTIONS = ("url", "interpret", "ask", "ack", "forward", "unsub")


class RenderError(Exception):
    """The message could not be rendered; `str()` says why, in Chinese, for the delivery row."""


@dataclass(frozen=True)
class WeChatMessage(RenderedMessage):
    """A WeChat rendering: plain text for customer-service messages plus the template-message data.

    `template_data` maps the template's field names to values (`{"keyword1": {"value": ...}}`); the
    adapter uses it only when a template id is configured.
    """

    template_data: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """How hard to clip: None keeps a field whole, 0 leaves it out (the full text is one tap away)."""

    long: int | None = None
    title: int | None = None
    max_items: int | None = None


_BUDGETS = (
    Budget(),
    Budget(long=600),
    Budget(long=300),
    Budget(long=120),
    Budget(long=50, title=120),
    Budget(long=0, title=60),
)

# Department- or user-supplied text fields of PolicyItem (links are ours and stay untouched).
_SUPPLIED_ITEM_FIELDS = (
    "title",
    "doc_no",
    "agency",
    "validity_label",
    "who_qualifies",
    "benefits",
    "change_summary",
)
_MARKUP_CHANNELS = (ChannelName.WECHAT, ChannelName.WECOM_ROBOT)

_TAG_RE = re.compile(r"<[^>]*>")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def telegram_visible_length(text: str) -> int:
    """What Telegram counts: the text after HTML parsing, in UTF-16 code units.

    Our templates escape every supplied `<`, so any `<...>` left in the text is one of our tags.
    """
    visible = html.unescape(_TAG_RE.sub("", text))
    return len(visible.encode("utf-16-le")) // 2


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


_MEASURES: dict[str, tuple[Callable[[str], int], int]] = {
    ChannelName.TELEGRAM: (telegram_visible_length, TELEGRAM_MAX_UTF16),
    ChannelName.WECHAT: (utf8_length, WECHAT_TEXT_MAX_BYTES),
    ChannelName.WECOM_ROBOT: (utf8_length, WECOM_MARKDOWN_MAX_BYTES),
    ChannelName.WEB: (len, WEB_MAX_CHARS),
}


# -- filters ------------------------------------------------------------------------------------------


def clip(value: object, limit: int | None) -> str:
    """Cut a supplied string to `limit` characters, marking the cut with an ellipsis."""
    text = "" if value is None else str(value).strip()
    if limit is None or len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: max(1, limit - 1)].rstrip() + "…"


def one_line(value: object) -> str:
    return " ".join(str(value).split())


def cn_date(value: date | None) -> str:
    return "" if value is None else f"{value.year}年{value.month}月{value.day}日"


def neutralize_markup(text: str) -> str:
    """Supplied `<`/`>` become full-width, so WeChat (links) and WeCom (`<font>`) never read them as tags."""
    return text.replace("<", "＜").replace(">", "＞")


def _neutralized(context: MessageContext) -> MessageContext:
    items = tuple(
        replace(
            item,
            **{
                name: neutralize_markup(getattr(item, name))
                for name in _SUPPLIED_ITEM_FIELDS
                if isinstance(getattr(item, name), str)
            },
        )
        for item in context.items
    )
    return replace(
        context,
        items=items,
        reasons=tuple(neutralize_markup(reason) for reason in context.reasons),
        relayed_by=neutralize_markup(context.relayed_by),
        unsubscribe_hint=neutralize_markup(context.unsubscribe_hint),
    )


def _environment(template_dir: Path, *, html_mode: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(template_dir),
        undefined=StrictUndefined,
        autoescape=html_mode,
        trim_blocks=True,
        auto_reload=False,  # templates ship with the code; skip a stat() per message
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(clip=clip, one_line=one_line, cn_date=cn_date)
    return env


_CACHE_SIZE = 256


def _link_placeholder(index: int) -> str:
    # NUL never occurs in policy text and passes through escaping and clipping untouched.
    return f"\x00link{index}\x00"


@dataclass(frozen=True)
class _Parts:
    text: str
    title: str
    template_data: Mapping[str, Mapping[str, str]]


class Renderer:
    """Renders every channel from one template directory (tests point it at a scratch one)."""

    def __init__(self, template_dir: Path = TEMPLATE_DIR, today: Callable[[], date] = today_in_china) -> None:
        self._today = today
        self._html = _environment(template_dir, html_mode=True)
        self._plain = _environment(template_dir, html_mode=False)
        self._labels: Any = None
        self._cache: OrderedDict[tuple[str, MessageContext, date], _Parts] = OrderedDict()

    def render(self, channel: str, context: MessageContext, address: str) -> RenderedMessage:
        if channel not in _MEASURES:
            raise RenderError(f"未知的推送渠道：{channel}")
        if not context.items:
            raise RenderError("消息没有包含任何政策，无法生成")
        if channel in _MARKUP_CHANNELS:
            context = _neutralized(context)
        parts = self._parts(channel, context)
        text = self._with_links(channel, parts.text, context)
        measure, limit = _MEASURES[channel]
        if measure(text) > limit:  # real links are longer than the placeholders: fit them for real
            text = self._fit(channel, context)
        first = context.items[0]
        buttons = self._buttons(context) if channel in (ChannelName.TELEGRAM, ChannelName.WEB) else ()
        if channel == ChannelName.WECHAT:
            return WeChatMessage(
                channel=channel,
                address=address,
                text=text,
                title=parts.title,
                url=first.link,
                template_data=parts.template_data,
            )
        return RenderedMessage(
            channel=channel, address=address, text=text, buttons=buttons, title=parts.title, url=first.link
        )

    # -- per-recipient cache ------------------------------------------------------------------------------

    def _parts(self, channel: str, context: MessageContext) -> _Parts:
        """Text, title and template data with each item's link as a placeholder, cached.

        A fan-out renders the same policy for thousands of recipients who differ only in their
        tracked link and delivery id; rendering once and substituting the links is several times
        cheaper than running the templates per recipient.
        """
        generic = replace(
            context,
            items=tuple(replace(item, link=_link_placeholder(i)) for i, item in enumerate(context.items)),
            delivery_id=0,
            is_hub=False,
        )
        key = (channel, generic, self._today())
        parts = self._cache.get(key)
        if parts is not None:
            self._cache.move_to_end(key)
            return parts
        parts = _Parts(
            text=self._fit(channel, generic),
            title=one_line(self._render_text(self._plain, "_title.j2", generic, Budget())),
            template_data=self._template_data(generic) if channel == ChannelName.WECHAT else {},
        )
        self._cache[key] = parts
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return parts

    @staticmethod
    def _with_links(channel: str, text: str, context: MessageContext) -> str:
        for i, item in enumerate(context.items):
            link = str(escape(item.link)) if channel == ChannelName.TELEGRAM else item.link
            text = text.replace(_link_placeholder(i), link)
        return text

    # -- text -------------------------------------------------------------------------------------------

    def _fit(self, channel: str, context: MessageContext) -> str:
        env = self._html if channel == ChannelName.TELEGRAM else self._plain
        measure, limit = _MEASURES[channel]
        text = ""
        for budget in self._budgets(context):
            text = self._render_text(env, f"{channel}/{context.kind}.j2", context, budget)
            if measure(text) <= limit:
                return text
        raise RenderError(f"消息超出{label('channel', channel)}渠道的长度上限（{measure(text)} > {limit}），无法压缩")

    @staticmethod
    def _budgets(context: MessageContext) -> list[Budget]:
        budgets = list(_BUDGETS)
        count = len(context.items)
        while count > 1:  # digests: finally show fewer items, the rest are counted and linked
            count //= 2
            budgets.append(Budget(long=0, title=60, max_items=count))
        return budgets

    def _render_text(self, env: Environment, name: str, context: MessageContext, budget: Budget) -> str:
        items = context.items if budget.max_items is None else context.items[: budget.max_items]
        variables = self._variables(context, budget, items)
        try:
            template = env.get_template(name)
            text = template.render(variables)
        except TemplateNotFound as exc:
            raise RenderError(f"缺少消息模板：{exc.name}（渠道或消息类型不受支持）") from exc
        except UndefinedError as exc:
            raise RenderError(f"消息模板 {name} 引用了不存在的字段：{exc.message}") from exc
        except TemplateError as exc:
            raise RenderError(f"消息模板 {name} 出错：{exc}") from exc
        return _BLANK_LINES_RE.sub("\n\n", text).strip() + "\n"

    def _variables(self, context: MessageContext, budget: Budget, items: tuple[PolicyItem, ...]) -> dict[str, Any]:
        return {
            "ctx": context,
            "kind": context.kind,
            "items": items,
            "item": items[0],
            "hidden_count": len(context.items) - len(items),
            "budget": budget,
            "today": self._today(),
        }

    def _module(self, env: Environment, name: str, context: MessageContext) -> Any:
        variables = self._variables(context, Budget(), context.items)
        try:
            return env.get_template(name).make_module(variables)
        except TemplateNotFound as exc:
            raise RenderError(f"缺少消息模板：{exc.name}") from exc
        except UndefinedError as exc:
            raise RenderError(f"消息模板 {name} 引用了不存在的字段：{exc.message}") from exc

    # -- buttons and WeChat template data ---------------------------------------------------------------

    def _buttons(self, context: MessageContext) -> tuple[Button, ...]:
        if self._labels is None:  # constant text: build the module once
            self._labels = self._plain.get_template("_buttons.j2").module
        labels = self._labels
        item = context.items[0]
        single = context.kind != MessageKind.DIGEST
        live = context.kind not in (MessageKind.REPEALED, MessageKind.EXPIRED)
        buttons: list[Button] = []
        if single and live:
            if item.link:
                buttons.append(Button(labels.interpret, "url", _with_fragment(item.link, "interpretation")))
            else:
                buttons.append(Button(labels.interpret, "interpret", str(item.policy_id)))
        if single:
            buttons.append(Button(labels.ask, "ask", str(item.policy_id)))
        buttons.append(Button(labels.ack, "ack", str(context.delivery_id)))
        if context.is_hub and live:
            buttons.append(Button(labels.forward, "forward", str(context.delivery_id)))
        buttons.append(Button(labels.unsub, "unsub", str(context.delivery_id)))
        return tuple(buttons)

    def _template_data(self, context: MessageContext) -> dict[str, dict[str, str]]:
        module = self._module(self._plain, "wechat/_template_data.j2", context)
        data: dict[str, dict[str, str]] = {}
        for key in module.fields.split():
            value = one_line(str(getattr(module, key)))
            if key.startswith("keyword"):
                value = clip(value, WECHAT_TEMPLATE_FIELD_MAX)
            data[key] = {"value": value}
        return data


def _with_fragment(url: str, fragment: str) -> str:
    # A fragment survives the tracked link's redirect (the browser carries it to the Location).
    return url.split("#", 1)[0] + "#" + fragment


_default: Renderer | None = None


def render(channel: str, context: MessageContext, address: str) -> RenderedMessage:
    """Render `context` for `channel` and `address`; raises RenderError with a readable reason."""
    global _default
    if _default is None:
        _default = Renderer()
    return _default.render(channel, context, address)
