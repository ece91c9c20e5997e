"""An in-memory sliding-window limit for the web chat API, per visitor cookie and per IP.

Per process: with several web processes each has its own windows (the limit then applies per
process, which is still a ceiling on abuse). The IP is the connection's peer address: behind a
reverse proxy, run uvicorn with `--proxy-headers --forwarded-allow-ips=<proxy>` so it is the
visitor's, never a header a client could forge.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

MonotonicFn = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    count: int  # at most this many requests…
    per: float  # …in any window of this many seconds


class SlidingWindow:
    """At most `limit.count` hits per key in any `limit.per` seconds. Keeps at most `max_keys`
    keys (the least recently used are forgotten), so a flood of new keys cannot exhaust memory."""

    def __init__(self, limit: Limit, *, clock: MonotonicFn = time.monotonic, max_keys: int = 50_000) -> None:
        self.limit = limit
        self.clock = clock
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float:
        """Count a request; 0 when allowed, else the seconds until one would be (nothing counted)."""
        at = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        self._hits.move_to_end(key)
        while hits and hits[0] <= at - self.limit.per:
            hits.popleft()
        if len(hits) >= self.limit.count:
            return max(hits[0] + self.limit.per - at, 0.001)
        hits.append(at)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return 0.0


class ChatRateLimit:
    """The web chat's limits: per visitor (cookie) and per IP (an office behind one NAT gets
    more than one visitor's share)."""

    def __init__(self, per_visitor: Limit, per_ip: Limit, *, clock: MonotonicFn = time.monotonic) -> None:
        self.visitors = SlidingWindow(per_visitor, clock=clock)
        self.ips = SlidingWindow(per_ip, clock=clock)

    def check(self, visitor: str, ip: str) -> int:
        """0 when the request may go on, else the whole seconds to wait (for Retry-After)."""
        wait = self.visitors.hit(visitor)
        if not wait:
            wait = self.ips.hit(ip)
        return math.ceil(wait) if wait else 0


DEFAULT_PER_VISITOR = Limit(30, 60.0)
DEFAULT_PER_IP = Limit(120, 60.0)
