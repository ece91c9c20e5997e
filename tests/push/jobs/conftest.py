"""The web fixtures (app on the `db` database, in-process client) for the console board test."""

from tests.web.conftest import app, client, settings

__all__ = ["app", "client", "settings"]
