"""`POST /telegram/webhook`: updates pushed by Telegram in webhook mode.

The `X-Telegram-Bot-Api-Secret-Token` header must equal TELEGRAM_WEBHOOK_SECRET (401
otherwise). The update is handed to the dispatcher in the background and 200 returned at
once, so a slow answer never makes Telegram resend it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.telegram.app import TelegramRuntime

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_router(runtime: TelegramRuntime | None, secret: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    background: set[asyncio.Task[Any]] = set()

    @router.post("/telegram/webhook")
    async def telegram_webhook(request: Request) -> JSONResponse:
        if runtime is None:
            return JSONResponse({"error": "未启用 Telegram 渠道"}, status_code=404)
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"error": "密钥不正确"}, status_code=401)
        try:
            update = await request.json()
        except ValueError:
            return JSONResponse({"error": "请求体不是有效的 JSON"}, status_code=400)
        if not isinstance(update, dict) or "update_id" not in update:
            return JSONResponse({"error": "不是 Telegram 更新", "field": "update_id"}, status_code=400)
        task = asyncio.create_task(_feed(runtime, update))
        background.add(task)
        task.add_done_callback(background.discard)
        return JSONResponse({"ok": True})

    return router


async def _feed(runtime: TelegramRuntime, update: dict[str, Any]) -> None:
    try:
        await runtime.dispatcher.feed_raw_update(runtime.bot, update)
    except Exception:  # a malformed update must not take the server down
        log.exception("telegram webhook update %s failed", update.get("update_id"))
