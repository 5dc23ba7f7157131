"""Business calendars: a named example for every semantic rule."""

from __future__ import annotations

import pickle
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import cattrs
import pendulum
import pytest

from itsm_core.calendar import (
    MAX_INSTANT_US,
    MIN_INSTANT_US,
    BusinessCalendar,
    CalendarLike,
    Closure,
    CompositeCalendar,
    DateOverride,
    DateRange,
    MonthDay,
    WeeklySchedule,
    Window,
    country_holidays,
)
from itsm_core.errors import InvalidValueError, ItsmError, NaiveDatetimeError, NeverOpenError
from itsm_core.testing import (
    oracle_add,
    oracle_elapsed,
    oracle_is_open,
    oracle_next_open,
    oracle_subtract,
)

H = timedelta(hours=1)


def at(text: str, tz: str = "UTC") -> pendulum.DateTime:
    """An aware datetime from ``'YYYY-MM-DD HH:MM'`` local to ``tz``."""
    parsed = pendulum.parse(text, tz=tz)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed


def us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def weekly(**days: str) -> WeeklySchedule:
    """``weekly(mon="09:00-13:00,14:00-18:00")``."""
    return WeeklySchedule(
        **{day: tuple(Window.parse(w) for w in spec.split(",")) for day, spec in days.items()}
    )


def every_day(spec: str) -> WeeklySchedule:
    return weekly(**dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), spec))


# -- windows ------------------------------------------------------------------------


def test_a_window_may_cross_midnight_and_belongs_to_the_day_it_starts_on() -> None:
    cal = BusinessCalendar(timezone="UTC", weekly=weekly(fri="22:00-06:00"))
    assert cal.is_open(at("2026-03-06 23:00"))  # Friday night
    assert cal.is_open(at("2026-03-07 05:59"))  # Saturday morning, Friday's window
    assert not cal.is_open(at("2026-03-07 23:00"))  # Saturday has no window
    assert not cal.is_open(at("2026-03-06 03:00"))  # Thursday has no window
    assert cal.elapsed(at("2026-03-06"), at("2026-03-08")) == 8 * H


def test_24_00_is_a_valid_end_meaning_the_next_midnight() -> None:
    cal = BusinessCalendar(timezone="UTC", weekly=weekly(mon="18:00-24:00"))
    assert cal.next_close(at("2026-03-09 20:00")) == at("2026-03-10 00:00")
    assert Window(start="18:00", end="24:00").crosses_midnight is False


def test_overlapping_and_touching_windows_merge() -> None:
    cal = BusinessCalendar(timezone="UTC", weekly=weekly(mon="09:00-13:00,12:00-17:00,17:00-18:00"))
    spans = cal.open_intervals(at("2026-03-09"), at("2026-03-10"))
    assert spans == [(at("2026-03-09 09:00"), at("2026-03-09 18:00"))]
    assert cal.elapsed(at("2026-03-09"), at("2026-03-10")) == 9 * H


def test_a_midnight_shift_and_the_next_days_window_join_into_one_open_period() -> None:
    cal = BusinessCalendar(timezone="UTC", weekly=weekly(mon="20:00-24:00", tue="00:00-04:00"))
    assert cal.next_close(at("2026-03-09 21:00")) == at("2026-03-10 04:00")
    assert cal.previous_open(at("2026-03-10 03:00")) == at("2026-03-09 20:00")


# -- overrides, holidays, closures ----------------------------------------------------


def test_an_override_replaces_the_weekly_windows_of_its_date() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    cal = attrs.evolve(
        cal,
        overrides=[
            DateOverride(day=date(2026, 3, 7), windows=[Window.parse("10:00-14:00")]),  # Sat
            DateOverride(day=date(2026, 3, 9)),  # Monday, closed
        ],
    )
    assert cal.is_open(at("2026-03-07 10:00"))
    assert not cal.is_open(at("2026-03-07 09:00"))
    assert not cal.is_open(at("2026-03-09 10:00"))
    assert cal.elapsed(at("2026-03-07"), at("2026-03-10")) == 4 * H


def test_an_override_also_replaces_the_spill_of_the_previous_nights_window() -> None:
    night = BusinessCalendar(timezone="UTC", weekly=every_day("22:00-06:00"))
    cal = attrs.evolve(
        night,
        overrides=[DateOverride(day=date(2026, 3, 10), windows=[Window.parse("12:00-13:00")])],
    )
    assert night.is_open(at("2026-03-10 02:00"))
    assert not cal.is_open(at("2026-03-10 02:00"))  # Monday night's spill is replaced
    assert cal.is_open(at("2026-03-10 12:30"))
    assert not cal.is_open(at("2026-03-10 23:00"))
    assert not cal.is_open(at("2026-03-11 02:00"))  # no window started on the 10th at night
    assert cal.is_open(at("2026-03-11 23:00"))


