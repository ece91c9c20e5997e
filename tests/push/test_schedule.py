"""Due-time rules, to the minute (pure functions, Beijing local time)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from push.schedule import schedule
from tests.push.helpers import preference

BJ = ZoneInfo("Asia/Shanghai")


def bj(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BJ)  # 2026-03-02 is a Monday


def test_immediate_is_due_now() -> None:
    slot = schedule(preference(), now=bj(2, 10), urgent=False)
    assert slot is not None and slot.due_at == bj(2, 10) and not slot.digest


def test_daily_digest_is_next_nine_oclock() -> None:
    assert schedule(preference("daily"), now=bj(2, 8), urgent=False).due_at == bj(2, 9)  # type: ignore[union-attr]
    slot = schedule(preference("daily"), now=bj(2, 10), urgent=False)
    assert slot is not None and slot.due_at == bj(3, 9) and slot.digest


def test_weekly_digest_is_next_monday_nine() -> None:
    assert schedule(preference("weekly"), now=bj(3, 10), urgent=False).due_at == bj(9, 9)  # type: ignore[union-attr]
    assert schedule(preference("weekly"), now=bj(2, 8, 59), urgent=False).due_at == bj(2, 9)  # type: ignore[union-attr]


def test_quiet_hours_wrap_midnight_and_end_at_eight() -> None:
    quiet = (time(22, 0), time(8, 0))
    assert schedule(preference(quiet=quiet), now=bj(2, 23), urgent=False).due_at == bj(3, 8)  # type: ignore[union-attr]
    assert schedule(preference(quiet=quiet), now=bj(3, 6, 30), urgent=False).due_at == bj(3, 8)  # type: ignore[union-attr]
    assert schedule(preference(quiet=quiet), now=bj(3, 8), urgent=False).due_at == bj(3, 8)  # type: ignore[union-attr]
    assert schedule(preference(quiet=quiet), now=bj(3, 21, 59), urgent=False).due_at == bj(3, 21, 59)  # type: ignore[union-attr]


def test_quiet_hours_within_a_day() -> None:
    quiet = (time(12, 0), time(14, 0))
    assert schedule(preference(quiet=quiet), now=bj(2, 13), urgent=False).due_at == bj(2, 14)  # type: ignore[union-attr]


def test_daily_digest_inside_quiet_hours_moves_to_their_end() -> None:
    slot = schedule(preference("daily", quiet=(time(22, 0), time(9, 30))), now=bj(2, 10), urgent=False)
    assert slot is not None and slot.due_at == bj(3, 9, 30)


def test_daily_cap_pushes_to_next_day() -> None:
    booked = {date(2026, 3, 2): 3, date(2026, 3, 3): 3}
    slot = schedule(preference(cap=3), now=bj(2, 10), urgent=False, booked=lambda d: booked.get(d, 0))
    assert slot is not None and slot.due_at == bj(4, 9)
    slot = schedule(preference(cap=3), now=bj(2, 10), urgent=False, booked=lambda d: 2)
    assert slot is not None and slot.due_at == bj(2, 10)


def test_urgent_bypasses_digest_quiet_hours_and_cap() -> None:
    pref = preference("weekly", quiet=(time(22, 0), time(8, 0)), cap=1)
    slot = schedule(pref, now=bj(2, 23), urgent=True, booked=lambda d: 5)
    assert slot is not None and slot.due_at == bj(2, 23) and not slot.digest


def test_paused_gets_nothing() -> None:
    assert schedule(preference(paused=True), now=bj(2, 10), urgent=False) is None
    assert schedule(preference(paused=True), now=bj(2, 10), urgent=True) is None
