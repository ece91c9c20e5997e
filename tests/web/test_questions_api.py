"""Q&A through HTTP: /api/ask, feedback, /api/search with facets, the FAQ API with its role
checks, unanswered questions, and the console FAQ pages, library search and policy page."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from openpyxl import Workbook

from core.clock import FixedClock
from core.db import Database
from core.settings import Settings
from policies.qa.engine import QaEngine
from policies.qa.views import PolicyRef
from tests.factories import make_published_policy, repeal_policy
from tests.web.conftest import COMMERCE, HR, bearer, console_csrf, login, make_token, make_user
from web.api.rate_limit import SlidingWindowLimiter
from web.app import create_app

HOUSING_AGENCY = "泾源县住房和城乡建设局"
HOUSING = {
    "title": "泾源县公共租赁住房管理办法",
    "doc_no": "泾政办规发〔2023〕3号",
    "agency": HOUSING_AGENCY,
    "body": "申请公共租赁住房应当具有本县城镇户籍或在本县稳定就业，家庭人均收入低于上年度人均可支配收入的70%。",
    "topics": ["housing"],
}


@pytest_asyncio.fixture
async def library(db: Database, clock: FixedClock) -> dict[str, int]:
    housing = await make_published_policy(db, **HOUSING)
    subsidy = await make_published_policy(db, doc_no="泾人社规发〔2023〕2号")
    old = await make_published_policy(db, title="泾源县廉租住房保障办法", doc_no="泾政发〔2015〕8号",
                                      agency=HOUSING_AGENCY, topics=["housing"],
                                      body="廉租住房保障对象为城镇低收入住房困难家庭。")
    await repeal_policy(db, old.id)
    return {"housing": housing.id, "subsidy": subsidy.id, "old": old.id}


@pytest_asyncio.fixture
async def shared(db: Database, settings: Settings, library: dict[str, int]) -> AsyncIterator[httpx.AsyncClient]:
    """An app given the process's shared engine, as `run.py serve` does."""
    async with db.reader() as session:
        engine = await QaEngine.load(session, phone="12345")
    app = create_app(db, settings, qa_engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_ask_names_the_policy_quotes_and_marks(client: httpx.AsyncClient, library: dict[str, int]) -> None:
    response = await client.get("/api/ask", params={"q": "公租房谁能申请"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "policy" and body["answered"] is True
    policy = body["policy"]
    assert policy["id"] == library["housing"] and policy["doc_no"] == "泾政办规发〔2023〕3号"
    assert policy["validity_label"] == "有效" and policy["url"].endswith(f"/p/{library['housing']}")
    passage = body["passage"]
    assert passage["marks"] and "【" in passage["marked"]
    start, end = passage["marks"][0]
    assert passage["text"][start:end] in passage["marked"]
    assert isinstance(body["answer_id"], int)


async def test_repealed_policy_is_marked(client: httpx.AsyncClient, library: dict[str, int]) -> None:
    body = (await client.get("/api/ask", params={"q": "泾政发〔2015〕8号"})).json()
    assert body["policy"]["id"] == library["old"] and body["policy"]["validity_label"] == "已废止"


@pytest.mark.parametrize("question, kinds", [
    ("", {"invalid"}), ("😀😀😀", {"invalid"}), ("how do I apply for housing", {"invalid"}),
    ("公租房誰能申請", {"policy"}),
    # Foreign words weigh against the answer; offering choices or declining honestly is fine,
    # breaking is not (choices must then include the housing policy).
    ("<script>alert(1)</script>公租房", {"policy", "choices", "not_found"}),
    ("公租房谁能申请' OR 1=1; DROP TABLE policy; --", {"policy", "choices", "not_found"}),
    ("护照怎么办理", {"not_found"}),
])
async def test_bad_input_gets_a_sensible_answer(client: httpx.AsyncClient, library: dict[str, int],
                                                question: str, kinds: set[str]) -> None:
    response = await client.get("/api/ask", params={"q": question})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] in kinds, body
    assert body["text"]
    if body["kind"] == "not_found":
        assert body["phone"] == "12345" and "12345" in body["text"]
    if body["kind"] == "choices":
        offered = [body["policy"]["id"], *(p["id"] for p in body["alternatives"])]
        assert library["housing"] in offered, body
    assert (await client.get("/api/ask", params={"q": "公租房谁能申请"})).json()["kind"] == "policy"


async def test_long_questions_are_cut_and_absurd_ones_refused(client: httpx.AsyncClient,
                                                             library: dict[str, int]) -> None:
    long = await client.get("/api/ask", params={"q": "公租房谁能申请" + "。" * 1500})
    assert long.status_code == 200 and "只按前" in long.json()["text"]
    too_long = await client.get("/api/ask", params={"q": "公" * 2001})
    assert too_long.status_code == 422 and too_long.json()["field"] == "q"
    nul = await client.get("/api/ask", params={"q": "公租房\x00"})
    assert nul.status_code == 422 and nul.json()["field"] == "q"


async def test_feedback_is_stored_and_replaced(client: httpx.AsyncClient, db: Database,
                                               library: dict[str, int]) -> None:
    from policies.qa import service as qa

    answer_id = (await client.get("/api/ask", params={"q": "公租房谁能申请"})).json()["answer_id"]
    assert (await client.post(f"/api/answers/{answer_id}/feedback", json={"useful": False})).status_code == 200
    response = await client.post(f"/api/answers/{answer_id}/feedback", json={"useful": True, "comment": "清楚"})
    assert response.status_code == 200 and response.json() == {"answer_id": answer_id, "useful": True}
    async with db.reader() as session:
        assert await qa.answer_feedback(session, answer_id) is True
        summary = await qa.feedback_summary(session, policy_id=library["housing"])
    assert (summary.useful, summary.not_useful) == (1, 0)
    missing = await client.post("/api/answers/99999/feedback", json={"useful": True})
    assert missing.status_code == 404 and missing.json()["field"] == "answer_id"
    assert (await client.post(f"/api/answers/{answer_id}/feedback", json={})).json()["field"] == "useful"


async def test_asking_too_often_is_refused_with_retry_after(app: FastAPI, client: httpx.AsyncClient,
                                                             library: dict[str, int]) -> None:
    now = [100.0]
    app.state.ask_limiter = SlidingWindowLimiter(limit=2, window=60, now=lambda: now[0])
    for _ in range(2):
        assert (await client.get("/api/ask", params={"q": "公租房"})).status_code == 200
    refused = await client.get("/api/ask", params={"q": "公租房"})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert "频繁" in refused.json()["error"]
    now[0] += 61
    assert (await client.get("/api/ask", params={"q": "公租房"})).status_code == 200


async def test_search_ranks_filters_and_counts_facets(client: httpx.AsyncClient, library: dict[str, int]) -> None:
    found = (await client.get("/api/search", params={"q": "住房"})).json()
    ids = [item["id"] for item in found["items"]]
    assert ids[0] == library["housing"] and library["old"] in ids and library["subsidy"] not in ids
    assert {f["value"]: f["count"] for f in found["facets"]["status"]} == {"published": 1, "repealed": 1}
    assert found["facets"]["agency"][0] == {"value": HOUSING_AGENCY, "label": HOUSING_AGENCY, "count": 2}
    valid = (await client.get("/api/search", params={"q": "住房", "status": "published"})).json()
    assert [i["id"] for i in valid["items"]] == [library["housing"]] and valid["total"] == 1
    everything = (await client.get("/api/search")).json()
    assert everything["total"] == 3 and everything["items"][-1]["id"] == library["old"]  # repealed last
    topics = {f["value"]: f for f in everything["facets"]["topic"]}
    assert topics["housing"]["count"] == 2 and topics["housing"]["label"] != "housing"
    by_agency = (await client.get("/api/search", params={"agency": HR})).json()
    assert [i["id"] for i in by_agency["items"]] == [library["subsidy"]]
    exact = (await client.get("/api/search", params={"q": "泾人社规发〔2023〕2号"})).json()
    assert exact["items"][0]["id"] == library["subsidy"] and exact["items"][0]["exact"] is True
    assert (await client.get("/api/search", params={"year": "abc"})).json()["field"] == "year"


async def test_faq_api_roles_and_the_engine_follows(shared: httpx.AsyncClient, db: Database,
                                                    library: dict[str, int]) -> None:
    hr = bearer(await make_token(db, HR, "editor"))
    commerce = bearer(await make_token(db, COMMERCE, "editor"))
    viewer = bearer(await make_token(db, HR, "viewer"))
    admin = bearer(await make_token(db, HR, "admin"))
    entry = {"question": "创业补贴什么时候发放", "variants": ["创业补贴多久到账"],
             "answer": "审核通过后20个工作日内发放到本人社会保障卡。", "policy_ids": [library["subsidy"]]}
    assert (await shared.post("/api/faqs", json=entry)).status_code == 401
    assert (await shared.post("/api/faqs", json=entry, headers=viewer)).status_code == 403
    other = await shared.post("/api/faqs", json={**entry, "department": COMMERCE}, headers=hr)
    assert other.status_code == 403 and other.json()["field"] == "department"
    created = await shared.post("/api/faqs", json=entry, headers=hr)
    assert created.status_code == 201, created.text
    faq = created.json()
    assert faq["department"] == HR and faq["feedback"] == {"useful": 0, "not_useful": 0}

    answer = (await shared.get("/api/ask", params={"q": "创业补贴多久到账"})).json()
    assert answer["kind"] == "faq" and answer["faq_id"] == faq["id"] and "20个工作日" in answer["text"]
    await shared.post(f"/api/answers/{answer['answer_id']}/feedback", json={"useful": True})
    listed = (await shared.get("/api/faqs", params={"policy_id": library["subsidy"]}, headers=viewer)).json()
    assert listed["total"] == 1 and listed["items"][0]["feedback"]["useful"] == 1

    changed = {**entry, "answer": "审核通过后10个工作日内发放。"}
    assert (await shared.put(f"/api/faqs/{faq['id']}", json=changed, headers=commerce)).status_code == 403
    assert (await shared.put(f"/api/faqs/{faq['id']}", json=changed, headers=hr)).status_code == 200
    assert "10个工作日" in (await shared.get("/api/ask", params={"q": "创业补贴多久到账"})).json()["text"]
    bad = await shared.put(f"/api/faqs/{faq['id']}", json={**changed, "question": ""}, headers=hr)
    assert bad.status_code == 422 and bad.json()["field"] == "question"
    missing_policy = await shared.post("/api/faqs", json={**entry, "question": "别的问题", "policy_ids": [424242]},
                                       headers=hr)
    assert missing_policy.status_code == 422 and missing_policy.json()["field"] == "policy_ids"

    assert (await shared.delete(f"/api/faqs/{faq['id']}", headers=commerce)).status_code == 403
    assert (await shared.delete(f"/api/faqs/{faq['id']}", headers=admin)).status_code == 204
    assert (await shared.get(f"/api/faqs/{faq['id']}", headers=viewer)).status_code == 404
    assert (await shared.get("/api/ask", params={"q": "创业补贴多久到账"})).json()["kind"] != "faq"


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["问题", "相似问法", "答案", "依据政策", "部门"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_faq_import_keeps_editors_to_their_department(shared: httpx.AsyncClient, db: Database,
                                                           library: dict[str, int]) -> None:
    hr = bearer(await make_token(db, HR, "editor"))
    content = _workbook([
        ["灵活就业社保补贴怎么申请", "灵活就业补贴；社保补贴", "携带身份证到人社局窗口申请。",
         "泾人社规发〔2023〕2号", ""],
        ["公租房租金多少", "", "按市场租金的60%收取。", str(library["housing"]), COMMERCE],
        ["", "", "没有问题的一行", "", ""],
    ])
    files = {"file": ("faq.xlsx", content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    response = await shared.post("/api/faqs/import", files=files, headers=hr)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 1 and len(report["errors"]) == 2
    assert "第 3 行" in report["errors"][0] and "本部门" in report["errors"][0]
    assert (await shared.get("/api/ask", params={"q": "灵活就业社保补贴怎么申请"})).json()["kind"] == "faq"
    wrong = await shared.post("/api/faqs/import", files={"file": ("faq.csv", b"a,b", "text/csv")}, headers=hr)
    assert wrong.status_code == 422 and wrong.json()["field"] == "file"
    broken = await shared.post("/api/faqs/import", files={"file": ("faq.xlsx", b"not excel", "application/zip")},
                               headers=hr)
    assert broken.status_code == 422 and broken.json()["field"] == "file"


async def test_unanswered_questions_for_departments(client: httpx.AsyncClient, db: Database,
                                                    library: dict[str, int]) -> None:
    for question in ("护照怎么办理", "护照怎么办理", "驾照年审在哪"):
        await client.get("/api/ask", params={"q": question})
    assert (await client.get("/api/questions/unanswered")).status_code == 401
    rows = (await client.get("/api/questions/unanswered", headers=bearer(await make_token(db, HR, "viewer")))).json()
    assert rows[0]["text"] == "护照怎么办理" and rows[0]["count"] == 2 and rows[0]["channels"] == ["api"]


async def test_console_faq_pages_and_boards(shared: httpx.AsyncClient, db: Database,
                                            library: dict[str, int]) -> None:
    await shared.get("/api/ask", params={"q": "护照怎么办理"})
    await make_user(db, "hr-editor", "editor", HR)
    await login(shared, "hr-editor")
    boards = await shared.get("/console/boards")
    assert "护照怎么办理" in boards.text and "/console/faq/new?question=" in boards.text
    listing = await shared.get("/console/faq")
    assert listing.status_code == 200 and "护照怎么办理" in listing.text
    token = await console_csrf(shared, "/console/faq/new")
    form = {"question": "创业补贴什么时候发放", "variants": "创业补贴多久到账\n补贴啥时候发", "answer": "",
            "policy_ids": str(library["subsidy"]), "department": COMMERCE}
    refused = await shared.post("/console/faq/new", data=form)
    assert refused.status_code == 403
    kept = await shared.post("/console/faq/new", data={**form, "csrf_token": token})
    assert kept.status_code == 422 and "补贴啥时候发" in kept.text and 'data-field="answer"' in kept.text
    saved = await shared.post("/console/faq/new", data={**form, "answer": "20个工作日内发放。", "csrf_token": token})
    assert saved.status_code == 303, saved.text
    listing = await shared.get("/console/faq")
    assert "创业补贴什么时候发放" in listing.text and HR in listing.text  # department forced to the editor's own
    assert (await shared.get("/api/ask", params={"q": "补贴啥时候发"})).json()["kind"] == "faq"
    page = await shared.get(f"/p/{library['subsidy']}")
    assert "创业补贴什么时候发放" in page.text and "20个工作日内发放" in page.text


async def test_library_query_uses_the_index(shared: httpx.AsyncClient, library: dict[str, int]) -> None:
    # 公租房 is a synonym of 公共租赁住房: the plain substring listing would find nothing.
    page = await shared.get("/library", params={"q": "公租房"})
    assert page.status_code == 200 and "泾源县公共租赁住房管理办法" in page.text
    assert "泾源县一次性创业补贴实施办法" not in page.text
    fallback = await shared.get("/library")
    assert "泾源县一次性创业补贴实施办法" in fallback.text


def test_answer_models_cover_every_policy_ref_field() -> None:
    ref = PolicyRef(policy_id=1, title="t", doc_no=None, agency="a", status="expired")
    from web.api.questions import PolicyRefOut

    out = PolicyRefOut.of(ref, "http://x")
    assert out.url == "http://x/p/1" and out.validity_label == "已失效"
