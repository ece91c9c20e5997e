"""The parts of `bench.load` that need a served app or a running pipeline.

* `first_message`: publish → first message sent, for a county-wide policy, with the fan-out
  and the sender in one pipeline (as `run.py serve` runs them), against the fake Bot API;
* `ask_burst`: `GET /api/ask` answers/s under concurrent askers, over HTTP, against the real
  app (`bench.qa_http`'s server) with the shared real policies published;
* `steady`: publishing and asking at a fixed rate for N minutes, with a separate worker process
  (fan-out and sending) and the served app; per minute: ask latency, publish → first / last
  message, and the RSS of each process; then the first minute against the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STEADY_TITLE = "稳态负载"  # policies the steady run publishes; the worker's audience is everyone for these


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    """Current resident memory of a process (VmRSS), MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# -- publish → first message ---------------------------------------------------------------------


class FirstSend:
    """Wraps a channel: the time of the first message the Bot API accepted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.first: float | None = None
        self.first_cpu = 0.0  # process CPU seconds then
        self.sent = asyncio.Event()

    async def send(self, message: Any) -> Any:
        result = await self.inner.send(message)
        if self.first is None and getattr(result.status, "value", result.status) == "sent":
            self.first, self.first_cpu = time.perf_counter(), time.process_time()
            self.sent.set()
        return result

    async def close(self) -> None:
        await self.inner.close()


def everyone_groups() -> Any:
    """`audience_groups` for the synthetic county: every contact, whatever the policy."""
    from bench.match_bench import TOPICS
    from subscriptions import service
    from tests.subscriptions.helpers import policy

    everyone = policy(topics=tuple(TOPICS))  # every synthetic contact has 1–5 of these topics

    def groups(session: Any, _published: Any, **options: Any) -> Any:
        return service.audience_groups(session, everyone, **options)

    return groups


async def first_message(db: Any, fake_base: str, runs: int) -> list[float]:
    """Seconds from a committed publish to the first message sent, `runs` times; after each,
    the rest of that policy's rows are cancelled so the next run starts with an empty queue.
    Prints the process CPU seconds from the wake-up to the fan-out's first commit and to the
    first message (matching, planning and the worker's claim and send all run in this process)."""
    from sqlalchemy import text

    from bench.load import TOKEN
    from push import service as push
    from push.channels.telegram import TelegramChannel, make_telegram_bot
    from push.fanout import FanOut
    from push.ratelimit import TelegramLimits, telegram_limiter
    from tests.factories import make_published_policy

    times, chunk_cpu, first_cpu = [], [], []
    for n in range(runs):
        channel = FirstSend(
            TelegramChannel(make_telegram_bot(TOKEN, fake_base), telegram_limiter(TelegramLimits(0, 0, 0)))
        )
        pipeline = push.Pipeline(db, {"telegram": channel}, base_url="http://pd.bench", secret="bench",
                                 concurrency=50, batch_size=100)  # fmt: skip
        cpu = {"from": -1.0, "chunk": float("nan")}

        def on_chunk(nudge: Any = pipeline.worker.nudge.set, cpu: dict[str, float] = cpu) -> None:
            if cpu["from"] >= 0 and cpu["chunk"] != cpu["chunk"]:  # NaN: the first commit since the wake-up
                cpu["chunk"] = time.process_time() - cpu["from"]
            nudge()

        pipeline.fanout = FanOut(db, audience_groups=everyone_groups(), on_chunk=on_chunk)
        stop = asyncio.Event()
        running = asyncio.create_task(pipeline.run(stop))
        await asyncio.sleep(1.0)  # started, earlier events done
        published = await make_published_policy(db, title=f"首条消息{n}-{time.time_ns()}")
        start = time.perf_counter()
        cpu["from"] = time.process_time()
        push.wake()  # what the console's publish does in `run.py serve`
        try:
            await asyncio.wait_for(channel.sent.wait(), timeout=120)
            assert channel.first is not None
            times.append(channel.first - start)
            first_cpu.append(channel.first_cpu - cpu["from"])
            chunk_cpu.append(cpu["chunk"])
        finally:
            stop.set()
            await running
            await channel.close()
            async with db.session() as s:
                await s.execute(
                    text("UPDATE delivery SET status = 'cancelled' WHERE policy_id = :p AND status = 'pending'"),
                    {"p": published.id},
                )
    print(f"  CPU wake-up → first slice committed {', '.join(f'{c * 1000:.0f}' for c in chunk_cpu)} ms; "
          f"→ first message {', '.join(f'{c * 1000:.0f}' for c in first_cpu)} ms", flush=True)
    return times


# -- the served app ------------------------------------------------------------------------------


class Server:
    """`bench.qa_http`'s server (the real app and Q&A engine) on a SQLite file or a database URL,
    in a child process."""

    def __init__(self, database: Path | str, data_dir: Path) -> None:
        from bench.qa_http import free_port, wait_ready

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.qa_http", "--serve", str(database), str(data_dir), str(self.port)],
            cwd=ROOT, env=env,
        )  # fmt: skip
        wait_ready(self.base, self.proc, timeout=600)

    def stop(self) -> None:
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=60)
        if self.proc.poll() is None:
            self.proc.kill()


async def publish_real_policies(db: Any) -> int:
    from bench.qa_real import _publish, load_real_rows
    from core.errors import DomainError

    count = 0
    for row in load_real_rows():
        with contextlib.suppress(DomainError):
            await _publish(db, row)
            count += 1
    return count


