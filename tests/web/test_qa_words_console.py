"""The console's Q&A word lists: a department adds an everyday word to the concept map and
the running engine understands it from the next question on; a malformed line is refused
with its line number and nothing is saved."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from core.db import Database
from core.settings import Settings
from policies.qa.engine import QaEngine
from policies.search.word_lists import edited_path
from tests.factories import make_published_policy
from tests.web.conftest import HR, console_csrf, login, make_user
from web.app import create_app


@pytest_asyncio.fixture
async def served(db: Database, settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    subsidy = await make_published_policy(db, interpretation=None)  # 泾源县一次性创业补贴实施办法
    async with db.reader() as session:
        engine = await QaEngine.load(session, phone="12345")
    app = create_app(db, settings, qa_engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http, subsidy.id


async def test_an_edited_concept_is_understood_at_once(served: tuple[httpx.AsyncClient, int], db: Database,
                                                       settings: Settings) -> None:
    client, subsidy_id = served
    question = {"q": "弄了个修车铺能给点钱吗"}
    assert (await client.get("/api/ask", params=question)).json()["kind"] == "not_found"
    await make_user(db, "hr-editor", "editor", HR)
    await login(client, "hr-editor")
    page = await client.get("/console/qa-words/concepts")
    assert page.status_code == 200 and "饭馆" in page.text and "口语概念图" in page.text
    token = await console_csrf(client, "/console/qa-words/concepts")

    refused = await client.post("/console/qa-words/concepts",
                                data={"text": "修车铺 => 创业\n修车铺\n", "csrf_token": token})
    assert refused.status_code == 422 and "第 2 行" in refused.text
    assert not edited_path("concepts", settings.data_dir).exists()

    text = page.text.split('name="text"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    shipped = text.replace("&gt;", ">").replace("&amp;", "&").replace("&lt;", "<").replace("&#34;", '"')
    added = "\n修车铺 = 洗车店 => 创业 = 一次性创业补贴\n"
    saved = await client.post("/console/qa-words/concepts", data={"text": shipped + added, "csrf_token": token})
    assert saved.status_code == 303, saved.text
    assert "修车铺" in edited_path("concepts", settings.data_dir).read_text(encoding="utf-8")
    answer = (await client.get("/api/ask", params=question)).json()
    assert answer["answered"] and answer["policy"]["id"] == subsidy_id, answer
    # The shipped concepts still work after the edit.
    assert (await client.get("/api/ask", params={"q": "开个小饭馆有补贴吗"})).json()["answered"]


async def test_an_unknown_list_is_not_found(served: tuple[httpx.AsyncClient, int], db: Database) -> None:
    client, _ = served
    await make_user(db, "admin", "admin")
    await login(client, "admin")
    assert (await client.get("/console/qa-words/nope")).status_code == 404
    assert (await client.get("/console/qa-words", follow_redirects=True)).status_code == 200
