"""Business calendars agree with the slow reference oracle, and obey the algebra."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core._time import from_us, to_us
from itsm_core.calendar import MAX_INSTANT_US, BusinessCalendar, CompositeCalendar
from itsm_core.errors import NeverOpenError
from itsm_core.testing import calendars as realistic_calendars
from itsm_core.testing import (
    instants,
    oracle_add,
    oracle_elapsed,
    oracle_is_open,
    oracle_next_close,
    oracle_next_open,
    oracle_open_intervals,
    oracle_subtract,
)

Calendar = BusinessCalendar | CompositeCalendar


def calendars(**bounds: Any) -> st.SearchStrategy[Calendar]:
    """Calendars with windows to the microsecond (a few microseconds long, too).

    The toolkit draws whole minutes by default; these properties are about the
    calendar itself, so they opt into the pathological resolution.
    """
    return realistic_calendars(resolution="microsecond", **bounds)


HOUR = 3_600_000_000
DAY = 24 * HOUR

#: Durations: often whole minutes, sometimes any microsecond count, up to 2 days.
durations = st.one_of(
    st.integers(0, 2 * 24 * 60).map(lambda m: m * 60_000_000),
    st.integers(0, 2 * DAY),
)
#: Spans for elapsed: up to 20 days.
spans = st.integers(0, 20 * DAY)


HORIZON_WEEKS = 3
HORIZON = HORIZON_WEEKS * 7 * DAY
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def enough_after(cal: Calendar, at: int, duration: int) -> bool:
    """Whether the oracle finds ``duration`` of open time within 3 weeks after ``at``.

    Beyond that the answer is far away (a sparse calendar) and the oracle slow.
    """
    return duration == 0 or oracle_elapsed(cal, at, at + HORIZON) >= max(duration, 1)


def enough_before(cal: Calendar, at: int, duration: int) -> bool:
    """Whether the oracle finds ``duration`` of open time within 3 weeks before ``at``."""
    return duration == 0 or oracle_elapsed(cal, at - HORIZON, at) >= max(duration, 1)


def oracle_add_near(cal: Calendar, at: int, duration: int) -> int | None:
    """The oracle's ``add`` when ``enough_after`` holds, else ``None`` (one walk, not two)."""
    try:
        return oracle_add(cal, at, duration, weeks=HORIZON_WEEKS)
    except NeverOpenError:
        return None


def oracle_subtract_near(cal: Calendar, at: int, duration: int) -> int | None:
    """The oracle's ``subtract`` when ``enough_before`` holds, else ``None``."""
    try:
        return oracle_subtract(cal, at, duration, weeks=HORIZON_WEEKS)
    except NeverOpenError:
        return None


def test_the_near_oracle_answers_exactly_when_there_is_enough_open_time() -> None:
    cal = BusinessCalendar.eight_by_five("UTC")
    at = to_us(datetime(2026, 3, 6, 12, tzinfo=UTC))
    for duration in (0, 1, 8 * HOUR, 120 * HOUR, 121 * HOUR):
        assert (oracle_add_near(cal, at, duration) is not None) == enough_after(cal, at, duration)
        before = oracle_subtract_near(cal, at, duration)
        assert (before is not None) == enough_before(cal, at, duration)
    assert oracle_add_near(cal, at, 8 * HOUR) == oracle_add(cal, at, 8 * HOUR)
    assert oracle_subtract_near(cal, at, 8 * HOUR) == oracle_subtract(cal, at, 8 * HOUR)


@given(calendars(), instants(), spans, st.booleans())
def test_is_open_elapsed_and_open_intervals_agree_with_the_oracle(
    cal: Calendar, at: int, span: int, back: bool
) -> None:
    assert cal.is_open_us(at) == oracle_is_open(cal, at)
    start, end = (at + span, at) if back else (at, at + span)
    assert cal.elapsed_us(start, end) == oracle_elapsed(cal, start, end)
    assert cal.open_intervals_us(at, at + span) == oracle_open_intervals(cal, at, at + span)


@given(calendars(), instants(), durations)
def test_add_and_subtract_agree_with_the_oracle(cal: Calendar, at: int, duration: int) -> None:
    if (later := oracle_add_near(cal, at, duration)) is not None:
        assert cal.add_us(at, duration) == later
    if (earlier := oracle_subtract_near(cal, at, duration)) is not None:
        assert cal.subtract_us(at, duration) == earlier


