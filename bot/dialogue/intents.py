"""Plain-text intents (订阅, 退订, 我的订阅, 最新, 帮助, 暂停, 恢复, 设置, 收到, 绑定) and Telegram
commands.

WeChat and the web chat take the intents as words; Telegram also as /commands. Anything that
is no intent is a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.dialogue.subscribing import ALL_WORDS, resolve_topics, split_words


class Intent:
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    MY = "my"
    LATEST = "latest"
    HELP = "help"
    PAUSE = "pause"
    RESUME = "resume"
    SETUP = "setup"
    ACK = "ack"  # 收到 / 确认收到: acknowledge the newest push
    BIND = "bind"  # 绑定 (web: get a code) / 绑定 <code> (Telegram, WeChat: use it)
    VOICE_ON = "voice_on"  # 语音播报: pushes also come as a voice message
    VOICE_OFF = "voice_off"  # 关闭语音
    CLAIM = "claim"  # 认领 <invite code>: become a verified contact of an enterprise
    CLAIMS = "claims"  # 认领申请: pending claims a verified contact may decide
    APPROVE_CLAIM = "approve_claim"  # 同意认领 <number>
    REFUSE_CLAIM = "refuse_claim"  # 拒绝认领 <number>
    CALCULATOR = "calculator"  # 政策计算器
    QUESTION = "question"


# Whole-message words. Order matters for prefixes: longer words first.
EXACT = {
    "我的订阅": Intent.MY, "我的": Intent.MY, "查看订阅": Intent.MY, "订阅情况": Intent.MY,
    "最新": Intent.LATEST, "最新政策": Intent.LATEST, "最近政策": Intent.LATEST,
    "帮助": Intent.HELP, "菜单": Intent.HELP, "?": Intent.HELP, "？": Intent.HELP, "help": Intent.HELP,
    "暂停": Intent.PAUSE, "暂停推送": Intent.PAUSE,
    "恢复": Intent.RESUME, "恢复推送": Intent.RESUME, "继续推送": Intent.RESUME,
    "设置": Intent.SETUP, "重新设置": Intent.SETUP, "开始": Intent.SETUP,
    "全部退订": Intent.UNSUBSCRIBE,
    "收到": Intent.ACK, "已收到": Intent.ACK, "确认": Intent.ACK, "确认收到": Intent.ACK,
    "绑定": Intent.BIND, "绑定微信": Intent.BIND, "绑定账号": Intent.BIND, "bind": Intent.BIND,
    "语音播报": Intent.VOICE_ON, "开启语音播报": Intent.VOICE_ON, "打开语音播报": Intent.VOICE_ON,
    "开启语音": Intent.VOICE_ON, "关闭语音": Intent.VOICE_OFF, "关闭语音播报": Intent.VOICE_OFF,
    "取消语音播报": Intent.VOICE_OFF,
    "认领申请": Intent.CLAIMS, "企业认领申请": Intent.CLAIMS,
    "政策计算器": Intent.CALCULATOR, "计算器": Intent.CALCULATOR, "我能享受什么政策": Intent.CALCULATOR,
    "我能享受哪些政策": Intent.CALCULATOR,
}
EXACT_WITH_ARGUMENT = {"全部订阅": (Intent.SUBSCRIBE, "全部")}
# Words that start a message and take arguments ("订阅 就业创业", "退订 税费优惠").
PREFIXES = (
    ("取消订阅", Intent.UNSUBSCRIBE),
    ("订阅主题", Intent.SUBSCRIBE),
    ("退订", Intent.UNSUBSCRIBE),
    ("订阅", Intent.SUBSCRIBE),
)
COMMANDS = {
    "start": Intent.SETUP, "subscribe": Intent.SUBSCRIBE, "unsubscribe": Intent.UNSUBSCRIBE, "my": Intent.MY,
    "latest": Intent.LATEST, "help": Intent.HELP, "pause": Intent.PAUSE, "resume": Intent.RESUME,
    "voice": Intent.VOICE_ON, "novoice": Intent.VOICE_OFF,
    "calculator": Intent.CALCULATOR,
}
# A prefix word followed by more text is an intent only if the text is short: "订阅就业创业" is,
# "订阅号上的政策怎么看不到了" is a question.
MAX_ARGUMENT_CHARS = 40
# "绑定 Ab3dE5fG7h", "绑定：Ab3dE5fG7h", "bind-Ab3dE5fG7h" (a pasted deep-link payload)
_BIND_WITH_CODE = re.compile(r"^(?:绑定[\s:：]*|bind[\s:：-]+)([A-Za-z0-9]{4,40})$", re.IGNORECASE)

_CLAIM_WITH_CODE = re.compile(r"^认领(?:码)?[\s:：]*(QY[A-Za-z0-9-]{8,20})$", re.IGNORECASE)
_CLAIM_DECISION = re.compile(r"^(同意|拒绝)认领[\s:：]*(\d{1,9})$")


@dataclass(frozen=True)
class Parsed:
    intent: str
    rest: str = ""


def parse(text: str) -> Parsed:
    words = " ".join(text.replace("\u3000", " ").split())
    if not words:
        return Parsed(Intent.QUESTION, "")
    found = EXACT.get(words) or EXACT.get(words.lower())
    if found:
        return Parsed(found)
    bind = _BIND_WITH_CODE.match(words)
    if bind:
        return Parsed(Intent.BIND, bind.group(1))
    claim = _CLAIM_WITH_CODE.match(words)
    if claim:
        return Parsed(Intent.CLAIM, claim.group(1))
    decision = _CLAIM_DECISION.match(words)
    if decision:
        return Parsed(Intent.APPROVE_CLAIM if decision.group(1) == "同意" else Intent.REFUSE_CLAIM, decision.group(2))
    if words in EXACT_WITH_ARGUMENT:
        return Parsed(*EXACT_WITH_ARGUMENT[words])
    for prefix, intent in PREFIXES:
        if words.startswith(prefix):
            after = words[len(prefix):]
            rest = after.strip(" ：:")
            if len(rest) > MAX_ARGUMENT_CHARS or rest.endswith(("?", "？", "吗", "呢")):
                break
            # Glued to the prefix ("订阅就业创业") it must name topics; separated ("订阅 光伏")
            # it may also be a keyword.
            separated = after[:1] in (" ", "：", ":")
            if not rest or separated or _names_topics(rest):
                return Parsed(intent, rest)
            break
    return Parsed(Intent.QUESTION, words)


def _names_topics(rest: str) -> bool:
    if rest.lower() in ALL_WORDS:
        return True
    found, unknown = resolve_topics(split_words(rest))
    return bool(found) and not unknown
