"""What is known about the person or enterprise asking: every fact may be unknown (None).

An unknown fact is never taken as met: a condition that depends on it is 需核实 unless every
possible value would meet it (or none would)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Profile:
    kind: str | None = None  # "enterprise" | "resident"
    township: str | None = None
    # enterprise
    industry: str | None = None  # GB/T 4754 section letter
    size: str | None = None  # declared size, used when no size metric is known
    employees: float | None = None  # 从业人员（人）
    revenue: float | None = None  # 营业收入（万元）
    assets: float | None = None  # 资产总额（万元）
    registered_on: date | None = None
    qualifications: frozenset[str] | None = None  # None: not asked; frozenset(): has none
    # person
    age: int | None = None
    hukou_local: bool | None = None  # 本县户籍
    groups: frozenset[str] | None = None  # person-group codes; None: not asked
    graduated: bool | None = None  # 高校毕业生
    graduation_year: int | None = None

    def metric(self, name: str) -> float | None:
        return getattr(self, name)  # type: ignore[no-any-return]


def full_years(since: date, today: date) -> int:
    """Whole years from `since` to `today` (an anniversary counts on its day)."""
    years = today.year - since.year
    if (today.month, today.day) < (since.month, since.day):
        years -= 1
    return years