@given(calendars(), instants())
def test_next_open_and_next_close_agree_with_the_oracle(cal: Calendar, at: int) -> None:
    close = cal.next_close_us(at)
    assert close >= at
    expected = oracle_next_close(cal, at, weeks=3)
    if expected is not None:
        assert close == expected
    if close < MAX_INSTANT_US:
        assert not cal.is_open_us(close)
        assert cal.elapsed_us(at, close) == close - at
    try:
        expected_open = oracle_next_open(cal, at, weeks=HORIZON_WEEKS)
    except NeverOpenError:  # no open time within 3 weeks (enough_after(cal, at, 1) fails)
        pass
    else:
        opened = cal.next_open_us(at)
        assert opened == expected_open
        assert cal.is_open_us(opened)
        assert cal.elapsed_us(at, opened) == 0


@given(calendars(), instants(), durations, durations)
def test_adding_and_subtracting_obey_the_algebra(cal: Calendar, at: int, a: int, b: int) -> None:
    # The calendar against itself: whether the answers are near (enough_after/before)
    # is asked of the calendar too; its elapsed time agrees with the oracle's above.
    if a + b == 0 or cal.elapsed_us(at, at + HORIZON) >= a + b:
        end = cal.add_us(at, a)
        assert end >= at
        assert cal.elapsed_us(at, end) == a
        assert cal.add_us(end, b) == cal.add_us(at, a + b)
    if a + b == 0 or cal.elapsed_us(at - HORIZON, at) >= a + b:
        start = cal.subtract_us(at, a)
        assert start <= at
        assert cal.elapsed_us(start, at) == a
        assert cal.subtract_us(start, b) == cal.subtract_us(at, a + b)


@given(calendars(), instants(), spans, spans, st.lists(st.integers(0, 20 * DAY), max_size=8))
def test_elapsed_is_additive_bounded_and_agrees_with_is_open(
    cal: Calendar, at: int, first: int, second: int, probes: list[int]
) -> None:
    middle, end = at + first, at + first + second
    total = cal.elapsed_us(at, end)
    assert cal.elapsed_us(at, middle) + cal.elapsed_us(middle, end) == total
    assert 0 <= total <= end - at
    assert cal.elapsed_us(end, at) == -total
    intervals = cal.open_intervals_us(at, end)
    assert sum(b - a for a, b in intervals) == total
    assert all(a < b for a, b in intervals)
    assert all(b1 < a2 for (_, b1), (a2, _) in pairwise(intervals))
    for probe in probes:
        t = at + probe % (end - at + 1)
        if t < end:
            assert cal.is_open_us(t) == any(a <= t < b for a, b in intervals)


@given(calendars())
def test_a_calendar_survives_pickling_equal_and_with_the_same_hash(cal: Calendar) -> None:
    probe = 1_325_000_000_000_000  # 2011-12-27
    cal.is_open_us(probe)  # compile something first: the cache must not travel or compare
    copy = pickle.loads(pickle.dumps(cal))
    assert copy == cal
    assert hash(copy) == hash(cal)
    assert copy.is_open_us(probe) == cal.is_open_us(probe)


FAR_FIRST, FAR_LAST = date(2199, 9, 1), date(2200, 5, 31)
PAST_FIRST, PAST_LAST = date(1989, 9, 1), date(1990, 5, 31)


@given(
    st.one_of(
        st.tuples(
            calendars(zones=("UTC", "Asia/Kathmandu"), first=FAR_FIRST, last=FAR_LAST),
            instants(zones=("UTC",), first=FAR_FIRST, last=FAR_LAST),
        ),
        st.tuples(
            calendars(first=PAST_FIRST, last=PAST_LAST), instants(first=PAST_FIRST, last=PAST_LAST)
        ),
    ),
    durations,
    spans,
)
def test_add_and_elapsed_agree_with_the_oracle_in_1990_and_2200(
    case: tuple[Calendar, int], duration: int, span: int
) -> None:
    cal, at = case
    assert cal.elapsed_us(at, at + span) == oracle_elapsed(cal, at, at + span)
    if (later := oracle_add_near(cal, at, duration)) is not None:
        assert cal.add_us(at, duration) == later


