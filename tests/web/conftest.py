"""Fixtures for the HTTP face: the app on the `db` fixture's database, an in-process HTTP
client, accounts and API tokens made through `web.accounts`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from core.db import Database
from core.settings import Settings
from web import accounts
from web.app import create_app

HR = "泾源县人力资源和社会保障局"
COMMERCE = "泾源县商务局"
PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(secret_key="test-secret-key", data_dir=tmp_path, http_host="127.0.0.1", http_port=8080)


@pytest.fixture
def app(db: Database, settings: Settings) -> FastAPI:
    return create_app(db, settings)


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def make_token(db: Database, agency: str, role: str = "editor") -> str:
    async with db.session() as session:
        return await accounts.create_token(session, agency, role)


async def make_user(db: Database, username: str, role: str, agency: str | None = None) -> None:
    async with db.session() as session:
        await accounts.create_user(session, username, PASSWORD, role, agency)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF field"
    return found.group(1)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/console/login")
    return await client.post("/console/login", data={"username": username, "password": password,
                                                     "csrf_token": csrf_of(page.text), "next": "/console/policies"})


async def console_csrf(client: httpx.AsyncClient, path: str = "/console/policies") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
