"""The door to the subscriptions package: subscribers, criteria, preferences, addresses,
hubs, and who gets a policy (`audience`, `members_in_scope`, `dry_run`).

Every function takes an open session (a unit of work) and leaves committing to the caller.
Inputs in codes or Chinese names are accepted; bad input raises `ValidationFailed` with a
Chinese message naming the field. Every change to what a contact matches goes through
`store.keeping_index`, so the match index never lags the tables.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.db import Database
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from subscriptions import claims, store
from subscriptions import validation as valid
from subscriptions.audience import (
    audience,
    audience_chunks,
    audience_groups,
    dry_run,
    match_subscriber_ids,
    members_in_scope,
    reachable_addresses_sql,
)
from subscriptions.claims import (
    Approver,
    ChatRegistration,
    ClaimView,
    IssuedInvite,
    claims_for,
    decide_claim,
    get_claim,
    is_known_to_county,
    looks_like_invite,
    register_from_chat,
    update_profile_as_contact,
)
from subscriptions.claims import issue_invite as issue_enterprise_invite
from subscriptions.claims import redeem_invite as redeem_enterprise_invite
from subscriptions.match_index import live as match_index
from subscriptions.models import (
    ChannelAddress,
    Enterprise,
    Frequency,
    Hub,
    HubMember,
    InactiveReason,
    Subscriber,
    SubscriberKind,
    SubscriptionKeyword,
    SubscriptionTopic,
    SubscriptionTownship,
)
from subscriptions.views import (
    AddressView,
    AudienceSlice,
    ChannelName,
    DeliveryPreference,
    DryRun,
    EnterpriseView,
    HubView,
    ImportReport,
    MySubscriptions,
    Recipient,
    RecipientGroup,
    RecipientRole,
    SubscriberView,
)
from subscriptions.wording import describe
from vocabulary import taxonomy

__all__ = [
    "AddressView",
    "Approver",
    "AudienceSlice",
    "ChannelName",
    "ChatRegistration",
    "ClaimView",
    "DeliveryPreference",
    "DryRun",
    "EnterpriseView",
    "HubView",
    "ImportReport",
    "InactiveReason",
    "IssuedInvite",
    "MySubscriptions",
    "Recipient",
    "RecipientGroup",
    "RecipientRole",
    "SubscriberView",
    "add_address",
    "add_enterprise_contact",
    "add_hub_contact",
    "add_hub_member",
    "add_keywords",
    "attach_to_enterprise",
    "audience",
    "audience_chunks",
    "audience_groups",
    "claims_for",
    "create_hub",
    "create_resident",
    "deactivate_address",
    "decide_claim",
    "dry_run",
    "ensure_subscriber_for_address",
    "enterprise_is_verified",
    "find_address",
    "find_hub_by_invite",
    "get_address",
    "get_claim",
    "get_enterprise",
    "get_hub",
    "get_subscriber",
    "hub_members",
    "hubs_of_enterprise",
    "import_subscribers",
    "is_known_to_county",
    "issue_enterprise_invite",
    "join_hub",
    "looks_like_invite",
    "match_subscriber_ids",
    "members_in_scope",
    "merge_subscribers",
    "my_subscriptions",
    "parse_invite_payload",
    "pause",
    "reachable_addresses_sql",
    "reactivate_address",
    "rebuild_match_index",
    "redeem_enterprise_invite",
    "register_from_chat",
    "remove_hub_member",
    "remove_keyword",
    "replace_address",
    "resume",
    "save_enterprise",
    "set_audience",
    "set_preferences",
    "set_recommend_by_profile",
    "set_resident_profile",
    "set_townships",
    "subscribe_all_topics",
    "subscribe_topics",
    "unsubscribe_all",
    "unsubscribe_topic",
    "update_enterprise",
    "update_profile_as_contact",
    "warm_up_match_index",
]

_Row = TypeVar("_Row")

INVITE_PREFIX = "hub-"
_UNSET = object()


# --- views ------------------------------------------------------------------------------


def _address_view(a: ChannelAddress) -> AddressView:
    return AddressView(a.id, a.subscriber_id, a.channel, a.address, a.active, a.inactive_reason, a.inactive_at)


def _enterprise_view(e: Enterprise) -> EnterpriseView:
    return EnterpriseView(
        e.id, e.name, e.credit_code, e.industry, e.size, tuple(e.qualifications or ()), e.township, e.verified
    )


def _hub_view(h: Hub) -> HubView:
    return HubView(h.id, h.name, h.kind, h.township, h.join_code)


def preference_of(sub: Subscriber) -> DeliveryPreference:
    return DeliveryPreference(sub.frequency, sub.quiet_start, sub.quiet_end, sub.daily_cap, sub.paused)


async def get_subscriber(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    sub = await _subscriber(session, subscriber_id)
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
        topics=tuple(await store.topics_of(session, sub.id)),
        keywords=tuple(await store.keywords_of(session, sub.id)),
        townships=tuple(await store.townships_of(session, sub.id)),
        preference=preference_of(sub),
        addresses=tuple(_address_view(a) for a in await store.addresses_of(session, sub.id)),
        merged_into=sub.merged_into,
    )


async def _row(session: AsyncSession, model: type[_Row], row_id: int, message: str, field: str) -> _Row:
    row = await session.get(model, row_id)
    if row is None:
        raise NotFound(message, field=field)
    return row


async def _subscriber(session: AsyncSession, subscriber_id: int) -> Subscriber:
    return await _row(session, Subscriber, subscriber_id, "找不到这位订阅者。", "subscriber_id")


async def _enterprise(session: AsyncSession, enterprise_id: int) -> Enterprise:
    return await _row(session, Enterprise, enterprise_id, "找不到这家企业。", "enterprise_id")


async def _hub(session: AsyncSession, hub_id: int) -> Hub:
    return await _row(session, Hub, hub_id, "找不到这个园区或协会。", "hub_id")


async def get_enterprise(session: AsyncSession, enterprise_id: int) -> EnterpriseView:
    return _enterprise_view(await _enterprise(session, enterprise_id))


async def enterprise_is_verified(session: AsyncSession, enterprise_id: int) -> bool:
    """Whether the enterprise is known to the county (see `is_known_to_county`)."""
    return is_known_to_county(await get_enterprise(session, enterprise_id))


async def get_hub(session: AsyncSession, hub_id: int) -> HubView:
    return _hub_view(await _hub(session, hub_id))


# --- subscribers and profiles -----------------------------------------------------------


def _new_subscriber(kind: str, display_name: str, **fields: object) -> Subscriber:
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


async def _attach_address(session: AsyncSession, sub: Subscriber, channel: str, address: str) -> ChannelAddress:
    channel, address = valid.channel(channel), valid.address(address)
    existing = await store.address_by_channel(session, channel, address)
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
    sub = _new_subscriber(
        SubscriberKind.RESIDENT,
        display_name,
        township=valid.township(township),
        groups=valid.eligibility(groups, "resident", field="groups"),
    )
    session.add(sub)
    await session.flush()
    if channel and address:
        await _attach_address(session, sub, channel, address)
    return await get_subscriber(session, sub.id)


async def set_resident_profile(
    session: AsyncSession, subscriber_id: int, *, township: str | None = None, groups: Iterable[str] | None = None
) -> SubscriberView:
    sub = await _subscriber(session, subscriber_id)
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
    ent = await store.enterprise_by_credit_code(session, code) if code else None
    if ent is None:
        at = now()
        ent = Enterprise(credit_code=code, created_at=at, updated_at=at, **fields)
        session.add(ent)
        await session.flush()
        return _enterprise_view(ent)
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
    ent = await _enterprise(session, enterprise_id)
    fields: dict[str, object] = {}
    if name is not None:
        fields["name"] = name.strip()[:200] or ent.name
    fields.update(claims.profile_fields(industry=industry, size=size, qualifications=qualifications,
                                        township=township))
    return await claims.apply_profile_changes(session, ent, fields)


async def add_enterprise_contact(
    session: AsyncSession, enterprise_id: int, *, channel: str, address: str, display_name: str = ""
) -> SubscriberView:
    """A contact person of an enterprise (owner, finance officer…), sharing its profile.

    Idempotent: an address already registered for a contact of this enterprise returns it."""
    ent = await _enterprise(session, enterprise_id)
    existing = await store.address_by_channel(session, valid.channel(channel), valid.address(address))
    if existing is not None:
        owner = await _subscriber(session, existing.subscriber_id)
        if owner.enterprise_id != ent.id:
            raise Conflict("这个渠道地址已登记在另一位订阅者名下。", field="address")
        return await get_subscriber(session, owner.id)
    sub = _new_subscriber(SubscriberKind.ENTERPRISE, display_name, enterprise_id=ent.id)
    session.add(sub)
    await session.flush()
    await _attach_address(session, sub, channel, address)
    return await get_subscriber(session, sub.id)


async def attach_to_enterprise(
    session: AsyncSession, subscriber_id: int, enterprise_id: int, *, contact_verified: bool = True
) -> SubscriberView:
    """Make a (resident) contact a contact of an enterprise on staff's authority (console, API).

    Chats never call this for an existing enterprise: see `register_from_chat` and claims."""
    sub = await _subscriber(session, subscriber_id)
    await _enterprise(session, enterprise_id)
    await claims.link_contact(session, sub, enterprise_id, verified=contact_verified)
    return await get_subscriber(session, sub.id)


async def ensure_subscriber_for_address(
    session: AsyncSession, channel: str, address: str, *, kind: str = "resident", display_name: str = ""
) -> SubscriberView:
    """The contact behind a chat address, created on first contact (a bot's /start).

    Idempotent; an address deactivated earlier (blocked, unsubscribed) becomes active again,
    because the person has just written to us."""
    channel, address = valid.channel(channel), valid.address(address)
    existing = await store.address_by_channel(session, channel, address)
    if existing is not None:
        if not existing.active:
            _set_active(existing, True, "")
        return await get_subscriber(session, existing.subscriber_id)
    if kind not in (SubscriberKind.RESIDENT, SubscriberKind.ENTERPRISE):
        raise ValidationFailed("只能这样登记居民或企业联系人。", field="kind")
    if kind == SubscriberKind.ENTERPRISE:
        sub = _new_subscriber(kind, display_name)
        sub.audience = "enterprise"
    else:
        sub = _new_subscriber(kind, display_name)
    session.add(sub)
    await session.flush()
    await _attach_address(session, sub, channel, address)
    return await get_subscriber(session, sub.id)


# --- addresses --------------------------------------------------------------------------


def _set_active(row: ChannelAddress, active: bool, reason: str) -> None:
    at = now()
    row.active = active
    row.inactive_reason = "" if active else reason
    row.inactive_at = None if active else at
    row.updated_at = at


async def _address(session: AsyncSession, address_id: int) -> ChannelAddress:
    return await _row(session, ChannelAddress, address_id, "找不到这个渠道地址。", "address_id")


async def get_address(session: AsyncSession, address_id: int) -> AddressView:
    return _address_view(await _address(session, address_id))


async def find_address(session: AsyncSession, channel: str, address: str) -> AddressView | None:
    row = await store.address_by_channel(session, channel, address.strip())
    return _address_view(row) if row else None


async def add_address(session: AsyncSession, subscriber_id: int, channel: str, address: str) -> AddressView:
    sub = await _subscriber(session, subscriber_id)
    return _address_view(await _attach_address(session, sub, channel, address))


async def deactivate_address(session: AsyncSession, address_id: int, reason: str) -> None:
    """Stop sending to an address (reason: blocked, unsubscribed, bad_address…); idempotent."""
    row = await _address(session, address_id)
    if row.active:
        _set_active(row, False, reason[:40] or InactiveReason.BAD_ADDRESS)


async def reactivate_address(session: AsyncSession, address_id: int) -> AddressView:
    row = await _address(session, address_id)
    if not row.active:
        _set_active(row, True, "")
    return _address_view(row)


async def replace_address(session: AsyncSession, address_id: int, new_address: str) -> None:
    """The platform moved the chat (Telegram group → supergroup): keep the contact, new id.

    If the new address is already registered (a second contact), the old row is retired
    instead so that the unique (channel, address) holds."""
    row = await _address(session, address_id)
    new_address = valid.address(new_address)
    if row.address == new_address:
        return
    clash = await store.address_by_channel(session, row.channel, new_address)
    if clash is not None:
        _set_active(row, False, InactiveReason.REPLACED)
        if not clash.active:
            _set_active(clash, True, "")
        return
    row.address = new_address
    row.updated_at = now()


# --- criteria and preferences -----------------------------------------------------------


async def subscribe_topics(session: AsyncSession, subscriber_id: int, topics: Iterable[str]) -> SubscriberView:
    codes = {valid.topic(t) for t in topics}
    sub = await _subscriber(session, subscriber_id)
    have = set(await store.topics_of(session, sub.id))
    async with store.keeping_index(session, [sub.id]):
        session.add_all(SubscriptionTopic(subscriber_id=sub.id, topic=c) for c in sorted(codes - have))
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def unsubscribe_topic(session: AsyncSession, subscriber_id: int, topic: str) -> SubscriberView:
    code = valid.topic(topic)
    sub = await _subscriber(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        await session.execute(
            delete(SubscriptionTopic).where(SubscriptionTopic.subscriber_id == sub.id, SubscriptionTopic.topic == code)
        )
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def subscribe_all_topics(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    sub = await _subscriber(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        sub.all_topics = True
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def unsubscribe_all(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    """One-step unsubscribe: no topics, keywords or recommendations any more.

    Addresses stay registered (the contact can subscribe again in the same chat)."""
    sub = await _subscriber(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        for table in (SubscriptionTopic, SubscriptionKeyword):
            await session.execute(delete(table).where(table.subscriber_id == sub.id))
        sub.all_topics = False
        sub.recommend_by_profile = False
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def add_keywords(session: AsyncSession, subscriber_id: int, keywords: Iterable[str]) -> SubscriberView:
    parsed = dict(valid.keyword(k) for k in keywords)
    sub = await _subscriber(session, subscriber_id)
    have = set(await store.keywords_of(session, sub.id))
    async with store.keeping_index(session, [sub.id]):
        session.add_all(
            SubscriptionKeyword(subscriber_id=sub.id, keyword=k, tokens=" ".join(t))
            for k, t in sorted(parsed.items())
            if k not in have
        )
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def remove_keyword(session: AsyncSession, subscriber_id: int, keyword: str) -> SubscriberView:
    sub = await _subscriber(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        await session.execute(
            delete(SubscriptionKeyword).where(
                SubscriptionKeyword.subscriber_id == sub.id, SubscriptionKeyword.keyword == keyword.strip()
            )
        )
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def set_townships(session: AsyncSession, subscriber_id: int, townships: Iterable[str]) -> SubscriberView:
    """Which townships' regional policies to receive ("全部" for all); empty = the home township."""
    chosen = valid.township_criteria(townships)
    sub = await _subscriber(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        await session.execute(delete(SubscriptionTownship).where(SubscriptionTownship.subscriber_id == sub.id))
        session.add_all(SubscriptionTownship(subscriber_id=sub.id, township=t) for t in sorted(chosen))
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def set_audience(session: AsyncSession, subscriber_id: int, audience: str) -> SubscriberView:
    """Policies for enterprises, for residents, or both."""
    value = valid.audience(audience)
    sub = await _subscriber(session, subscriber_id)
    async with store.keeping_index(session, [sub.id]):
        sub.audience = value
        sub.updated_at = now()
    return await get_subscriber(session, sub.id)


async def set_recommend_by_profile(session: AsyncSession, subscriber_id: int, enabled: bool) -> SubscriberView:
    sub = await _subscriber(session, subscriber_id)
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
    sub = await _subscriber(session, subscriber_id)
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
    sub = await _subscriber(session, subscriber_id)
    if not sub.paused:
        sub.paused, sub.paused_at, sub.updated_at = True, now(), now()
    return await get_subscriber(session, sub.id)


async def resume(session: AsyncSession, subscriber_id: int) -> SubscriberView:
    sub = await _subscriber(session, subscriber_id)
    if sub.paused:
        sub.paused, sub.paused_at, sub.updated_at = False, None, now()
    return await get_subscriber(session, sub.id)


async def my_subscriptions(session: AsyncSession, subscriber_id: int) -> MySubscriptions:
    view = await get_subscriber(session, subscriber_id)
    ent = await get_enterprise(session, view.enterprise_id) if view.enterprise_id else None
    hubs = await hubs_of_enterprise(session, view.enterprise_id) if view.enterprise_id else []
    return MySubscriptions(view.id, tuple(describe(view, ent, hubs)))


# --- merging two contacts ---------------------------------------------------------------


def _wants_something(view: SubscriberView) -> bool:
    """Has the contact subscribed to anything (its audience and settings are then chosen)?"""
    return bool(view.topics or view.keywords or view.all_topics or view.recommend_by_profile)


def _effective_townships(view: SubscriberView) -> set[str]:
    """The townships whose regional policies the contact receives now."""
    if view.townships:
        return set(view.townships)
    return {view.township} if view.township else set()


async def merge_subscribers(session: AsyncSession, source_id: int, into_id: int) -> SubscriberView:
    """Merge contact `source_id` into contact `into_id` (one person known by two contacts, e.g.
    a web-chat visitor who binds a Telegram chat); returns the target.

    - every address row of the source now belongs to the target, with its id, channel,
      address and active state unchanged (delivery history stays linked);
    - criteria are united: topics, keywords, all topics, recommendation by profile, resident
      groups; townships so that the target still receives every township either received
      (a side relying on its home township keeps it as an explicit one);
    - the enterprise moves to the target when only the source has one;
    - audience: when both had subscribed to something and their audiences differ, "both";
      when only one had, that one's;
    - frequency, quiet hours, daily cap and pause stay the target's, unless the target had not
      subscribed to anything, then they are the source's;
    - the source stays as an empty record (no criteria, no addresses) with `merged_into` set.

    Refused with `Conflict`, nothing changed: the same contact twice, a contact merged before
    (so a second call is refused), a hub contact on either side, two different enterprises.
    Runs in the caller's unit of work; the match index and its change log follow."""
    if source_id == into_id:
        raise Conflict("不能把订阅者合并到其自身。", field="into_id")
    locked = await store.subscribers_for_update(session, [source_id, into_id])
    source, target = locked.get(source_id), locked.get(into_id)
    if source is None:
        raise NotFound("找不到要合并的订阅者。", field="source_id")
    if target is None:
        raise NotFound("找不到要合并到的订阅者。", field="into_id")
    for sub, name in ((source, "source_id"), (target, "into_id")):
        if sub.merged_into is not None:
            raise Conflict(f"这位订阅者已合并到另一位订阅者（编号 {sub.merged_into}）名下。", field=name)
        if sub.kind == SubscriberKind.HUB:
            raise Conflict("园区或协会的联系人不能与其他订阅者合并。", field=name)
    if source.enterprise_id and target.enterprise_id and source.enterprise_id != target.enterprise_id:
        raise Conflict("两位订阅者分别登记了不同的企业，不能自动合并。", field="enterprise_id")

    src, tgt = await get_subscriber(session, source.id), await get_subscriber(session, target.id)
    src_wants, tgt_wants = _wants_something(src), _wants_something(tgt)
    keywords = [(k, t) for k, t in await store.keyword_rows_of(session, source.id) if k not in tgt.keywords]
    at = now()
    async with store.keeping_index(session, [source.id, target.id]):
        # Profile: the enterprise, or a resident's groups and home township.
        target_audience = target.audience
        if source.enterprise_id and not target.enterprise_id:
            target.kind, target.enterprise_id = SubscriberKind.ENTERPRISE, source.enterprise_id
            target.contact_verified = source.contact_verified
            if target_audience == "resident":  # as attach_to_enterprise does
                target_audience = "enterprise"
        elif source.kind == target.kind == SubscriberKind.RESIDENT:
            target.groups = sorted(set(target.groups or ()) | set(source.groups or ()))
            target.township = target.township or source.township
        if src_wants and source.audience != target.audience:
            target_audience = source.audience if not tgt_wants else "both"
        target.audience = target_audience
        # Criteria.
        session.add_all(
            SubscriptionTopic(subscriber_id=target.id, topic=t) for t in sorted(set(src.topics) - set(tgt.topics))
        )
        session.add_all(SubscriptionKeyword(subscriber_id=target.id, keyword=k, tokens=t) for k, t in keywords)
        target.all_topics = target.all_topics or source.all_topics
        target.recommend_by_profile = target.recommend_by_profile or source.recommend_by_profile
        ent = await session.get(Enterprise, target.enterprise_id) if target.enterprise_id else None
        home = store.home_township(target, ent)
        now_receiving = set(tgt.townships) or ({home} if home else set())
        wanted = now_receiving | _effective_townships(src)
        if "*" in wanted:
            wanted = {"*"}
        if wanted != now_receiving:
            await session.execute(delete(SubscriptionTownship).where(SubscriptionTownship.subscriber_id == target.id))
            session.add_all(SubscriptionTownship(subscriber_id=target.id, township=t) for t in sorted(wanted))
        # Settings: the target's, unless it had not subscribed to anything yet.
        if not tgt_wants:
            target.frequency, target.daily_cap = source.frequency, source.daily_cap
            target.quiet_start, target.quiet_end = source.quiet_start, source.quiet_end
            target.paused, target.paused_at = source.paused, source.paused_at
        target.display_name = target.display_name or source.display_name
        target.updated_at = at
        # Addresses move (same rows, same ids); the source is left empty and marked.
        await store.move_addresses(session, source.id, target.id, at)
        await store.clear_criteria(session, source.id)
        source.all_topics = source.recommend_by_profile = False
        source.merged_into = target.id
        source.updated_at = at
    return await get_subscriber(session, target.id)


# --- hubs -------------------------------------------------------------------------------


async def create_hub(
    session: AsyncSession, *, name: str, kind: str, township: str = "", join_code: str | None = None
) -> HubView:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("园区或协会名称不能为空。", field="name")
    if await store.hub_by_name(session, name) is not None:
        raise Conflict(f"“{name}”已登记。", field="name")
    code = valid.join_code(join_code) if join_code else secrets.token_urlsafe(9)
    if await store.hub_by_join_code(session, code) is not None:
        raise Conflict("这个邀请码已被使用。", field="join_code")
    hub = Hub(
        name=name[:200], kind=valid.hub_kind(kind), township=valid.township(township), join_code=code, created_at=now()
    )
    session.add(hub)
    await session.flush()
    return _hub_view(hub)


async def add_hub_contact(
    session: AsyncSession, hub_id: int, *, channel: str, address: str, display_name: str = ""
) -> SubscriberView:
    """An operator of the hub (or its WeCom group robot) who receives policies to relay."""
    hub = await _hub(session, hub_id)
    existing = await store.address_by_channel(session, valid.channel(channel), valid.address(address))
    if existing is not None:
        owner = await _subscriber(session, existing.subscriber_id)
        if owner.hub_id != hub.id:
            raise Conflict("这个渠道地址已登记在另一位订阅者名下。", field="address")
        return await get_subscriber(session, owner.id)
    sub = _new_subscriber(SubscriberKind.HUB, display_name or hub.name, hub_id=hub.id, township=hub.township)
    session.add(sub)
    await session.flush()
    await _attach_address(session, sub, channel, address)
    return await get_subscriber(session, sub.id)


async def add_hub_member(session: AsyncSession, hub_id: int, enterprise_id: int, *, via: str = "console") -> bool:
    """Add a member enterprise; False when it already was one."""
    await _hub(session, hub_id)
    await _enterprise(session, enterprise_id)
    if await session.get(HubMember, (hub_id, enterprise_id)) is not None:
        return False
    session.add(HubMember(hub_id=hub_id, enterprise_id=enterprise_id, via=via, joined_at=now()))
    await session.flush()
    return True


async def remove_hub_member(session: AsyncSession, hub_id: int, enterprise_id: int) -> None:
    await session.execute(delete(HubMember).where(HubMember.hub_id == hub_id, HubMember.enterprise_id == enterprise_id))


def parse_invite_payload(payload: str) -> str | None:
    """The join code in a deep-link payload `hub-<code>` (≤ 64 chars, [A-Za-z0-9_-]), or None."""
    text = (payload or "").strip()
    if len(text) > 64 or not text.startswith(INVITE_PREFIX):
        return None
    code = text[len(INVITE_PREFIX) :]
    return code if valid.JOIN_CODE.match(code) else None


async def find_hub_by_invite(session: AsyncSession, payload_or_code: str) -> HubView | None:
    code = parse_invite_payload(payload_or_code) or payload_or_code.strip()
    hub = await store.hub_by_join_code(session, code)
    return _hub_view(hub) if hub else None


async def join_hub(session: AsyncSession, payload_or_code: str, subscriber_id: int) -> HubView:
    """The contact's enterprise joins the hub whose invite it followed (idempotent)."""
    hub = await find_hub_by_invite(session, payload_or_code)
    if hub is None:
        raise NotFound("邀请码无效或已过期，请向园区或协会重新索取。", field="join_code")
    sub = await _subscriber(session, subscriber_id)
    if sub.enterprise_id is None:
        raise ValidationFailed(
            "请先登记企业信息（企业名称和统一社会信用代码），再加入园区或协会。", field="enterprise_id"
        )
    ent = await _enterprise(session, sub.enterprise_id)
    if ent.verified and not sub.contact_verified:
        raise Forbidden("只有企业已认证联系人可以代表企业加入园区或协会。", field="subscriber_id")
    await add_hub_member(session, hub.id, sub.enterprise_id, via="invite")
    return hub


async def hub_members(session: AsyncSession, hub_id: int) -> list[EnterpriseView]:
    await _hub(session, hub_id)
    ids = await store.member_ids(session, hub_id)
    rows = (await session.execute(select(Enterprise).where(Enterprise.id.in_(ids)).order_by(Enterprise.id))).scalars()
    return [_enterprise_view(e) for e in rows]


async def hubs_of_enterprise(session: AsyncSession, enterprise_id: int) -> list[HubView]:
    return [_hub_view(h) for h in await store.hubs_of_enterprise(session, enterprise_id)]


async def rebuild_match_index(session: AsyncSession) -> int:
    """Rewrite the match index from the tables; returns the number of index rows."""
    return await store.rebuild_index(session)


async def warm_up_match_index(db: Database) -> float:
    """Build this process's in-memory match index now; returns the seconds it took.

    Call once at start-up in every process that publishes or fans out, so that the first
    match after start-up does not wait for the build (seconds at 1M contacts)."""
    return (await match_index.warm_up(db)).build_seconds


async def import_subscribers(db: Database, path: str | Path, progress: bool = True) -> ImportReport:
    """Import enterprises and residents from a .csv or .xlsx registry export.

    Commits in batches of its own (hence a Database, not a session); row-level errors are in
    the report; idempotent by credit code and channel address. See `subscriptions.importer`."""
    from subscriptions import importer  # the importer builds on this module

    return await importer.import_subscribers(db, path, progress=progress)


def topic_choices() -> list[tuple[str, str]]:
    """(code, name) of every topic, for menus."""
    return [(t.code, t.name) for t in taxonomy.topics()]
