"""Bulk import speed: `python -m bench.subscriber_import_bench --rows 100000 [--backend postgres | --both]`.

Writes a registry-like CSV (70 % residents, 30 % enterprise contacts, a topic or two, some
keywords, 1 % bad rows), imports it into a fresh database through
`subscriptions.service.import_subscribers` (the same path as `run.py subscribers import`),
and prints rows per second for the first import and for an idempotent re-import.

The machine is shared, so next to wall time it prints this process's CPU time and, on
PostgreSQL, the CPU time of the server processes that served the bench's database (read
from /proc when the server runs on this host): together they are what an idle machine
would need, whatever the load.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime
import os
import random
import time
import uuid
from pathlib import Path

from stdnum.cn import uscc

from core import clock
from core.db import Database
from core.migrate import upgrade_database
from subscriptions import service
from vocabulary import taxonomy

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
HEADER = ["类型", "名称", "统一社会信用代码", "行业", "规模", "资质", "人群", "乡镇", "渠道", "地址", "主题", "关键词"]


def write_registry(path: Path, rows: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    topics = [t.name for t in taxonomy.topics()]
    towns = [r.name for r in taxonomy.regions() if r.kind == "township"]
    groups = [e.name for e in taxonomy.eligibility_tags() if e.audience == "resident"]
    quals = [e.name for e in taxonomy.eligibility_tags() if e.audience == "enterprise"]
    words = ["贷款", "补贴", "创业", "养老", "医保", "技术改造", "培训", "就业", "减税", "社保"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(rows):
            topic = "、".join(rng.sample(topics, rng.randint(1, 2)))
            keyword = rng.choice(words) if rng.random() < 0.5 else ""
            if rng.random() < 0.3:
                base = f"9164042{i:010d}"
                code = base + uscc.calc_check_digit(base)
                if rng.random() < 0.01:
                    code = code[:-1] + ("0" if code[-1] != "0" else "1")
                out.writerow(
                    [
                        "企业",
                        f"企业{i}",
                        code,
                        rng.choice("ACEFGHI"),
                        rng.choice("大中小微"),
                        rng.choice(["", *quals]),
                        "",
                        rng.choice(towns),
                        "wechat",
                        f"o-{i}",
                        topic,
                        keyword,
                    ]
                )
            else:
                out.writerow(["居民", f"居民{i}", "", "", "", "", rng.choice(["", *groups]), rng.choice(towns),
                              "telegram", str(1_000_000 + i), topic, keyword])  # fmt: skip


def remove_sqlite_files(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def server_cpu(name: str) -> dict[int, float]:
    """CPU seconds so far of each server process connected to database `name` (on this host)."""
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        pids = [r["pid"] for r in await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)]
    finally:
        await admin.close()
    return {pid: _cpu_seconds(pid) for pid in pids}


async def run(args: argparse.Namespace) -> None:
    path = Path(args.dir) / f"registry_{args.rows}.csv"
    write_registry(path, args.rows)
    if args.backend == "sqlite":
        db_path = Path(args.dir) / f"import_bench_{uuid.uuid4().hex[:6]}.db"
        db = Database(f"sqlite+aiosqlite:///{db_path}")
    else:
        import asyncpg

        name = f"import_bench_{uuid.uuid4().hex[:6]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    await upgrade_database(db)
    try:
        for label in ("first import", "re-import"):
            server_before = await server_cpu(name) if args.backend == "postgres" else {}
            start, cpu = time.perf_counter(), time.process_time()
            report = await service.import_subscribers(db, path, progress=not args.quiet)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            server = ""
            if args.backend == "postgres":
                # Backends still open at the end (the pool keeps them); one that closed is missed.
                after = await server_cpu(name)
                used = sum(t - server_before.get(pid, 0.0) for pid, t in after.items())
                together = cpu + used
                server = f"; server CPU {used:.1f} s, together {together:.1f} s = {report.rows / together:,.0f} rows/s"
            # The CPU time of this process alone tells the importer's own cost on a busy machine.
            print(f"{args.backend} {label}: {report.rows:,} rows in {seconds:.1f} s = {report.rows / seconds:,.0f} "
                  f"rows/s (this process's CPU {cpu:.1f} s = {report.rows / cpu:,.0f} rows per CPU second{server}; "
                  f"created {report.created:,}, updated {report.updated:,}, unchanged {report.unchanged:,}, "
                  f"errors {len(report.errors):,}; load average {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    finally:
        await db.dispose()
        if args.backend == "sqlite":
            remove_sqlite_files(db_path)
        else:
            import asyncpg

            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args()
    clock.set_clock(clock.FixedClock(datetime.datetime(2026, 3, 2, 1, tzinfo=datetime.UTC)))
    for backend in ("sqlite", "postgres") if args.both else (args.backend,):
        args.backend = backend
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
