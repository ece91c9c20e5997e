"""Every text that is published or pushed passes the personal-data guard, on the REST API and
in the console: amendments (each field), interpretations of a released policy, repeal reasons
and FAQ entries carrying an ID number, a mobile or a bank card are refused with a Chinese
message naming the field, and none of it reaches subscribers or the public page."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import update
from stdnum import luhn
from stdnum.cn import ric

from core.clock import FixedClock
from core.db import Database
from core.errors import ValidationFailed
from policies.models import Policy
from tests.factories import FULL_INTERPRETATION, make_published_policy
from tests.fakes.telegram_api import FakeTelegram
from tests.push.test_end_to_end import _pipeline, _residents, _settled, _until
from tests.web.conftest import HR, bearer, console_csrf, login, make_token, make_user

_ID_BODY = "64042419850615123"
RESIDENT_ID = _ID_BODY + ric.calc_check_digit(_ID_BODY + "0")
_CARD_BODY = "621700021234567890"
BANK_CARD = _CARD_BODY + luhn.calc_check_digit(_CARD_BODY)
MOBILE = "13912345678"

# The same three numbers, written the ways a careless or a hostile clerk would.
PAYLOADS = [
    f"联系人身份证{RESIDENT_ID}",
    f"咨询张先生 {MOBILE[:3]}-{MOBILE[3:7]}-{MOBILE[7:]}",
    f"补贴打入 {BANK_CARD[:4]} {BANK_CARD[4:8]} {BANK_CARD[8:12]} {BANK_CARD[12:16]} {BANK_CARD[16:]}",
    f"身份证号 {RESIDENT_ID[:6]}\u2014{RESIDENT_ID[6:14]}\u200b{RESIDENT_ID[14:]}",
    "电话１３９\u00a0１２３４\u00a0５６７８",
    f"卡号{BANK_CARD[:10]}\n{BANK_CARD[10:]}",
]
SECRETS = (RESIDENT_ID, MOBILE, BANK_CARD)


def _digits(text: str) -> str:
    """Digits only, full-width folded: a secret must not appear even with separators."""
    folded = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return re.sub(r"[^0-9Xx]", "", folded)


def _leaks(text: str) -> list[str]:
    compact = _digits(text)
    return [secret for secret in SECRETS if secret in compact]


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == field, body
    assert "个人信息" in body["error"] and "请删除或遮盖" in body["error"]
    assert _leaks(response.text) == []  # the error itself shows only the masked value


async def test_api_refuses_personal_data_in_every_published_text(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, fake_telegram: FakeTelegram
) -> None:
    editor = bearer(await make_token(db, HR, "editor"))
    await _residents(db, [7501])
    async with _pipeline(db, fake_telegram):
        policy = await make_published_policy(db)
        await _until(lambda: _settled(db, 1))
        for payload in PAYLOADS:
            clean = {"body": "补贴提高到6000元。", "change_summary": "提高补贴"}
            for field in ("change_summary", "body", "title", "summary", "benefits", "who_qualifies"):
                amendment = {**clean, field: f"{clean.get(field, '办法')}，{payload}"}
                _refused(await client.post(f"/api/policies/{policy.id}/amend", headers=editor, json=amendment), field)
            for element in ("background", "key_points", "notes"):
                elements = {**FULL_INTERPRETATION.elements, element: f"请联系{payload}"}
                interpretation = {"elements": elements, "unit": FULL_INTERPRETATION.unit,
                                  "phone": FULL_INTERPRETATION.phone}
                _refused(await client.put(f"/api/policies/{policy.id}/interpretation", headers=editor,
                                          json=interpretation), f"interpretation.{element}")
            _refused(await client.post(f"/api/policies/{policy.id}/repeal", headers=editor,
                                       json={"reason": f"举报人{payload}"}), "reason")
            for field in ("question", "answer"):
                faq = {"question": "创业补贴多久到账", "answer": "审核通过后发放。", field: f"请问{payload}"}
                _refused(await client.post("/api/faqs", headers=editor, json=faq), field)
            faq = {"question": "创业补贴多久到账", "answer": "审核通过后发放。", "variants": [f"我的{payload}"]}
            _refused(await client.post("/api/faqs", headers=editor, json=faq), "variants")

        # A clean amendment goes out after all the refused ones: once it has arrived, anything
        # the refused ones had let through would have arrived before it.
        ok = await client.post(f"/api/policies/{policy.id}/amend", headers=editor,
                               json={"body": "补贴提高到6000元。", "change_summary": "补贴标准提高到6000元"})
        assert ok.status_code == 200, ok.text
        await _until(lambda: _settled(db, 2))

    messages = fake_telegram.sent_messages(7501)
    assert len(messages) == 2 and "6000" in messages[1]["text"]
    assert [_leaks(m["text"]) for m in messages] == [[], []]
    page = await client.get(f"/p/{policy.id}")
    assert page.status_code == 200 and "6000" in page.text
    assert _leaks(page.text) == []
    faqs = await client.get("/api/faqs", headers=editor)
    assert faqs.status_code == 200 and _leaks(faqs.text) == []


async def test_console_shows_the_refusal_next_to_the_field(client: httpx.AsyncClient, db: Database) -> None:
    policy = await make_published_policy(db)
    await make_user(db, "hr_editor", "editor", HR)
    assert (await login(client, "hr_editor")).status_code in (302, 303)
    for payload in PAYLOADS[:3]:
        csrf = await console_csrf(client, f"/console/policies/{policy.id}/amend")
        amended = await client.post(f"/console/policies/{policy.id}/amend", data={
            "csrf_token": csrf, "confirm": "yes", "body": "补贴提高到6000元。", "change_summary": f"改为{payload}"})
        assert amended.status_code == 422
        assert re.search(r'data-field="change_summary">修订说明含有个人信息', amended.text), amended.text
        assert _leaks(amended.text.replace(payload, "")) == []  # only the typed value is shown back

        csrf = await console_csrf(client, f"/console/policies/{policy.id}/repeal")
        repealed = await client.post(f"/console/policies/{policy.id}/repeal", data={
            "csrf_token": csrf, "confirm": "yes", "reason": f"举报人{payload}"})
        assert repealed.status_code == 422
        assert 'data-field="reason">废止理由含有个人信息' in repealed.text

        csrf = await console_csrf(client, "/console/faq/new")
        faq = await client.post("/console/faq/new", data={
            "csrf_token": csrf, "question": "创业补贴多久到账", "answer": f"请联系{payload}", "variants": ""})
        assert faq.status_code == 422
        assert 'data-field="answer">答案含有个人信息' in faq.text

    page = await client.get(f"/p/{policy.id}")
    assert "已废止" not in page.text and _leaks(page.text) == []


async def test_relay_notes_and_decline_reasons_are_stored_masked(db: Database, clock: FixedClock) -> None:
    """Hub operators' own words are not published: they are kept, with the numbers masked,
    however the numbers were written."""
    from push.relay import service as relay
    from tests.push.relay.helpers import make_county, release, task_of

    county = await make_county(db)
    policy = await release(db)
    task_a = await task_of(db, policy.id, county.hub_a)
    task_b = await task_of(db, policy.id, county.hub_b)
    async with db.session() as session:
        reported = await relay.report_external_forward(session, task_a.id, 3, f"已转发。{PAYLOADS[3]}；{PAYLOADS[4]}",
                                                       actor="park")
    async with db.session() as session:
        declined = await relay.decline(session, task_b.id, f"不转发，{PAYLOADS[5]}", actor="association")
    assert _leaks(reported.task.note) == [] and "*" in reported.task.note
    assert _leaks(declined.task.note) == [] and _leaks(declined.message) == []
    async with db.reader() as session:
        ledger = await relay.export_ledger(session, "csv", policy_id=policy.id)
    assert _leaks(ledger.decode("utf-8-sig")) == []


async def test_console_publish_warns_and_refuses_for_every_released_text(
    client: httpx.AsyncClient, db: Database
) -> None:
    from policies import service as policies
    from policies.lifecycle import InterpretationInput
    from tests.factories import make_draft

    draft = await make_draft(db, summary=f"联系{PAYLOADS[1]}", benefits=f"打入{PAYLOADS[2]}",
                             interpretation=InterpretationInput(elements=FULL_INTERPRETATION.elements,
                                                                unit=f"人社局 {PAYLOADS[0]}",
                                                                phone=FULL_INTERPRETATION.phone))
    # Submitting already checks what publishing needs, so the draft never reaches review...
    with pytest.raises(ValidationFailed) as at_submit:
        async with db.session() as session:
            await policies.submit(session, draft.id, "editor")
    for label in ("摘要含有个人信息", "惠企举措含有个人信息", "政策解读·解读单位含有个人信息"):
        assert label in at_submit.value.message
    # ...but one approved before that check existed must still be stopped at publishing.
    async with db.session() as session:
        await session.execute(update(Policy).where(Policy.id == draft.id).values(status="approved", approvals=1))
    await make_user(db, "hr_editor2", "editor", HR)
    await login(client, "hr_editor2")
    page = await client.get(f"/console/policies/{draft.id}/publish")
    assert page.status_code == 200
    assert page.text.count('class="pii-warning"') == 3 and _leaks(page.text) == []
    assert re.search(r"<button type=\"submit\"\s+disabled>确认发布", page.text)
    csrf = await console_csrf(client, f"/console/policies/{draft.id}/publish")
    refused = await client.post(f"/console/policies/{draft.id}/publish",
                                data={"csrf_token": csrf, "confirm_empty": "yes"})
    assert refused.status_code == 422
    for label in ("摘要含有个人信息", "惠企举措含有个人信息", "政策解读·解读单位含有个人信息"):
        assert label in refused.text
    async with db.reader() as session:
        assert (await policies.get_policy(session, draft.id)).status == "approved"


async def test_faq_spreadsheet_rows_with_personal_data_are_refused_row_by_row(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    from policies.qa import faq as faqs

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["问题", "相似问法", "答案"])
    sheet.append(["创业补贴多久到账", "", "审核通过后20个工作日内发放。"])
    sheet.append(["补贴打到哪里", "", f"打到{PAYLOADS[2]}"])
    sheet.append([f"我是{PAYLOADS[0]}能申请吗", "", "可以。"])
    sheet.append(["找谁咨询", f"联系人{PAYLOADS[1]}", "拨打 0954-5012345。"])
    path = tmp_path / "faq.xlsx"
    book.save(path)
    async with db.session() as session:
        report = await faqs.import_faq_xlsx(session, path, actor="editor")
    assert report.created == 1 and len(report.errors) == 3
    assert [e.split("：", 1)[0] for e in report.errors] == ["第 3 行", "第 4 行", "第 5 行"]
    assert all("个人信息" in e for e in report.errors) and all(_leaks(e) == [] for e in report.errors)
