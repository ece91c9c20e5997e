"""Every router of policy items and the calculator, so the app mounts them with one line."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from web import public_calculator
    from web.api import items as item_api
    from web.console import item_roster
    from web.console import items as item_console

    return [item_api.router, public_calculator.router, item_console.router, item_roster.router]
