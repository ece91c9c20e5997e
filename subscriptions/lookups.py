"""Reading one contact, enterprise, hub or address by id, as a view (or the row, for writers).

A missing row raises `NotFound` with a Chinese message naming the field.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from subscriptions import contact_store, store
from subscriptions.claims import is_known_to_county
from subscriptions.models import ChannelAddress, Enterprise, Hub, Subscriber
from subscriptions.views import AddressView, DeliveryPreference, EnterpriseView, HubView, SubscriberView

_Row = TypeVar("_Row")


def address_view(a: ChannelAddress) -> AddressView:
    return AddressView(a.id, a.subscriber_id, a.channel, a.address, a.active, a.inactive_reason, a.inactive_at)


def enterprise_view(e: Enterprise) -> EnterpriseView:
    return EnterpriseView(
        e.id, e.name, e.credit_code, e.industry, e.size, tuple(e.qualifications or ()), e.township, e.verified
    )


def hub_view(h: Hub) -> HubView:
    return HubView(h.id, h.name, h.kind, h.township, h.join_code)


def preference_of(sub: Subscriber) -> DeliveryPreference:
    return DeliveryPreference(sub.frequency, sub.quiet_start, sub.quiet_end, sub.daily_cap, sub.paused)


async def get_subscriber(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    sub = await subscriber_row(session, subscriber_id)
    ent = await session.get(Enterprise, sub.enterprise_id) if sub.enterprise_id else None
    return SubscriberView(
        id=sub.id,
        kind=sub.kind,
        display_name=sub.display_name,
        enterprise_id=sub.enterprise_id,
        hub_id=sub.hub_id,
        township=store.home_township(sub, ent),
        groups=tuple(sub.groups or ()),
        audience=sub.audience,
        all_topics=sub.all_topics,
        recommend_by_profile=sub.recommend_by_profile,
        topics=tuple(await contact_store.topics_of(session, sub.id)),
        keywords=tuple(await contact_store.keywords_of(session, sub.id)),
        townships=tuple(await contact_store.townships_of(session, sub.id)),
        preference=preference_of(sub),
        addresses=tuple(address_view(a) for a in await contact_store.addresses_of(session, sub.id)),
        merged_into=sub.merged_into,
    )


async def _row(session: AsyncSession, model: type[_Row], row_id: int, message: str, field: str) -> _Row:
    row = await session.get(model, row_id)
    if row is None:
        raise NotFound(message, field=field)
    return row


async def subscriber_row(session: AsyncSession, subscriber_id: int) -> Subscriber:
    return await _row(session, Subscriber, subscriber_id, "找不到这位订阅者。", "subscriber_id")


async def enterprise_row(session: AsyncSession, enterprise_id: int) -> Enterprise:
    return await _row(session, Enterprise, enterprise_id, "找不到这家企业。", "enterprise_id")


async def hub_row(session: AsyncSession, hub_id: int) -> Hub:
    return await _row(session, Hub, hub_id, "找不到这个园区或协会。", "hub_id")


async def get_enterprise(session: AsyncSession, enterprise_id: int) -> EnterpriseView:
    return enterprise_view(await enterprise_row(session, enterprise_id))


async def enterprise_is_verified(session: AsyncSession, enterprise_id: int) -> bool:
    """Whether the enterprise is known to the county (see `is_known_to_county`)."""
    return is_known_to_county(await get_enterprise(session, enterprise_id))


async def get_hub(session: AsyncSession, hub_id: int) -> HubView:
    return hub_view(await hub_row(session, hub_id))


async def address_row(session: AsyncSession, address_id: int) -> ChannelAddress:
    return await _row(session, ChannelAddress, address_id, "找不到这个渠道地址。", "address_id")


async def get_address(session: AsyncSession, address_id: int) -> AddressView:
    return address_view(await address_row(session, address_id))


async def find_address(session: AsyncSession, channel: str, address: str) -> AddressView | None:
    row = await contact_store.address_by_channel(session, channel, address.strip())
    return address_view(row) if row else None
