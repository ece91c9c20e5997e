"""The policy API: the whole lifecycle, role checks that change nothing, errors naming the field."""

from __future__ import annotations

import httpx

from core.db import Database
from policies import service as policies
from tests.factories import FULL_INTERPRETATION, make_draft, make_published_policy
from tests.web.conftest import COMMERCE, HR, bearer, make_token

DRAFT = {
    "title": "泾源县一次性创业补贴实施办法",
    "body": "对在本县首次创业、正常经营6个月以上的高校毕业生、农民工，给予一次性创业补贴5000元。",
    "topics": ["employment"],
    "audience": "resident",
    "interpretation": {"elements": FULL_INTERPRETATION.elements, "unit": FULL_INTERPRETATION.unit,
                       "phone": FULL_INTERPRETATION.phone},
}


async def test_lifecycle_through_the_api(client: httpx.AsyncClient, db: Database) -> None:
    editor = bearer(await make_token(db, HR, "editor"))
    reviewer = bearer(await make_token(db, HR, "reviewer"))

    created = await client.post("/api/policies", headers=editor, json=DRAFT)
    assert created.status_code == 201, created.text
    policy_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert created.json()["page_url"].endswith(f"/p/{policy_id}")

    updated = await client.put(f"/api/policies/{policy_id}", headers=editor, json={**DRAFT, "title": "新标题办法"})
    assert updated.status_code == 200 and updated.json()["title"] == "新标题办法"
    interp = await client.put(f"/api/policies/{policy_id}/interpretation", headers=editor,
                              json=DRAFT["interpretation"])
    assert interp.status_code == 200 and interp.json()["unit"] == FULL_INTERPRETATION.unit

    assert (await client.post(f"/api/policies/{policy_id}/submit", headers=editor)).json()["status"] == "submitted"
    returned = await client.post(f"/api/policies/{policy_id}/return", headers=reviewer, json={"comment": "补充材料"})
    assert returned.json()["status"] == "draft"
    await client.post(f"/api/policies/{policy_id}/submit", headers=editor)
    approved = await client.post(f"/api/policies/{policy_id}/approve", headers=reviewer, json={"comment": ""})
    assert approved.json()["status"] == "approved", approved.text
    published = await client.post(f"/api/policies/{policy_id}/publish", headers=editor)
    assert published.json()["status"] == "published" and published.json()["validity"] == "有效"

    amended = await client.post(f"/api/policies/{policy_id}/amend", headers=editor,
                                json={"body": "补贴提高到6000元。", "change_summary": "提高补贴"})
    assert amended.json()["revision"] == 2
    detail = (await client.get(f"/api/policies/{policy_id}", headers=editor)).json()
    assert [r["number"] for r in detail["revisions"]] == [1, 2]
    assert detail["body"] == "补贴提高到6000元。"
    assert detail["interpretation"]["due_on"]
    old = await client.get(f"/api/policies/{policy_id}/revisions/1", headers=editor)
    assert old.status_code == 200 and "5000" in old.json()["body"]

    repealed = await client.post(f"/api/policies/{policy_id}/repeal", headers=editor, json={"reason": "已被替代"})
    assert repealed.json()["status"] == "repealed" and repealed.json()["validity"] == "已废止"


