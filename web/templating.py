"""The Jinja2 environment (autoescaped) with the filters the templates share."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.requests import Request

from core.clock import CHINA_TZ
from policies.views import INTERPRETATION_ELEMENTS
from vocabulary.labels import actor_label, label
from web.auth import csrf_token
from web.models import Role

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
env = templates.env
env.autoescape = True

BADGE_CLASSES = {
    "published": "valid",
    "expired": "expired",
    "repealed": "repealed",
    "draft": "draft",
    "submitted": "pending",
    "approved": "pending",
}


def _local(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).strftime(fmt)
    return value.strftime("%Y-%m-%d")


def _day(value: datetime | date | None) -> str:
    return _local(value, "%Y-%m-%d")


def _csrf_input(request: Request) -> str:
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(csrf_token(request))}">')


env.filters["local"] = _local
env.filters["day"] = _day
env.globals["badge_class"] = lambda status: BADGE_CLASSES.get(status, "draft")
env.globals["csrf_input"] = _csrf_input
env.globals["csrf_token"] = csrf_token
env.globals["ELEMENTS"] = INTERPRETATION_ELEMENTS
env.globals["ROLE_LABELS"] = Role.LABELS
env.globals["label"] = label
env.globals["actor"] = actor_label
