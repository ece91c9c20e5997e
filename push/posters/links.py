"""The poster's signed short link `/q/<id><signature>`.

`id` is the poster id in lower-case base32 (no padding); the signature is the first
SIGNATURE_CHARS base32 characters of HMAC-SHA256(app key, "poster:" + id). The link is
short so that the QR code stays coarse (version 3-4 at level Q) and survives weather and
tape; the signature stops anyone crediting scans to posters that were never printed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

SIGNATURE_CHARS = 8
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_CODE = re.compile(rf"^[a-z2-7]{{1,13}}[a-z2-7]{{{SIGNATURE_CHARS}}}$")


def _b32(number: int) -> str:
    if number < 0:
        raise ValueError("poster id must be positive")
    digits = []
    while True:
        number, rest = divmod(number, 32)
        digits.append(_ALPHABET[rest])
        if number == 0:
            return "".join(reversed(digits))


def _from_b32(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + _ALPHABET.index(char)
    return value


def _signature(id_part: str, secret: str) -> str:
    if not secret:
        raise ValueError("secret_key is empty: poster links cannot be signed")
    digest = hmac.new(secret.encode(), f"poster:{id_part}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:SIGNATURE_CHARS]


def poster_code(poster_id: int, secret: str) -> str:
    id_part = _b32(int(poster_id))
    return id_part + _signature(id_part, secret)


def poster_link(base_url: str, poster_id: int, secret: str) -> str:
    return f"{base_url.rstrip('/')}/q/{poster_code(poster_id, secret)}"


def poster_id_of(code: str, secret: str) -> int | None:
    """The poster id in `code`, or None when it is malformed, altered or signed by another key."""
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        return None
    id_part, signature = code[:-SIGNATURE_CHARS], code[-SIGNATURE_CHARS:]
    if len(id_part) > 1 and id_part[0] == "a":  # a leading zero digit: never produced, so altered
        return None
    if not hmac.compare_digest(signature, _signature(id_part, secret)):
        return None
    poster_id = _from_b32(id_part)
    return poster_id if poster_id > 0 else None
