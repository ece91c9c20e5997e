"""Application-deadline (申报截止) reminders: 7 days and 1 day before a policy's application
window closes, to every address that received the policy and whose subscriber has not
acknowledged it.

A stage is due from its day on (7: 2-7 days left, 1: 0-1 days left), so a run missed while
the scheduler was down is made up by the next one; only addresses that had the policy before
the stage's day are reminded (someone who got it yesterday has just read the deadline).
Each (policy, address, deadline, stage) is booked once in `deadline_reminder` in the same
transaction as its delivery row (kind `deadline_7d` / `deadline_1d`, rendered as a reminder).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.clock import CHINA_TZ
from core.db import Database
from core.errors import NotFound
from policies import service as policies
from policies.views import PolicyView
from push.dao import deliveries
from push.dao.fanout import NewDelivery, insert_deliveries
from push.dao.writing import writing
from push.jobs import store, texts
from push.kinds import DEADLINE_KINDS
from push.schedule import after_quiet_hours
from subscriptions import service as subscriptions
from subscriptions.views import SubscriberView
from vocabulary.codes import PolicyStatus

log = logging.getLogger(__name__)

STAGES = (7, 1)  # days before the deadline, largest first


@dataclass
class ReminderReport:
    queued: dict[int, int] = field(default_factory=dict)  # days_before -> deliveries queued
    policies: list[int] = field(default_factory=list)


def stage_for(days_left: int) -> int | None:
    """The reminder stage a policy with `days_left` until its deadline is in, if any."""
    if days_left < 0:
        return None
    for stage in reversed(STAGES):  # smallest first: 1 day left is stage 1, not 7
        if days_left <= stage:
            return stage
    return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=CHINA_TZ)


async def _contact(
    session: AsyncSession, cache: dict[int, SubscriberView | None], holder: deliveries.Recipient
) -> SubscriberView | None:
    """The subscriber's view when the address is still active and pushes are not paused."""

    if holder.subscriber_id not in cache:
        try:
            cache[holder.subscriber_id] = await subscriptions.get_subscriber(session, holder.subscriber_id)
        except NotFound:
            cache[holder.subscriber_id] = None
    sub = cache[holder.subscriber_id]
    if sub is None or sub.preference.paused:
        return None
    active = {a.id for a in sub.addresses if a.active}
    return sub if holder.address_id in active else None


async def queue_deadline_reminders(db: Database, today: date) -> ReminderReport:
    """Queue the due reminders of every published policy with an open application window."""

    report = ReminderReport()
    async with db.reader() as session:
        published, _ = await policies.list_policies(session, statuses=[PolicyStatus.PUBLISHED], limit=1_000_000)
    for policy in published:
        closes = policy.application_closes
        if closes is None:
            continue
        stage = stage_for((closes - today).days)
        if stage is None:
            continue
        queued = await _remind(db, policy, closes, stage)
        if queued:
            report.queued[stage] = report.queued.get(stage, 0) + queued
            report.policies.append(policy.id)
    return report


async def _remind(db: Database, policy: PolicyView, closes: date, stage: int) -> int:
    kind = DEADLINE_KINDS[stage]
    received_before = _start_of(closes - timedelta(days=stage))
    subscribers: dict[int, SubscriberView | None] = {}
    # One transaction per policy: the ledger rows and the delivery rows commit together.
    async with writing(db) as session:
        now = clock.now()
        rows: list[NewDelivery] = []
        for holder in await deliveries.unacknowledged_holders(session, policy.id, received_before=received_before):
            sub = await _contact(session, subscribers, holder)
            if sub is None:
                continue
            if not await store.record_reminder(
                session, policy_id=policy.id, holder=holder, closes_on=closes, days_before=stage, now=now,
            ):
                continue
            pref = sub.preference
            rows.append(NewDelivery(
                policy.id, policy.revision, kind, holder.subscriber_id, holder.address_id,
                holder.channel, holder.address, (texts.DEADLINE_REASON[stage],), "subscriber", None,
                False, False, after_quiet_hours(now, pref.quiet_start, pref.quiet_end), now,
            ))
        if not rows:
            return 0
        inserted = await insert_deliveries(session, rows)
        await store.link_reminders(session, policy_id=policy.id, revision=policy.revision, kind=kind,
                                   closes_on=closes, days_before=stage)
    log.info("deadline reminders: policy %s, %d days before: %d queued", policy.id, stage, inserted)
    return inserted
