"""Where answers to free-text questions come from: `policies.qa.service`, which answers with
the in-memory `QaEngine` and logs every question (its id is the answer id that 有用/没用
refers to; unanswered questions are what departments see)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from policies.service import QaEngine, get_tokenizer, qa, word_lists
from policies.views import Answer

ENGINE_MAX_AGE = 30.0  # seconds; a policy published elsewhere becomes answerable within this time


class Answerer(Protocol):
    logs_questions: bool

    async def answer(self, session: AsyncSession, question: str, *, channel: str) -> Answer: ...

    async def feedback(self, session: AsyncSession, answer_id: int, useful: bool) -> bool:
        """Store 有用/没用; False when the answer is unknown."""
        ...


class LibraryAnswerer:
    """Answers through `policies.qa.service`.

    Give it the process's shared engine (kept current by whoever publishes policies), or let
    it load its own and rebuild it from stored tokens when it is older than `max_age`."""

    logs_questions = True

    def __init__(self, phone: str, *, engine: QaEngine | None = None, max_age: float = ENGINE_MAX_AGE,
                 data_dir: Path | None = None) -> None:
        self.phone = phone
        self.data_dir = data_dir  # where the console's edited word lists are
        self.shared = engine
        self.max_age = max_age
        self._own: QaEngine | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def engine(self, session: AsyncSession) -> QaEngine:
        if self.shared is not None:
            return self.shared
        async with self._lock:
            if self._own is None or time.monotonic() - self._loaded_at > self.max_age:
                # jieba loads its dictionary on first use (seconds): do it off the event loop,
                # so the engine's in-memory answers afterwards take milliseconds.
                await asyncio.to_thread(get_tokenizer().initialize)
                self._own = await QaEngine.load(session, phone=self.phone,
                                                synonyms=word_lists.load_table(self.data_dir))
                self._loaded_at = time.monotonic()
            return self._own

    async def answer(self, session: AsyncSession, question: str, *, channel: str) -> Answer:
        return await qa.answer(session, await self.engine(session), question, channel=channel)

    async def feedback(self, session: AsyncSession, answer_id: int, useful: bool) -> bool:
        try:
            await qa.record_feedback(session, answer_id, useful)
        except NotFound:
            return False
        return True
