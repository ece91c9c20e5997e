"""`GET /wechat` (server verification) and `POST /wechat` (messages and events).

Order of checks: signature (403, nothing read further), decryption in safe mode (403 on a
bad msg_signature), XML parsing (400), then the duplicate check: WeChat resends a message
up to three times when our reply is slow, so each MsgId (events: FromUserName+CreateTime)
is taken once through a unique insert. The reply is passive when the dialogue answers
within `REPLY_WINDOW`; otherwise "success" goes back at once and the answer follows as a
customer-service message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from bot import store
from bot.dialogue.context import Turn
from bot.dialogue.replies import Reply
from bot.runner import run_turn
from bot.wechat.client import build_client
from bot.wechat.menu import CLICK_ACTIONS
from bot.wechat.render import passive_reply_xml, render_text
from bot.wiring import BotServices
from core.clock import now
from subscriptions import service as subscriptions
from subscriptions.views import ChannelName, InactiveReason

log = logging.getLogger(__name__)

REPLY_WINDOW = 4.0  # seconds; WeChat waits 5 s for a passive reply
MAX_BODY_BYTES = 64 * 1024
SUCCESS = "success"  # WeChat's "received, no reply"
REPLAY_CHANNEL = "wechat_nonce"  # (timestamp, nonce) pairs already taken, in the inbound table


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _refusal(exc: BadRequest) -> Response:
    return PlainTextResponse(exc.message, status_code=exc.status)


class WeChatEndpoint:
    def __init__(self, services: BotServices, *, reply_window: float = REPLY_WINDOW) -> None:
        self.services = services
        self.settings = services.settings
        self.reply_window = reply_window
        self.crypto = (
            WeChatCrypto(self.settings.wechat_token, self.settings.wechat_aes_key, self.settings.wechat_app_id)
            if self.settings.wechat_aes_key else None
        )
        self._late: set[asyncio.Task[Any]] = set()

    # --- HTTP -----------------------------------------------------------------------------

    def verify(self, query: dict[str, str]) -> Response:
        try:
            self._check_signature(query)
        except BadRequest as exc:
            return _refusal(exc)
        return PlainTextResponse(query.get("echostr", ""))

    async def receive(self, query: dict[str, str], body: bytes) -> Response:
        try:
            self._check_signature(query)
            await self._check_fresh(query)
            message = self._parse(query, body)
        except BadRequest as exc:
            return _refusal(exc)
        if not await store.take_inbound(self.services.db, ChannelName.WECHAT, dedupe_key(message)):
            return PlainTextResponse(SUCCESS)  # a retry: the first delivery is being answered
        work = asyncio.create_task(self._handle(message))
        done, _ = await asyncio.wait({work}, timeout=self.reply_window)
        if not done:
            self._keep(asyncio.create_task(self._send_late(work, message.source)))
            return PlainTextResponse(SUCCESS)
        replies = work.result()
        if not replies:
            return PlainTextResponse(SUCCESS)
        return self._passive_reply(message, render_text(replies), query)

    # --- checks ---------------------------------------------------------------------------

    def _check_signature(self, query: dict[str, str]) -> None:
        if not self.settings.wechat_token:
            raise BadRequest(404, "未启用微信公众号渠道")
        try:
            check_signature(self.settings.wechat_token, query.get("signature", ""), query.get("timestamp", ""),
                            query.get("nonce", ""))
        except InvalidSignatureException as exc:
            raise BadRequest(403, "签名不正确") from exc

    async def _check_fresh(self, query: dict[str, str]) -> None:
        """A signed request can be captured and sent again (plain mode signs only token,
        timestamp and nonce): accept it only near its timestamp, and each (timestamp, nonce) once.
        The pairs live in the inbound table, kept well past the window and cleaned as it grows."""
        timestamp = query.get("timestamp", "")
        if not timestamp.isdigit():
            raise BadRequest(403, "时间戳无效")
        window = self.settings.wechat_replay_window_seconds
        if abs(now().timestamp() - int(timestamp)) > window:
            raise BadRequest(403, f"请求已过期：时间戳与服务器时间相差超过 {window // 60} 分钟")
        pair = f"{timestamp}:{query.get('nonce', '')[:64]}"
        if not await store.take_inbound(self.services.db, REPLAY_CHANNEL, pair):
            raise BadRequest(403, "重复的请求：该 timestamp 与 nonce 已使用过")

    def _parse(self, query: dict[str, str], body: bytes) -> Any:
        if not body or len(body) > MAX_BODY_BYTES:
            raise BadRequest(400, "请求体为空或过大")
        xml: bytes | str = body
        if query.get("encrypt_type") == "aes":
            if self.crypto is None:
                raise BadRequest(400, "未配置 WECHAT_AES_KEY，无法解密安全模式消息")
            try:
                xml = self.crypto.decrypt_message(body, query.get("msg_signature", ""), query.get("timestamp", ""),
                                                  query.get("nonce", ""))
            except InvalidSignatureException as exc:
                raise BadRequest(403, "消息签名不正确") from exc
            except Exception as exc:  # malformed envelope or ciphertext: the request is bad
                raise BadRequest(400, "无法解密消息") from exc
        try:
            message = parse_message(xml)
        except Exception as exc:  # expat, missing MsgType…: whatever it is, it is not WeChat XML
            raise BadRequest(400, "XML 格式不正确") from exc
        if not getattr(message, "source", None):
            raise BadRequest(400, "缺少 FromUserName")
        return message

    # --- the conversation -----------------------------------------------------------------

    async def _handle(self, message: Any) -> list[Reply]:
        openid = str(message.source)
        if message.type == "event" and message.event == "unsubscribe":
            await self._unfollowed(openid)
            return []
        step = self._step(message)
        if step is None:
            return []
        return await run_turn(self.services.db, ChannelName.WECHAT, openid, step, has_buttons=False,
                              phone=self.services.phone)

    def _step(self, message: Any) -> Any:
        dialogue = self.services.dialogue
        kind = message.type
        if kind == "text":
            return lambda t: dialogue.text(t, message.content or "")
        if kind == "voice" and getattr(message, "recognition", None):
            return lambda t: dialogue.text(t, message.recognition)
        if kind == "event":
            return self._event_step(message)
        return lambda t: dialogue.non_text(t, {"voice": "voice", "image": "image"}.get(kind, "other"))

    def _event_step(self, message: Any) -> Any:
        dialogue = self.services.dialogue
        event = message.event
        if event in ("subscribe", "subscribe_scan", "scan"):
            payload = str(getattr(message, "scene_id", "") or "")

            async def follow(turn: Turn) -> list[Reply]:
                return await dialogue.start(turn, payload)

            return follow
        if event == "click":
            action = CLICK_ACTIONS.get(str(message.key or ""), "m:help")
            return lambda t: dialogue.press(t, action)
        return None  # VIEW, LOCATION…: nothing to say

    async def _unfollowed(self, openid: str) -> None:
        """Unfollowing deactivates the address; the subscription is kept for a return."""
        async with self.services.db.session() as session:
            found = await subscriptions.find_address(session, ChannelName.WECHAT, openid)
            if found is not None:
                await subscriptions.deactivate_address(session, found.id, InactiveReason.UNSUBSCRIBED)

    # --- replies --------------------------------------------------------------------------

    def _passive_reply(self, message: Any, text: str, query: dict[str, str]) -> Response:
        xml = passive_reply_xml(message, text)
        if query.get("encrypt_type") == "aes" and self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, query.get("nonce", ""), query.get("timestamp", ""))
        return Response(xml, media_type="application/xml")

    async def _send_late(self, work: asyncio.Task[list[Reply]], openid: str) -> None:
        try:
            replies = await work
            if replies:
                client = build_client(self.settings)
                await asyncio.to_thread(client.message.send_text, openid, render_text(replies))
        except Exception:  # the user asked; log what went wrong for the operators
            log.exception("late WeChat answer to %s failed", openid)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    async def drain(self) -> None:
        """Wait for answers still on their way (tests, shutdown)."""
        while self._late:
            await asyncio.gather(*list(self._late), return_exceptions=True)


def dedupe_key(message: Any) -> str:
    if message.type != "event" and message.id:
        return f"m{message.id}"
    created = int(message.create_time.timestamp()) if message.create_time else 0
    return f"e{message.source}:{created}:{getattr(message, 'event', message.type)}"


def wechat_router(endpoint: WeChatEndpoint) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/wechat")
    async def wechat_verify(request: Request) -> Response:
        return endpoint.verify(dict(request.query_params))

    @router.post("/wechat")
    async def wechat_receive(request: Request) -> Response:
        return await endpoint.receive(dict(request.query_params), await request.body())

    return router
