"""What the draft form and `POST /api/suggest` show while someone writes: suggested tags
and personal data found in the text. Shared so the console and the API say the same."""

from __future__ import annotations

from dataclasses import dataclass

from policies.service import find_pii, mask_pii, suggest_tags
from vocabulary.labels import field_label, label
from vocabulary.taxonomy import eligibility_by_code, industry_by_code, region_by_code


@dataclass(frozen=True)
class Tag:
    code: str
    name: str


@dataclass(frozen=True)
class TopicTag:
    code: str
    name: str
    score: float
    triggers: list[str]


@dataclass(frozen=True)
class PiiWarning:
    field: str
    kind: str
    label: str
    line: int
    column: int
    start: int
    end: int
    masked: str
    message: str
    field_label: str = ""


@dataclass(frozen=True)
class DraftAnalysis:
    topics: list[TopicTag]
    keywords: list[str]
    audience: str
    audience_label: str
    regions: list[Tag]
    eligibility: list[Tag]
    industries: list[Tag]
    pii: list[PiiWarning]


def _named(codes: list[str], lookup: object) -> list[Tag]:
    tags = []
    for code in codes:
        found = lookup(code)  # type: ignore[operator]
        tags.append(Tag(code=code, name=found.name if found else code))
    return tags


def pii_warnings(fields: dict[str, str]) -> list[PiiWarning]:
    warnings = []
    for name, text in fields.items():
        for f in find_pii(text or ""):
            warnings.append(PiiWarning(field=name, kind=f.kind, label=f.label, line=f.line, column=f.column,
                                       start=f.start, end=f.end, masked=f.masked,
                                       message=f"{f.describe()}，发布前请删除或遮盖",
                                       field_label=field_label(name)))
    return warnings


def analyse(title: str, body: str, extra: dict[str, str] | None = None) -> DraftAnalysis:
    suggestion = suggest_tags(body, title)
    return DraftAnalysis(
        topics=[TopicTag(code=t.code, name=t.name, score=round(t.score, 3), triggers=list(t.triggers))
                for t in suggestion.topics],
        keywords=list(suggestion.keywords),
        audience=suggestion.audience,
        audience_label=label("audience", suggestion.audience),
        regions=_named(suggestion.regions, region_by_code),
        eligibility=_named(suggestion.eligibility, eligibility_by_code),
        industries=_named(suggestion.industries, industry_by_code),
        pii=pii_warnings({"title": title, "body": body, **(extra or {})}),
    )


def mask(text: str) -> str:
    return mask_pii(text)
