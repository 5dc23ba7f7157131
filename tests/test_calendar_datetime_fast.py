"""The calendar's datetime ``add`` and ``subtract`` agree with their exact reference, DST included.

``BusinessCalendar.add`` runs ``datetime_op``: the start's local midnight, the
duration and the result's offset and date come from tables, and whatever a
table does not hold takes the plain conversions. ``datetime_op_exact`` is the
same operation through the exact conversions (``to_us_exact``, the stdlib's
offset; ``from_us_exact``, the stdlib's ``fromutc``). These properties compare
the two on starts drawn close to the offset changes of zones with every kind of
change: Moscow (a permanent shift in 2011 and back in 2014), New York (a 1-hour
gap and fold), Lord Howe (30-minute DST), Apia (30 December 2011 skipped when
it crossed the date line, and a DST that ended in 2021).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core import _time
from itsm_core._time import (
    datetime_op,
    datetime_op_exact,
    from_us_exact,
    td_to_us,
    to_us,
    to_us_exact,
)
from itsm_core.calendar import BusinessCalendar, WeeklySchedule
from itsm_core.errors import InvalidValueError, NaiveDatetimeError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
ONE_US = timedelta(microseconds=1)

#: Each zone with the years in which it changed its offset in an unusual way.
ZONES = {
    "Europe/Moscow": (2010, 2011, 2014),
    "America/New_York": (2021, 2026),
    "Australia/Lord_Howe": (2021, 2026),
    "Pacific/Apia": (2011, 2012, 2020),
}
SCHEDULE = WeeklySchedule.same(
    ["00:00-02:30", "09:00-13:00", "14:00-18:00", "23:30-24:00"],
    days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
)
CALENDARS = {name: BusinessCalendar(timezone=name, weekly=SCHEDULE) for name in ZONES}


def offset_at(us: int, name: str) -> timedelta:
    offset = (EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(name)).utcoffset()
    assert offset is not None
    return offset


@lru_cache(maxsize=64)
def changes(name: str, year: int) -> tuple[int, ...]:
    """The instants (µs) at which a zone's offset changes in a year (daily probes, bisection)."""
    start = (date(year, 1, 1).toordinal() - date(1970, 1, 1).toordinal()) * DAY_US
    found = []
    before = offset_at(start, name)
    for k in range(1, 367):
        after = offset_at(start + k * DAY_US, name)
        if after != before:
            lo, hi = start + (k - 1) * DAY_US, start + k * DAY_US
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset_at(mid, name) == before else (lo, mid)
            found.append(hi)
            before = after
    return tuple(found)


