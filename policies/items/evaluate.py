"""Checking an item's conditions against a profile, with three outcomes per condition:
met, not met, and 需核实 (the profile does not say, and the answer depends on it).

Exactness: an outcome is "met" only when every value the unknown facts could take meets the
condition, "not met" only when none does. Conditions of one item depend on disjoint facts,
except industry and size (the SME table is per industry): size is therefore judged over the
sections the item's industry condition allows, which keeps the item's outcome (the
three-valued AND of its conditions) exact as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from policies.items.conditions import Condition
from policies.items.profile import Profile, full_years
from policies.items.vocabulary import (
    AGE_DOMAIN,
    SIZES,
    YEARS_DOMAIN,
    ConditionKind,
    section_codes,
    size_rules,
    township_codes,
)


class Outcome:
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


OUTCOME_LABELS = {Outcome.MET: "符合", Outcome.NOT_MET: "不符合", Outcome.UNKNOWN: "需核实"}


def combine(outcomes: Iterable[str]) -> str:
    """Three-valued AND: any not met → not met; else any unknown → unknown; else met."""
    result = Outcome.MET
    for outcome in outcomes:
        if outcome == Outcome.NOT_MET:
            return Outcome.NOT_MET
        if outcome == Outcome.UNKNOWN:
            result = Outcome.UNKNOWN
    return result


def over_all(outcomes: Iterable[str]) -> str:
    """The outcome across alternatives the facts leave open: the same everywhere, or unknown."""
    seen = set(outcomes)
    return seen.pop() if len(seen) == 1 else Outcome.UNKNOWN


def _in_range(value: int | None, low: int | None, high: int | None, domain: tuple[int, int]) -> str:
    lo = domain[0] if low is None else low
    hi = domain[1] if high is None else high
    if value is not None:
        return Outcome.MET if lo <= value <= hi else Outcome.NOT_MET
    if lo <= domain[0] and domain[1] <= hi:
        return Outcome.MET
    if hi < domain[0] or lo > domain[1]:
        return Outcome.NOT_MET
    return Outcome.UNKNOWN


def _one_of(value: str | None, codes: frozenset[str], domain: Iterable[str]) -> str:
    if value is not None:
        return Outcome.MET if value in codes else Outcome.NOT_MET
    return Outcome.MET if codes.issuperset(domain) else Outcome.UNKNOWN


def _any_held(held: frozenset[str] | None, codes: frozenset[str]) -> str:
    if held is None:
        return Outcome.UNKNOWN  # "holds none of them" is always possible
    return Outcome.MET if held & codes else Outcome.NOT_MET


def size_range(profile: Profile, section: str) -> range:
    """The size classes (indexes into SIZES) the enterprise may be in, given its section."""
    return _size_ranges(_size_facts(profile))[section]


def _size_facts(profile: Profile) -> Profile:
    """Only the facts size depends on, so that the cache below is shared by many profiles."""
    return Profile(size=profile.size, employees=profile.employees, revenue=profile.revenue, assets=profile.assets)


@lru_cache(maxsize=1024)
def _size_ranges(facts: Profile) -> dict[str, range]:
    return {section: _compute_size_range(facts, section) for section in size_rules()}


def _compute_size_range(profile: Profile, section: str) -> range:
    rule = size_rules()[section]
    known = {m: profile.metric(m) for m in rule.bounds}
    if all(v is None for v in known.values()):
        if profile.size in SIZES:
            index = SIZES.index(profile.size)
            return range(index, index + 1)
        return range(0, len(SIZES))
    lowest = rule.size_index({m: 0.0 if v is None else v for m, v in known.items()})
    highest = rule.size_index({m: float("inf") if v is None else v for m, v in known.items()})
    return range(lowest, highest + 1)


@lru_cache(maxsize=4096)
def _size_in(classes: range, wanted: frozenset[str]) -> str:
    return over_all(Outcome.MET if SIZES[i] in wanted else Outcome.NOT_MET for i in classes)


def size_outcome(profile: Profile, wanted: frozenset[str], sections: frozenset[str] | None) -> str:
    """Size against `wanted` classes; with the industry unknown, over the `sections` allowed."""
    ranges = _size_ranges(_size_facts(profile))
    if profile.industry is not None:
        return _size_in(ranges[profile.industry], wanted)
    candidates = sections if sections is not None else section_codes()
    # Sections share a handful of size ranges: judge each distinct range once.
    return over_all({_size_in(r, wanted) for r in {ranges[s] for s in candidates}})


def condition_outcome(condition: Condition, profile: Profile, today: date,
                      sections: frozenset[str] | None = None) -> str:
    """One condition's outcome. `sections`: the sections the item's industry condition allows."""
    kind = condition.kind
    if kind == ConditionKind.TEXT:
        return Outcome.UNKNOWN
    if kind == ConditionKind.AUDIENCE:
        return _one_of(profile.kind, condition.codes, ("enterprise", "resident"))
    if kind == ConditionKind.TOWNSHIP:
        return _one_of(profile.township, condition.codes, township_codes())
    if kind == ConditionKind.INDUSTRY:
        return _one_of(profile.industry, condition.codes, section_codes())
    if kind == ConditionKind.SIZE:
        return size_outcome(profile, condition.codes, sections)
    if kind == ConditionKind.QUALIFICATION:
        return _any_held(profile.qualifications, condition.codes)
    if kind == ConditionKind.PERSON_GROUP:
        return _any_held(profile.groups, condition.codes)
    if kind == ConditionKind.HUKOU:
        return Outcome.UNKNOWN if profile.hukou_local is None else (
            Outcome.MET if profile.hukou_local else Outcome.NOT_MET)
    if kind == ConditionKind.AGE:
        return _in_range(profile.age, condition.low, condition.high, AGE_DOMAIN)
    if kind == ConditionKind.REGISTRATION_AGE:
        years = None if profile.registered_on is None else full_years(profile.registered_on, today)
        return _in_range(years, condition.low, condition.high, YEARS_DOMAIN)
    if kind == ConditionKind.GRADUATE:
        return _graduate(profile, condition.high or 0, today)
    raise ValueError(f"unknown condition kind {kind!r}")


def _graduate(profile: Profile, within: int, today: date) -> str:
    if profile.graduated is False:
        return Outcome.NOT_MET
    years = None if profile.graduation_year is None else today.year - profile.graduation_year
    in_window = _in_range(years, 0, within, YEARS_DOMAIN)
    if profile.graduated is None:  # "not a graduate" is possible: never met
        return Outcome.NOT_MET if in_window == Outcome.NOT_MET else Outcome.UNKNOWN
    return in_window


@dataclass(frozen=True, slots=True)
class ConditionCheck:
    condition: Condition
    outcome: str


def check_conditions(conditions: tuple[Condition, ...], profile: Profile, today: date) -> tuple[ConditionCheck, ...]:
    sections = next((c.codes for c in conditions if c.kind == ConditionKind.INDUSTRY), None)
    return tuple(ConditionCheck(c, condition_outcome(c, profile, today, sections)) for c in conditions)


def item_outcome(conditions: tuple[Condition, ...], profile: Profile, today: date) -> str:
    return combine(c.outcome for c in check_conditions(conditions, profile, today))

