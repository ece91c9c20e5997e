"""Console pages: login, throttling, CSRF, forms that keep what was typed, the lifecycle."""

from __future__ import annotations

from datetime import timedelta

import httpx

from core.clock import FixedClock
from core.db import Database
from policies import service as policies
from tests.factories import make_draft, make_published_policy
from tests.web.conftest import COMMERCE, HR, PASSWORD, console_csrf, csrf_of, login, make_user


async def test_login_sets_a_protected_cookie_and_logout_ends_it(client: httpx.AsyncClient, db: Database) -> None:
    await make_user(db, "hr-editor", "editor", HR)
    assert (await client.get("/console/policies")).status_code == 303
    response = await login(client, "hr-editor")
    assert response.status_code == 303 and response.headers["location"] == "/console/policies"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert (await client.get("/console/policies")).status_code == 200
    token = await console_csrf(client)
    assert (await client.post("/console/logout", data={"csrf_token": token})).status_code == 303
    assert (await client.get("/console/policies")).status_code == 303


async def test_wrong_password_then_throttled(client: httpx.AsyncClient, db: Database, clock: FixedClock) -> None:
    await make_user(db, "hr-editor", "editor", HR)
    for _ in range(5):
        response = await login(client, "hr-editor", "wrong-password")
        assert response.status_code == 401 and "用户名或密码错误" in response.text
    blocked = await login(client, "hr-editor", PASSWORD)
    assert blocked.status_code == 429 and "15 分钟" in blocked.text
    clock.advance(timedelta(minutes=16))
    assert (await login(client, "hr-editor", PASSWORD)).status_code == 303