@st.composite
def near_a_change(draw: st.DrawFn) -> tuple[str, int]:
    """A zone and an instant within a few days (often minutes) of one of its changes."""
    name = draw(st.sampled_from(sorted(ZONES)))
    year = draw(st.sampled_from(ZONES[name]))
    found = changes(name, year)
    base = draw(st.sampled_from(found))
    shift = draw(
        st.one_of(
            st.integers(-2, 2),
            st.integers(-2 * HOUR_US, 2 * HOUR_US),
            st.integers(-3 * DAY_US, 3 * DAY_US),
            st.integers(-4, 4).map(lambda k: k * HOUR_US // 2),
        )
    )
    return name, base + shift


def shown(us: int, name: str, how: str) -> datetime:
    """An instant as an input: pendulum or stdlib in the zone (either fold), UTC, or elsewhere."""
    if how == "pendulum":
        return from_us_exact(us, name)
    if how == "utc":
        return EPOCH + timedelta(microseconds=us)
    if how == "elsewhere":
        return from_us_exact(us, "Asia/Kathmandu")
    return (EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(name))


durations = st.one_of(
    st.integers(-3 * DAY_US, 3 * DAY_US).map(lambda us: timedelta(microseconds=us)),
    st.integers(-60, 60).map(lambda k: timedelta(minutes=30 * k)),
    st.integers(-3 * DAY_US, 3 * DAY_US).map(lambda us: pendulum.duration(microseconds=us)),
)
inputs = st.sampled_from(("pendulum", "stdlib", "utc", "elsewhere"))


def same_datetime(fast: pendulum.DateTime, exact: pendulum.DateTime) -> None:
    assert type(fast) is pendulum.DateTime
    assert fast.replace(tzinfo=None) == exact.replace(tzinfo=None)
    assert fast.fold == exact.fold
    assert fast.tzinfo is exact.tzinfo
    assert fast.utcoffset() == exact.utcoffset()
    assert to_us_exact(fast) == to_us_exact(exact)


@settings(max_examples=settings().max_examples // 2)
@given(near_a_change(), durations, inputs)
def test_the_datetime_add_and_subtract_agree_with_the_exact_conversions_near_dst_changes(
    case: tuple[str, int], duration: timedelta, how: str
) -> None:
    name, us = case
    cal = CALENDARS[name]
    start = shown(us, name, how)
    same_datetime(cal.add(start, duration), datetime_op_exact(cal.add_us, name)(start, duration))
    same_datetime(
        cal.subtract(start, duration), datetime_op_exact(cal.subtract_us, name)(start, duration)
    )


def plus(at_us: int, duration_us: int) -> int:
    return at_us + duration_us


@settings(max_examples=settings().max_examples // 2)
@given(near_a_change(), durations, inputs, st.integers(0, 1))
def test_an_operation_landing_anywhere_near_a_change_is_shown_as_the_exact_conversion_shows_it(
    case: tuple[str, int], duration: timedelta, how: str, fold: int
) -> None:
    # ``at + duration`` lands in gaps, folds and skipped days, where a calendar rarely does.
    name, us = case
    start = shown(us, name, how)
    if how == "stdlib":
        start = start.replace(fold=fold)  # the other reading of a repeated wall time
    fast = datetime_op(plus, name)(start, duration)
    same_datetime(fast, datetime_op_exact(plus, name)(start, duration))
    assert to_us(fast) == to_us_exact(start) + td_to_us(duration)


@settings(max_examples=200)
@given(st.timedeltas(), st.booleans())
def test_a_duration_counts_its_exact_microseconds_whatever_its_class(
    value: timedelta, as_pendulum: bool
) -> None:
    if as_pendulum:
        value = pendulum.duration(
            days=value.days, seconds=value.seconds, microseconds=value.microseconds
        )
    assert td_to_us(value) == timedelta.__floordiv__(value, ONE_US)


def test_a_negative_pendulum_duration_moves_back_by_what_it_says() -> None:
    # pendulum gives -5 h as days=-1 with signed seconds (-18000): read naively, a day too far
    cal = BusinessCalendar.always_open("UTC")
    noon = pendulum.datetime(2026, 3, 6, 12)
    assert td_to_us(pendulum.duration(hours=-5)) == -5 * HOUR_US
    assert cal.add(noon, pendulum.duration(hours=-5)) == pendulum.datetime(2026, 3, 6, 7)
    assert cal.subtract(noon, pendulum.duration(hours=-5)) == pendulum.datetime(2026, 3, 6, 17)


def test_moscow_counts_the_repeated_hour_of_its_2014_change_once_each_time() -> None:
    # 26 October 2014, 02:00 +04:00 became 01:00 +03:00; open 00:00-02:30 that night
    cal = CALENDARS["Europe/Moscow"]
    saturday = pendulum.datetime(2014, 10, 25, 17, tz="Europe/Moscow")
    exact = datetime_op_exact(cal.add_us, "Europe/Moscow")
    expected = {
        3: "2014-10-26 01:30:00+04:00",  # 17:00-18:00, 23:30-24:00, then 1.5 h after midnight
        4: "2014-10-26 01:30:00+03:00",  # the same wall time an hour later: the second reading
        8: "2014-10-26 12:00:00+03:00",  # 00:00-02:30 held 3.5 h of open time
    }
    for hours, text in expected.items():
        after = cal.add(saturday, timedelta(hours=hours))
        assert str(after) == text
        same_datetime(after, exact(saturday, timedelta(hours=hours)))
    assert cal.add(saturday, timedelta(hours=4)).fold == 1


def test_apia_goes_from_the_29th_to_the_31st_of_december_2011() -> None:
    # Samoa crossed the date line: 29 December 2011 24:00 -10:00 was 31 December 00:00 +14:00
    cal = CALENDARS["Pacific/Apia"]
    thursday = pendulum.datetime(2011, 12, 29, 17, tz="Pacific/Apia")
    after = cal.add(thursday, timedelta(hours=2))  # 17:00-18:00, 23:30-24:00, 30 min more
    assert str(after) == "2011-12-31 00:30:00+14:00"
    exact = datetime_op_exact(cal.add_us, "Pacific/Apia")
    same_datetime(after, exact(thursday, timedelta(hours=2)))
    back = cal.subtract(after, timedelta(hours=2))
    assert str(back) == "2011-12-29 17:00:00-10:00"
    same_datetime(
        back, datetime_op_exact(cal.subtract_us, "Pacific/Apia")(after, timedelta(hours=2))
    )


def test_lord_howe_shows_the_half_hour_its_daylight_saving_repeats() -> None:
    # 5 April 2026, 02:00 +11:00 became 01:30 +10:30; open 00:00-02:30 that night
    cal = CALENDARS["Australia/Lord_Howe"]
    before = pendulum.datetime(2026, 4, 4, 23, 45, tz="Australia/Lord_Howe")
    exact = datetime_op_exact(cal.add_us, "Australia/Lord_Howe")
    first = cal.add(before, timedelta(hours=2))
    second = cal.add(before, timedelta(hours=2, minutes=30))
    assert (str(first), str(second)) == ("2026-04-05 01:45:00+11:00", "2026-04-05 01:45:00+10:30")
    assert (first.fold, second.fold) == (0, 1)
    same_datetime(second, exact(before, timedelta(hours=2, minutes=30)))


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda cal: cal.add(datetime(2026, 3, 6, 12), timedelta(hours=1)), "start"),
        (lambda cal: cal.subtract(datetime(2026, 3, 6, 12), timedelta(hours=1)), "end"),
    ],
)
def test_a_naive_start_or_end_is_refused_naming_its_argument(
    call: Callable[[BusinessCalendar], object], field: str
) -> None:
    with pytest.raises(NaiveDatetimeError) as caught:
        call(CALENDARS["America/New_York"])
    assert caught.value.field == field


