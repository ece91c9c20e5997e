"""The bot's types and constants other packages may read (the handles are in `bot.service`).

`TelegramRuntime` loads aiogram (seconds of imports): it resolves on first use, so the web app,
which only needs the WeChat body limit, starts without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.wechat.endpoint import MAX_BODY_BYTES as WECHAT_MAX_BODY_BYTES
from bot.wiring import BotServices
from core.lazy_exports import lazy_attributes

if TYPE_CHECKING:
    from bot.telegram.app import TelegramRuntime

__all__ = ["WECHAT_MAX_BODY_BYTES", "BotServices", "TelegramRuntime"]

__getattr__ = lazy_attributes(__name__, {"TelegramRuntime": ("bot.telegram.app", "TelegramRuntime")})
