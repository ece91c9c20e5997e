"""Fan-out enqueue rate: delivery rows written (committed, in chunks) per second.

    .venv/bin/python -m bench.fanout_bench                 # 100,000 recipients, SQLite + PostgreSQL
    .venv/bin/python -m bench.fanout_bench --recipients 2000 --no-postgres   # CI smoke

Prints, for the same rows: a raw `sqlite3.executemany` into an identical table (the ceiling,
one transaction), our fan-out on SQLite (schedule + insert-or-ignore in committed chunks of
5,000) and the ratio (goal ≥ 0.5); then the fan-out on PostgreSQL. The audience is given
(a list of recipients), so the figure is the fan-out's own cost, not matching.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import clock
from core.db import Database
from core.migrate import upgrade_database
from push.fanout import FanOut
from subscriptions.views import DeliveryPreference, Recipient

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


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


async def publish(db: Database) -> Any:
    from policies import service as policies
    from tests.factories import make_published_policy

    policy = await make_published_policy(db)
    async with db.reader() as session:
        (event,) = [e for e in await policies.events_after(session, 0) if e.policy_id == policy.id]
    return event


async def fan_out(db: Database, people: list[Recipient]) -> tuple[int, float]:
    event = await publish(db)
    fanout = FanOut(db, audience=Audience(people))
    started = time.perf_counter()
    rows = await fanout.fan_out_event(event)
    return rows, time.perf_counter() - started


def raw_sqlite(schema_from: Path, people: list[Recipient]) -> float:
    """The same rows into an identical empty table with the bare sqlite3 module, one transaction."""
    source = sqlite3.connect(schema_from)
    ddl = [sql for (sql,) in source.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'delivery' AND sql IS NOT NULL ORDER BY type DESC"
    )]
    source.close()
    path = Path(tempfile.mkdtemp()) / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for sql in ddl:
        conn.execute(sql)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    reasons = json.dumps(["您订阅了“就业创业”"], ensure_ascii=False)
    rows = [
        (1, 1, "published", r.subscriber_id, r.address_id, r.channel, r.address, reasons, r.role, None,
         0, 0, now, now, now, "pending", 0, "")
        for r in people
    ]
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


async def sqlite_run(people: list[Recipient]) -> tuple[float, float]:
    path = Path(tempfile.mkdtemp()) / "fanout.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade_database(db)
    rows, ours = await fan_out(db, people)
    await db.dispose()
    assert rows == len(people), rows
    raw = raw_sqlite(path, people)
    return raw, ours


async def postgres_run(people: list[Recipient]) -> float | None:
    import asyncpg

    name = f"pd_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(PG_ADMIN)
    except OSError as exc:
        print(f"PostgreSQL: skipped ({exc})")
        return None
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    try:
        await upgrade_database(db)
        rows, elapsed = await fan_out(db, people)
        assert rows == len(people), rows
        return elapsed
    finally:
        await db.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    clock.set_clock(clock.SystemClock())
    people = recipients(args.recipients)
    n = len(people)
    raw, ours = await sqlite_run(people)
    print(f"fan-out of {n:,} recipients")
    print(f"  raw sqlite3 executemany (ceiling) : {n / raw:>10,.0f} rows/s  ({raw:.2f} s)")
    print(f"  fan-out on SQLite (chunks 5,000)  : {n / ours:>10,.0f} rows/s  ({ours:.2f} s)")
    print(f"  ratio fan-out / raw               : {raw / ours:>10.2f}   (goal >= 0.5)")
    if not args.no_postgres:
        pg = await postgres_run(people)
        if pg is not None:
            print(f"  fan-out on PostgreSQL (COPY)      : {n / pg:>10,.0f} rows/s  ({pg:.2f} s)")


if __name__ == "__main__":
    asyncio.run(main())
