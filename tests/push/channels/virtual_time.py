"""A virtual monotonic clock for limiter tests: sleeps return when the test's driver moves time,
so waits are exact and nothing really sleeps."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class VirtualTime:
    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + seconds, next(self._seq), future))
        await future

    async def settle(self) -> None:
        """Let every runnable task run until it blocks."""
        for _ in range(50):
            await asyncio.sleep(0)

    async def advance_to_next(self) -> bool:
        """Move time to the earliest sleeper's wake-up and wake it; False if nobody sleeps."""
        await self.settle()
        if not self._sleepers:
            return False
        wake_at, _, future = heapq.heappop(self._sleepers)
        self.t = max(self.t, wake_at)
        if not future.done():
            future.set_result(None)
        await self.settle()
        return True

    async def run(self, *aws: Awaitable[T]) -> list[T]:
        """Run `aws` concurrently, moving virtual time whenever all of them are asleep."""
        tasks = [asyncio.ensure_future(aw) for aw in aws]
        while not all(task.done() for task in tasks):
            if not await self.advance_to_next() and not all(task.done() for task in tasks):
                await self.settle()
                if not any(task.done() for task in tasks) and not self._sleepers:
                    raise AssertionError("deadlock: every task waits and no one sleeps")
        return [task.result() for task in tasks]
