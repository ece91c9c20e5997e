"""Merging two contacts into one when a web-chat visitor binds a Telegram chat or WeChat openid.

Direction: the contact behind the web address (`source`) is merged INTO the contact of the
chat where the code was redeemed (`target`). The chat contact is the durable one (a phone
account, possibly an enterprise contact or a hub member); the web contact is an anonymous
cookie. Nothing is lost:

- criteria are united: topics, keywords, all topics, explicit townships (a side that relied
  on its home township keeps it as an explicit one), eligibility groups, the audience
  ("both" when they differ), recommendation by profile, the enterprise when only the web
  contact had one;
- the delivery preference (frequency, paused) is the chat contact's, unless the chat
  contact had never subscribed to anything, then the web contact's settings are taken;
- every address of the web contact (the web inbox, and any chat bound earlier) moves to the
  chat contact, so pushes reach the web inbox and every bound chat, and "我的订阅" is the
  same everywhere. Inbox messages and deliveries stay where they are (they are keyed by the
  address string, which does not change).

`subscriptions.service` has no function that moves an address to another contact, so an
address is moved with the functions that exist: the old row is renamed out of the way
(`replace_address`, to "<address>#merged-<target id>") and retired (`deactivate_address`,
reason "replaced"), then the address is attached to the target (`add_address`). The web
contact is finally emptied (`unsubscribe_all`). All of it runs in the caller's unit of work.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from core.errors import Conflict
from subscriptions import service as subscriptions
from subscriptions.models import InactiveReason, SubscriberKind
from subscriptions.views import SubscriberView


def has_criteria(sub: SubscriberView) -> bool:
    return bool(sub.topics or sub.keywords or sub.all_topics or sub.recommend_by_profile)


def refusal(source: SubscriberView, target: SubscriberView) -> str:
    """Why these two contacts cannot be merged, or ""."""
    if source.kind == SubscriberKind.HUB:
        return texts.BIND_REFUSED_HUB
    if source.enterprise_id and target.enterprise_id and source.enterprise_id != target.enterprise_id:
        return texts.BIND_REFUSED_TWO_ENTERPRISES
    if source.enterprise_id and target.kind == SubscriberKind.HUB:
        return texts.BIND_REFUSED_HUB
    return ""


def _townships(sub: SubscriberView) -> set[str]:
    """The townships whose regional policies the contact receives, as explicit criteria."""
    if sub.townships:
        return set(sub.townships)
    return {sub.township} if sub.township else set()


async def merge_into(session: AsyncSession, source_id: int, target_id: int) -> SubscriberView:
    """Merge contact `source_id` into `target_id` (see the module docstring); returns the target.
    Raises `Conflict` when `refusal` says they cannot be merged."""
    source = await subscriptions.get_subscriber(session, source_id)
    target = await subscriptions.get_subscriber(session, target_id)
    problem = refusal(source, target)
    if problem:
        raise Conflict(problem, field="bind")
    adopt_settings = not has_criteria(target)
    await _merge_profile(session, source, target)
    await _merge_criteria(session, source, target.id)
    if adopt_settings:
        await subscriptions.set_preferences(session, target.id, frequency=source.preference.frequency)
        if source.preference.paused:
            await subscriptions.pause(session, target.id)
    await _move_addresses(session, source, target.id)
    await subscriptions.unsubscribe_all(session, source.id)
    return await subscriptions.get_subscriber(session, target.id)


async def _merge_profile(session: AsyncSession, source: SubscriberView, target: SubscriberView) -> None:
    if source.enterprise_id and not target.enterprise_id:
        await subscriptions.attach_to_enterprise(session, target.id, source.enterprise_id)
    elif target.kind == SubscriberKind.RESIDENT and source.kind == SubscriberKind.RESIDENT:
        groups = sorted(set(target.groups) | set(source.groups))
        township = target.township or source.township
        if groups != sorted(target.groups) or township != target.township:
            await subscriptions.set_resident_profile(session, target.id, township=township, groups=groups)
    if has_criteria(source) and source.audience != target.audience:
        after = await subscriptions.get_subscriber(session, target.id)
        audience = source.audience if not has_criteria(target) else "both"
        if audience != after.audience:
            await subscriptions.set_audience(session, target.id, audience)


async def _merge_criteria(session: AsyncSession, source: SubscriberView, target_id: int) -> None:
    target = await subscriptions.get_subscriber(session, target_id)
    if source.topics:
        await subscriptions.subscribe_topics(session, target_id, source.topics)
    if source.keywords:
        await subscriptions.add_keywords(session, target_id, source.keywords)
    if source.all_topics and not target.all_topics:
        await subscriptions.subscribe_all_topics(session, target_id)
    if source.recommend_by_profile and not target.recommend_by_profile:
        await subscriptions.set_recommend_by_profile(session, target_id, True)
    if source.townships and set(source.townships) - set(target.townships):
        await subscriptions.set_townships(session, target_id, sorted(_townships(target) | set(source.townships)))
    elif target.townships and source.township and source.township not in target.townships:
        await subscriptions.set_townships(session, target_id, sorted(set(target.townships) | {source.township}))


async def _move_addresses(session: AsyncSession, source: SubscriberView, target_id: int) -> None:
    for address in source.addresses:
        if address.inactive_reason == InactiveReason.REPLACED:
            continue  # retired by an earlier merge
        await subscriptions.replace_address(session, address.id, f"{address.address}#merged-{target_id}"[:200])
        await subscriptions.deactivate_address(session, address.id, InactiveReason.REPLACED)
        moved = await subscriptions.add_address(session, target_id, address.channel, address.address)
        if not address.active:
            await subscriptions.deactivate_address(session, moved.id, address.inactive_reason)
