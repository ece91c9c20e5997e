from __future__ import annotations

import httpx

from core.db import Database
from tests.web.conftest import HR, bearer, make_token


async def test_healthz_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    doc = (await client.get("/openapi.json")).json()
    assert "/api/policies" in doc["paths"]


async def test_create_draft(client: httpx.AsyncClient, db: Database) -> None:
    token = await make_token(db, HR)
    response = await client.post("/api/policies", headers=bearer(token),
                                 json={"title": "测试政策", "body": "正文内容。"})
    assert response.status_code == 201, response.text
    assert response.json()["agency"] == HR
