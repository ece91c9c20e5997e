"""A per-client sliding-window limit for the public Q&A routes (no token needed to ask).

In memory and per process: enough to keep one client from flooding the question log or the
feedback counts; a deployment behind several processes or a proxy should limit at the proxy
too (and run uvicorn with --proxy-headers so the client address is the resident's)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from fastapi import HTTPException, Request

from web.console.common import client_ip

ASK_LIMIT = 60  # questions, searches and feedback clicks
ASK_WINDOW = 60.0  # seconds
# Addresses remembered at most; beyond this the least recently seen are forgotten.
MAX_CLIENTS = 10_000
TOO_MANY = "提问过于频繁，请 {seconds} 秒后再试"


class SlidingWindowLimiter:
    def __init__(self, limit: int = ASK_LIMIT, window: float = ASK_WINDOW, *,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.now = now
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> float:
        """0 when the client may go ahead (and the request is counted), else seconds to wait."""
        at = self.now()
        hits = self._hits.pop(client, None) or deque()
        while hits and hits[0] <= at - self.window:
            hits.popleft()
        self._hits[client] = hits  # re-inserted: dict order is least recently seen first
        if len(hits) >= self.limit:
            return hits[0] + self.window - at
        hits.append(at)
        if len(self._hits) > MAX_CLIENTS:
            del self._hits[next(iter(self._hits))]
        return 0.0


def limiter_of(request: Request) -> SlidingWindowLimiter:
    """The app's limiter (`app.state.ask_limiter`), created with the defaults on first use;
    a benchmark or a test may put its own there."""
    limiter = getattr(request.app.state, "ask_limiter", None)
    if limiter is None:
        limiter = request.app.state.ask_limiter = SlidingWindowLimiter()
    return limiter  # type: ignore[no-any-return]


async def limit_public_asks(request: Request) -> None:
    """FastAPI dependency: 429 with Retry-After when this address asked too often."""
    wait = limiter_of(request).retry_after(client_ip(request))
    if wait > 0:
        seconds = max(1, round(wait))
        raise HTTPException(429, TOO_MANY.format(seconds=seconds), headers={"Retry-After": str(seconds)})