def questions() -> list[str]:
    from bench.qa_real import load_real_questions

    return [q.text for q in load_real_questions()]


async def ask_burst(base: str, askers: int, seconds: float) -> tuple[int, float, list[float], int]:
    """(answers, seconds, latencies in ms, errors) with `askers` clients asking back to back."""
    import httpx

    asked = questions()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def asker(n: int, client: httpx.AsyncClient) -> None:
        nonlocal errors
        for q in itertools.islice(itertools.cycle(asked), n, None):
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            try:
                response = await client.get("/api/ask", params={"q": q})
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1

    limits = httpx.Limits(max_connections=askers, max_keepalive_connections=askers)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(asker(n * 7, client) for n in range(askers)))
        elapsed = time.perf_counter() - started
    return len(latencies), elapsed, latencies, errors


# -- steady run ----------------------------------------------------------------------------------


@dataclass
class Minute:
    asks: list[float] = field(default_factory=list)  # ms
    ask_errors: int = 0
    first: list[float] = field(default_factory=list)  # s, publish → first message sent
    last: list[float] = field(default_factory=list)  # s, publish → last message sent
    rss: dict[str, float] = field(default_factory=dict)  # MB, at the end of the minute
    publish_errors: int = 0


async def steady(
    db: Any, base: str, pids: dict[str, int], minutes: float, ask_rate: float, publish_every: float, recipients: int
) -> list[Minute]:
    """Asks at `ask_rate` per second and a publish every `publish_every` seconds, for `minutes`."""
    import httpx
    from sqlalchemy.exc import DBAPIError

    from tests.factories import make_published_policy

    total = minutes * 60
    started = time.perf_counter()
    buckets = [Minute() for _ in range(max(1, int(minutes + 0.999)))]
    asked = itertools.cycle(questions())

    def bucket() -> Minute:
        return buckets[min(len(buckets) - 1, int((time.perf_counter() - started) // 60))]

    async def one_ask(client: httpx.AsyncClient, q: str) -> None:
        into = bucket()
        t0 = time.perf_counter()
        try:
            ok = (await client.get("/api/ask", params={"q": q})).status_code == 200
        except (httpx.HTTPError, RuntimeError):  # RuntimeError: the run ended meanwhile
            ok = False
        if ok:
            into.asks.append((time.perf_counter() - t0) * 1000)
        else:
            into.ask_errors += 1

    async def asking(client: httpx.AsyncClient) -> None:
        pending: set[asyncio.Task[None]] = set()
        for n in itertools.count():
            at = started + n / ask_rate
            if at - started >= total:
                break
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            task = asyncio.create_task(one_ask(client, next(asked)))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)

    async def publishing() -> None:
        for n in itertools.count():
            at = started + 5 + n * publish_every
            if at - started >= total:
                return
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            into = bucket()
            try:
                published = await make_published_policy(db, title=f"{STEADY_TITLE}{n}-{time.time_ns()}")
            except DBAPIError:  # SQLite's write lock held past its busy timeout: counted, not fatal
                into.publish_errors += 1
                continue
            t0 = time.perf_counter()
            first = await sent_within(db, published.id, 1, t0 + publish_every)
            if first is not None:
                into.first.append(first - t0)
            last = await sent_within(db, published.id, recipients, t0 + publish_every)
            if last is not None:
                into.last.append(last - t0)

    async def sampling() -> None:
        for minute in range(len(buckets)):
            end = min((minute + 1) * 60, total)
            await asyncio.sleep(max(0.0, started + end - 1 - time.perf_counter()))
            buckets[minute].rss = {name: rss_mb(pid) for name, pid in pids.items()}

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(asking(client), publishing(), sampling())
    return buckets


async def sent_within(db: Any, policy_id: int, count: int, deadline: float) -> float | None:
    """The moment (perf_counter) `count` rows of the policy are sent, polled every 20 ms."""
    from sqlalchemy import text

    while time.perf_counter() < deadline:
        async with db.reader() as s:
            found = await s.execute(
                text("SELECT count(*) FROM delivery WHERE policy_id = :p AND status = 'sent'"), {"p": policy_id}
            )
            if int(found.scalar_one()) >= count:
                return time.perf_counter()
        await asyncio.sleep(0.02)
    return None


def minute_line(label: str, m: Minute) -> str:
    rss = ", ".join(f"{name} {mb:.0f}" for name, mb in m.rss.items())
    first = f"{statistics.median(m.first) * 1000:.0f} ms" if m.first else "–"
    last = f"{statistics.median(m.last):.1f} s" if m.last else "–"
    return (f"{label:>12s}: ask p50 {percentile(m.asks, 50):6.1f} ms p95 {percentile(m.asks, 95):6.1f} ms "
            f"({len(m.asks)} answers, {m.ask_errors} errors); publish → first message {first}, → last {last} "
            f"({len(m.first)} publishes, {m.publish_errors} refused); RSS MB: {rss}")  # fmt: skip


def data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="pd_load_"))


def steady_groups() -> Any:
    """The worker's `audience_groups` in the steady run: everyone for the steady run's own
    policies, nobody for the real policies published for asking."""
    from subscriptions import service
    from tests.subscriptions.helpers import policy

    everyone = everyone_groups()
    nobody = policy(topics=("无此主题",))

    def groups(session: Any, published: Any, **options: Any) -> Any:
        if published.title.startswith(STEADY_TITLE):
            return everyone(session, published, **options)
        return service.audience_groups(session, nobody, **options)

    return groups
