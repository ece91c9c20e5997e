"""订阅 / 退订 / 我的订阅 / 暂停 / 恢复 / 推送方式: changes go through `subscriptions.service`."""

from __future__ import annotations

import re

from bot import texts
from bot.dialogue import menus
from bot.dialogue.context import Step, Turn
from bot.dialogue.replies import Reply
from subscriptions import service as subscriptions
from vocabulary import taxonomy

ALL_WORDS = frozenset({"全部", "全部主题", "所有", "所有主题", "全部政策", "all"})
_SPLIT = re.compile(r"[\s,，、;；/]+")
FREQUENCY_LABELS = {"immediate": texts.BTN_IMMEDIATE, "daily": texts.BTN_DAILY, "weekly": texts.BTN_WEEKLY}


def split_words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text.strip()) if w]


def resolve_topics(words: list[str]) -> tuple[list[taxonomy.Topic], list[str]]:
    """Topics named by `words` (names, synonyms or codes) and the words that named none."""
    found: list[taxonomy.Topic] = []
    unknown: list[str] = []
    for word in words:
        topic = taxonomy.resolve_topic(word)
        if topic is None:
            unknown.append(word)
        elif topic not in found:
            found.append(topic)
    return found, unknown


def topic_names(codes: list[str] | tuple[str, ...]) -> str:
    return "、".join((t.name if (t := taxonomy.topic_by_code(c)) else c) for c in codes)


async def show_topics(turn: Turn, *, prompt: str = texts.TOPICS_MENU, replace: bool = False) -> list[Reply]:
    turn.conversation.step = Step.TOPICS
    return [Reply(prompt, menus.topics_menu(turn.subscriber), replace=replace)]


async def subscribe(turn: Turn, rest: str) -> list[Reply]:
    """`订阅` alone shows the topic menu; `订阅 全部`; `订阅 就业创业 税费` (topics, else keywords)."""
    words = split_words(rest)
    if not words:
        return await show_topics(turn)
    if any(w.lower() in ALL_WORDS for w in words):
        turn.subscriber = await subscriptions.subscribe_all_topics(turn.session, turn.subscriber.id)
        return [Reply(texts.SUBSCRIBED_ALL, menus.main_menu(turn.subscriber))]
    topics, unknown = resolve_topics(words)
    if topics:
        turn.subscriber = await subscriptions.subscribe_topics(turn.session, turn.subscriber.id,
                                                               [t.code for t in topics])
    if unknown:
        # Words that are no topic become keywords: "订阅 光伏" notifies on policies mentioning 光伏.
        turn.subscriber = await subscriptions.add_keywords(turn.session, turn.subscriber.id, unknown)
    names = "、".join([t.name for t in topics] + [f"关键词“{w}”" for w in unknown])
    return [Reply(texts.SUBSCRIBED_TOPICS.format(names=names), menus.main_menu(turn.subscriber))]


async def unsubscribe(turn: Turn, rest: str) -> list[Reply]:
    """`退订` stops everything in one step (addresses stay); `退订 主题名` removes one topic."""
    words = split_words(rest)
    if not words or any(w.lower() in ALL_WORDS for w in words):
        turn.conversation.reset()
        turn.subscriber = await subscriptions.unsubscribe_all(turn.session, turn.subscriber.id)
        return [Reply(texts.UNSUBSCRIBED_ALL, menus.main_menu(turn.subscriber))]
    topics, unknown = resolve_topics(words)
    keywords = [w for w in unknown if w in turn.subscriber.keywords]
    if not topics and not keywords:
        names = "、".join(t.name for t in taxonomy.topics())
        return [Reply(texts.UNKNOWN_TOPIC.format(words="、".join(unknown), names=names))]
    removed: list[str] = []
    for topic in topics:
        if topic.code in turn.subscriber.topics:
            turn.subscriber = await subscriptions.unsubscribe_topic(turn.session, turn.subscriber.id, topic.code)
            removed.append(topic.name)
    for word in keywords:
        turn.subscriber = await subscriptions.remove_keyword(turn.session, turn.subscriber.id, word)
        removed.append(word)
    if not removed:
        return [Reply(texts.NOT_SUBSCRIBED_TOPIC.format(name="、".join(t.name for t in topics)),
                      menus.main_menu(turn.subscriber))]
    return [Reply(texts.UNSUBSCRIBED_TOPIC.format(name="、".join(removed)), menus.main_menu(turn.subscriber))]


async def toggle_topic(turn: Turn, code: str) -> list[Reply]:
    """Applied at once, so an abandoned menu keeps what was chosen and stale menus still work."""
    topic = taxonomy.topic_by_code(code)
    if topic is None:
        return [Reply(texts.STALE_BUTTON)]
    if code in turn.subscriber.topics:
        turn.subscriber = await subscriptions.unsubscribe_topic(turn.session, turn.subscriber.id, code)
        notice = texts.TOPIC_OFF.format(name=topic.name)
    else:
        turn.subscriber = await subscriptions.subscribe_topics(turn.session, turn.subscriber.id, [code])
        notice = texts.TOPIC_ON.format(name=topic.name)
    replies = await show_topics(turn, prompt=_topics_prompt(turn), replace=True)
    return [Reply(r.text, r.buttons, replace=True, notice=notice) for r in replies]


async def toggle_all_topics(turn: Turn) -> list[Reply]:
    sub = turn.subscriber
    if sub.all_topics:
        # "全部" off again: back to the topics picked one by one.
        turn.subscriber = await subscriptions.unsubscribe_all(turn.session, sub.id)
        if sub.topics:
            turn.subscriber = await subscriptions.subscribe_topics(turn.session, sub.id, sub.topics)
        if sub.keywords:
            turn.subscriber = await subscriptions.add_keywords(turn.session, sub.id, sub.keywords)
        if sub.recommend_by_profile:
            turn.subscriber = await subscriptions.set_recommend_by_profile(turn.session, sub.id, True)
    else:
        turn.subscriber = await subscriptions.subscribe_all_topics(turn.session, sub.id)
    return await show_topics(turn, prompt=_topics_prompt(turn), replace=True)


def _topics_prompt(turn: Turn) -> str:
    return texts.ASK_TOPICS if turn.conversation.data.get("onboarding") else texts.TOPICS_MENU


async def my_subscriptions(turn: Turn) -> list[Reply]:
    mine = await subscriptions.my_subscriptions(turn.session, turn.subscriber.id)
    return [Reply(f"{texts.MY_SUBSCRIPTIONS_HEADER}\n{mine.text}", menus.my_menu(turn.subscriber))]


async def pause(turn: Turn) -> list[Reply]:
    turn.subscriber = await subscriptions.pause(turn.session, turn.subscriber.id)
    return [Reply(texts.PAUSED, menus.main_menu(turn.subscriber))]


async def resume(turn: Turn) -> list[Reply]:
    turn.subscriber = await subscriptions.resume(turn.session, turn.subscriber.id)
    return [Reply(texts.RESUMED, menus.main_menu(turn.subscriber))]


async def set_frequency(turn: Turn, frequency: str) -> str:
    """Returns the confirmation sentence."""
    turn.subscriber = await subscriptions.set_preferences(turn.session, turn.subscriber.id, frequency=frequency)
    return texts.FREQUENCY_SET.format(label=FREQUENCY_LABELS.get(frequency, frequency))


async def show_frequency(turn: Turn) -> list[Reply]:
    turn.conversation.step = Step.FREQUENCY
    return [Reply(texts.FREQUENCY_MENU, menus.frequency_menu(with_skip=False))]
