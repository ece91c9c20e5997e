"""Response headers that keep pages from being framed, sniffed or running foreign code.

Every response gets `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, a
same-origin referrer policy and a Content-Security-Policy: scripts, styles and everything
else only from this site, no inline code, `frame-ancestors 'none'`.

Inline code is allowed deliberately and narrowly: only on the pages named in
`INLINE_ALLOWED`, whose HTML is rendered from fixed texts and settings (never from the
request), and only for the exact `<script>`/`<style>` blocks the page carries (their sha256
goes into that response's policy). An injected block would have another hash and not run.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Page → extra sources. The web chat is one self-contained page; the API's Swagger UI loads
# its bundle from jsDelivr (as FastAPI serves it) and starts it with one inline script.
INLINE_ALLOWED: dict[str, str] = {
    "/chat": "",
    "/api/docs": "https://cdn.jsdelivr.net",
}
_INLINE_BLOCK = re.compile(rb"<(script|style)(?![^>]*\bsrc=)[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
MAX_INLINE_PAGE_BYTES = 1_000_000
FIXED_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def inline_policy(body: bytes, extra_sources: str) -> str:
    """The page's policy: the base one plus the hashes of its own inline blocks."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, content in _INLINE_BLOCK.findall(body):
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        hashes[kind.decode().lower()].append(f"'sha256-{digest}'")
    extra = f" {extra_sources}" if extra_sources else ""
    script = " ".join(["'self'", *hashes["script"]]) + extra
    style = " ".join(["'self'", *hashes["style"]]) + extra
    policy = BASE_POLICY.replace("script-src 'self'", f"script-src {script}")
    policy = policy.replace("style-src 'self'", f"style-src {style}")
    if extra_sources:
        policy = policy.replace("img-src 'self' data:", f"img-src 'self' data:{extra}")
    return policy


class SecurityHeaders:
    """Pure ASGI middleware (no buffering except the few inline-allowed pages)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = INLINE_ALLOWED.get(scope.get("path", ""))
        if extra is None:
            await self.app(scope, receive, _with_headers(send, BASE_POLICY))
            return
        await self._hashed(scope, receive, send, extra)

    async def _hashed(self, scope: Scope, receive: Receive, send: Send, extra: str) -> None:
        start: Message | None = None
        started = False
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start, started
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or started:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body", False))
            if more and sum(map(len, chunks)) <= MAX_INLINE_PAGE_BYTES:
                return
            body = b"".join(chunks)
            assert start is not None
            # A page too large to hash gets the strict policy: its inline code will not run.
            await _with_headers(send, BASE_POLICY if more else inline_policy(body, extra))(start)
            started = True
            await send({"type": "http.response.body", "body": body, "more_body": more})

        await self.app(scope, receive, collect)


def _with_headers(send: Send, policy: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
            headers += [*FIXED_HEADERS, (b"content-security-policy", policy.encode())]
            message = {**message, "headers": headers}
        await send(message)

    return sending


_OURS = {name for name, _ in FIXED_HEADERS} | {b"content-security-policy"}
