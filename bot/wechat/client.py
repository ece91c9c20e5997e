"""A wechatpy client pointed at WECHAT_API_BASE (a test fake, or the real API).

wechatpy is synchronous: call it through `asyncio.to_thread`. Its `fetch_access_token`
hard-codes the official token URL, so it is redirected too.
"""

from __future__ import annotations

from typing import Any

from wechatpy import WeChatClient

from core.settings import Settings


def build_client(settings: Settings) -> WeChatClient:
    api_base = settings.wechat_api_base if settings.wechat_api_base.endswith("/") else settings.wechat_api_base + "/"

    class ConfiguredClient(WeChatClient):
        API_BASE_URL = api_base

        def fetch_access_token(self) -> dict[str, Any]:
            return self._fetch_access_token(
                url=f"{api_base}token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return ConfiguredClient(settings.wechat_app_id, settings.wechat_app_secret, timeout=10)
