"""The console's item pages: suggestions from the text prefill the form, conditions are chosen
from the vocabulary, bad input is shown next to its field, and only the agency may change items."""

from __future__ import annotations

import httpx

from core.clock import FixedClock
from core.db import Database
from policies.items import service as items
from tests.factories import make_draft, make_published_policy
from tests.web.conftest import COMMERCE, HR, console_csrf, csrf_of, login, make_user


async def test_a_suggestion_prefills_the_form_and_the_item_is_saved(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    draft = await make_draft(db)
    await make_user(db, "hr-editor", "editor", HR)
    await login(client, "hr-editor")
    page = await client.get(f"/console/policies/{draft.id}/items")
    assert "一次性创业补贴" in page.text and "用这条填表" in page.text
    prefilled = await client.get(f"/console/policies/{draft.id}/items?use=0")
    assert 'name="name" value="一次性创业补贴"' in prefilled.text
    assert 'value="graduate" checked' in prefilled.text  # 高校毕业生 found in the sentence
    csrf = await console_csrf(client, f"/console/policies/{draft.id}/items")
    saved = await client.post(f"/console/policies/{draft.id}/items/add", data={
        "csrf_token": csrf, "name": "一次性创业补贴", "amount_yuan": "5000", "track": "apply",
        "deadline": "2026-12-31", "c_audience": "resident", "c_group": ["graduate", "migrant_worker"],
        "c_age_low": "16", "c_age_high": "45", "c_text": "正常经营6个月以上"})
    assert saved.status_code == 303
    async with db.reader() as session:
        [item] = await items.items_of(session, draft.id)
    assert [c.describe() for c in item.conditions] == [
        "面向对象：个人", "人员类别：高校毕业生或农民工", "年龄：16至45周岁", "正常经营6个月以上"]


async def test_bad_input_is_shown_by_its_field_and_nothing_is_saved(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    published = await make_published_policy(db)
    await make_user(db, "hr-editor", "editor", HR)
    await login(client, "hr-editor")
    csrf = await console_csrf(client, f"/console/policies/{published.id}/items")
    refused = await client.post(f"/console/policies/{published.id}/items/add", data={
        "csrf_token": csrf, "name": "奖励", "amount_yuan": "很多", "track": "auto", "c_text": "须经评审"})
    assert refused.status_code == 422
    assert 'data-field="amount_yuan"' in refused.text and 'data-field="track"' in refused.text
    async with db.reader() as session:
        assert await items.items_of(session, published.id) == []


async def test_another_agency_cannot_change_items(client: httpx.AsyncClient, db: Database,
                                                  clock: FixedClock) -> None:
    draft = await make_draft(db)
    await make_user(db, "commerce-editor", "editor", COMMERCE)
    await login(client, "commerce-editor")
    page = await client.get(f"/console/policies/{draft.id}/items")
    assert page.status_code == 403 or "添加事项" not in page.text
    csrf = await console_csrf(client, "/console/policies")
    refused = await client.post(f"/console/policies/{draft.id}/items/add",
                                data={"csrf_token": csrf, "name": "越权事项"})
    assert refused.status_code == 403
    async with db.reader() as session:
        assert await items.items_of(session, draft.id) == []


async def test_the_dry_run_shows_the_may_qualify_group_and_the_department_includes_it(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    from policies import service as policies
    from tests.policies.items.helpers import HIGH_TECH_AWARD, save_items
    from tests.subscriptions.test_item_audience import _people

    await _people(db)
    draft = await make_draft(db, audience="both")
    await save_items(db, draft.id, [HIGH_TECH_AWARD])
    async with db.session() as session:
        await policies.submit(session, draft.id, "hr-editor")
    async with db.session() as session:
        await policies.approve(session, draft.id, "reviewer")
    await make_user(db, "hr-editor", "editor", HR)
    await login(client, "hr-editor")
    page = await client.get(f"/console/policies/{draft.id}/publish")
    assert 'id="audience-total">1<' in page.text and "符合事项条件：1" in page.text
    assert 'id="may-qualify-count">1<' in page.text and "未包含" in page.text
    included = await client.post(f"/console/policies/{draft.id}/items/may-qualify",
                                 data={"csrf_token": csrf_of(page.text), "include": "yes"})
    assert included.status_code == 303
    page = await client.get(f"/console/policies/{draft.id}/publish")
    assert 'id="audience-total">2<' in page.text and "已包含" in page.text
