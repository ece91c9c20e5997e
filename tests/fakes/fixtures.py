"""pytest plugin: function-scoped fakes, started on random ports and stopped after each test.

Registered by the root conftest (``pytest_plugins = ["tests.fakes.fixtures"]``); standalone use:
``pytest -p tests.fakes.fixtures``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.wechat_api import FakeWeChat
from tests.fakes.wecom_robot import FakeWeComRobot


@pytest_asyncio.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A running fake Bot API; point aiogram at ``fake_telegram.base_url``."""
    async with FakeTelegram() as tg:
        yield tg


@pytest_asyncio.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChat]:
    """A running fake 公众号 API; clients use ``fake_wechat.api_base`` (see ``wechatpy_client``)."""
    async with FakeWeChat() as wx:
        yield wx


@pytest_asyncio.fixture
async def fake_wecom() -> AsyncIterator[FakeWeComRobot]:
    """A running fake WeCom group robot; ``fake_wecom.webhook_url(key)`` registers a key."""
    async with FakeWeComRobot() as robot:
        yield robot
