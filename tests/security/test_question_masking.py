"""Questions typed by residents often carry their own ID number, mobile or card. The question
log, the unanswered board (API and console) and feedback comments keep them masked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

import policies
from core.db import Database
from policies.qa.models import AnswerFeedback, QuestionLog
from tests.bot.test_webchat import chat_app
from tests.security.test_pii_coverage import BANK_CARD, MOBILE, RESIDENT_ID, _leaks
from tests.web.conftest import HR, bearer, login, make_token, make_user

QUESTIONS = [
    f"我的身份证{RESIDENT_ID}丢了怎么补办护照",
    f"护照补办，电话{MOBILE[:3]} {MOBILE[3:7]} {MOBILE[7:]}回我",
    f"社保卡{BANK_CARD[:6]}-{BANK_CARD[6:12]}-{BANK_CARD[12:]}挂失怎么办理护照",
    f"护照办理进度查询 身份证号{RESIDENT_ID[:6]}\u200b{RESIDENT_ID[6:]}",
]


async def _logged(db: Database) -> tuple[list[str], list[str]]:
    async with db.reader() as session:
        questions = (await session.execute(select(QuestionLog.text, QuestionLog.normalized))).all()
        comments = (await session.execute(select(AnswerFeedback.comment))).scalars().all()
    return [t for row in questions for t in row], list(comments)


async def test_asked_questions_are_stored_and_shown_masked(client: httpx.AsyncClient, db: Database) -> None:
    answer_ids = []
    for question in QUESTIONS:
        for _ in range(2):  # asked twice, so it tops the unanswered board
            asked = await client.get("/api/ask", params={"q": question})
            assert asked.status_code == 200, asked.text
        answer_ids.append(asked.json()["answer_id"])
    for answer_id, question in zip(answer_ids, QUESTIONS, strict=True):
        rated = await client.post(f"/api/answers/{answer_id}/feedback",
                                  json={"useful": False, "comment": f"没解决，{question}"})
        assert rated.status_code == 200, rated.text

    texts, comments = await _logged(db)
    assert len(texts) == 2 * 2 * len(QUESTIONS) and len(comments) == len(QUESTIONS)
    assert [t for t in texts + comments if _leaks(t)] == []
    assert all("*" in t for t in comments)
    assert any("护照" in t for t in texts)  # the question itself is kept, only the numbers hidden

    viewer = bearer(await make_token(db, HR, "viewer"))
    board = await client.get("/api/questions/unanswered", headers=viewer)
    assert board.status_code == 200 and board.json(), board.text
    assert _leaks(board.text) == []

    await make_user(db, "hr_viewer", "viewer", HR)
    await login(client, "hr_viewer")
    page = await client.get("/console/boards")
    assert page.status_code == 200
    assert "护照" in page.text and _leaks(page.text) == []


async def test_questions_typed_in_the_web_chat_are_logged_masked(db: Database) -> None:
    transport = httpx.ASGITransport(app=chat_app(db))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as chat:
        await chat.get("/chat")
        assert (await chat.post("/chat/api/start")).status_code == 200
        for question in QUESTIONS:
            said = await chat.post("/chat/api/message", json={"text": question})
            assert said.status_code == 200, said.text
    texts, _ = await _logged(db)
    assert texts, "the web chat logged no question"
    assert [t for t in texts if _leaks(t)] == []


async def test_the_migration_masks_questions_logged_before(db: Database) -> None:
    from datetime import UTC, datetime

    raw = QUESTIONS[0]
    async with db.session() as session:
        question = QuestionLog(asked_at=datetime(2026, 1, 5, tzinfo=UTC), channel="web", text=raw,
                               normalized=raw, outcome="none", alternatives=[], confidence=0.0)
        session.add(question)
        await session.flush()
        session.add(AnswerFeedback(question_id=question.id, useful=False, at=datetime(2026, 1, 5, tzinfo=UTC),
                                   comment=f"没用 {QUESTIONS[1]}"))
    texts, comments = await _logged(db)
    assert [t for t in texts + comments if _leaks(t)]  # stored raw, as before this change

    path = Path(policies.__file__).parent / "migrations" / "versions" / "p0101_mask_logged_questions.py"
    spec = importlib.util.spec_from_file_location("p0101_mask_logged_questions", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    def upgrade(connection) -> None:  # type: ignore[no-untyped-def]
        with Operations.context(MigrationContext.configure(connection)):
            migration.upgrade()

    async with db.engine.begin() as connection:
        await connection.run_sync(upgrade)
    texts, comments = await _logged(db)
    assert [t for t in texts + comments if _leaks(t)] == []
    assert any("护照" in t and "*" in t for t in texts)
