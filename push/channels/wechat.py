"""WeChat official account (公众号) through wechatpy's synchronous client, run off the event loop.

Template message when a template id is configured (the only push WeChat allows outside the
48-hour window), customer-service text otherwise. The access token lives in the client's session
storage (memory by default; pass a shared storage such as wechatpy's RedisStorage when several
processes send, so they do not invalidate each other's tokens).

wechatpy's own retry on token errors (40001/40014/42001) re-fetches and retries *recursively*
until the answer changes, with no bound, so it is switched off here: we refresh once and retry
once, and a second token error becomes RETRY for the pipeline.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from push.channels.base import ChannelName, RenderedMessage, SendResult, SendStatus
from push.ratelimit import DailyQuota, KeyedLimiter, WeChatLimits, wechat_limiter

DEFAULT_API_BASE = "https://api.weixin.qq.com/cgi-bin/"
HTTP_TIMEOUT = 10.0  # wechatpy's default is no timeout at all: a hung socket would hold a thread forever

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, token expired
GONE_ERRCODES = frozenset({43004, 40003})  # user unsubscribed, openid unknown to this account
RETRY_ERRCODES = frozenset({-1, 45009, 45011, 45047})  # busy, quota/frequency limits, reply count

# Shown in the delivery row; the address is fine, only the customer-service window is closed.
WINDOW_CLOSED_REASON = (
    "用户超过48小时未与公众号互动，客服消息无法送达（错误码45015）；请配置模板消息，或等待用户再次发消息后重发"
)


class _Client(WeChatClient):
    """WeChatClient pointed at `api_base`, including the token URL wechatpy hard-codes."""

    def __init__(self, app_id: str, app_secret: str, api_base: str, session: SessionStorage | None) -> None:
        super().__init__(app_id, app_secret, session=session, timeout=HTTP_TIMEOUT, auto_retry=False)
        self.API_BASE_URL = api_base
        self._refresh_lock = threading.Lock()

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def refresh_after(self, stale_token: str | None) -> None:
        """Fetch a new token unless another thread already replaced `stale_token`.

        Every fetch invalidates the previous token (after a grace period), so concurrent senders
        that all saw 40001 must not each fetch one.
        """
        with self._refresh_lock:
            if self.session.get(self.access_token_key) == stale_token:
                self.fetch_access_token()

    def current_token(self) -> str | None:
        token = self.session.get(self.access_token_key)
        return token if isinstance(token, str) else None


class WeChatChannel:
    name = ChannelName.WECHAT

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        api_base: str = DEFAULT_API_BASE,
        template_id: str | None = None,
        limiter: KeyedLimiter | None = None,
        *,
        daily_quota: DailyQuota | None = None,
        session: SessionStorage | None = None,
    ) -> None:
        base = api_base if api_base.endswith("/") else api_base + "/"
        self.client = _Client(app_id, app_secret, base, session)
        self.template_id = template_id or None
        self.limiter = limiter if limiter is not None else wechat_limiter()
        self.daily_quota = daily_quota if daily_quota is not None else DailyQuota(WeChatLimits().per_day)

    async def send(self, message: RenderedMessage) -> SendResult:
        wait = self.daily_quota.take()
        if wait is not None:
            return SendResult(SendStatus.RETRY, retry_after=wait, error="今日微信推送额度已用完，次日零点后重发")
        async with self.limiter.slot(message.address):
            try:
                answer = await asyncio.to_thread(self._send_with_one_token_retry, message)
            except WeChatClientException as exc:
                return self._result_for_errcode(exc)
            except (requests.RequestException, OSError) as exc:
                self.daily_quota.give_back()
                return SendResult(SendStatus.RETRY, error=f"网络错误：{type(exc).__name__}: {exc}")
        msgid = answer.get("msgid") if isinstance(answer, Mapping) else None
        return SendResult(
            SendStatus.SENT,
            provider_message_id=str(msgid) if msgid is not None else None,
            raw=dict(answer) if isinstance(answer, Mapping) else {},
        )

    def _send_with_one_token_retry(self, message: RenderedMessage) -> Any:
        token = self.client.current_token()
        try:
            return self._send_now(message)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
        self.client.refresh_after(token)
        return self._send_now(message)

    def _send_now(self, message: RenderedMessage) -> Any:
        if self.template_id:
            return self.client.message.send_template(
                message.address, self.template_id, _template_data(message), url=message.url or None
            )
        return self.client.message.send_text(message.address, message.text)

    def _result_for_errcode(self, exc: WeChatClientException) -> SendResult:
        errcode = exc.errcode
        detail = f"微信错误 {errcode}：{exc.errmsg}"
        if errcode is None:  # HTTP-level failure (5xx, bad gateway): transient
            self.daily_quota.give_back()
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", "?")
            return SendResult(SendStatus.RETRY, error=f"微信接口 HTTP {status}")
        if errcode in GONE_ERRCODES:
            return SendResult(SendStatus.PERMANENT, error=detail, raw={"errcode": errcode})
        if errcode == 45015:
            return SendResult(SendStatus.FAILED, error=WINDOW_CLOSED_REASON, raw={"errcode": errcode})
        if errcode in TOKEN_ERRCODES or errcode in RETRY_ERRCODES:
            self.daily_quota.give_back()
            return SendResult(SendStatus.RETRY, error=detail, raw={"errcode": errcode})
        return SendResult(SendStatus.FAILED, error=detail, raw={"errcode": errcode})

    async def close(self) -> None:
        await asyncio.to_thread(self.client._http.close)


def _template_data(message: RenderedMessage) -> Mapping[str, Mapping[str, str]]:
    data = getattr(message, "template_data", None)  # push.render.WeChatMessage carries it
    if data:
        return data
    # A plain RenderedMessage (rendered elsewhere): the title is the best one-line summary we have.
    return {"first": {"value": message.title}, "keyword1": {"value": message.title[:20]}}
