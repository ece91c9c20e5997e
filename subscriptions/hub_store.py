"""The queries about hubs (parks and associations): members, operators, look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from subscriptions.models import Enterprise, Hub, HubMember, Subscriber
from subscriptions.store import chunks


async def hub_members_with_profile(session: AsyncSession, hub_ids: Sequence[int] | None = None) -> list[Any]:
    """(hub_id, enterprise_id, township, industry) of hub members."""
    stmt = select(HubMember.hub_id, Enterprise.id, Enterprise.township, Enterprise.industry).join(
        Enterprise, Enterprise.id == HubMember.enterprise_id
    )
    if hub_ids is not None:
        stmt = stmt.where(HubMember.hub_id.in_(hub_ids))
    return list((await session.execute(stmt)).all())


async def hub_by_join_code(session: AsyncSession, code: str) -> Hub | None:
    return (await session.execute(select(Hub).where(Hub.join_code == code))).scalar_one_or_none()


async def hub_by_name(session: AsyncSession, name: str) -> Hub | None:
    return (await session.execute(select(Hub).where(Hub.name == name))).scalar_one_or_none()


async def hubs_of_enterprise(session: AsyncSession, enterprise_id: int) -> list[Hub]:
    stmt = (
        select(Hub)
        .join(HubMember, HubMember.hub_id == Hub.id)
        .where(HubMember.enterprise_id == enterprise_id)
        .order_by(Hub.id)
    )
    return list((await session.execute(stmt)).scalars())


async def member_enterprises(session: AsyncSession, hub_id: int) -> list[Enterprise]:
    stmt = (
        select(Enterprise)
        .join(HubMember, HubMember.enterprise_id == Enterprise.id)
        .where(HubMember.hub_id == hub_id)
        .order_by(Enterprise.id)
    )
    return list((await session.execute(stmt)).scalars())


async def remove_member(session: AsyncSession, hub_id: int, enterprise_id: int) -> None:
    await session.execute(delete(HubMember).where(HubMember.hub_id == hub_id, HubMember.enterprise_id == enterprise_id))


async def hub_contacts(session: AsyncSession, hub_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(subscriber_id, hub_id) of the operators of these hubs."""
    rows: list[tuple[int, int]] = []
    for part in chunks(sorted(hub_ids)):
        stmt = select(Subscriber.id, Subscriber.hub_id).where(Subscriber.kind == "hub", Subscriber.hub_id.in_(part))
        rows += [(int(sid), int(hid)) for sid, hid in await session.execute(stmt)]
    return rows
