"""A console error never ends on a bare status page: a refused form goes back to the page
it was posted from, with the message in Chinese on it."""

from __future__ import annotations

import httpx

from core.db import Database
from tests.factories import make_draft
from tests.web.conftest import COMMERCE, HR, console_csrf, login, make_user


async def test_refused_form_returns_to_its_page_with_the_message(client: httpx.AsyncClient, db: Database) -> None:
    draft = await make_draft(db, author="hr-editor", agency=HR)
    await make_user(db, "commerce-editor", "editor", COMMERCE)
    # A reviewer sees the draft but may not submit it for the department.
    await make_user(db, "reviewer", "reviewer")
    await login(client, "reviewer")
    page = f"http://testserver/console/policies/{draft.id}"
    token = await console_csrf(client, f"/console/policies/{draft.id}")
    refused = await client.post(f"/console/policies/{draft.id}/submit", data={"csrf_token": token},
                                headers={"Referer": page})
    assert refused.status_code == 303 and refused.headers["location"] == f"/console/policies/{draft.id}"
    shown = await client.get(refused.headers["location"])
    assert shown.status_code == 200
    assert 'id="flash-error"' in shown.text and "无权" in shown.text and "无法完成" not in shown.text
    again = await client.get(refused.headers["location"])
    assert 'id="flash-error"' not in again.text  # shown once

    # Without a page to go back to (no Referer), a Chinese error page, not a bare status.
    bare = await client.post(f"/console/policies/{draft.id}/submit", data={"csrf_token": token})
    assert bare.status_code == 403 and "没有权限" in bare.text and "无法完成" not in bare.text
