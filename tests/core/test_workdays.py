from datetime import date

from core.workdays import add_working_days, is_working_day, previous_working_day, working_days_between


def test_national_day_holiday_is_skipped() -> None:
    # 2025: National Day + Mid-Autumn holiday 1-8 October; 28 September and 11 October are make-up days.
    # 30 Sep (Tue) + 3 working days: 9 Oct, 10 Oct, then the make-up Saturday 11 Oct.
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert is_working_day(date(2025, 9, 28)) and is_working_day(date(2025, 10, 11))
    assert not is_working_day(date(2025, 10, 6))


def test_plain_week() -> None:
    assert add_working_days(date(2026, 3, 2), 3) == date(2026, 3, 5)
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday -> Monday


def test_previous_and_between() -> None:
    assert previous_working_day(date(2026, 3, 9)) == date(2026, 3, 6)
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5


def test_years_beyond_the_calendar_fall_back_to_weekdays() -> None:
    assert add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 7)
