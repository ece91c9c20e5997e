"""What a contact subscribes to (topics, keywords, townships, audience, recommendations)
and how it wants deliveries (frequency, quiet hours, daily cap, pause).

Every change to what a contact matches goes through `store.keeping_index`, so the match
index never lags the tables.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import ValidationFailed
from subscriptions import contact_store, store
from subscriptions import validation as valid
from subscriptions.hubs import hubs_of_enterprise
from subscriptions.lookups import get_enterprise, get_subscriber, subscriber_row
from subscriptions.models import SubscriptionKeyword, SubscriptionTopic
from subscriptions.views import MySubscriptions, SubscriberView
from subscriptions.wording import describe

_UNSET = object()


async def subscribe_topics(session: AsyncSession, subscriber_id: int, topics: Iterable[str]) -> SubscriberView:
    codes = {valid.topic(t) for t in topics}
    sub = await subscriber_row(session, subscriber_id)
    have = set(await contact_store.topics_of(session, sub.id))
    async with store.keeping_index(session, [sub.id]):
        session.add_all(SubscriptionTopic(subscriber_id=sub.id, topic=c) for c in sorted(codes - have))
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def unsubscribe_topic(session: AsyncSession, subscriber_id: int, topic: str) -> SubscriberView:
    code = valid.topic(topic)
    sub = await subscriber_row(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        await contact_store.delete_topic(session, sub.id, code)
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def subscribe_all_topics(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    sub = await subscriber_row(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        sub.all_topics = True
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def unsubscribe_all(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    """One-step unsubscribe: no topics, keywords or recommendations any more.

    Addresses stay registered (the contact can subscribe again in the same chat)."""
    sub = await subscriber_row(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        await contact_store.clear_topics_and_keywords(session, sub.id)
        sub.all_topics = False
        sub.recommend_by_profile = False
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def add_keywords(session: AsyncSession, subscriber_id: int, keywords: Iterable[str]) -> SubscriberView:
    parsed = dict(valid.keyword(k) for k in keywords)
    sub = await subscriber_row(session, subscriber_id)
    have = set(await contact_store.keywords_of(session, sub.id))
    async with store.keeping_index(session, [sub.id]):
        session.add_all(
            SubscriptionKeyword(subscriber_id=sub.id, keyword=k, tokens=" ".join(t))
            for k, t in sorted(parsed.items())
            if k not in have
        )
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def remove_keyword(session: AsyncSession, subscriber_id: int, keyword: str) -> SubscriberView:
    sub = await subscriber_row(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        await contact_store.delete_keyword(session, sub.id, keyword.strip())
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def set_townships(session: AsyncSession, subscriber_id: int, townships: Iterable[str]) -> SubscriberView:
    """Which townships' regional policies to receive ("全部" for all); empty = the home township."""
    chosen = valid.township_criteria(townships)
    sub = await subscriber_row(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        await contact_store.replace_townships(session, sub.id, chosen)
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def set_audience(session: AsyncSession, subscriber_id: int, audience: str) -> SubscriberView:
    """Policies for enterprises, for residents, or both."""
    value = valid.audience(audience)
    sub = await subscriber_row(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        sub.audience = value
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def set_recommend_by_profile(session: AsyncSession, subscriber_id: int, enabled: bool) -> SubscriberView:
    sub = await subscriber_row(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        sub.recommend_by_profile = enabled
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def set_preferences(
    session: AsyncSession,
    subscriber_id: int,
    *,
    frequency: str | None = None,
    quiet_hours: tuple[datetime.time, datetime.time] | object | None = _UNSET,
    daily_cap: int | object | None = _UNSET,
) -> SubscriberView:
    """Frequency (immediate/daily/weekly), quiet hours (start, end; None = none), daily cap."""
    sub = await subscriber_row(session, subscriber_id)
    if frequency is not None:
        sub.frequency = valid.frequency(frequency)
    if quiet_hours is not _UNSET:
        if quiet_hours is None:
            sub.quiet_start = sub.quiet_end = None
        else:
            start, end = quiet_hours  # type: ignore[misc]
            if start == end:
                raise ValidationFailed("免打扰开始和结束时间不能相同。", field="quiet_hours")
            sub.quiet_start, sub.quiet_end = start, end
    if daily_cap is not _UNSET:
        if daily_cap is not None and (not isinstance(daily_cap, int) or daily_cap < 1):
            raise ValidationFailed("每日上限须为正整数，或不设上限。", field="daily_cap")
        sub.daily_cap = daily_cap  # type: ignore[assignment]
    sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def pause(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    sub = await subscriber_row(session, subscriber_id)
    if not sub.paused:
        sub.paused, sub.paused_at, sub.updated_at = True, now(), now()
    return await get_subscriber(session, sub.id)


async def resume(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    sub = await subscriber_row(session, subscriber_id)
    if sub.paused:
        sub.paused, sub.paused_at, sub.updated_at = False, None, now()
    return await get_subscriber(session, sub.id)


async def my_subscriptions(session: AsyncSession, subscriber_id: int) -> MySubscriptions:
    view = await get_subscriber(session, subscriber_id)
    ent = await get_enterprise(session, view.enterprise_id) if view.enterprise_id else None
    hubs = await hubs_of_enterprise(session, view.enterprise_id) if view.enterprise_id else []
    return MySubscriptions(view.id, tuple(describe(view, ent, hubs)))
