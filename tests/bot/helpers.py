"""Shared builders for the bot tests."""

from __future__ import annotations

from stdnum.cn import uscc

from bot.wiring import BotServices, build_services
from core.db import Database
from core.settings import Settings

BASE_URL = "http://policy.test"


def settings(**fields: object) -> Settings:
    values: dict[str, object] = {"public_base_url": BASE_URL, "consultation_phone": "0954-12345",
                                 "secret_key": "test-secret"}
    values.update(fields)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def services(db: Database, **fields: object) -> BotServices:
    return build_services(db, settings(**fields))


def credit_code(body: str = "91640424MA76ABCDE") -> str:
    """A valid 统一社会信用代码 (17 characters + the computed check digit)."""
    return body + uscc.calc_check_digit(body)
