"""The door other packages use for policy Q&A: ask, give feedback, see what went unanswered.

    engine = await QaEngine.load(session)                        # once, at start-up
    answer = await service.answer(session, engine, "公租房谁能申请", channel="telegram")
    await service.record_feedback(session, answer.answer_id, useful=True)
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import metrics
from core.clock import now
from core.errors import NotFound
from policies.pii import mask_pii
from policies.qa.engine import QaEngine
from policies.qa.models import AnswerFeedback, AnswerKind, QuestionLog
from policies.qa.views import Answer, FeedbackSummary, UnansweredQuestion
from policies.search.normalize import normalize_query

MAX_LOGGED_TEXT = 500
MAX_CHANNEL = 20
MAX_COMMENT = 1000


async def answer(session: AsyncSession, engine: QaEngine, question: object, *, channel: str) -> Answer:
    """Answer and log the question (time, channel, text, outcome); never raises on any input.
    The returned answer's `answer_id` is what feedback refers to."""
    started = time.perf_counter()
    reply = engine.ask(question)
    metrics.record_answer(reply.kind, time.perf_counter() - started)
    # The log feeds the unanswered board, exports and feedback: keep no ID, mobile or card of
    # the person asking. Capped before masking so a huge paste costs nothing.
    raw = mask_pii(question[: MAX_LOGGED_TEXT * 2]) if isinstance(question, str) else ""
    row = QuestionLog(
        asked_at=now(), channel=(channel or "unknown")[:MAX_CHANNEL], text=raw[:MAX_LOGGED_TEXT],
        normalized=normalize_query(raw).text[:200], outcome=reply.kind,
        policy_id=reply.policy.policy_id if reply.policy and reply.kind in (AnswerKind.POLICY, AnswerKind.CHOICES)
        else None,
        faq_id=reply.faq_id, alternatives=[p.policy_id for p in reply.alternatives],
        confidence=round(float(reply.confidence), 4),
    )
    session.add(row)
    await session.flush()
    return reply.with_id(row.id)


async def record_feedback(session: AsyncSession, answer_id: int, useful: bool, comment: str = "") -> None:
    """有用 / 没用 on one answer; clicking again replaces the earlier choice."""
    if await session.get(QuestionLog, answer_id) is None:
        raise NotFound(f"回答 {answer_id} 不存在", field="answer_id")
    existing = (await session.execute(
        select(AnswerFeedback).where(AnswerFeedback.question_id == answer_id))).scalar_one_or_none()
    if existing is None:
        session.add(AnswerFeedback(question_id=answer_id, useful=useful, at=now(), comment=_masked(comment)))
    else:
        existing.useful = useful
        existing.at = now()
        existing.comment = _masked(comment)
    await session.flush()


def _masked(comment: str) -> str:
    return mask_pii(comment[:MAX_COMMENT * 2])[:MAX_COMMENT]


async def answer_feedback(session: AsyncSession, answer_id: int) -> bool | None:
    """The feedback given on one answer: True 有用, False 没用, None not rated."""
    row = (await session.execute(
        select(AnswerFeedback.useful).where(AnswerFeedback.question_id == answer_id))).first()
    return None if row is None else bool(row[0])


async def feedback_summary(session: AsyncSession, *, policy_id: int | None = None,
                           faq_id: int | None = None) -> FeedbackSummary:
    """Counts of 有用 / 没用 over all answers, or those citing one policy or FAQ entry."""
    query = select(AnswerFeedback.useful, func.count()).join(
        QuestionLog, QuestionLog.id == AnswerFeedback.question_id).group_by(AnswerFeedback.useful)
    if policy_id is not None:
        query = query.where(QuestionLog.policy_id == policy_id)
    if faq_id is not None:
        query = query.where(QuestionLog.faq_id == faq_id)
    counts = {bool(useful): n for useful, n in (await session.execute(query)).all()}
    return FeedbackSummary(useful=counts.get(True, 0), not_useful=counts.get(False, 0))


async def top_unanswered(session: AsyncSession, limit: int = 20, *,
                         since: datetime | None = None) -> list[UnansweredQuestion]:
    """The most frequent questions we could not answer, for departments to write FAQ
    entries or policies for. Identical questions (after folding) count together."""
    query = (
        select(QuestionLog.normalized, func.count(), func.max(QuestionLog.asked_at))
        .where(QuestionLog.outcome.in_(AnswerKind.UNANSWERED), QuestionLog.normalized != "")
        .group_by(QuestionLog.normalized)
        .order_by(func.count().desc(), func.max(QuestionLog.asked_at).desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(QuestionLog.asked_at >= since)
    groups = (await session.execute(query)).all()
    result = []
    for text, count, last in groups:
        channels_query = select(QuestionLog.channel).distinct().where(
            QuestionLog.normalized == text, QuestionLog.outcome.in_(AnswerKind.UNANSWERED))
        channels = sorted(c for (c,) in (await session.execute(channels_query)).all())
        result.append(UnansweredQuestion(text=text, count=int(count), last_asked_at=last,
                                         channels=tuple(channels)))
    return result


async def feedback_by_faq(session: AsyncSession) -> dict[int, FeedbackSummary]:
    """有用 / 没用 counts of the answers each FAQ entry gave, by FAQ id (rated entries only)."""
    return await _feedback_by(session, QuestionLog.faq_id)


async def feedback_by_policy(session: AsyncSession) -> dict[int, FeedbackSummary]:
    """有用 / 没用 counts of the answers citing each policy, by policy id (rated ones only)."""
    return await _feedback_by(session, QuestionLog.policy_id)


async def _feedback_by(session: AsyncSession, column: Any) -> dict[int, FeedbackSummary]:
    query = (select(column, AnswerFeedback.useful, func.count())
             .join(QuestionLog, QuestionLog.id == AnswerFeedback.question_id)
             .where(column.is_not(None)).group_by(column, AnswerFeedback.useful))
    counts: dict[int, dict[bool, int]] = {}
    for key, useful, n in (await session.execute(query)).all():
        counts.setdefault(int(key), {})[bool(useful)] = int(n)
    return {key: FeedbackSummary(useful=c.get(True, 0), not_useful=c.get(False, 0)) for key, c in counts.items()}
