"""Hostile query and path parameters get a 4xx with a Chinese message, never a 500; bidi
controls never reach a title; search totals are what paging can return."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from core.db import Database
from tests.factories import make_published_policy
from tests.security.routes import HttpRoute, http_routes
from tests.web.conftest import HR, bearer, login, make_token, make_user

HOSTILE_NUMBERS = ("99999999999999999999", "2147483648", "-1", "0", "1e9", "NaN")
HOSTILE_TEXT = ("9999Q4", "\u202e" * 50, "x" * 5000, "%00", "' OR 1=1 --")


@pytest.mark.parametrize("quarter", ["9999Q4", "0000Q1", "2026Q5", "1899Q4", "Q4", "20261"])
async def test_a_ledger_quarter_out_of_range_is_422(db: Database, client: httpx.AsyncClient, quarter: str) -> None:
    admin = bearer(await make_token(db, "县政务公开办", "admin"))
    got = await client.get("/api/ledger.csv", params={"quarter": quarter}, headers=admin)
    assert got.status_code == 422, got.text
    assert re.search(r"[\u4e00-\u9fff]", got.json()["error"])
    await make_user(db, "admin-q", "admin")
    await login(client, "admin-q")
    page = await client.get("/console/ledger.csv", params={"quarter": quarter})
    assert 400 <= page.status_code < 500, page.text


def _get_routes(app: FastAPI) -> list[HttpRoute]:
    return [r for r in http_routes(app) if "GET" in r.methods
            and r.path.startswith(("/api", "/console", "/p/", "/library", "/r/"))]


async def test_no_get_route_answers_hostile_parameters_with_a_server_error(db: Database, app: FastAPI,
                                                                          client: httpx.AsyncClient) -> None:
    await make_published_policy(db)
    admin = bearer(await make_token(db, "县政务公开办", "admin"))
    await make_user(db, "admin-p", "admin")
    await login(client, "admin-p")
    failures: list[str] = []
    routes = _get_routes(app)
    assert len(routes) > 20
    for route in routes:
        names = re.findall(r"{(\w+)(?::\w+)?}", route.path)
        queries = route.query_params
        for value in HOSTILE_NUMBERS + HOSTILE_TEXT[:2]:
            path = route.path
            for name in names:
                path = re.sub(r"{" + name + r"(?::\w+)?}", value if value.isascii() else "1", path)
            params = {q: value for q in queries}
            response = await client.get(path, params=params, headers=admin)
            if response.status_code >= 500:
                failures.append(f"{route.path} {value!r} → {response.status_code}")
    assert failures == []


async def test_bidi_controls_are_stripped_from_titles(db: Database, client: httpx.AsyncClient) -> None:
    editor = bearer(await make_token(db, HR, "editor"))
    spoofed = "关于\u202e知通\u202c发放\u2066一次性\u2069创业补贴的通知\u200f"
    created = await client.post("/api/policies", headers=editor, json={
        "title": spoofed, "agency": HR, "body": "为支持创业，发放一次性创业补贴。", "topics": ["employment"]})
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "关于知通发放一次性创业补贴的通知"
    only_controls = await client.post("/api/policies", headers=editor, json={
        "title": "\u202e\u202d\u2066", "agency": HR, "body": "正文。"})
    assert only_controls.status_code == 422 and only_controls.json()["field"] == "title"


async def test_search_totals_agree_with_the_items_paging_returns(db: Database, client: httpx.AsyncClient) -> None:
    titles = ["关于发放一次性创业补贴的通知", "创业担保贷款贴息办法", "高校毕业生就业见习补贴", "农村危房改造补助"]
    for n, title in enumerate(titles, start=1):
        await make_published_policy(db, title=title, doc_no=f"泾人社发〔2026〕{n}号")
    for q in ("创业", "补贴", "就业创业补贴", "危房", "没有这样的政策词语"):
        first = (await client.get("/api/search", params={"q": q, "limit": 1})).json()
        seen: list[int] = []
        for offset in range(0, first["total"] + 2):
            page = (await client.get("/api/search", params={"q": q, "limit": 1, "offset": offset})).json()
            assert page["total"] == first["total"]
            seen += [item["id"] for item in page["items"]]
        assert len(seen) == len(set(seen)) == first["total"], q
