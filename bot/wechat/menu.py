"""The official account's custom menu; `python run.py wechat menu` calls `create_menu`."""

from __future__ import annotations

import asyncio
from typing import Any

from bot import calculator_texts, texts
from bot.wechat.client import build_client
from core.settings import Settings

# CLICK keys → the dialogue's menu actions (bot.wechat.endpoint uses the same table).
CLICK_ACTIONS = {"SUBSCRIBE": "m:sub", "MY": "m:my", "LATEST": "m:latest", "HELP": "m:help",
                 "CALCULATOR": "calc:start"}


def menu_definition() -> dict[str, Any]:
    return {
        "button": [
            {
                "name": texts.WECHAT_MENU_GROUP,
                "sub_button": [{"type": "click", "name": name, "key": key} for name, key in texts.WECHAT_MENU.items()],
            },
            {"type": "click", "name": calculator_texts.BTN_CALCULATOR, "key": "CALCULATOR"},
        ]
    }


async def create_menu(settings: Settings) -> dict[str, Any]:
    """Create (replace) the menu through the WeChat API; raises wechatpy's WeChatClientException."""
    client = build_client(settings)
    return await asyncio.to_thread(client.menu.create, menu_definition())