def test_an_override_window_crossing_midnight_spills_into_the_next_day() -> None:
    cal = BusinessCalendar(
        timezone="UTC",
        overrides=[DateOverride(day=date(2026, 3, 7), windows=[Window.parse("20:00-04:00")])],
    )
    assert cal.open_intervals(at("2026-03-01"), at("2026-03-31")) == [
        (at("2026-03-07 20:00"), at("2026-03-08 04:00"))
    ]


def test_a_whole_date_holiday_closes_midnight_to_midnight_whatever_window_it_cuts() -> None:
    cal = BusinessCalendar(
        timezone="UTC", weekly=every_day("22:00-06:00"), holidays=[date(2026, 3, 11)]
    )
    assert not cal.is_open(at("2026-03-11 02:00"))  # Tuesday's window, cut at midnight
    assert not cal.is_open(at("2026-03-11 23:00"))
    assert cal.is_open(at("2026-03-12 02:00"))  # Wednesday's window goes on after midnight
    assert cal.next_close(at("2026-03-10 23:00")) == at("2026-03-11 00:00")


def test_a_recurring_holiday_closes_its_date_every_year_and_29_february_only_in_leap_years() -> (
    None
):
    cal = BusinessCalendar(
        timezone="UTC",
        weekly=every_day("09:00-17:00"),
        recurring_holidays=[MonthDay(month=12, day=25), MonthDay(month=2, day=29)],
    )
    assert not cal.is_open(at("2026-12-25 12:00"))
    assert not cal.is_open(at("2150-12-25 12:00"))
    assert cal.is_open(at("2026-12-24 12:00"))
    assert not cal.is_open(at("2028-02-29 12:00"))
    assert cal.is_open(at("2027-03-01 12:00"))


def test_a_holiday_range_includes_both_ends() -> None:
    cal = BusinessCalendar(
        timezone="Europe/Moscow",
        weekly=every_day("09:00-17:00"),
        holiday_ranges=[DateRange(first=date(2026, 1, 1), last=date(2026, 1, 8))],
    )
    tz = "Europe/Moscow"
    assert not cal.is_open(at("2026-01-01 10:00", tz))
    assert not cal.is_open(at("2026-01-08 10:00", tz))
    assert cal.is_open(at("2026-01-09 10:00", tz))
    assert cal.next_open(at("2025-12-31 18:00", tz)) == at("2026-01-09 09:00", tz)


def test_a_partial_closure_removes_part_of_a_day() -> None:
    cal = attrs.evolve(
        BusinessCalendar.eight_by_five("UTC"),
        closures=[Closure(day=date(2026, 12, 31), start="13:00", end="24:00")],
    )
    assert cal.is_open(at("2026-12-31 12:59"))
    assert not cal.is_open(at("2026-12-31 13:00"))
    assert cal.elapsed(at("2026-12-31"), at("2027-01-01")) == 4 * H


# -- DST: the compatible rule ----------------------------------------------------------


def test_a_night_window_is_two_real_hours_at_spring_forward_and_four_at_fall_back() -> None:
    tz = "America/New_York"
    cal = BusinessCalendar(timezone=tz, weekly=every_day("01:00-04:00"))
    assert cal.elapsed(at("2026-03-08", tz), at("2026-03-09", tz)) == 2 * H
    assert cal.elapsed(at("2026-11-01", tz), at("2026-11-02", tz)) == 4 * H
    assert cal.elapsed(at("2026-06-01", tz), at("2026-06-02", tz)) == 3 * H


def test_a_skipped_local_time_moves_forward_by_the_gap() -> None:
    tz = "America/New_York"
    cal = BusinessCalendar(timezone=tz, weekly=every_day("02:30-05:00"))
    opened = cal.next_open(at("2026-03-08 00:00", tz))
    assert opened.isoformat() == "2026-03-08T03:30:00-04:00"


def test_a_repeated_local_time_is_the_earlier_instant() -> None:
    tz = "America/New_York"
    cal = BusinessCalendar(timezone=tz, weekly=every_day("01:30-05:00"))
    opened = cal.next_open(at("2026-11-01 00:00", tz))
    assert opened.isoformat() == "2026-11-01T01:30:00-04:00"  # EDT, the first 01:30


def test_results_in_a_repeated_hour_show_the_right_offset() -> None:
    tz = "America/New_York"
    cal = BusinessCalendar.always_open(tz)
    first = cal.add(at("2026-11-01 05:00"), 30 * timedelta(minutes=1))
    second = cal.add(at("2026-11-01 06:00"), 30 * timedelta(minutes=1))
    assert first.isoformat() == "2026-11-01T01:30:00-04:00"
    assert second.isoformat() == "2026-11-01T01:30:00-05:00"
    assert second - first == H


def test_lord_howe_moves_its_clocks_by_thirty_minutes() -> None:
    tz = "Australia/Lord_Howe"
    always = BusinessCalendar.always_open(tz)
    assert always.elapsed(at("2026-04-05", tz), at("2026-04-06", tz)) == 24.5 * H
    night = BusinessCalendar(timezone=tz, weekly=every_day("01:00-03:00"))
    assert night.elapsed(at("2026-04-05", tz), at("2026-04-06", tz)) == 2.5 * H
    assert night.elapsed(at("2026-10-04", tz), at("2026-10-05", tz)) == 1.5 * H


