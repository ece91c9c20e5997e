"""The bot's types and constants other packages may read (the handles are in `bot.service`)."""

from __future__ import annotations

from bot.telegram.app import TelegramRuntime
from bot.wechat.endpoint import MAX_BODY_BYTES as WECHAT_MAX_BODY_BYTES
from bot.wiring import BotServices

__all__ = ["WECHAT_MAX_BODY_BYTES", "BotServices", "TelegramRuntime"]
