"""Suggested items from a policy's text: each sentence that promises money (an amount, a rate
or a cap) becomes a suggestion with the figures, the ages, the deadline and the person groups,
qualifications, industries and townships it names. A clerk confirms or edits; nothing here is
saved by itself."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from policies.text.header import parse_chinese_date
from vocabulary import taxonomy

_SENTENCE = re.compile(r"[^。；;！!\n]+")
_AMOUNT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万元|元)")
_CAP = re.compile(r"(?:最高|封顶|不超过|最多)\s*(?:不超过)?\s*(\d+(?:\.\d+)?)\s*(万元|元)")
_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_AGE_RANGE = re.compile(r"(\d{1,3})\s*(?:至|到|-|—|～|~)\s*(\d{1,3})\s*周?岁")
_AGE_UNDER = re.compile(r"(\d{1,3})\s*周?岁(?:及|以)?以下")
_AGE_OVER = re.compile(r"(\d{1,3})\s*周?岁(?:及|以)?以上")
_NAME = re.compile(r"([\u4e00-\u9fa5]{2,12}?(?:补贴|奖励|奖补|补助|贴息|津贴|资助|减免|优惠|补偿|救助))")
_DEADLINE_CUE = re.compile(r"截止|前|之前|以前|截至")
_NAME_CUT = re.compile(r".*(?:给予|发放|享受|的|对|按|每月|每人|每户|每年)")
MAX_SUGGESTIONS = 30


@dataclass
class SuggestedItem:
    name: str
    benefit: str
    amount_yuan: int | None = None
    rate_percent: float | None = None
    cap_yuan: int | None = None
    deadline: date | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "benefit": self.benefit, "amount_yuan": self.amount_yuan,
            "rate_percent": self.rate_percent, "cap_yuan": self.cap_yuan,
            "deadline": self.deadline.isoformat() if self.deadline else None, "track": "apply",
            "conditions": self.conditions,
        }  # fmt: skip


def _yuan(number: str, unit: str) -> int:
    return round(float(number) * (10_000 if unit == "万元" else 1))


def _mentioned(sentence: str, entries: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    return [code for code, words in entries if any(w and w in sentence for w in words)]


def _conditions(sentence: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    tags = taxonomy.eligibility_tags()
    groups = _mentioned(sentence, [(t.code, t.aliases) for t in tags if t.audience == "resident"])
    quals = _mentioned(sentence, [(t.code, t.aliases) for t in tags if t.audience == "enterprise"])
    towns = _mentioned(sentence, [(r.code, (r.name, *r.aliases)) for r in taxonomy.regions() if r.kind == "township"])
    if towns:
        out.append({"kind": "township", "codes": towns})
    if quals:
        out.append({"kind": "audience", "codes": ["enterprise"]})
        out.append({"kind": "qualification", "codes": quals})
    elif groups:
        out.append({"kind": "audience", "codes": ["resident"]})
        out.append({"kind": "person_group", "codes": groups})
    if found := _AGE_RANGE.search(sentence):
        out.append({"kind": "age", "low": int(found.group(1)), "high": int(found.group(2))})
    elif found := _AGE_UNDER.search(sentence):
        out.append({"kind": "age", "high": int(found.group(1))})
    elif found := _AGE_OVER.search(sentence):
        out.append({"kind": "age", "low": int(found.group(1))})
    return out


def suggest_items(text: str) -> list[SuggestedItem]:
    """Suggestions in the order the text gives them, at most one per sentence."""
    suggestions: list[SuggestedItem] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group().strip()
        cap = _CAP.search(sentence)
        amounts = [a for a in _AMOUNT.finditer(sentence) if not cap or a.start() < cap.start() or a.end() > cap.end()]
        rate = _RATE.search(sentence)
        if not (amounts or cap or rate):
            continue
        named = _NAME.search(sentence)
        name = _NAME_CUT.sub("", named.group(1)) if named else ""
        if len(name) <= 2:
            name = f"{name or '事项'}（{sentence[:12]}）"
        deadline = parse_chinese_date(sentence) if _DEADLINE_CUE.search(sentence) else None
        suggestions.append(SuggestedItem(
            name=name,
            benefit=sentence[:300],
            amount_yuan=_yuan(*amounts[0].groups()) if amounts else None,
            rate_percent=float(rate.group(1)) if rate else None,
            cap_yuan=_yuan(*cap.groups()) if cap else None,
            deadline=deadline,
            conditions=_conditions(sentence),
        ))  # fmt: skip
        if len(suggestions) >= MAX_SUGGESTIONS:
            break
    return suggestions
