"""Audience matching at scale: `python -m bench.match_bench --subscribers 1000000 --backend sqlite`.

Synthetic county (performance-ceilings.md §2): each contact has 1–5 of 40 topics, one of
20 townships, half are enterprise contacts with one of 20 industries, 0–3 keywords out of
2,000 (Zipf-like). Rows are bulk-loaded with the raw driver (the service would take far
longer); the match index rows come from `matching.index_rows`, the same function the
service maintains them with, and a "rebuild everything" row goes into the change log.

Prints: the in-memory index build (what a process does at start-up) with its array bytes
and RSS growth; match time (median/p95 over 7 regional and 7 county-wide policies) from
the in-memory index and, for comparison, from the database index alone (the previous
design and the fallback); `audience()`; the first chunk of `audience_chunks`; the real
push fan-out (`push.fanout.FanOut`, committed chunks into `delivery`) of the county-wide
audience, with the time its first chunk was committed; peak RSS; the index size on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import resource
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text

from core.db import Database
from core.migrate import upgrade_database
from subscriptions import audience as audience_module
from subscriptions import matching, service
from subscriptions.match_index import live
from tests.subscriptions.helpers import policy

TOPICS = [f"t{i:02d}" for i in range(40)]
TOWNS = [f"town{i:02d}" for i in range(20)]
INDUSTRIES = [chr(ord("A") + i) for i in range(20)]
KEYWORDS = [f"kw{i:04d}" for i in range(2000)]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """Yield (subscriber row, enterprise row | None, address row, index rows) per contact."""
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, len(KEYWORDS) + 1) ** 0.8
    weights /= weights.sum()
    n_topics = rng.integers(1, 6, n)
    n_kw = rng.integers(0, 4, n)
    towns = rng.integers(0, len(TOWNS), n)
    is_ent = rng.random(n) < 0.5
    industries = rng.integers(0, len(INDUSTRIES), n)
    kw_pool = rng.choice(len(KEYWORDS), size=int(n_kw.sum()) + 3, p=weights)
    kw_at = 0
    now = datetime.datetime(2026, 3, 1).isoformat(sep=" ")
    for i in range(n):
        sid = i + 1
        topics = frozenset(TOPICS[t] for t in rng.choice(40, n_topics[i], replace=False))
        kws = {KEYWORDS[k] for k in kw_pool[kw_at : kw_at + n_kw[i]]}
        kw_at += n_kw[i]
        ent = bool(is_ent[i])
        industry = INDUSTRIES[industries[i]] if ent else ""
        town = TOWNS[towns[i]]
        facts = matching.ContactFacts(
            subscriber_id=sid,
            kind="enterprise" if ent else "resident",
            audience="enterprise" if ent else "resident",
            townships=frozenset({town}),
            topics=topics,
            keywords=tuple((k, (k,)) for k in sorted(kws)),
            industry=industry,
        )
        sub = (sid, facts.kind, "", sid if ent else None, None, "" if ent else town, "[]", facts.audience,
               False, False, "immediate", None, None, None, False, None, now, now)  # fmt: skip
        enterprise = (sid, f"企业{sid}", None, industry, "", "[]", town, now, now) if ent else None
        address = (sid, sid, "telegram", str(10_000_000 + sid), True, "", None, now, now)
        rows = [
            (r.key, r.township, r.subscriber_id, r.detail, r.kind, r.audience, r.industry, r.rest)
            for r in matching.index_rows(facts)
        ]
        yield sub, enterprise, address, rows


SUB_COLS = ("id, kind, display_name, enterprise_id, hub_id, township, groups, audience, all_topics, "
            "recommend_by_profile, frequency, quiet_start, quiet_end, daily_cap, paused, paused_at, "
            "created_at, updated_at")  # fmt: skip
ENT_COLS = "id, name, credit_code, industry, size, qualifications, township, created_at, updated_at"
ADDR_COLS = "id, subscriber_id, channel, address, active, inactive_reason, inactive_at, created_at, updated_at"
KEY_COLS = "key, township, subscriber_id, detail, kind, audience, industry, rest"


def load_sqlite(path: Path, n: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    subs, ents, addrs, keys = [], [], [], []

    def flush() -> None:
        conn.executemany(f"INSERT INTO enterprise ({ENT_COLS}) VALUES ({','.join('?' * 9)})", ents)
        conn.executemany(f"INSERT INTO subscriber ({SUB_COLS}) VALUES ({','.join('?' * 18)})", subs)
        conn.executemany(f"INSERT INTO channel_address ({ADDR_COLS}) VALUES ({','.join('?' * 9)})", addrs)
        conn.executemany(f"INSERT INTO match_key ({KEY_COLS}) VALUES ({','.join('?' * 8)})", keys)
        for rows in (subs, ents, addrs, keys):
            rows.clear()

    for sub, ent, addr, rows in generate(n):
        subs.append(sub)
        if ent:
            ents.append(ent)
        addrs.append(addr)
        keys += rows
        if len(subs) >= 50_000:
            flush()
    flush()
    conn.execute("INSERT INTO match_change (subscriber_id, token) VALUES (0, abs(random()))")
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def load_postgres(url: str, n: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    subs, ents, addrs, keys = [], [], [], []
    stamp = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)

    async def flush() -> None:
        await conn.copy_records_to_table("enterprise", records=ents, columns=ENT_COLS.split(", "))
        await conn.copy_records_to_table("subscriber", records=subs, columns=SUB_COLS.split(", "))
        await conn.copy_records_to_table("channel_address", records=addrs, columns=ADDR_COLS.split(", "))
        await conn.copy_records_to_table("match_key", records=keys, columns=KEY_COLS.split(", "))
        for rows in (subs, ents, addrs, keys):
            rows.clear()

    for sub, ent, addr, rows in generate(n):
        subs.append((*sub[:16], stamp, stamp))
        if ent:
            ents.append((*ent[:7], stamp, stamp))
        addrs.append((*addr[:7], stamp, stamp))
        keys += rows
        if len(subs) >= 50_000:
            await flush()
    await flush()
    await conn.execute("INSERT INTO match_change (subscriber_id, token) VALUES (0, 1 + (random() * 1e15)::bigint)")
    await conn.execute("VACUUM ANALYZE")
    await conn.close()


def policies() -> list[tuple[str, object]]:
    """Policies like the reference: 2 topics, 3 keywords, one industry; regional and county-wide."""
    rng = np.random.default_rng(11)
    made = []
    for i in range(7):
        topics = tuple(TOPICS[t] for t in rng.choice(40, 2, replace=False))
        tokens = frozenset(KEYWORDS[k] for k in rng.choice(2000, 3, replace=False)) | {"政策", "通知"}
        industry = (INDUSTRIES[int(rng.integers(0, 20))],)
        for label, regions in (("regional", (TOWNS[int(rng.integers(0, 20))],)), ("county-wide", ())):
            made.append((label, policy(id=i + 1, topics=topics, tokens=tokens, industries=industry, regions=regions)))
    return made


async def timed(coro):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = await coro
    return (time.perf_counter() - start) * 1000, result


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):7.1f} ms  p95 {p95:7.1f} ms"


async def index_size(db: Database) -> float:
    async with db.reader() as s:
        if db.dialect == "postgresql":
            size = (await s.execute(text("SELECT pg_total_relation_size('match_key')"))).scalar_one()
        else:
            try:
                size = (await s.execute(text("SELECT SUM(pgsize) FROM dbstat WHERE name = 'match_key'"))).scalar_one()
            except Exception:  # noqa: BLE001 - dbstat is optional in SQLite builds
                size = -1
    return size / 1e6


async def open_database(args: argparse.Namespace) -> Database:
    n = args.subscribers
    if args.backend == "sqlite":
        path = Path(args.dir) / f"match_bench_{n}.db"
        url = f"sqlite+aiosqlite:///{path}"
        fresh = not path.exists()
    else:
        import asyncpg

        # A name of one's own (`--pg-database`) keeps a database migrated by one branch away
        # from another branch's bench run on the same server.
        name = getattr(args, "pg_database", None) or f"match_bench_{n}"
        admin = await asyncpg.connect(PG_ADMIN)
        fresh = not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if fresh:
            await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    db = Database(url)
    await upgrade_database(db)  # also brings a database made by an older bench up to date
    if fresh:
        start = time.perf_counter()
        if args.backend == "sqlite":
            await asyncio.to_thread(load_sqlite, path, n)
        else:
            await load_postgres(url.replace("+asyncpg", ""), n)
        print(f"generated and loaded {n:,} contacts in {time.perf_counter() - start:.1f} s")
    return db


async def time_matches(db: Database, made: list[tuple[str, object]], repeat: int, title: str) -> None:
    async with db.reader() as s:
        for _label, p in made[:2]:  # warm the cache (and catch up with the change log)
            await service.match_subscriber_ids(s, p)
        for label in ("regional", "county-wide"):
            times, counts = [], []
            for _ in range(repeat):
                for lbl, p in made:
                    if lbl == label:
                        ms, hits = await timed(service.match_subscriber_ids(s, p))
                        times.append(ms)
                        counts.append(len(hits))
            matches = int(statistics.median(counts))
            print(f"match {label:11s} ({title}): {summary(times)}  (matches: median {matches:,})")


async def first_chunk(db: Database, p) -> None:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(5):
        async with db.reader() as s:
            start = time.perf_counter()
            chunks = audience_module.audience_chunks(s, p, chunk_size=5_000, first_chunk_size=200)
            first = await anext(chunks)
            times.append((time.perf_counter() - start) * 1000)
            await chunks.aclose()
    print(f"audience_chunks first chunk (county-wide, 200 contacts): {summary(times)}  ({len(first)} recipients)")


async def run(args: argparse.Namespace) -> None:
    n = args.subscribers
    db = await open_database(args)
    async with db.reader() as s:
        key_rows = (await s.execute(text("SELECT count(*) FROM match_key"))).scalar_one()
    print(f"backend {args.backend}, {n:,} contacts, {key_rows:,} index rows, "
          f"index on disk {await index_size(db):.0f} MB")  # fmt: skip
    rss_before = rss_mb()
    built = await live.warm_up(db)
    assert built.memory is not None
    print(f"in-memory index: built in {built.build_seconds:.1f} s, arrays {built.memory.nbytes() / 1e6:.0f} MB, "
          f"{len(built.memory.base):,} posting arrays, peak RSS +{rss_mb() - rss_before:.0f} MB")  # fmt: skip
    made = policies()
    await time_matches(db, made, args.repeat, "memory")
    if not args.skip_database:
        live.IN_MEMORY = False
        await time_matches(db, made, 1, "database")
        live.IN_MEMORY = True
    async with db.reader() as s:
        for label in ("regional", "county-wide"):
            p = next(p for lbl, p in made if lbl == label)
            times = []
            for _ in range(3):
                ms, recipients = await timed(service.audience(s, p))
                times.append(ms)
            print(f"audience() {label:11s}: {summary(times)}  ({len(recipients):,} recipients with reasons)")
    county_wide = next(p for lbl, p in made if lbl == "county-wide")
    await first_chunk(db, county_wide)
    await fanout(db, county_wide)
    print(f"peak RSS {rss_mb():.0f} MB (before the index {rss_before:.0f} MB)")
    await db.dispose()


async def fanout(db: Database, p) -> None:  # type: ignore[no-untyped-def]
    """Match + the real push fan-out of the county-wide audience into `delivery`, both ways:
    by groups (what published events use: one INSERT … SELECT per group of contacts) and row
    by row (an audience list given, as amendments and tests use)."""

    async def bench_audience(session, _published):  # type: ignore[no-untyped-def]
        return await service.audience(session, p)

    def bench_groups(session, _published, **options):  # type: ignore[no-untyped-def]
        return service.audience_groups(session, p, **options)

    ways = (("by groups", {"audience_groups": bench_groups}), ("row by row", {"audience": bench_audience}))
    for label, options in ways:
        for _ in range(FANOUT_RUNS):
            await fanout_once(db, label, options)


FANOUT_RUNS = 2


async def fanout_once(db: Database, label: str, options: dict) -> None:  # type: ignore[type-arg]
    from policies import service as policies
    from push.fanout import FanOut
    from tests.factories import make_published_policy

    published = await make_published_policy(db, title=f"基准政策{time.time_ns()}")
    async with db.reader() as s:
        (event,) = [e for e in await policies.events_after(s, 0, limit=10_000) if e.policy_id == published.id]
    start = time.perf_counter()
    commits: list[float] = []
    out = FanOut(db, on_chunk=lambda: commits.append(time.perf_counter()), **options)
    rows = await out.fan_out_event(event)
    done = time.perf_counter()
    first = (commits[0] - start) * 1000
    print(f"match + fan-out {label:10s} of {rows:,} deliveries (push.fanout.FanOut, committed chunks): "
          f"{(done - start) * 1000:.0f} ms, first chunk committed after {first:.0f} ms")  # fmt: skip
    async with db.session() as s:
        await s.execute(text("DELETE FROM delivery WHERE policy_id = :p"), {"p": published.id})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="rounds over the 7+7 policies")
    parser.add_argument("--dir", default="/tmp", help="where the SQLite file is kept (reused if present)")
    parser.add_argument("--skip-database", action="store_true", help="do not time the database-only match")
    parser.add_argument("--pg-database", default=None, help="PostgreSQL database name (default match_bench_N)")
    args = parser.parse_args()
    from core import clock

    clock.set_clock(clock.FixedClock(datetime.datetime(2026, 3, 2, 1, tzinfo=datetime.UTC)))
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
