"""Run a job at most once per period: claim `job_run(job, period_key)` before acting.

The claim commits before the job acts, so a second scheduler (or the same one started again)
sees the claim and does nothing. A run that raises is marked failed and may be retried for the
same period; a claim whose process died is retaken after `STALE_AFTER`. The jobs' own steps
are idempotent too (unique keys on reminders, notices and deliveries), so a retaken run does
not repeat what the dead one already committed.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import clock
from core.clock import CHINA_TZ
from core.db import Database
from push.dao.writing import writing
from push.jobs import store
from push.jobs.models import JobRunState

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=30)


def default_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def daily_period(at: datetime) -> str:
    """2026-03-02: one run per Beijing day."""
    return at.astimezone(CHINA_TZ).date().isoformat()


def hourly_period(at: datetime) -> str:
    """2026-03-02T09: one run per Beijing hour."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%dT%H")


@dataclass(frozen=True)
class RunResult:
    ran: bool  # False: the period was done already, or another runner holds it
    detail: str = ""


async def run_once_per_period(
    db: Database, job: str, period_key: str, body: Callable[[], Awaitable[str]], *, runner: str
) -> RunResult:
    now = clock.now()
    async with writing(db) as session:
        claimed = await store.claim_run(
            session, job=job, period_key=period_key, runner=runner, now=now, stale_before=now - STALE_AFTER
        )
    if not claimed:
        return RunResult(ran=False)
    try:
        detail = await body()
    except Exception as exc:
        async with writing(db) as session:
            await store.finish_run(session, job=job, period_key=period_key, state=JobRunState.FAILED,
                                   detail=f"{type(exc).__name__}: {exc}", now=clock.now())
        raise
    async with writing(db) as session:
        await store.finish_run(session, job=job, period_key=period_key, state=JobRunState.DONE,
                               detail=detail, now=clock.now())
    log.info("job %s %s: %s", job, period_key, detail or "done")
    return RunResult(ran=True, detail=detail)
