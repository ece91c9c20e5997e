"""Items through the REST API: role checks, validation in Chinese naming the field, versions,
suggestions from the text, and the calculator answering from the live items."""

from __future__ import annotations

import httpx

from core.clock import FixedClock
from core.db import Database
from tests.factories import make_draft, make_published_policy
from tests.policies.items.helpers import HIGH_TECH_AWARD, SME_LOAN_SUBSIDY, STARTUP_GRANT
from tests.web.conftest import COMMERCE, HR, bearer, make_token


async def test_items_are_saved_by_the_agency_only_and_read_back(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    draft = await make_draft(db)
    other = await make_token(db, COMMERCE)
    refused = await client.put(f"/api/policies/{draft.id}/items", json={"items": [STARTUP_GRANT]},
                               headers=bearer(other))
    assert refused.status_code == 403
    token = await make_token(db, HR)
    saved = await client.put(f"/api/policies/{draft.id}/items", json={"items": [STARTUP_GRANT]}, headers=bearer(token))
    assert saved.status_code == 200, saved.text
    listed = (await client.get(f"/api/policies/{draft.id}/items", headers=bearer(token))).json()
    assert listed[0]["name"] == "一次性创业补贴" and listed[0]["amount_text"] == "5000元"
    assert [c["description"] for c in listed[0]["conditions"]][:2] == ["面向对象：个人", "年龄：16至45周岁"]


async def test_bad_items_get_a_chinese_message_naming_the_field(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    draft = await make_draft(db)
    token = await make_token(db, HR)
    bad = {**STARTUP_GRANT, "conditions": [{"kind": "industry", "codes": ["Z"]}]}
    response = await client.put(f"/api/policies/{draft.id}/items", json={"items": [bad]}, headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["field"] == "items[0].conditions[0]" and "未知的选项" in response.json()["error"]
    too_many = await client.put(f"/api/policies/{draft.id}/items", json={"items": [STARTUP_GRANT] * 51},
                                headers=bearer(token))
    assert too_many.status_code == 422


async def test_published_items_are_amended_and_suggested_from_the_text(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    published = await make_published_policy(db)
    token = await make_token(db, HR)
    no_summary = await client.put(f"/api/policies/{published.id}/items", json={"items": [STARTUP_GRANT]},
                                  headers=bearer(token))
    assert no_summary.status_code == 422 and no_summary.json()["field"] == "change_summary"
    amended = await client.put(f"/api/policies/{published.id}/items",
                               json={"items": [STARTUP_GRANT], "change_summary": "补充事项清单"}, headers=bearer(token))
    assert amended.json()[0]["revision"] == 2
    before = await client.get(f"/api/policies/{published.id}/items?revision=1", headers=bearer(token))
    assert before.json() == []
    suggested = (await client.get(f"/api/policies/{published.id}/items/suggestions", headers=bearer(token))).json()
    grant = next(s for s in suggested if s["amount_yuan"] == 5000)
    assert grant["name"] == "一次性创业补贴"
    assert {"kind": "person_group", "codes": ["graduate", "migrant_worker"]} in grant["conditions"]


async def test_the_calculator_answers_from_live_items(client: httpx.AsyncClient, db: Database,
                                                      clock: FixedClock) -> None:
    token = await make_token(db, HR)
    published = await make_published_policy(db)
    await client.put(f"/api/policies/{published.id}/items", headers=bearer(token),
                     json={"items": [STARTUP_GRANT, HIGH_TECH_AWARD, SME_LOAN_SUBSIDY], "change_summary": "事项清单"})
    draft = await make_draft(db, title="尚未发布的政策")
    await client.put(f"/api/policies/{draft.id}/items", json={"items": [HIGH_TECH_AWARD]}, headers=bearer(token))
    answer = await client.post("/api/calculator", headers=bearer(token), json={
        "kind": "enterprise", "township": "xiangshui", "industry": "C", "employees": 40, "revenue": 800,
        "qualifications": ["high_tech"]})
    body = answer.json()
    assert [c["name"] for c in body["qualified"]] == ["高新技术企业认定奖励"]  # once: the draft's is not live
    assert body["qualified"][0]["how_to_get"] == "无需申请，符合条件的将直接兑现"
    assert [c["name"] for c in body["to_verify"]] == ["小微企业贷款贴息"]
    assert body["to_verify"][0]["to_verify"] == ["成立年限：成立5年及以下"]
    assert body["counts"] == {"qualified": 1, "to_verify": 1, "nearly": 0}


async def test_the_calculator_refuses_codes_outside_the_vocabulary(client: httpx.AsyncClient, db: Database,
                                                                   clock: FixedClock) -> None:
    token = await make_token(db, HR)
    for bad in ({"industry": "ZZ"}, {"township": "atlantis"}, {"qualifications": ["<script>"]}):
        response = await client.post("/api/calculator", headers=bearer(token), json={"kind": "enterprise", **bad})
        assert response.status_code == 422, bad
    page = await client.get("/calculator", params={"kind": "enterprise", "industry": "ZZ"})
    assert page.status_code == 200 and "行业填写有误" in page.text
