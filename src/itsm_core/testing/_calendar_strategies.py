"""Hypothesis strategies for business calendars.

``business_calendars()`` draws random but valid calendars: several windows a day
(overnight ones included), one-off, recurring and ranged holidays, partial
closures and date overrides, dated within a window of years you choose, in
zones with odd DST rules. ``calendars()`` adds unions and intersections.
``instants()`` draws epoch microseconds, biased towards midnights and DST
changes.

Resolution: by default every time of day is a whole minute (mostly quarter
hours), as real business hours are. ``resolution="microsecond"`` also draws
times with any number of microseconds, such as windows a few microseconds
long; such calendars may be open a few microseconds a week, so anything that
looks for a far deadline on them walks years of timeline. Ask for them only
in properties about the calendar itself.

Shrinking: calendars shrink towards fewer windows, fewer holidays, closures and
overrides and towards the first zone of the list (UTC); instants shrink towards
the start of the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from itsm_core.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    Closure,
    CompositeCalendar,
    DateOverride,
    DateRange,
    MonthDay,
    WeeklySchedule,
    Window,
)
from itsm_core.calendar._records import parse_time
from itsm_core.errors import InvalidValueError
from itsm_core.testing._memo import memoized

__all__ = [
    "DST_TEST_ZONES",
    "Resolution",
    "business_calendars",
    "calendars",
    "instants",
    "windows",
]

#: Zones with the awkward rules: 30-minute DST (Lord_Howe), negative DST
#: (Dublin), a skipped day (Apia, 2011-12-30), odd offsets (Kathmandu, Chatham).
DST_TEST_ZONES = (
    "UTC",
    "America/New_York",
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "Pacific/Apia",
    "Asia/Kathmandu",
    "Europe/Moscow",
    "America/St_Johns",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "America/Sao_Paulo",
    "Europe/London",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US

#: How precise the drawn times of day are: whole minutes, or any microsecond.
Resolution = Literal["minute", "microsecond"]
_RESOLUTIONS: tuple[Resolution, ...] = ("minute", "microsecond")

_QUARTERS = st.integers(0, 95).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}")
_MINUTES = st.integers(0, 24 * 60 - 1).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
_MICROSECONDS = st.integers(0, _DAY_US - 1).map(
    lambda us: (
        f"{us // _HOUR_US:02d}:{us // 60_000_000 % 60:02d}:"
        f"{us // 1_000_000 % 60:02d}.{us % 1_000_000:06d}"
    )
)


def _clock(text: str) -> int:
    return parse_time(text, "time", end=True)


def _window(start: str, end: str) -> Window:
    return Window(start=start, end=end)


def _valid(window: Window) -> bool:
    return _clock(window.end) != _clock(window.start)


@cache
def _times(resolution: Resolution) -> st.SearchStrategy[str]:
    if resolution not in _RESOLUTIONS:
        raise InvalidValueError("resolution", resolution, "'minute' or 'microsecond'")
    if resolution == "minute":
        return st.one_of(_QUARTERS, _MINUTES)
    return st.one_of(_QUARTERS, _MICROSECONDS)


@cache
def _windows(resolution: Resolution) -> st.SearchStrategy[Window]:
    times = _times(resolution)
    return st.builds(_window, times, st.one_of(st.just("24:00"), times)).filter(_valid)


def _ordered(first: str, second: str) -> tuple[str, str]:
    """Two times of day as the start and end of a span within one day."""
    a, b = _clock(first), _clock(second)
    if a == b:
        return ("00:00", "24:00") if a == _DAY_US else (first, "24:00")
    return (first, second) if a < b else (second, first)


@cache
def _day_spans(resolution: Resolution) -> st.SearchStrategy[tuple[str, str]]:
    """Start and end of a span within one day (no filter: two times, ordered)."""
    times = _times(resolution)
    return st.builds(_ordered, times, st.one_of(st.just("24:00"), times))


_RECURRING = st.lists(
    st.builds(MonthDay, month=st.integers(1, 12), day=st.integers(1, 28)), max_size=2
).map(tuple)


def _weekly(entries: list[tuple[Window, int]]) -> WeeklySchedule:
    """Each window goes on the weekdays whose bit is set in its mask (bit 0: Monday)."""
    days: dict[str, list[Window]] = {day: [] for day in WEEKDAYS}
    for window, mask in entries:
        for i, day in enumerate(WEEKDAYS):
            if mask >> i & 1:
                days[day].append(window)
    return WeeklySchedule(**days)


def windows(*, resolution: Resolution = "minute") -> st.SearchStrategy[Window]:
    """Valid windows; about a third cross midnight. Shrinks towards ``00:00``.

    Times are whole minutes, mostly quarter hours; ``resolution="microsecond"``
    draws any microsecond too (see the module's documentation).

    >>> from hypothesis import find
    >>> window = find(windows(), lambda w: w.crosses_midnight)
    >>> window.end < window.start, len(window.start)
    (True, 5)
    >>> window = find(windows(resolution="microsecond"), lambda w: "." in w.start)
    >>> len(window.start)
    15
    """
    return _windows(resolution)


@memoized
def business_calendars(
    *,
    zones: Sequence[str] = DST_TEST_ZONES,
    first: date = date(2011, 9, 1),
    last: date = date(2012, 5, 31),
    resolution: Resolution = "minute",
) -> st.SearchStrategy[BusinessCalendar]:
    """Random valid calendars whose dated entries fall within ``first``..``last``.

    Their windows, closures and overrides start and end on whole minutes unless
    ``resolution="microsecond"`` (see the module's documentation).

    >>> from hypothesis import find
    >>> find(business_calendars(zones=["Asia/Kathmandu"]), lambda c: True).timezone
    'Asia/Kathmandu'
    >>> find(business_calendars(), lambda c: True).weekly.mon  # shrinks to no windows
    ()
    """
    windows = _windows(resolution)
    days = st.integers(first.toordinal(), last.toordinal()).map(date.fromordinal)
    ranges = st.lists(
        st.builds(
            lambda d, n: DateRange(first=d, last=min(d + timedelta(days=n), last)),
            days,
            st.integers(0, 6),
        ),
        max_size=2,
    ).map(tuple)
    closures = st.lists(
        st.builds(
            lambda d, w: Closure(day=d, start=w[0], end=w[1]),
            days,
            _day_spans(resolution),
        ),
        max_size=3,
    ).map(tuple)
    overrides = st.lists(
        st.builds(DateOverride, day=days, windows=st.lists(windows, max_size=2).map(tuple)),
        max_size=3,
        unique_by=lambda o: o.day,
    ).map(tuple)
    weekly = st.lists(st.tuples(windows, st.integers(1, 127)), max_size=5).map(_weekly)
    return st.builds(
        BusinessCalendar,
        timezone=st.sampled_from(list(zones)),
        weekly=weekly,
        holidays=st.lists(days, max_size=4).map(tuple),
        recurring_holidays=_RECURRING,
        holiday_ranges=ranges,
        closures=closures,
        overrides=overrides,
        name=st.sampled_from(["", "support"]),
    )


@memoized
def calendars(
    *,
    zones: Sequence[str] = DST_TEST_ZONES,
    first: date = date(2011, 9, 1),
    last: date = date(2012, 5, 31),
    resolution: Resolution = "minute",
) -> st.SearchStrategy[BusinessCalendar | CompositeCalendar]:
    """Calendars, and unions and intersections of two of them (about one in four).

    ``resolution`` is that of :func:`business_calendars`.
    """
    plain = business_calendars(zones=zones, first=first, last=last, resolution=resolution)
    composite = st.builds(
        CompositeCalendar,
        operation=st.sampled_from(["union", "intersection"]),
        left=plain,
        right=plain,
    )
    return st.one_of(plain, plain, plain, composite)


def _us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@lru_cache(maxsize=64)
def _transitions(zone_name: str, first: date, last: date) -> tuple[int, ...]:
    """Instants (epoch microseconds) where the zone's UTC offset changes: the first whole
    hour (counted from ``first``'s midnight, UTC) that has the new offset.

    The zone is sampled a day apart and each day whose offset differs from the day
    before is searched hour by hour (two changes within one day are not looked for).
    """
    zone = ZoneInfo(zone_name)
    found: list[int] = []
    moment = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    hour, day = timedelta(hours=1), timedelta(days=1)
    while moment < end:
        step = min(moment + day, end)
        if step.astimezone(zone).utcoffset() != offset:
            while moment < step:
                moment += hour
                new = moment.astimezone(zone).utcoffset()
                if new != offset:
                    found.append(_us(moment))
                    offset = new
        moment = step
    return tuple(found)


#: Which instant ``instants()`` draws: anywhere, on the hour, or near a DST change.
_INSTANT_KINDS = st.sampled_from(("uniform", "hour", "near"))
_NEAR = st.integers(-26 * _HOUR_US, 26 * _HOUR_US)


@memoized
def instants(
    *,
    zones: Sequence[str] = DST_TEST_ZONES,
    first: date = date(2011, 9, 1),
    last: date = date(2012, 5, 31),
) -> st.SearchStrategy[int]:
    """Epoch microseconds within ``first``..``last``, often near a DST change or midnight."""
    lo = _us(datetime(first.year, first.month, first.day, tzinfo=UTC))
    hi = _us(datetime(last.year, last.month, last.day, tzinfo=UTC))
    near = sorted({t for z in zones for t in _transitions(z, first, last)})
    uniform = st.integers(lo, hi)
    on_the_hour = st.integers(lo // _HOUR_US, hi // _HOUR_US).map(lambda h: h * _HOUR_US)
    if not near:
        return st.one_of(uniform, on_the_hour)
    close = st.builds(
        lambda t, k: t + k,
        st.sampled_from(near),
        st.integers(-26 * _HOUR_US, 26 * _HOUR_US),
    )
    return st.one_of(uniform, on_the_hour, close)
