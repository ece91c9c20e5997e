"""Reminders one working day before the relay deadline (across a weekend), never twice;
escalation to the releasing department once overdue, never twice; a hub with no active address."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.clock import FixedClock
from core.db import Database
from push.relay import service as relay
from subscriptions import service as subscriptions
from tests.fakes.telegram_api import FakeTelegram, strip_html
from tests.push.relay.helpers import AGENCY, HUB_A_CHAT, deliveries, drain, make_county, release, task_of, worker


def beijing_9am(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)


async def test_reminder_fires_one_working_day_before_across_the_weekend_and_once(
    db: Database, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    clock.set(beijing_9am(date(2026, 3, 5)))  # Thursday
    county = await make_county(db)
    policy = await release(db)
    task_a = await task_of(db, policy.id, county.hub_a)
    task_b = await task_of(db, policy.id, county.hub_b)
    assert (task_a.due_on, task_a.remind_on) == (date(2026, 3, 10), date(2026, 3, 9))  # Tue; Mon

    async with db.session() as session:  # B acts in time: it must not be reminded
        await relay.report_external_forward(session, task_b.id, 3, "", actor="assoc")

    for day in (date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 8)):  # Thu-Sun
        clock.set(beijing_9am(day))
        assert (await relay.send_relay_reminders(db)).task_ids == []
    clock.set(beijing_9am(date(2026, 3, 9)))  # Monday
    assert (await relay.send_relay_reminders(db)).task_ids == [task_a.id]
    assert (await relay.send_relay_reminders(db)).task_ids == []  # the scheduler ran again: nothing
    clock.set(beijing_9am(date(2026, 3, 10)))
    assert (await relay.send_relay_reminders(db)).task_ids == []

    (reminder,) = await deliveries(db, kind="reminder")
    assert (reminder.address, reminder.role, reminder.hub_id) == (str(HUB_A_CHAT), "relayer", county.hub_a)
    await drain(worker(db, fake_telegram, today=date(2026, 3, 9)))
    texts = [strip_html(m["text"]) for m in fake_telegram.sent_messages(HUB_A_CHAT)]
    assert any("接力转达提醒" in t and "3月10日" in t and AGENCY in t for t in texts)
    async with db.reader() as session:
        assert (await relay.get_task(session, task_a.id)).reminded_at is not None


async def test_overdue_task_is_escalated_once_and_resolved_when_the_hub_acts(db: Database, clock: FixedClock) -> None:
    county = await make_county(db)  # released Monday 2026-03-02, due Thursday 03-05
    policy = await release(db)
    task_a = await task_of(db, policy.id, county.hub_a)
    task_b = await task_of(db, policy.id, county.hub_b)
    async with db.session() as session:
        await relay.decline(session, task_b.id, "本协会会员均不在政策范围内", actor="assoc")

    clock.set(beijing_9am(date(2026, 3, 5)))  # the due day itself is still in time
    assert (await relay.escalate_overdue(db)).task_ids == []
    clock.set(beijing_9am(date(2026, 3, 6)))
    assert (await relay.escalate_overdue(db)).task_ids == [task_a.id]
    assert (await relay.escalate_overdue(db)).task_ids == []

    async with db.reader() as session:
        (escalation,) = await relay.escalations(session, agency=AGENCY)
        funnel = await relay.relay_funnel(session, policy.id)
    assert escalation.task_id == task_a.id and escalation.resolved_at is None
    assert "泾源县工业园区" in escalation.message and AGENCY in escalation.message
    assert (funnel.hubs_open, funnel.hubs_overdue, funnel.hubs_declined) == (1, 1, 1)

    async with db.session() as session:  # late, but done: the department sees it closed
        await relay.forward_through_system(session, task_a.id, actor="park")
    async with db.reader() as session:
        (escalation,) = await relay.escalations(session, agency=AGENCY)
        assert escalation.resolved_at is not None
        assert await relay.escalations(session, agency=AGENCY, unresolved_only=True) == []


async def test_hub_without_an_active_address_is_flagged_not_reminded(db: Database, clock: FixedClock) -> None:
    county = await make_county(db)
    policy = await release(db)
    task_a = await task_of(db, policy.id, county.hub_a)
    async with db.session() as session:
        await subscriptions.deactivate_address(session, county.hub_addresses[county.hub_a], "blocked")
    clock.set(beijing_9am(date(2026, 3, 4)))
    report = await relay.send_relay_reminders(db)
    assert task_a.id in report.unreachable and task_a.id not in report.task_ids
    assert [d.hub_id for d in await deliveries(db, kind="reminder")] == [county.hub_b]
    async with db.reader() as session:
        assert (await relay.get_task(session, task_a.id)).hub_unreachable
    clock.set(beijing_9am(date(2026, 3, 6)))
    await relay.escalate_overdue(db)
    async with db.reader() as session:
        messages = [e.message for e in await relay.escalations(session) if e.task_id == task_a.id]
    assert len(messages) == 1 and "没有可用的接收地址" in messages[0]


async def test_deadline_is_configurable_in_working_days() -> None:
    from push.relay.tasks import deadline

    assert deadline(date(2026, 3, 5), 5) == (date(2026, 3, 12), date(2026, 3, 11))
    assert deadline(date(2026, 3, 6), 1) == (date(2026, 3, 9), date(2026, 3, 6))  # Fri → Mon, remind Fri
