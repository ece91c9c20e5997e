"""One router per feature, included in this order; the catch-all question router is last."""

from __future__ import annotations

from aiogram import Router

from bot.telegram.handlers import calculator, callbacks, help, latest, my, question, read_aloud, start, subscribe


def routers() -> list[Router]:
    return [
        m.build_router()
        for m in (start, subscribe, my, latest, help, read_aloud, calculator, callbacks, question)
    ]
