"""Logins cost what they must and no more: password hashing runs in worker threads, a bounded
number at a time, so the server keeps answering while many logins are in flight; failures are
throttled per (account, address) and per address, while an account as a whole is only slowed,
so nobody can lock the real user out from another address."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from fastapi import FastAPI

from core.db import Database
from core.settings import get_settings
from tests.web.conftest import PASSWORD, csrf_of, make_user
from web import accounts, password_hashing
from web.console import login as login_route

LOGINS = 20


def _client(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    page = await client.get("/console/login")
    return await client.post("/console/login", data={"username": username, "password": password,
                                                     "csrf_token": csrf_of(page.text), "next": "/console/policies"})


class GatedHasher:
    """The real argon2 hasher, except that verify waits for a gate; counts who is inside."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self.entered = threading.Semaphore(0)
        self._lock = threading.Lock()
        self.real = password_hashing.hasher

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.entered.release()
        try:
            # Fails the test instead of hanging it, should the loop itself be the one waiting.
            assert self.gate.wait(timeout=60), "the gate was never opened: the event loop was blocked"
            return self.real.verify(password_hash, password)
        finally:
            with self._lock:
                self.inside -= 1

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


@pytest_asyncio.fixture
async def gated(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GatedHasher]:
    gate = GatedHasher()
    monkeypatch.setattr(password_hashing, "hasher", gate)
    yield gate
    gate.gate.set()


async def test_healthz_answers_while_twenty_logins_hash(app: FastAPI, db: Database, gated: GatedHasher) -> None:
    await make_user(db, "hr_editor", "editor", "泾源县人力资源和社会保障局")
    clients = [_client(app, f"10.0.0.{n}") for n in range(LOGINS)]
    try:
        logins = [asyncio.create_task(_login(c, "hr_editor", PASSWORD if n % 2 else "wrong password"))
                  for n, c in enumerate(clients)]
        # Wait (without blocking the loop) until hashes are running and the bound is reached.
        bound = get_settings().password_hash_concurrency
        for _ in range(bound):
            assert await asyncio.to_thread(gated.entered.acquire, True, 60)
        async with _client(app, "10.9.9.9") as monitor:
            health = await asyncio.wait_for(monitor.get("/healthz"), timeout=60)
        assert health.status_code == 200
        assert not all(task.done() for task in logins)  # answered while the logins were in flight
        assert gated.inside == bound
        gated.gate.set()
        results = await asyncio.wait_for(asyncio.gather(*logins), timeout=120)
        assert sorted(r.status_code for r in results) == sorted([303] * (LOGINS // 2) + [401] * (LOGINS // 2))
        assert gated.most_inside == bound  # never more hashes at once than the bound
    finally:
        for c in clients:
            await c.aclose()


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Throttling is about counting, not about argon2's cost: cheaper parameters keep it quick."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(password_hashing, "hasher", cheap)
    monkeypatch.setattr(password_hashing, "DUMMY_HASH", cheap.hash("not-a-real-password"))


@pytest.mark.usefixtures("cheap_hashing")
async def test_one_address_cannot_lock_the_account_out_for_everybody(
    app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_user(db, "admin_li", "admin")
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(login_route, "pause", record)
    async with _client(app, "203.0.113.7") as attacker, _client(app, "198.51.100.2") as colleague:
        statuses = [(await _login(attacker, "admin_li", f"guess-{n}")).status_code for n in range(7)]
        assert statuses == [401] * accounts.LOGIN_FAILURE_LIMIT + [429, 429]
        # Even the right password is refused from the attacker's address for now…
        assert (await _login(attacker, "admin_li", PASSWORD)).status_code == 429
        # …but the real user, elsewhere, gets in.
        assert (await _login(colleague, "admin_li", PASSWORD)).status_code == 303
    assert pauses == []  # five failures do not slow anyone down yet


@pytest.mark.usefixtures("cheap_hashing")
async def test_many_addresses_slow_the_account_down_without_locking_it(
    app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_user(db, "admin_wang", "admin")
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(login_route, "pause", record)
    failures = accounts.ACCOUNT_SLOWDOWN_AFTER + 6
    for n in range(failures):
        async with _client(app, f"192.0.2.{n + 1}") as botnet:
            assert (await _login(botnet, "admin_wang", f"guess-{n}")).status_code == 401
    assert len(pauses) == failures - accounts.ACCOUNT_SLOWDOWN_AFTER
    assert pauses == sorted(pauses) and pauses[-1] > pauses[0] > 0
    async with _client(app, "198.51.100.3") as owner:
        assert (await _login(owner, "admin_wang", PASSWORD)).status_code == 303  # slowed, not locked
    assert pauses[-1] <= accounts.ACCOUNT_SLOWDOWN_MAX_SECONDS


@pytest.mark.usefixtures("cheap_hashing")
async def test_one_address_spraying_many_accounts_is_stopped(app: FastAPI, db: Database) -> None:
    async with _client(app, "203.0.113.99") as sprayer:
        statuses = [(await _login(sprayer, f"user{n}", "password123")).status_code
                    for n in range(accounts.ADDRESS_FAILURE_LIMIT + 2)]
    assert statuses[: accounts.ADDRESS_FAILURE_LIMIT] == [401] * accounts.ADDRESS_FAILURE_LIMIT
    assert statuses[accounts.ADDRESS_FAILURE_LIMIT:] == [429, 429]
