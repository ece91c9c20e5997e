"""Dialogue replies as one WeChat text: buttons become numbered options ("回复数字即可选择"),
URL buttons become links. The order of the numbers is `bot.runner.numbered_options`."""

from __future__ import annotations

import re
from typing import Any

from wechatpy.replies import TextReply

from bot import texts
from bot.dialogue.replies import Reply

MAX_BYTES = 2048  # WeChat text messages (passive replies and customer-service messages)


def render_text(replies: list[Reply]) -> str:
    parts: list[str] = []
    options: list[str] = []
    for reply in replies:
        parts.append(reply.text)
        for button in reply.flat_buttons:
            if button.action:
                options.append(texts.OPTION_LINE.format(n=len(options) + 1, label=button.label))
    if options:
        parts.append(texts.OPTIONS_HINT + "\n" + "\n".join(options))
    return clip_bytes("\n\n".join(parts), MAX_BYTES)


def clip_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - len("…".encode())].decode("utf-8", errors="ignore") + "…"


# Characters XML 1.0 forbids; one of them in a reply makes WeChat drop the whole message.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cdata_safe(text: str) -> str:
    """Text that can sit inside <![CDATA[...]]>: a "]]>" in a title or a question would end the
    section and let the rest be read as XML, so it is split across two sections."""
    return _XML_FORBIDDEN.sub("", text).replace("]]>", "]]]]><![CDATA[>")


def passive_reply_xml(message: Any, text: str) -> str:
    """The passive text reply to `message` (wechatpy puts the content in CDATA unescaped)."""
    return TextReply(message=message, content=cdata_safe(text)).render()
