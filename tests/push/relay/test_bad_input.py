"""The issue's bad input: a second forward, someone else's button, a repealed or unknown
policy, bad counts and reasons; plus idempotent task creation and amendments."""

from __future__ import annotations

from datetime import date

import pytest

from core.clock import FixedClock
from core.db import Database
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from push.fanout import FanOut
from push.relay import service as relay
from push.relay.models import RelayStatus
from subscriptions import service as subscriptions
from tests.factories import amend_policy, repeal_policy
from tests.push.relay.helpers import E1_CHAT, HUB_A_CHAT, HUB_B_CHAT, deliveries, make_county, release, task_of


async def test_tasks_are_created_once_per_policy_and_hub(db: Database, clock: FixedClock) -> None:
    county = await make_county(db)
    policy = await release(db)
    assert await relay.sync_relay_tasks(db) == 0
    async with db.session() as session:  # the event handed over again (e.g. by the fan-out hook)
        from policies import service as policies

        (event,) = await policies.events_after(session, 0)
        assert await relay.create_relay_tasks_for_event(session, event) == []
    async with db.reader() as session:
        funnel = await relay.relay_funnel(session, policy.id)
    assert sorted(r.task.hub_id for r in funnel.hubs) == sorted([county.hub_a, county.hub_b])
    assert funnel.members.in_scope == 3


async def test_amendment_gives_a_task_to_a_hub_newly_in_scope(db: Database, clock: FixedClock) -> None:
    county = await make_county(db)
    policy = await release(db)
    async with db.session() as session:
        hub_c = await subscriptions.create_hub(session, name="泾源县电商协会", kind="association")
        await subscriptions.add_hub_contact(session, hub_c.id, channel="telegram", address="9003")
        await subscriptions.add_hub_member(session, hub_c.id, county.enterprises["E1"])
    await amend_policy(db, policy.id)
    await FanOut(db).run_once()
    assert await relay.sync_relay_tasks(db) == 1
    assert (await task_of(db, policy.id, hub_c.id)).status == RelayStatus.OPEN


async def test_forward_button_only_for_the_hub_it_was_sent_to(db: Database, clock: FixedClock) -> None:
    await make_county(db)
    await release(db)
    (to_a,) = await deliveries(db, address=str(HUB_A_CHAT))
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await relay.forward_from_delivery(session, to_a.id, by_address=str(HUB_B_CHAT))
    async with db.session() as session:
        with pytest.raises(NotFound):
            await relay.forward_from_delivery(session, 999_999, by_address=str(HUB_A_CHAT))


async def test_forwarding_a_relay_message_again_is_refused(db: Database, clock: FixedClock) -> None:
    county = await make_county(db)
    policy = await release(db)
    task = await task_of(db, policy.id, county.hub_a)
    async with db.session() as session:
        await relay.forward_through_system(session, task.id, actor="park")
    member_copy = next(d for d in await deliveries(db, kind="relay") if d.address == str(E1_CHAT))
    async with db.session() as session:
        with pytest.raises(ValidationFailed) as refused:
            await relay.forward_from_delivery(session, member_copy.id, by_address=str(E1_CHAT))
    assert "不是待转达" in refused.value.message


async def test_repeal_withdraws_open_tasks_and_refuses_forward_and_ack(db: Database, clock: FixedClock) -> None:
    county = await make_county(db)
    policy = await release(db)
    task_a = await task_of(db, policy.id, county.hub_a)
    task_b = await task_of(db, policy.id, county.hub_b)
    async with db.session() as session:
        await relay.forward_through_system(session, task_b.id, actor="assoc")
    e2_copy = (await deliveries(db, kind="relay"))[0]
    await repeal_policy(db, policy.id)
    await FanOut(db).run_once()
    await relay.sync_relay_tasks(db)

    assert (await task_of(db, policy.id, county.hub_a)).status == RelayStatus.WITHDRAWN
    assert (await task_of(db, policy.id, county.hub_b)).status == RelayStatus.FORWARDED  # history stays
    async with db.session() as session:
        with pytest.raises(Conflict) as refused:
            await relay.forward_through_system(session, task_a.id, actor="park")
    assert "已废止" in refused.value.message
    async with db.session() as session:
        reply = await relay.acknowledge_member(session, e2_copy.id, by_address=e2_copy.address)
    assert not reply.recorded and "已废止" in reply.message
    async with db.reader() as session:
        funnel = await relay.relay_funnel(session, policy.id)
    assert (funnel.hubs_withdrawn, funnel.hubs_open, funnel.members.acknowledged) == (1, 0, 0)
    assert (await relay.send_relay_reminders(db)).task_ids == []