def test_dublin_negative_dst_is_just_another_offset_change() -> None:
    tz = "Europe/Dublin"
    cal = BusinessCalendar(timezone=tz, weekly=every_day("00:30-02:30"))
    assert cal.elapsed(at("2026-03-29", tz), at("2026-03-30", tz)) == 1 * H
    assert cal.elapsed(at("2026-10-25", tz), at("2026-10-26", tz)) == 3 * H


def test_the_skipped_day_in_apia_moves_forward_onto_the_next_day() -> None:
    tz = "Pacific/Apia"  # 2011-12-30 never happened there
    always = BusinessCalendar.always_open(tz)
    assert always.elapsed(at("2011-12-29", tz), at("2011-12-31", tz)) == 24 * H
    friday_only = BusinessCalendar(timezone=tz, weekly=weekly(fri="09:00-17:00"))
    # Friday's hours are skipped local times: they move forward by the gap (24 h).
    assert friday_only.open_intervals(at("2011-12-29", tz), at("2012-01-02", tz)) == [
        (at("2011-12-31 09:00", tz), at("2011-12-31 17:00", tz))
    ]


def test_windows_that_meet_only_in_real_time_across_a_dst_gap_merge() -> None:
    tz = "America/New_York"
    cal = BusinessCalendar(timezone=tz, weekly=every_day("01:00-02:30,03:00-04:00"))
    # 02:30 is skipped: the first window ends at 03:30 EDT, after the second one opens.
    assert cal.open_intervals(at("2026-03-08", tz), at("2026-03-09", tz)) == [
        (at("2026-03-08 01:00", tz), at("2026-03-08 04:00", tz))
    ]
    assert cal.elapsed(at("2026-03-08", tz), at("2026-03-09", tz)) == 2 * H
    assert cal.elapsed(at("2026-03-09", tz), at("2026-03-10", tz)) == 2.5 * H


def test_kathmandu_opens_at_a_quarter_past_three_utc() -> None:
    cal = BusinessCalendar.eight_by_five("Asia/Kathmandu")
    assert cal.next_open(at("2026-03-09 00:00")).in_timezone("UTC") == at("2026-03-09 03:15")


def test_the_oracle_agrees_on_the_dst_examples() -> None:
    tz = "America/New_York"
    cal = BusinessCalendar(timezone=tz, weekly=every_day("01:00-04:00,02:30-03:15"))
    start = us(at("2026-03-07", tz))
    for hours in range(0, 72, 5):
        t = start + hours * 3_600_000_000
        assert cal.is_open_us(t) == oracle_is_open(cal, t)
        assert cal.add_us(t, 5_400_000_000) == oracle_add(cal, t, 5_400_000_000)
        assert cal.elapsed_us(start, t) == oracle_elapsed(cal, start, t)


# -- instants and durations ----------------------------------------------------------


