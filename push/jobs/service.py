"""The one door into scheduled work for `run.py`, `web` and tests.

    await run_scheduler(db, settings, stop)       # elect a leader; run the jobs while leading
    scheduled_jobs(db, settings) -> [JobSpec]      # the jobs, with fixed ids and Beijing times
    await run_job(db, settings, "policy_expiry", at=None) -> RunResult   # one run, once per period
    await department_notices(session) -> [NoticeView]                    # for the console boards

Jobs (Asia/Shanghai):
    policy_expiry             00:10 daily  expire policies past their date (fan-out tells recipients)
    expiry_warnings           08:00 daily  notice to departments 30 days before a policy expires
    interpretation_deadlines  08:00 daily  notice the working day before an interpretation is due; overdue after
    deadline_reminders        09:00 daily  申报截止 reminders 7 and 1 days before, to who has not acknowledged
    relay_deadlines           09:00 daily  relay reminders to hubs, escalations of overdue relay tasks
    housekeeping              hourly :17   reclaim expired leases, prune old delivery attempts

Digests need no job: their rows carry the digest time (09:00 daily, Monday 09:00 weekly, moved
out of quiet hours) as `due_at`, and the delivery worker groups each address's due rows into
one message when they fall due. See docs/adr/0004-scheduler.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.clock import today_in_china
from core.db import Database
from core.scheduler import (
    DEFAULT_POLL_SECONDS,
    JobScheduler,
    JobSpec,
    LeaderStatus,
    daily,
    hourly,
    lead,
    leadership_for,
)
from core.settings import Settings
from push.jobs import expiry, housekeeping, notices, reminders, store, texts
from push.jobs.runs import RunResult, daily_period, default_runner, hourly_period, run_once_per_period
from push.relay import service as relay
from push.voice.service import voice_service_for
from push.wakeup import wake

__all__ = [
    "LeaderStatus",
    "NoticeView",
    "RunResult",
    "department_notices",
    "run_job",
    "run_scheduler",
    "scheduled_jobs",
]

RETENTION_SETTING = "delivery_attempt_retention_days"
POLL_SETTING = "scheduler_poll_seconds"
DAILY_GRACE = timedelta(hours=23)
HOURLY_GRACE = timedelta(minutes=59)


def _setting(settings: Settings, name: str, default: Any) -> Any:
    value = getattr(settings, name, None)
    return default if value is None else value


Body = Callable[[Database, Settings, date, datetime], Awaitable[str]]


async def _policy_expiry(db: Database, settings: Settings, today: date, now: datetime) -> str:
    expired = await expiry.expire_policies(db, today)
    return f"expired {expired}" if expired else "nothing expired"


async def _expiry_warnings(db: Database, settings: Settings, today: date, now: datetime) -> str:
    report = await notices.warn_expiring(db, today)
    return f"warned {report.created}, resolved {report.resolved}"


async def _interpretation_deadlines(db: Database, settings: Settings, today: date, now: datetime) -> str:
    report = await notices.check_interpretations(db, today)
    return f"notices {report.created}, resolved {report.resolved}"


async def _deadline_reminders(db: Database, settings: Settings, today: date, now: datetime) -> str:
    report = await reminders.queue_deadline_reminders(db, today)
    if report.queued:
        wake()
    return f"queued {report.queued} for policies {report.policies}"


async def _relay_deadlines(db: Database, settings: Settings, today: date, now: datetime) -> str:

    reminded = await relay.send_relay_reminders(db, today)
    escalated = await relay.escalate_overdue(db, today)
    return f"reminded tasks {reminded.task_ids}, escalated {escalated.task_ids}"


async def _housekeeping(db: Database, settings: Settings, today: date, now: datetime) -> str:
    reclaimed = await housekeeping.reclaim_leases(db, now)
    retention = int(_setting(settings, RETENTION_SETTING, housekeeping.DEFAULT_ATTEMPT_RETENTION_DAYS))
    pruned = await housekeeping.prune_attempts(db, now, retention)
    voice_files = 0
    if getattr(settings, "voice_enabled", False):  # audio of amended, repealed or expired policies

        voice_files = await voice_service_for(db, settings).prune()
    return (f"reclaimed {reclaimed} leases, pruned {pruned} attempts older than {retention} days, "
            f"removed {voice_files} stale voice files")


@dataclass(frozen=True)
class _Job:
    id: str
    trigger: Any
    period: Callable[[datetime], str]
    grace: timedelta
    body: Body


JOBS = (
    _Job("policy_expiry", daily(0, 10), daily_period, DAILY_GRACE, _policy_expiry),
    _Job("expiry_warnings", daily(8, 0), daily_period, DAILY_GRACE, _expiry_warnings),
    _Job("interpretation_deadlines", daily(8, 0), daily_period, DAILY_GRACE, _interpretation_deadlines),
    _Job("deadline_reminders", daily(9, 0), daily_period, DAILY_GRACE, _deadline_reminders),
    _Job("relay_deadlines", daily(9, 0), daily_period, DAILY_GRACE, _relay_deadlines),
    _Job("housekeeping", hourly(17), hourly_period, HOURLY_GRACE, _housekeeping),
)
JOB_IDS = tuple(job.id for job in JOBS)


def _bound(db: Database, settings: Settings, job: _Job, runner: str) -> Callable[[datetime], Awaitable[RunResult]]:
    async def run(at: datetime) -> RunResult:
        # `at` names the period; the work itself looks at the state of things now.
        now = clock.now()

        async def body() -> str:
            return await job.body(db, settings, today_in_china(now), now)

        return await run_once_per_period(db, job.id, job.period(at), body, runner=runner)

    return run


def scheduled_jobs(db: Database, settings: Settings, *, runner: str | None = None) -> list[JobSpec]:
    who = runner or default_runner()
    return [JobSpec(job.id, job.trigger, _bound(db, settings, job, who), job.grace) for job in JOBS]


async def run_job(
    db: Database, settings: Settings, job_id: str, at: datetime | None = None, *, runner: str | None = None
) -> RunResult:
    """Run one job for the period of `at` (default now), unless that period is done already."""
    job = next(j for j in JOBS if j.id == job_id)
    return await _bound(db, settings, job, runner or default_runner())(at or clock.now())


async def run_scheduler(
    db: Database,
    settings: Settings,
    stop: asyncio.Event,
    *,
    poll_interval: float | None = None,
    status: LeaderStatus | None = None,
    runner: str | None = None,
    on_leading: Callable[[JobScheduler], Awaitable[Any]] | None = None,
) -> None:
    """Until `stop` is set: take part in the leader election (PostgreSQL advisory lock, or a lock
    file next to the SQLite database) and, while this process leads, run the jobs on APScheduler,
    after catching up once on each job's latest missed run within its grace period."""
    interval = float(poll_interval if poll_interval is not None else _setting(settings, POLL_SETTING,
                                                                              DEFAULT_POLL_SECONDS))
    await lead(
        leadership_for(db), scheduled_jobs(db, settings, runner=runner), stop,
        poll_interval=interval, status=status, on_leading=on_leading,
    )


# -- department notices (console boards) ----------------------------------------------------------


@dataclass(frozen=True)
class NoticeView:
    id: int
    policy_id: int
    kind: str  # push.jobs.models.NoticeKind
    label: str
    agency: str
    policy_title: str
    due_on: date
    message: str
    created_at: datetime
    resolved_at: datetime | None


async def department_notices(session: AsyncSession, *, unresolved_only: bool = True) -> list[NoticeView]:
    """Notices to releasing departments, by due date; the caller filters by agency and role."""
    return [
        NoticeView(n.id, n.policy_id, n.kind, texts.NOTICE_LABELS.get(n.kind, n.kind), n.agency, n.policy_title,
                   n.due_on, n.message, n.created_at, n.resolved_at)
        for n in await store.notices(session, unresolved_only=unresolved_only)
    ]
