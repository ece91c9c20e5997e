"""`GET /api/ask` over HTTP at 10,000 synthetic policies: p50 / p95 as a client sees them.

    .venv/bin/python -m bench.qa_http                  # 10,000 policies
    .venv/bin/python -m bench.qa_http --policies 2000
    .venv/bin/python -m bench.qa_http --ready-timeout 600   # a busy machine

The corpus is bench.qa_latency's (the 64 policies of bench/data/qa plus synthetic ones),
written to a SQLite file. A child process runs the real app (`create_app` with the engine
from `start_engine`, i.e. the snapshot path on its second start) under uvicorn on
127.0.0.1; this process asks the 254 questions of bench/data/qa three times through one
keep-alive httpx client. Every answer is logged to the database, as in production, so the
figure includes the INSERT of the question log. The per-address rate limit is lifted for
the run (the bench is one address asking hundreds of questions a second).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.qa_eval import load_questions
from bench.qa_latency import corpus, percentile, write_database


def serve(database: str, data_dir: Path, port: int) -> None:
    """Child process: the app with the shared engine, as `run.py serve` wires it. `database` is a
    SQLite file or a database URL (`bench.load` serves PostgreSQL this way)."""
    import uvicorn

    from core.db import Database
    from core.settings import Settings
    from policies.qa.follower import start_engine
    from web.api.rate_limit import SlidingWindowLimiter
    from web.app import create_app

    async def run() -> None:
        settings = Settings(secret_key="bench", data_dir=data_dir, database_url=database if "://" in database else f"sqlite+aiosqlite:///{database}",
                            http_host="127.0.0.1", http_port=port)
        db = Database(settings.effective_database_url)
        engine, follower = await start_engine(db, "12345", data_dir=data_dir)
        app = create_app(db, settings, qa_engine=engine)
        app.state.ask_limiter = SlidingWindowLimiter(limit=10**9)
        stop = asyncio.Event()
        task = asyncio.create_task(follower.run(stop))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False))
        try:
            await server.serve()
        finally:
            stop.set()
            await task
            await db.dispose()

    asyncio.run(run())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(base: str, child: subprocess.Popen[bytes], timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if child.poll() is not None:
            raise RuntimeError("the server process exited")
        try:
            if httpx.get(f"{base}/api/ask", params={"q": "公租房谁能申请"}, timeout=2).status_code == 200:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the server did not answer in time")


def measure(base: str, questions: list[str], rounds: int = 3) -> list[float]:
    times: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for q in questions[:20]:  # warm the connection and the code paths
            client.get("/api/ask", params={"q": q})
        for _ in range(rounds):
            for q in questions:
                t0 = time.perf_counter()
                response = client.get("/api/ask", params={"q": q})
                times.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code} {response.text[:200]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--ready-timeout", type=float, default=120.0,
                        help="seconds to wait for the server (a first start builds the index)")
    parser.add_argument("--serve", nargs=3, metavar=("DATABASE", "DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], Path(args.serve[1]), int(args.serve[2]))
        return

    from policies.text.tokenizer import get_tokenizer

    get_tokenizer().initialize()
    questions = [q.text for q in load_questions()]
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "qa.db"
        write_database(corpus(args.policies), database)
        for start in ("first start (build, snapshot written)", "second start (snapshot)"):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            child = subprocess.Popen([sys.executable, "-m", "bench.qa_http", "--serve", str(database), tmp,
                                      str(port)])
            try:
                ready = wait_ready(base, child, args.ready_timeout)
                times = measure(base, questions)
            finally:
                child.terminate()
                child.wait(timeout=60)
            print(f"{start}: answering after {ready:.1f} s; GET /api/ask over HTTP ({len(times)} requests, "
                  f"{args.policies} policies, question logged): p50 {statistics.median(times):.2f} ms, "
                  f"p95 {percentile(times, 95):.2f} ms, max {max(times):.2f} ms")


if __name__ == "__main__":
    main()
