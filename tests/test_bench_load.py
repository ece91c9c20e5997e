"""bench.load's options and the steady run's per-minute report (no run: figures are never
timed in tests)."""

from __future__ import annotations

from bench._load_live import Minute, minute_line, percentile
from bench.load import SECTIONS, parse


def test_defaults_cover_every_section_with_the_stated_sizes() -> None:
    args = parse([])
    assert args.only == list(SECTIONS) == ["send", "first", "ask", "steady"]
    assert (args.recipients, args.first_recipients, args.askers, args.steady_minutes) == (100_000, 75_000, 50, 10)
    assert args.pg_workers == [1, 3]
    assert parse(["--steady-minutes", "2", "--only", "steady"]).steady_minutes == 2
    assert args.served_backend == "sqlite"
    assert parse(["--served-backend", "postgres"]).served_backend == "postgres"


def test_a_minute_line_shows_latency_publishes_and_memory() -> None:
    minute = Minute(asks=[float(n) for n in range(1, 101)], ask_errors=2, first=[0.12, 0.2], last=[3.0],
                    rss={"app": 210.4, "worker": 150.0})  # fmt: skip
    line = minute_line("minute 1", minute)
    assert "p50   51.0 ms" in line and "p95   95.0 ms" in line  # nearest rank
    assert "100 answers, 2 errors" in line
    assert "first message 160 ms" in line and "last 3.0 s" in line
    assert "app 210, worker 150" in line
    assert percentile([], 50) != percentile([], 50)  # nan: no answers that minute
    assert "–" in minute_line("minute 2", Minute())
