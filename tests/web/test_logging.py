"""Logs through a real uvicorn server: JSON lines with a request id, and no query string (a
resident's question, a WeChat signature) or client address in the access log."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
from pathlib import Path

import httpx
import uvicorn

from core.db import Database
from core.logging_setup import configure_logging, delivery_context
from core.settings import Settings
from web.app import create_app

QUESTION = "我家孩子考上大学了有没有助学补贴"
SIGNATURE = "5f2a0b4c9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_access_log_has_no_query_strings_and_carries_a_request_id(db: Database, tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    try:
        port = _free_port()
        app = create_app(db, Settings(secret_key="k", data_dir=tmp_path))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for "listening"
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            asked = await client.get("/api/ask", params={"q": QUESTION})
            await client.get("/wechat", params={"signature": SIGNATURE, "timestamp": "1", "nonce": "2", "echostr": "x"})
            await client.get("/library", params={"q": QUESTION}, headers={"X-Request-ID": "trace-0123456789"})
        server.should_exit = True
        await serving
    finally:
        configure_logging("text")
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = [entry for entry in lines if entry["logger"] == "uvicorn.access"]
    assert len(access) == 3, text
    assert all("?" not in entry["message"] and "127.0.0.1" not in entry["message"] for entry in access)
    assert any('"GET /api/ask HTTP/1.1"' in entry["message"] for entry in access)
    assert any("/wechat " in entry["message"] for entry in access)
    for secret in (QUESTION, SIGNATURE, "signature=", "q="):
        assert secret not in text
    assert all(len(entry.get("request_id", "")) >= 8 for entry in access)
    assert access[2]["request_id"] == "trace-0123456789"
    assert asked.headers["x-request-id"] == access[0]["request_id"]


def test_text_lines_carry_the_delivery_id() -> None:
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    try:
        with delivery_context(4242):
            logging.getLogger("push.worker").warning("渠道暂时不可用")
        logging.getLogger("push.worker").warning("没有投递上下文")
    finally:
        configure_logging("text")
    first, second = stream.getvalue().splitlines()
    assert first.endswith("[delivery=4242]") and "delivery" not in second
