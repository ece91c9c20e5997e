"""Delivery throughput against the local fake Bot API (run in its own process).

    .venv/bin/python -m bench.push_throughput                     # 20,000 msgs, 75,000-recipient latency
    .venv/bin/python -m bench.push_throughput --messages 500 --latency-recipients 2000 \
        --latency-runs 2 --limited 60                               # CI smoke

Prints, in one run:
  (a) a bare loop of aiogram `bot.send_message` with the same concurrency: the ceiling
  (a') the same loop sending the pipeline's own message (rendered text, the four inline
      buttons, no link preview): aiogram's cost for what the pipeline really sends, since the
      fake, like Telegram, echoes text and keyboard back and aiogram parses them
  (b) the full pipeline (publish → outbox → fan-out → queue → render → TelegramChannel →
      recorded as sent), limits off: messages/s and the ratio b/a (goal ≥ 0.8)
  (c) publish-to-first-message latency, median over runs, for a large audience (goal < 250 ms),
      and the CPU seconds from publish to the fan-out's first commit and to the first message
  (d) with the default Telegram limits on, the sending rate (goal ≥ 95 % of 30/s) and 429s seen
The audience is given (synthetic recipients), so matching is not part of these figures; it is
streamed chunk by chunk as the served path reads it (`--whole-audience`: one list, as before).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402

from core import clock  # noqa: E402
from core.db import Database  # noqa: E402
from core.migrate import upgrade_database  # noqa: E402
from push.channels.base import RenderedMessage, SendResult  # noqa: E402
from push.channels.telegram import (  # noqa: E402
    NO_LINK_PREVIEW,
    TelegramChannel,
    inline_keyboard,
    make_telegram_bot,
)
from push.fanout import FanOut  # noqa: E402
from push.ratelimit import TelegramLimits, telegram_limiter  # noqa: E402
from push.service import Pipeline, wake  # noqa: E402
from subscriptions.views import DeliveryPreference, Recipient  # noqa: E402

TOKEN = "123456:BENCHTOKEN"
WARM_UP_TITLE = "预热用政策"
WARM_UP_AUDIENCE = 10


# -- the fake server, in its own process -------------------------------------------------------


def serve_fake(port: int, enforce: bool) -> None:
    from tests.fakes.telegram_api import FakeTelegram

    async def main() -> None:
        async with FakeTelegram(port=port) as tg:
            if enforce:
                tg.enforce_limits()
            print("ready", flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())


class FakeProcess:
    def __init__(self, enforce: bool = False) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        args = [sys.executable, __file__, "--serve-fake", str(self.port)] + (["--enforce"] if enforce else [])
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, cwd=ROOT, env=env)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def calls(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.base_url}/_fake/calls") as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


# -- helpers -----------------------------------------------------------------------------------


def audience_of(count: int, first_chat: int = 10_000_000, *, prebuilt: bool = False) -> Any:
    """The whole-list audience function (`--whole-audience`). By default the recipients are
    built on each call, inside the timed window, as reading them from the database would be;
    `prebuilt` builds them once beforehand (the bench's way before December 2026: cheaper, and
    since the worker freezes the heap at its start, kept out of the garbage collector's way too)."""
    build = _builder(first_chat)
    people = build(0, count) if prebuilt else None

    async def audience(session: Any, policy: Any) -> list[Recipient]:
        size = WARM_UP_AUDIENCE if policy.title == WARM_UP_TITLE else count
        return people[:size] if people is not None else build(0, size)

    return audience


def audience_chunks_of(count: int, first_chat: int = 10_000_000, *, prebuilt: bool = False) -> Any:
    """The same recipients as `audience_of`, streamed the way `subscriptions.service.audience_chunks`
    reads them (the default): each chunk built only when the fan-out asks for it, the first one
    `first_chunk_size` long, so the cost before the first chunk does not grow with the audience."""
    build = _builder(first_chat)
    people = build(0, count) if prebuilt else None

    async def chunks(session: Any, policy: Any, *, chunk_size: int, first_chunk_size: int) -> Any:
        size = WARM_UP_AUDIENCE if policy.title == WARM_UP_TITLE else count
        start, step = 0, max(1, first_chunk_size)
        while start < size:
            end = min(size, start + step)
            yield people[start:end] if people is not None else build(start, end)
            start, step = end, max(1, chunk_size)

    return chunks


def _builder(first_chat: int) -> Any:
    pref = DeliveryPreference("immediate", None, None, None, False)

    def build(start: int, end: int) -> list[Recipient]:
        """Recipients number start+1 … end (ids and chats ascending, as a database read gives them)."""
        return [
            Recipient(n, n, "telegram", str(first_chat + n), ("您订阅了“就业创业”",), "subscriber", pref)
            for n in range(start + 1, end + 1)
        ]

    return build


async def fresh_db() -> Database:
    db = Database(f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    await upgrade_database(db)
    return db


async def publish(db: Database) -> None:
    from tests.factories import make_published_policy

    await make_published_policy(db)
    wake()  # what the web console does after a publish commits


class Timed:
    """Wraps the real channel to note when sends complete (client side)."""

    def __init__(self, inner: TelegramChannel) -> None:
        self.inner = inner
        self.name = inner.name
        self.times: list[float] = []
        self.last: RenderedMessage | None = None

    async def send(self, message: RenderedMessage) -> SendResult:
        self.last = message
        result = await self.inner.send(message)
        self.times.append(time.perf_counter())
        return result

    async def close(self) -> None:
        await self.inner.close()


def channel(base_url: str, limits: TelegramLimits) -> Timed:
    return Timed(TelegramChannel(make_telegram_bot(TOKEN, base_url), telegram_limiter(limits)))


# -- (a) the ceiling -----------------------------------------------------------------------------


async def bare_loop(
    base_url: str, count: int, concurrency: int, like: RenderedMessage | None = None
) -> tuple[float, float]:
    """(messages/s, client CPU µs per message). `like`: send that message's text and buttons
    (keyboard built per message, as TelegramChannel does) instead of a short text."""
    bot: Bot = make_telegram_bot(TOKEN, base_url)
    text = "<b>泾源县一次性创业补贴实施办法</b>\n对在本县首次创业的高校毕业生给予一次性创业补贴5000元。"
    chats = iter(range(20_000_000, 20_000_000 + count))

    async def sender() -> None:
        for chat in chats:
            if like is None:
                await bot.send_message(chat_id=chat, text=text, parse_mode="HTML")
            else:
                await bot.send_message(chat_id=chat, text=like.text, parse_mode="HTML",
                                       reply_markup=inline_keyboard(like.buttons), link_preview_options=NO_LINK_PREVIEW)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await bot.session.close()
    return count / elapsed, cpu / count * 1e6


# -- (b) the pipeline ----------------------------------------------------------------------------


async def pipeline_run(
    base_url: str, count: int, concurrency: int, limits: TelegramLimits, *, until_first: bool = False,
    prebuilt: bool = False, whole: bool = False,
) -> tuple[float, float, Timed]:
    """Returns (seconds publish→last recorded, seconds publish→first send, channel); the
    channel's `cpu` is the process CPU seconds from publish to the end. The audience is streamed
    in chunks (as `run.py serve` reads it from the database) unless `whole`: one list, as
    `audience_of` returns it, which the fan-out has to receive whole before its first chunk."""
    db = await fresh_db()
    adapter = channel(base_url, limits)
    pipeline = Pipeline(
        db, {"telegram": adapter}, base_url="http://pd.bench", secret="bench",
        audience=audience_of(count, prebuilt=prebuilt), concurrency=concurrency, batch_size=100,
    )
    if not whole:
        pipeline.fanout = FanOut(
            db, audience_chunks=audience_chunks_of(count, prebuilt=prebuilt), on_chunk=pipeline.worker.nudge.set
        )
    from tests.factories import make_published_policy

    # CPU seconds from the timed publish to the fan-out's first commit (its first `on_chunk`).
    nudge, timed = pipeline.fanout.on_chunk, {"from": -1.0, "first_chunk": float("nan")}

    def on_chunk() -> None:
        if timed["from"] >= 0 and timed["first_chunk"] != timed["first_chunk"]:  # NaN: not yet
            timed["first_chunk"] = time.process_time() - timed["from"]
        nudge()

    pipeline.fanout.on_chunk = on_chunk
    # A small warm-up policy first: jieba, templates and connections load outside the timing.
    await make_published_policy(db, title=WARM_UP_TITLE)
    stop = asyncio.Event()
    task = asyncio.create_task(pipeline.run(stop))
    while pipeline.worker.sent_count < min(count, WARM_UP_AUDIENCE):  # noqa: ASYNC110 - a bench poll
        await asyncio.sleep(0.01)
    adapter.times.clear()
    base = pipeline.worker.sent_count
    cpu = timed["from"] = time.process_time()
    await publish(db)
    published = time.perf_counter()
    target = 1 if until_first else count
    while (len(adapter.times) if until_first else pipeline.worker.sent_count - base) < target:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    finished = time.perf_counter()
    adapter.cpu = time.process_time() - cpu  # type: ignore[attr-defined]
    adapter.first_chunk_cpu = timed["first_chunk"]  # type: ignore[attr-defined]
    stop.set()
    await task
    await adapter.close()
    await db.dispose()
    first = adapter.times[0] - published if adapter.times else float("nan")  # nothing sent (count 0)
    return finished - published, first, adapter


async def main(args: argparse.Namespace) -> None:
    clock.set_clock(clock.SystemClock())
    off = TelegramLimits(0, 0, 0)
    fake = FakeProcess()
    try:
        ceiling, ceiling_cpu = await bare_loop(fake.base_url, args.messages, args.concurrency)
        elapsed, first, sent = await pipeline_run(
            fake.base_url, args.messages, args.concurrency, off, whole=args.whole_audience
        )
        assert sent.last is not None
        same, same_cpu = await bare_loop(fake.base_url, args.messages, args.concurrency, like=sent.last)
    finally:
        fake.stop()
    rate = args.messages / elapsed
    cpu = sent.cpu / args.messages * 1e6  # type: ignore[attr-defined]
    print(f"fake Bot API in its own process; {args.messages:,} messages, concurrency {args.concurrency}")
    print(f"  (a) bare aiogram send_message loop (ceiling) : {ceiling:>8,.0f} msg/s  ({ceiling_cpu:,.0f} µs CPU/msg)")
    print(f"  (a') same loop, the pipeline's own message   : {same:>8,.0f} msg/s  ({same_cpu:,.0f} µs CPU/msg)")
    print(f"  (b) full pipeline, publish → last recorded   : {rate:>8,.0f} msg/s  "
          f"({elapsed:.2f} s, {cpu:,.0f} µs CPU/msg)")
    print(f"      ratio b/a                                : {rate / ceiling:>8.2f}   (goal >= 0.8)")
    print(f"      ratio b/a' (same message)                : {rate / same:>8.2f}")

    latencies, chunk_cpu, first_cpu = [], [], []
    fake = FakeProcess()
    try:
        for _ in range(args.latency_runs):
            _, first, timed = await pipeline_run(
                fake.base_url, args.latency_recipients, args.concurrency, off, until_first=True,
                prebuilt=args.prebuilt_audience, whole=args.whole_audience,
            )
            latencies.append(first * 1000)
            chunk_cpu.append(timed.first_chunk_cpu * 1000)  # type: ignore[attr-defined]
            first_cpu.append(timed.cpu * 1000)  # type: ignore[attr-defined]
    finally:
        fake.stop()
    how = ["audience prebuilt" if args.prebuilt_audience else "", "one whole list" if args.whole_audience else ""]
    shown = f" ({', '.join(h for h in how if h)})" if any(how) else ""
    print(f"  (c) publish → first message, {args.latency_recipients:,} recipients: median "
          f"{statistics.median(latencies):.0f} ms{shown} over {len(latencies)} runs "
          f"({', '.join(f'{x:.0f}' for x in latencies)})   (goal < 250 ms)")
    print(f"      CPU publish → first chunk committed {', '.join(f'{x:.0f}' for x in chunk_cpu)} ms; "
          f"→ first message {', '.join(f'{x:.0f}' for x in first_cpu)} ms")

    if args.limited <= 0:
        print("  (d) default limits on: skipped (--limited 0)")
        return
    fake = FakeProcess(enforce=True)
    try:
        _, _, adapter = await pipeline_run(fake.base_url, args.limited, args.concurrency, TelegramLimits())
        calls = [c for c in fake.calls() if c["method"].lower() == "sendmessage"]
    finally:
        fake.stop()
    # Rate over the limited run's own sends (the warm-up policy's sends are excluded).
    span = adapter.times[-1] - adapter.times[0] if len(adapter.times) > 1 else 0.0
    limited_rate = (len(adapter.times) - 1) / span if span > 0 else float("inf")
    too_many = sum(1 for c in calls if c["status"] == 429)
    print(f"  (d) default limits on, {args.limited} messages: {limited_rate:.1f} msg/s "
          f"= {limited_rate / 30:.0%} of 30/s; 429 answers from the fake: {too_many}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-recipients", type=int, default=75_000)
    parser.add_argument("--latency-runs", type=int, default=5)
    parser.add_argument("--limited", type=int, default=300)
    parser.add_argument("--prebuilt-audience", action="store_true",
                        help="(c): build the synthetic recipients before publishing, not in the timed window")
    parser.add_argument("--whole-audience", action="store_true",
                        help="(b), (c): the audience as one list (the fan-out receives it whole), not streamed")
    parser.add_argument("--serve-fake", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--enforce", action="store_true", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.serve_fake:
        serve_fake(parsed.serve_fake, parsed.enforce)
    else:
        asyncio.run(main(parsed))