async def test_acknowledging_an_unknown_delivery_or_someone_elses(db: Database, clock: FixedClock) -> None:
    county = await make_county(db)
    policy = await release(db)
    async with db.session() as session:
        await relay.forward_through_system(session, (await task_of(db, policy.id, county.hub_a)).id, actor="park")
    copy = (await deliveries(db, kind="relay"))[0]
    async with db.session() as session:
        with pytest.raises(NotFound):
            await relay.acknowledge_member(session, 424242, by_address="1")
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await relay.acknowledge_member(session, copy.id, by_address="somebody-else")


async def test_report_and_decline_validate_their_input(db: Database, clock: FixedClock) -> None:
    county = await make_county(db)
    policy = await release(db)
    task_a = await task_of(db, policy.id, county.hub_a)
    task_b = await task_of(db, policy.id, county.hub_b)
    for count in (-1, 100_001, True, "3"):
        async with db.session() as session:
            with pytest.raises(ValidationFailed) as bad:
                await relay.report_external_forward(session, task_a.id, count, "", actor="park")  # type: ignore[arg-type]
        assert bad.value.field == "count"
    async with db.session() as session:
        with pytest.raises(ValidationFailed) as bad:
            await relay.report_external_forward(session, task_a.id, 1, "长" * 501, actor="park")
    assert bad.value.field == "note"
    async with db.session() as session:
        with pytest.raises(ValidationFailed) as bad:
            await relay.decline(session, task_a.id, "  ", actor="park")
    assert bad.value.field == "reason"
    async with db.session() as session:
        with pytest.raises(NotFound):
            await relay.decline(session, 999_999, "不转", actor="park")

    async with db.session() as session:
        await relay.forward_through_system(session, task_a.id, actor="park")
    async with db.session() as session:
        with pytest.raises(Conflict):
            await relay.decline(session, task_a.id, "不想转了", actor="park")
    async with db.session() as session:  # an external forward on top of the system one: both count
        both = await relay.report_external_forward(session, task_a.id, 4, "也发了微信群", actor="park")
    assert both.task.method == "system+external" and both.task.status == RelayStatus.FORWARDED

    async with db.session() as session:
        first = await relay.decline(session, task_b.id, "会员已由商务局直接通知", actor="assoc")
    async with db.session() as session:
        second = await relay.decline(session, task_b.id, "会员已由商务局直接通知", actor="assoc")
    assert first.changed and not second.changed and "无需重复" in second.message
    async with db.session() as session:
        with pytest.raises(Conflict):
            await relay.report_external_forward(session, task_b.id, 2, "", actor="assoc")
        with pytest.raises(Conflict):
            await relay.forward_through_system(session, task_b.id, actor="assoc")


async def test_ledger_filters_are_checked(db: Database, clock: FixedClock) -> None:
    async with db.reader() as session:
        for quarter in ("2026Q5", "Q1", "2026-1", "二〇二六Q1"):
            with pytest.raises(ValidationFailed) as bad:
                await relay.export_ledger(session, "xlsx", quarter=quarter)
            assert bad.value.field == "quarter"
        with pytest.raises(ValidationFailed):
            await relay.export_ledger(session, "pdf")
    assert relay.parse_quarter("2026q4") == (date(2026, 10, 1), date(2027, 1, 1))
