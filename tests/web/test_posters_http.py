"""QR posters over HTTP: made through the API and the console, printed as PDF, scanned at
/q/<code> (forged links refused, repeat scans not counted), a subscription and a question in
the web chat credited to the poster, and the figures on the reach and relay pages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI

from bot.webchat.routes import webchat_router
from bot.wiring import build_services
from core.db import Database
from core.settings import Settings
from push.posters.links import poster_code
from subscriptions import service as subscriptions
from subscriptions.views import ChannelName
from tests.factories import make_published_policy, repeal_policy
from tests.push.posters.helpers import pdf_pages, png_qr_contents, qr_contents
from tests.web.conftest import HR, bearer, console_csrf, login, make_token, make_user
from web.app import create_app

PHONE_UA = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Mobile Safari/537.36"


@pytest_asyncio.fixture
async def site(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The whole HTTP face with the web chat mounted, as run.py serves it."""
    app: FastAPI = create_app(db, settings, extra_routers=[webchat_router(build_services(db, settings))])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _make(site: httpx.AsyncClient, db: Database, policy_id: int) -> list[dict[str, object]]:
    token = await make_token(db, HR)
    made = await site.post(f"/api/policies/{policy_id}/posters", headers=bearer(token), json={
        "batch": "泾河源镇", "places": [
            {"name": "东山坡村村委会", "kind": "village", "township": "泾河源镇"},
            {"name": "泾河源镇便民服务中心", "kind": "service_hall", "township": "泾河源镇"},
        ]})
    assert made.status_code == 201, made.text
    return list(made.json())


async def test_api_posters_print_and_scan_once_per_visitor(site: httpx.AsyncClient, db: Database,
                                                          settings: Settings) -> None:
    policy = await make_published_policy(db)
    made = await _make(site, db, policy.id)
    token = await make_token(db, HR)
    first = made[0]
    assert str(first["link"]).startswith("http://127.0.0.1:8080/q/")

    pdf = await site.get(f"/api/policies/{policy.id}/posters.pdf", params={"batch": "泾河源镇"},
                         headers=bearer(token))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert [qr_contents(page) for page in pdf_pages(pdf.content)] == [[m["link"]] for m in made]
    png = await site.get(str(first["png"]), headers=bearer(token))
    assert png_qr_contents(png.content) == [first["link"]]

    path = "/q/" + str(first["link"]).rsplit("/q/", 1)[1]
    landing = await site.get(path, headers={"user-agent": PHONE_UA})
    assert landing.status_code == 200
    assert policy.title in landing.text and "订阅此类" in landing.text and "我要咨询" in landing.text
    await site.get(path, headers={"user-agent": PHONE_UA})  # the same phone again today: not counted
    await site.get(path, headers={"user-agent": PHONE_UA + " MicroMessenger/8.0.47"})
    forged = await site.get(path[:-1] + ("a" if path[-1] != "a" else "b"), headers={"user-agent": PHONE_UA})
    assert forged.status_code == 404 and "无法识别" in forged.text

    listed = (await site.get(f"/api/policies/{policy.id}/posters", headers=bearer(token))).json()
    by_id = {row["id"]: row for row in listed}
    assert by_id[first["id"]]["scans"] == 2 and by_id[made[1]["id"]]["scans"] == 0
    assert by_id[first["id"]]["printed_at"] is not None
    funnel = (await site.get(f"/api/policies/{policy.id}/relay", headers=bearer(token))).json()
    hops = {hop["poster_id"]: hop for hop in funnel["posters"]}
    assert hops[first["id"]]["scans"] == 2 and hops[first["id"]]["printed"]
    assert hops[made[1]["id"]]["place"] == "泾河源镇 泾河源镇便民服务中心（便民服务大厅）"