def test_naive_datetimes_are_refused_naming_the_argument() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    with pytest.raises(NaiveDatetimeError) as info:
        cal.add(datetime(2026, 3, 9, 10), H)
    assert info.value.field == "start"
    with pytest.raises(NaiveDatetimeError):
        cal.is_open(datetime(2026, 3, 9, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.elapsed(at("2026-03-09"), datetime(2026, 3, 10))


def test_stdlib_and_pendulum_datetimes_are_both_accepted() -> None:
    cal = BusinessCalendar.eight_by_five("Europe/Moscow")
    stdlib = datetime(2026, 3, 9, 10, tzinfo=ZoneInfo("Europe/Moscow"))
    assert cal.add(stdlib, H) == cal.add(at("2026-03-09 10:00", "Europe/Moscow"), H)


def test_results_are_pendulum_datetimes_in_the_calendars_timezone() -> None:
    cal = BusinessCalendar.eight_by_five("Asia/Tokyo")
    result = cal.add(at("2026-03-09 00:00"), H)
    assert isinstance(result, pendulum.DateTime)
    assert result.timezone_name == "Asia/Tokyo"
    assert result.isoformat() == "2026-03-09T10:00:00+09:00"


def test_adding_zero_returns_the_start_even_when_closed() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    saturday = at("2026-03-07 12:00")
    assert cal.add(saturday, timedelta(0)) == saturday
    assert cal.subtract(saturday, timedelta(0)) == saturday
    assert cal.add(saturday, timedelta(microseconds=1)) == at("2026-03-09 09:00:00.000001")


def test_add_ends_on_the_closing_instant_rather_than_the_next_opening() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    assert cal.add(at("2026-03-06 09:00"), 8 * H) == at("2026-03-06 17:00")
    assert cal.subtract(at("2026-03-09 17:00"), 8 * H) == at("2026-03-09 09:00")


def test_a_negative_duration_goes_the_other_way() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    start = at("2026-03-09 10:00")
    assert cal.add(start, -2 * H) == cal.subtract(start, 2 * H) == at("2026-03-06 16:00")
    assert cal.subtract(start, -2 * H) == cal.add(start, 2 * H)


def test_elapsed_with_the_end_before_the_start_is_negative() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    a, b = at("2026-03-06 15:00"), at("2026-03-09 11:00")
    assert cal.elapsed(a, b) == 4 * H
    assert cal.elapsed(b, a) == -4 * H


def test_arithmetic_is_exact_to_the_microsecond() -> None:
    cal = BusinessCalendar(timezone="UTC", weekly=every_day("09:00:00.000001-09:00:00.000004"))
    start = at("2026-03-09")
    assert cal.add(start, timedelta(microseconds=3)) == at("2026-03-09 09:00:00.000004")
    assert cal.add(start, timedelta(microseconds=4)) == at("2026-03-10 09:00:00.000002")
    assert cal.elapsed(start, at("2027-03-09")) == timedelta(microseconds=3 * 365)


def test_queries_work_in_1990_and_in_2200() -> None:
    cal = BusinessCalendar.eight_by_five("America/New_York")
    tz = "America/New_York"
    assert cal.add(at("1990-03-02 16:00", tz), 2 * H) == at("1990-03-05 10:00", tz)
    assert cal.add(at("2200-03-07 16:00", tz), 2 * H) == at("2200-03-10 10:00", tz)
    weeks = (date(2200, 3, 3) - date(1990, 3, 2)).days // 7  # both Fridays... almost
    total = cal.elapsed(at("1990-03-02", tz), at("2200-03-03", tz))
    assert abs(total - weeks * 40 * H) <= 40 * H
    t = us(at("2200-03-09 11:00", tz))
    assert cal.elapsed_us(t - 10**11, t) == oracle_elapsed(cal, t - 10**11, t)


def test_instants_outside_the_supported_range_are_refused() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    with pytest.raises(InvalidValueError, match="0002-01-01"):
        cal.is_open_us(MAX_INSTANT_US)
    with pytest.raises(InvalidValueError):
        cal.is_open_us(MIN_INSTANT_US - 1)


# -- never open, never closed -------------------------------------------------------------


def test_a_never_open_calendar_raises_never_open_error_instead_of_looping() -> None:
    cal = BusinessCalendar(timezone="UTC", name="closed")
    start = at("2026-03-09")
    assert not cal.is_open(start)
    assert cal.elapsed(start, at("2027-03-09")) == timedelta(0)
    with pytest.raises(NeverOpenError):
        cal.add(start, H)
    with pytest.raises(NeverOpenError):
        cal.subtract(start, H)
    with pytest.raises(NeverOpenError):
        cal.next_open(start)
    with pytest.raises(NeverOpenError):
        cal.add_business_days(start, 1)
    assert cal.next_close(start) == start
    assert cal.previous_open(start) is None
    assert cal.previous_close(start) is None


def test_a_calendar_open_only_on_dated_entries_runs_out_of_open_time() -> None:
    cal = BusinessCalendar(
        timezone="UTC",
        overrides=[DateOverride(day=date(2026, 3, 9), windows=[Window.parse("09:00-10:00")])],
    )
    start = at("2026-01-01")
    assert cal.add(start, H) == at("2026-03-09 10:00")
    with pytest.raises(NeverOpenError):
        cal.add(start, 2 * H)
    assert cal.previous_open(at("2030-01-01")) == at("2026-03-09 09:00")
    assert cal.previous_close(at("2030-01-01")) == at("2026-03-09 10:00")


def test_backward_searches_reach_back_across_months_to_a_lone_open_day() -> None:
    lone = [DateOverride(day=date(2026, 1, 12), windows=[Window.parse("09:00-10:00")])]

    names = iter(range(100))

    def fresh() -> BusinessCalendar:  # a new value each time: nothing compiled yet
        return BusinessCalendar(timezone="UTC", overrides=lone, name=str(next(names)))

    assert fresh().previous_open(at("2026-04-15")) == at("2026-01-12 09:00")
    assert fresh().previous_close(at("2026-04-15")) == at("2026-01-12 10:00")
    assert fresh().add_business_days(at("2026-04-15 12:00"), -1) == at("2026-01-12 12:00")
    assert fresh().subtract(at("2026-04-15"), timedelta(minutes=30)) == at("2026-01-12 09:30")
    assert fresh().previous_open(at("2025-04-15")) is None
    assert fresh().previous_close(at("2025-04-15")) is None
    with pytest.raises(NeverOpenError):
        fresh().add_business_days(at("2025-04-15 12:00"), -1)
    always = BusinessCalendar.always_open("UTC").with_holidays([date(2026, 1, 12)])
    assert always.previous_open(at("2026-04-15")) == at("2026-01-13")


def test_the_oracle_gives_up_after_its_search_window() -> None:
    closed = BusinessCalendar(timezone="UTC")
    with pytest.raises(NeverOpenError):
        oracle_add(closed, 0, 1, weeks=2)
    with pytest.raises(NeverOpenError):
        oracle_subtract(closed, 0, 1, weeks=2)
    with pytest.raises(NeverOpenError):
        oracle_next_open(closed, 0, weeks=2)
    assert oracle_subtract(BusinessCalendar.always_open("UTC"), 10, -5) == 15
    assert oracle_add(BusinessCalendar.always_open("UTC"), 10, -5) == 5


def test_a_calendar_closed_every_day_but_29_february_opens_in_leap_years_only() -> None:
    days = [date(2000, 1, 1) + timedelta(days=k) for k in range(366)]
    every = [MonthDay(month=d.month, day=d.day) for d in days]
    leap_only = BusinessCalendar(
        timezone="UTC",
        weekly=every_day("09:00-17:00"),
        recurring_holidays=[md for md in every if (md.month, md.day) != (2, 29)],
    )
    assert leap_only.next_open(at("2026-03-01")) == at("2028-02-29 09:00")
    never = attrs.evolve(leap_only, recurring_holidays=every)
    with pytest.raises(NeverOpenError):
        never.add(at("2026-03-01"), H)


def test_a_long_duration_is_added_and_measured_back_exactly() -> None:
    cal = BusinessCalendar.eight_by_five("Europe/Moscow").with_country_holidays(
        "RU", range(2026, 2060)
    )
    start = at("2026-03-06 16:00", "Europe/Moscow")
    end = cal.add(start, timedelta(hours=60_000))  # about 30 working years
    assert end.year > 2050
    assert cal.elapsed(start, end) == timedelta(hours=60_000)
    assert cal.subtract(end, timedelta(hours=60_000)) == start


def test_an_intersection_with_nothing_in_common_raises_never_open_error() -> None:
    weekdays = BusinessCalendar.eight_by_five("UTC")
    weekends = BusinessCalendar(timezone="UTC", weekly=weekly(sat="09:00-17:00"))
    nothing = weekdays.intersection(weekends)
    with pytest.raises(NeverOpenError):
        nothing.add(at("2026-03-09"), H)
    with pytest.raises(NeverOpenError):
        nothing.next_open(at("2026-03-09"))


def test_a_24x7_calendar_is_open_at_midnight_and_never_closes() -> None:
    cal = BusinessCalendar.always_open("UTC")
    assert cal.is_open(at("2026-03-10 00:00"))
    assert cal.elapsed(at("2026-03-09"), at("2026-03-10")) == 24 * H
    assert cal.add(at("2026-03-09 23:30"), H) == at("2026-03-10 00:30")
    assert cal.next_close(at("2026-03-09")) is None
    assert cal.next_close_us(us(at("2026-03-09"))) == MAX_INSTANT_US
    assert cal.previous_open(at("2026-03-09")) is None
    assert cal.previous_close(at("2026-03-09")) is None


def test_a_24x7_calendar_with_one_holiday_closes_exactly_then() -> None:
    cal = BusinessCalendar.always_open("UTC").with_holidays([date(2030, 5, 1)])
    assert cal.next_close(at("2026-03-09")) == at("2030-05-01")
    assert cal.next_open(at("2030-05-01 12:00")) == at("2030-05-02")
    assert cal.previous_close(at("2031-01-01")) == at("2030-05-01")
    assert cal.previous_open(at("2031-01-01")) == at("2030-05-02")


# -- open and close instants ---------------------------------------------------------


def test_next_and_previous_open_and_close() -> None:
    cal = BusinessCalendar(timezone="UTC", weekly=weekly(mon="09:00-13:00,14:00-18:00"))
    lunch = at("2026-03-09 13:30")
    assert cal.next_open(lunch) == at("2026-03-09 14:00")
    assert cal.next_close(lunch) == lunch
    assert cal.previous_open(lunch) == at("2026-03-09 09:00")
    assert cal.previous_close(lunch) == at("2026-03-09 13:00")
    inside = at("2026-03-09 15:00")
    assert cal.next_open(inside) == inside
    assert cal.next_close(inside) == at("2026-03-09 18:00")
    assert cal.previous_open(inside) == at("2026-03-09 14:00")
    assert cal.previous_open(at("2026-03-09 14:00")) == at("2026-03-09 14:00")
    assert cal.previous_close(at("2026-03-09 13:00")) == at("2026-03-09 13:00")
    assert cal.next_open_us(us(lunch)) == us(at("2026-03-09 14:00"))


def test_open_intervals_are_clipped_and_empty_for_an_empty_span() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    assert cal.open_intervals(at("2026-03-09 10:00"), at("2026-03-09 11:00")) == [
        (at("2026-03-09 10:00"), at("2026-03-09 11:00"))
    ]
    assert cal.open_intervals(at("2026-03-09 11:00"), at("2026-03-09 10:00")) == []


# -- business days ----------------------------------------------------------------------


def test_business_days_skip_weekends_and_holidays_and_keep_the_wall_time() -> None:
    tz = "Europe/Moscow"
    cal = BusinessCalendar.eight_by_five(tz).with_holidays([date(2026, 3, 9)])
    friday = at("2026-03-06 15:30", tz)
    assert cal.add_business_days(friday, 1) == at("2026-03-10 15:30", tz)
    assert cal.add_business_days(friday, 3) == at("2026-03-12 15:30", tz)
    assert cal.add_business_days(at("2026-03-10 08:00", tz), -1) == at("2026-03-06 08:00", tz)
    assert cal.add_business_days(at("2026-03-07 20:00", tz), 0) == at("2026-03-10 20:00", tz)
    assert cal.add_business_days(friday, 0) == friday
    with pytest.raises(InvalidValueError):
        cal.add_business_days(friday, 1.5)  # type: ignore[arg-type]


def test_business_days_keep_a_wall_time_skipped_by_dst_by_moving_it_forward() -> None:
    tz = "America/New_York"
    cal = BusinessCalendar.twelve_by_seven(tz)
    result = cal.add_business_days(at("2026-03-07 02:30", tz), 1)
    assert result.isoformat() == "2026-03-08T03:30:00-04:00"


def test_end_of_business_day_is_the_last_close_of_the_local_date() -> None:
    tz = "Europe/Moscow"
    cal = BusinessCalendar(timezone=tz, weekly=WeeklySchedule.same(["09:00-13:00", "14:00-18:00"]))
    assert cal.end_of_business_day(at("2026-03-09 10:00", tz)) == at("2026-03-09 18:00", tz)
    assert cal.end_of_business_day(at("2026-03-09 13:30", tz)) == at("2026-03-09 18:00", tz)
    assert cal.end_of_business_day(at("2026-03-09 19:00", tz)) == at("2026-03-10 18:00", tz)
    always = BusinessCalendar.always_open(tz)
    assert always.end_of_business_day(at("2026-03-09 19:00", tz)) == at("2026-03-10 00:00", tz)


# -- composition -----------------------------------------------------------------------------


def test_a_union_is_open_when_either_is_and_shows_results_in_the_left_timezone() -> None:
    days = BusinessCalendar.eight_by_five("Europe/Moscow")
    evenings = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["14:00-18:00"]))
    both = days.union(evenings)
    assert isinstance(both, CompositeCalendar)
    assert both.timezone == "Europe/Moscow"
    result = both.next_close(at("2026-03-09 10:00", "Europe/Moscow"))
    assert result is not None
    assert result.isoformat() == "2026-03-09T21:00:00+03:00"
    assert both.elapsed(at("2026-03-09"), at("2026-03-10")) == 12 * H


