"""The policy calculator (政策计算器): which items a profile qualifies for, which it nearly
qualifies for and what it misses, with amounts and deadlines.

Groups: 符合 (every condition met), 需核实 (none failed, some the answers do not settle or a
free-text condition a department must judge), 差一点 (one or two conditions not met). Items
for the other audience, past their deadline, or missing more are left out. Each group is
sorted by value (largest first), then by deadline (soonest first).

A `Catalogue` is built once from the live items and answers many profiles: items are bucketed
by audience, and conditions are only turned into checks for the items that are shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from policies.items.conditions import Condition
from policies.items.evaluate import ConditionCheck, Outcome, check_conditions, condition_outcome
from policies.items.profile import Profile
from policies.items.views import ItemView
from policies.items.vocabulary import ConditionKind

NEAR_MISS_LIMIT = 2  # at most this many conditions not met to be shown as 差一点


class Standing:
    QUALIFIED = "qualified"
    TO_VERIFY = "to_verify"
    NEARLY = "nearly"


STANDING_LABELS = {Standing.QUALIFIED: "符合条件", Standing.TO_VERIFY: "可能符合（需核实）",
                   Standing.NEARLY: "差一点符合"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ItemAnswer:
    item: ItemView
    standing: str
    checks: tuple[ConditionCheck, ...]

    @property
    def missing(self) -> tuple[Condition, ...]:
        return tuple(c.condition for c in self.checks if c.outcome == Outcome.NOT_MET)

    @property
    def to_verify(self) -> tuple[Condition, ...]:
        return tuple(c.condition for c in self.checks if c.outcome == Outcome.UNKNOWN)


@dataclass(frozen=True, slots=True)
class CalculatorResult:
    qualified: tuple[ItemAnswer, ...]
    to_verify: tuple[ItemAnswer, ...]
    nearly: tuple[ItemAnswer, ...]

    @property
    def qualified_value_yuan(self) -> int:
        return sum(a.item.value_yuan for a in self.qualified)

    @property
    def empty(self) -> bool:
        return not (self.qualified or self.to_verify or self.nearly)


@dataclass(frozen=True, slots=True)
class _Prepared:
    item: ItemView
    conditions: tuple[Condition, ...]  # without the audience condition, which picked the bucket
    sections: frozenset[str] | None  # the item's industry condition, which size is judged within


def _audience_of(item: ItemView) -> str | None:
    return next((next(iter(c.codes)) for c in item.conditions if c.kind == ConditionKind.AUDIENCE), None)


def _order(answer: ItemAnswer) -> tuple[int, date, int, int]:
    item = answer.item
    return (-item.value_yuan, item.deadline or date.max, item.policy_id, item.position)


class Catalogue:
    def __init__(self, items: Iterable[ItemView]) -> None:
        self.by_audience: dict[str | None, list[_Prepared]] = {"enterprise": [], "resident": [], None: []}
        self.size = 0
        for item in items:
            rest = tuple(c for c in item.conditions if c.kind != ConditionKind.AUDIENCE)
            sections = next((c.codes for c in rest if c.kind == ConditionKind.INDUSTRY), None)
            self.by_audience[_audience_of(item)].append(_Prepared(item, rest, sections))
            self.size += 1

    def _candidates(self, kind: str | None) -> Iterable[_Prepared]:
        if kind in ("enterprise", "resident"):
            return (*self.by_audience[kind], *self.by_audience[None])
        return (p for bucket in self.by_audience.values() for p in bucket)

    def calculate(self, profile: Profile, today: date) -> CalculatorResult:
        groups: dict[str, list[ItemAnswer]] = {Standing.QUALIFIED: [], Standing.TO_VERIFY: [], Standing.NEARLY: []}
        for prepared in self._candidates(profile.kind):
            item = prepared.item
            if item.deadline is not None and item.deadline < today:
                continue
            unmet = unknown = 0
            # With the audience unknown, the audience condition is a condition like any other.
            conditions = prepared.conditions if profile.kind else item.conditions
            for condition in conditions:
                outcome = condition_outcome(condition, profile, today, prepared.sections)
                if outcome == Outcome.NOT_MET:
                    unmet += 1
                    if unmet > NEAR_MISS_LIMIT:
                        break
                elif outcome == Outcome.UNKNOWN:
                    unknown += 1
            if unmet > NEAR_MISS_LIMIT:
                continue
            standing = Standing.NEARLY if unmet else Standing.TO_VERIFY if unknown else Standing.QUALIFIED
            checks = check_conditions(item.conditions, profile, today)
            groups[standing].append(ItemAnswer(item, standing, checks))
        return CalculatorResult(*(tuple(sorted(groups[s], key=_order)) for s in
                                  (Standing.QUALIFIED, Standing.TO_VERIFY, Standing.NEARLY)))
