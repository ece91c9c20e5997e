"""Merging two contacts that are one person (e.g. a web-chat visitor who binds a Telegram chat)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now
from core.errors import Conflict, NotFound
from subscriptions import contact_store, store
from subscriptions.lookups import get_subscriber
from subscriptions.models import Enterprise, SubscriberKind, SubscriptionKeyword, SubscriptionTopic
from subscriptions.views import SubscriberView


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
    locked = await contact_store.subscribers_for_update(session, [source_id, into_id])
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
    keywords = [(k, t) for k, t in await contact_store.keyword_rows_of(session, source.id) if k not in tgt.keywords]
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
            await contact_store.replace_townships(session, target.id, wanted)
        # Settings: the target's, unless it had not subscribed to anything yet.
        if not tgt_wants:
            target.frequency, target.daily_cap = source.frequency, source.daily_cap
            target.quiet_start, target.quiet_end = source.quiet_start, source.quiet_end
            target.paused, target.paused_at = source.paused, source.paused_at
        target.display_name = target.display_name or source.display_name
        target.updated_at = at
        # Addresses move (same rows, same ids); the source is left empty and marked.
        await contact_store.move_addresses(session, source.id, target.id, at)
        await contact_store.clear_criteria(session, source.id)
        source.all_topics = source.recommend_by_profile = False
        source.merged_into = target.id
        source.updated_at = at
    return await get_subscriber(session, target.id)
