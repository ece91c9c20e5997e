"""Helpers for the scheduled-job tests: Beijing times, residents with preferences, one worker round."""

from __future__ import annotations

import random
from datetime import datetime, time
from types import SimpleNamespace
from typing import Any

from core.clock import CHINA_TZ
from core.db import Database
from push.channels.base import ChannelAdapter
from push.fanout import FanOut
from push.worker import DeliveryWorker
from subscriptions import service as subscriptions
from tests.push.helpers import test_link

SETTINGS = SimpleNamespace(delivery_attempt_retention_days=None, scheduler_poll_seconds=None)


def bj(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


async def resident(
    db: Database, chat: int, *, frequency: str = "immediate", quiet: tuple[time, time] | None = None,
    topic: str = "employment",
) -> int:
    async with db.session() as session:
        sub = await subscriptions.ensure_subscriber_for_address(session, "telegram", str(chat))
        await subscriptions.subscribe_topics(session, sub.id, [topic])
        await subscriptions.set_preferences(session, sub.id, frequency=frequency, quiet_hours=quiet)
        return sub.id


def worker(db: Database, channel: ChannelAdapter, **options: Any) -> DeliveryWorker:
    return DeliveryWorker(db, {"telegram": channel}, base_url="http://pd.test", secret="s",
                          link_maker=test_link, rng=random.Random(1), **options)


async def deliver(db: Database, channel: ChannelAdapter) -> int:
    """Fan out what is pending and send what is due now; returns rows handled."""
    await FanOut(db).run_once()
    w = worker(db, channel)
    total = 0
    while handled := await w.run_once():
        total += handled
    return total
