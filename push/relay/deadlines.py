"""Reminders one working day before a relay deadline, and escalation once it has passed.

Both are run by the scheduler (daily, and safe to run as often as one likes): each task is
reminded at most once (`reminded_at`, set under the row lock, and the reminder delivery's own
unique key) and escalated at most once (`escalated_at` and the unique `relay_escalation.task_id`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.clock import today_in_china
from core.db import Database
from core.errors import NotFound
from policies import service as policies
from push.dao.fanout import NewDelivery, insert_deliveries
from push.relay import hubs, store, texts
from push.relay.models import RelayTask
from push.relay.tasks import withdraw
from push.relay.views import DeadlineReport
from push.schedule import after_quiet_hours


@asynccontextmanager
async def _unit_of_work(session_or_db: AsyncSession | Database) -> AsyncIterator[AsyncSession]:
    if isinstance(session_or_db, Database):
        async with session_or_db.session() as session:
            yield session
    else:
        yield session_or_db


def _cn_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


async def send_relay_reminders(session_or_db: AsyncSession | Database, today: date | None = None) -> DeadlineReport:
    """Queue a reminder (delivery kind "reminder", role "relayer") to each active address of every
    hub whose open task falls due within one working day. A hub with no active address is
    flagged (`hub_unreachable`) and tried again on the next run until the deadline."""
    today = today or today_in_china()
    report = DeadlineReport()
    async with _unit_of_work(session_or_db) as session:
        by_policy: dict[int, list[RelayTask]] = defaultdict(list)
        for task in await store.tasks_to_remind(session, today):
            by_policy[task.policy_id].append(task)
        now = clock.now()
        for policy_id, tasks in by_policy.items():
            try:
                policy = await policies.get_policy(session, policy_id)
            except NotFound:
                policy = None
            if policy is None or not policy.is_valid:
                for task in tasks:
                    await withdraw(session, task, now)
                    report.withdrawn.append(task.id)
                continue
            addresses = await hubs.relayer_addresses(session, policy)
            for task in tasks:
                contacts = addresses.get(task.hub_id, [])
                if not contacts:
                    task.hub_unreachable = True
                    report.unreachable.append(task.id)
                    continue
                reason = texts.REMINDER_REASON.format(due=_cn_date(task.due_on), agency=task.agency)
                await insert_deliveries(
                    session,
                    [
                        NewDelivery(
                            policy.id, policy.revision, "reminder", c.subscriber_id, c.address_id, c.channel,
                            c.address, (reason,), "relayer", task.hub_id, False, False,
                            after_quiet_hours(now, c.preference.quiet_start, c.preference.quiet_end), now,
                        )
                        for c in contacts
                    ],
                )
                task.reminded_at = now
                task.hub_unreachable = False
                report.task_ids.append(task.id)
    return report


async def escalate_overdue(session_or_db: AsyncSession | Database, today: date | None = None) -> DeadlineReport:
    """Record an escalation to the releasing department for each task still open after its due day."""
    today = today or today_in_china()
    report = DeadlineReport()
    async with _unit_of_work(session_or_db) as session:
        tasks = await store.tasks_to_escalate(session, today)
        counts = await store.member_counts(session, [t.id for t in tasks])
        now = clock.now()
        for task in tasks:
            message = texts.ESCALATION.format(
                hub=task.hub_name, due=_cn_date(task.due_on), title=task.policy_title,
                members=counts.get(task.id, 0), agency=task.agency,
            )
            if task.hub_unreachable:
                message += f"（{texts.HUB_UNREACHABLE}）"
            await store.insert_escalation(
                session,
                {"task_id": task.id, "agency": task.agency, "policy_id": task.policy_id, "hub_id": task.hub_id,
                 "message": message, "escalated_at": now, "resolved_at": None},
            )
            task.escalated_at = now
            report.task_ids.append(task.id)
    return report
