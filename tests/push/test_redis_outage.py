"""Redis goes away in the middle of a publish: sending pauses (the limits fail closed), resumes by
itself when Redis is back, and every recipient still gets exactly one message."""

from __future__ import annotations

import asyncio
from collections import Counter
from urllib.parse import urlparse

from core.db import Database
from push.channels.telegram import TelegramChannel, make_telegram_bot
from push.fanout import FanOut
from push.models import DeliveryStatus
from push.ratelimit import TelegramLimits
from push.shared_limits import SharedLimits
from push.worker import DeliveryWorker
from tests.factories import make_published_policy
from tests.fakes.telegram_api import FakeTelegram
from tests.push.helpers import StaticAudience, deliveries, make_recipients, settled_count
from tests.push.tcp_proxy import CuttableProxy

RECIPIENTS = 200


async def test_sending_pauses_while_redis_is_away_and_nothing_is_lost_or_doubled(
    db: Database, fake_telegram: FakeTelegram, redis_url: str, redis_prefix: str
) -> None:
    recipients = await make_recipients(db, RECIPIENTS, first_chat=5_000_001)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    target = urlparse(redis_url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    shared = SharedLimits.from_url(proxy.url, redis_prefix)
    limits = TelegramLimits(per_second=100, per_chat_per_second=1, per_group_per_minute=20)
    channel = TelegramChannel(make_telegram_bot("4242:OUTAGE", fake_telegram.base_url), shared.telegram("4242", limits))
    worker = DeliveryWorker(db, {"telegram": channel}, base_url="http://pd.test", secret="s",  # type: ignore[dict-item]
                            concurrency=10, batch_size=20, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent_messages()) >= 40, timeout=60)
        await proxy.cut()
        during = await settled_count(lambda: len(fake_telegram.sent_messages()))  # those under way finish
        assert during < RECIPIENTS
        await asyncio.sleep(2.0)
        assert len(fake_telegram.sent_messages()) == during  # paused: nothing sent without the limits
        await proxy.start()
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent_messages()) >= RECIPIENTS, timeout=120)
        for _ in range(100):
            if len(await deliveries(db, status=DeliveryStatus.SENT)) == RECIPIENTS:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
        await channel.close()
        await shared.close()
        await proxy.cut()
    per_chat = Counter(m["chat_id"] for m in fake_telegram.sent_messages())
    assert set(per_chat) == {5_000_001 + n for n in range(RECIPIENTS)}  # nobody lost
    assert max(per_chat.values()) == 1  # nobody twice
    rows = await deliveries(db)
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert max(r.attempts for r in rows) == 1  # the pause spent no attempt
