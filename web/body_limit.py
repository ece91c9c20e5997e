"""One request-body limit for the whole application, enforced as the outermost ASGI layer.

It runs before sessions, authentication and parsing, so an anonymous client cannot make the
server hold a large body in memory: a declared Content-Length over the limit is refused before
anything is read, and a streamed (chunked) body is cut off as soon as the bytes received pass
the limit. Uploads (multipart forms: FAQ and subscriber spreadsheets) get a larger limit than
JSON and plain forms; a few paths (the WeChat webhook) have a smaller limit of their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class BodyLimits:
    body_bytes: int = 2 * MEGABYTE
    upload_bytes: int = 20 * MEGABYTE
    by_path: Mapping[str, int] = field(default_factory=dict)

    def for_request(self, path: str, content_type: str) -> int:
        if path in self.by_path:
            return self.by_path[path]
        if content_type.lower().startswith("multipart/form-data"):
            return self.upload_bytes
        return self.body_bytes


def _describe(limit: int) -> str:
    if limit >= MEGABYTE:
        return f"{limit / MEGABYTE:g} MB"
    return f"{max(1, limit // 1024)} KB"


def _message(limit: int) -> str:
    return f"请求内容过大：本接口最多接受 {_describe(limit)}，请缩小内容或分批提交"


def _refusal_body(limit: int) -> bytes:
    return json.dumps({"error": _message(limit), "field": "body"}, ensure_ascii=False).encode("utf-8")


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes its limit. An HTTPException, so that
    a framework that wraps body-reading errors (FastAPI turns them into 400) passes it on as is,
    and the application's own error handler shows the same Chinese 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_message(limit))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        limit = self.limits.for_request(scope["path"], headers.get("content-type", ""))
        declared = headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if not response_started:
                await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = _refusal_body(limit)
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()), (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})
