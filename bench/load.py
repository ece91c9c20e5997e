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

Then (`bench._load_live`), on SQLite (`ask` and `steady` on `--served-backend`, SQLite by default;
`postgres` is the layout with separate worker processes):

  first  publish → first message sent at `--first-recipients` (75,000) recipients, the fan-out
         and the sender in one pipeline as `run.py serve` runs them (p50 of `--first-runs`;
         goal < 250 ms);
  ask    `GET /api/ask` answers/s with `--askers` (50) concurrent askers over HTTP against the
         served app with the shared real policies published;
  steady publishing (one policy to `--steady-recipients` every `--publish-every` s) and asking
         (`--ask-rate` per s) for `--steady-minutes` (10; 0 skips it), a worker process fanning
         out and sending to the fake Bot API: per minute ask p50/p95, publish → first / last
         message and each process's RSS; then the first minute against the last.

    .venv/bin/python -m bench.load --recipients 100000                 # everything
    .venv/bin/python -m bench.load --only ask,steady --served-backend postgres --steady-minutes 10
    .venv/bin/python -m bench.load --recipients 2000 --first-recipients 2000 --ask-seconds 3 \
        --steady-minutes 0.2 --pg-workers 1      # smoke
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


def serve_pipeline(url: str, fake_base: str) -> None:
    """The steady run's worker process: fan-out and sending in one pipeline, until SIGTERM."""
    from bench._load_live import steady_groups
    from core import clock
    from core.db import Database
    from push.channels.telegram import TelegramChannel, make_telegram_bot
    from push.fanout import FanOut
    from push.ratelimit import TelegramLimits, telegram_limiter
    from push.service import Pipeline

    async def main() -> None:
        clock.set_clock(clock.SystemClock())
        db = Database(url)
        channel = TelegramChannel(make_telegram_bot(TOKEN, fake_base), telegram_limiter(TelegramLimits(0, 0, 0)))
        pipeline = Pipeline(db, {"telegram": channel}, base_url="http://pd.bench", secret="bench",
                            concurrency=50, batch_size=100)  # fmt: skip
        pipeline.fanout = FanOut(db, audience_groups=steady_groups(), on_chunk=pipeline.worker.nudge.set)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await pipeline.run(stop)
        await channel.close()
        await db.dispose()

    asyncio.run(main())


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not `ru_maxrss`: Linux keeps it across fork and exec, so a
    worker started by a large bench process would report the bench's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Workers:
    def __init__(self, url: str, fake_base: str, count: int, mode: str = "--serve-worker") -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.load", mode, url, fake_base],
                stdout=subprocess.PIPE,
                cwd=ROOT,
                env=env,
                text=True,
            )
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
    from core import clock

    clock.set_clock(clock.FixedClock(datetime.datetime(2026, 3, 2, 1, tzinfo=datetime.UTC)))
    if "send" in args.only:
        await send_and_claim(args)
    if "first" in args.only:
        await first_message_section(args)
    if {"ask", "steady"} & set(args.only):
        await served_sections(args)
    print(f"  bench process peak RSS {peak_rss_mb():.0f} MB "
          f"(load average now {os.getloadavg()[0]:.1f})")  # fmt: skip


async def send_and_claim(args: argparse.Namespace) -> None:
    from bench.push_throughput import FakeProcess

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


async def first_message_section(args: argparse.Namespace) -> None:
    import statistics

    from bench._load_live import first_message
    from bench.push_throughput import FakeProcess

    db, _url, drop = await fresh_database("sqlite", args.first_recipients)
    fake = FakeProcess()
    try:
        from subscriptions import service

        await service.warm_up_match_index(db)
        times = await first_message(db, fake.base_url, args.first_runs)
    finally:
        fake.stop()
        await drop()
    shown = ", ".join(f"{t * 1000:.0f}" for t in times)
    print(
        f"  sqlite, publish → first message sent, {args.first_recipients:,} recipients, fan-out and sender in one "
        f"pipeline: p50 {statistics.median(times) * 1000:.0f} ms (goal < 250 ms; runs {shown} ms)",
        flush=True,
    )


