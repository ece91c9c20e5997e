"""The REST API keeps its OpenAPI contract: schemathesis with every stateless response check
(status codes declared with their error body, content types, headers, response schemas,
405 with an Allow header, auth not ignored), on positive and negative data, a bounded
number of examples per route; and a 405 anywhere names the allowed methods.

Not yet in this list (see the report of issue 12): `positive_data_acceptance` (business rules
such as the credit code's check character still answer 422 to schema-valid data),
`negative_data_rejection` (unknown query parameters are ignored), and the stateful checks
(`use_after_free`, `ensure_resource_availability`, `object_level_authorization`), which need
linked operations the document does not describe yet."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import schemathesis.checks as st_checks
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from core.db import Database
from core.settings import Settings
from tests.web.test_schemathesis import _prepare
from web.app import create_app

EXAMPLES_PER_ROUTE_AND_MODE = 8
NOT_YET = {"positive_data_acceptance", "negative_data_rejection", "use_after_free", "ensure_resource_availability",
           "object_level_authorization"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    folder: Path = tmp_path_factory.mktemp("contract")
    db = Database(f"sqlite+aiosqlite:///{folder / 'api.db'}")
    token = asyncio.run(_prepare(db))
    yield create_app(db, Settings(secret_key="contract", data_dir=folder)), token


def test_the_api_keeps_its_contract(api: tuple[object, str]) -> None:
    app, token = api
    st_checks.load_all_checks()
    checks = [c for c in st_checks.CHECKS.get_all() if c.__name__ not in NOT_YET]
    assert {"status_code_conformance", "response_schema_conformance", "allow_header_conformance",
            "unsupported_method", "ignored_auth"} <= {c.__name__ for c in checks}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_ROUTE_AND_MODE, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def exercise(case: schemathesis.Case) -> None:
                try:
                    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)
                except BaseException as exc:  # noqa: BLE001  (a failure group: collect it, go on)
                    found = [getattr(e, "title", type(e).__name__) for e in getattr(exc, "exceptions", [exc])]
                    failures.append(f"{case.method} {case.path}: {'; '.join(found)}")

            exercise()
    assert not failures, "\n".join(sorted(set(failures))[:20])


@pytest.mark.parametrize("method, path", [("DELETE", "/api/policies"), ("PATCH", "/api/search"),
                                          ("PUT", "/console/review"), ("DELETE", "/library")])
async def test_a_405_names_the_allowed_methods(api: tuple[object, str], method: str, path: str) -> None:
    app, _token = api
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.request(method, path)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert "GET" in allowed and method not in allowed
