"""WeCom (企业微信) group robot: a markdown message POSTed to the group's webhook.

The address is either the full webhook URL or just its key, appended to `webhook_base`. The key
is a secret (anyone holding it can post to the group), so it never appears in error texts.
"""

from __future__ import annotations

import json

import aiohttp

from push.channels.base import ChannelName, RenderedMessage, SendResult, SendStatus
from push.ratelimit import KeyedLimiter, wecom_robot_limiter

DEFAULT_WEBHOOK_BASE = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)

GONE_ERRCODES = frozenset({93000})  # invalid webhook url: the robot was removed from the group
RETRY_ERRCODES = frozenset({-1, 45009, 45033})  # busy, frequency limit, too many concurrent calls


class WeComRobotChannel:
    name = ChannelName.WECOM_ROBOT

    def __init__(
        self,
        webhook_base: str = DEFAULT_WEBHOOK_BASE,
        limiter: KeyedLimiter | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.webhook_base = webhook_base
        self.limiter = limiter if limiter is not None else wecom_robot_limiter()
        self._session = session
        self._owns_session = session is None

    def webhook_url(self, address: str) -> str:
        if address.startswith(("http://", "https://")):
            return address
        return f"{self.webhook_base}{address}"

    def _client(self) -> aiohttp.ClientSession:
        # Created lazily so the adapter can be built outside a running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
            self._owns_session = True
        return self._session

    async def send(self, message: RenderedMessage) -> SendResult:
        url = self.webhook_url(message.address)
        body = {"msgtype": "markdown", "markdown": {"content": message.text}}
        async with self.limiter.slot(url):
            try:
                async with self._client().post(url, json=body) as response:
                    if response.status >= 500:
                        return SendResult(SendStatus.RETRY, error=f"企业微信接口 HTTP {response.status}")
                    if response.status >= 400:
                        return SendResult(SendStatus.FAILED, error=f"企业微信接口 HTTP {response.status}")
                    answer = json.loads(await response.read())
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                return SendResult(SendStatus.RETRY, error=f"网络错误：{type(exc).__name__}")
            except ValueError:
                return SendResult(SendStatus.RETRY, error="企业微信接口返回了无法解析的内容")
        return _result_for(answer)

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()


def _result_for(answer: object) -> SendResult:
    if not isinstance(answer, dict):
        return SendResult(SendStatus.RETRY, error="企业微信接口返回了无法解析的内容")
    errcode = int(answer.get("errcode", 0))
    raw = {"errcode": errcode}
    if errcode == 0:
        return SendResult(SendStatus.SENT, raw=raw)
    # errmsg may echo the webhook URL in its hint; keep only the part before it.
    detail = f"企业微信错误 {errcode}：{str(answer.get('errmsg', '')).split(',', 1)[0]}"
    if errcode in GONE_ERRCODES:
        return SendResult(SendStatus.PERMANENT, error=detail, raw=raw)
    if errcode in RETRY_ERRCODES:
        # WeCom's robot limit is per minute; waiting out the minute avoids a burst of refusals.
        retry_after = 60.0 if errcode == 45009 else None
        return SendResult(SendStatus.RETRY, retry_after=retry_after, error=detail, raw=raw)
    return SendResult(SendStatus.FAILED, error=detail, raw=raw)  # 40058 too long, 40008 bad type...
