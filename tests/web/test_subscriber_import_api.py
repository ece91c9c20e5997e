"""POST /api/subscribers/import with a bad file: a 422 naming the file, with a Chinese reason."""

from __future__ import annotations

import httpx
import pytest

from core.db import Database
from tests.subscriptions.test_import_trust import BAD_FILES
from tests.web.conftest import HR, bearer, make_token


@pytest.mark.parametrize("name", ["no_known_columns.csv", "nul_bytes.csv", "broken.xlsx"])
async def test_a_bad_upload_is_a_422_naming_the_file(
    client: httpx.AsyncClient, db: Database, name: str
) -> None:
    editor = bearer(await make_token(db, HR, "editor"))
    response = await client.post("/api/subscribers/import", headers=editor, files={"file": (name, BAD_FILES[name])})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == "file"
    assert "Error" not in body["error"] and "Traceback" not in body["error"]
