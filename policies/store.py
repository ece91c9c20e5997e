"""Every query of the policy library lives here; `lifecycle` and `service` call these."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from policies.models import Interpretation, Policy, PolicyEvent, PolicyHistory, PolicyRevision, ReviewAction


async def policy_for_update(session: AsyncSession, policy_id: int) -> Policy:
    stmt = select(Policy).where(Policy.id == policy_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    policy = (await session.execute(stmt)).scalar_one_or_none()
    if policy is None:
        raise NotFound(f"政策 {policy_id} 不存在", field="policy_id")
    return policy


async def policy_by_id(session: AsyncSession, policy_id: int) -> Policy:
    policy = await session.get(Policy, policy_id)
    if policy is None:
        raise NotFound(f"政策 {policy_id} 不存在", field="policy_id")
    return policy


async def policy_by_doc_no(session: AsyncSession, doc_no: str) -> Policy | None:
    return (await session.execute(select(Policy).where(Policy.doc_no == doc_no))).scalar_one_or_none()


async def policy_by_title(session: AsyncSession, title: str, agency: str) -> Policy | None:
    stmt = select(Policy).where(Policy.title == title, Policy.agency == agency).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def revision(session: AsyncSession, policy_id: int, number: int) -> PolicyRevision:
    stmt = select(PolicyRevision).where(PolicyRevision.policy_id == policy_id, PolicyRevision.number == number)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"政策 {policy_id} 没有第 {number} 版", field="revision")
    return found


async def revisions(session: AsyncSession, policy_id: int) -> Sequence[PolicyRevision]:
    stmt = select(PolicyRevision).where(PolicyRevision.policy_id == policy_id).order_by(PolicyRevision.number)
    return (await session.execute(stmt)).scalars().all()


async def interpretation(session: AsyncSession, policy_id: int) -> Interpretation | None:
    stmt = select(Interpretation).where(Interpretation.policy_id == policy_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def events_after(session: AsyncSession, after_id: int, limit: int) -> Sequence[PolicyEvent]:
    stmt = select(PolicyEvent).where(PolicyEvent.id > after_id).order_by(PolicyEvent.id).limit(limit)
    return (await session.execute(stmt)).scalars().all()


async def history(session: AsyncSession, policy_id: int) -> Sequence[PolicyHistory]:
    stmt = select(PolicyHistory).where(PolicyHistory.policy_id == policy_id).order_by(PolicyHistory.id)
    return (await session.execute(stmt)).scalars().all()


async def reviews(session: AsyncSession, policy_id: int) -> Sequence[ReviewAction]:
    stmt = select(ReviewAction).where(ReviewAction.policy_id == policy_id).order_by(ReviewAction.id)
    return (await session.execute(stmt)).scalars().all()


async def list_policies(
    session: AsyncSession,
    *,
    statuses: Sequence[str] | None = None,
    agency: str | None = None,
    year: int | None = None,
    topic: str | None = None,
    audience: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[Policy], int]:
    stmt = select(Policy)
    if statuses:
        stmt = stmt.where(Policy.status.in_(statuses))
    if agency:
        stmt = stmt.where(Policy.agency == agency)
    if year:
        stmt = stmt.where(Policy.doc_year == year)
    if audience:
        stmt = stmt.where(Policy.audience.in_([audience, "both"]))
    rows = (await session.execute(stmt.order_by(Policy.id.desc()))).scalars().all()
    # Topic lists are JSON; filtering them in Python keeps the SQL portable and the
    # library is small (thousands of rows), unlike the subscriber tables.
    if topic:
        rows = [p for p in rows if topic in (p.topics or [])]
    return rows[offset : offset + limit], len(rows)

