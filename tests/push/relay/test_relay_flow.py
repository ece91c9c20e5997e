"""The issue's scenario end to end: a policy in scope for two hubs with an overlapping member;
park A forwards through the system, association B reports a forward in its own WeChat group,
one member acknowledges; then the funnel and the exported ledger show exactly that."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import openpyxl

from core.clock import FixedClock
from core.db import Database
from push import service as push
from push.links import tracked_link
from push.relay import service as relay
from push.relay.models import RelayStatus
from tests.fakes.telegram_api import FakeTelegram, strip_html
from tests.push.relay.helpers import (
    AGENCY,
    BASE_URL,
    E1_CHAT,
    E2_CHAT,
    E3_CHAT,
    HUB_A_CHAT,
    HUB_B_CHAT,
    SECRET,
    deliveries,
    drain,
    make_county,
    release,
    task_of,
    worker,
)


def texts_to(tg: FakeTelegram, chat: int) -> list[str]:
    return [strip_html(m["text"]) for m in tg.sent_messages(chat)]


def cells(sheet: Any) -> list[list[str]]:
    return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]


def buttons(message: dict) -> list[str]:  # type: ignore[type-arg]
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


async def test_two_hubs_forward_report_acknowledge_funnel_and_ledger(
    db: Database, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    county = await make_county(db)
    policy = await release(db)

    # Each hub got one task, due 3 working days after Monday's release, with its members in scope.
    task_a = await task_of(db, policy.id, county.hub_a)
    task_b = await task_of(db, policy.id, county.hub_b)
    assert (task_a.due_on, task_a.remind_on) == (date(2026, 3, 5), date(2026, 3, 4))
    assert task_a.status == task_b.status == RelayStatus.OPEN
    assert task_a.interpretation_path == f"/p/{policy.id}#interpretation"

    # The fan-out told both hubs, with a 转发给会员 button; members were not messaged directly.
    await drain(worker(db, fake_telegram))
    (to_hub_a,) = fake_telegram.sent_messages(HUB_A_CHAT)
    assert len(fake_telegram.sent_messages(HUB_B_CHAT)) == 1
    assert not fake_telegram.sent_messages(E1_CHAT) and not fake_telegram.sent_messages(E2_CHAT)
    fwd = [b for b in buttons(to_hub_a) if b.startswith("fwd:")]
    assert len(fwd) == 1
    hub_delivery_id = int(fwd[0].split(":")[1])

    # Park A presses 转发给会员 in the chat; pressing it again does nothing and says so.
    async with db.session() as session:
        first = await relay.forward_from_delivery(session, hub_delivery_id, by_address=str(HUB_A_CHAT))
    async with db.session() as session:
        again = await relay.forward_from_delivery(session, hub_delivery_id, by_address=str(HUB_A_CHAT))
    assert first.changed and first.queued == 2 and "泾源县工业园区" in first.message
    assert not again.changed and again.queued == 0 and "不会重复发送" in again.message

    # Association B reports a forward in its own WeChat group (a phone number in the note is masked).
    async with db.session() as session:
        reported = await relay.report_external_forward(
            session, task_b.id, 15, "已在商会微信群转发，咨询电话13912345678", actor="hub_b_operator"
        )
    assert reported.changed and reported.task.status == RelayStatus.REPORTED
    assert "13912345678" not in reported.task.note

    # Members of A get exactly one message each, marked 由…转达; B's own member gets none from us.
    await drain(worker(db, fake_telegram))
    for chat in (E1_CHAT, E2_CHAT):
        (text,) = texts_to(fake_telegram, chat)
        assert "由 泾源县工业园区 转达" in text
        assert policy.title in text
    assert fake_telegram.sent_messages(E3_CHAT) == []
    assert len(await deliveries(db, kind="relay")) == 2

    # E2 acknowledges with the button; E1 opens the tracked link.
    e1, e2 = await deliveries(db, kind="relay")
    assert [b for b in buttons(fake_telegram.sent_messages(E2_CHAT)[0]) if b == f"ack:{e2.id}"]
    assert not [b for b in buttons(fake_telegram.sent_messages(E2_CHAT)[0]) if b.startswith("fwd:")]
    async with db.session() as session:
        ack = await relay.acknowledge_member(session, e2.id, by_address=str(E2_CHAT))
        token = tracked_link(BASE_URL, e1.id, SECRET).rsplit("/", 1)[1]
        await push.record_read(session, token, secret=SECRET)
    assert ack.recorded and "确认收到" in ack.message
    async with db.session() as session:
        assert not (await relay.acknowledge_member(session, e2.id, by_address=str(E2_CHAT))).recorded

    # The funnel: 2 hubs → 1 through the system + 1 external → 2 reached → 1 read → 1 acknowledged.
    async with db.reader() as session:
        funnel = await relay.relay_funnel(session, policy.id)
    assert (funnel.hubs_assigned, funnel.hubs_forwarded, funnel.hubs_reported, funnel.hubs_open,
            funnel.hubs_declined, funnel.hubs_overdue) == (2, 1, 1, 0, 0, 0)
    m = funnel.members
    assert (m.in_scope, m.messaged, m.reached, m.read, m.acknowledged) == (3, 2, 2, 1, 1)
    assert funnel.external_reported == 15
    rows = {r.task.hub_name: r for r in funnel.hubs}
    park, assoc = rows["泾源县工业园区"], rows["泾源县个体私营企业协会"]
    assert (park.task.method, park.members.messaged, park.members.acknowledged) == ("system", 2, 1)
    assert (assoc.task.method, assoc.members.in_scope, assoc.members.messaged, assoc.task.external_count) == (
        "external", 2, 0, 15)

    # The hub's own page: nothing open, one task in its history, half its reached members acknowledged.
    async with db.reader() as session:
        overview = await relay.hub_overview(session, county.hub_a)
    assert overview.open_tasks == () and [t.id for t in overview.history] == [task_a.id]
    assert overview.acknowledgement_rate == 0.5

    # The ledger, per department and quarter, as .xlsx and .csv: the same numbers, personal data masked.
    async with db.reader() as session:
        xlsx = await relay.export_ledger(session, "xlsx", agency=AGENCY, quarter="2026Q1")
        csv_bytes = await relay.export_ledger(session, "csv", policy_id=policy.id)
        members_csv = await relay.export_ledger(session, "csv", policy_id=policy.id, sheet="members")
        other_quarter = await relay.export_ledger(session, "csv", agency=AGENCY, quarter="2026Q2")
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    tasks_sheet, members_sheet = book["转达台账"], book["会员明细"]
    assert tasks_sheet.freeze_panes == "A2"
    header, *task_rows = cells(tasks_sheet)
    assert len(task_rows) == 2
    by_hub = {r[header.index("园区/协会")]: dict(zip(header, r, strict=True)) for r in task_rows}
    a_row, b_row = by_hub["泾源县工业园区"], by_hub["泾源县个体私营企业协会"]
    assert (a_row["状态"], a_row["转达方式"], a_row["范围内会员"], a_row["系统转达"], a_row["已送达"],
            a_row["已阅读"], a_row["已确认"], a_row["确认率"]) == (
        "已通过系统转发", "系统转发", "2", "2", "2", "1", "1", "50%")
    assert (b_row["状态"], b_row["转达方式"], b_row["外部转发（报告数）"], b_row["系统转达"]) == (
        "已在外部转发", "外部转发", "15", "0")
    assert "13912345678" not in b_row["备注/理由"] and "hub_b_operator" not in b_row["办理人"]
    assert a_row["发文机关"] == AGENCY and a_row["政策标题"] == policy.title
    assert tasks_sheet.column_dimensions["D"].width > tasks_sheet.column_dimensions["A"].width

    m_header, *member_rows = cells(members_sheet)
    members = [dict(zip(m_header, r, strict=True)) for r in member_rows]
    assert len(members) == 4  # A: E1, E2; B: E2, E3
    everything = " ".join(" ".join(r) for r in member_rows)
    for secret_value in ("张三", "李四", "欧阳小明", str(E1_CHAT), str(E2_CHAT), str(E3_CHAT)):
        assert secret_value not in everything
    assert {r["联系人"] for r in members} == {"张*", "李*", "欧***"}
    assert "泾源智造有限公司" in everything  # enterprise names and credit codes are not personal data
    acked = [r for r in members if r["确认时间"]]
    assert [(r["园区/协会"], r["会员企业"]) for r in acked] == [("泾源县工业园区", "六盘山牧业有限公司")]

    assert csv_bytes.startswith("\ufeff".encode())
    csv_header, *csv_rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert csv_header == header and sorted(csv_rows) == sorted(task_rows)
    assert len(list(csv.reader(io.StringIO(members_csv.decode("utf-8-sig"))))) == 5
    assert len(list(csv.reader(io.StringIO(other_quarter.decode("utf-8-sig"))))) == 1  # header only


async def test_a_member_relayed_by_two_hubs_is_messaged_once_and_both_get_credit(
    db: Database, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    county = await make_county(db)
    policy = await release(db)
    task_a = await task_of(db, policy.id, county.hub_a)
    task_b = await task_of(db, policy.id, county.hub_b)
    async with db.session() as session:
        a = await relay.forward_through_system(session, task_a.id, actor="park_operator")
    async with db.session() as session:
        b = await relay.forward_through_system(session, task_b.id, actor="assoc_operator")
    assert (a.queued, a.already_reached) == (2, 0)
    assert (b.queued, b.already_reached) == (1, 1)  # E2 already has it from A: credit, no second message
    await drain(worker(db, fake_telegram))
    assert [len(fake_telegram.sent_messages(c)) for c in (E1_CHAT, E2_CHAT, E3_CHAT)] == [1, 1, 1]
    assert "由 泾源县个体私营企业协会 转达" in texts_to(fake_telegram, E3_CHAT)[0]

    e2 = next(d for d in await deliveries(db, kind="relay") if d.address == str(E2_CHAT))
    async with db.session() as session:
        await relay.acknowledge_member(session, e2.id, by_address=str(E2_CHAT))
    async with db.reader() as session:
        funnel = await relay.relay_funnel(session, policy.id)
    rows = {r.task.hub_id: r.members for r in funnel.hubs}
    assert (rows[county.hub_a].acknowledged, rows[county.hub_b].acknowledged) == (1, 1)  # both credited
    assert (funnel.members.messaged, funnel.members.acknowledged) == (3, 1)  # counted once overall


async def test_a_member_who_left_the_hub_is_not_messaged(
    db: Database, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    from subscriptions import service as subscriptions

    county = await make_county(db)
    policy = await release(db)
    async with db.session() as session:
        await subscriptions.remove_hub_member(session, county.hub_a, county.enterprises["E1"])
    task_a = await task_of(db, policy.id, county.hub_a)
    async with db.session() as session:
        outcome = await relay.forward_through_system(session, task_a.id, actor="park_operator")
    assert (outcome.queued, outcome.left_hub) == (1, 1)
    assert "1 家企业已退出" in outcome.message
    await drain(worker(db, fake_telegram))
    assert fake_telegram.sent_messages(E1_CHAT) == []
    async with db.reader() as session:
        members = await relay.task_members(session, task_a.id)
    assert sorted(m.outcome_label for m in members) == ["已转发", "已退出园区/协会"]
