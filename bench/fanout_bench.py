"""Fan-out of a county-wide policy from the match index: `python -m bench.fanout_bench`.

    .venv/bin/python -m bench.fanout_bench                       # 1M contacts, SQLite + PostgreSQL
    .venv/bin/python -m bench.fanout_bench --backends postgres --explain   # where PostgreSQL's time goes
    .venv/bin/python -m bench.fanout_bench --subscribers 2000 --given 500 --runs 1   # smoke

Each backend's database holds the match bench's synthetic county (`bench.match_bench`: kept in
`--dir` for SQLite, database `match_bench_N` on PostgreSQL, loaded once and reused). A county-wide
policy (76,650 recipients at 1M contacts) is fanned out by the real `push.fanout.FanOut`: the
recipients come from the in-memory match index in slices and each group's rows are written by
one INSERT … SELECT. Prints, per backend and run, publish → every row committed and → first chunk
committed (goal < 1 s SQLite, < 1.5 s PostgreSQL). `--explain` adds per-statement timings of
one run (reads of contacts, group inserts, row batches, commits) and EXPLAIN ANALYZE of one
group insert.

`--given N` (default 100,000; 0 skips it) also times the row-by-row path with a given audience
of N recipients (amendments and injected audiences use it) against a raw `sqlite3.executemany`
of the same rows (the ceiling), and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from core import clock
from core.db import Database
from core.migrate import upgrade_database
from push.fanout import FanOut
from subscriptions.views import DeliveryPreference, Recipient

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


# -- by groups, from the match index -----------------------------------------------------------


async def open_county(backend: str, subscribers: int, directory: str, pg_database: str | None = None) -> Database:
    from bench.match_bench import open_database

    return await open_database(
        argparse.Namespace(subscribers=subscribers, backend=backend, dir=directory, pg_database=pg_database)
    )


def county_wide_policy() -> Any:
    from bench.match_bench import policies

    return next(p for label, p in policies() if label == "county-wide")


async def publish(db: Database, title: str = "") -> Any:
    from policies import service as policies
    from tests.factories import make_published_policy

    policy = await make_published_policy(db, title=title or f"扇出基准{time.time_ns()}")
    async with db.reader() as session:
        (event,) = [e for e in await policies.events_after(session, 0, limit=100_000) if e.policy_id == policy.id]
    return event


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


async def server_ticks(db: Database) -> dict[int, int]:
    """CPU ticks of this database's PostgreSQL backends (a server on this host), by pid."""
    if db.dialect != "postgresql":
        return {}
    async with db.reader() as s:
        pids = (await s.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))).scalars()
        return {int(pid): _ticks(int(pid)) for pid in pids}


@dataclass
class Run:
    rows: int
    seconds: float  # publish → every row committed
    first: float  # → the first chunk committed
    client_cpu: float  # this process
    server_cpu: float  # the database's backends (PostgreSQL)


async def group_run(db: Database, matched: Any) -> Run:
    """One fan-out by groups, with its CPU: wall time on a busy machine says little, CPU
    seconds (ours and the server's) say what a quiet one would take."""
    from subscriptions import service

    def groups(session: Any, _policy: Any, **options: Any) -> Any:
        return service.audience_groups(session, matched, **options)

    event = await publish(db)
    commits: list[float] = []
    fanout = FanOut(db, audience_groups=groups, on_chunk=lambda: commits.append(time.perf_counter()))
    before = await server_ticks(db)
    cpu = time.process_time()
    started = time.perf_counter()
    rows = await fanout.fan_out_event(event)
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    after = await server_ticks(db)
    ticks = sum(t - before.get(pid, 0) for pid, t in after.items())
    async with db.session() as s:  # keep the table the same size from run to run
        await s.execute(text("DELETE FROM delivery WHERE policy_id = :p"), {"p": event.policy_id})
    return Run(rows, done - started, commits[0] - started, cpu, ticks / os.sysconf("SC_CLK_TCK"))


