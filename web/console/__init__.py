"""The department console: server-rendered pages under /console."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from web.console import admin, boards, login, policy_pages, reach, review

    return [login.router, policy_pages.router, review.router, reach.router, boards.router, admin.router]
