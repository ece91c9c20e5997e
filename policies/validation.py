"""Checks a draft must pass; each problem names its field, in Chinese."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from core.errors import ValidationFailed
from policies.models import INTERPRETATION_ELEMENTS, Audience, PolicyKind
from policies.text.docno import DocNo, DocNoError, parse_doc_no
from vocabulary.taxonomy import resolve_eligibility, resolve_industry, resolve_region, resolve_topic

REQUIRED_INTERPRETATION_ELEMENTS = ("background", "goals", "key_points", "scope", "standards", "notes")


@dataclass
class Problems:
    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.items.append({"field": field_name, "message": message})

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        summary = "；".join(item["message"] for item in self.items)
        raise ValidationFailed(summary, field=first["field"], details=self.items)


def check_doc_no(raw: str | None, problems: Problems) -> DocNo | None:
    if not raw or not raw.strip():
        return None
    try:
        return parse_doc_no(raw)
    except DocNoError as exc:
        problems.add("doc_no", str(exc))
        return None


def normalise_codes(values: list[str], kind: str, problems: Problems) -> list[str]:
    resolvers = {
        "topics": (resolve_topic, "主题"),
        "regions": (resolve_region, "乡镇"),
        "industries": (resolve_industry, "行业"),
        "eligibility": (resolve_eligibility, "享受条件标签"),
    }
    resolve, label = resolvers[kind]
    codes: list[str] = []
    for value in values:
        found = resolve(value)
        if found is None:
            problems.add(kind, f"未知的{label}“{value}”")
        elif found.code not in codes:
            codes.append(found.code)
    return codes


def check_choice(value: str, allowed: tuple[str, ...], field_name: str, label: str, problems: Problems) -> None:
    if value not in allowed:
        problems.add(field_name, f"{label}“{value}”无效，可选：{'、'.join(allowed)}")


def check_dates(
    *,
    effective: date | None,
    expiry: date | None,
    opens: date | None,
    closes: date | None,
    problems: Problems,
) -> None:
    if effective and expiry and expiry <= effective:
        problems.add("expiry_date", "失效日期必须晚于施行日期")
    if opens and closes and closes < opens:
        problems.add("application_closes", "申报截止日期不能早于申报开始日期")


# Bidirectional-text controls (LRE…RLO, LRI…PDI, LRM, RLM, ALM) reorder what a reader sees:
# a title could display as something other than what was reviewed and published.
_BIDI_CONTROLS = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def clean_title(title: str) -> str:
    """The title without bidi control characters and outer whitespace."""
    return (title or "").translate(_BIDI_CONTROLS).strip()


def check_text(title: str, body: str, agency: str, problems: Problems) -> None:
    if not title.strip():
        problems.add("title", "标题不能为空")
    elif len(title) > 300:
        problems.add("title", "标题过长（最多 300 字）")
    if not body.strip():
        problems.add("body", "正文不能为空")
    if not agency.strip():
        problems.add("agency", "发文机关不能为空")


def check_interpretation_complete(elements: dict[str, str], unit: str, phone: str, problems: Problems) -> None:
    for key in REQUIRED_INTERPRETATION_ELEMENTS:
        if not (elements.get(key) or "").strip():
            problems.add(f"interpretation.{key}", f"政策解读缺少“{INTERPRETATION_ELEMENTS[key]}”")
    if not unit.strip():
        problems.add("interpretation.unit", "政策解读缺少解读单位")
    if not phone.strip():
        problems.add("interpretation.phone", "政策解读缺少政策咨询电话")


KINDS = PolicyKind.ALL
AUDIENCES = Audience.ALL
