"""The Q&A engine request handlers answer and search with.

`python run.py serve` builds it once (`policies.qa.follower.start_engine`) and passes it to
`create_app`; its follower task keeps it current. An app built without one (tests, tools)
loads its own on first use and catches up with the database before each use instead, so
answers are never older than the request.
"""

from __future__ import annotations

import asyncio

from fastapi import Request

from policies.service import IndexFollower, QaEngine, current_cursor, get_tokenizer, word_lists

_LOAD_LOCK = "qa_engine_lock"


async def engine_of(request: Request) -> QaEngine:
    state = request.app.state
    engine: QaEngine | None = getattr(state, "qa_engine", None)
    follower: IndexFollower | None = getattr(state, "qa_follower", None)
    if engine is not None and follower is None:
        return engine  # the shared engine; its own follower runs beside the server
    lock = getattr(state, _LOAD_LOCK, None)
    if lock is None:
        lock = asyncio.Lock()
        setattr(state, _LOAD_LOCK, lock)
    async with lock:
        if state.qa_engine is None:
            await asyncio.to_thread(get_tokenizer().initialize)
            cursor = await current_cursor(state.db)
            data_dir = state.settings.data_dir
            lists_version = word_lists.lists_version(data_dir)
            async with state.db.reader() as session:
                engine = await QaEngine.load(session, phone=state.settings.consultation_phone,
                                             synonyms=word_lists.load_table(data_dir))
            state.qa_engine = engine
            state.qa_follower = IndexFollower(state.db, engine, cursor=cursor, data_dir=data_dir)
            state.qa_follower.lists_version = lists_version
        await state.qa_follower.catch_up()
    return state.qa_engine  # type: ignore[no-any-return]


def engine_if_loaded(request: Request) -> QaEngine | None:
    """The engine when one exists, without loading it (pages that have another way)."""
    return getattr(request.app.state, "qa_engine", None)
