"""An intersection that can never be open says so at once, without compiling centuries.

``_utc_week`` maps a calendar in a fixed-offset zone to where in the UTC week it
may be open (a superset, the same every week); an intersection whose map is
empty is never open, so its searches for open time stop at once with the same
``NeverOpenError`` a long search would end with. Zones with more than one
offset claim nothing (their windows move with DST) and keep the long search.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given, settings

from itsm_core.calendar import (
    BusinessCalendar,
    CompositeCalendar,
    DateOverride,
    WeeklySchedule,
    Window,
)
from itsm_core.calendar._calendar import _fixed_offset_us, _utc_week
from itsm_core.calendar._compile import Plan
from itsm_core.calendar._timeline import MIN_YEAR
from itsm_core.errors import NeverOpenError
from itsm_core.testing import calendars, instants

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
WEEK_US = 7 * DAY_US
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
#: Fixed-offset zones: UTC, UTC+03:00, UTC-05:00, UTC+14:00 (``Etc`` signs are reversed)
FIXED_ZONES = ("UTC", "Etc/GMT-3", "Etc/GMT+5", "Etc/GMT-14")


def hours(*spans: tuple[int, float, float]) -> tuple[list[int], list[int]]:
    """UTC-week ranges from ``(day, first hour, last hour)`` (day 0 is Monday)."""
    return (
        [int(day * DAY_US + a * HOUR_US) for day, a, _ in spans],
        [int(day * DAY_US + b * HOUR_US) for day, _, b in spans],
    )


def test_weekdays_and_saturdays_have_no_hour_in_common_and_say_so_at_once() -> None:
    weekdays = BusinessCalendar.eight_by_five("UTC")
    saturdays = BusinessCalendar(
        timezone="UTC", weekly=WeeklySchedule.same(["09:00-17:00"], days=("sat",))
    )
    assert _utc_week(weekdays) == hours(*((day, 9, 17) for day in range(5)))
    assert _utc_week(saturdays) == hours((5, 9, 17))
    nothing = weekdays.intersection(saturdays)
    assert _utc_week(nothing) == ([], [])
    # the searches stop where a calendar with no windows at all stops
    assert nothing._timeline().limits.open_hi == MIN_YEAR - 1
    monday = pendulum.datetime(2026, 3, 9)
    with pytest.raises(NeverOpenError) as caught:
        nothing.add(monday, timedelta(hours=1))
    assert str(caught.value) == (
        "the calendar never accumulates the requested open time after 2026-03-09T00:00:00+00:00"
    )
    with pytest.raises(NeverOpenError) as caught:
        nothing.subtract(monday, timedelta(hours=1))
    assert str(caught.value) == (
        "the calendar never accumulates the requested open time before 2026-03-09T00:00:00+00:00"
    )
    with pytest.raises(NeverOpenError) as caught:
        nothing.next_open(monday)
    assert str(caught.value) == "the calendar never opens at or after 2026-03-09T00:00:00+00:00"
    assert nothing.elapsed(monday, monday.add(weeks=3)) == timedelta(0)
    assert nothing.previous_open(monday) is None
    assert nothing.next_close(monday) == monday


def test_offsets_move_the_windows_in_the_utc_week() -> None:
    # Moscow time without DST: 09:00-17:00 at UTC+03:00 is 06:00-14:00 UTC
    plus_three = BusinessCalendar.eight_by_five("Etc/GMT-3")
    late = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["14:00-22:00"]))
    assert _utc_week(plus_three) == hours(*((day, 6, 14) for day in range(5)))
    touching = plus_three.intersection(late)  # 14:00 closes one and opens the other
    assert _utc_week(touching) == ([], [])
    with pytest.raises(NeverOpenError):
        touching.add(pendulum.datetime(2026, 3, 9), timedelta(minutes=1))
    # one minute earlier they share 13:59-14:00 UTC every weekday
    overlap = plus_three.intersection(
        BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["13:59-22:00"]))
    )
    assert _utc_week(overlap) == hours(*((day, 13 + 59 / 60, 14) for day in range(5)))
    assert str(overlap.add(pendulum.datetime(2026, 3, 9), timedelta(minutes=1))) == (
        "2026-03-09 17:00:00+03:00"
    )


def test_a_window_crossing_the_end_of_the_utc_week_wraps_to_its_start() -> None:
    # Sunday 22:00 to Monday 02:00 at UTC-05:00 is Monday 03:00-07:00 UTC
    minus_five = BusinessCalendar(
        timezone="Etc/GMT+5", weekly=WeeklySchedule.same(["22:00-02:00"], days=("sun",))
    )
    assert _utc_week(minus_five) == hours((0, 3, 7))
    # Sunday 20:00-24:00 at UTC+14:00 is Sunday 06:00-10:00 UTC
    kiritimati = BusinessCalendar(
        timezone="Etc/GMT-14", weekly=WeeklySchedule.same(["20:00-24:00"], days=("sun",))
    )
    assert _utc_week(kiritimati) == hours((6, 6, 10))
    # Monday 02:00-03:00 at UTC+03:00 is Sunday 23:00 to Monday 00:00 UTC
    early = BusinessCalendar(
        timezone="Etc/GMT-3", weekly=WeeklySchedule.same(["02:00-03:00"], days=("mon",))
    )
    assert _utc_week(early) == hours((6, 23, 24))


def test_an_override_can_open_any_week_so_it_counts_on_its_weekday() -> None:
    weekdays = BusinessCalendar.eight_by_five("UTC")
    one_saturday = BusinessCalendar(
        timezone="UTC",
        overrides=[DateOverride(day=date(2026, 3, 14), windows=[Window.parse("10:00-12:00")])],
    )
    saturdays = BusinessCalendar(
        timezone="UTC", weekly=WeeklySchedule.same(["09:00-17:00"], days=("sat",))
    )
    assert _utc_week(one_saturday) == hours((5, 10, 12))
    both = saturdays.intersection(one_saturday)
    assert _utc_week(both) == hours((5, 10, 12))
    friday = pendulum.datetime(2026, 3, 13, 12)
    assert both.add(friday, timedelta(hours=1)) == pendulum.datetime(2026, 3, 14, 11)
    # the weekday calendar still has nothing in common with that Saturday
    with pytest.raises(NeverOpenError):
        weekdays.intersection(one_saturday).add(friday, timedelta(hours=1))


def test_holidays_and_closures_only_take_time_away_and_are_not_counted() -> None:
    cal = BusinessCalendar.eight_by_five("UTC").with_holidays([date(2026, 3, 9)])
    assert _utc_week(cal) == _utc_week(BusinessCalendar.eight_by_five("UTC"))


def test_zones_with_more_than_one_offset_claim_nothing() -> None:
    london = BusinessCalendar.eight_by_five("Europe/London")
    assert _utc_week(london) is None
    utc = BusinessCalendar.eight_by_five("UTC")
    assert _utc_week(london.intersection(utc)) is None
    assert _utc_week(utc.intersection(london)) is None
    assert _utc_week(utc.union(london)) is None
    # a name that is no fixed zone is not trusted, even if its offset never changed
    assert _utc_week(BusinessCalendar.eight_by_five("Asia/Kolkata")) is None


def test_a_union_may_be_open_where_either_operand_may() -> None:
    mornings = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["08:00-10:00"]))
    evenings = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["18:00-20:00"]))
    both = mornings.union(evenings)
    assert _utc_week(both) == hours(*((d, a, b) for d in range(5) for a, b in ((8, 10), (18, 20))))
    noon = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["12:00-13:00"]))
    assert _utc_week(both.intersection(noon)) == ([], [])


def within(week: tuple[list[int], list[int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies within the week's ranges, repeated every week."""
    starts, ends = week
    t = start
    while t < end:
        at = (t - 4 * DAY_US) % WEEK_US  # 1970-01-05 was a Monday
        covering = [b for a, b in zip(starts, ends, strict=True) if a <= at < b]
        if not covering:
            return False
        t += covering[0] - at
    return True