async def test_subscription_and_question_in_the_web_chat_are_credited_to_the_poster(
        site: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    policy = await make_published_policy(db, topics=["employment"])
    made = await _make(site, db, policy.id)
    poster_id = int(str(made[0]["id"]))
    landing = await site.get("/q/" + poster_code(poster_id, settings.secret_key), headers={"user-agent": PHONE_UA})
    start = landing.text.split('id="poster-subscribe" href="/chat?start=', 1)[1].split('"', 1)[0]

    opened = (await site.post("/chat/api/start", json={"payload": start})).json()["replies"]
    assert "东山坡村村委会" in opened[0]["text"]
    actions = [b["action"] for row in opened[0]["buttons"] for b in row if b["action"]]
    assert actions == [f"pst:{poster_id}", f"psq:{poster_id}"]
    subscribed = (await site.post("/chat/api/press", json={"action": f"pst:{poster_id}"})).json()["replies"]
    assert "已为您订阅" in subscribed[0]["text"]
    await site.post("/chat/api/press", json={"action": f"psq:{poster_id}"})
    await site.post("/chat/api/press", json={"action": f"pst:{poster_id}"})  # pressed twice: credited once

    visitor = site.cookies.get("pd_chat")
    assert visitor
    async with db.reader() as session:
        address = await subscriptions.find_address(session, ChannelName.WEB, _web_address(visitor))
        assert address is not None
        subscriber = await subscriptions.get_subscriber(session, address.subscriber_id)
    assert "employment" in subscriber.topics

    await make_user(db, "hr-editor", "editor", HR)
    await login(site, "hr-editor")
    reach = await site.get(f"/console/policies/{policy.id}/reach")
    assert reach.status_code == 200
    row = reach.text.split(f'data-poster="{poster_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-stage="scans">1<' in row
    assert 'data-stage="subscriptions">1<' in row and 'data-stage="questions">1<' in row
    relay = await site.get(f"/console/policies/{policy.id}/relay")
    assert 'id="poster-hops"' in relay.text and "东山坡村村委会" in relay.text


def _web_address(token: str) -> str:
    from bot.webchat.identity import address_of

    return address_of(token)


async def test_console_makes_posters_from_a_list_of_places(site: httpx.AsyncClient, db: Database) -> None:
    policy = await make_published_policy(db)
    await make_user(db, "hr-editor", "editor", HR)
    await login(site, "hr-editor")
    path = f"/console/policies/{policy.id}/posters"
    made = await site.post(path, data={"csrf_token": await console_csrf(site, path), "kind": "community",
                                       "township": "香水镇", "batch": "香水镇", "places": "城关社区\n\n北街社区\n"})
    assert made.status_code == 303
    page = await site.get(path)
    assert page.text.count("data-poster=") == 2 and "北街社区" in page.text
    refused = await site.post(path, data={"csrf_token": await console_csrf(site, path),
                                          "places": "王五 13912345678"})
    assert refused.status_code == 422 and "个人信息" in refused.text
    pdf = await site.get(f"/console/policies/{policy.id}/posters.pdf", params={"batch": "香水镇"})
    assert pdf.status_code == 200 and len(pdf_pages(pdf.content)) == 2


async def test_a_repealed_policys_poster_says_so_and_links_the_successor(
        site: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    old = await make_published_policy(db)
    made = await _make(site, db, old.id)
    new = await make_published_policy(db, title="泾源县创业扶持补贴办法（2027年修订）", doc_no="泾人社规发〔2027〕2号")
    await repeal_policy(db, old.id, reason="被泾人社规发〔2027〕2号替代")
    gone = await site.get("/q/" + poster_code(int(str(made[0]["id"])), settings.secret_key))
    assert gone.status_code == 410
    assert "已废止" in gone.text and f'href="/p/{new.id}"' in gone.text


async def test_the_ledger_lists_posters_per_policy_and_place(site: httpx.AsyncClient, db: Database) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    policy = await make_published_policy(db)
    await _make(site, db, policy.id)
    token = await make_token(db, HR)
    table = await site.get("/api/ledger.csv", params={"policy_id": policy.id, "sheet": "posters"},
                           headers=bearer(token))
    assert table.status_code == 200, table.text
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "政策标题", "发文机关", "张贴地点"]
    assert [r[3] for r in rows[1:]] == ["东山坡村村委会", "泾河源镇便民服务中心"]
    assert all(r[1] == policy.title for r in rows[1:])
    book = await site.get("/api/ledger.xlsx", params={"policy_id": policy.id}, headers=bearer(token))
    sheet = load_workbook(io.BytesIO(book.content))["海报台账"]
    assert sheet.max_row == 3


async def test_scans_beyond_the_rate_of_one_address_show_the_page_but_are_not_counted(
        site: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    from web.public_posters import SCANS_COUNTED_PER_MINUTE

    policy = await make_published_policy(db)
    made = await _make(site, db, policy.id)
    path = "/q/" + poster_code(int(str(made[0]["id"])), settings.secret_key)
    for n in range(SCANS_COUNTED_PER_MINUTE + 5):  # a script varying its browser name
        page = await site.get(path, headers={"user-agent": f"{PHONE_UA} script/{n}"})
        assert page.status_code == 200 and "订阅此类" in page.text
    token = await make_token(db, HR)
    listed = (await site.get(f"/api/policies/{policy.id}/posters", headers=bearer(token))).json()
    assert {row["id"]: row["scans"] for row in listed}[made[0]["id"]] == SCANS_COUNTED_PER_MINUTE
