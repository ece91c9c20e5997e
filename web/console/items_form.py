"""The console's item form ↔ the item JSON `policies.items.inputs.parse_items` reads.

Every condition is a choice from the fixed vocabulary (checkboxes, selects, whole numbers),
plus one free-text condition: nothing a clerk types is ever run as code."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from policies.views import ConditionKind

TEXT_FIELDS = ("name", "benefit", "amount_yuan", "rate_percent", "cap_yuan", "track", "deadline", "apply_url",
               "apply_place", "materials", "phone")  # fmt: skip
CODE_FIELDS = {
    "c_township": ConditionKind.TOWNSHIP, "c_industry": ConditionKind.INDUSTRY, "c_size": ConditionKind.SIZE,
    "c_qualification": ConditionKind.QUALIFICATION, "c_group": ConditionKind.PERSON_GROUP,
}
RANGE_FIELDS = {"c_reg": ConditionKind.REGISTRATION_AGE, "c_age": ConditionKind.AGE}
MAX_FIELD_CHARS = 2000


def _one(form: FormData | dict[str, Any], name: str) -> str:
    value = form.get(name)
    return str(value).strip()[:MAX_FIELD_CHARS] if value is not None else ""


def _many(form: FormData | dict[str, Any], name: str) -> list[str]:
    values = form.getlist(name) if isinstance(form, FormData) else form.get(name, [])
    return [str(v)[:40] for v in values][:40]


def item_from_form(form: FormData) -> dict[str, Any]:
    item: dict[str, Any] = {name: _one(form, name) or None for name in TEXT_FIELDS}
    conditions: list[dict[str, Any]] = []
    if _one(form, "c_audience") in ("enterprise", "resident"):
        conditions.append({"kind": ConditionKind.AUDIENCE, "codes": [_one(form, "c_audience")]})
    for field, kind in CODE_FIELDS.items():
        if codes := _many(form, field):
            conditions.append({"kind": kind, "codes": codes})
    for prefix, kind in RANGE_FIELDS.items():
        low, high = _one(form, f"{prefix}_low"), _one(form, f"{prefix}_high")
        if low or high:
            conditions.append({"kind": kind, "low": low or None, "high": high or None})
    if _one(form, "c_hukou") == "yes":
        conditions.append({"kind": ConditionKind.HUKOU})
    if graduate := _one(form, "c_graduate"):
        conditions.append({"kind": ConditionKind.GRADUATE, "high": graduate})
    if text := _one(form, "c_text"):
        conditions.append({"kind": ConditionKind.TEXT, "text": text})
    item["conditions"] = conditions
    return item


def form_from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Form values from an item's JSON (a suggestion to start from, or a refused attempt)."""
    values: dict[str, Any] = {name: "" if item.get(name) is None else str(item[name]) for name in TEXT_FIELDS}
    by_kind = {c["kind"]: c for c in item.get("conditions", [])}
    audience = by_kind.get(ConditionKind.AUDIENCE, {}).get("codes") or [""]
    values["c_audience"] = audience[0]
    for field, kind in CODE_FIELDS.items():
        values[field] = list(by_kind.get(kind, {}).get("codes") or [])
    for prefix, kind in RANGE_FIELDS.items():
        values[f"{prefix}_low"] = str(by_kind.get(kind, {}).get("low") or "")
        values[f"{prefix}_high"] = str(by_kind.get(kind, {}).get("high") or "")
    values["c_hukou"] = "yes" if ConditionKind.HUKOU in by_kind else ""
    values["c_graduate"] = str(by_kind.get(ConditionKind.GRADUATE, {}).get("high") or "")
    values["c_text"] = by_kind.get(ConditionKind.TEXT, {}).get("text", "")
    return values
