"""Outcomes that cannot be recorded (database read-only, disk full) stop the worker from claiming
and sending, /healthz reports unhealthy (it checks a write), and after recovery nobody has been
sent a message twice because of it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from core.db import Database
from core.migrate import upgrade_database
from core.settings import Settings
from push.channels.telegram import TelegramChannel, make_telegram_bot
from push.fanout import FanOut
from push.models import DeliveryStatus
from push.ratelimit import TelegramLimits, telegram_limiter
from push.service import Pipeline
from tests.conftest import PG_ADMIN_URL
from tests.factories import make_published_policy
from tests.fakes.telegram_api import FakeTelegram
from tests.push.helpers import StaticAudience, deliveries, make_recipients, settled_count
from web.app import create_app

RECIPIENTS = 300
FIRST_CHAT = 6_000_001

Toggle = Callable[[], Awaitable[None]]


async def _health(db: Database, tmp_path: Path) -> int:
    app = create_app(db, Settings(secret_key="k", data_dir=tmp_path))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return (await http.get("/healthz")).status_code


async def _until(condition: Callable[[], bool], within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.05)


async def _publish_through_outage(
    db: Database, fake: FakeTelegram, tmp_path: Path, break_writes: Toggle, restore_writes: Toggle
) -> None:
    recipients = await make_recipients(db, RECIPIENTS, first_chat=FIRST_CHAT)
    await make_published_policy(db)
    await FanOut(db, audience=StaticAudience(recipients)).run_once()
    fake.delay(0.01, times=None)  # network time, so the outage lands mid-publish
    bot = make_telegram_bot("5151:FAULTS", fake.base_url)
    channel = TelegramChannel(bot, telegram_limiter(TelegramLimits(0, 0, 0)))
    # A short lease, so leases run out during the outage: recovery must still not resend.
    pipeline = Pipeline(db, {"telegram": channel}, base_url="http://pd.test", secret="s", run_fanout=False,  # type: ignore[dict-item]
                        concurrency=10, batch_size=20, lease_seconds=2.0, poll_interval=0.05)
    worker = pipeline.worker
    stop = asyncio.Event()
    task = asyncio.create_task(pipeline.run(stop))
    try:
        await fake.wait_for(lambda: len(fake.sent_messages()) >= 60, timeout=60)
        await break_writes()
        await _until(worker.recording_blocked.is_set, 60, "the worker did not notice it cannot record")
        during = await settled_count(lambda: len(fake.sent_messages()))  # sends already under way finish
        assert during < RECIPIENTS
        assert await _health(db, tmp_path) == 503
        await asyncio.sleep(3.0)  # longer than the lease
        assert len(fake.sent_messages()) == during  # nothing sent that could not be recorded
        await restore_writes()
        await fake.wait_for(lambda: len(fake.sent_messages()) >= RECIPIENTS, timeout=120)
        for _ in range(300):
            if len(await deliveries(db, status=DeliveryStatus.SENT)) == RECIPIENTS:
                break
            await asyncio.sleep(0.1)
        assert await _health(db, tmp_path) == 200
    finally:
        stop.set()
        await task
        await channel.close()
    per_chat = Counter(m["chat_id"] for m in fake.sent_messages())
    assert set(per_chat) == {FIRST_CHAT + n for n in range(RECIPIENTS)}  # nobody lost
    assert max(per_chat.values()) == 1, [c for c, n in per_chat.items() if n > 1]  # nobody twice
    assert {r.status for r in await deliveries(db)} == {DeliveryStatus.SENT}


async def _terminate_sessions(conn: object, name: str) -> None:
    await conn.execute(  # type: ignore[attr-defined]
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )


async def test_a_read_only_database_stops_sending_until_it_takes_writes(
    db: Database, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite's read-only case is the full disk below")
    import asyncpg

    name = db.url.rsplit("/", 1)[-1]
    admin = await asyncpg.connect(PG_ADMIN_URL)

    async def set_read_only(on: bool) -> None:
        # New sessions start read-only (as on a standby); the open ones are cut so they reconnect.
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}')
        await _terminate_sessions(admin, name)

    try:
        await _publish_through_outage(
            db, fake_telegram, tmp_path, lambda: set_read_only(True), lambda: set_read_only(False)
        )
    finally:
        with contextlib.suppress(Exception):
            await set_read_only(False)
        await admin.close()


@contextlib.asynccontextmanager
async def _small_filesystem(tmp_path: Path) -> AsyncIterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],  # noqa: ASYNC221
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)  # noqa: ASYNC221


async def test_a_full_disk_stops_sending_until_there_is_room(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async with _small_filesystem(tmp_path) as mount:
        db = Database(f"sqlite+aiosqlite:///{mount / 'pd.db'}")
        await upgrade_database(db)
        filler = mount / f"filler-{uuid.uuid4().hex[:6]}"

        async def fill() -> None:
            with contextlib.suppress(OSError), filler.open("wb") as out:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
                    os.fsync(out.fileno())

        async def make_room() -> None:
            filler.unlink()

        try:
            await _publish_through_outage(db, fake_telegram, tmp_path, fill, make_room)
        finally:
            await db.dispose()
