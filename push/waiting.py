"""Waiting on whichever comes first: a stop request, a nudge, or a timeout."""

from __future__ import annotations

import asyncio


async def wait_any(*events: asyncio.Event | None, timeout: float) -> None:  # noqa: ASYNC109
    """Returns when any given event is set or `timeout` seconds pass (None entries are ignored)."""
    present = [e for e in events if e is not None]
    if any(e.is_set() for e in present):
        return
    waiters = [asyncio.ensure_future(e.wait()) for e in present]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