def test_a_start_or_duration_of_the_wrong_type_is_refused_naming_it() -> None:
    cal = CALENDARS["America/New_York"]
    noon = pendulum.datetime(2026, 3, 6, 12)
    with pytest.raises(InvalidValueError) as caught:
        cal.add("2026-03-06T12:00:00Z", timedelta(hours=1))  # type: ignore[arg-type]
    assert caught.value.field == "start"
    for wrong in (3600, [1], "1h"):
        with pytest.raises(InvalidValueError) as caught:
            cal.add(noon, wrong)  # type: ignore[arg-type]
        assert caught.value.field == "duration"
        with pytest.raises(InvalidValueError) as caught:
            cal.subtract(noon, wrong)  # type: ignore[arg-type]
        assert caught.value.field == "duration"


def test_a_full_table_of_durations_is_emptied_and_still_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_time, "_DURATIONS_LIMIT", 2)
    monkeypatch.setattr(_time, "_DURATIONS", {})
    add = datetime_op(plus, "UTC")
    noon = pendulum.datetime(2026, 3, 6, 12)
    for minutes in (1, 2, 3, 1, 2, 3):
        assert add(noon, timedelta(minutes=minutes)) == noon.add(minutes=minutes)
    assert len(_time._DURATIONS) <= 2


def test_an_unpickled_calendar_builds_its_datetime_operations_again() -> None:
    cal = CALENDARS["Europe/Moscow"]
    start = pendulum.datetime(2026, 3, 6, 17, tz="Europe/Moscow")
    first = cal.add(start, timedelta(hours=3))
    again = pickle.loads(pickle.dumps(cal))
    same_datetime(again.add(start, timedelta(hours=3)), first)
    same_datetime(
        again.subtract(first, timedelta(hours=3)), cal.subtract(first, timedelta(hours=3))
    )
