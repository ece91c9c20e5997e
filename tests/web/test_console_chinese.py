"""Every console page, as an administrator sees it in Chromium with data in every state,
shows no internal code value: the visible text holds no ASCII word of three or more letters
beyond a short allow-list (product and format names) and the data people typed themselves
(user names, links)."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from policies import service as policies
from policies.qa import faq
from policies.search import word_lists
from push.fanout import FanOut
from subscriptions.models import Hub
from tests.factories import amend_policy, make_draft, make_published_policy, repeal_policy
from tests.web.browser import DESKTOP, browser_page, live_server, log_in
from tests.web.browser import pytestmark as browser_marks
from web import accounts
from web.demo import load_demo

pytestmark = browser_marks
__all__ = ["live_server"]

ALLOWED = {"PDF", "CSV", "API", "URL", "XLSX", "EXCEL", "TELEGRAM", "WECHAT", "HTTP", "HTTPS", "JSON", "CMS",
           "OPENAPI", "UTF"}
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z_.]{2,}")
# Typed data and secrets' visible prefixes, not code values: links, paths, e-mail, token prefixes.
LINK = re.compile(r"https?://\S+|/[\w/.-]+|\b[\w-]+@[\w.-]+|\bpd_\S+")


async def _every_state(db: Database) -> tuple[dict[str, list[int]], str]:
    """Demo data plus one policy in each state, a hub relay, tokens and logins in the audit log;
    and the admin's password (the demo makes a random one and shows it once)."""
    report = await load_demo(db)
    ids: dict[str, list[int]] = {}
    draft = await make_draft(db, author="renshe", title="含个人信息的草稿",
                             body="联系人张三，手机13812345678。", kind="normative", interpretation=None)
    submitted = await make_draft(db, author="renshe", title="待审核的政策")
    approved = await make_draft(db, author="renshe", title="已审核待发布的政策")
    async with db.session() as session:
        await policies.submit(session, submitted.id, "renshe")
        await policies.submit(session, approved.id, "renshe")
    async with db.session() as session:
        await policies.approve(session, approved.id, "shenhe")
    returned = await make_draft(db, author="renshe", title="退回修改的政策")
    async with db.session() as session:
        await policies.submit(session, returned.id, "renshe")
    async with db.session() as session:
        await policies.return_draft(session, returned.id, "shenhe", "请补充申报材料")
    amended = await make_published_policy(db, author="renshe", reviewer="shenhe", title="修订过的政策")
    await amend_policy(db, amended.id, actor="renshe")
    repealed = await make_published_policy(db, author="renshe", reviewer="shenhe", title="已废止的政策")
    await repeal_policy(db, repealed.id, actor="renshe")
    expiring = await make_published_policy(db, author="renshe", reviewer="shenhe", title="已失效的政策",
                                           effective_date=date(2020, 1, 1), expiry_date=date(2021, 1, 1))
    async with db.session() as session:
        await policies.expire_due(session)
        await accounts.create_token(session, "泾源县人力资源和社会保障局", "editor")
    await FanOut(db).run_once()
    ids["policy_id"] = [draft.id, submitted.id, approved.id, returned.id, amended.id, repealed.id, expiring.id]
    return ids, report.passwords["admin"]


def _routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, including those of included routers (the routers here carry their own
    prefix and are included without one)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _routes(route.original_router.routes)
    return found


def _console_pages(app: FastAPI, ids: dict[str, list[int]]) -> list[str]:
    paths: list[str] = []
    for route in _routes(app.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods or not route.path.startswith("/console"):
            continue
        params = re.findall(r"{(\w+)}", route.path)
        if not params:
            paths.append(route.path)
            continue
        for values in itertools.product(*(ids.get(name, []) for name in params)):
            path = route.path
            for name, value in zip(params, values, strict=True):
                path = path.replace("{" + name + "}", str(value))
            paths.append(path)
    return paths


def _code_words(text: str, people_typed: set[str]) -> set[str]:
    text = LINK.sub(" ", text)
    found = set()
    for word in ASCII_WORD.findall(text):
        word = word.strip("._")
        if len(word) >= 3 and word.upper() not in ALLOWED and word not in people_typed:
            found.add(word)
    return found


async def test_no_console_page_shows_a_code_value(live_server: str, app: FastAPI, db: Database) -> None:
    ids, admin_password = await _every_state(db)
    async with db.reader() as session:
        users = await accounts.list_users(session)
        hubs = await _hub_ids(session)
        faqs = await _faq_ids(session)
    ids["hub_id"], ids["faq_id"], ids["fmt"] = hubs, faqs, []
    ids["position"], ids["name"] = [1], list(word_lists.WORD_LISTS)
    people_typed = {u.username for u in users} | {"demo"}
    pages = _console_pages(app, ids)
    assert len(pages) >= 20, pages
    leaks: dict[str, set[str]] = {}
    async with browser_page(DESKTOP) as page:
        await log_in(page, live_server, "admin", admin_password)
        for path in pages:
            response = await page.goto(f"{live_server}{path}")
            assert response is not None
            if "text/html" not in (response.headers.get("content-type") or ""):
                continue
            text = await page.inner_text("body") + " " + await page.title()
            words = _code_words(text, people_typed)
            if words:
                leaks[path] = words
    assert leaks == {}, "\n".join(f"{path}: {sorted(words)}" for path, words in leaks.items())


async def _hub_ids(session: AsyncSession) -> list[int]:
    return list((await session.execute(select(Hub.id).order_by(Hub.id))).scalars())


async def _faq_ids(session: AsyncSession) -> list[int]:
    return [item.id for item in await faq.list_faqs(session)]
