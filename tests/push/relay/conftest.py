"""The web fixtures (app on the `db` database, in-process client) for the relay API tests."""

from tests.web.conftest import app, client, settings

__all__ = ["app", "client", "settings"]
