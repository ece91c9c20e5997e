"""Policy calculator latency at county-to-province scale, in process.

Run from the repository root: `.venv/bin/python -m bench.calculator_bench [--items 10000]`.

Builds `--items` random items (one to five conditions from the whole vocabulary, a quarter
for residents, a quarter for either, deadlines spread over two years, a tenth already past),
a catalogue of them, and times `Catalogue.calculate` for `--profiles` random profiles
(enterprises and residents, each fact unknown with probability 0.3). Prints the catalogue
build time, p50/p95/max answer time, and the mean size of the answer. Seeded: two runs
answer the same questions.

`--db`: the items are also stored as published policies in a fresh SQLite file, and each answer
is timed the way the web page and the chats run it: one reader session, the catalogue cache's
freshness query, then the calculation.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from policies.items.calculator import Catalogue
from policies.items.conditions import Condition
from policies.items.profile import Profile
from policies.items.views import ItemView
from policies.items.vocabulary import (
    SIZES,
    ConditionKind,
    person_group_codes,
    qualification_codes,
    section_codes,
    township_codes,
)

TODAY = date(2026, 3, 2)
K = ConditionKind
ENTERPRISE_KINDS = (K.TOWNSHIP, K.INDUSTRY, K.SIZE, K.REGISTRATION_AGE, K.QUALIFICATION, K.TEXT)
RESIDENT_KINDS = (K.TOWNSHIP, K.AGE, K.HUKOU, K.PERSON_GROUP, K.GRADUATE, K.TEXT)


def _codes(rng: random.Random, pool: tuple[str, ...]) -> frozenset[str]:
    return frozenset(rng.sample(pool, rng.randint(1, min(3, len(pool)))))


def random_condition(rng: random.Random, kind: str) -> Condition:
    pools = {K.TOWNSHIP: township_codes(), K.INDUSTRY: section_codes(), K.SIZE: SIZES,
             K.QUALIFICATION: qualification_codes(), K.PERSON_GROUP: person_group_codes()}
    if kind in pools:
        return Condition(kind, codes=_codes(rng, pools[kind]))
    if kind == K.AGE:
        low = rng.choice([None, 16, 18, 35, 60])
        return Condition(kind, low=low, high=rng.choice([45, 60, 150]) if low is not None else 60)
    if kind == K.REGISTRATION_AGE:
        return Condition(kind, high=rng.choice([1, 3, 5, 10]))
    if kind == K.GRADUATE:
        return Condition(kind, high=rng.choice([1, 2, 3, 5]))
    if kind == K.HUKOU:
        return Condition(kind)
    return Condition(kind, text="无重大违法失信记录")


def random_items(rng: random.Random, count: int) -> list[ItemView]:
    items = []
    for n in range(1, count + 1):
        audience = rng.choice(["enterprise", "enterprise", "resident", None])
        kinds = rng.sample(RESIDENT_KINDS if audience == "resident" else ENTERPRISE_KINDS, rng.randint(1, 4))
        conditions = tuple(random_condition(rng, k) for k in kinds)
        if audience:
            conditions = (Condition(K.AUDIENCE, codes=frozenset({audience})), *conditions)
        amount = rng.choice([None, 2_000, 5_000, 30_000, 100_000, 500_000])
        items.append(ItemView(
            id=n, policy_id=n // 3 + 1, revision=1, position=n % 3 + 1, name=f"事项{n}", benefit="",
            amount_yuan=amount, rate_percent=None, cap_yuan=None if amount else rng.choice([None, 100_000]),
            track="apply", conditions=conditions, apply_url="", apply_place="", materials="",
            deadline=TODAY + timedelta(days=rng.randint(-70, 700)) if rng.random() < 0.9 else None, phone="",
        ))  # fmt: skip
    return items


def _maybe(rng: random.Random, value: object) -> object:
    return None if rng.random() < 0.3 else value


def random_profile(rng: random.Random) -> Profile:
    if rng.random() < 0.5:
        return Profile(
            kind="enterprise", township=_maybe(rng, rng.choice(township_codes())),  # type: ignore[arg-type]
            industry=_maybe(rng, rng.choice(section_codes())),  # type: ignore[arg-type]
            employees=_maybe(rng, float(rng.randint(1, 2_000))),  # type: ignore[arg-type]
            revenue=_maybe(rng, float(rng.randint(10, 100_000))),  # type: ignore[arg-type]
            registered_on=_maybe(rng, TODAY - timedelta(days=rng.randint(30, 9_000))),  # type: ignore[arg-type]
            qualifications=_maybe(rng, frozenset(rng.sample(qualification_codes(), rng.randint(0, 2)))),  # type: ignore[arg-type]
        )  # fmt: skip
    return Profile(
        kind="resident", township=_maybe(rng, rng.choice(township_codes())),  # type: ignore[arg-type]
        age=_maybe(rng, rng.randint(16, 90)), hukou_local=_maybe(rng, rng.random() < 0.8),  # type: ignore[arg-type]
        groups=_maybe(rng, frozenset(rng.sample(person_group_codes(), rng.randint(0, 2)))),  # type: ignore[arg-type]
        graduated=_maybe(rng, rng.random() < 0.3), graduation_year=_maybe(rng, rng.randint(2015, 2026)),  # type: ignore[arg-type]
    )  # fmt: skip


async def _store(items: list[ItemView], path: Path) -> object:
    from core.db import Database
    from core.migrate import upgrade_database
    from policies.items.models import PolicyItem
    from policies.models import Policy
    from vocabulary.codes import PolicyStatus

    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade_database(db)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    async with db.session() as session:
        for policy_id in sorted({i.policy_id for i in items}):
            session.add(Policy(id=policy_id, title=f"政策{policy_id}", agency="泾源县人民政府", created_by="bench",
                               created_at=at, updated_at=at, status=PolicyStatus.PUBLISHED, current_revision=1))
        await session.flush()
        session.add_all(PolicyItem(
            policy_id=i.policy_id, revision=1, position=i.position, name=i.name, benefit="", amount_yuan=i.amount_yuan,
            cap_yuan=i.cap_yuan, track=i.track, conditions=[c.as_json() for c in i.conditions], deadline=i.deadline,
            created_by="bench", created_at=at,
        ) for i in items)  # fmt: skip
    return db


async def _time_through_database(items: list[ItemView], profiles: list[Profile]) -> list[float]:
    from policies.items.catalogue_cache import CatalogueCache

    with tempfile.TemporaryDirectory() as tmp:
        db = await _store(items, Path(tmp) / "bench.db")
        cache = CatalogueCache()
        started = time.perf_counter()
        async with db.reader() as session:  # type: ignore[attr-defined]
            await cache.current(session)
        print(f"database: first answer loads the catalogue in {(time.perf_counter() - started) * 1000:.0f} ms")
        times = []
        for profile in profiles:
            started = time.perf_counter()
            async with db.reader() as session:  # type: ignore[attr-defined]
                (await cache.current(session)).calculate(profile, TODAY)
            times.append((time.perf_counter() - started) * 1000)
        await db.dispose()  # type: ignore[attr-defined]
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--profiles", type=int, default=400)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--db", action="store_true", help="also time answers through a SQLite database")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    items = random_items(rng, args.items)
    started = time.perf_counter()
    catalogue = Catalogue(items)
    build_ms = (time.perf_counter() - started) * 1000
    profiles = [random_profile(rng) for _ in range(args.profiles)]
    catalogue.calculate(profiles[0], TODAY)  # warm the vocabulary caches
    times, shown = [], []
    for profile in profiles:
        started = time.perf_counter()
        result = catalogue.calculate(profile, TODAY)
        times.append((time.perf_counter() - started) * 1000)
        shown.append(sum(result.counts.values()))
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"items: {args.items}  profiles: {args.profiles}  catalogue build: {build_ms:.1f} ms")
    print(f"answer: p50 {statistics.median(times):.1f} ms  p95 {p95:.1f} ms  max {times[-1]:.1f} ms"
          f"  (goal: p95 < 50 ms)")
    if args.db:
        db_times = asyncio.run(_time_through_database(items, profiles))
        db_p95 = db_times[int(0.95 * (len(db_times) - 1))]
        print(f"database: answer p50 {statistics.median(db_times):.1f} ms  p95 {db_p95:.1f} ms"
              f"  max {db_times[-1]:.1f} ms")
    print(f"items listed per answer (all groups, before the 50-per-group cut): mean {statistics.mean(shown):.0f}")


if __name__ == "__main__":
    main()
