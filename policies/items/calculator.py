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

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from policies.items.conditions import Condition
from policies.items.evaluate import ConditionCheck, Outcome, condition_outcome
from policies.items.profile import Profile
from policies.items.views import ItemView
from policies.items.vocabulary import ConditionKind

NEAR_MISS_LIMIT = 2  # at most this many conditions not met to be shown as 差一点
DEFAULT_LIMIT = 50  # items shown per group; the counts say how many there are in all


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
    counts: dict[str, int]  # standing → items in that group, before the per-group limit

    @property
    def qualified_value_yuan(self) -> int:
        return sum(a.item.value_yuan for a in self.qualified)

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())


@dataclass(frozen=True, slots=True)
class _Prepared:
    item: ItemView
    checked: tuple[int, ...]  # condition ids without the audience condition, which picked the bucket
    every: tuple[int, ...]  # condition ids in the item's order
    deadline: date
    order: tuple[int, date, int, int]


def _audience_of(item: ItemView) -> str | None:
    return next((next(iter(c.codes)) for c in item.conditions if c.kind == ConditionKind.AUDIENCE), None)


class Catalogue:
    """Live items, prepared to answer many profiles.

    Equal conditions (the same condition judged within the same industries) are stored once
    and judged once per answer, so an answer costs one outcome per distinct condition plus a
    few list look-ups per item."""

    def __init__(self, items: Iterable[ItemView]) -> None:
        self.by_audience: dict[str | None, list[_Prepared]] = {"enterprise": [], "resident": [], None: []}
        self.conditions: list[tuple[Condition, frozenset[str] | None]] = []
        ids: dict[tuple[Condition, frozenset[str] | None], int] = {}
        self.size = 0
        for item in items:
            sections = next((c.codes for c in item.conditions if c.kind == ConditionKind.INDUSTRY), None)
            every = []
            for condition in item.conditions:
                key = (condition, sections if condition.kind == ConditionKind.SIZE else None)
                if key not in ids:
                    ids[key] = len(self.conditions)
                    self.conditions.append(key)
                every.append(ids[key])
            checked = tuple(i for i, c in zip(every, item.conditions, strict=True) if c.kind != ConditionKind.AUDIENCE)
            order = (-item.value_yuan, item.deadline or date.max, item.policy_id, item.position)
            self.by_audience[_audience_of(item)].append(
                _Prepared(item, checked, tuple(every), item.deadline or date.max, order))
            self.size += 1

    def _candidates(self, kind: str | None) -> Iterable[_Prepared]:
        if kind in ("enterprise", "resident"):
            return (*self.by_audience[kind], *self.by_audience[None])
        return (p for bucket in self.by_audience.values() for p in bucket)

    def calculate(self, profile: Profile, today: date, limit: int = DEFAULT_LIMIT) -> CalculatorResult:
        """The profile's items by standing, each group sorted and cut to `limit`."""
        outcomes: list[str | None] = [None] * len(self.conditions)
        groups: dict[str, list[_Prepared]] = {Standing.QUALIFIED: [], Standing.TO_VERIFY: [], Standing.NEARLY: []}
        known_kind = profile.kind is not None
        for prepared in self._candidates(profile.kind):
            if prepared.deadline < today:
                continue
            unmet = unknown = 0
            for cid in prepared.checked if known_kind else prepared.every:
                outcome = outcomes[cid]
                if outcome is None:
                    condition, sections = self.conditions[cid]
                    outcome = outcomes[cid] = condition_outcome(condition, profile, today, sections)
                if outcome == Outcome.NOT_MET:
                    unmet += 1
                    if unmet > NEAR_MISS_LIMIT:
                        break
                elif outcome == Outcome.UNKNOWN:
                    unknown += 1
            if unmet > NEAR_MISS_LIMIT:
                continue
            groups[Standing.NEARLY if unmet else Standing.TO_VERIFY if unknown else Standing.QUALIFIED].append(prepared)

        def answers(standing: str) -> tuple[ItemAnswer, ...]:
            shown = heapq.nsmallest(limit, groups[standing], key=lambda p: p.order)
            return tuple(ItemAnswer(p.item, standing, self._checks(p, outcomes, profile, today)) for p in shown)

        return CalculatorResult(answers(Standing.QUALIFIED), answers(Standing.TO_VERIFY), answers(Standing.NEARLY),
                                {s: len(g) for s, g in groups.items()})

    def _checks(self, prepared: _Prepared, outcomes: list[str | None], profile: Profile,
                today: date) -> tuple[ConditionCheck, ...]:
        checks = []
        for cid in prepared.every:
            condition, sections = self.conditions[cid]
            outcome = outcomes[cid]
            if outcome is None:  # the audience condition, or one after the loop stopped early
                outcome = outcomes[cid] = condition_outcome(condition, profile, today, sections)
            checks.append(ConditionCheck(condition, outcome))
        return tuple(checks)