async def by_groups(backend: str, args: argparse.Namespace) -> None:
    from subscriptions import service

    db = await open_county(backend, args.subscribers, args.dir, args.pg_database)
    try:
        await service.warm_up_match_index(db)  # as `run.py serve` does at start-up
        if backend == "postgresql":
            async with db.session() as s:
                await s.execute(text("DELETE FROM delivery"))
            await vacuum(db)
        matched = county_wide_policy()
        totals, firsts = [], []
        for n in range(args.runs):
            if backend == "postgresql":
                await vacuum(db)  # as autovacuum would between two policies
            run = await group_run(db, matched)
            totals.append(run.seconds)
            firsts.append(run.first)
            server = f", server {run.server_cpu:.2f} s" if backend == "postgresql" else ""
            print(f"  {backend:10s} run {n + 1}: {run.rows:,} rows in {run.seconds:.2f} s, first chunk committed "
                  f"after {run.first * 1000:.0f} ms; CPU: bench process {run.client_cpu:.2f} s{server}; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        goal = 1.0 if backend == "sqlite" else 1.5
        print(f"  {backend:10s} median {statistics.median(totals):.2f} s (goal < {goal} s), first chunk median "
              f"{statistics.median(firsts) * 1000:.0f} ms", flush=True)  # fmt: skip
        if args.explain:
            await explain(db, matched)
    finally:
        await db.dispose()


async def vacuum(db: Database) -> None:
    import asyncpg

    conn = await asyncpg.connect(db.url.replace("+asyncpg", ""))
    try:
        await conn.execute("VACUUM ANALYZE delivery")
    finally:
        await conn.close()


# -- where the time goes -----------------------------------------------------------------------


class Timings:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextmanager
    def timing(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.calls[name] += 1

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            with self.timing(name):
                return await original(*args, **kwargs)

        setattr(owner, attribute, timed)
        self._undo.append((owner, attribute, original))

    _undo: list[tuple[Any, str, Any]] = []

    def restore(self) -> None:
        for owner, attribute, original in reversed(self._undo):
            setattr(owner, attribute, original)
        self._undo.clear()


async def explain(db: Database, matched: Any) -> None:
    """Per-statement timings of one run, then EXPLAIN ANALYZE of a group insert."""
    from push import fanout_sql
    from push.dao import fanout as store
    from subscriptions import store as subscription_store

    timings = Timings()
    timings.wrap(subscription_store, "contact_rows", "read a slice's contacts")
    timings.wrap(store, "insert_group_deliveries", "INSERT … SELECT of a group")
    timings.wrap(fanout_sql, "insert_groups", "INSERT … SELECT of a slice's groups")
    timings.wrap(store, "addresses_of_contacts", "read addresses of small groups")
    timings.wrap(store, "insert_deliveries", "insert rows of small groups")
    timings.wrap(store, "progress_for_update", "lock the event's progress")
    timings.wrap(fanout_sql, "commit_fast", "commit")
    try:
        run = await group_run(db, matched)
        rows, total = run.rows, run.seconds
    finally:
        timings.restore()
    print(f"  per statement, one run of {rows:,} rows in {total:.2f} s (time inside each call; reads of the "
          f"next slice overlap the writes on PostgreSQL):")  # fmt: skip
    for name, seconds in sorted(timings.seconds.items(), key=lambda kv: -kv[1]):
        print(f"    {name:40s} {seconds:6.3f} s in {timings.calls[name]:>4} calls")
    if db.dialect == "postgresql":
        await explain_group_insert(db, matched)


async def explain_group_insert(db: Database, matched: Any) -> None:
    from push.fanout_sql import explain_group_insert as explained
    from subscriptions import service

    event = await publish(db)
    async with db.reader() as s:
        ids = [int(i) for i in await service.match_subscriber_ids(s, matched)]
    async with db.session() as s:
        addresses_sql = service.reachable_addresses_sql("postgresql")
        plan = await explained(s, event.policy_id, event.revision, ids, addresses_sql)
        await s.rollback()
    print(f"  EXPLAIN ANALYZE, the slice statement over all {len(ids):,} matched contacts (rolled back):")
    for line in plan:
        print(f"    {line}")


# -- row by row, a given audience --------------------------------------------------------------


def recipients(count: int) -> list[Recipient]:
    pref = DeliveryPreference("immediate", None, None, None, False)
    return [
        Recipient(n, n, "telegram", str(100_000_000 + n), ("您订阅了“就业创业”",), "subscriber", pref)
        for n in range(1, count + 1)
    ]


class Audience:
    def __init__(self, people: list[Recipient]) -> None:
        self.people = people

    async def __call__(self, session: Any, policy: Any) -> list[Recipient]:
        return self.people


async def given_run(db: Database, people: list[Recipient]) -> float:
    event = await publish(db)
    started = time.perf_counter()
    rows = await FanOut(db, audience=Audience(people)).fan_out_event(event)
    elapsed = time.perf_counter() - started
    assert rows == len(people), rows
    return elapsed


def raw_sqlite(schema_from: Path, people: list[Recipient]) -> float:
    """The same rows into an identical empty table with the bare sqlite3 module, one transaction."""
    source = sqlite3.connect(schema_from)
    ddl = [sql for (sql,) in source.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'delivery' AND sql IS NOT NULL ORDER BY type DESC"
    )]  # fmt: skip
    source.close()
    path = Path(tempfile.mkdtemp()) / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for sql in ddl:
        conn.execute(sql)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    reasons = json.dumps(["您订阅了“就业创业”"], ensure_ascii=False)
    rows = [
        (1, 1, "published", r.subscriber_id, r.address_id, r.channel, r.address, reasons, r.role, None,
         0, 0, now, now, now, "pending", 0, "")
        for r in people
    ]  # fmt: skip
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO delivery (policy_id, revision, kind, subscriber_id, address_id, channel, address, reasons,"
        " role, hub_id, urgent, digest, due_at, next_attempt_at, created_at, status, attempts, last_error)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def given(backend: str, count: int) -> None:
    people = recipients(count)
    if backend == "sqlite":
        path = Path(tempfile.mkdtemp()) / "fanout.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade_database(db)
        ours = await given_run(db, people)
        await db.dispose()
        raw = raw_sqlite(path, people)
        print(f"  raw sqlite3 executemany (ceiling) : {count / raw:>10,.0f} rows/s  ({raw:.2f} s)")
        print(f"  fan-out on SQLite (chunks 5,000)  : {count / ours:>10,.0f} rows/s  ({ours:.2f} s)")
        print(f"  ratio fan-out / raw               : {raw / ours:>10.2f}   (goal >= 0.5)", flush=True)
        return
    import asyncpg

    name = f"pd_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    try:
        await upgrade_database(db)
        pg = await given_run(db, people)
        print(f"  fan-out on PostgreSQL (COPY)      : {count / pg:>10,.0f} rows/s  ({pg:.2f} s)", flush=True)
    finally:
        await db.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main(args: argparse.Namespace) -> None:
    clock.set_clock(clock.SystemClock())
    backends = [{"postgres": "postgresql"}.get(b, b) for b in args.backends]
    print(f"fan-out by recipient groups from the match index, {args.subscribers:,} contacts, county-wide policy")
    for backend in backends:
        await by_groups(backend, args)
    if args.given:
        print(f"fan-out row by row of a given audience of {args.given:,} recipients")
        for backend in backends:
            await given(backend, args.given)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql", type=lambda v: v.split(","))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default="/tmp", help="where the SQLite county is kept (reused if present)")
    parser.add_argument("--pg-database", default=None, help="PostgreSQL database name (default match_bench_N)")
    parser.add_argument("--explain", action="store_true", help="per-statement timings and EXPLAIN ANALYZE")
    parser.add_argument("--given", type=int, default=100_000, help="row-by-row recipients (0: skip)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
