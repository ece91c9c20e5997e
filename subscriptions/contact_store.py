"""The queries about contacts: their addresses, criteria and enterprise look-ups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subscriptions.models import (
    ChannelAddress,
    Enterprise,
    Subscriber,
    SubscriptionKeyword,
    SubscriptionTopic,
    SubscriptionTownship,
)


async def address_by_channel(session: AsyncSession, channel: str, address: str) -> ChannelAddress | None:
    return (
        await session.execute(
            select(ChannelAddress).where(ChannelAddress.channel == channel, ChannelAddress.address == address)
        )
    ).scalar_one_or_none()


async def addresses_of(session: AsyncSession, subscriber_id: int) -> list[ChannelAddress]:
    stmt = select(ChannelAddress).where(ChannelAddress.subscriber_id == subscriber_id).order_by(ChannelAddress.id)
    return list((await session.execute(stmt)).scalars())


async def keyword_rows_of(session: AsyncSession, subscriber_id: int) -> list[tuple[str, str]]:
    """(keyword, tokens) of a contact, as stored (the tokens are not recomputed)."""
    stmt = select(SubscriptionKeyword.keyword, SubscriptionKeyword.tokens).where(
        SubscriptionKeyword.subscriber_id == subscriber_id
    )
    return sorted((k, t) for k, t in (await session.execute(stmt)).all())


async def subscribers_for_update(session: AsyncSession, subscriber_ids: Iterable[int]) -> dict[int, Subscriber]:
    """These contacts, freshly read and row-locked on PostgreSQL (in id order, so two
    transactions locking the same pair cannot deadlock)."""
    stmt = (
        select(Subscriber)
        .where(Subscriber.id.in_(sorted(set(subscriber_ids))))
        .order_by(Subscriber.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {s.id: s for s in (await session.execute(stmt)).scalars()}


async def move_addresses(session: AsyncSession, source_id: int, into_id: int, at: Any) -> int:
    """Every address row of `source_id` now belongs to `into_id` (ids unchanged); returns how many."""
    result = await session.execute(
        update(ChannelAddress)
        .where(ChannelAddress.subscriber_id == source_id)
        .values(subscriber_id=into_id, updated_at=at)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def clear_criteria(session: AsyncSession, subscriber_id: int) -> None:
    """Delete a contact's topic, keyword and township rows."""
    for table in (SubscriptionTopic, SubscriptionKeyword, SubscriptionTownship):
        await session.execute(delete(table).where(table.subscriber_id == subscriber_id))


async def enterprise_by_credit_code(session: AsyncSession, code: str) -> Enterprise | None:
    return (await session.execute(select(Enterprise).where(Enterprise.credit_code == code))).scalar_one_or_none()


async def topics_of(session: AsyncSession, subscriber_id: int) -> list[str]:
    stmt = select(SubscriptionTopic.topic).where(SubscriptionTopic.subscriber_id == subscriber_id)
    return sorted((await session.execute(stmt)).scalars())


async def keywords_of(session: AsyncSession, subscriber_id: int) -> list[str]:
    stmt = select(SubscriptionKeyword.keyword).where(SubscriptionKeyword.subscriber_id == subscriber_id)
    return sorted((await session.execute(stmt)).scalars())


async def townships_of(session: AsyncSession, subscriber_id: int) -> list[str]:
    stmt = select(SubscriptionTownship.township).where(SubscriptionTownship.subscriber_id == subscriber_id)
    return sorted((await session.execute(stmt)).scalars())


async def delete_topic(session: AsyncSession, subscriber_id: int, topic: str) -> None:
    await session.execute(
        delete(SubscriptionTopic).where(
            SubscriptionTopic.subscriber_id == subscriber_id, SubscriptionTopic.topic == topic
        )
    )


async def delete_keyword(session: AsyncSession, subscriber_id: int, keyword: str) -> None:
    await session.execute(
        delete(SubscriptionKeyword).where(
            SubscriptionKeyword.subscriber_id == subscriber_id, SubscriptionKeyword.keyword == keyword
        )
    )


async def clear_topics_and_keywords(session: AsyncSession, subscriber_id: int) -> None:
    for table in (SubscriptionTopic, SubscriptionKeyword):
        await session.execute(delete(table).where(table.subscriber_id == subscriber_id))


async def replace_townships(session: AsyncSession, subscriber_id: int, townships: Iterable[str]) -> None:
    """The contact's township criteria become exactly these (added in sorted order)."""
    await session.execute(delete(SubscriptionTownship).where(SubscriptionTownship.subscriber_id == subscriber_id))
    session.add_all(SubscriptionTownship(subscriber_id=subscriber_id, township=t) for t in sorted(townships))
