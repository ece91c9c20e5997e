"""The bot's door for other packages and for run.py: the handles that build and run the front ends.

    services = build_services(db, settings)            # one per process (the dialogue and its answerer)
    telegram = build_telegram(services)                # None without a token
    app.include_router(build_router(db, settings, services, telegram=telegram))
    await run_telegram(telegram, settings, db, stop)   # polling or webhook until `stop`

Types and constants are in `bot.views`. The Telegram handles load aiogram (seconds of imports), so
they resolve on first use: a process without a bot token never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.web_routes import build_router
from bot.wechat.menu import create_menu
from bot.wiring import build_services
from core.lazy_exports import lazy_attributes

if TYPE_CHECKING:
    from bot.telegram.app import build_telegram
    from bot.telegram.startup import run_telegram

__all__ = ["build_router", "build_services", "build_telegram", "create_menu", "run_telegram"]

__getattr__ = lazy_attributes(__name__, {
    "build_telegram": ("bot.telegram.app", "build_telegram"),
    "run_telegram": ("bot.telegram.startup", "run_telegram"),
})
