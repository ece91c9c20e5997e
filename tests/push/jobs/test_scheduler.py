"""The scheduler: one leader among processes, catch-up once per missed period, takeover."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text

from core.clock import FixedClock
from core.db import Database
from core.scheduler import SCHEDULER_LOCK_KEY, JobScheduler, LeaderStatus, daily, latest_fire_time
from push.jobs import service as jobs
from push.jobs import store as jobs_store
from tests.load import cpu_hog
from tests.push.jobs.helpers import SETTINGS, bj

POLL = 0.05


async def _until(condition: Callable[[], Awaitable[bool] | bool], timeout: float = 20.0) -> None:  # noqa: ASYNC109
    for _ in range(int(timeout / 0.02)):
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def _runs(db: Database) -> list[tuple[str, str, str]]:
    async with db.reader() as session:
        return [(r.job, r.period_key, r.runner) for r in await jobs_store.runs(session)]


class _Process:
    """One scheduler 'process': its own engine, its own stop event and status."""

    def __init__(self, url: str, name: str) -> None:
        self.db = Database(url)
        self.name = name
        self.stop = asyncio.Event()
        self.status = LeaderStatus()
        self.scheduler: JobScheduler | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self) -> _Process:
        async def remember(scheduler: JobScheduler) -> None:
            self.scheduler = scheduler

        self.task = asyncio.create_task(jobs.run_scheduler(
            self.db, SETTINGS, self.stop, poll_interval=POLL, status=self.status, runner=self.name,
            on_leading=remember,
        ))
        return self

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 20)
        await self.db.dispose()


def test_a_missed_run_is_caught_up_once_not_once_per_period() -> None:
    trigger = daily(9)
    now = bj(2026, 3, 5, 10)
    assert latest_fire_time(trigger, now, timedelta(hours=23)) == bj(2026, 3, 5, 9)
    assert latest_fire_time(trigger, bj(2026, 3, 5, 8), timedelta(hours=23)) == bj(2026, 3, 4, 9)
    assert latest_fire_time(trigger, bj(2026, 3, 5, 8, 30), timedelta(hours=1)) is None


async def test_catch_up_twice_runs_each_job_once(db: Database, clock: FixedClock) -> None:
    scheduler = JobScheduler(jobs.scheduled_jobs(db, SETTINGS, runner="one"))
    clock.set(bj(2026, 3, 2, 9, 30))
    await scheduler.catch_up()
    await scheduler.catch_up()
    runs = await _runs(db)
    assert sorted(job for job, _, _ in runs) == sorted(jobs.JOB_IDS)
    assert ("deadline_reminders", "2026-03-02", "one") in runs and ("housekeeping", "2026-03-02T09", "one") in runs


@pytest.mark.xdist_group("hog")  # never beside another CPU hog (make test runs --dist loadgroup)
async def test_two_schedulers_never_both_run_and_the_other_takes_over(db: Database, clock: FixedClock) -> None:
    # Failed once under load: it runs while every core is busy, so it cannot depend on an idle machine.
    with cpu_hog():
        clock.set(bj(2026, 3, 2, 9, 30))
        a = _Process(db.url, "A").start()
        b = _Process(db.url, "B")
        try:
            await _until(a.status.leading.is_set)

            async def a_caught_up() -> bool:
                return len(await _runs(db)) == len(jobs.JOB_IDS)

            # Leading is announced before the catch-up finishes; under load it can take a while.
            await _until(a_caught_up)
            b.start()
            await asyncio.sleep(POLL * 6)  # let B try to lead a few times (it must fail)
            assert not b.status.leading.is_set() and b.status.terms == 0 and b.status.runs == 0
            runs = await _runs(db)
            assert len(runs) == len(jobs.JOB_IDS) and {r for _, _, r in runs} == {"A"}

            await a.close()  # the leader stops: B takes over
            await _until(b.status.leading.is_set)
            await _until(lambda: b.scheduler is not None)
            assert await _runs(db) == runs  # its catch-up found every period done

            clock.advance(timedelta(days=1))
            assert b.scheduler is not None
            await b.scheduler.catch_up()
            later = await _runs(db)
            assert len(later) == 2 * len(jobs.JOB_IDS)
            assert {r for _, p, r in later if p.startswith("2026-03-03")} == {"B"}
            assert max(Counter((job, period) for job, period, _ in later).values()) == 1
        finally:
            await a.close()
            await b.close()


async def test_a_dead_leader_is_replaced(db: Database, clock: FixedClock) -> None:
    if db.dialect != "postgresql":
        pytest.skip("a dead session frees the advisory lock: PostgreSQL only (SQLite: the OS frees the flock)")
    clock.set(bj(2026, 3, 2, 9, 30))
    a = _Process(db.url, "A").start()
    b = _Process(db.url, "B")
    try:
        await _until(a.status.leading.is_set)
        b.start()
        # The leader's database session dies (process killed, network gone): its lock goes with it.
        async with db.engine.connect() as conn:
            killed = await conn.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                "WHERE locktype = 'advisory' AND objid = :k AND granted"), {"k": SCHEDULER_LOCK_KEY})
        assert killed == 1
        await _until(b.status.leading.is_set)
        await _until(lambda: not a.status.leading.is_set())  # the old leader noticed and stepped down
        assert b.status.terms == 1
    finally:
        await a.close()
        await b.close()
