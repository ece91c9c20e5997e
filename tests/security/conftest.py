"""The HTTP fixtures of tests/web (the app on the `db` fixture's database and its client)."""

from tests.web.conftest import app, client, settings  # noqa: F401
