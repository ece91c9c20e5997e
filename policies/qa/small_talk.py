"""Greetings, thanks, asking for a person: messages that are not questions about a policy.

They get a helpful reply (what to ask, the menu words, the consultation phone) and are never
counted as unanswered questions, so the departments' board shows only real gaps.
Only a message made of such phrases alone is small talk: "你好，公租房怎么申请" is a question.
"""

from __future__ import annotations

import re

from policies.qa import texts


class SmallTalk:
    GREETING = "greeting"
    THANKS = "thanks"
    HUMAN = "human"
    GOODBYE = "goodbye"


# Longest phrases first, so 人工客服 is taken whole before 客服.
_PHRASES: dict[str, tuple[str, ...]] = {
    SmallTalk.HUMAN: ("转人工客服", "人工客服", "转人工", "找人工", "人工服务", "人工", "真人", "客服", "工作人员",
                      "有人吗", "有没有人"),
    SmallTalk.GREETING: ("你好啊", "你好", "您好", "在吗", "在不在", "在么", "哈喽", "嗨", "早上好", "上午好", "中午好",
                         "下午好", "晚上好", "早安", "hello", "hi", "喂", "打扰了", "打扰一下", "请问"),
    SmallTalk.THANKS: ("非常感谢", "谢谢你", "谢谢您", "谢谢", "多谢", "感谢", "辛苦了", "好的", "好滴", "知道了",
                       "明白了", "收到", "懂了", "行", "好", "嗯嗯", "嗯", "哦哦", "哦", "ok", "okay", "👍"),
    SmallTalk.GOODBYE: ("再见", "拜拜", "bye", "没事了", "没有了", "不用了"),
}
_ORDER = sorted(((p, kind) for kind, ps in _PHRASES.items() for p in ps), key=lambda pk: len(pk[0]), reverse=True)
_FILLER = re.compile(r"[\s,，。.!！?？~～、…:：;；啊呀呢吧哈嘛]+")


def small_talk_kind(text: str) -> str | None:
    """The kind of small talk when the whole message is small talk; None for a question.
    Asking for a person wins over a greeting in the same message (你好，转人工)."""
    rest = text.lower()
    kinds: set[str] = set()
    for phrase, kind in _ORDER:
        if phrase in rest:
            kinds.add(kind)
            rest = rest.replace(phrase, " ")
    if not kinds or _FILLER.sub("", rest):
        return None
    for kind in (SmallTalk.HUMAN, SmallTalk.THANKS, SmallTalk.GOODBYE, SmallTalk.GREETING):
        if kind in kinds:
            return kind
    return None


def small_talk_reply(kind: str, phone: str) -> str:
    return {
        SmallTalk.HUMAN: texts.SMALL_TALK_HUMAN,
        SmallTalk.THANKS: texts.SMALL_TALK_THANKS,
        SmallTalk.GOODBYE: texts.SMALL_TALK_GOODBYE,
    }.get(kind, texts.SMALL_TALK_GREETING).format(phone=phone)
