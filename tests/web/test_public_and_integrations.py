"""Public pages, reach figures, subscribers and hubs through the API."""

from __future__ import annotations

import httpx

from core.db import Database
from tests.factories import amend_policy, make_draft, make_published_policy, repeal_policy
from tests.web.conftest import COMMERCE, HR, bearer, make_token
from web import accounts


async def test_policy_page_shows_validity_text_and_interpretation(client: httpx.AsyncClient, db: Database) -> None:
    policy = await make_published_policy(db, doc_no="泾人社发〔2026〕3号")
    page = await client.get(f"/p/{policy.id}")
    assert page.status_code == 200
    for expected in ("有效", "泾人社发〔2026〕3号", HR, "一次性创业补贴5000元", "背景依据", "0954-5012345", "订阅"):
        assert expected in page.text, expected
    await amend_policy(db, policy.id)
    assert "6000元" in (await client.get(f"/p/{policy.id}")).text
    old = await client.get(f"/p/{policy.id}/r/1")
    assert old.status_code == 200 and "历史版本" in old.text and "5000元" in old.text
    await repeal_policy(db, policy.id)
    assert "已废止" in (await client.get(f"/p/{policy.id}")).text
    assert (await client.get(f"/policies/{policy.id}")).headers["location"] == f"/p/{policy.id}"


async def test_drafts_are_not_public(client: httpx.AsyncClient, db: Database) -> None:
    draft = await make_draft(db)
    assert (await client.get(f"/p/{draft.id}")).status_code == 404
    assert (await client.get("/p/424242")).status_code == 404
    assert (await client.get("/r/forged-token")).status_code == 404


async def test_library_classifies_and_searches(client: httpx.AsyncClient, db: Database) -> None:
    await make_published_policy(db, title="创业补贴办法", doc_no="泾人社发〔2026〕1号")
    await make_published_policy(db, title="外贸企业奖励", agency=COMMERCE, topics=[], doc_no="泾商发〔2026〕1号")
    await make_draft(db, title="尚未发布的草稿")
    everything = await client.get("/library")
    assert "创业补贴办法" in everything.text and "外贸企业奖励" in everything.text
    assert "尚未发布的草稿" not in everything.text and COMMERCE in everything.text
    found = await client.get("/library", params={"q": "外贸"})
    assert "外贸企业奖励" in found.text and "创业补贴办法" not in found.text
    by_agency = await client.get("/library", params={"agency": HR})
    assert "创业补贴办法" in by_agency.text and "外贸企业奖励" not in by_agency.text


async def test_reach_figures(client: httpx.AsyncClient, db: Database) -> None:
    policy = await make_published_policy(db)
    response = await client.get(f"/api/policies/{policy.id}/reach", headers=bearer(await make_token(db, HR)))
    assert response.status_code == 200 and response.json()["matched"] == 0
    other = await client.get(f"/api/policies/{policy.id}/reach", headers=bearer(await make_token(db, COMMERCE)))
    assert other.status_code == 403


async def test_subscribers_hubs_and_members(client: httpx.AsyncClient, db: Database) -> None:
    admin = bearer(await make_token(db, HR, "admin"))
    editor = bearer(await make_token(db, HR, "editor"))
    resident = await client.post("/api/subscribers", headers=editor, json={
        "display_name": "马女士", "channel": "telegram", "address": "10001", "topics": ["employment"]})
    assert resident.status_code == 201, resident.text
    assert resident.json()["topics"] == ["employment"]
    assert (await client.get(f"/api/subscribers/{resident.json()['id']}", headers=editor)).status_code == 200
    enterprise = await client.post("/api/enterprises", headers=editor, json={"name": "六盘山农产品有限公司"})
    assert enterprise.status_code == 201, enterprise.text
    enterprise_id = enterprise.json()["id"]
    contact = await client.post(f"/api/enterprises/{enterprise_id}/contacts", headers=editor,
                                json={"channel": "wechat", "address": "openid-1"})
    assert contact.status_code == 201

    assert (await client.post("/api/hubs", headers=editor, json={"name": "工业园区"})).status_code == 403
    hub = await client.post("/api/hubs", headers=admin, json={"name": "工业园区", "kind": "park"})
    assert hub.status_code == 201
    hub_id = hub.json()["id"]
    async with db.session() as session:
        operator = bearer(await accounts.create_token(session, "工业园区", "hub_operator", hub_id=hub_id))
        stranger = bearer(await accounts.create_token(session, "另一园区", "hub_operator", hub_id=hub_id + 1))
    assert (await client.put(f"/api/hubs/{hub_id}/members/{enterprise_id}", headers=stranger)).status_code == 403
    added = await client.put(f"/api/hubs/{hub_id}/members/{enterprise_id}", headers=operator)
    assert added.status_code == 200 and added.json()["added"] is True
    members = await client.get(f"/api/hubs/{hub_id}/members", headers=operator)
    assert [m["id"] for m in members.json()] == [enterprise_id]
    assert (await client.delete(f"/api/hubs/{hub_id}/members/{enterprise_id}", headers=operator)).status_code == 204
    assert (await client.get(f"/api/hubs/{hub_id}/members", headers=operator)).json() == []

    csv = "类型,名称,渠道,地址,主题\nresident,李先生,telegram,20002,就业创业\n".encode()
    wrong_type = await client.post("/api/subscribers/import", headers=editor,
                                   files={"file": ("list.txt", b"x", "text/plain")})
    assert wrong_type.status_code == 422 and wrong_type.json()["field"] == "file"
    imported = await client.post("/api/subscribers/import", headers=editor,
                                 files={"file": ("list.csv", csv, "text/csv")})
    assert imported.status_code == 200, imported.text
    assert imported.json()["rows"] == 1 and imported.json()["created"] == 1, imported.json()
