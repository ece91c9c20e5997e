"""The WeChat parametric QR code of a poster (带参数二维码, scene_str "p:<poster id>").

Scanning it in WeChat follows the county's service account, and the follow event carries the
scene, so following and crediting the poster happen in one step. Permanent codes
(QR_LIMIT_STR_SCENE) are used because a poster hangs for months; an account may hold 100,000.
The code's content is the `url` WeChat returns; the poster draws it with segno, so the image
WeChat offers for download is never fetched.
"""

from __future__ import annotations

import asyncio
from typing import Any

from push.channels.wechat import _Client  # the client pointed at the configured API base
from push.posters.service import wechat_scene


def _create(client: Any, scene: str) -> str:
    answer = client.qrcode.create({"action_name": "QR_LIMIT_STR_SCENE",
                                   "action_info": {"scene": {"scene_str": scene}}})
    url = answer.get("url") if isinstance(answer, dict) else None
    if not isinstance(url, str) or not url:
        raise ValueError("微信未返回二维码内容")
    return url


async def create_wechat_code(app_id: str, app_secret: str, api_base: str, poster_id: int) -> str:
    """The content of the poster's parametric code (raises wechatpy's errors as they come)."""
    base = api_base if api_base.endswith("/") else api_base + "/"
    client = _Client(app_id, app_secret, base, None)
    try:
        return await asyncio.to_thread(_create, client, wechat_scene(poster_id))
    finally:
        client._http.close()
