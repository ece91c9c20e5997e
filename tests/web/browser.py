"""What every browser test shares: the app served by uvicorn inside the test's event loop
(so it sees the `db` fixture's database), Debian's Chromium launched by Playwright (never a
downloaded browser), the two viewports a person uses, and checks of what they see.

Import the `live_server` fixture and `pytestmark` into a test module to use them."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from tests.web.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
CHROMIUM_PRESENT = CHROMIUM.exists()
VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM_PRESENT and os.environ.get("CI") != "true",
                       reason=f"{CHROMIUM} is not installed (apt install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """`app` under uvicorn as a task in the running event loop on 127.0.0.1 and a free port;
    yields its base URL and stops the server on the way out."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest_asyncio.fixture
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as base:
        yield base


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium launched by Playwright, closed on the way out."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def chromium_page(**options: Any) -> AsyncIterator[Any]:
    """A new page in Debian's Chromium, opened with Playwright's `new_page(**options)`."""
    async with chromium() as browser:
        yield await browser.new_page(**options)


@asynccontextmanager
async def browser_page(viewport: dict[str, int]) -> AsyncIterator[Any]:
    """A fresh page in Debian's Chromium at `viewport`, touch-enabled on the phone size."""
    assert CHROMIUM_PRESENT, f"{CHROMIUM} is missing and CI=true: install Debian's chromium"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = viewport["width"] < 600
    async with chromium() as browser:
        context = await browser.new_context(locale="zh-CN", viewport=viewport, has_touch=phone,
                                            is_mobile=phone, device_scale_factor=1)
        yield await context.new_page()


def tag(viewport: dict[str, int]) -> str:
    return "phone" if viewport["width"] < 600 else "desktop"


async def log_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    from playwright.async_api import expect

    await page.goto(f"{base}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await expect(page.locator("form[action='/console/logout']")).to_have_count(1)


async def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return int(await page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"))