async def served_sections(args: argparse.Namespace) -> None:
    from bench._load_live import Server, ask_burst, data_dir, minute_line, percentile, publish_real_policies, steady
    from bench.push_throughput import FakeProcess
    from bench.qa_real import real_policies_available

    if not real_policies_available():
        print("  ask / steady: skipped (no ../shared/data/real-policies.jsonl)")
        return
    # SQLite takes one writer: with the served app (question log), the bench (publishing) and a
    # worker process all writing, asks wait on the file lock. PostgreSQL is the layout with
    # separate workers (README, Operations), so the steady run is meant for it.
    db, url, drop = await fresh_database(args.served_backend, args.steady_recipients)
    published = await publish_real_policies(db)
    served = Path(url.removeprefix("sqlite+aiosqlite:///")) if args.served_backend == "sqlite" else url
    server = Server(served, data_dir())
    try:
        if "ask" in args.only:
            answers, seconds, times, errors = await ask_burst(server.base, args.askers, args.ask_seconds)
            print(f"  /api/ask over HTTP, {args.askers} concurrent askers, {published} real policies: "
                  f"{answers / seconds:,.0f} answers/s over {seconds:.0f} s, p50 {percentile(times, 50):.0f} ms, "
                  f"p95 {percentile(times, 95):.0f} ms, {errors} errors", flush=True)  # fmt: skip
        if "steady" in args.only and args.steady_minutes > 0:
            fake = FakeProcess()
            worker = Workers(url, fake.base_url, 1, mode="--serve-pipeline")
            try:
                pids = {"app": server.proc.pid, "worker": worker.procs[0].pid, "bench": os.getpid()}
                print(f"  steady run, {args.steady_minutes:g} min: {args.ask_rate:g} asks/s, a policy to "
                      f"{args.steady_recipients:,} recipients every {args.publish_every:g} s "
                      f"({args.served_backend}, 1 worker process, fake Bot API)", flush=True)  # fmt: skip
                minutes = await steady(db, server.base, pids, args.steady_minutes, args.ask_rate,
                                       args.publish_every, args.steady_recipients)  # fmt: skip
                for n, minute in enumerate(minutes, start=1):
                    print("  " + minute_line(f"minute {n}", minute), flush=True)
                print("  " + minute_line("first minute", minutes[0]))
                print("  " + minute_line("last minute", minutes[-1]))
            finally:
                worker.stop()
                fake.stop()
    finally:
        server.stop()
        await drop()


SECTIONS = ("send", "first", "ask", "steady")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres", type=lambda v: v.split(","))
    parser.add_argument("--pg-workers", default="1,3", type=lambda v: [int(x) for x in v.split(",")])
    parser.add_argument("--only", default=",".join(SECTIONS), type=lambda v: v.split(","),
                        help=f"sections to run, of {','.join(SECTIONS)}")  # fmt: skip
    parser.add_argument("--first-recipients", type=int, default=75_000)
    parser.add_argument("--first-runs", type=int, default=5)
    parser.add_argument("--askers", type=int, default=50)
    parser.add_argument("--ask-seconds", type=float, default=30.0)
    parser.add_argument("--steady-minutes", type=float, default=10.0)
    parser.add_argument("--steady-recipients", type=int, default=10_000)
    parser.add_argument("--served-backend", choices=("sqlite", "postgres"), default="sqlite",
                        help="database of the ask and steady sections (postgres: the several-process layout)")
    parser.add_argument("--ask-rate", type=float, default=10.0, help="asks per second in the steady run")
    parser.add_argument("--publish-every", type=float, default=30.0, help="seconds between publishes")
    return parser.parse_args(argv)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] in ("--serve-worker", "--serve-pipeline"):
        (serve_worker if sys.argv[1] == "--serve-worker" else serve_pipeline)(sys.argv[2], sys.argv[3])
        sys.exit(0)
    asyncio.run(main(parse()))
