"""The relay REST API and console pages: role checks on every route (a hub operator sees and
acts on its own hub only), actions, the funnel, and ledger downloads."""

from __future__ import annotations

import csv
import io

import httpx
import openpyxl

from core.clock import FixedClock
from core.db import Database
from tests.push.relay.helpers import AGENCY, County, make_county, release, task_of
from tests.web.conftest import bearer, console_csrf, login, make_token


async def _setup(db: Database) -> tuple[County, int, dict[str, dict[str, str]]]:
    county = await make_county(db)
    policy = await release(db)
    async with db.session() as session:
        from web import accounts

        tokens = {
            "hub_a": await accounts.create_token(session, "泾源县工业园区", "hub_operator", hub_id=county.hub_a),
            "hub_b": await accounts.create_token(session, "泾源县个体私营企业协会", "hub_operator",
                                                 hub_id=county.hub_b),
        }
    tokens["editor"] = await make_token(db, AGENCY, "editor")
    tokens["other_editor"] = await make_token(db, "泾源县人力资源和社会保障局", "editor")
    tokens["viewer"] = await make_token(db, "县政府办", "viewer")
    tokens["admin"] = await make_token(db, "县政府办", "admin")
    return county, policy.id, {k: bearer(v) for k, v in tokens.items()}


async def test_hub_operator_acts_on_its_own_hub_only(
    db: Database, clock: FixedClock, client: httpx.AsyncClient
) -> None:
    county, policy_id, auth = await _setup(db)
    task_a = await task_of(db, policy_id, county.hub_a)

    mine = await client.get(f"/api/hubs/{county.hub_a}/relay-tasks", headers=auth["hub_a"])
    assert mine.status_code == 200 and [t["id"] for t in mine.json()] == [task_a.id]
    assert mine.json()[0]["due_on"] == "2026-03-05"
    theirs = await client.get(f"/api/hubs/{county.hub_b}/relay-tasks", headers=auth["hub_a"])
    assert theirs.status_code == 403 and theirs.json()["field"] == "hub_id"

    for who in ("hub_b", "editor", "viewer"):
        refused = await client.post(f"/api/relay-tasks/{task_a.id}/forward", headers=auth[who])
        assert refused.status_code == 403, who
    assert (await client.post(f"/api/relay-tasks/{task_a.id}/forward")).status_code == 401

    done = await client.post(f"/api/relay-tasks/{task_a.id}/forward", headers=auth["hub_a"])
    assert done.status_code == 200 and done.json()["changed"] and done.json()["queued"] == 2
    again = await client.post(f"/api/relay-tasks/{task_a.id}/forward", headers=auth["hub_a"])
    assert again.status_code == 200 and not again.json()["changed"] and "不会重复发送" in again.json()["message"]

    detail = await client.get(f"/api/relay-tasks/{task_a.id}", headers=auth["hub_a"])
    assert detail.status_code == 200
    assert {m["contact"] for m in detail.json()["members"]} == {"张*", "李*"}
    assert (await client.get(f"/api/relay-tasks/{task_a.id}", headers=auth["hub_b"])).status_code == 403


async def test_report_and_decline_input_errors_name_the_field(
    db: Database, clock: FixedClock, client: httpx.AsyncClient
) -> None:
    county, policy_id, auth = await _setup(db)
    task_b = await task_of(db, policy_id, county.hub_b)
    bad = await client.post(f"/api/relay-tasks/{task_b.id}/report", json={"count": -3}, headers=auth["hub_b"])
    assert bad.status_code == 422 and bad.json()["field"] == "count"
    bad = await client.post(f"/api/relay-tasks/{task_b.id}/decline", json={"reason": ""}, headers=auth["hub_b"])
    assert bad.status_code == 422 and bad.json()["field"] == "reason"
    ok = await client.post(f"/api/relay-tasks/{task_b.id}/report", json={"count": 12, "note": "微信群"},
                           headers=auth["hub_b"])
    assert ok.status_code == 200 and ok.json()["task"]["status"] == "reported"
    late = await client.post(f"/api/relay-tasks/{task_b.id}/decline", json={"reason": "不转"}, headers=auth["hub_b"])
    assert late.status_code == 409
    assert (await client.post("/api/relay-tasks/999999/forward", headers=auth["admin"])).status_code == 404