def naive_business_day_shift(cal: Calendar, at: int, days: int) -> int | None:
    """``add_business_days`` the slow way: walk local dates, ask the oracle about each.

    ``None`` when the answer is more than 60 dates away.
    """
    zone = ZoneInfo(cal.timezone)
    local = (EPOCH + timedelta(microseconds=at)).astimezone(zone)
    wall = local.replace(tzinfo=None) - datetime.combine(local.date(), time())

    def midnight(day: date) -> int:
        return us_of(datetime.combine(day, time(), tzinfo=zone))

    def is_business(day: date) -> bool:
        return oracle_elapsed(cal, midnight(day), midnight(day + timedelta(days=1))) > 0

    day = start = local.date()
    step = timedelta(days=1 if days >= 0 else -1)
    if days == 0:
        while not is_business(day):
            day += step
    for _ in range(abs(days)):
        day += step
        while not is_business(day):
            day += step
            if abs((day - start).days) > 60:
                return None
    return us_of((datetime.combine(day, time()) + wall).replace(tzinfo=zone))


def us_of(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@given(calendars(), instants(), st.integers(-3, 3))
def test_business_days_agree_with_walking_the_local_dates(
    cal: Calendar, at: int, days: int
) -> None:
    if not enough_after(cal, at, HOUR) or not enough_before(cal, at, HOUR):
        return
    expected = naive_business_day_shift(cal, at, days)
    if expected is not None:
        assert to_us(cal.add_business_days(from_us(at, cal.timezone), days)) == expected
    # The end of the business day: the last close on the local date of next_open(at).
    opened = oracle_next_open(cal, at)
    zone = ZoneInfo(cal.timezone)
    day = (EPOCH + timedelta(microseconds=opened)).astimezone(zone).date()
    midnight = us_of(datetime.combine(day + timedelta(days=1), time(), tzinfo=zone))
    spans = oracle_open_intervals(cal, opened, max(midnight, opened + 1))
    assert to_us(cal.end_of_business_day(from_us(at, cal.timezone))) == spans[-1][1]


FAR_AWAY = (
    (date(2499, 6, 1), date(2500, 6, 1)),
    (date(4999, 6, 1), date(5000, 6, 1)),
    (date(1901, 6, 1), date(1902, 6, 1)),
)


@settings(max_examples=200)
@given(
    calendars(),
    instants(),
    st.sampled_from(FAR_AWAY).flatmap(
        lambda span: instants(zones=("UTC",), first=span[0], last=span[1])
    ),
    durations,
    spans,
)
def test_a_query_far_from_the_earlier_ones_agrees_with_the_oracle(
    cal: Calendar, near: int, far: int, duration: int, span: int
) -> None:
    cal.is_open_us(near)  # compile around 2012 first; the far query must not need it
    assert cal.is_open_us(far) == oracle_is_open(cal, far)
    assert cal.elapsed_us(far, far + span) == oracle_elapsed(cal, far, far + span)
    if (later := oracle_add_near(cal, far, duration)) is not None:
        assert cal.add_us(far, duration) == later
    if (earlier := oracle_subtract_near(cal, far, duration)) is not None:
        assert cal.subtract_us(far, duration) == earlier
    assert cal.is_open_us(near) == oracle_is_open(cal, near)


@settings(max_examples=150)
@given(
    calendars(),
    instants(),
    st.lists(st.integers(0, 40 * DAY), min_size=1, max_size=6),
    st.integers(0, 40 * DAY),
    durations,
)
def test_queries_across_separately_compiled_runs_agree_with_the_oracle(
    cal: Calendar, at: int, offsets: list[int], span: int, duration: int
) -> None:
    # Scattered probes compile separate runs of weeks with gaps between them;
    # the queries after them must bridge, grow and merge those runs exactly.
    for offset in offsets:
        probe = at + offset
        assert cal.is_open_us(probe) == oracle_is_open(cal, probe)
    assert cal.elapsed_us(at, at + span) == oracle_elapsed(cal, at, at + span)
    assert cal.open_intervals_us(at, at + span) == oracle_open_intervals(cal, at, at + span)
    middle = at + span // 2
    if (later := oracle_add_near(cal, middle, duration)) is not None:
        assert cal.add_us(middle, duration) == later
    if (earlier := oracle_subtract_near(cal, middle, duration)) is not None:
        assert cal.subtract_us(middle, duration) == earlier


def test_a_far_query_compiles_one_run_of_a_few_weeks_not_the_years_between() -> None:
    cal = BusinessCalendar.eight_by_five("Europe/Moscow").with_name("far")
    near = to_us(datetime(2026, 3, 6, 12, tzinfo=UTC))
    far = to_us(datetime(5000, 3, 6, 12, tzinfo=UTC))
    cal.add_us(near, 8 * HOUR)
    cal.add_us(far, 8 * HOUR)
    runs = cal._timeline()._runs.runs
    assert len(runs) == 2
    assert all(run.last - run.first < 4 for run in runs)
    assert cal.elapsed_us(near, near + 7 * DAY) == 40 * HOUR
