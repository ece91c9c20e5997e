"""Start-up never depends on Telegram being reachable, and only one process polls it.

* `python run.py` with the Bot API down: /healthz answers at once, the log says Telegram is
  unreachable and will be retried; when the Bot API comes up, the webhook and the command
  menu get set without a restart.
* Two processes on one database: exactly one calls getUpdates, the other only sends; when the
  poller stops, the other takes over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.telegram.app import build_telegram
from bot.telegram.startup import keep_trying, polling_leadership, run_telegram
from bot.wiring import build_services
from core.db import Database
from core.scheduler import FileLeadership
from core.settings import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.test_serve import REPO, answers_healthz, free_port, start_server

WEBHOOK = "https://policy.example.gov.cn/telegram/webhook"


@pytest.mark.slow
async def test_serve_starts_with_telegram_down_and_sets_the_webhook_once_it_is_up(tmp_path: Path) -> None:
    http_port, telegram_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'startup.db'}",
        "DATA_DIR": str(tmp_path),
        "HTTP_PORT": str(http_port),
        "TELEGRAM_BOT_TOKEN": "42:STARTUP-test",
        "TELEGRAM_API_BASE": f"http://127.0.0.1:{telegram_port}",  # nothing listens there yet
        "TELEGRAM_WEBHOOK_URL": WEBHOOK,
        "TELEGRAM_WEBHOOK_SECRET": "startup-secret",
    }
    server = await start_server(env)
    log = bytearray()

    async def collect() -> None:
        assert server.stdout is not None
        while chunk := await server.stdout.read(4096):
            log.extend(chunk)

    reader = asyncio.create_task(collect())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=10) as client:
            if not await answers_healthz(client, 240, server, log):
                pytest.fail("the server did not answer /healthz with Telegram down: " + log.decode()[-3000:])
            for _ in range(240):
                if "Telegram 暂不可达" in log.decode(errors="replace"):
                    break
                await asyncio.sleep(0.25)
            assert "Telegram 暂不可达" in log.decode(errors="replace")
            assert (await client.get("/healthz")).status_code == 200

        async with FakeTelegram(port=telegram_port) as telegram:
            await telegram.wait_for(lambda: telegram.webhook.get("url") == WEBHOOK, timeout=120)
            assert telegram.commands, "the command menu was not set"
            assert server.returncode is None
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGINT)
        await asyncio.wait_for(server.wait(), timeout=60)
        await asyncio.wait_for(reader, timeout=10)
    assert server.returncode == 0, log.decode()[-3000:]
    assert "Telegram 已恢复" in log.decode(errors="replace")


def _runtime(db: Database, token: str, base_url: str):  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, telegram_bot_token=token, telegram_api_base=base_url,  # type: ignore[call-arg]
                        secret_key="s", scheduler_poll_seconds=0.2)
    runtime = build_telegram(build_services(db, settings))
    assert runtime is not None
    return runtime, settings


async def test_only_one_process_polls_and_the_other_takes_over(
    db: Database, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    lock = tmp_path / "poll.lock"  # what two processes on one SQLite file share
    first, first_settings = _runtime(db, "101:FIRST", fake_telegram.base_url)
    second, second_settings = _runtime(db, "202:SECOND", fake_telegram.base_url)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    a = asyncio.create_task(run_telegram(first, first_settings, db, stop_first, leadership=FileLeadership(lock),
                                         polling_timeout=1))
    await fake_telegram.wait_for(lambda: [c for c in fake_telegram.calls_to("getUpdates") if c.token == "101:FIRST"],
                                 timeout=30)
    b = asyncio.create_task(run_telegram(second, second_settings, db, stop_second, leadership=FileLeadership(lock),
                                         polling_timeout=1))
    try:
        # While the first polls, the second keeps trying for the lock and never polls.
        polls_of_first = len([c for c in fake_telegram.calls_to("getUpdates") if c.token == "101:FIRST"])
        await fake_telegram.wait_for(
            lambda: len([c for c in fake_telegram.calls_to("getUpdates") if c.token == "101:FIRST"])
            >= polls_of_first + 2, timeout=30)
        assert not [c for c in fake_telegram.calls_to("getUpdates") if c.token == "202:SECOND"]
        assert not b.done()

        stop_first.set()
        await asyncio.wait_for(a, timeout=30)
        await fake_telegram.wait_for(
            lambda: [c for c in fake_telegram.calls_to("getUpdates") if c.token == "202:SECOND"], timeout=30)
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.wait_for(asyncio.gather(a, b, return_exceptions=True), timeout=30)
        await first.bot.session.close()
        await second.bot.session.close()


async def test_retries_pause_longer_and_stop_on_request() -> None:
    calls = 0
    stop = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("down")

    assert await keep_trying("测试", flaky, stop, first_delay=0.01) is True and calls == 3

    async def never() -> None:
        raise ConnectionError("down")

    stopper = asyncio.get_running_loop().call_later(0.2, stop.set)
    assert await keep_trying("测试", never, stop, first_delay=0.01) is False
    stopper.cancel()


def test_the_poll_lock_is_not_the_scheduler_lock(db: Database) -> None:
    lock = polling_leadership(db)
    if isinstance(lock, FileLeadership):
        assert lock.path.name.endswith(".telegram-poll.lock")


async def test_polling_waits_for_telegram_and_starts_when_it_comes_up(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram.startup")
    port = free_port()
    runtime, settings = _runtime(db, "303:LATE", f"http://127.0.0.1:{port}")  # nothing listens yet
    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(runtime, settings, db, stop, leadership=FileLeadership(tmp_path / "l"),
                                            polling_timeout=1, first_delay=0.05))
    try:
        for _ in range(6000):  # wait for two failed attempts, each logged; the task keeps going
            if sum("Telegram 暂不可达" in r.getMessage() for r in caplog.records) >= 2:
                break
            assert not task.done(), task
            await asyncio.sleep(0.01)
        assert sum("Telegram 暂不可达" in r.getMessage() for r in caplog.records) >= 2
        async with FakeTelegram(port=port) as telegram:
            await telegram.wait_for(lambda: telegram.calls_to("getUpdates"), timeout=60)
            assert telegram.commands and telegram.calls_to("deleteWebhook")
            stop.set()
            await asyncio.wait_for(task, timeout=30)
        assert any("Telegram 已恢复" in r.getMessage() for r in caplog.records)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), timeout=30)
        await runtime.bot.session.close()


def test_wechat_menu_command_reports_an_unreachable_api_without_a_traceback(tmp_path: Path) -> None:
    import subprocess

    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'menu.db'}", "DATA_DIR": str(tmp_path),
           "WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx-app", "WECHAT_APP_SECRET": "s",
           "WECHAT_API_BASE": f"http://127.0.0.1:{free_port()}/cgi-bin/"}  # nothing listens there
    result = subprocess.run([sys.executable, "run.py", "wechat", "menu"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert "公众号菜单未能创建" in result.stderr and "Traceback" not in result.stderr + result.stdout