async def test_funnel_and_ledger_permissions(db: Database, clock: FixedClock, client: httpx.AsyncClient) -> None:
    county, policy_id, auth = await _setup(db)
    task_b = await task_of(db, policy_id, county.hub_b)
    await client.post(f"/api/relay-tasks/{task_b.id}/report", json={"count": 7}, headers=auth["hub_b"])

    funnel = await client.get(f"/api/policies/{policy_id}/relay", headers=auth["editor"])
    assert funnel.status_code == 200
    body = funnel.json()
    assert (body["hubs_assigned"], body["hubs_reported"], body["hubs_open"], body["external_reported"]) == (2, 1, 1, 7)
    for who in ("other_editor", "hub_a"):
        assert (await client.get(f"/api/policies/{policy_id}/relay", headers=auth[who])).status_code == 403

    xlsx = await client.get("/api/ledger.xlsx", params={"agency": AGENCY, "quarter": "2026Q1"}, headers=auth["viewer"])
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content))["转达台账"].iter_rows(values_only=True))
    assert len(rows) == 3
    own = await client.get("/api/ledger.csv", headers=auth["editor"])  # an editor gets its own agency by default
    assert own.status_code == 200 and own.content.startswith("\ufeff".encode())
    assert len(list(csv.reader(io.StringIO(own.content.decode("utf-8-sig"))))) == 3
    assert (await client.get("/api/ledger.csv", params={"agency": AGENCY},
                             headers=auth["other_editor"])).status_code == 403
    assert (await client.get("/api/ledger.csv", headers=auth["hub_a"])).status_code == 403
    bad = await client.get("/api/ledger.csv", params={"quarter": "2026Q9"}, headers=auth["admin"])
    assert bad.status_code == 422 and bad.json()["field"] == "quarter"


async def test_console_hub_page_forward_and_policy_table(
    db: Database, clock: FixedClock, client: httpx.AsyncClient
) -> None:
    county, policy_id, _auth = await _setup(db)
    async with db.session() as session:
        from web import accounts

        await accounts.create_user(session, "park_op", "correct horse battery", "hub_operator", "泾源县工业园区",
                                   hub_id=county.hub_a)
    await login(client, "park_op")
    home = await client.get("/console/relay")
    assert home.status_code == 303 and home.headers["location"] == f"/console/hubs/{county.hub_a}/relay"
    page = await client.get(f"/console/hubs/{county.hub_a}/relay")
    assert page.status_code == 200 and "泾源县支持工业企业技术改造若干措施" in page.text
    assert (await client.get(f"/console/hubs/{county.hub_b}/relay")).status_code == 403

    task_a = await task_of(db, policy_id, county.hub_a)
    token = await console_csrf(client, f"/console/hubs/{county.hub_a}/relay")
    refused = await client.post(f"/console/relay-tasks/{task_a.id}/forward")
    assert refused.status_code == 403  # no CSRF token
    done = await client.post(f"/console/relay-tasks/{task_a.id}/forward", data={"csrf_token": token})
    assert done.status_code == 200 and "已通过系统转发给 2 位会员联系人" in done.text
    task_b = await task_of(db, policy_id, county.hub_b)
    other = await client.post(f"/console/relay-tasks/{task_b.id}/forward", data={"csrf_token": token})
    assert other.status_code == 403
    assert (await client.get(f"/console/policies/{policy_id}/relay")).status_code == 403  # not its figures

    await client.post("/console/logout", data={"csrf_token": token})
    from tests.web.conftest import make_user

    await make_user(db, "ind_editor", "editor", AGENCY)
    await login(client, "ind_editor")
    table = await client.get(f"/console/policies/{policy_id}/relay")
    assert table.status_code == 200
    assert "泾源县工业园区" in table.text and "已通过系统转发" in table.text and "ledger.xlsx" in table.text
    download = await client.get("/console/ledger.xlsx", params={"policy_id": policy_id})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
