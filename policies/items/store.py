"""Every query of policy items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from policies.items.models import PolicyItem
from policies.models import Policy, PolicyEvent, PolicyStatus


async def versions_upto(session: AsyncSession, policy_id: int, revision: int) -> Sequence[PolicyItem]:
    """The item rows in force at `revision`: those of the latest item version ≤ revision."""
    latest = (
        select(func.max(PolicyItem.revision))
        .where(PolicyItem.policy_id == policy_id, PolicyItem.revision <= revision)
        .scalar_subquery()
    )
    stmt = (
        select(PolicyItem)
        .where(PolicyItem.policy_id == policy_id, PolicyItem.revision == latest)
        .order_by(PolicyItem.position)
    )
    return (await session.execute(stmt)).scalars().all()


async def item_revisions(session: AsyncSession, policy_id: int) -> list[int]:
    stmt = select(PolicyItem.revision).where(PolicyItem.policy_id == policy_id).distinct().order_by(PolicyItem.revision)
    return list((await session.execute(stmt)).scalars().all())


async def drop_version(session: AsyncSession, policy_id: int, revision: int) -> None:
    await session.execute(delete(PolicyItem).where(PolicyItem.policy_id == policy_id, PolicyItem.revision == revision))


async def live_rows(session: AsyncSession) -> Sequence[Any]:
    """(item, policy title, agency) of every item in force of every published policy."""
    latest = (
        select(PolicyItem.policy_id, func.max(PolicyItem.revision).label("revision"))
        .join(Policy, Policy.id == PolicyItem.policy_id)
        .where(Policy.status == PolicyStatus.PUBLISHED, PolicyItem.revision <= Policy.current_revision)
        .group_by(PolicyItem.policy_id)
        .subquery()
    )
    stmt = (
        select(PolicyItem, Policy.title, Policy.agency)
        .join(latest, and_(PolicyItem.policy_id == latest.c.policy_id, PolicyItem.revision == latest.c.revision))
        .join(Policy, Policy.id == PolicyItem.policy_id)
        .order_by(PolicyItem.policy_id, PolicyItem.position)
    )
    return (await session.execute(stmt)).all()


async def catalogue_stamp(session: AsyncSession) -> tuple[Any, ...]:
    """Changes whenever the live items may have. Two primary-key look-ups: every new item version
    adds rows, and every change of a live policy (publish, amend, expire, repeal) writes an
    outbox event. Replacing a draft's items adds rows too; drafts are not live anyway."""
    stmt = select(select(func.max(PolicyItem.id)).scalar_subquery(), select(func.max(PolicyEvent.id)).scalar_subquery())
    return tuple((await session.execute(stmt)).one())
