"""A visitor is a random cookie; the web channel address is derived from it.

The cookie is a bearer secret, so the database keeps only a hash of it: reading the
address table does not let anyone act as the visitor.
"""

from __future__ import annotations

import hashlib
import re
import secrets

COOKIE_NAME = "pd_chat"
COOKIE_MAX_AGE = 365 * 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(value: str | None) -> bool:
    return bool(value and _TOKEN.match(value))


def address_of(token: str) -> str:
    """The `web` channel address (and web inbox key) of a visitor."""
    return "web-" + hashlib.sha256(token.encode()).hexdigest()[:40]
