"""The pipeline as a separate process for the crash test: `python -m tests.push.crash_worker
DATABASE_URL TELEGRAM_BASE RECIPIENTS`. Runs until killed."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from core.db import Database
from push.channels.telegram import TelegramChannel, make_telegram_bot
from push.ratelimit import TelegramLimits, telegram_limiter
from push.service import Pipeline
from subscriptions.views import DeliveryPreference, Recipient

FIRST_CHAT = 50_000_000
CONCURRENCY = 20
BATCH_SIZE = 50
# Short, so the killed worker's rows come back within seconds; long enough that the heartbeat
# (every lease/3) keeps the survivor's leases on a machine whose cores are all busy.
LEASE_SECONDS = 3.0


def audience_of(count: int) -> Any:
    pref = DeliveryPreference("immediate", None, None, None, False)
    people = [
        Recipient(n, n, "telegram", str(FIRST_CHAT + n), ("测试",), "subscriber", pref) for n in range(1, count + 1)
    ]

    async def audience(session: Any, policy: Any) -> list[Recipient]:
        return people

    return audience


async def main(url: str, base: str, count: int) -> None:
    db = Database(url)
    channel = TelegramChannel(make_telegram_bot("123456:CRASHTEST", base), telegram_limiter(TelegramLimits(0, 0, 0)))
    pipeline = Pipeline(
        db, {"telegram": channel}, base_url="http://pd.test", secret="s", audience=audience_of(count),
        concurrency=CONCURRENCY, batch_size=BATCH_SIZE, lease_seconds=LEASE_SECONDS, poll_interval=0.05,
    )
    await pipeline.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
