"""Registering contacts (residents, enterprise contacts), their profiles and channel addresses.

Chats that name an existing enterprise go through `claims`; staff and registries use these.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import Conflict, ValidationFailed
from subscriptions import claims, contact_store, store
from subscriptions import validation as valid
from subscriptions.lookups import (
    address_row,
    address_view,
    enterprise_row,
    enterprise_view,
    get_subscriber,
    subscriber_row,
)
from subscriptions.models import ChannelAddress, Enterprise, Frequency, InactiveReason, Subscriber, SubscriberKind
from subscriptions.views import AddressView, EnterpriseView, SubscriberView


def new_subscriber(kind: str, display_name: str, **fields: object) -> Subscriber:
    at = now()
    default_audience = "resident" if kind == SubscriberKind.RESIDENT else "enterprise"
    return Subscriber(
        kind=kind,
        display_name=display_name[:120],
        township=fields.pop("township", ""),
        groups=fields.pop("groups", []),
        audience=default_audience,
        all_topics=False,
        recommend_by_profile=False,
        frequency=Frequency.IMMEDIATE,
        paused=False,
        created_at=at,
        updated_at=at,
        **fields,
    )


async def attach_address(session: AsyncSession, sub: Subscriber, channel: str, address: str) -> ChannelAddress:
    channel, address = valid.channel(channel), valid.address(address)
    existing = await contact_store.address_by_channel(session, channel, address)
    if existing is not None:
        if existing.subscriber_id != sub.id:
            raise Conflict("这个渠道地址已登记在另一位订阅者名下。", field="address")
        return existing
    at = now()
    row = ChannelAddress(
        subscriber_id=sub.id,
        channel=channel,
        address=address,
        active=True,
        inactive_reason="",
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    await session.flush()
    return row


async def create_resident(
    session: AsyncSession,
    *,
    display_name: str = "",
    township: str = "",
    groups: Iterable[str] = (),
    channel: str | None = None,
    address: str | None = None,
) -> SubscriberView:
    sub = new_subscriber(
        SubscriberKind.RESIDENT,
        display_name,
        township=valid.township(township),
        groups=valid.eligibility(groups, "resident", field="groups"),
    )
    session.add(sub)
    await session.flush()
    if channel and address:
        await attach_address(session, sub, channel, address)
    return await get_subscriber(session, sub.id)


async def set_resident_profile(
    session: AsyncSession, subscriber_id: int, *, township: str | None = None, groups: Iterable[str] | None = None
) -> SubscriberView:
    sub = await subscriber_row(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        if township is not None:
            sub.township = valid.township(township)
        if groups is not None:
            sub.groups = valid.eligibility(groups, "resident", field="groups")
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def save_enterprise(
    session: AsyncSession,
    *,
    name: str,
    credit_code: str | None = None,
    industry: str = "",
    size: str = "",
    qualifications: Iterable[str] = (),
    township: str = "",
) -> EnterpriseView:
    """Create an enterprise, or update the one with this credit code (idempotent).

    For staff and registries (console, API, import, demo): the enterprise is verified. Chats
    use `register_from_chat`, which never changes an existing enterprise."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("企业名称不能为空。", field="name")
    code = valid.credit_code(credit_code) if credit_code else None
    fields = {
        "name": name[:200],
        "industry": valid.industry(industry),
        "size": valid.size(size),
        "qualifications": valid.eligibility(qualifications, "enterprise", field="qualifications"),
        "township": valid.township(township),
        "verified": True,
    }
    ent = await contact_store.enterprise_by_credit_code(session, code) if code else None
    if ent is None:
        at = now()
        ent = Enterprise(credit_code=code, created_at=at, updated_at=at, **fields)
        session.add(ent)
        await session.flush()
        return enterprise_view(ent)
    first_named_in_a_chat = not ent.verified
    view = await claims.apply_profile_changes(session, ent, fields)
    if first_named_in_a_chat:
        await claims.detach_unverified_contacts(session, ent.id)
    return view


async def update_enterprise(
    session: AsyncSession,
    enterprise_id: int,
    *,
    name: str | None = None,
    industry: str | None = None,
    size: str | None = None,
    qualifications: Iterable[str] | None = None,
    township: str | None = None,
) -> EnterpriseView:
    """Change the shared profile; every contact of the enterprise sees the change."""
    ent = await enterprise_row(session, enterprise_id)
    fields: dict[str, object] = {}
    if name is not None:
        fields["name"] = name.strip()[:200] or ent.name
    fields.update(claims.profile_fields(industry=industry, size=size, qualifications=qualifications, township=township))
    return await claims.apply_profile_changes(session, ent, fields)


