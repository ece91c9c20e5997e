"""The audience's queries: index rows a policy hits, reachable addresses, the population.

`audience.py` turns these rows into recipients; the recipients in bulk are read through the
driver in `store.reachable_rows` instead, where the ORM's per-row work would dominate.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from subscriptions.matching import PolicyQuery
from subscriptions.models import ChannelAddress, Enterprise, MatchKey, Subscriber


def _index_conditions(q: PolicyQuery) -> list[Any]:
    conditions: list[Any] = [MatchKey.key.in_(q.keys)]
    if q.townships is not None:
        conditions.append(MatchKey.township.in_(q.townships))
    if q.audiences is not None:
        conditions.append(MatchKey.audience.in_(q.audiences))
    if q.industries:
        conditions.append(or_(MatchKey.kind != "e", MatchKey.industry == "", MatchKey.industry.in_(q.industries)))
    return conditions


async def match_index(session: AsyncSession, q: PolicyQuery) -> list[tuple[str, int, str, str, str, str]]:
    """(key, subscriber_id, detail, rest, kind, industry) of every index row the policy hits."""
    stmt = select(
        MatchKey.key, MatchKey.subscriber_id, MatchKey.detail, MatchKey.rest, MatchKey.kind, MatchKey.industry
    ).where(*_index_conditions(q))
    return [tuple(r) for r in (await session.execute(stmt)).all()]  # type: ignore[misc]


RECIPIENT_COLUMNS = (
    Subscriber.id.label("subscriber_id"),
    Subscriber.kind.label("kind"),
    Subscriber.hub_id.label("hub_id"),
    Subscriber.enterprise_id.label("enterprise_id"),
    Subscriber.township.label("own_township"),
    Subscriber.groups.label("groups"),
    Subscriber.frequency.label("frequency"),
    Subscriber.quiet_start.label("quiet_start"),
    Subscriber.quiet_end.label("quiet_end"),
    Subscriber.daily_cap.label("daily_cap"),
    Subscriber.paused.label("paused"),
    Enterprise.qualifications.label("qualifications"),
    Enterprise.size.label("size"),
    Enterprise.industry.label("industry"),
    Enterprise.township.label("enterprise_township"),
    ChannelAddress.id.label("address_id"),
    ChannelAddress.channel.label("channel"),
    ChannelAddress.address.label("address"),
    Enterprise.verified.label("enterprise_verified"),
)


def _reachable(stmt: Any) -> Any:
    return (
        stmt.join(ChannelAddress, and_(ChannelAddress.subscriber_id == Subscriber.id, ChannelAddress.active.is_(True)))
        .outerjoin(Enterprise, Enterprise.id == Subscriber.enterprise_id)
        .where(Subscriber.paused.is_(False))
    )


async def reachable_addresses(session: AsyncSession, *conditions: Any) -> list[Any]:
    stmt = _reachable(select(*RECIPIENT_COLUMNS).where(*conditions))
    return list((await session.execute(stmt.order_by(Subscriber.id, ChannelAddress.id))).all())


async def population(session: AsyncSession) -> tuple[list[Any], list[Any]]:
    """Enterprises and residents with a flag 'reachable' (for coverage in a dry run)."""
    reachable_sub = (
        select(ChannelAddress.subscriber_id)
        .join(Subscriber, Subscriber.id == ChannelAddress.subscriber_id)
        .where(ChannelAddress.active.is_(True), Subscriber.paused.is_(False))
    )
    reachable_ent = select(Subscriber.enterprise_id).where(Subscriber.id.in_(reachable_sub))
    enterprises = (
        await session.execute(
            select(
                Enterprise.id,
                Enterprise.township,
                Enterprise.industry,
                Enterprise.qualifications,
                Enterprise.size,
                Enterprise.id.in_(reachable_ent),
            )
        )
    ).all()
    residents = (
        await session.execute(
            select(Subscriber.id, Subscriber.township, Subscriber.groups, Subscriber.id.in_(reachable_sub)).where(
                Subscriber.kind == "resident"
            )
        )
    ).all()
    return list(enterprises), list(residents)