def test_an_intersection_is_open_when_both_are_across_timezones() -> None:
    support = BusinessCalendar.eight_by_five("Europe/Moscow")
    customer = BusinessCalendar.eight_by_five("America/New_York")
    both = support.intersection(customer)
    # 09:00-17:00 New York (EDT from 8 March) is 16:00-00:00 Moscow: overlap 16:00-17:00.
    assert both.open_intervals(at("2026-03-09"), at("2026-03-10")) == [
        (at("2026-03-09 13:00"), at("2026-03-09 14:00"))
    ]
    assert both.add(at("2026-03-09"), 2 * H) == at("2026-03-10 17:00", "Europe/Moscow")


def test_compositions_nest_and_answer_the_same_queries() -> None:
    a = BusinessCalendar.eight_by_five("UTC")
    b = BusinessCalendar.twelve_by_seven("UTC")
    c = BusinessCalendar(timezone="UTC", weekly=every_day("12:00-13:00"))
    nested = a.union(b).intersection(c)
    assert isinstance(nested, CalendarLike)
    assert nested.elapsed(at("2026-03-07"), at("2026-03-09")) == 2 * H
    assert nested.end_of_business_day(at("2026-03-07 08:00")) == at("2026-03-07 13:00")
    assert nested.add_business_days(at("2026-03-07 08:00"), 2) == at("2026-03-09 08:00")


