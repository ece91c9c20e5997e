"""Delivery load with separate worker processes: `python -m bench.load --recipients 100000`.

For SQLite (one worker process) and PostgreSQL (1 and 3 worker processes), each run on a fresh
database with N synthetic contacts (the match bench's loader) and one county-wide policy that
matches all of them:

  send   the real fan-out (by recipient groups) in this process, then the worker processes send
         to the fake Bot API (its own process, limits off): messages/s and publish → last
         message recorded as sent;
  claim  the same with a channel that accepts every message at once: the queue's claim and
         record rate alone;
  RSS    the peak resident memory of each worker process and of this one.

Not covered here (see the README's benchmark table): /api/ask under concurrent askers
(`bench.qa_http`), and a long steady run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
TOKEN = "123456:LOADTOKEN"


# -- worker processes ----------------------------------------------------------------------


class AcceptEverything:
    """A channel that accepts every message at once: what is left is the queue itself."""

    name = "telegram"

    async def send(self, message: Any) -> Any:
        from push.channels.base import SendResult, SendStatus

        return SendResult(SendStatus.SENT, provider_message_id="noop")

    async def close(self) -> None:
        return None


def serve_worker(url: str, fake_base: str) -> None:
    """One worker process (no fan-out): sends until SIGTERM, then prints its peak RSS."""
    from core import clock
    from core.db import Database
    from push.channels.telegram import TelegramChannel, make_telegram_bot
    from push.ratelimit import TelegramLimits, telegram_limiter
    from push.service import Pipeline

    async def main() -> None:
        clock.set_clock(clock.SystemClock())
        db = Database(url)
        if fake_base == "noop":
            channel: Any = AcceptEverything()
        else:
            channel = TelegramChannel(make_telegram_bot(TOKEN, fake_base), telegram_limiter(TelegramLimits(0, 0, 0)))
        pipeline = Pipeline(db, {"telegram": channel}, base_url="http://pd.bench", secret="bench",
                            run_fanout=False, concurrency=50, batch_size=100)  # fmt: skip
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await pipeline.run(stop)
        await channel.close()
        await db.dispose()

    asyncio.run(main())
    print(json.dumps({"rss_mb": peak_rss_mb()}), flush=True)


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not `ru_maxrss`: Linux keeps it across fork and exec, so a
    worker started by a large bench process would report the bench's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Workers:
    def __init__(self, url: str, fake_base: str, count: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.procs = [
            subprocess.Popen([sys.executable, "-m", "bench.load", "--serve-worker", url, fake_base],
                             stdout=subprocess.PIPE, cwd=ROOT, env=env, text=True)
            for _ in range(count)
        ]
        for proc in self.procs:
            assert proc.stdout is not None
            proc.stdout.readline()  # "ready"

    def stop(self) -> list[float]:
        rss = []
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            out, _ = proc.communicate(timeout=120)
            lines = [line for line in out.splitlines() if line.startswith("{")]
            rss.append(json.loads(lines[-1])["rss_mb"] if lines else float("nan"))
        return rss


# -- one run -------------------------------------------------------------------------------


async def fresh_database(backend: str, n: int) -> tuple[Any, str, Any]:
    """(Database, its URL, a clean-up coroutine function) with n contacts loaded."""
    from bench.match_bench import load_postgres, load_sqlite
    from core.db import Database
    from core.migrate import upgrade_database

    if backend == "sqlite":
        path = Path(tempfile.mkdtemp()) / "load.db"
        url = f"sqlite+aiosqlite:///{path}"
        db = Database(url)
        await upgrade_database(db)
        await asyncio.to_thread(load_sqlite, path, n)

        async def drop() -> None:
            await db.dispose()

        return db, url, drop
    import asyncpg

    name = f"pd_load_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    db = Database(url)
    await upgrade_database(db)
    await load_postgres(url.replace("+asyncpg", ""), n)

    async def drop_pg() -> None:
        await db.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    return db, url, drop_pg


async def sent_count(db: Any, policy_id: int) -> int:
    from sqlalchemy import text

    async with db.reader() as s:
        found = await s.execute(
            text("SELECT count(*) FROM delivery WHERE policy_id = :p AND status = 'sent'"), {"p": policy_id}
        )
        return int(found.scalar_one())


async def one_run(db: Any, url: str, fake_base: str, workers: int, n: int) -> dict[str, Any]:
    from bench.match_bench import TOPICS
    from policies import service as policies
    from push.fanout import FanOut
    from subscriptions import service
    from tests.factories import make_published_policy
    from tests.subscriptions.helpers import policy

    everyone = policy(topics=tuple(TOPICS))  # every synthetic contact has 1–5 of these topics

    def groups(session: Any, _published: Any, **options: Any) -> Any:
        return service.audience_groups(session, everyone, **options)

    published = await make_published_policy(db, title=f"负载测试{time.time_ns()}")
    async with db.reader() as s:
        (event,) = [e for e in await policies.events_after(s, 0, limit=10_000) if e.policy_id == published.id]
    await service.warm_up_match_index(db)  # as `run.py serve` does at start-up
    running = Workers(url, fake_base, workers)
    try:
        start = time.perf_counter()
        rows = await FanOut(db, audience_groups=groups).fan_out_event(event)
        fanned = time.perf_counter()
        deadline = fanned + (max(600.0, n / 50) if workers else 0)  # 0 workers: the fan-out alone
        while (done := await sent_count(db, published.id)) < rows and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        last = time.perf_counter()
    finally:
        rss = running.stop()
    return {"rows": rows, "sent": done, "fanout_s": fanned - start, "total_s": last - start, "rss": rss}


def report(label: str, result: dict[str, Any]) -> None:
    rate = result["sent"] / result["total_s"] if result["total_s"] else 0.0
    rss = ", ".join(f"{r:.0f}" for r in result["rss"])
    print(f"  {label:46s} {result['sent']:>8,}/{result['rows']:,} sent  {rate:>7,.0f} msg/s  "
          f"publish → last sent {result['total_s']:6.1f} s (fan-out {result['fanout_s']:.2f} s)  "
          f"worker peak RSS {rss} MB", flush=True)  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    from bench.push_throughput import FakeProcess
    from core import clock

    clock.set_clock(clock.FixedClock(datetime.datetime(2026, 3, 2, 1, tzinfo=datetime.UTC)))
    plans = [("sqlite", 1)] + [("postgres", w) for w in args.pg_workers]
    print(f"load: {args.recipients:,} recipients, fake Bot API in its own process, limits off; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    for backend, workers in plans:
        if backend not in args.backends:
            continue
        for mode in ("send", "claim"):
            db, url, drop = await fresh_database(backend, args.recipients)
            fake = FakeProcess() if mode == "send" else None
            try:
                result = await one_run(db, url, fake.base_url if fake else "noop", workers, args.recipients)
            finally:
                if fake is not None:
                    fake.stop()
                await drop()
            what = "fake Bot API" if mode == "send" else "no-op channel (claim rate)"
            report(f"{backend}, {workers} worker(s), {what}", result)
    print(f"  bench process peak RSS {peak_rss_mb():.0f} MB "
          f"(load average now {os.getloadavg()[0]:.1f})")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-worker":
        serve_worker(sys.argv[2], sys.argv[3])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres", type=lambda v: v.split(","))
    parser.add_argument("--pg-workers", default="1,3", type=lambda v: [int(x) for x in v.split(",")])
    asyncio.run(main(parser.parse_args()))
