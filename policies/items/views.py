"""Read models of policy items (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from policies.items.conditions import Condition
from policies.items.vocabulary import TRACK_LABELS


@dataclass(frozen=True, slots=True)
class ItemView:
    id: int
    policy_id: int
    revision: int
    position: int
    name: str
    benefit: str
    amount_yuan: int | None
    rate_percent: float | None
    cap_yuan: int | None
    track: str
    conditions: tuple[Condition, ...]
    apply_url: str
    apply_place: str
    materials: str
    deadline: date | None
    phone: str
    policy_title: str = ""
    agency: str = ""

    @property
    def value_yuan(self) -> int:
        """What the item is worth at most, for sorting: the fixed sum, else the cap, else 0."""
        return self.amount_yuan or self.cap_yuan or 0

    @property
    def track_label(self) -> str:
        return TRACK_LABELS[self.track]

    @property
    def amount_text(self) -> str:
        """The figures in words: “5000元”, “30%，封顶10万元”; "" when the item names none."""
        parts = []
        if self.amount_yuan:
            parts.append(yuan_text(self.amount_yuan))
        if self.rate_percent:
            parts.append(f"{self.rate_percent:g}%")
        if self.cap_yuan:
            parts.append(f"封顶{yuan_text(self.cap_yuan)}")
        return "，".join(parts)


def yuan_text(amount: int) -> str:
    if amount >= 10_000 and amount % 1_000 == 0:
        return f"{amount / 10_000:g}万元"
    return f"{amount}元"


def item_payload(item: ItemView) -> dict[str, object]:
    """The item in the JSON form `parse_items` reads (to re-save it beside an edited one)."""
    return {
        "name": item.name, "track": item.track, "benefit": item.benefit, "amount_yuan": item.amount_yuan,
        "rate_percent": item.rate_percent, "cap_yuan": item.cap_yuan,
        "conditions": [c.as_json() for c in item.conditions], "apply_url": item.apply_url,
        "apply_place": item.apply_place, "materials": item.materials,
        "deadline": item.deadline.isoformat() if item.deadline else None, "phone": item.phone,
    }  # fmt: skip
