"""What the calculator answers, shaped once for every face (REST API, public page, chats):
the Chinese lines a person reads, with no internal codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from policies.items.calculator import STANDING_LABELS, CalculatorResult, ItemAnswer, Standing
from policies.items.evaluate import OUTCOME_LABELS
from policies.items.vocabulary import Track


@dataclass(frozen=True)
class ConditionLine:
    text: str
    outcome: str  # 符合 / 不符合 / 需核实


@dataclass(frozen=True)
class AnswerCard:
    policy_id: int
    policy_title: str
    name: str
    standing: str  # Chinese label
    amount: str
    benefit: str
    track: str
    auto_granted: bool
    deadline: str
    apply_url: str
    apply_place: str
    phone: str
    conditions: tuple[ConditionLine, ...]
    missing: tuple[str, ...]
    to_verify: tuple[str, ...]


def deadline_text(deadline: date | None) -> str:
    return f"{deadline:%Y年%m月%d日}前" if deadline else "长期有效"


def card(answer: ItemAnswer, fallback_phone: str) -> AnswerCard:
    item = answer.item
    return AnswerCard(
        policy_id=item.policy_id, policy_title=item.policy_title, name=item.name,
        standing=STANDING_LABELS[answer.standing], amount=item.amount_text or item.benefit[:60],
        benefit=item.benefit, track=item.track_label, auto_granted=item.track == Track.AUTO,
        deadline=deadline_text(item.deadline), apply_url=item.apply_url, apply_place=item.apply_place,
        phone=item.phone or fallback_phone,
        conditions=tuple(ConditionLine(c.condition.describe(), OUTCOME_LABELS[c.outcome]) for c in answer.checks),
        missing=tuple(c.describe() for c in answer.missing),
        to_verify=tuple(c.describe() for c in answer.to_verify),
    )  # fmt: skip


def cards(result: CalculatorResult, fallback_phone: str) -> dict[str, list[AnswerCard]]:
    return {
        Standing.QUALIFIED: [card(a, fallback_phone) for a in result.qualified],
        Standing.TO_VERIFY: [card(a, fallback_phone) for a in result.to_verify],
        Standing.NEARLY: [card(a, fallback_phone) for a in result.nearly],
    }


def how_to_get(c: AnswerCard) -> str:
    if c.auto_granted:
        return "无需申请，符合条件的将直接兑现"
    parts = [p for p in (c.apply_url and f"网上办理：{c.apply_url}", c.apply_place and f"窗口：{c.apply_place}") if p]
    return "；".join(parts) or "请电话咨询办理方式"


def as_json(c: AnswerCard) -> dict[str, Any]:
    return {
        "policy_id": c.policy_id, "policy_title": c.policy_title, "name": c.name, "standing": c.standing,
        "amount": c.amount, "benefit": c.benefit, "track": c.track, "deadline": c.deadline,
        "how_to_get": how_to_get(c), "apply_url": c.apply_url, "phone": c.phone,
        "conditions": [{"text": line.text, "outcome": line.outcome} for line in c.conditions],
        "missing": list(c.missing), "to_verify": list(c.to_verify),
    }  # fmt: skip
