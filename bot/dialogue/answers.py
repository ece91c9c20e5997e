"""Where answers to free-text questions come from.

`policies.qa` owns Q&A. Until its service door (answer + question log + feedback) lands, the
bot asks the in-memory `QaEngine` directly: answers are the same, but questions are not
logged and feedback is not stored (`logs_questions` is False, so the bot never claims to
have recorded a question it did not record).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from policies.qa.views import Answer

ENGINE_MAX_AGE = 30.0  # seconds; newly published policies become answerable within this time


class Answerer(Protocol):
    logs_questions: bool

    async def answer(self, session: AsyncSession, question: str, *, channel: str) -> Answer: ...

    async def feedback(self, session: AsyncSession, answer_id: int, useful: bool) -> bool:
        """Store 有用/没用; False when the answer is unknown."""
        ...


class EngineAnswerer:
    """Answers with a process-wide `QaEngine`, rebuilt from stored tokens when it gets old."""

    logs_questions = False

    def __init__(self, phone: str, max_age: float = ENGINE_MAX_AGE) -> None:
        self.phone = phone
        self.max_age = max_age
        self._engine: object | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def _current(self, session: AsyncSession) -> object:
        async with self._lock:
            if self._engine is None or time.monotonic() - self._loaded_at > self.max_age:
                from policies.qa.engine import QaEngine

                self._engine = await QaEngine.load(session, phone=self.phone)
                self._loaded_at = time.monotonic()
            return self._engine

    def invalidate(self) -> None:
        self._engine = None

    async def answer(self, session: AsyncSession, question: str, *, channel: str) -> Answer:
        engine = await self._current(session)
        # Tokenising is CPU work (and jieba's first use loads its dictionary): off the loop.
        return await asyncio.to_thread(engine.ask, question)  # type: ignore[attr-defined]

    async def feedback(self, session: AsyncSession, answer_id: int, useful: bool) -> bool:
        return False
