"""Business-time arithmetic pinned on small calendars whose answers are worked out by hand.

These examples pin the edges of the compiled timeline (``calendar/_timeline.py``):
window boundaries, weekends, holidays, the ends of the supported range.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from itsm_core.calendar import BusinessCalendar
from itsm_core.calendar._timeline import (
    MAX_INSTANT_US,
    MAX_YEAR,
    MIN_INSTANT_US,
    MIN_YEAR,
    Chunk,
    Limits,
    Timeline,
    period_of,
    period_start_us,
    year_start_us,
)
from itsm_core.errors import InvalidValueError, NeverOpenError

H = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_two_hours_from_friday_afternoon_end_on_monday_morning() -> None:
    # 2026-03-06 is a Friday: one hour until 17:00, the second from Monday 09:00.
    # (Calendars are built inside tests: a calendar compiles lazily and keeps
    # what it compiled, so one shared between tests would hide the code it ran.)
    eight_by_five = BusinessCalendar.eight_by_five("UTC")
    assert eight_by_five.add(utc(2026, 3, 6, 16), 2 * H) == utc(2026, 3, 9, 10)
    assert eight_by_five.elapsed(utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)) == 2 * H


# ---------------------------------------------------------------------------
# The timeline itself, on synthetic calendars of whole days in each period
# ---------------------------------------------------------------------------

DAY = 86_400_000_000
#: A period in 2026, far from the ends of the supported range.
P = period_of(year_start_us(2026))


def union_limits() -> Limits:
    """The limits of a union of two calendars that may open in any year.

    Searches past its horizon (1448 and 2502) are bounded relative to the query
    instant. Built inside each test, so that the test exercises the code it runs.
    """
    return Limits.always(2026).union(Limits.always(2026))


def days(*spans: tuple[int, int]) -> Callable[[int], Chunk]:
    """A calendar open on the given [first, end) day offsets of every period."""

    def chunk(period: int) -> Chunk:
        start = period_start_us(period)
        return [start + a * DAY for a, _ in spans], [start + b * DAY for _, b in spans]

    return chunk


def always_open(period: int) -> Chunk:
    return [period_start_us(period)], [period_start_us(period + 1)]


def test_a_calendar_open_in_any_year_may_be_searched_over_the_whole_supported_range() -> None:
    assert Limits.always(2026) == Limits(
        open_lo=MIN_YEAR,
        open_hi=MAX_YEAR,
        closed_lo=MIN_YEAR,
        closed_hi=MAX_YEAR,
        finite_lo=2026,
        finite_hi=2026,
        horizon_lo=MIN_YEAR - 1,
        horizon_hi=MAX_YEAR + 1,
    )


def test_the_last_open_microsecond_before_an_opening_instant_plus_one_is_the_opening() -> None:
    # Open on the first day of every period: just after the period starts, the
    # latest open microsecond is the period's first one, not yesterday's.
    timeline = Timeline(days((0, 1)), Limits.always(2026))
    assert timeline.last_open_before(period_start_us(P) + 1) == period_start_us(P)
    fresh = Timeline(days((0, 1)), Limits.always(2026))
    assert fresh.last_open_before(period_start_us(P) + 5 * DAY) == period_start_us(P) + DAY - 1


def test_the_last_open_microsecond_before_the_end_of_time_is_the_last_supported_one() -> None:
    timeline = Timeline(always_open, Limits.always(2026))
    assert timeline.last_open_before(MAX_INSTANT_US) == MAX_INSTANT_US - 1


def test_a_union_looks_back_to_the_previous_period_for_an_opening_and_a_closing() -> None:
    # Open on the second day of every period; just after a period starts, the
    # latest opening and closing are those of the period before.
    t = period_start_us(P) + 1
    assert Timeline(days((1, 2)), union_limits()).previous_open(t) == period_start_us(P - 1) + DAY
    assert (
        Timeline(days((1, 2)), union_limits()).previous_close(t) == period_start_us(P - 1) + 2 * DAY
    )


def test_a_union_follows_an_open_stretch_across_the_boundary_of_two_periods() -> None:
    # Open on the last and the first day of every period: one stretch from day 6
    # of a period to day 1 of the next.
    chunk = days((0, 1), (6, 7))
    stretch_start = period_start_us(P) + 6 * DAY
    assert (
        Timeline(chunk, union_limits()).next_close(stretch_start + 1)
        == period_start_us(P + 1) + DAY
    )
    assert (
        Timeline(chunk, union_limits()).previous_open(period_start_us(P + 1) + 1) == stretch_start
    )


def test_a_union_searches_later_and_earlier_periods_for_open_time() -> None:
    # Open on the second day of every period only.
    timeline = Timeline(days((1, 2)), union_limits())
    assert timeline.next_open(period_start_us(P) + 3 * DAY) == period_start_us(P + 1) + DAY
    assert timeline.add(period_start_us(P) + 1, 2 * DAY) == period_start_us(P + 1) + 2 * DAY
    assert timeline.subtract(period_start_us(P) + 1, DAY) == period_start_us(P - 1) + DAY


#: A calendar with no open time, whose searches may stop within a year of 2026.
NEVER = Limits(
    open_lo=2025,
    open_hi=2027,
    closed_lo=MIN_YEAR,
    closed_hi=MAX_YEAR,
    finite_lo=2026,
    finite_hi=2026,
)


def test_a_calendar_never_open_says_so_instead_of_naming_an_instant() -> None:
    timeline = Timeline(days(), NEVER)
    t = period_start_us(P)
    with pytest.raises(NeverOpenError, match=f"the calendar is never open before {t} us"):
        timeline.last_open_before(t)
    with pytest.raises(NeverOpenError, match=f"never opens at or after {t} us"):
        timeline.next_open(t)
    with pytest.raises(NeverOpenError, match=f"requested open time after {t} us"):
        timeline.add(t, DAY)
    with pytest.raises(NeverOpenError, match=f"requested open time before {t} us"):
        timeline.subtract(t, DAY)


# ---------------------------------------------------------------------------
# Limits of composite calendars: how far a search must run before it stops
# ---------------------------------------------------------------------------

#: Limits whose every field differs from those of OTHER, and from the horizon
#: (1298..2702) their dated entries (1700..2300) imply: each field of a union or
#: an intersection below comes from exactly one of its candidates.
WIDE = Limits(
    open_lo=10,
    open_hi=9000,
    closed_lo=1500,
    closed_hi=2600,
    finite_lo=1700,
    finite_hi=2300,
    horizon_lo=1400,
    horizon_hi=2650,
)
NARROW = Limits(
    open_lo=1500,
    open_hi=2600,
    closed_lo=10,
    closed_hi=9000,
    finite_lo=1700,
    finite_hi=2300,
    horizon_lo=1400,
    horizon_hi=2650,
)
OTHER = Limits(
    open_lo=30, open_hi=7000, closed_lo=40, closed_hi=6000, finite_lo=1900, finite_hi=2000
)


def test_a_union_is_open_as_long_as_either_and_closed_only_within_both_and_the_horizon() -> None:
    expected = Limits(
        open_lo=10,
        open_hi=9000,
        closed_lo=1500,
        closed_hi=2600,
        finite_lo=1700,
        finite_hi=2300,
        horizon_lo=1400,
        horizon_hi=2650,
    )
    assert WIDE.union(OTHER) == expected
    assert OTHER.union(WIDE) == expected
    # Entries dated 1700 and 2300: the union repeats 402 years beyond them.
    assert Limits.always(1700).union(Limits.always(2300)) == Limits(
        open_lo=MIN_YEAR,
        open_hi=MAX_YEAR,
        closed_lo=1298,
        closed_hi=2702,
        finite_lo=1700,
        finite_hi=2300,
        horizon_lo=1298,
        horizon_hi=2702,
    )


def test_an_intersection_is_closed_as_long_as_either_and_open_within_both_and_horizon() -> None:
    expected = Limits(
        open_lo=1500,
        open_hi=2600,
        closed_lo=10,
        closed_hi=9000,
        finite_lo=1700,
        finite_hi=2300,
        horizon_lo=1400,
        horizon_hi=2650,
    )
    assert NARROW.intersection(OTHER) == expected
    assert OTHER.intersection(NARROW) == expected
    assert Limits.always(1700).intersection(Limits.always(2300)) == Limits(
        open_lo=1298,
        open_hi=2702,
        closed_lo=MIN_YEAR,
        closed_hi=MAX_YEAR,
        finite_lo=1700,
        finite_hi=2300,
        horizon_lo=1298,
        horizon_hi=2702,
    )


def test_the_horizon_of_calendars_dated_near_today_spans_1850_to_2100_and_402_years_more() -> None:
    # Zone rules are tabulated up to 2100 and from 1850: the horizon is never nearer.
    union = union_limits()
    assert (union.horizon_lo, union.horizon_hi) == (1448, 2502)
    # ...and never past the supported years.
    far = Limits.always(100).union(Limits.always(9800))
    assert (far.horizon_lo, far.horizon_hi) == (MIN_YEAR, MAX_YEAR)


def test_a_search_past_the_horizon_runs_402_years_from_where_it_starts() -> None:
    union = union_limits()
    # Inside the horizon a limit is taken as it is.
    assert union.ahead(2501, year_start_us(3000)) == 2501
    assert union.behind(1449, year_start_us(1000)) == 1449
    # At the horizon it is relative to the instant: 3000 + 402, 1000 - 402...
    assert union.ahead(2502, year_start_us(3000)) == 3402
    assert union.behind(1448, year_start_us(1000)) == 598
    # ...never nearer than the horizon itself...
    assert union.ahead(2502, year_start_us(2026)) == 2502
    assert union.behind(1448, year_start_us(2026)) == 1448
    # ...and never past the supported years.
    assert union.ahead(2502, year_start_us(9900)) == MAX_YEAR
    assert union.behind(1448, year_start_us(100)) == MIN_YEAR


def test_an_instant_outside_the_supported_years_is_refused_naming_the_instant() -> None:
    timeline = Timeline(always_open, Limits.always(2026))
    for t in (MAX_INSTANT_US, MIN_INSTANT_US - 1):
        with pytest.raises(InvalidValueError) as caught:
            timeline.is_open(t)
        assert (caught.value.field, caught.value.value) == ("at", t)


def test_runs_compiled_for_neighbouring_periods_merge_into_one() -> None:
    timeline = Timeline(days((0, 1)), Limits.always(2026))
    timeline.is_open(period_start_us(P) + 1)
    timeline.is_open(period_start_us(P + 1) + 1)  # the period after: merged on the left
    timeline.is_open(period_start_us(P - 1) + 1)  # the period before: merged on the right
    [run] = timeline._runs.runs
    assert (run.first, run.last) == (P - 1, P + 1)
    assert run.starts == [period_start_us(p) for p in (P - 1, P, P + 1)]
    assert timeline.elapsed(period_start_us(P - 1), period_start_us(P + 2)) == 3 * DAY


def test_a_run_joined_from_three_pieces_counts_on_correctly_when_it_grows_again() -> None:
    # One open day per period. Periods P and P+2 are compiled first, then joined
    # (with P+1 compiled between them), then the joined run grows to P+3.
    timeline = Timeline(days((0, 1)), Limits.always(2026))
    timeline.is_open(period_start_us(P) + 1)
    timeline.is_open(period_start_us(P + 2) + 1)
    assert timeline.elapsed(period_start_us(P), period_start_us(P + 2) + DAY) == 3 * DAY
    assert timeline.elapsed(period_start_us(P), period_start_us(P + 3) + DAY) == 4 * DAY


def test_growing_backwards_over_a_compiled_period_keeps_every_day_counted() -> None:
    # P-3 is compiled first; then counting three open days back from the end of P's
    # day grows the run to P-1 and then to P-3, joining P-3 with P-2 compiled between.
    timeline = Timeline(days((0, 1)), Limits.always(2026))
    timeline.is_open(period_start_us(P - 3) + 1)
    assert timeline.subtract(period_start_us(P) + DAY, 3 * DAY) == period_start_us(P - 2)


def test_growing_forwards_up_to_a_compiled_period_keeps_the_periods_in_order() -> None:
    # P+2 is compiled first; adding a day from the middle of P's open day grows P's
    # run forwards, joining it with P+1 and the run of P+2 after it.
    timeline = Timeline(days((0, 1)), Limits.always(2026))
    timeline.is_open(period_start_us(P + 2) + 1)
    start = period_start_us(P) + DAY // 2
    assert timeline.add(start, DAY) == period_start_us(P + 1) + DAY // 2
    assert timeline.elapsed(start, period_start_us(P + 3)) == 2 * DAY + DAY // 2


def test_the_open_intervals_up_to_the_end_of_time_end_there() -> None:
    timeline = Timeline(always_open, Limits.always(2026))
    assert timeline.intervals(MAX_INSTANT_US - DAY, MAX_INSTANT_US) == [
        (MAX_INSTANT_US - DAY, MAX_INSTANT_US)
    ]