async def test_forms_without_csrf_are_refused(client: httpx.AsyncClient, db: Database) -> None:
    await make_user(db, "hr-editor", "editor", HR)
    await login(client, "hr-editor")
    refused = await client.post("/console/policies/new", data={"title": "无令牌", "body": "正文"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    forged = await client.post("/console/policies/new", data={"title": "伪造", "body": "正文", "csrf_token": "x"})
    assert forged.status_code == 403
    login_without = await client.post("/console/login", data={"username": "hr-editor", "password": PASSWORD})
    assert login_without.status_code == 403
    async with db.reader() as session:
        assert (await policies.list_policies(session))[1] == 0


async def test_form_error_keeps_input_and_names_the_field(client: httpx.AsyncClient, db: Database) -> None:
    await make_user(db, "hr-editor", "editor", HR)
    await login(client, "hr-editor")
    token = await console_csrf(client, "/console/policies/new")
    response = await client.post("/console/policies/new", data={
        "csrf_token": token, "title": "我的标题草稿", "body": "我写了很长的正文", "doc_no": "乱写的文号",
        "effective_date": "明天", "element_background": "背景写了一半", "action": "save"})
    assert response.status_code == 422
    html = response.text
    assert "我的标题草稿" in html and "我写了很长的正文" in html and "背景写了一半" in html and "明天" in html
    assert 'data-field="effective_date"' in html
    second = await client.post("/console/policies/new", data={
        "csrf_token": token, "title": "我的标题草稿", "body": "正文", "doc_no": "乱写的文号", "action": "save"})
    assert second.status_code == 422 and 'data-field="doc_no"' in second.text and "乱写的文号" in second.text


async def test_draft_review_publish_amend_repeal_in_the_console(client: httpx.AsyncClient, db: Database) -> None:
    await make_user(db, "hr-editor", "editor", HR)
    await make_user(db, "hr-reviewer", "reviewer", HR)
    await login(client, "hr-editor")
    token = await console_csrf(client, "/console/policies/new")
    saved = await client.post("/console/policies/new", data={
        "csrf_token": token, "title": "泾源县一次性创业补贴实施办法", "agency": COMMERCE,
        "body": "对首次创业的高校毕业生给予一次性创业补贴5000元。联系人手机13912345678。",
        "topics": "employment", "audience": "resident", "action": "save"})
    assert saved.status_code == 303, saved.text
    detail_path = saved.headers["location"].split("?")[0]
    policy_id = int(detail_path.rsplit("/", 1)[1])
    detail = await client.get(detail_path)
    assert "手机号" in detail.text or "pii-warning" in detail.text
    async with db.reader() as session:
        # The editor drafts for its own agency whatever the form said.
        assert (await policies.get_policy(session, policy_id)).agency == HR

    edit = await client.get(f"/console/policies/{policy_id}/edit")
    form = {"csrf_token": token, "title": "泾源县一次性创业补贴实施办法", "topics": "employment",
            "body": "对首次创业的高校毕业生给予一次性创业补贴5000元。联系人手机13912345678。", "action": "mask"}
    masked = await client.post(f"/console/policies/{policy_id}/edit", data=form)
    assert edit.status_code == 200 and masked.status_code == 200 and "13912345678" not in masked.text
    form.update(action="save", body="对首次创业的高校毕业生给予一次性创业补贴5000元。")
    assert (await client.post(f"/console/policies/{policy_id}/edit", data=form)).status_code == 303
    assert (await client.post(f"/console/policies/{policy_id}/submit", data={"csrf_token": token})).status_code == 303

    await client.post("/console/logout", data={"csrf_token": token})
    await login(client, "hr-reviewer")
    token = await console_csrf(client, "/console/review")
    queue = await client.get("/console/review")
    assert "泾源县一次性创业补贴实施办法" in queue.text
    no_comment = await client.post(f"/console/policies/{policy_id}/return", data={"csrf_token": token})
    assert no_comment.status_code == 422 and "退回意见" in no_comment.text
    approved = await client.post(f"/console/policies/{policy_id}/approve", data={"csrf_token": token})
    assert approved.status_code == 303
    assert (await client.post(f"/console/policies/{policy_id}/publish", data={"csrf_token": token})).status_code == 403

    await client.post("/console/logout", data={"csrf_token": token})
    await login(client, "hr-editor")
    token = await console_csrf(client)
    confirm = await client.get(f"/console/policies/{policy_id}/publish")
    assert confirm.status_code == 200 and "受众预览" in confirm.text
    nobody = await client.post(f"/console/policies/{policy_id}/publish", data={"csrf_token": token})
    assert nobody.status_code == 422 and "确认发布给零人" in nobody.text  # no subscriber yet: asked first
    published = await client.post(f"/console/policies/{policy_id}/publish",
                                  data={"csrf_token": token, "confirm_empty": "yes"})
    assert published.status_code == 303
    unconfirmed = await client.post(f"/console/policies/{policy_id}/amend", data={
        "csrf_token": token, "body": "新正文", "change_summary": "调整"})
    assert unconfirmed.status_code == 422 and "新正文" in unconfirmed.text
    amended = await client.post(f"/console/policies/{policy_id}/amend", data={
        "csrf_token": token, "body": "补贴提高到6000元。", "change_summary": "提高补贴", "confirm": "yes"})
    assert amended.status_code == 303
    reach = await client.get(f"/console/policies/{policy_id}/reach")
    assert reach.status_code == 200 and "触达" in reach.text
    repealed = await client.post(f"/console/policies/{policy_id}/repeal", data={
        "csrf_token": token, "reason": "已被替代", "confirm": "yes"})
    assert repealed.status_code == 303
    async with db.reader() as session:
        final = await policies.get_policy(session, policy_id)
    assert final.status == "repealed" and final.revision == 2


async def test_console_refuses_another_agency(client: httpx.AsyncClient, db: Database) -> None:
    published = await make_published_policy(db)
    await make_user(db, "commerce-editor", "editor", COMMERCE)
    await login(client, "commerce-editor")
    token = await console_csrf(client)
    response = await client.post(f"/console/policies/{published.id}/repeal",
                                 data={"csrf_token": token, "reason": "x", "confirm": "yes"})
    assert response.status_code == 403
    assert (await client.get(f"/console/policies/{published.id}/reach")).status_code == 403
    async with db.reader() as session:
        assert (await policies.get_policy(session, published.id)).status == "published"


async def test_boards_list_due_interpretations_and_expiring(client: httpx.AsyncClient, db: Database,
                                                            clock: FixedClock) -> None:
    from datetime import date

    await make_published_policy(db, title="无解读的通知", interpretation=None, doc_no="泾人社发〔2026〕9号")
    await make_published_policy(db, title="即将失效的办法", expiry_date=date(2026, 3, 20),
                                effective_date=date(2025, 1, 1), doc_no="泾人社发〔2026〕10号")
    await make_user(db, "viewer", "viewer")
    await login(client, "viewer")
    board = await client.get("/console/boards")
    assert board.status_code == 200
    assert "无解读的通知" in board.text and "即将失效的办法" in board.text
    clock.advance(timedelta(days=10))
    assert "已逾期" in (await client.get("/console/boards")).text


async def test_admin_manages_users_and_tokens(client: httpx.AsyncClient, db: Database) -> None:
    await make_user(db, "root", "admin")
    await login(client, "root")
    token = await console_csrf(client, "/console/admin")
    bad = await client.post("/console/admin/users", data={"csrf_token": token, "username": "new-editor",
                                                           "password": "short", "role": "editor"})
    assert bad.status_code == 422 and "new-editor" in bad.text and 'data-field="password"' in bad.text
    good = await client.post("/console/admin/users", data={"csrf_token": token, "username": "new-editor",
                                                            "password": PASSWORD, "role": "editor", "agency": HR})
    assert good.status_code == 303
    created = await client.post("/console/admin/tokens", data={"csrf_token": token, "token_agency": HR,
                                                               "token_role": "editor"})
    assert created.status_code == 200 and 'id="new-token"' in created.text
    page = await client.get("/console/admin")
    assert "创建令牌" in page.text and "创建账号" in page.text and "token.create" not in page.text
    token_id = page.text.split("/console/admin/tokens/")[1].split("/")[0]
    revoked = await client.post(f"/console/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(page.text)})
    assert revoked.status_code == 303 and "已吊销" in (await client.get("/console/admin")).text


async def test_only_admins_reach_the_admin_page(client: httpx.AsyncClient, db: Database) -> None:
    await make_user(db, "hr-editor", "editor", HR)
    await login(client, "hr-editor")
    assert (await client.get("/console/admin")).status_code == 403
    draft = await make_draft(db)
    assert (await client.get(f"/console/policies/{draft.id}")).status_code == 200
