"""Turning what people type (codes or Chinese names) into stored codes, or a clear error."""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

from core.errors import ValidationFailed
from policies.service import get_tokenizer
from subscriptions.models import EnterpriseSize, Frequency, HubKind
from subscriptions.views import ChannelName
from vocabulary import taxonomy
from vocabulary.labels import code_for, labels

JOIN_CODE = re.compile(r"^[A-Za-z0-9_-]{4,60}$")
ALL_TOWNSHIP_WORDS = frozenset({"*", "全部", "全部乡镇", "全县", "所有乡镇"})
MAX_KEYWORD_LENGTH = 40

SIZES = {
    "large": EnterpriseSize.LARGE,
    "大": EnterpriseSize.LARGE,
    "大型": EnterpriseSize.LARGE,
    "medium": EnterpriseSize.MEDIUM,
    "中": EnterpriseSize.MEDIUM,
    "中型": EnterpriseSize.MEDIUM,
    "small": EnterpriseSize.SMALL,
    "小": EnterpriseSize.SMALL,
    "小型": EnterpriseSize.SMALL,
    "micro": EnterpriseSize.MICRO,
    "微": EnterpriseSize.MICRO,
    "微型": EnterpriseSize.MICRO,
}
SIZE_NAMES = {
    EnterpriseSize.LARGE: "大型",
    EnterpriseSize.MEDIUM: "中型",
    EnterpriseSize.SMALL: "小型",
    EnterpriseSize.MICRO: "微型",
}
FREQUENCY_WORDS = {
    "immediate": Frequency.IMMEDIATE,
    "即时": Frequency.IMMEDIATE,
    "实时": Frequency.IMMEDIATE,
    "daily": Frequency.DAILY,
    "每日": Frequency.DAILY,
    "每天": Frequency.DAILY,
    "weekly": Frequency.WEEKLY,
    "每周": Frequency.WEEKLY,
}
HUB_KINDS = {
    "park": HubKind.PARK,
    "园区": HubKind.PARK,
    "产业园区": HubKind.PARK,
    "association": HubKind.ASSOCIATION,
    "协会": HubKind.ASSOCIATION,
    "行会协会": HubKind.ASSOCIATION,
    "行业协会": HubKind.ASSOCIATION,
    "商会": HubKind.ASSOCIATION,
}
AUDIENCES = {
    "enterprise": "enterprise",
    "企业": "enterprise",
    "resident": "resident",
    "居民": "resident",
    "个人": "resident",
    "both": "both",
    "全部": "both",
}


def credit_code(value: str) -> str:
    """A valid 统一社会信用代码 in its compact form."""
    raw = (value or "").strip()
    try:
        return str(uscc.validate(raw))
    except InvalidLength:
        problem = "应为18位"
    except InvalidChecksum:
        problem = "校验位不正确"
    except (InvalidFormat, ValidationError):
        problem = "含有不允许的字符"
    raise ValidationFailed(f"统一社会信用代码“{raw}”无效：{problem}，请核对营业执照。", field="credit_code")


def topic(value: str) -> str:
    found = taxonomy.resolve_topic(value)
    if found is None:
        names = "、".join(t.name for t in taxonomy.topics()[:8])
        raise ValidationFailed(f"没有“{value}”这个主题。可选主题如：{names}等。", field="topic")
    return found.code


def township(value: str, *, field: str = "township") -> str:
    """A township code; "" for an empty value."""
    text = (value or "").strip()
    if not text:
        return ""
    found = taxonomy.resolve_region(text)
    if found is None or found.kind != "township":
        names = "、".join(r.name for r in taxonomy.regions() if r.kind == "township")
        raise ValidationFailed(f"没有“{text}”这个乡镇。本县乡镇：{names}。", field=field)
    return found.code


def township_criteria(values: Iterable[str]) -> set[str]:
    chosen: set[str] = set()
    for value in values:
        if value.strip() in ALL_TOWNSHIP_WORDS:
            chosen.add("*")
        elif value.strip():
            chosen.add(township(value, field="townships"))
    return chosen


def industry(value: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    found = taxonomy.resolve_industry(text)
    if found is None:
        raise ValidationFailed(
            f"没有“{text}”这个行业门类。请填国民经济行业分类门类字母（A–T）或名称，如“制造业”。", field="industry"
        )
    return found.code


def size(value: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    found = SIZES.get(text.lower()) or SIZES.get(text.removesuffix("企业"))
    if found is None:
        raise ValidationFailed(f"企业规模“{text}”无法识别，请填 大、中、小 或 微。", field="size")
    return found


def eligibility(values: Iterable[str], audience: str, *, field: str) -> list[str]:
    codes: list[str] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        tag = taxonomy.resolve_eligibility(text)
        if tag is None or tag.audience != audience:
            names = "、".join(t.name for t in taxonomy.eligibility_tags() if t.audience == audience)
            raise ValidationFailed(f"“{text}”不是可登记的条件。可选：{names}。", field=field)
        if tag.code not in codes:
            codes.append(tag.code)
    return codes


def channel(value: str) -> str:
    """A channel code, typed as the code or in Chinese (微信, 微信公众号, 网页, 企业微信群)."""
    code = value if value in ChannelName.ALL else code_for("channel", value or "")
    if code is None or code not in ChannelName.ALL:
        names = "、".join(labels("channel").values())
        raise ValidationFailed(f"不支持的渠道“{value}”，可选：{names}。", field="channel")
    return code


def address(value: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > 200:
        raise ValidationFailed("渠道地址不能为空，且不超过200个字符。", field="address")
    return text


def frequency(value: str) -> str:
    found = FREQUENCY_WORDS.get((value or "").strip().lower())
    if found is None:
        raise ValidationFailed("推送频率请选 即时、每日汇总 或 每周汇总。", field="frequency")
    return found


def hub_kind(value: str) -> str:
    found = HUB_KINDS.get((value or "").strip().lower())
    if found is None:
        raise ValidationFailed("枢纽类型请填 园区 或 协会。", field="kind")
    return found


def audience(value: str) -> str:
    found = AUDIENCES.get((value or "").strip().lower())
    if found is None:
        raise ValidationFailed("接收对象请选 企业、居民 或 全部。", field="audience")
    return found


def join_code(value: str) -> str:
    if not JOIN_CODE.match(value or ""):
        raise ValidationFailed("邀请码须为4–60位字母、数字、下划线或连字符。", field="join_code")
    return value


def keyword(value: str) -> tuple[str, tuple[str, ...]]:
    """The keyword as it will be shown, and the tokens it matches on."""
    text = (value or "").strip()
    if not text or len(text) > MAX_KEYWORD_LENGTH:
        raise ValidationFailed(f"关键词不能为空，且不超过{MAX_KEYWORD_LENGTH}个字。", field="keyword")
    tokens = get_tokenizer().query_tokens(text)
    if not tokens:
        raise ValidationFailed(f"“{text}”太常见，无法用来匹配政策，请换一个更具体的词。", field="keyword")
    whole = text.lower()
    # Search mode yields the whole word beside its parts when jieba knows it: the whole
    # word is then the precise token to match; otherwise every part must be present.
    chosen = (whole,) if whole in tokens else tuple(sorted(set(tokens)))
    return text, chosen
