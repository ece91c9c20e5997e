"""Three `python run.py worker` processes on one PostgreSQL queue with REDIS_URL, against the fake
Bot API, while every core is busy: each recipient gets exactly one message per delivery, the fake
never sees more than the bot's limit in any one-second window, and never two messages to one
chat within a second."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import clock
from core.db import Database
from push.dao import fanout as store
from push.dao.fanout import NewDelivery
from push.models import Delivery, DeliveryStatus
from tests.factories import make_published_policy
from tests.fakes.telegram_api import FakeTelegram
from tests.load import cpu_hog
from tests.push.test_shared_limits import most_in_any_window

ROOT = Path(__file__).resolve().parents[2]
# The figure: every one of 10,000 recipients exactly once, at least 50 full one-second
# windows of the shared limit. It runs beside the rest of the suite on its own xdist worker.
RECIPIENTS = int(os.environ.get("THREE_WORKER_RECIPIENTS", "10000"))
TWICE = 100  # recipients who get a second policy: their two messages must be a second apart
PER_SECOND = 200
FIRST_CHAT = 70_000_000
WORKERS = 3


async def _queue_deliveries(db: Database) -> int:
    now = clock.now()
    first = await make_published_policy(db, title="三进程共享限额测试一")
    second = await make_published_policy(db, title="三进程共享限额测试二")
    rows: list[NewDelivery] = []
    for n in range(1, RECIPIENTS + 1):
        # A chat's two messages sit next to each other in the queue, so that different workers
        # claim them at about the same time and only the shared per-chat limit keeps them apart.
        for policy in (first, second) if n <= TWICE else (first,):
            rows.append(NewDelivery(policy.id, 1, "published", n, n, "telegram", str(FIRST_CHAT + n), ("测试",),
                                    "subscriber", None, False, False, now, now))
    async with db.session() as session:
        await store.insert_deliveries(session, rows)
    return len(rows)


def _start_worker(
    db_url: str, fake: FakeTelegram, redis_url: str, prefix: str, data_dir: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "TELEGRAM_BOT_TOKEN": "424242:THREEWORKERS",
        "TELEGRAM_API_BASE": fake.base_url,
        "TELEGRAM_PER_SECOND": str(PER_SECOND),
        "SECRET_KEY": "three-workers",
        "DATA_DIR": str(data_dir),
    }
    return subprocess.Popen([sys.executable, "run.py", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def _sent(db: Database) -> int:
    async with db.reader() as session:
        return int(await session.scalar(select(func.count()).where(Delivery.status == DeliveryStatus.SENT)) or 0)


@pytest.mark.slow
@pytest.mark.xdist_group("hog")  # never beside another CPU hog (make test runs --dist loadgroup)
async def test_three_workers_share_the_bots_limits(
    db: Database, fake_telegram: FakeTelegram, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several worker processes share a queue on PostgreSQL")
    total = await _queue_deliveries(db)
    fake_telegram.enforce_limits(per_second=PER_SECOND, per_chat_per_second=1, per_group_per_minute=20)
    loop = asyncio.get_running_loop()
    with cpu_hog():
        workers = [_start_worker(db.url, fake_telegram, redis_url, redis_prefix, tmp_path) for _ in range(WORKERS)]
        started = loop.time()
        try:
            while await _sent(db) < total:
                dead = [w for w in workers if w.poll() is not None]
                assert not dead, dead[0].stderr.read().decode()[-3000:] if dead[0].stderr else "worker died"
                assert loop.time() - started < 900, f"only {await _sent(db)} of {total} sent"
                await asyncio.sleep(0.5)
            elapsed = loop.time() - started
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()

    sends = [c for c in fake_telegram.calls_to("sendMessage") if c.status == 200]
    per_chat: dict[int, list[float]] = defaultdict(list)
    for call in sends:
        per_chat[int(call.params["chat_id"])].append(call.at)
    expected = {FIRST_CHAT + n: (2 if n <= TWICE else 1) for n in range(1, RECIPIENTS + 1)}
    assert {chat: len(times) for chat, times in per_chat.items()} == expected  # nobody missed, nobody twice
    busiest = most_in_any_window([c.at for c in sends], 1.0)
    closest = min(abs(t[1] - t[0]) for t in per_chat.values() if len(t) == 2)
    span = max(c.at for c in sends) - min(c.at for c in sends)
    print(f"{len(sends)} messages by {WORKERS} workers in {elapsed:.1f} s, {span:.1f} s from first to last "
          f"({len(sends) / span:.0f}/s); "
          f"busiest second {busiest} (limit {PER_SECOND}); closest two to one chat {closest:.2f} s apart; "
          f"429s {len(fake_telegram.rate_violations)}")
    assert busiest <= PER_SECOND
    assert closest >= 1.0
    assert fake_telegram.rate_violations == []
