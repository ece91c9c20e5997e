"""Dialogue replies as one WeChat text: buttons become numbered options ("回复数字即可选择"),
URL buttons become links. The order of the numbers is `bot.runner.numbered_options`."""

from __future__ import annotations

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
