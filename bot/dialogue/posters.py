"""Chats opened from a printed poster: a signed `/start q<code>` (Telegram, web chat) or a
WeChat follow or scan of the poster's parametric code (scene "p:<poster id>").

The chat shows the policy with 订阅此类 and 我要咨询; pressing them subscribes to the policy's
topics or invites the question, and credits the poster. A WeChat follow through the poster's
code is itself the subscription: the newcomer is subscribed to the policy's topics and the
poster is credited in the same step (and the scan is counted, as WeChat never opens the link).
"""

from __future__ import annotations

import hashlib

from bot import texts
from bot.dialogue import menus, questions
from bot.dialogue.context import Turn
from bot.dialogue.library import card_text, find_policy, policy_link
from bot.dialogue.replies import Button, Reply
from bot.dialogue.subscribing import topic_names
from core.clock import now as clock_now
from core.clock import today_in_china
from core.errors import NotFound
from policies.views import PolicyView
from push.service import posters, record_wechat_poster_scan
from subscriptions import service as subscriptions
from subscriptions.views import ChannelName, SubscriberView
from vocabulary.actions import Kind, encode

BTN_SUBSCRIBE_LIKE_THIS = "订阅此类"
POSTER_WELCOME = "欢迎！您扫描的是张贴在“{place}”的政策海报。"
SUBSCRIBED_FROM_POSTER = "已为您订阅“{names}”类政策，今后有新政策会主动推送给您。发送“退订”可随时停止。"
NO_TOPICS = "这份政策没有主题分类，已按关键词为您订阅：{names}。"


def _is_newcomer(sub: SubscriberView) -> bool:
    return not (sub.topics or sub.keywords or sub.all_topics or sub.recommend_by_profile)


def poster_buttons(poster_id: int, policy: PolicyView, base_url: str) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button(BTN_SUBSCRIBE_LIKE_THIS, encode(Kind.POSTER_SUBSCRIBE, poster_id)),
         Button(texts.BTN_ASK, encode(Kind.POSTER_ASK, poster_id))),
        (Button(texts.BTN_OPEN_PAGE, url=policy_link(base_url, policy.id)),),
    )


async def _subscribe_like(turn: Turn, policy: PolicyView) -> str:
    if policy.topics:
        turn.subscriber = await subscriptions.subscribe_topics(turn.session, turn.subscriber.id, policy.topics)
        return SUBSCRIBED_FROM_POSTER.format(names=topic_names(policy.topics))
    words = list(policy.keywords[:3]) or [policy.title[:12]]
    turn.subscriber = await subscriptions.add_keywords(turn.session, turn.subscriber.id, words)
    return NO_TOPICS.format(names="、".join(words))


async def _record_wechat_scan(turn: Turn, poster: posters.PosterView) -> None:
    # WeChat resolves its own code without opening our link: count the scan here, keyed by
    # a hash of the openid (never the openid itself), once a day like a web scan.
    at = clock_now()
    day = today_in_china(at)
    key = hashlib.sha256(f"{day.isoformat()}|wechat|{turn.address}".encode()).hexdigest()[:40]
    await record_wechat_poster_scan(turn.session, poster.id, poster.policy_id, day=day, visitor_key=key, at=at)


async def start_from_poster(turn: Turn, poster_id: int, base_url: str) -> list[Reply]:
    try:
        poster = await posters.get_poster(turn.session, poster_id)
    except NotFound:
        poster = None
    policy = await find_policy(turn, poster.policy_id) if poster else None
    if poster is None or policy is None:
        return [Reply(texts.POLICY_GONE, menus.main_menu(turn.subscriber))]
    lines = [POSTER_WELCOME.format(place=poster.place_label), card_text(policy, base_url)]
    if turn.channel == ChannelName.WECHAT:
        await _record_wechat_scan(turn, poster)
        if policy.is_valid and _is_newcomer(turn.subscriber):
            lines.append(await _subscribe_like(turn, policy))
            await posters.credit(turn.session, poster.id, posters.CreditKind.SUBSCRIPTION, turn.subscriber.id,
                                 turn.channel)
    return [Reply("\n".join(lines), poster_buttons(poster.id, policy, base_url))]


async def subscribe_like_this(turn: Turn, poster_id: int | None, base_url: str) -> list[Reply]:
    poster, policy = await _poster_policy(turn, poster_id)
    if poster is None or policy is None:
        return [Reply(texts.POLICY_GONE, menus.main_menu(turn.subscriber))]
    text = await _subscribe_like(turn, policy)
    await posters.credit(turn.session, poster.id, posters.CreditKind.SUBSCRIPTION, turn.subscriber.id, turn.channel)
    return [Reply(text, menus.main_menu(turn.subscriber))]


async def ask_from_poster(turn: Turn, poster_id: int | None, base_url: str, phone: str) -> list[Reply]:
    poster, policy = await _poster_policy(turn, poster_id)
    if poster is None or policy is None:
        return [Reply(texts.POLICY_GONE, menus.main_menu(turn.subscriber))]
    await posters.credit(turn.session, poster.id, posters.CreditKind.QUESTION, turn.subscriber.id, turn.channel)
    return await questions.ask_about(turn, policy.id, base_url, phone)


async def _poster_policy(turn: Turn, poster_id: int | None) -> tuple[posters.PosterView | None, PolicyView | None]:
    if poster_id is None:
        return None, None
    try:
        poster = await posters.get_poster(turn.session, poster_id)
    except NotFound:
        return None, None
    return poster, await find_policy(turn, poster.policy_id)
