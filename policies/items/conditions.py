"""Conditions of a policy item: the structured form, how it is read from JSON (checked against
the vocabulary), and how it reads in Chinese.

A condition is one of the kinds in `ConditionKind`, never free code. Code lists mean "any of";
numeric bounds are whole numbers, both inclusive. An item holds at most one condition of each
kind (two would be one condition with a narrower range), apart from free text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policies.items.vocabulary import (
    AGE_DOMAIN,
    CONDITION_LABELS,
    MAX_YEARS,
    SIZES,
    ConditionKind,
    name_of,
    person_group_codes,
    qualification_codes,
    section_codes,
    township_codes,
)
from policies.validation import Problems

MAX_TEXT = 300
MAX_CODES = 40
CODE_KINDS = (ConditionKind.TOWNSHIP, ConditionKind.INDUSTRY, ConditionKind.SIZE, ConditionKind.QUALIFICATION,
              ConditionKind.PERSON_GROUP)  # fmt: skip
RANGE_KINDS = (ConditionKind.AGE, ConditionKind.REGISTRATION_AGE, ConditionKind.GRADUATE)


@dataclass(frozen=True, slots=True)
class Condition:
    kind: str
    codes: frozenset[str] = frozenset()  # audience, township, industry, size, qualification, person group
    low: int | None = None  # age, registration age: inclusive lower bound
    high: int | None = None  # age, registration age, years since graduation: inclusive upper bound
    text: str = ""  # free-text condition

    @property
    def checkable(self) -> bool:
        return self.kind != ConditionKind.TEXT

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.codes:
            out["codes"] = sorted(self.codes)
        if self.low is not None:
            out["low"] = self.low
        if self.high is not None:
            out["high"] = self.high
        if self.text:
            out["text"] = self.text
        return out

    def describe(self) -> str:
        """The condition as a reader sees it, e.g. “所属行业：制造业或住宿和餐饮业”."""
        label = CONDITION_LABELS[self.kind]
        if self.kind == ConditionKind.TEXT:
            return self.text
        if self.kind == ConditionKind.AUDIENCE:
            return f"{label}：{'企业' if 'enterprise' in self.codes else '个人'}"
        if self.kind == ConditionKind.HUKOU:
            return "户籍：本县户籍"
        if self.kind in CODE_KINDS:
            names = [name_of(self.kind, c) for c in _ordered(self.kind, self.codes)]
            return f"{label}：{'或'.join(names)}"
        if self.kind == ConditionKind.GRADUATE:
            return f"{label}：毕业{self.high}年内"
        unit = "周岁" if self.kind == ConditionKind.AGE else "年"
        prefix = "" if self.kind == ConditionKind.AGE else "成立"
        if self.low is not None and self.high is not None:
            return f"{label}：{prefix}{self.low}至{self.high}{unit}"
        if self.low is not None:
            return f"{label}：{prefix}{self.low}{unit}及以上"
        return f"{label}：{prefix}{self.high}{unit}及以下"


def _ordered(kind: str, codes: Iterable[str]) -> list[str]:
    order = {c: i for i, c in enumerate(allowed_codes(kind))}
    return sorted(codes, key=lambda c: (order.get(c, len(order)), c))


def allowed_codes(kind: str) -> tuple[str, ...]:
    return {
        ConditionKind.AUDIENCE: ("enterprise", "resident"),
        ConditionKind.TOWNSHIP: township_codes(),
        ConditionKind.INDUSTRY: section_codes(),
        ConditionKind.SIZE: SIZES,
        ConditionKind.QUALIFICATION: qualification_codes(),
        ConditionKind.PERSON_GROUP: person_group_codes(),
    }[kind]


def _bound(raw: Mapping[str, Any], name: str, top: int, where: str, problems: Problems) -> int | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        problems.add(where, f"{where}：请填写 0 到 {top} 之间的整数")
        return None
    number = int(value)
    if number > top:
        problems.add(where, f"{where}：请填写 0 到 {top} 之间的整数")
        return None
    return number


def parse_condition(raw: Mapping[str, Any], where: str, problems: Problems) -> Condition | None:
    """One condition from its JSON form; problems name `where` (e.g. items[0].conditions[2])."""
    kind = raw.get("kind")
    if kind not in ConditionKind.ALL:
        problems.add(where, f"{where}：未知的条件类型，可选：{'、'.join(CONDITION_LABELS.values())}")
        return None
    label = CONDITION_LABELS[kind]
    if kind == ConditionKind.TEXT:
        text = str(raw.get("text") or "").strip()
        if not text or len(text) > MAX_TEXT:
            problems.add(where, f"{where}：{label}请填写 1 到 {MAX_TEXT} 个字")
            return None
        return Condition(kind, text=text)
    if kind == ConditionKind.HUKOU:
        return Condition(kind)
    if kind in RANGE_KINDS:
        top = AGE_DOMAIN[1] if kind == ConditionKind.AGE else MAX_YEARS
        low = None if kind == ConditionKind.GRADUATE else _bound(raw, "low", top, where, problems)
        high = _bound(raw, "high", top, where, problems)
        if kind == ConditionKind.GRADUATE and high is None:
            problems.add(where, f"{where}：请填写毕业年限（几年内）")
            return None
        if low is None and high is None:
            problems.add(where, f"{where}：{label}至少填写一个界限")
            return None
        if low is not None and high is not None and low > high:
            problems.add(where, f"{where}：{label}的下限大于上限")
            return None
        return Condition(kind, low=low, high=high)
    codes = raw.get("codes")
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list) or not codes or len(codes) > MAX_CODES:
        problems.add(where, f"{where}：{label}请至少选择一项")
        return None
    allowed = set(allowed_codes(kind))
    unknown = [str(c) for c in codes if c not in allowed]
    if unknown:
        problems.add(where, f"{where}：{label}中有未知的选项“{'、'.join(unknown[:3])}”")
        return None
    if kind == ConditionKind.AUDIENCE and len(set(codes)) != 1:
        problems.add(where, f"{where}：{label}只能选企业或个人之一")
        return None
    return Condition(kind, codes=frozenset(codes))


def parse_conditions(raw: object, where: str, problems: Problems) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(where, f"{where}：条件应为列表")
        return ()
    out: list[Condition] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(entry, Mapping):
            problems.add(at, f"{at}：条件格式不对")
            continue
        condition = parse_condition(entry, at, problems)
        if condition is None:
            continue
        if condition.kind != ConditionKind.TEXT and condition.kind in seen:
            problems.add(at, f"{at}：同一事项的“{CONDITION_LABELS[condition.kind]}”只能有一条，请合并")
            continue
        seen.add(condition.kind)
        out.append(condition)
    return tuple(out)


def conditions_from_json(raw: Iterable[Mapping[str, Any]]) -> tuple[Condition, ...]:
    """Stored conditions (already checked when saved) back into `Condition`s."""
    return tuple(
        Condition(
            kind=c["kind"],
            codes=frozenset(c.get("codes", ())),
            low=c.get("low"),
            high=c.get("high"),
            text=c.get("text", ""),
        )
        for c in raw
    )
