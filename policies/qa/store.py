"""Queries of Q&A: reading released policies with their stored tokens, and FAQ rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from policies.models import Interpretation, Policy, PolicyEvent, PolicyRevision, PolicyStatus
from policies.qa.cards import PolicyCard
from policies.qa.models import FaqEntry
from policies.qa.views import FaqView


async def load_policy_cards(session: AsyncSession, policy_ids: Sequence[int] | None = None) -> list[PolicyCard]:
    """Released policies (published, expired, repealed) with their current revision and
    interpretation. Columns only, no ORM objects: this is the start-up path for 10k rows."""
    query = (
        select(
            Policy.id, Policy.title, Policy.doc_no, Policy.agency, Policy.status, Policy.keywords,
            Policy.topics, Policy.audience, Policy.doc_year, Policy.issued_on,
            PolicyRevision.body, PolicyRevision.tokens,
            Interpretation.elements, Interpretation.tokens.label("interpretation_tokens"),
        )
        .join(PolicyRevision, and_(PolicyRevision.policy_id == Policy.id,
                                   PolicyRevision.number == Policy.current_revision))
        .outerjoin(Interpretation, Interpretation.policy_id == Policy.id)
        .where(Policy.status.in_(PolicyStatus.RELEASED))
        .order_by(Policy.id)
    )
    if policy_ids is not None:
        query = query.where(Policy.id.in_(list(policy_ids)))
    rows = (await session.execute(query)).all()
    return [
        PolicyCard(
            policy_id=row.id, title=row.title, doc_no=row.doc_no, agency=row.agency, status=row.status,
            body=row.body or "", revision_tokens=row.tokens or "",
            elements={k: v for k, v in (row.elements or {}).items() if isinstance(v, str)},
            interpretation_tokens=row.interpretation_tokens or "", keywords=tuple(row.keywords or ()),
            topics=tuple(row.topics or ()), audience=row.audience or "",
            year=row.doc_year or (row.issued_on.year if row.issued_on else None),
        )
        for row in rows
    ]


async def policy_exists(session: AsyncSession, policy_id: int) -> bool:
    return (await session.execute(select(Policy.id).where(Policy.id == policy_id))).first() is not None


def faq_view(entry: FaqEntry) -> FaqView:
    return FaqView(
        id=entry.id, question=entry.question, variants=tuple(entry.variants or ()), answer=entry.answer,
        policy_ids=tuple(entry.policy_ids or ()), department=entry.department, updated_at=entry.updated_at,
        phrasing_tokens=tuple(tuple(line.split()) for line in (entry.tokens or "").split("\n")),
    )


async def load_faqs(session: AsyncSession) -> list[FaqView]:
    rows = (await session.execute(select(FaqEntry).order_by(FaqEntry.id))).scalars().all()
    return [faq_view(row) for row in rows]


async def faq_by_id(session: AsyncSession, faq_id: int) -> FaqEntry | None:
    return await session.get(FaqEntry, faq_id)


async def faq_by_question(session: AsyncSession, question: str) -> FaqEntry | None:
    return (await session.execute(select(FaqEntry).where(FaqEntry.question == question))).scalar_one_or_none()


async def latest_event_id(session: AsyncSession) -> int:
    return int((await session.execute(select(func.max(PolicyEvent.id)))).scalar() or 0)


async def latest_interpretation_change(session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.max(Interpretation.updated_at)))).scalar()


async def interpretations_changed_since(session: AsyncSession,
                                        since: datetime | None) -> list[tuple[int, datetime]]:
    """(policy id, updated_at) of interpretations of released policies saved at or after `since`
    (all when None), oldest first. Saving an interpretation emits no outbox event."""
    query = (select(Interpretation.policy_id, Interpretation.updated_at)
             .join(Policy, Policy.id == Interpretation.policy_id)
             .where(Policy.status.in_(PolicyStatus.RELEASED))
             .order_by(Interpretation.updated_at, Interpretation.policy_id))
    if since is not None:
        query = query.where(Interpretation.updated_at >= since)
    return [(int(pid), at) for pid, at in (await session.execute(query)).all()]


async def faq_state(session: AsyncSession) -> tuple[int, int, str]:
    """(count, largest id, latest change) of the FAQ table: changes when an entry is added,
    edited or deleted, so a follower reloads FAQ rows only then."""
    count, last_id, last_change = (await session.execute(
        select(func.count(), func.max(FaqEntry.id), func.max(FaqEntry.updated_at)))).one()
    return int(count), int(last_id or 0), str(last_change)
