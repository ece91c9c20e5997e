"""bot.service and bot.views name everything other packages and run.py take from the bot."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("door", ["bot.service", "bot.views"])
def test_door_exports_resolve(door: str) -> None:
    module = importlib.import_module(door)
    assert module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{door}.{name}"


def test_web_reads_the_wechat_body_limit_through_the_door() -> None:
    from bot.views import WECHAT_MAX_BODY_BYTES
    from bot.wechat.endpoint import MAX_BODY_BYTES

    assert WECHAT_MAX_BODY_BYTES == MAX_BODY_BYTES
