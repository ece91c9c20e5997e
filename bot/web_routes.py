"""Everything `web/` mounts for the bot: the WeChat callback, the Telegram webhook and the
web chat.

    services = build_services(db, settings)              # bot.wiring, one per process
    telegram = build_telegram(services)                  # bot.telegram.app, None without a token
    app.include_router(build_router(db, settings, services, telegram=telegram))

Routes: GET/POST /wechat (404 until WECHAT_TOKEN is set), POST /telegram/webhook (404 without
a Telegram token, 401 on a wrong secret), GET /chat and /chat/api/*.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.telegram.app import TelegramRuntime
from bot.telegram.webhook import webhook_router
from bot.webchat.routes import webchat_router
from bot.wechat.endpoint import WeChatEndpoint, wechat_router
from bot.wiring import BotServices, build_services
from core.db import Database
from core.settings import Settings


def build_router(
    db: Database, settings: Settings, services: BotServices | None = None, *, telegram: TelegramRuntime | None = None
) -> APIRouter:
    services = services or build_services(db, settings)
    router = APIRouter(include_in_schema=False)
    router.include_router(wechat_router(WeChatEndpoint(services)))
    router.include_router(webhook_router(telegram, settings.telegram_webhook_secret))
    router.include_router(webchat_router(services))
    return router