async def test_editor_of_another_agency_cannot_touch_a_policy(client: httpx.AsyncClient, db: Database) -> None:
    approved = await make_draft(db, author="hr-editor")
    async with db.session() as session:
        await policies.submit(session, approved.id, "hr-editor")
        await policies.approve(session, approved.id, "hr-reviewer")
    other = bearer(await make_token(db, COMMERCE, "editor"))

    for path, body in [(f"/api/policies/{approved.id}/publish", None),
                       (f"/api/policies/{approved.id}/repeal", {"reason": "x"}),
                       (f"/api/policies/{approved.id}/submit", None)]:
        response = await client.post(path, headers=other, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["field"] == "agency"
    edit = await client.put(f"/api/policies/{approved.id}", headers=other, json={**DRAFT, "title": "篡改"})
    assert edit.status_code == 403
    create_for_other = await client.post("/api/policies", headers=other, json={**DRAFT, "agency": HR})
    assert create_for_other.status_code == 403

    async with db.reader() as session:
        unchanged = await policies.get_policy(session, approved.id)
    assert unchanged.status == "approved" and unchanged.title == approved.title


async def test_roles_that_may_not_draft_or_review(client: httpx.AsyncClient, db: Database) -> None:
    viewer = bearer(await make_token(db, HR, "viewer"))
    editor = bearer(await make_token(db, HR, "editor"))
    assert (await client.post("/api/policies", headers=viewer, json=DRAFT)).status_code == 403
    draft = (await client.post("/api/policies", headers=editor, json=DRAFT)).json()
    await client.post(f"/api/policies/{draft['id']}/submit", headers=editor)
    # An editor is no reviewer, and a reviewer of another agency is none for this one.
    assert (await client.post(f"/api/policies/{draft['id']}/approve", headers=editor, json={})).status_code == 403
    foreign = bearer(await make_token(db, COMMERCE, "reviewer"))
    assert (await client.post(f"/api/policies/{draft['id']}/approve", headers=foreign, json={})).status_code == 403


async def test_reviewer_cannot_approve_own_draft(client: httpx.AsyncClient, db: Database) -> None:
    admin = bearer(await make_token(db, HR, "admin"))
    draft = (await client.post("/api/policies", headers=admin, json={**DRAFT, "agency": HR})).json()
    await client.post(f"/api/policies/{draft['id']}/submit", headers=admin)
    own = await client.post(f"/api/policies/{draft['id']}/approve", headers=admin, json={})
    assert own.status_code == 403 and own.json()["field"] == "reviewer"


async def test_drafts_are_hidden_from_other_agencies(client: httpx.AsyncClient, db: Database) -> None:
    draft = await make_draft(db)
    published = await make_published_policy(db, title="已发布的政策", doc_no="泾人社发〔2026〕7号")
    other = bearer(await make_token(db, COMMERCE, "editor"))
    own = bearer(await make_token(db, HR, "editor"))
    assert (await client.get(f"/api/policies/{draft.id}", headers=other)).status_code == 403
    assert (await client.get(f"/api/policies/{draft.id}", headers=own)).status_code == 200
    listed = (await client.get("/api/policies", headers=other)).json()
    assert [p["id"] for p in listed["items"]] == [published.id]
    mine = (await client.get("/api/policies", headers=own, params={"agency": HR})).json()
    assert {p["id"] for p in mine["items"]} == {draft.id, published.id} and mine["total"] == 2


async def test_list_filters_and_pagination(client: httpx.AsyncClient, db: Database) -> None:
    for n in range(3):
        await make_published_policy(db, title=f"政策{n}", doc_no=f"泾人社发〔2025〕{n + 1}号")
    await make_published_policy(db, title="商务政策", agency=COMMERCE, topics=[],
                                doc_no="泾商发〔2026〕1号")
    token = bearer(await make_token(db, HR, "viewer"))
    page = (await client.get("/api/policies", headers=token, params={"limit": 2, "offset": 0})).json()
    assert page["total"] == 4 and len(page["items"]) == 2 and page["limit"] == 2
    by_year = (await client.get("/api/policies", headers=token, params={"year": 2025})).json()
    assert by_year["total"] == 3
    by_agency = (await client.get("/api/policies", headers=token, params={"agency": COMMERCE})).json()
    assert [p["title"] for p in by_agency["items"]] == ["商务政策"]
    by_topic = (await client.get("/api/policies", headers=token, params={"topic": "employment"})).json()
    assert by_topic["total"] == 3
    by_status = (await client.get("/api/policies", headers=token, params={"status": "repealed"})).json()
    assert by_status["total"] == 0


async def test_errors_name_the_field(client: httpx.AsyncClient, db: Database) -> None:
    editor = bearer(await make_token(db, HR, "editor"))
    missing = await client.post("/api/policies", headers=editor, json={"body": "正文"})
    assert missing.status_code == 422 and missing.json()["field"] == "title"
    domain = await client.post("/api/policies", headers=editor, json={**DRAFT, "doc_no": "不是文号"})
    assert domain.status_code == 422 and domain.json()["field"] == "doc_no"
    assert "error" in domain.json()
    nul = await client.post("/api/policies", headers=editor, json={**DRAFT, "title": "a\x00b"})
    assert nul.status_code == 422 and nul.json()["field"] == "title"
    unknown = await client.get("/api/policies/999999", headers=editor)
    assert unknown.status_code == 404 and unknown.json()["field"] == "policy_id"
    conflict = await client.post(f"/api/policies/{(await make_draft(db)).id}/publish", headers=editor)
    assert conflict.status_code == 409 and conflict.json()["field"] == "status"


async def test_submitting_refuses_personal_data(client: httpx.AsyncClient, db: Database) -> None:
    # Submit checks what publishing requires, so such a draft never reaches approval.
    draft = await make_draft(db, body="联系人张三，手机13912345678，申请创业补贴。")
    editor = bearer(await make_token(db, HR, "editor"))
    response = await client.post(f"/api/policies/{draft.id}/submit", headers=editor)
    assert response.status_code == 422 and response.json()["field"] == "body"
    assert response.json()["error"].startswith("正文含有个人信息：")


async def test_missing_and_revoked_tokens(client: httpx.AsyncClient, db: Database) -> None:
    assert (await client.get("/api/policies")).status_code == 401
    assert (await client.get("/api/policies", headers=bearer("pd_nonsense"))).status_code == 401
    admin = bearer(await make_token(db, HR, "admin"))
    created = await client.post("/api/tokens", headers=admin, json={"agency": COMMERCE, "role": "editor"})
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["details"]["id"]
    assert (await client.get("/api/policies", headers=bearer(secret))).status_code == 200
    listed = (await client.get("/api/tokens", headers=admin)).json()
    assert all("token" not in t for t in listed) and any(t["id"] == token_id for t in listed)
    assert (await client.get("/api/tokens", headers=bearer(secret))).status_code == 403
    revoked = await client.delete(f"/api/tokens/{token_id}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await client.get("/api/policies", headers=bearer(secret))
    assert after.status_code == 401 and "吊销" in after.json()["error"]


async def test_suggest_returns_tags_and_personal_data(client: httpx.AsyncClient, db: Database) -> None:
    editor = bearer(await make_token(db, HR, "editor"))
    response = await client.post("/api/suggest", headers=editor, json={
        "title": "泾源县支持高校毕业生创业就业的若干措施",
        "text": "对高校毕业生首次创业的，给予一次性创业补贴5000元。联系人手机13912345678。"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "employment" in [t["code"] for t in body["topics"]]
    assert [p["kind"] for p in body["pii"]] and body["pii"][0]["field"] == "text"
    assert "13912345678" not in body["masked_text"]
