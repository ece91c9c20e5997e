"""Signed tracked links (`/r/{token}`) and public policy page URLs.

The token carries only the delivery id, signed with the site's secret key (itsdangerous,
salt "read"), so a reader cannot forge a read receipt for someone else's delivery. Tokens do not
expire: a policy message may be opened months later and should still count and redirect.
"""

from __future__ import annotations

from functools import lru_cache

from itsdangerous import BadData, URLSafeSerializer

READ_SALT = "read"


@lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    # Built once per key: every pushed message carries a link, and building the signer
    # (key derivation included) per message was a visible share of the worker's CPU.
    if not secret:
        raise ValueError("secret_key is empty: tracked links cannot be signed")
    return URLSafeSerializer(secret, salt=READ_SALT)


def tracked_link(base_url: str, delivery_id: int, secret: str) -> str:
    """`{base}/r/{token}`: opening it records "read" for `delivery_id` and redirects to the policy."""
    token = _serializer(secret).dumps(int(delivery_id))
    return f"{base_url.rstrip('/')}/r/{token}"


def read_token_payload(token: str, secret: str) -> int | None:
    """The delivery id inside `token`, or None when it was tampered with or signed by another key."""
    try:
        payload = _serializer(secret).loads(token)
    except BadData:
        return None
    # bool is an int subclass; a well-formed token from us is always a plain int.
    if type(payload) is not int:
        return None
    return payload


def policy_page_url(base_url: str, policy_id: int) -> str:
    """The public page of one policy (its current revision and interpretation)."""
    return f"{base_url.rstrip('/')}/p/{int(policy_id)}"
