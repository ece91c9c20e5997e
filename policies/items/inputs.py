"""An item as a clerk or a system sends it (console form, REST API), checked field by field.

Problems name the field as `items[i].name`; messages are Chinese and say how to fix it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from policies.items.conditions import Condition, parse_conditions
from policies.items.vocabulary import REGISTER_CHECKABLE, TRACK_LABELS, Track
from policies.pii import find_pii
from policies.validation import Problems

MAX_ITEMS = 50
MAX_AMOUNT_YUAN = 10_000_000_000
TEXT_LIMITS = {"name": 200, "benefit": 2000, "apply_url": 500, "apply_place": 300, "materials": 2000, "phone": 40}
FIELD_LABELS = {"name": "事项名称", "benefit": "享受内容", "apply_url": "网上办理链接", "apply_place": "受理窗口",
                "materials": "申请材料", "phone": "咨询电话"}  # fmt: skip


@dataclass(frozen=True)
class ItemInput:
    name: str
    track: str = Track.APPLY
    benefit: str = ""
    amount_yuan: int | None = None
    rate_percent: float | None = None
    cap_yuan: int | None = None
    conditions: tuple[Condition, ...] = ()
    apply_url: str = ""
    apply_place: str = ""
    materials: str = ""
    deadline: date | None = None
    phone: str = ""


def _text(raw: Mapping[str, Any], name: str, at: str, problems: Problems) -> str:
    value = raw.get(name) or ""
    if not isinstance(value, str):
        problems.add(f"{at}.{name}", f"{at}：{FIELD_LABELS[name]}应为文字")
        return ""
    value = value.strip()
    if len(value) > TEXT_LIMITS[name]:
        problems.add(f"{at}.{name}", f"{at}：{FIELD_LABELS[name]}最多 {TEXT_LIMITS[name]} 个字")
    for finding in find_pii(value):
        problems.add(f"{at}.{name}", f"{at}：{FIELD_LABELS[name]}中{finding.describe()}，请删除或遮盖")
    return value


def _number(raw: Mapping[str, Any], name: str, label: str, top: float, at: str, problems: Problems) -> float | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not 0 < number <= top:
        problems.add(f"{at}.{name}", f"{at}：{label}应为大于 0、不超过 {top:g} 的数")
        return None
    return number


def _deadline(raw: Mapping[str, Any], at: str, problems: Problems) -> date | None:
    value = raw.get("deadline")
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.add(f"{at}.deadline", f"{at}：截止日期格式应为 2026-06-30")
        return None


def parse_item(raw: Mapping[str, Any], at: str, problems: Problems) -> ItemInput | None:
    name = _text(raw, "name", at, problems)
    if not name:
        problems.add(f"{at}.name", f"{at}：请填写事项名称")
    track = raw.get("track") or Track.APPLY
    if track not in Track.ALL:
        problems.add(f"{at}.track", f"{at}：办理方式只能是{'、'.join(TRACK_LABELS.values())}之一")
    conditions = parse_conditions(raw.get("conditions"), f"{at}.conditions", problems)
    for c in conditions:
        if c.kind == "text":
            for finding in find_pii(c.text):
                problems.add(f"{at}.conditions", f"{at}：其他条件中{finding.describe()}，请删除或遮盖")
    if track == Track.AUTO and any(c.kind not in REGISTER_CHECKABLE for c in conditions):
        problems.add(f"{at}.track",
                     f"{at}：免申即享事项的条件须全部能由县里掌握的数据核验，请去掉“其他条件”或改为快申快享")
    amount = _number(raw, "amount_yuan", "金额（元）", MAX_AMOUNT_YUAN, at, problems)
    cap = _number(raw, "cap_yuan", "封顶金额（元）", MAX_AMOUNT_YUAN, at, problems)
    rate = _number(raw, "rate_percent", "比例（%）", 100, at, problems)
    item = ItemInput(
        name=name, track=track, benefit=_text(raw, "benefit", at, problems),
        amount_yuan=int(amount) if amount else None, rate_percent=rate, cap_yuan=int(cap) if cap else None,
        conditions=conditions, apply_url=_text(raw, "apply_url", at, problems),
        apply_place=_text(raw, "apply_place", at, problems), materials=_text(raw, "materials", at, problems),
        deadline=_deadline(raw, at, problems), phone=_text(raw, "phone", at, problems),
    )  # fmt: skip
    if item.apply_url and not item.apply_url.startswith(("https://", "http://")):
        problems.add(f"{at}.apply_url", f"{at}：网上办理链接应以 https:// 开头")
    return item


def parse_items(raw: object) -> list[ItemInput]:
    """Items from their JSON form; raises ValidationFailed listing every problem."""
    problems = Problems()
    if not isinstance(raw, list) or len(raw) > MAX_ITEMS:
        problems.add("items", f"事项应为列表，最多 {MAX_ITEMS} 项")
        problems.raise_if_any()
    items = []
    for i, entry in enumerate(raw):  # type: ignore[arg-type]
        at = f"items[{i}]"
        if not isinstance(entry, Mapping):
            problems.add(at, f"{at}：事项格式不对")
            continue
        item = parse_item(entry, at, problems)
        if item is not None:
            items.append(item)
    problems.raise_if_any()
    return items