def test_composition_refuses_anything_but_calendars() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    with pytest.raises(InvalidValueError, match="right"):
        cal.union("24x7")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="operation"):
        CompositeCalendar(operation="xor", left=cal, right=cal)  # type: ignore[arg-type]


# -- presets and builders ---------------------------------------------------------------------


def test_presets_have_the_documented_hours() -> None:
    monday = (at("2026-03-09"), at("2026-03-10"))
    sunday = (at("2026-03-08"), at("2026-03-09"))
    for preset, weekday_hours, sunday_hours in [
        (BusinessCalendar.always_open, 24, 24),
        (BusinessCalendar.eight_by_five, 8, 0),
        (BusinessCalendar.twelve_by_five, 12, 0),
        (BusinessCalendar.twelve_by_seven, 12, 12),
    ]:
        cal = preset("UTC")
        assert cal.elapsed(*monday) == weekday_hours * H, cal.name
        assert cal.elapsed(*sunday) == sunday_hours * H, cal.name
    assert BusinessCalendar.twelve_by_five("UTC").is_open(at("2026-03-09 08:00"))
    assert BusinessCalendar.eight_by_five("UTC", name="office").name == "office"


def test_holidays_can_be_added_from_a_plain_list() -> None:
    cal = BusinessCalendar.eight_by_five("UTC").with_holidays([date(2026, 3, 9), date(2026, 3, 9)])
    assert cal.holidays == (date(2026, 3, 9),)
    assert not cal.is_open(at("2026-03-09 10:00"))
    with pytest.raises(InvalidValueError, match=r"days\[0\]"):
        cal.with_holidays(["2026-03-10"])  # type: ignore[list-item]
    assert cal.with_name("x").name == "x"


