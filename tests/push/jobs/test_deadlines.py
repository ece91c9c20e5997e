"""Application-deadline reminders, interpretation deadlines and expiry, with a moved clock."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import select

from core.clock import FixedClock
from core.db import Database
from policies import service as policies
from push import service as push
from push.jobs import service as jobs
from push.jobs import store as jobs_store
from push.jobs.models import DeadlineReminder, NoticeKind
from push.jobs.reminders import queue_deadline_reminders
from tests.factories import make_published_policy
from tests.push.helpers import RecordingChannel, deliveries
from tests.push.jobs.helpers import SETTINGS, bj, deliver, resident
from tests.web.conftest import login, make_user


async def _notices(db: Database, unresolved_only: bool = True) -> dict[str, list[int]]:
    async with db.reader() as session:
        rows = await jobs.department_notices(session, unresolved_only=unresolved_only)
    out: dict[str, list[int]] = {}
    for n in rows:
        out.setdefault(n.kind, []).append(n.policy_id)
    return out


async def test_deadline_reminder_7_and_1_days_before_not_for_acknowledged_and_once(
    db: Database, clock: FixedClock
) -> None:
    clock.set(bj(2026, 3, 2, 10))
    await resident(db, 9101)
    await resident(db, 9102)
    policy = await make_published_policy(db, application_closes=date(2026, 3, 20))
    channel = RecordingChannel()
    await deliver(db, channel)
    acked = next(r for r in await deliveries(db) if r.address == "9102")
    async with db.session() as session:
        await push.acknowledge(session, acked.id, by_address="9102")

    clock.set(bj(2026, 3, 12, 9))  # 8 days before: nothing yet
    assert (await jobs.run_job(db, SETTINGS, "deadline_reminders")).ran
    assert [r for r in await deliveries(db) if r.kind.startswith("deadline")] == []

    clock.set(bj(2026, 3, 13, 9))  # 7 days before
    assert (await jobs.run_job(db, SETTINGS, "deadline_reminders")).ran
    assert not (await jobs.run_job(db, SETTINGS, "deadline_reminders")).ran  # same moment: nothing
    assert (await queue_deadline_reminders(db, date(2026, 3, 13))).queued == {}  # the ledger, too
    clock.set(bj(2026, 3, 14, 9))  # the next day is still in stage 7: not again
    await jobs.run_job(db, SETTINGS, "deadline_reminders")
    await deliver(db, channel)
    (week,) = [r for r in await deliveries(db) if r.kind == "deadline_7d"]
    assert week.address == "9101" and week.policy_id == policy.id and week.status == "sent"
    (message,) = [m for m in channel.to("9101") if "申报截止提醒" in m.text]
    assert "2026年3月20日" in message.text

    clock.set(bj(2026, 3, 19, 9))  # 1 day before
    await jobs.run_job(db, SETTINGS, "deadline_reminders")
    await jobs.run_job(db, SETTINGS, "deadline_reminders")
    await deliver(db, channel)
    reminders = [(r.kind, r.address) for r in await deliveries(db) if r.kind.startswith("deadline")]
    assert sorted(reminders) == [("deadline_1d", "9101"), ("deadline_7d", "9101")]
    assert channel.to("9102") and all("申报截止提醒" not in m.text for m in channel.to("9102"))
    async with db.reader() as session:
        ledger = list((await session.execute(select(DeadlineReminder))).scalars())
    assert sorted(r.days_before for r in ledger) == [1, 7] and all(r.delivery_id for r in ledger)


async def test_acknowledging_the_first_reminder_stops_the_second(db: Database, clock: FixedClock) -> None:
    clock.set(bj(2026, 3, 2, 10))
    await resident(db, 9201)
    await make_published_policy(db, application_closes=date(2026, 3, 20))
    await deliver(db, RecordingChannel())
    clock.set(bj(2026, 3, 13, 9))
    await jobs.run_job(db, SETTINGS, "deadline_reminders")
    await deliver(db, RecordingChannel())
    (week,) = await deliveries(db, kind="deadline_7d")
    async with db.session() as session:
        await push.acknowledge(session, week.id, by_address="9201")
    clock.set(bj(2026, 3, 19, 9))
    await jobs.run_job(db, SETTINGS, "deadline_reminders")
    assert await deliveries(db, kind="deadline_1d") == []


async def test_interpretation_due_across_national_day(db: Database, clock: FixedClock) -> None:
    clock.set(bj(2025, 9, 30, 10))  # Tuesday before the 1-8 October holiday
    policy = await make_published_policy(db, interpretation=None)
    async with db.reader() as session:
        interpretation = await policies.get_interpretation(session, policy.id)
    # 9 and 10 October are working days, and so is Saturday 11 October (a make-up day).
    assert interpretation is not None and interpretation.due_on == date(2025, 10, 11)

    for day, expected in [
        (date(2025, 10, 8), {}),
        (date(2025, 10, 9), {}),
        (date(2025, 10, 10), {NoticeKind.INTERPRETATION_DUE: [policy.id]}),  # the working day before
        (date(2025, 10, 11), {NoticeKind.INTERPRETATION_DUE: [policy.id]}),
        (date(2025, 10, 12), {NoticeKind.INTERPRETATION_OVERDUE: [policy.id]}),
        (date(2025, 10, 13), {NoticeKind.INTERPRETATION_OVERDUE: [policy.id]}),
    ]:
        clock.set(bj(day.year, day.month, day.day, 8))
        await jobs.run_job(db, SETTINGS, "interpretation_deadlines")
        assert await _notices(db) == expected, day
    everything = await _notices(db, unresolved_only=False)
    assert everything == {NoticeKind.INTERPRETATION_DUE: [policy.id], NoticeKind.INTERPRETATION_OVERDUE: [policy.id]}

    from tests.factories import FULL_INTERPRETATION

    async with db.session() as session:
        await policies.set_interpretation(session, policy.id, FULL_INTERPRETATION, "editor")
    clock.advance(timedelta(days=1))
    await jobs.run_job(db, SETTINGS, "interpretation_deadlines")
    assert await _notices(db) == {}


async def test_expiry_flips_status_notifies_recipients_and_warns_the_department(
    db: Database, clock: FixedClock
) -> None:
    clock.set(bj(2026, 3, 2, 10))
    await resident(db, 9301)
    await resident(db, 9302)
    policy = await make_published_policy(db, expiry_date=date(2026, 3, 31))
    channel = RecordingChannel()
    await deliver(db, channel)

    clock.set(bj(2026, 3, 3, 8))  # 28 days before: warned once
    await jobs.run_job(db, SETTINGS, "expiry_warnings")
    clock.advance(timedelta(days=1))
    await jobs.run_job(db, SETTINGS, "expiry_warnings")
    assert await _notices(db) == {NoticeKind.EXPIRY_WARNING: [policy.id]}

    clock.set(bj(2026, 3, 31, 0, 10))  # the last valid day
    await jobs.run_job(db, SETTINGS, "policy_expiry")
    async with db.reader() as session:
        assert (await policies.get_policy(session, policy.id)).status == "published"

    clock.set(bj(2026, 4, 1, 0, 10))
    assert (await jobs.run_job(db, SETTINGS, "policy_expiry")).detail == f"expired [{policy.id}]"
    assert not (await jobs.run_job(db, SETTINGS, "policy_expiry")).ran
    async with db.reader() as session:
        assert (await policies.get_policy(session, policy.id)).status == "expired"
    await deliver(db, channel)
    for chat in ("9301", "9302"):
        notices = [m for m in channel.to(chat) if "政策失效通知" in m.text]
        assert len(notices) == 1
    clock.set(bj(2026, 4, 1, 8))
    await jobs.run_job(db, SETTINGS, "expiry_warnings")
    assert await _notices(db) == {}  # resolved: nothing left to warn about


async def test_housekeeping_prunes_old_attempts(db: Database, clock: FixedClock) -> None:
    clock.set(bj(2026, 3, 2, 10))
    await resident(db, 9401)
    await make_published_policy(db)
    await deliver(db, RecordingChannel())
    assert len(await deliveries(db)) == 1
    clock.set(bj(2026, 8, 30, 10))  # 181 days later
    result = await jobs.run_job(db, SETTINGS, "housekeeping")
    assert "pruned 1 attempts older than 180 days" in result.detail
    async with db.reader() as session:
        (run,) = await jobs_store.runs(session, "housekeeping")
    assert run.state == "done" and run.period_key == "2026-08-30T10"
    assert (await deliveries(db))[0].status == "sent"


async def test_console_board_shows_department_notices(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:

    clock.set(bj(2026, 3, 2, 10))
    policy = await make_published_policy(db, title="无解读的通知", interpretation=None)
    await make_user(db, "viewer", "viewer")
    await login(client, "viewer")
    assert "解读已逾期" not in (await client.get("/console/boards")).text
    clock.set(bj(2026, 3, 6, 8))  # due Thursday 5 March
    await jobs.run_job(db, SETTINGS, "interpretation_deadlines")
    board = (await client.get("/console/boards")).text
    assert 'id="board-notices"' in board and "解读已逾期" in board and f"/console/policies/{policy.id}" in board
