"""PostgreSQL without REDIS_URL: per-process limits would add up, so only one process sends at a
time (the sole-sender lock); another takes over when it stops."""

from __future__ import annotations

import asyncio

import pytest

from core.db import Database
from core.scheduler import PostgresLeadership
from push.fanout import FanOut
from push.models import DeliveryStatus
from push.service import SENDER_LOCK_KEY, Pipeline, shared_limits_for
from tests.factories import make_published_policy
from tests.push.helpers import RecordingChannel, StaticAudience, deliveries, make_recipients


def _pipeline(db: Database, channel: RecordingChannel) -> Pipeline:
    return Pipeline(db, {"telegram": channel}, base_url="http://pd.test", secret="s", run_fanout=False,  # type: ignore[dict-item]
                    sender_lock=PostgresLeadership(db, key=SENDER_LOCK_KEY), poll_interval=0.05)


async def test_only_the_lock_holder_sends_and_another_takes_over(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("the sole-sender lock is for PostgreSQL deployments")

    class Settings:
        redis_url = ""

    shared, lock = await shared_limits_for(db, Settings())
    assert shared is None and isinstance(lock, PostgresLeadership)  # start-up chooses the lock
    assert "未配置 REDIS_URL" in capsys.readouterr().out  # and says so

    recipients = await make_recipients(db, 40)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients[:20])).run_once()
    first_channel, second_channel = RecordingChannel(), RecordingChannel()
    first, second = _pipeline(db, first_channel), _pipeline(db, second_channel)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    first_task = asyncio.create_task(first.run(stop_first))
    for _ in range(200):
        if len(first_channel.sent) == 20:
            break
        await asyncio.sleep(0.05)
    second_task = asyncio.create_task(second.run(stop_second))
    await make_published_policy(db, title="第二项政策")
    await FanOut(db, audience=StaticAudience(recipients[20:])).run_once()
    for _ in range(200):
        if len(first_channel.sent) == 40:
            break
        await asyncio.sleep(0.05)
    assert len(first_channel.sent) == 40 and second_channel.sent == []  # the second only waits

    stop_first.set()
    await first_task
    await make_published_policy(db, title="第三项政策")
    await FanOut(db, audience=StaticAudience(recipients[:5])).run_once()
    for _ in range(300):
        if len(second_channel.sent) == 5:
            break
        await asyncio.sleep(0.05)
    stop_second.set()
    await second_task
    assert len(second_channel.sent) == 5  # took over once the first stopped
    assert {r.status for r in await deliveries(db)} == {DeliveryStatus.SENT}