def test_country_holidays_come_from_the_holidays_package() -> None:
    ru = BusinessCalendar.eight_by_five("Europe/Moscow").with_country_holidays(
        "RU", range(2026, 2027)
    )
    assert date(2026, 1, 2) in ru.holidays
    assert date(2026, 5, 9) in ru.holidays
    assert not ru.is_open(at("2026-01-05 10:00", "Europe/Moscow"))
    california = country_holidays("US", [2026], subdivision="CA")
    assert date(2026, 3, 31) in california  # Cesar Chavez Day
    assert date(2026, 3, 31) not in country_holidays("US", [2026])
    assert country_holidays("RU", 2026) == country_holidays("RU", [2026])


def test_country_holidays_name_a_bad_country_subdivision_or_year() -> None:
    with pytest.raises(InvalidValueError, match="country"):
        country_holidays("Atlantis", [2026])
    with pytest.raises(InvalidValueError, match="subdivision"):
        country_holidays("US", [2026], subdivision="Atlantis")
    with pytest.raises(InvalidValueError, match=r"years\[1\]"):
        country_holidays("RU", [2026, "2027"])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match="country"):
        country_holidays("", [2026])


def test_country_holidays_without_the_package_raise_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)
    with pytest.raises(ItsmError, match=r"itsm-core\[holidays\]"):
        country_holidays("RU", [2026])


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        (
            {
                "timezone": "UTC",
                "weekly": WeeklySchedule(
                    mon=[Window.parse("09:00-17:00"), Window(start="10:00", end="25:00")]
                ),
            },
            "weekly.mon[1].end",
        ),
        (
            {"timezone": "UTC", "weekly": WeeklySchedule(tue=[Window(start="9:00", end="17:00")])},
            "weekly.tue[0].start",
        ),
        (
            {"timezone": "UTC", "weekly": WeeklySchedule(wed=[Window(start="24:00", end="01:00")])},
            "weekly.wed[0].start",
        ),
        (
            {"timezone": "UTC", "weekly": WeeklySchedule(thu=[Window(start="09:00", end="09:00")])},
            "weekly.thu[0].end",
        ),
        (
            {"timezone": "UTC", "weekly": WeeklySchedule(fri=[Window(start="09:60", end="10:00")])},
            "weekly.fri[0].start",
        ),
        (
            {"timezone": "UTC", "weekly": WeeklySchedule(sat=["09:00-17:00"])},  # type: ignore[list-item]
            "weekly.sat[0]",
        ),
        ({"timezone": "UTC", "weekly": "9-5"}, "weekly"),
        ({"timezone": "UTC", "holidays": [datetime(2026, 1, 1, tzinfo=UTC)]}, "holidays[0]"),
        ({"timezone": "UTC", "holidays": 5}, "holidays"),
        (
            {"timezone": "UTC", "recurring_holidays": [MonthDay(month=13, day=1)]},
            "recurring_holidays[0].month",
        ),
        (
            {"timezone": "UTC", "recurring_holidays": [MonthDay(month=2, day=30)]},
            "recurring_holidays[0].day",
        ),
        ({"timezone": "UTC", "recurring_holidays": [(12, 25)]}, "recurring_holidays[0]"),
        (
            {
                "timezone": "UTC",
                "holiday_ranges": [DateRange(first=date(2026, 1, 8), last=date(2026, 1, 1))],
            },
            "holiday_ranges[0].last",
        ),
        ({"timezone": "UTC", "holiday_ranges": [date(2026, 1, 1)]}, "holiday_ranges[0]"),
        (
            {
                "timezone": "UTC",
                "closures": [Closure(day=date(2026, 1, 1), start="13:00", end="12:00")],
            },
            "closures[0].end",
        ),
        ({"timezone": "UTC", "closures": ["2026-01-01"]}, "closures[0]"),
        (
            {
                "timezone": "UTC",
                "overrides": [
                    DateOverride(day=date(2026, 1, 1)),
                    DateOverride(day=date(2026, 1, 1)),
                ],
            },
            "overrides[1].day",
        ),
        (
            {
                "timezone": "UTC",
                "overrides": [
                    DateOverride(day=date(2026, 1, 1), windows=[Window(start="x", end="y")])
                ],
            },
            "overrides[0].windows[0].start",
        ),
        ({"timezone": "UTC", "overrides": [date(2026, 1, 1)]}, "overrides[0]"),
        ({"timezone": "UTC", "name": 5}, "name"),
        ({"timezone": ["UTC"]}, "timezone"),
    ],
)
def test_invalid_calendars_are_refused_naming_the_field_path(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidValueError) as info:
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_window_text_and_weekday_names_are_checked() -> None:
    with pytest.raises(InvalidValueError) as info:
        WeeklySchedule(sun=5)  # type: ignore[arg-type]
    assert info.value.field == "weekly.sun"
    with pytest.raises(InvalidValueError, match="window"):
        Window.parse("09:00")
    with pytest.raises(InvalidValueError, match="days"):
        WeeklySchedule.same(["09:00-17:00"], days=["funday"])
    assert Window.parse("22:00 - 06:00").crosses_midnight
    assert Window(start="09:00:00.5", end="10:00").bounds()[0] == 9 * 3_600_000_000 + 500_000
    assert DateRange(first=date(2026, 1, 1), last=date(2026, 1, 8)).days == 8
    assert WeeklySchedule(mon=[Window.parse("09:00-10:00")]).day(0) == (
        Window(start="09:00", end="10:00"),
    )
    assert WeeklySchedule(mon={Window.parse("09:00-10:00")}).mon == (
        Window(start="09:00", end="10:00"),
    )


