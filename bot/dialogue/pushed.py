"""Buttons under a pushed policy: 确认收到, 退订此类, 转发给会员; and 确认收到 as a reply
("收到", "确认"), which acknowledges the newest push to this chat (WeChat has no buttons)."""

from __future__ import annotations

from bot import texts
from bot.dialogue import menus
from bot.dialogue.context import Turn
from bot.dialogue.deliveries import delivered_policy
from bot.dialogue.replies import Reply
from bot.dialogue.subscribing import topic_names
from core.errors import DomainError, Forbidden, NotFound
from policies import service as policies
from push.service import latest_policy_delivery, latest_unacknowledged, relay
from subscriptions import service as subscriptions


async def acknowledge(turn: Turn, delivery_id: int | None) -> list[Reply]:
    """确认收到; a repealed or expired policy gets a clear reply and is not counted."""
    if delivery_id is None:
        return [Reply(texts.STALE_BUTTON)]
    try:
        outcome = await relay.acknowledge_member(turn.session, delivery_id, by_address=turn.address)
    except NotFound:
        return [Reply(texts.DELIVERY_GONE, notice=texts.DELIVERY_GONE)]
    except Forbidden:
        return [Reply(texts.ACK_NOT_YOURS, notice=texts.ACK_NOT_YOURS)]
    return [Reply(outcome.message, notice=outcome.message[:60])]


async def acknowledge_latest(turn: Turn) -> list[Reply]:
    """收到 / 确认 / 确认收到: the newest policy pushed to this chat and not yet acknowledged;
    when all are acknowledged, the newest one (which then says so)."""
    delivery_id = await latest_unacknowledged(turn.session, turn.channel, turn.address)
    if delivery_id is None:
        delivery_id = await latest_policy_delivery(turn.session, turn.channel, turn.address)
    if delivery_id is None:
        return [Reply(texts.NOTHING_TO_ACKNOWLEDGE, menus.main_menu(turn.subscriber))]
    replies = await acknowledge(turn, delivery_id)
    title = await _title_of(turn, delivery_id)
    if title:
        replies = [Reply(f"{texts.ACK_ABOUT.format(title=title)}\n{r.text}", r.buttons, notice=r.notice)
                   for r in replies]
    return replies


async def _title_of(turn: Turn, delivery_id: int) -> str:
    delivered = await delivered_policy(turn.session, delivery_id)
    if delivered is None:
        return ""
    try:
        return (await policies.get_policy(turn.session, delivered.policy_id)).title
    except NotFound:
        return ""


async def unsubscribe_like_this(turn: Turn, delivery_id: int | None) -> list[Reply]:
    """Stop the topics of the pushed policy that this subscriber is subscribed to."""
    delivered = await delivered_policy(turn.session, delivery_id) if delivery_id is not None else None
    if delivered is None or delivered.address != turn.address:
        return [Reply(texts.DELIVERY_GONE, menus.main_menu(turn.subscriber))]
    try:
        policy = await policies.get_policy(turn.session, delivered.policy_id)
    except NotFound:
        return [Reply(texts.DELIVERY_GONE, menus.main_menu(turn.subscriber))]
    mine = [t for t in policy.topics if t in turn.subscriber.topics]
    if turn.subscriber.all_topics:
        # Subscribed to everything: keep the rest, drop only these topics.
        others = [t for t in menus.offered_topics(turn.subscriber) if t.code not in policy.topics]
        turn.subscriber = await subscriptions.unsubscribe_all(turn.session, turn.subscriber.id)
        turn.subscriber = await subscriptions.subscribe_topics(turn.session, turn.subscriber.id,
                                                               [t.code for t in others])
        mine = list(policy.topics)
    else:
        for code in mine:
            turn.subscriber = await subscriptions.unsubscribe_topic(turn.session, turn.subscriber.id, code)
    if not mine:
        return [Reply(texts.UNSUB_FROM_PUSH_NONE, menus.my_menu(turn.subscriber))]
    text = texts.UNSUB_FROM_PUSH.format(names=topic_names(mine))
    return [Reply(text, menus.main_menu(turn.subscriber), notice=text[:60])]


async def forward_to_members(turn: Turn, delivery_id: int | None) -> list[Reply]:
    """转发给会员 under a policy pushed to a hub: the system messages each member in scope
    (marked 由XX转达, tracked per member); pressing it twice sends nothing twice."""
    if delivery_id is None:
        return [Reply(texts.STALE_BUTTON)]
    try:
        outcome = await relay.forward_from_delivery(turn.session, delivery_id, by_address=turn.address)
    except DomainError as exc:
        return [Reply(exc.message, notice=exc.message[:60])]
    return [Reply(outcome.message, notice=outcome.message[:60])]