@settings(max_examples=max(50, settings().max_examples // 7))
@given(calendars(zones=FIXED_ZONES), instants(zones=FIXED_ZONES))
def test_a_calendar_in_fixed_offset_zones_is_open_only_within_its_utc_week(
    cal: BusinessCalendar | CompositeCalendar, start: int
) -> None:
    week = _utc_week(cal)
    assert week is not None
    for a, b in cal.open_intervals_us(start, start + 3 * WEEK_US):
        assert within(week, a, b)
    if week == ([], []):
        assert not cal.open_intervals_us(start - 30 * DAY_US, start + 30 * DAY_US)
        with pytest.raises(NeverOpenError):
            cal.next_open_us(start)


def test_a_zone_twelve_hours_behind_moves_every_window_across_utc_midnight() -> None:
    assert _utc_week(BusinessCalendar.always_open("Etc/GMT+12")) == ([0], [WEEK_US])
    week = _utc_week(BusinessCalendar.twelve_by_seven("Etc/GMT+12"))  # 08:00-20:00 at -12:00
    assert week == hours((0, 0, 8), *((d, 20, 32) for d in range(6)), (6, 20, 24))


class _Drifting:
    """A zone named like a fixed one whose offset changes: its name is not trusted alone."""

    key = "Etc/Drifting"

    def utcoffset(self, moment: datetime) -> timedelta:
        return timedelta(hours=1 if moment.year < 2000 else 2)


def test_a_fixed_name_whose_offset_changes_claims_nothing() -> None:
    plan = cast(Plan, SimpleNamespace(zone=_Drifting()))
    assert _fixed_offset_us(plan) is None
    assert _fixed_offset_us(cast(Plan, SimpleNamespace(zone=ZoneInfo("Etc/GMT-3")))) == 3 * HOUR_US
