"""The HTTP fixtures of tests/web (app, client, settings) for the security tests too."""

from tests.web.conftest import app, client, settings  # noqa: F401
