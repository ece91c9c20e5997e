"""Periodic jobs with APScheduler 3 (AsyncIOScheduler), run by one elected process only.

Jobs are declared in code (`JobSpec`: a fixed id, a cron trigger, a coroutine taking the
moment it stands for) and kept in APScheduler's memory store; nothing is pickled. What must
survive a restart lives in the database (see docs/adr/0004-scheduler.md): on becoming leader
the scheduler runs each job once for its latest fire time within the job's grace period
(`catch_up`), and the job itself decides, from its own rows, whether that moment was done.

Leadership (`lead`): on PostgreSQL a session-level `pg_try_advisory_lock` held on a dedicated
connection for as long as this process leads; on SQLite an exclusive `flock` on a file next to
the database. Either is released by the operating system or the server when the process dies,
so another process takes over within one poll interval.

This module knows nothing about the domain: `push.jobs` supplies the jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core import clock, metrics
from core.clock import CHINA_TZ
from core.db import Database

log = logging.getLogger(__name__)

# Any 64-bit number; the same in every process of one deployment (core.migrate uses 7_245_001).
SCHEDULER_LOCK_KEY = 7_245_004
DEFAULT_POLL_SECONDS = 5.0


@dataclass(frozen=True)
class JobSpec:
    """One periodic job. `run(at)` gets the moment the run stands for (aware, UTC)."""

    id: str
    trigger: CronTrigger
    run: Callable[[datetime], Awaitable[object]]
    # A fire time missed by at most this much (process down, leader change) runs once on start.
    grace: timedelta = timedelta(hours=1)


def daily(hour: int, minute: int = 0) -> CronTrigger:
    return CronTrigger(hour=hour, minute=minute, timezone=CHINA_TZ)


def hourly(minute: int = 0) -> CronTrigger:
    return CronTrigger(minute=minute, timezone=CHINA_TZ)


def latest_fire_time(trigger: CronTrigger, now: datetime, grace: timedelta) -> datetime | None:
    """The last time in (now - grace, now] at which `trigger` fires, or None."""
    fire = trigger.get_next_fire_time(None, now - grace)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest


# -- leadership ---------------------------------------------------------------------------------


class Leadership(Protocol):
    async def acquire(self) -> bool:
        """Try once, without waiting; True when this process now leads."""
        ...

    async def still_leading(self) -> bool: ...

    async def release(self) -> None: ...


class PostgresLeadership:
    """A session-level advisory lock on a connection of our own, held while leading.

    The connection runs in autocommit so that it never sits idle inside a transaction; the lock
    belongs to the session, not to a transaction, and ends when the session does.
    """

    def __init__(self, db: Database, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        conn = await self.db.engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}))
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def still_leading(self) -> bool:
        if self._conn is None:
            return False
        try:
            # Our own lock, seen from our own session: gone if the server ended the session.
            held = await self._conn.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                     "AND pid = pg_backend_pid() AND objid = :lo AND classid = :hi"),
                {"lo": self.key & 0xFFFFFFFF, "hi": self.key >> 32},
            )
        except Exception:  # a broken connection means the lock is gone
            log.warning("scheduler: leader connection lost", exc_info=True)
            return False
        return bool(held)

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await conn.close()
        except Exception:  # noqa: BLE001 - whatever happened, the session must not go back to the pool
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()


class FileLeadership:
    """An exclusive `flock` on a lock file (SQLite: one scheduler per database file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    async def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    async def still_leading(self) -> bool:
        return self._file is not None

    async def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


class SoleLeadership:
    """In-memory SQLite and other single-process databases: this process is the only one."""

    def __init__(self) -> None:
        self._leading = False

    async def acquire(self) -> bool:
        self._leading = True
        return True

    async def still_leading(self) -> bool:
        return self._leading

    async def release(self) -> None:
        self._leading = False


def leadership_for(db: Database) -> Leadership:
    if db.dialect == "postgresql":
        return PostgresLeadership(db)
    path = db.url.split(":///", 1)[-1].split("?", 1)[0] if db.dialect == "sqlite" else ""
    if path and path != ":memory:":
        return FileLeadership(Path(f"{path}.scheduler.lock"))
    return SoleLeadership()


# -- running the jobs -----------------------------------------------------------------------------


@dataclass
class LeaderStatus:
    """What a caller (or a test) may observe about this process's scheduler."""

    leading: asyncio.Event = field(default_factory=asyncio.Event)
    terms: int = 0  # how many times this process became leader
    runs: int = 0  # job runs started by this process (whether or not the job found work)


class JobScheduler:
    """AsyncIOScheduler with the given jobs in its memory store; start it inside the loop."""

    def __init__(self, jobs: Sequence[JobSpec], status: LeaderStatus | None = None) -> None:
        self.jobs = {job.id: job for job in jobs}
        self.status = status or LeaderStatus()
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        scheduler = AsyncIOScheduler(
            timezone=CHINA_TZ,
            # 3.x defaults skip a run missed by more than 1 s; a busy loop must not lose one.
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        for job in self.jobs.values():
            scheduler.add_job(
                self.fire, job.trigger, args=[job.id], id=job.id, name=job.id, replace_existing=True,
                misfire_grace_time=int(job.grace.total_seconds()) or None,
            )
        scheduler.start()  # needs the running loop
        self._scheduler = scheduler

    async def fire(self, job_id: str) -> None:
        """APScheduler's entry point: the run stands for now (the injected clock)."""
        await self.run(job_id, clock.now())

    async def run(self, job_id: str, at: datetime) -> None:
        job = self.jobs[job_id]
        self.status.runs += 1
        try:
            await job.run(at)
        except Exception:
            metrics.record_scheduler_run(job_id, ok=False)
            log.exception("scheduled job %s (%s) failed", job_id, at.isoformat())
        else:
            metrics.record_scheduler_run(job_id, ok=True)

    async def catch_up(self, now: datetime | None = None) -> None:
        """Run each job once for its latest fire time within its grace period (oldest period
        only once, however many were missed: APScheduler's `coalesce`, across restarts)."""
        now = now or clock.now()
        for job in self.jobs.values():
            moment = latest_fire_time(job.trigger, now, job.grace)
            if moment is not None:
                await self.run(job.id, moment)

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def lead(
    leadership: Leadership,
    jobs: Sequence[JobSpec],
    stop: asyncio.Event,
    *,
    poll_interval: float = DEFAULT_POLL_SECONDS,
    status: LeaderStatus | None = None,
    on_leading: Callable[[JobScheduler], Awaitable[Any]] | None = None,
) -> None:
    """Until `stop`: try to lead every `poll_interval`; while leading, run the jobs and check
    every `poll_interval` that the lock is still ours; step down on stop or when it is lost."""
    status = status or LeaderStatus()
    who = f"pid {os.getpid()}"
    while not stop.is_set():
        try:
            got = await leadership.acquire()
        except Exception:  # the database is away: try again later
            log.warning("scheduler: leader election failed", exc_info=True)
            got = False
        if not got:
            await _wait(stop, poll_interval)
            continue
        log.info("scheduler: %s is the leader", who)
        status.terms += 1
        status.leading.set()
        scheduler = JobScheduler(jobs, status)
        try:
            scheduler.start()
            await scheduler.catch_up()
            if on_leading is not None:
                await on_leading(scheduler)
            while not stop.is_set() and await leadership.still_leading():
                await _wait(stop, poll_interval)
        finally:
            scheduler.shutdown()
            status.leading.clear()
            await leadership.release()
            log.info("scheduler: %s stepped down", who)