# -- values -------------------------------------------------------------------------------------


def full_calendar() -> BusinessCalendar:
    return BusinessCalendar(
        name="support",
        timezone="Europe/Moscow",
        weekly=weekly(mon="09:00-13:00,14:00-18:00", fri="22:00-06:00"),
        holidays=[date(2026, 1, 1)],
        recurring_holidays=[MonthDay(month=5, day=9)],
        holiday_ranges=[DateRange(first=date(2026, 1, 2), last=date(2026, 1, 8))],
        closures=[Closure(day=date(2026, 12, 31), start="13:00", end="24:00")],
        overrides=[DateOverride(day=date(2026, 11, 1), windows=[Window.parse("10:00-15:00")])],
    )


def test_a_calendar_is_an_immutable_value_whose_cache_never_shows() -> None:
    cal = full_calendar()
    twin = full_calendar()
    cal.add(at("2026-03-09"), 10 * H)  # compiles part of cal's timeline, not twin's
    assert cal == twin
    assert hash(cal) == hash(twin)
    assert repr(cal) == repr(twin)
    assert "cache" not in repr(cal)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cal.timezone = "UTC"  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(cal))
    assert copy == cal
    assert copy.add(at("2026-03-09"), 10 * H) == cal.add(at("2026-03-09"), 10 * H)
    changed = attrs.evolve(cal, timezone="Asia/Tokyo")
    assert changed != cal
    assert changed.next_open(at("2026-03-09")).timezone_name == "Asia/Tokyo"


def test_a_calendar_round_trips_through_cattrs_as_plain_data() -> None:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, lambda value, _: date.fromisoformat(value))
    cal = full_calendar()
    data = converter.unstructure(cal)
    assert data["weekly"]["mon"][1] == {"start": "14:00", "end": "18:00"}
    assert data["holidays"] == ["2026-01-01"]
    assert "_cache" not in data
    assert "cache" not in data
    assert converter.structure(data, BusinessCalendar) == cal
    both = cal.intersection(BusinessCalendar.always_open("UTC"))
    assert converter.structure(converter.unstructure(both), CompositeCalendar) == both


def test_a_run_grown_after_another_query_replaced_it_keeps_its_origin_and_answers() -> None:
    # What a thread sees when another one publishes while it works: the run it read
    # (`stale`) is no longer published, and a merged run with another origin overlaps it.
    from itsm_core.calendar._timeline import MAX_YEAR, _open_before

    cal = BusinessCalendar.eight_by_five("Europe/Moscow").with_name("stale run")
    timeline = cal._timeline()
    week = 7 * 24 * 3_600_000_000
    t = us(at("2026-03-04 12:00"))
    stale = timeline._run_at(t)
    timeline.elapsed(t - 2 * week, t + 3 * week)  # another query merges and republishes
    assert all(run is not stale for run in timeline._runs.runs)
    grown = timeline._forward(stale, MAX_YEAR, 2)
    assert grown is not None
    assert (grown.first, grown.last) == (stale.first, stale.last + 2)
    assert _open_before(grown, t) == _open_before(stale, t)
    assert timeline.add(t, 60 * 3_600_000_000) == oracle_add(cal, t, 60 * 3_600_000_000)
    assert cal.elapsed_us(t - week, t + week) == oracle_elapsed(cal, t - week, t + week)
