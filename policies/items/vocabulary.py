"""The fixed vocabulary of policy items (事项): condition kinds, enterprise sizes, application
tracks, and the 2017 SME size table, with the Chinese labels people read.

Industries (GB/T 4754 sections), townships and qualification / person-group codes are the
taxonomy's (`vocabulary/data/*.toml`), so an item's conditions and a subscriber's profile speak
the same codes. The SME table is data too (`policies/data/sme_thresholds.toml`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vocabulary import taxonomy

SME_FILE = Path(__file__).resolve().parent.parent / "data" / "sme_thresholds.toml"


class ConditionKind:
    AUDIENCE = "audience"
    TOWNSHIP = "township"
    INDUSTRY = "industry"
    SIZE = "size"
    REGISTRATION_AGE = "registration_age"
    QUALIFICATION = "qualification"
    AGE = "age"
    HUKOU = "hukou"
    PERSON_GROUP = "person_group"
    GRADUATE = "graduate"
    TEXT = "text"  # shown to the reader, never checked by the machine
    ALL = (AUDIENCE, TOWNSHIP, INDUSTRY, SIZE, REGISTRATION_AGE, QUALIFICATION, AGE, HUKOU, PERSON_GROUP,
           GRADUATE, TEXT)  # fmt: skip


CONDITION_LABELS: dict[str, str] = {
    ConditionKind.AUDIENCE: "面向对象",
    ConditionKind.TOWNSHIP: "所在乡镇",
    ConditionKind.INDUSTRY: "所属行业",
    ConditionKind.SIZE: "企业规模",
    ConditionKind.REGISTRATION_AGE: "成立年限",
    ConditionKind.QUALIFICATION: "企业资质",
    ConditionKind.AGE: "年龄",
    ConditionKind.HUKOU: "户籍",
    ConditionKind.PERSON_GROUP: "人员类别",
    ConditionKind.GRADUATE: "高校毕业生",
    ConditionKind.TEXT: "其他条件",
}


class Track:
    """How an item is obtained."""

    AUTO = "auto"  # 免申即享: granted from data the county holds, nobody applies
    FAST = "fast"  # 快申快享
    APPLY = "apply"  # 一般申报
    ALL = (AUTO, FAST, APPLY)


TRACK_LABELS = {Track.AUTO: "免申即享", Track.FAST: "快申快享", Track.APPLY: "申请办理"}

# The condition kinds the county's registers answer (enterprise register, tax, civil affairs,
# household register, human resources): an item may be 免申即享 only when every condition is
# one of these, i.e. it has no free-text condition a person would have to judge.
REGISTER_CHECKABLE = frozenset(set(ConditionKind.ALL) - {ConditionKind.TEXT})

SIZES = ("micro", "small", "medium", "large")  # ascending; a class index is its position
SIZE_LABELS = {"micro": "微型企业", "small": "小型企业", "medium": "中型企业", "large": "大型企业"}
METRICS = ("employees", "revenue", "assets")
METRIC_LABELS = {"employees": "从业人员（人）", "revenue": "营业收入（万元）", "assets": "资产总额（万元）"}

# Domains of the numeric person and enterprise facts: a condition covering the whole domain
# is met even when the fact is unknown.
AGE_DOMAIN = (0, 150)
YEARS_DOMAIN = (0, 200)  # years since registration or graduation
MAX_YEARS = YEARS_DOMAIN[1]


@dataclass(frozen=True, slots=True)
class SizeRule:
    """The size bounds of the sections one row of the 2017 table covers."""

    sections: tuple[str, ...]
    basis: str
    bounds: dict[str, tuple[float, float, float]]  # metric → lower bounds of (small, medium, large)

    def size_index(self, values: dict[str, float]) -> int:
        """The class index (0 micro … 3 large) of fully known metric values."""
        level = 3
        for metric, lows in self.bounds.items():
            value = values[metric]
            reached = sum(1 for low in lows if value >= low)
            level = min(level, reached)
        return level


@cache
def size_rules() -> dict[str, SizeRule]:
    """Section letter → its size rule; every taxonomy section has one."""
    with SME_FILE.open("rb") as fh:
        raw = tomllib.load(fh)
    by_section: dict[str, SizeRule] = {}
    fallback: SizeRule | None = None
    for row in raw["rule"]:
        bounds = {m: (float(row[m]["small"]), float(row[m]["medium"]), float(row[m]["large"]))
                  for m in METRICS if m in row}  # fmt: skip
        rule = SizeRule(tuple(row["sections"]), row["basis"], bounds)
        for section in rule.sections:
            if section == "*":
                fallback = rule
            else:
                by_section[section] = rule
    assert fallback is not None, "sme_thresholds.toml needs a '*' rule"
    return {s.code: by_section.get(s.code, fallback) for s in taxonomy.industries()}


@cache
def section_codes() -> tuple[str, ...]:
    return tuple(s.code for s in taxonomy.industries())


@cache
def township_codes() -> tuple[str, ...]:
    return tuple(r.code for r in taxonomy.regions() if r.kind == "township")


@cache
def qualification_codes() -> tuple[str, ...]:
    return tuple(t.code for t in taxonomy.eligibility_tags() if t.audience == "enterprise")


@cache
def person_group_codes() -> tuple[str, ...]:
    return tuple(t.code for t in taxonomy.eligibility_tags() if t.audience == "resident")


def name_of(kind: str, code: str) -> str:
    """The Chinese name of a code the vocabulary uses, or the code itself when unknown."""
    if kind == ConditionKind.INDUSTRY:
        found = taxonomy.industry_by_code(code)
    elif kind == ConditionKind.TOWNSHIP:
        found = taxonomy.region_by_code(code)
    elif kind in (ConditionKind.QUALIFICATION, ConditionKind.PERSON_GROUP):
        found = taxonomy.eligibility_by_code(code)
    elif kind == ConditionKind.SIZE:
        return SIZE_LABELS.get(code, code)
    else:
        found = None
    return found.name if found is not None else code


def allowed_options() -> dict[str, list[tuple[str, str]]]:
    """Code → Chinese name of every choice a form offers, by condition kind."""
    return {
        ConditionKind.TOWNSHIP: [(c, name_of(ConditionKind.TOWNSHIP, c)) for c in township_codes()],
        ConditionKind.INDUSTRY: [(c, name_of(ConditionKind.INDUSTRY, c)) for c in section_codes()],
        ConditionKind.SIZE: [(c, SIZE_LABELS[c]) for c in SIZES],
        ConditionKind.QUALIFICATION: [(c, name_of(ConditionKind.QUALIFICATION, c)) for c in qualification_codes()],
        ConditionKind.PERSON_GROUP: [(c, name_of(ConditionKind.PERSON_GROUP, c)) for c in person_group_codes()],
    }
