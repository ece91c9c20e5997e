"""Console sessions end on logout and on a password change (on every device), and every
page carries anti-framing headers and a Content-Security-Policy that the console, the web
chat and the library still work under in Chromium."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from bot.web_routes import build_router
from core.db import Database
from core.settings import Settings
from tests.bot.helpers import services
from tests.factories import make_published_policy
from tests.web.browser import CHROMIUM, CHROMIUM_PRESENT, chromium_page, serve
from tests.web.conftest import HR, PASSWORD, csrf_of, make_user
from web import accounts
from web.app import create_app


def _device(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://testserver")


async def _log_in(device: httpx.AsyncClient, username: str, password: str = PASSWORD) -> None:
    page = await device.get("/console/login")
    done = await device.post("/console/login", data={"username": username, "password": password,
                                                     "csrf_token": csrf_of(page.text), "next": "/console/policies"})
    assert done.status_code == 303, done.text


async def _signed_in(device: httpx.AsyncClient) -> bool:
    page = await device.get("/console/policies")
    if page.status_code == 200:
        return True
    assert page.status_code in (302, 303, 307) and "/console/login" in page.headers["location"]
    return False


async def test_logout_ends_every_session_of_the_account(app: FastAPI, db: Database) -> None:
    await make_user(db, "editor-a", "editor", HR)
    await make_user(db, "editor-b", "editor", HR)
    async with _device(app) as phone, _device(app) as desk, _device(app) as other:
        await _log_in(phone, "editor-a")
        await _log_in(desk, "editor-a")
        await _log_in(other, "editor-b")
        stolen = dict(desk.cookies)  # a copy of the cookie, as someone who took it would keep it
        assert await _signed_in(phone) and await _signed_in(desk)
        page = await phone.get("/console/policies")
        await phone.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
        assert not await _signed_in(phone)
        assert not await _signed_in(desk)
        desk.cookies.clear()
        desk.cookies.update(stolen)
        assert not await _signed_in(desk)
        assert await _signed_in(other)  # another account is untouched
        await _log_in(desk, "editor-a")  # and logging in again works
        assert await _signed_in(desk)


async def test_a_password_change_ends_every_session(app: FastAPI, db: Database) -> None:
    await make_user(db, "editor-c", "editor", HR)
    async with _device(app) as desk:
        await _log_in(desk, "editor-c")
        assert await _signed_in(desk)
        async with db.session() as s:
            user = next(u for u in await accounts.list_users(s) if u.username == "editor-c")
            await accounts.set_password(s, user.id, "a brand new passphrase", actor="admin")
        assert not await _signed_in(desk)
        await _log_in(desk, "editor-c", "a brand new passphrase")
        assert await _signed_in(desk)


def _chat_app(db: Database, settings: Settings) -> FastAPI:
    return create_app(db, settings, extra_routers=[build_router(db, settings, services(db))])


@pytest.mark.parametrize("path", ["/console/login", "/library", "/chat", "/api/policies", "/static/site.css",
                                  "/console/policies", "/no-such-page", "/api/docs"])
async def test_every_response_refuses_framing_and_carries_a_policy(db: Database, settings: Settings,
                                                                   path: str) -> None:
    async with _device(_chat_app(db, settings)) as client:
        response = await client.get(path)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    if path != "/chat" and path != "/api/docs":
        assert "script-src 'self';" in policy and "style-src 'self';" in policy


async def test_only_the_chat_pages_own_inline_blocks_are_allowed(db: Database, settings: Settings) -> None:
    async with _device(_chat_app(db, settings)) as client:
        page = await client.get("/chat")
    policy = page.headers["content-security-policy"]
    blocks = re.findall(r"<(script|style)>(.*?)</\1>", page.text, re.DOTALL)
    assert {kind for kind, _ in blocks} == {"script", "style"}
    for _kind, content in blocks:
        digest = base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    injected = base64.b64encode(hashlib.sha256(b"alert(1)").digest()).decode()
    assert injected not in policy


@pytest_asyncio.fixture
async def live_site(db: Database, settings: Settings) -> AsyncIterator[str]:
    async with serve(_chat_app(db, settings)) as base:
        yield base


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM_PRESENT, reason=f"{CHROMIUM} is not installed (apt install chromium)")
async def test_console_chat_and_library_work_under_the_policy_in_chromium(live_site: str, db: Database) -> None:
    from playwright.async_api import expect

    policy = await make_published_policy(db, doc_no="泾人社发〔2026〕9号")
    await make_user(db, "hr-editor", "editor", HR)
    async with chromium_page(locale="zh-CN") as page:
        page.set_default_timeout(30_000)  # generous: the machine is shared with other test runs
        expect.set_options(timeout=20_000)
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        await page.goto(f"{live_site}/library")
        await expect(page.locator("body")).to_contain_text(policy.title)
        await page.goto(f"{live_site}/console/login")
        await page.fill("input[name=username]", "hr-editor")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit], form button")
        await expect(page).to_have_url(re.compile(r"/console/policies"))
        await page.goto(f"{live_site}/console/policies/new")
        await page.fill("textarea[name=body]", "为支持高校毕业生就业创业，对首次创业的给予一次性创业补贴。")
        # draft.js (a same-origin script) still fetches tag suggestions under the policy
        await expect(page.locator("body")).to_contain_text("就业创业", timeout=30_000)
        await page.goto(f"{live_site}/chat")
        log = page.locator("#log")
        await expect(log).to_contain_text("欢迎")  # the inline script ran
        await page.fill("#text", "一次性创业补贴多少钱")
        await page.press("#text", "Enter")
        await expect(log.locator(".msg.bot").last).to_contain_text(policy.title)
        header = page.locator("header").first
        assert await header.evaluate("e => getComputedStyle(e).display") == "flex"  # the inline style applied
    assert violations == []
