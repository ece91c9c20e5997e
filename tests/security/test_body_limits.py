"""One request-body limit for the whole app, checked before authentication and before the
body is held in memory: declared (Content-Length) and streamed (chunked) bodies alike, JSON,
forms, uploads and the WeChat webhook each at their limit; 413 with a Chinese message."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from bot.wechat.endpoint import WeChatEndpoint, wechat_router
from bot.wiring import build_services
from core.db import Database
from core.settings import Settings
from web.app import create_app
from web.body_limit import BodyLimitMiddleware, BodyLimits

BODY_LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024
CHUNK = 8 * 1024


@pytest.fixture
def small_limits(tmp_path: Path) -> Settings:
    return Settings(secret_key="test-secret-key", data_dir=tmp_path, max_body_bytes=BODY_LIMIT,
                    max_upload_bytes=UPLOAD_LIMIT, wechat_token="wx-token", wechat_app_id="wx-app")


@pytest_asyncio.fixture
async def http(db: Database, small_limits: Settings) -> AsyncIterator[httpx.AsyncClient]:
    wechat = wechat_router(WeChatEndpoint(build_services(db, small_limits)))
    app = create_app(db, small_limits, extra_routers=[wechat])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class Stream:
    """An endless body, sent without Content-Length; counts how much the server pulled."""

    def __init__(self, prefix: bytes = b"", chunks: int = 10_000) -> None:
        self.prefix = prefix
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.prefix
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * CHUNK


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 413, (response.status_code, response.text[:200])
    assert "请求内容过大" in response.text  # JSON for clients, the error page for the console


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/policies"),            # needs a token: the size is refused first
    ("PUT", "/api/policies/1"),
    ("POST", "/api/faqs"),
    ("POST", "/console/login"),           # a form, before CSRF and password
    ("POST", "/chat/api/message"),
    ("POST", "/api/answers/1/feedback"),
])
async def test_declared_oversized_bodies_are_refused_before_authentication(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    for content_type in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
        body = b"{" + b" " * (BODY_LIMIT + 1) + b"}"
        _refused(await http.request(method, path, content=body, headers={"content-type": content_type}))
    # Only the declared length counts for the early refusal: nothing was sent beyond the header check.
    lie = await http.request(method, path, content=b"{}", headers={"content-type": "application/json",
                                                                    "content-length": str(10**12)})
    assert lie.status_code == 413


@pytest.mark.parametrize(("path", "content_type"), [
    ("/api/policies", "application/json"),
    ("/console/login", "application/x-www-form-urlencoded"),
    ("/api/answers/1/feedback", "application/json"),
    ("/wechat?signature=x&timestamp=1&nonce=2", "text/xml"),
])
async def test_streamed_bodies_are_cut_off_at_the_limit(http: httpx.AsyncClient, path: str, content_type: str) -> None:
    stream = Stream()
    response = await http.post(path, content=stream, headers={"content-type": content_type})
    _refused(response)
    assert stream.pulled * CHUNK <= max(BODY_LIMIT, 64 * 1024) + 2 * CHUNK  # stopped reading, not buffered


async def test_uploads_have_their_own_larger_limit(http: httpx.AsyncClient) -> None:
    between = b"x" * (BODY_LIMIT * 2)  # over the JSON limit, under the upload limit
    accepted = await http.post("/api/faqs/import", files={"file": ("faq.xlsx", between)})
    assert accepted.status_code == 401  # reached authentication: the size was fine
    too_big = await http.post("/api/faqs/import", files={"file": ("faq.xlsx", b"x" * (UPLOAD_LIMIT + 1))})
    _refused(too_big)
    stream = Stream(b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="faq.xlsx"\r\n'
                    b"Content-Type: application/octet-stream\r\n\r\n")
    streamed = await http.post("/api/faqs/import", content=stream,
                               headers={"content-type": "multipart/form-data; boundary=xyz"})
    _refused(streamed)
    assert stream.pulled * CHUNK <= UPLOAD_LIMIT + 2 * CHUNK


async def test_wechat_webhook_stops_at_its_own_limit(http: httpx.AsyncClient) -> None:
    body = b"<xml>" + b"<a>x</a>" * 9000 + b"</xml>"  # about 72 KB: over WeChat's 64 KB
    response = await http.post("/wechat?signature=x&timestamp=1&nonce=2", content=body,
                               headers={"content-type": "text/xml"})
    _refused(response)
    assert "64 KB" in response.text


async def test_small_bodies_pass_untouched(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/policies", json={"title": "x"})
    assert response.status_code == 401  # authentication answered: the limit let it through


async def test_a_response_already_started_is_never_replaced() -> None:
    sent: list[dict[str, object]] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body"):
            pass

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    middleware = BodyLimitMiddleware(app, BodyLimits(body_bytes=1000))
    await middleware({"type": "http", "path": "/x", "headers": []}, receive, send)  # type: ignore[arg-type]
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [200]


def test_the_message_is_chinese_and_names_the_limit() -> None:
    from web.body_limit import _refusal_body

    body = json.loads(_refusal_body(2 * 1024 * 1024))
    assert body == {"error": "请求内容过大：本接口最多接受 2 MB，请缩小内容或分批提交", "field": "body"}


async def test_over_the_wire_a_chunked_body_is_answered_before_it_ends(db: Database, small_limits: Settings) -> None:
    """Under uvicorn, a client streaming an endless chunked body gets its 413 while still sending."""
    import uvicorn

    from tests.test_serve import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(db, small_limits), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(3000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/policies HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (CHUNK, b" " * CHUNK)
        answer = b""
        sent = 0
        total = 64 * 1024 * 1024  # far beyond what a limit-less server would buffer before answering
        while sent < total and b"\r\n\r\n" not in answer:
            try:
                writer.write(chunk)
                await writer.drain()
            except (ConnectionError, OSError):
                break
            sent += CHUNK
            with contextlib.suppress(TimeoutError):
                answer += await asyncio.wait_for(reader.read(4096), timeout=0.001)
        if b"\r\n\r\n" not in answer:
            answer += await asyncio.wait_for(reader.read(4096), timeout=30)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert sent < total
        assert "请求内容过大" in answer.decode("utf-8", errors="replace")
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=30)
