"""Every /api and /console route (and the public ones) for every role and for an anonymous
caller: allowed or refused, as the table below says.

Routes are enumerated from the OpenAPI document and from the app's routers, so a route added
without an expectation here fails the test. "Refused" is 401/403 (or, in the console, the
redirect to the login page); "allowed" is anything else below 500 (a 404, 409 or 422 for the
fixture's state or body still means the role check let it through). Within a route the
least privileged callers go first, so an allowed caller's change of state cannot hide a
refusal."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from core.db import Database
from policies.items import service as items
from policies.qa import faq as faqs
from push.posters import service as posters
from subscriptions import service as subscriptions
from tests.factories import make_draft
from tests.push.relay.helpers import make_county, release, task_of
from tests.security.routes import http_routes
from tests.web.conftest import csrf_of
from web import accounts

HR = "泾源县人力资源和社会保障局"
COMMERCE = "泾源县商务局"
PASSWORD = "correct horse battery"
ITEM = {"name": "矩阵测试补贴", "benefit": "一次性补贴5000元", "amount_yuan": 5000,
        "conditions": [{"kind": "audience", "codes": ["enterprise"]}]}
# Least privileged first (see the module docstring).
ROLES = ("anonymous", "viewer", "hub_operator", "reviewer", "editor_other", "editor_own", "admin")

STAFF = frozenset(ROLES) - {"anonymous"}
PUBLIC = frozenset(ROLES)
ADMIN = frozenset({"admin"})
DRAFTING = frozenset({"admin", "editor_own"})
EDITORS = frozenset({"admin", "editor_own", "editor_other"})
REVIEWING = frozenset({"admin", "reviewer"})
FIGURES = frozenset({"admin", "editor_own", "reviewer", "viewer"})
HUB = frozenset({"admin", "hub_operator"})
CLAIMS = EDITORS | {"hub_operator"}
REGISTRY_READERS = frozenset({"admin", "editor_own", "editor_other", "viewer", "hub_operator"})
# A hub's own desk (its to-do list): the hub, and those who oversee every hub.
HUB_DESK = frozenset({"admin", "hub_operator", "viewer", "reviewer"})
# Posters: made and printed by the policy's department, admins and the hubs that relay it;
# their table (places and scans) is also read by the readers of the policy's figures.
POSTER_MAKERS = DRAFTING | {"hub_operator"}
POSTER_TABLE = FIGURES | {"hub_operator"}

EXPECTED: dict[str, frozenset[str]] = {
    # public pages and documents
    "GET /": PUBLIC, "GET /healthz": PUBLIC, "GET /openapi.json": PUBLIC, "GET /api/docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC, "GET /library": PUBLIC, "GET /p/{policy_id}": PUBLIC,
    "GET /p/{policy_id}/r/{number}": PUBLIC, "GET /policies/{policy_id}": PUBLIC, "GET /r/{token}": PUBLIC,
    "GET /api/ask": PUBLIC, "POST /api/answers/{answer_id}/feedback": PUBLIC, "GET /api/search": PUBLIC,
    # policies
    "POST /api/policies": DRAFTING, "PUT /api/policies/{policy_id}": DRAFTING,
    "PUT /api/policies/{policy_id}/interpretation": DRAFTING, "POST /api/policies/{policy_id}/submit": DRAFTING,
    "POST /api/policies/{policy_id}/approve": REVIEWING, "POST /api/policies/{policy_id}/return": REVIEWING,
    "POST /api/policies/{policy_id}/publish": DRAFTING, "POST /api/policies/{policy_id}/amend": DRAFTING,
    "POST /api/policies/{policy_id}/repeal": DRAFTING, "GET /api/policies": STAFF,
    "GET /api/policies/{policy_id}": STAFF, "GET /api/policies/{policy_id}/revisions/{number}": STAFF,
    "GET /api/policies/{policy_id}/reach": FIGURES,
    "POST /api/suggest": STAFF,  # a text tool: tags and personal-data findings for what is sent
    # accounts and tokens
    "GET /api/tokens": ADMIN, "POST /api/tokens": ADMIN, "DELETE /api/tokens/{token_id}": ADMIN,
    # subscribers, enterprises, hubs
    "POST /api/subscribers": EDITORS, "GET /api/subscribers/{subscriber_id}": REGISTRY_READERS,
    "POST /api/subscribers/import": EDITORS, "POST /api/enterprises": EDITORS,
    "POST /api/enterprises/{enterprise_id}/contacts": EDITORS, "POST /api/hubs": ADMIN,
    "GET /api/hubs/{hub_id}": STAFF, "POST /api/hubs/{hub_id}/contacts": HUB,
    "GET /api/hubs/{hub_id}/members": REGISTRY_READERS, "PUT /api/hubs/{hub_id}/members/{enterprise_id}": HUB,
    "DELETE /api/hubs/{hub_id}/members/{enterprise_id}": HUB,
    # claims
    "GET /api/enterprise-claims": CLAIMS, "POST /api/enterprise-claims/{claim_id}/approve": CLAIMS,
    "POST /api/enterprise-claims/{claim_id}/refuse": CLAIMS, "POST /api/enterprises/{enterprise_id}/invites": CLAIMS,
    # questions and FAQ
    "GET /api/questions/unanswered": STAFF - {"hub_operator"}, "GET /api/faqs": STAFF,
    "POST /api/faqs": DRAFTING,  # the body names the drafting department
    "GET /api/faqs/{faq_id}": STAFF, "PUT /api/faqs/{faq_id}": DRAFTING, "DELETE /api/faqs/{faq_id}": DRAFTING,
    "POST /api/faqs/import": EDITORS,
    # relay
    "GET /api/hubs/{hub_id}/relay-tasks": STAFF,
    "GET /api/hubs/{hub_id}/relay": HUB_DESK, "GET /api/relay-tasks/{task_id}": STAFF - {"editor_other"},
    "POST /api/relay-tasks/{task_id}/forward": HUB, "POST /api/relay-tasks/{task_id}/report": HUB,
    "POST /api/relay-tasks/{task_id}/decline": HUB, "GET /api/policies/{policy_id}/relay": FIGURES,
    "GET /api/relay-escalations": STAFF - {"hub_operator"}, "GET /api/ledger.xlsx": STAFF - {"hub_operator"},
    "GET /api/ledger.csv": STAFF - {"hub_operator"},
    # console
    "GET /console": PUBLIC, "GET /console/login": PUBLIC, "GET /console/policies": STAFF,
    "GET /console/policies/new": EDITORS, "POST /console/policies/new": EDITORS,
    "GET /console/policies/{policy_id}": STAFF, "GET /console/policies/{policy_id}/edit": DRAFTING,
    "POST /console/policies/{policy_id}/edit": DRAFTING, "POST /console/policies/{policy_id}/submit": DRAFTING,
    "GET /console/policies/{policy_id}/publish": DRAFTING, "POST /console/policies/{policy_id}/publish": DRAFTING,
    "GET /console/policies/{policy_id}/amend": DRAFTING, "POST /console/policies/{policy_id}/amend": DRAFTING,
    "POST /console/policies/{policy_id}/withdraw": DRAFTING | REVIEWING,  # 撤回 by its editor, 退回 by a reviewer
    "POST /console/audience-preview": EDITORS, "GET /favicon.ico": PUBLIC,
    # Counts only, no personal data; METRICS_TOKEN (unset here) closes it: tests/web/test_metrics.py.
    "GET /metrics": PUBLIC,
    "GET /console/policies/{policy_id}/repeal": DRAFTING, "POST /console/policies/{policy_id}/repeal": DRAFTING,
    "POST /console/suggest": STAFF, "GET /console/review": STAFF,
    "POST /console/policies/{policy_id}/approve": REVIEWING, "POST /console/policies/{policy_id}/return": REVIEWING,
    "GET /console/policies/{policy_id}/reach": FIGURES, "GET /console/boards": STAFF, "GET /console/admin": ADMIN,
    "POST /console/admin/users": ADMIN, "POST /console/admin/users/{user_id}/active": ADMIN,
    "POST /console/admin/tokens": ADMIN, "POST /console/admin/tokens/{token_id}/revoke": ADMIN,
    "GET /console/relay": STAFF, "GET /console/hubs/{hub_id}/relay": HUB_DESK,
    "POST /console/relay-tasks/{task_id}/forward": HUB, "POST /console/relay-tasks/{task_id}/report": HUB,
    "POST /console/relay-tasks/{task_id}/decline": HUB, "GET /console/policies/{policy_id}/relay": FIGURES,
    "GET /console/ledger.{fmt}": STAFF - {"hub_operator"}, "GET /console/faq": STAFF,
    "GET /console/faq/new": EDITORS, "POST /console/faq/new": EDITORS, "GET /console/faq/{faq_id:int}": STAFF,
    "POST /console/faq/{faq_id:int}": DRAFTING, "POST /console/faq/{faq_id:int}/delete": DRAFTING,
    "POST /console/faq/import": EDITORS, "GET /console/claims": CLAIMS,
    "POST /console/claims/{claim_id}/{decision}": CLAIMS, "POST /console/claims/invites": CLAIMS,
    # posters (/q/{code} is a public scan: its code's signature decides, not who scans)
    "POST /api/policies/{policy_id}/posters": POSTER_MAKERS, "GET /api/policies/{policy_id}/posters": POSTER_TABLE,
    "GET /api/policies/{policy_id}/posters.pdf": POSTER_MAKERS, "GET /api/posters/{poster_id}.pdf": POSTER_MAKERS,
    "GET /api/posters/{poster_id}.png": POSTER_MAKERS, "GET /console/policies/{policy_id}/posters": POSTER_TABLE,
    "POST /console/policies/{policy_id}/posters": POSTER_MAKERS,
    "GET /console/policies/{policy_id}/posters.pdf": POSTER_MAKERS,
    "GET /console/posters/{poster_id}.pdf": POSTER_MAKERS, "GET /console/posters/{poster_id}.png": POSTER_MAKERS,
    "GET /q/{code}": PUBLIC,
    # read aloud: public, like the pages it reads
    "GET /p/{policy_id}/listen": PUBLIC, "GET /p/{policy_id}/audio.ogg": PUBLIC,
    "GET /p/{policy_id}/audio-{part}.mp3": PUBLIC, "GET /faq/{faq_id}/listen": PUBLIC,
    "GET /faq/{faq_id}/audio.ogg": PUBLIC, "GET /faq/{faq_id}/audio-{part}.mp3": PUBLIC,
    # Q&A word lists: read by staff, edited by editors and admins
    "GET /console/qa-words": STAFF, "GET /console/qa-words/{name}": STAFF, "POST /console/qa-words/{name}": EDITORS,
    # policy items, the enterprises that qualify for one, and the calculator
    "GET /api/items/vocabulary": STAFF, "GET /api/policies/{policy_id}/items": STAFF,
    "GET /api/policies/{policy_id}/items/suggestions": STAFF, "PUT /api/policies/{policy_id}/items": DRAFTING,
    "POST /api/calculator": STAFF, "GET /calculator": PUBLIC, "GET /console/policies/{policy_id}/items": STAFF,
    "POST /console/policies/{policy_id}/items/add": DRAFTING,
    "POST /console/policies/{policy_id}/items/{position}/remove": DRAFTING,
    "POST /console/policies/{policy_id}/items/may-qualify": DRAFTING,
    "GET /console/policies/{policy_id}/items/{position}/enterprises": FIGURES,
    "GET /console/policies/{policy_id}/items/{position}/enterprises.csv": FIGURES,
    "POST /console/policies/{policy_id}/items/{position}/enterprises/{enterprise_id}": DRAFTING,
}
# Routes whose outcome depends on what is sent, not on who sends it; each is tested elsewhere.
NOT_IN_MATRIX = {
    "POST /console/login": "credentials and throttling: tests/web/test_console.py",
    "POST /console/logout": "ends every session of the account: tests/security/test_sessions_and_headers.py",
}


@dataclass
class World:
    ids: dict[str, int]
    tokens: dict[str, str]


async def _world(db: Database) -> World:
    county = await make_county(db)  # park A (hub_a) with members E1, E2; association B
    relayed = await release(db, agency=HR)
    task = await task_of(db, relayed.id, county.hub_a)
    draft = await make_draft(db, author="editor_own", agency=HR, title="矩阵测试草稿")
    published = await release(db, agency=HR, title="矩阵测试已发布政策")
    tokens: dict[str, str] = {}
    async with db.session() as s:
        for role in ROLES[1:]:
            kind, agency = {"editor_other": ("editor", COMMERCE), "editor_own": ("editor", HR)}.get(role, (role, HR))
            hub_id = county.hub_a if kind == "hub_operator" else None
            tokens[role] = await accounts.create_token(s, agency, kind, hub_id=hub_id)
            await accounts.create_user(s, role, PASSWORD, kind, agency, hub_id=hub_id)
        spare_user = await accounts.create_user(s, "spare", PASSWORD, "viewer", HR)
        spare_token, _ = await accounts.issue_token(s, HR, "viewer")
        member = (await subscriptions.hub_members(s, county.hub_a))[0]
        contacts = await subscriptions.add_enterprise_contact(s, county.enterprises["E1"], channel="web",
                                                              address="web-matrix-contact")
        claimant = await subscriptions.create_resident(s, channel="telegram", address="4242")
        claim = await subscriptions.register_from_chat(s, claimant.id, name="认领", credit_code=_code_of(member))
        faq_ids = [(await faqs.create_faq(s, faqs.FaqInput(question=f"矩阵问题{n}", answer="答复。",
                                                             department=HR), actor="editor_own")).id
                   for n in range(5)]
        await items.set_items(s, published.id, items.parse_items([ITEM]), "editor_own", "列出事项")
        poster = (await posters.create_posters(s, published.id, [posters.PlaceInput("矩阵村村委会", "village")],
                                               "editor_own"))[0]
    assert claim.claim_id is not None
    return World({"draft": draft.id, "published": published.id, "relayed": relayed.id, "task": task.id,
                  "hub": county.hub_a, "E1": county.enterprises["E1"], "E2": county.enterprises["E2"],
                  "subscriber": contacts.id, "claim": claim.claim_id, "faq_api": faq_ids[0],
                  "faq_console": faq_ids[1], "faq_api_delete": faq_ids[2],
                  "faq_console_delete": faq_ids[3], "faq_public": faq_ids[4], "poster": poster.id,
                  "user": spare_user.id, "token": spare_token.id}, tokens)


def _code_of(member: subscriptions.EnterpriseView) -> str:
    assert member.credit_code is not None
    return member.credit_code


def _path(key: str, world: World) -> str:
    method, path = key.split(" ", 1)
    ids = world.ids
    policy = ids["published"]
    drafting = re.search(r"/(edit|submit|interpretation|approve|return|publish)$", path)
    if drafting or key == "PUT /api/policies/{policy_id}":
        policy = ids["draft"]
    if "relay" in path:
        policy = ids["relayed"]
    values = {
        "policy_id": policy, "number": 1, "token_id": ids["token"], "subscriber_id": ids["subscriber"],
        "enterprise_id": ids["E2"] if "/members/" in path else ids["E1"], "hub_id": ids["hub"], "answer_id": 1,
        "faq_id": ids["faq_public"] if path.startswith("/faq/") else
        ids[("faq_api" if path.startswith("/api") else "faq_console")
            + ("_delete" if method == "DELETE" or path.endswith("/delete") else "")],
        "task_id": ids["task"],
        "claim_id": ids["claim"], "user_id": ids["user"], "decision": "refuse", "fmt": "csv", "token": "x",
        "poster_id": ids["poster"], "code": "x", "part": 1, "position": 1, "name": "concepts",
    }
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: str(values[m.group(1)]), path)


def _json_body(key: str) -> object:
    bodies: dict[str, object] = {
        "POST /api/policies": {"title": "矩阵测试新草稿", "agency": HR, "body": "正文。"},
        "PUT /api/policies/{policy_id}": {"title": "矩阵测试草稿", "agency": HR, "body": "正文。"},
        "PUT /api/policies/{policy_id}/interpretation": {"elements": {"background": "背景。"}},
        "POST /api/policies/{policy_id}/approve": {}, "POST /api/policies/{policy_id}/return": {"comment": "请修改"},
        "POST /api/policies/{policy_id}/amend": {"body": "修订后的正文。", "change_summary": "调整标准"},
        "POST /api/policies/{policy_id}/repeal": {"reason": "已被新政策替代"},
        "POST /api/suggest": {"text": "对高新技术企业给予奖励。"},
        "POST /api/tokens": {"agency": HR, "role": "viewer"},
        "POST /api/subscribers": {"display_name": "马女士"},
        "POST /api/enterprises": {"name": "矩阵测试企业"},
        "POST /api/enterprises/{enterprise_id}/contacts": {"channel": "web", "address": "web-matrix-2"},
        "POST /api/hubs": {"name": "矩阵测试园区"},
        "POST /api/hubs/{hub_id}/contacts": {"channel": "web", "address": "web-matrix-hub"},
        "POST /api/answers/{answer_id}/feedback": {"useful": True},
        "POST /api/faqs": {"question": "矩阵测试问题", "answer": "答复。", "department": HR},
        "PUT /api/faqs/{faq_id}": {"question": "矩阵问题0", "answer": "新的答复。", "department": HR},
        "POST /api/relay-tasks/{task_id}/report": {"count": 1},
        "POST /api/relay-tasks/{task_id}/decline": {"reason": "不在本园区范围"},
        "POST /api/enterprises/{enterprise_id}/invites": {"days": 3},
        "POST /api/policies/{policy_id}/posters": {"places": [{"name": "矩阵社区", "kind": "community"}]},
        "PUT /api/policies/{policy_id}/items": {"items": [ITEM], "change_summary": "调整事项"},
        "POST /api/calculator": {"kind": "enterprise"},
    }
    return bodies.get(key)


def _files(key: str) -> dict[str, tuple[str, io.BytesIO, str]] | None:
    if key == "POST /api/subscribers/import":
        return {"file": ("registry.csv", io.BytesIO("姓名,渠道,地址\n".encode()), "text/csv")}
    if key in ("POST /api/faqs/import", "POST /console/faq/import"):
        return {"file": ("faq.xlsx", io.BytesIO(b"not a workbook"), "application/octet-stream")}
    return None


def _outcome(response: httpx.Response) -> str:
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if response.status_code in (401, 403):
        return "refused"
    if response.status_code in (302, 303, 307) and "/console/login" in response.headers.get("location", ""):
        return "refused"
    return "allowed"


def enumerated(app: FastAPI) -> set[str]:
    """METHOD path of every route: the OpenAPI document's and the routers' (pages, webhooks…)."""
    keys = {f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops}
    keys |= {f"{m} {r.path}" for r in http_routes(app) for m in r.methods if not r.path.startswith("/static")}
    return {k for k in keys if not k.startswith("GET /library/")} | {"GET /library"}


async def test_every_route_refuses_every_role_it_should(db: Database, app: FastAPI) -> None:
    routes = enumerated(app)
    assert {"GET /api/policies", "GET /console/policies", "POST /api/enterprise-claims/{claim_id}/approve"} <= routes
    unknown = routes - set(EXPECTED) - set(NOT_IN_MATRIX)
    assert not unknown, f"routes without an expectation in the matrix: {sorted(unknown)}"
    world = await _world(db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    clients = {role: httpx.AsyncClient(transport=transport, base_url="http://testserver") for role in ROLES}
    csrf: dict[str, str] = {}
    try:
        for role in ROLES[1:]:
            page = await clients[role].get("/console/login")
            done = await clients[role].post("/console/login", data={
                "username": role, "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "/console"})
            assert done.status_code == 303, (role, done.text)
            csrf[role] = clients[role].cookies and csrf_of((await clients[role].get("/console/faq")).text)
        csrf["anonymous"] = csrf_of((await clients["anonymous"].get("/console/login")).text)
        mismatches: list[str] = []
        for key in sorted(k for k in routes if k in EXPECTED):
            method, _ = key.split(" ", 1)
            for role in ROLES:
                headers = {"X-CSRF-Token": csrf[role]}
                if role != "anonymous":
                    headers["Authorization"] = f"Bearer {world.tokens[role]}"
                kwargs: dict[str, object] = {"headers": headers}
                if _files(key):
                    kwargs["files"] = _files(key)
                elif method in ("POST", "PUT") and key.split(" ", 1)[1].startswith("/api"):
                    kwargs["json"] = _json_body(key) if _json_body(key) is not None else {}
                elif method == "POST":
                    kwargs["data"] = {"csrf_token": csrf[role]}
                response = await clients[role].request(method, _path(key, world), **kwargs)  # type: ignore[arg-type]
                got = _outcome(response)
                want = "allowed" if role in EXPECTED[key] else "refused"
                if got != want:
                    mismatches.append(f"{key} as {role}: {got} ({response.status_code}), expected {want}")
        assert mismatches == [], "\n".join(mismatches)
    finally:
        for client in clients.values():
            await client.aclose()
