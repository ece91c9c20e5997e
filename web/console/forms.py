"""The draft form: what the browser posts, turned into a `DraftInput`, and back into the
values the form shows again when something is wrong (nothing typed is lost)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from starlette.datastructures import FormData

from core.errors import ValidationFailed
from policies.service import AmendmentInput, DraftInput, InterpretationInput
from policies.views import INTERPRETATION_ELEMENTS, InterpretationView, PolicyView, Problems

TEXT_FIELDS = ("title", "doc_no", "agency", "kind", "audience", "summary", "benefits", "who_qualifies",
               "source_url", "body", "keywords", "interpretation_unit", "interpretation_phone")
DATE_FIELDS = ("issued_on", "effective_date", "expiry_date", "application_opens", "application_closes")
LIST_FIELDS = ("topics", "regions", "industries", "eligibility")
DATE_LABELS = {
    "issued_on": "成文日期",
    "effective_date": "施行日期",
    "expiry_date": "失效日期",
    "application_opens": "申报开始",
    "application_closes": "申报截止",
}
_KEYWORD_SPLIT = re.compile(r"[，,、；;\s]+")


@dataclass
class DraftForm:
    """Raw values as typed: strings, lists of codes, and the interpretation elements."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    elements: dict[str, str] = field(default_factory=dict)
    urgent: bool = False

    @classmethod
    def from_form(cls, form: FormData) -> DraftForm:
        values = {name: str(form.get(name) or "") for name in (*TEXT_FIELDS, *DATE_FIELDS)}
        lists = {name: [str(v) for v in form.getlist(name) if v] for name in LIST_FIELDS}
        elements = {key: str(form.get(f"element_{key}") or "") for key in INTERPRETATION_ELEMENTS}
        # 惠企举措 is asked once, on the policy; the interpretation's element repeats it.
        if not elements.get("benefits") and values.get("audience") != "resident":
            elements["benefits"] = values.get("benefits", "")
        return cls(values=values, lists=lists, elements=elements, urgent=form.get("urgent") == "on")

    @classmethod
    def empty(cls, agency: str) -> DraftForm:
        form = cls(values=dict.fromkeys((*TEXT_FIELDS, *DATE_FIELDS), ""), lists={n: [] for n in LIST_FIELDS},
                   elements=dict.fromkeys(INTERPRETATION_ELEMENTS, ""))
        form.values.update(agency=agency, kind="other", audience="both")
        return form

    @classmethod
    def of_policy(cls, policy: PolicyView, body: str, interpretation: InterpretationView | None) -> DraftForm:
        form = cls.empty(policy.agency)
        for name in ("title", "agency", "kind", "audience", "summary", "benefits", "who_qualifies", "source_url"):
            form.values[name] = str(getattr(policy, name) or "")
        form.values["doc_no"] = policy.doc_no or ""
        form.values["body"] = body
        form.values["keywords"] = "，".join(policy.keywords)
        for name in DATE_FIELDS:
            value = getattr(policy, name)
            form.values[name] = value.isoformat() if value else ""
        for name in LIST_FIELDS:
            form.lists[name] = list(getattr(policy, name))
        if interpretation is not None:
            form.elements.update(interpretation.elements)
            form.values["benefits"] = form.values["benefits"] or interpretation.elements.get("benefits", "")
            form.values["interpretation_unit"] = interpretation.unit
            form.values["interpretation_phone"] = interpretation.phone
        form.urgent = policy.urgent
        return form

    def has_interpretation(self) -> bool:
        return any(v.strip() for v in self.elements.values()) or bool(
            self.values.get("interpretation_unit", "").strip() or self.values.get("interpretation_phone", "").strip())

    def to_input(self, agency: str) -> DraftInput:
        """Raises ValidationFailed naming every date that is not a date."""
        problems = Problems()
        dates = {name: _date(self.values.get(name, ""), name, problems) for name in DATE_FIELDS}
        problems.raise_if_any()
        interpretation = None
        if self.has_interpretation():
            interpretation = InterpretationInput(
                elements={k: v for k, v in self.elements.items() if v.strip()},
                unit=self.values.get("interpretation_unit", "").strip(),
                phone=self.values.get("interpretation_phone", "").strip(),
            )
        v = self.values
        return DraftInput(
            title=v.get("title", ""), body=v.get("body", ""), agency=agency,
            doc_no=v.get("doc_no", "").strip() or None, kind=v.get("kind") or "other",
            audience=v.get("audience") or "both",
            topics=self.lists.get("topics", []), regions=self.lists.get("regions", []),
            industries=self.lists.get("industries", []), eligibility=self.lists.get("eligibility", []),
            keywords=[k for k in _KEYWORD_SPLIT.split(v.get("keywords", "")) if k],
            summary=v.get("summary", ""), benefits=v.get("benefits", ""), who_qualifies=v.get("who_qualifies", ""),
            source_url=v.get("source_url", "").strip(), urgent=self.urgent, interpretation=interpretation,
            **dates,
        )

    def masked(self, mask: object) -> DraftForm:
        """The same form with personal data masked in every free-text field."""
        values = dict(self.values)
        for name in ("title", "body", "summary", "benefits", "who_qualifies"):
            values[name] = mask(values.get(name, ""))  # type: ignore[operator]
        elements = {k: mask(v) for k, v in self.elements.items()}  # type: ignore[operator]
        return DraftForm(values=values, lists=self.lists, elements=elements, urgent=self.urgent)

    def free_texts(self) -> dict[str, str]:
        texts = {name: self.values.get(name, "") for name in ("summary", "benefits", "who_qualifies")}
        texts.update({f"interpretation.{k}": v for k, v in self.elements.items()})
        return texts


def _date(raw: str, name: str, problems: Problems) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.add(name, f"{DATE_LABELS[name]}“{raw}”不是有效日期，请按 2026-03-01 的格式填写")
        return None


def amendment_from_form(form: FormData) -> AmendmentInput:
    problems = Problems()
    expiry = _date(str(form.get("expiry_date") or ""), "expiry_date", problems)
    closes = _date(str(form.get("application_closes") or ""), "application_closes", problems)
    problems.raise_if_any()
    return AmendmentInput(body=str(form.get("body") or ""), change_summary=str(form.get("change_summary") or ""),
                          title=str(form.get("title") or "").strip() or None, expiry_date=expiry,
                          application_closes=closes)


def require_text(value: str, field_name: str, message: str) -> str:
    if not value.strip():
        raise ValidationFailed(message, field=field_name)
    return value
