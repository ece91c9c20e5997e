"""`python run.py` as an operator starts it: one process serving HTTP, delivering pushes and
polling Telegram. A department publishes through the REST API; the subscriber's Telegram chat
(the fake Bot API) receives the policy; Ctrl-C stops the process cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Awaitable
from pathlib import Path

import httpx
import pytest

from tests.fakes.telegram_api import FakeTelegram

REPO = Path(__file__).resolve().parents[1]
AGENCY = "泾源县人力资源和社会保障局"
CHAT = 424242


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str]) -> Awaitable[asyncio.subprocess.Process]:
    """`python run.py` with `env`, its stdout and stderr together in one pipe."""
    return asyncio.create_subprocess_exec(
        sys.executable, "run.py", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )


async def answers_healthz(client: httpx.AsyncClient, attempts: int, server: asyncio.subprocess.Process | None = None,
                          log: bytearray | None = None) -> bool:
    """Polls /healthz every half second until it answers 200 (True) or `attempts` run out
    (False). With `server`, first asserts on each round that it is still running (the
    tail of `log` as the message)."""
    for _ in range(attempts):
        if server is not None:
            assert server.returncode is None, (log or bytearray()).decode()[-3000:]
        try:
            if (await client.get("/healthz")).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    return False


async def cli(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "run.py", *args, cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.slow
async def test_publish_through_the_api_reaches_telegram_and_ctrl_c_stops(
    tmp_path: Path, fake_telegram: FakeTelegram
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "DATA_DIR": str(tmp_path),
        "HTTP_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": "42:SERVE-test",
        "TELEGRAM_API_BASE": fake_telegram.base_url,
    }
    editor = (await cli(env, "token", "create", "--agency", AGENCY, "--role", "editor")).split()[-1]
    reviewer = (await cli(env, "token", "create", "--agency", AGENCY, "--role", "reviewer")).split()[-1]
    server = await start_server(env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            if not await answers_healthz(client, 120):
                pytest.fail("the server did not answer /healthz")
            await fake_telegram.wait_for(lambda: fake_telegram.calls_to("getUpdates"), timeout=30)

            def auth(token: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {token}"}

            subscriber = await client.post("/api/subscribers", headers=auth(editor), json={
                "display_name": "马先生", "township": "香水镇", "channel": "telegram", "address": str(CHAT),
                "topics": ["employment"]})
            assert subscriber.status_code == 201, subscriber.text
            draft = await client.post("/api/policies", headers=auth(editor), json={
                "title": "泾源县一次性创业补贴实施办法", "audience": "resident", "topics": ["employment"],
                "body": "对在本县首次创业、正常经营6个月以上的高校毕业生，给予一次性创业补贴5000元。"})
            assert draft.status_code in (200, 201), draft.text
            policy_id = draft.json()["id"]
            for token, step in ((editor, "submit"), (reviewer, "approve"), (editor, "publish")):
                response = await client.post(f"/api/policies/{policy_id}/{step}", headers=auth(token), json={})
                assert response.status_code == 200, (step, response.text)

        messages = await fake_telegram.wait_for(lambda: fake_telegram.sent_messages(CHAT), timeout=60)
        assert "一次性创业补贴" in messages[0]["text"]
        assert len(fake_telegram.sent_messages(CHAT)) == 1
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(server.communicate(), timeout=60)
    assert server.returncode == 0, output.decode()[-2000:]
    assert "政策直达已启动" in output.decode()
