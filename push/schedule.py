"""When a delivery falls due, from the subscriber's delivery preference.

Pure functions of (preference, now, urgency, what is already booked that day): no database,
no clock of their own, so every rule is testable to the minute.

Rules, in order:
0. paused: no delivery at all.
1. urgent: due now, not in a digest; bypasses digests, quiet hours and the daily cap
   (a department marks a policy urgent precisely so that it arrives at once).
2. daily digest: the next 09:00 Beijing time; weekly digest: the next Monday 09:00.
3. immediate: now.
4. quiet hours (Beijing local, may wrap midnight, e.g. 22:00–08:00) move the time to their end.
5. daily cap (immediate messages only; a digest is already one message a period): when that
   local day already holds `daily_cap` messages for the address, the message moves to 09:00
   of the next day that has room (then rule 4 again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from core.clock import CHINA_TZ

DIGEST_TIME = time(9, 0)
WEEKLY_DIGEST_WEEKDAY = 0  # Monday
# A cap can push a message this many days ahead at most; beyond that it goes anyway.
MAX_CAP_DAYS = 60


class Preference(Protocol):
    """What `subscriptions` calls DeliveryPreference; only these fields are read."""

    frequency: str  # immediate | daily | weekly
    quiet_start: time | None
    quiet_end: time | None
    daily_cap: int | None
    paused: bool


@dataclass(frozen=True)
class ImmediatePreference:
    """The preference assumed when a recipient has none (e.g. a notice to an earlier recipient)."""

    frequency: str = "immediate"
    quiet_start: time | None = None
    quiet_end: time | None = None
    daily_cap: int | None = None
    paused: bool = False


@dataclass(frozen=True)
class Slot:
    due_at: datetime  # aware, UTC
    digest: bool


def _local(at: datetime) -> datetime:
    return at.astimezone(CHINA_TZ)


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC)


def in_quiet_hours(local: datetime, start: time | None, end: time | None) -> bool:
    if start is None or end is None or start == end:
        return False
    t = local.time().replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end  # wraps midnight


def after_quiet_hours(at: datetime, start: time | None, end: time | None) -> datetime:
    """`at` itself when outside quiet hours, else the moment they end (UTC)."""
    local = _local(at)
    if not in_quiet_hours(local, start, end):
        return at
    assert end is not None
    end_today = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return _utc(end_today if end_today > local else end_today + timedelta(days=1))


def next_digest(at: datetime, frequency: str) -> datetime:
    """The next digest time at or after `at`: 09:00 daily, or Monday 09:00 weekly (Beijing)."""
    local = _local(at)
    candidate = local.replace(hour=DIGEST_TIME.hour, minute=DIGEST_TIME.minute, second=0, microsecond=0)
    if candidate < local:
        candidate += timedelta(days=1)
    if frequency == "weekly":
        candidate += timedelta(days=(WEEKLY_DIGEST_WEEKDAY - candidate.weekday()) % 7)
    return _utc(candidate)


def china_day(at: datetime) -> date:
    return _local(at).date()


def schedule(
    preference: Preference,
    *,
    now: datetime,
    urgent: bool,
    booked: Callable[[date], int] = lambda _day: 0,
) -> Slot | None:
    """The slot of a new delivery, or None when the subscriber has paused pushes.

    `booked(day)` returns how many immediate messages the address already has due on that
    Beijing-local day (the caller counts them, including ones scheduled in this fan-out).
    """
    if preference.paused:  # an explicit pause wins even over urgency: the subscriber asked
        return None
    if urgent:
        return Slot(now, digest=False)
    if preference.frequency in ("daily", "weekly"):
        due = next_digest(now, preference.frequency)
        return Slot(after_quiet_hours(due, preference.quiet_start, preference.quiet_end), digest=True)
    due = after_quiet_hours(now, preference.quiet_start, preference.quiet_end)
    cap = preference.daily_cap
    if cap is not None and cap > 0:
        for _ in range(MAX_CAP_DAYS):
            if booked(china_day(due)) < cap:
                break
            next_day = _local(due).replace(
                hour=DIGEST_TIME.hour, minute=DIGEST_TIME.minute, second=0, microsecond=0
            ) + timedelta(days=1)
            due = after_quiet_hours(_utc(next_day), preference.quiet_start, preference.quiet_end)
    return Slot(due, digest=False)
