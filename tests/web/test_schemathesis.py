"""Property-based requests against the app's own OpenAPI document: no input yields a 5xx.

Runs in-process through schemathesis' ASGI support, on its own SQLite file (schemathesis
drives the app synchronously from its own event loop, so it cannot share the async `db`
fixture's connections). A bounded number of examples keeps it a few seconds per route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from core.db import Database
from core.migrate import upgrade_database
from core.settings import Settings
from tests.factories import make_published_policy
from web import accounts
from web.app import create_app

EXAMPLES_PER_ROUTE = 25


async def _prepare(db: Database) -> str:
    await upgrade_database(db)
    await make_published_policy(db)
    async with db.session() as session:
        token = await accounts.create_token(session, "泾源县人力资源和社会保障局", "admin")
    # Connections belong to this loop; schemathesis' client opens its own.
    await db.dispose()
    return token


@pytest.fixture(scope="module")
def api_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    db = Database(f"sqlite+aiosqlite:///{folder / 'api.db'}")
    token = asyncio.run(_prepare(db))
    app = create_app(db, Settings(secret_key="schemathesis", data_dir=folder))
    yield app, token


def test_no_server_errors(api_setup: tuple[object, str]) -> None:
    # schemathesis' lazy pytest loader does not work with this pytest version, so each
    # operation's strategy is driven through hypothesis directly.
    app, token = api_setup
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        exercise()
    assert not failures, "\n".join(failures[:10])


def test_every_api_route_is_documented(api_setup: tuple[object, str]) -> None:
    app, _token = api_setup
    documented = {path for path in app.openapi()["paths"]}  # type: ignore[attr-defined]
    routes = {r.path for r in app.routes if getattr(r, "path", "").startswith("/api/")}  # type: ignore[attr-defined]
    assert routes - {"/api/docs", "/api/docs/oauth2-redirect"} <= documented