async def add_enterprise_contact(
    session: AsyncSession, enterprise_id: int, *, channel: str, address: str, display_name: str = ""
) -> SubscriberView:
    """A contact person of an enterprise (owner, finance officer…), sharing its profile.

    Idempotent: an address already registered for a contact of this enterprise returns it."""
    ent = await enterprise_row(session, enterprise_id)
    existing = await contact_store.address_by_channel(session, valid.channel(channel), valid.address(address))
    if existing is not None:
        owner = await subscriber_row(session, existing.subscriber_id)
        if owner.enterprise_id != ent.id:
            raise Conflict("这个渠道地址已登记在另一位订阅者名下。", field="address")
        return await get_subscriber(session, owner.id)
    sub = new_subscriber(SubscriberKind.ENTERPRISE, display_name, enterprise_id=ent.id)
    session.add(sub)
    await session.flush()
    await attach_address(session, sub, channel, address)
    return await get_subscriber(session, sub.id)


async def attach_to_enterprise(
    session: AsyncSession, subscriber_id: int, enterprise_id: int, *, contact_verified: bool = True
) -> SubscriberView:
    """Make a (resident) contact a contact of an enterprise on staff's authority (console, API).

    Chats never call this for an existing enterprise: see `register_from_chat` and claims."""
    sub = await subscriber_row(session, subscriber_id)
    await enterprise_row(session, enterprise_id)
    await claims.link_contact(session, sub, enterprise_id, verified=contact_verified)
    return await get_subscriber(session, sub.id)


async def ensure_subscriber_for_address(
    session: AsyncSession, channel: str, address: str, *, kind: str = "resident", display_name: str = ""
) -> SubscriberView:
    """The contact behind a chat address, created on first contact (a bot's /start).

    Idempotent; an address deactivated earlier (blocked, unsubscribed) becomes active again,
    because the person has just written to us."""
    channel, address = valid.channel(channel), valid.address(address)
    existing = await contact_store.address_by_channel(session, channel, address)
    if existing is not None:
        if not existing.active:
            set_active(existing, True, "")
        return await get_subscriber(session, existing.subscriber_id)
    if kind not in (SubscriberKind.RESIDENT, SubscriberKind.ENTERPRISE):
        raise ValidationFailed("只能这样登记居民或企业联系人。", field="kind")
    if kind == SubscriberKind.ENTERPRISE:
        sub = new_subscriber(kind, display_name)
        sub.audience = "enterprise"
    else:
        sub = new_subscriber(kind, display_name)
    session.add(sub)
    await session.flush()
    await attach_address(session, sub, channel, address)
    return await get_subscriber(session, sub.id)


# --- addresses --------------------------------------------------------------------------


def set_active(row: ChannelAddress, active: bool, reason: str) -> None:
    at = now()
    row.active = active
    row.inactive_reason = "" if active else reason
    row.inactive_at = None if active else at
    row.updated_at = at


async def add_address(session: AsyncSession, subscriber_id: int, channel: str, address: str) -> AddressView:
    sub = await subscriber_row(session, subscriber_id)
    return address_view(await attach_address(session, sub, channel, address))


async def deactivate_address(session: AsyncSession, address_id: int, reason: str) -> None:
    """Stop sending to an address (reason: blocked, unsubscribed, bad_address…); idempotent."""
    row = await address_row(session, address_id)
    if row.active:
        set_active(row, False, reason[:40] or InactiveReason.BAD_ADDRESS)


async def replace_address(session: AsyncSession, address_id: int, new_address: str) -> None:
    """The platform moved the chat (Telegram group → supergroup): keep the contact, new id.

    If the new address is already registered (a second contact), the old row is retired
    instead so that the unique (channel, address) holds."""
    row = await address_row(session, address_id)
    new_address = valid.address(new_address)
    if row.address == new_address:
        return
    clash = await contact_store.address_by_channel(session, row.channel, new_address)
    if clash is not None:
        set_active(row, False, InactiveReason.REPLACED)
        if not clash.active:
            set_active(clash, True, "")
        return
    row.address = new_address
    row.updated_at = now()
