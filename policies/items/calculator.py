"""The policy calculator (政策计算器): which items a profile qualifies for, which it nearly
qualifies for and what it misses, with amounts and deadlines.

Groups: 符合 (every condition met), 需核实 (none failed, some the answers do not settle or a
free-text condition a department must judge), 差一点 (one or two conditions not met). Items
for the other audience, past their deadline, or missing more are left out. Each group is
sorted by value (largest first), then by deadline (soonest first).

A `Catalogue` is built once from the live items and answers many profiles; only the items
shown are turned into per-condition checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

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


def _audience_of(item: ItemView) -> str | None:
    return next((next(iter(c.codes)) for c in item.conditions if c.kind == ConditionKind.AUDIENCE), None)


def _order(item: ItemView) -> tuple[int, date, int, int]:
    return (-item.value_yuan, item.deadline or date.max, item.policy_id, item.position)


# Outcomes as small integers for the array work; the padding slot of the matrices is "met".
_CODE = {Outcome.MET: 0, Outcome.UNKNOWN: 1, Outcome.NOT_MET: 2}
_OUTCOME = {code: outcome for outcome, code in _CODE.items()}
_AUDIENCE_CODE = {None: 0, "enterprise": 1, "resident": 2}


class Catalogue:
    """Live items, prepared to answer many profiles.

    Items are kept in answer order (value, then deadline). Equal conditions (the same condition
    judged within the same industries) are stored once and judged once per answer; the items'
    standings are then counted with numpy over a matrix of condition ids, so an answer costs
    one outcome per distinct condition plus a few array operations."""

    def __init__(self, items: Iterable[ItemView]) -> None:
        self.items: list[ItemView] = sorted(items, key=_order)
        self.size = len(self.items)
        self.conditions: list[tuple[Condition, frozenset[str] | None]] = []
        ids: dict[tuple[Condition, frozenset[str] | None], int] = {}
        every_rows: list[list[int]] = []
        checked_rows: list[list[int]] = []
        for item in self.items:
            sections = next((c.codes for c in item.conditions if c.kind == ConditionKind.INDUSTRY), None)
            every = []
            for condition in item.conditions:
                key = (condition, sections if condition.kind == ConditionKind.SIZE else None)
                if key not in ids:
                    ids[key] = len(self.conditions)
                    self.conditions.append(key)
                every.append(ids[key])
            every_rows.append(every)
            # The audience condition picks who sees the item; with the audience known it is not counted.
            checked_rows.append([i for i, c in zip(every, item.conditions, strict=True)
                                 if c.kind != ConditionKind.AUDIENCE])  # fmt: skip
        self.pad = len(self.conditions)
        width = max((len(r) for r in every_rows), default=0) or 1
        self.every = np.full((self.size, width), self.pad, dtype=np.int32)
        self.checked = np.full((self.size, width), self.pad, dtype=np.int32)
        for n, (every, checked) in enumerate(zip(every_rows, checked_rows, strict=True)):
            self.every[n, : len(every)] = every
            self.checked[n, : len(checked)] = checked
        self.audience = np.array([_AUDIENCE_CODE[_audience_of(i)] for i in self.items], dtype=np.int8)
        self.deadline = np.array([(i.deadline or date.max).toordinal() for i in self.items], dtype=np.int64)
        self.every_ids = every_rows

    def _candidates(self, kind: str | None) -> np.ndarray:
        if kind in ("enterprise", "resident"):
            return np.flatnonzero((self.audience == 0) | (self.audience == _AUDIENCE_CODE[kind]))
        return np.arange(self.size)

    def calculate(self, profile: Profile, today: date, limit: int = DEFAULT_LIMIT) -> CalculatorResult:
        """The profile's items by standing, each group sorted and cut to `limit`."""
        rows = self._candidates(profile.kind)
        rows = rows[self.deadline[rows] >= today.toordinal()]
        matrix = (self.checked if profile.kind else self.every)[rows]
        codes = np.zeros(self.pad + 1, dtype=np.int8)
        for cid in np.unique(matrix).tolist():
            if cid != self.pad:
                condition, sections = self.conditions[cid]
                codes[cid] = _CODE[condition_outcome(condition, profile, today, sections)]
        judged = codes[matrix]
        unmet = (judged == 2).sum(axis=1)
        unsure = (judged == 1).any(axis=1)
        groups = {
            Standing.QUALIFIED: rows[(unmet == 0) & ~unsure],
            Standing.TO_VERIFY: rows[(unmet == 0) & unsure],
            Standing.NEARLY: rows[(unmet > 0) & (unmet <= NEAR_MISS_LIMIT)],
        }

        def answers(standing: str) -> tuple[ItemAnswer, ...]:
            # Rows are in answer order already: the first `limit` are the ones shown.
            return tuple(ItemAnswer(self.items[n], standing, self._checks(n, codes, profile, today))
                         for n in groups[standing][:limit].tolist())

        return CalculatorResult(answers(Standing.QUALIFIED), answers(Standing.TO_VERIFY), answers(Standing.NEARLY),
                                {s: len(g) for s, g in groups.items()})

    def _checks(self, row: int, codes: np.ndarray, profile: Profile, today: date) -> tuple[ConditionCheck, ...]:
        checks = []
        for cid in self.every_ids[row]:
            condition, sections = self.conditions[cid]
            if condition.kind == ConditionKind.AUDIENCE and profile.kind:
                outcome = condition_outcome(condition, profile, today, sections)  # not judged above
            else:
                outcome = _OUTCOME[int(codes[cid])]
            checks.append(ConditionCheck(condition, outcome))
        return tuple(checks)
