"""Hypothesis strategies for business calendars.

``business_calendars()`` draws random but valid calendars: several windows a day
(overnight ones included), one-off, recurring and ranged holidays, partial
closures and date overrides, dated within a window of years you choose, in
zones with odd DST rules. ``calendars()`` adds unions and intersections.
``instants()`` draws epoch microseconds, biased towards midnights and DST
changes.

Resolution: by default every time of day is a whole minute (half of them quarter
hours), as real business hours are. ``resolution="microsecond"`` also draws
times with any number of microseconds, such as windows a few microseconds
long; such calendars may be open a few microseconds a week, so anything that
looks for a far deadline on them walks years of timeline. Ask for them only
in properties about the calendar itself.

Cost: a calendar is drawn in about a dozen Hypothesis choices inside one
composite (no nested maps, filters or ``unique_by``): a few uniform bytes for
its zone, name and how many entries of each kind it has, a few for each weekly
window (its times and weekdays), closure or override (its day and times), one
run of bytes for all its holidays, and an integer for each time of day drawn to
the resolution's precision. Bytes are read as indexes into prebuilt tables and
shrink towards zeros, which is index 0 of every table: the simplest choice.

Shrinking: calendars shrink towards fewer windows, fewer holidays, closures and
overrides and towards the first zone of the list (UTC); windows towards
``00:00``-``24:00``; instants towards the start of the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from itertools import product
from typing import Literal
from zoneinfo import ZoneInfo

import attrs
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

_QUARTER_TIMES = tuple(f"{q // 4:02d}:{q % 4 * 15:02d}" for q in range(96))
_MINUTE_TIMES = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60))

#: A time of day: half the draws a quarter hour, half (``None``) any time at the
#: resolution's precision, drawn next. Index 0, where times shrink to, is ``00:00``.
_TIME_TABLE: tuple[str | None, ...] = _QUARTER_TIMES + (None,) * len(_QUARTER_TIMES)
#: The end of a window: ``24:00`` a third of the draws, else a time as above (so about
#: a third of the windows cross midnight). Ends shrink to ``24:00``.
_END_TABLE: tuple[str | None, ...] = ("24:00",) * len(_QUARTER_TIMES) + _TIME_TABLE


def _micro_text(us: int) -> str:
    return (
        f"{us // _HOUR_US:02d}:{us // 60_000_000 % 60:02d}:"
        f"{us // 1_000_000 % 60:02d}.{us % 1_000_000:06d}"
    )


@lru_cache(maxsize=4096)
def _clock(text: str) -> int:
    return parse_time(text, "time", end=True)


@cache
def _bytes(size: int) -> st.SearchStrategy[bytes]:
    """``size`` uniform bytes as one choice; they shrink towards zeros, byte by byte."""
    return st.binary(min_size=size, max_size=size)


def _number(chunk: bytes, at: int, width: int, below: int) -> int:
    """``width`` bytes of ``chunk`` from ``at`` as a number below ``below`` (all but uniform)."""
    return int.from_bytes(chunk[at : at + width]) % below


@attrs.frozen
class _Fine:
    """Any time of day at one resolution's precision: an integer and its text."""

    draws: st.SearchStrategy[int]
    text: Callable[[int], str]


@cache
def _fine(resolution: Resolution) -> _Fine:
    if resolution not in _RESOLUTIONS:
        raise InvalidValueError("resolution", resolution, "'minute' or 'microsecond'")
    if resolution == "minute":
        return _Fine(draws=st.integers(0, len(_MINUTE_TIMES) - 1), text=_MINUTE_TIMES.__getitem__)
    return _Fine(draws=st.integers(0, _DAY_US - 1), text=_micro_text)


def _times(draw: st.DrawFn, fine: _Fine, chunk: bytes, at: int) -> tuple[str, str]:
    """Two times of day (from ``_TIME_TABLE`` and ``_END_TABLE``) by four bytes of ``chunk``.

    A table's ``None`` is any time at the resolution's precision, drawn as an integer
    (Hypothesis leans towards small ones: a few microseconds after midnight).
    """
    first = _TIME_TABLE[_number(chunk, at, 2, len(_TIME_TABLE))]
    second = _END_TABLE[_number(chunk, at + 2, 2, len(_END_TABLE))]
    first = fine.text(draw(fine.draws)) if first is None else first
    second = fine.text(draw(fine.draws)) if second is None else second
    return first, second


def _window(draw: st.DrawFn, fine: _Fine, chunk: bytes, at: int) -> Window:
    """A valid window: two times; an end equal to the start becomes ``24:00`` (no filter)."""
    start, end = _times(draw, fine, chunk, at)
    if _clock(end) == _clock(start):
        end = "24:00"
    return Window(start=start, end=end)


def _day_span(draw: st.DrawFn, fine: _Fine, chunk: bytes, at: int) -> tuple[str, str]:
    """Start and end of a span within one day: two times, ordered (no filter)."""
    first, second = _times(draw, fine, chunk, at)
    a, b = _clock(first), _clock(second)
    if a == b:
        return (first, "24:00")
    return (first, second) if a < b else (second, first)


@cache
def _windows(resolution: Resolution) -> st.SearchStrategy[Window]:
    fine = _fine(resolution)

    @st.composite
    def window(draw: st.DrawFn) -> Window:
        return _window(draw, fine, draw(_bytes(4)), 0)

    return window()


def windows(*, resolution: Resolution = "minute") -> st.SearchStrategy[Window]:
    """Valid windows; about a third cross midnight. Shrinks towards ``00:00``-``24:00``.

    Times are whole minutes, half of them quarter hours; ``resolution="microsecond"``
    draws any microsecond instead of any minute (see the module's documentation).

    >>> from hypothesis import find
    >>> find(windows(), lambda w: True)
    Window(start='00:00', end='24:00')
    >>> window = find(windows(), lambda w: w.crosses_midnight)
    >>> window.end < window.start, len(window.start)
    (True, 5)
    >>> window = find(windows(resolution="microsecond"), lambda w: "." in w.start)
    >>> len(window.start)
    15
    """
    return _windows(resolution)


#: Recurring holidays (every month and day 1-28 as likely).
_MONTH_DAYS = tuple(MonthDay(month=m, day=d) for d in range(1, 29) for m in range(1, 13))
#: How many holidays, recurring holidays and holiday ranges (0-4, 0-2, 0-2), then how
#: many closures and overrides (0-3 each): every combination as likely, none first.
_HOLIDAY_COUNTS = tuple(product(range(5), range(3), range(3)))
_CHANGE_COUNTS = tuple(product(range(4), range(4)))
#: How many weekly windows: none in about a quarter of the calendars, 2.3 on average.
_WEEKLY_COUNTS = (0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5)


def _weekly(entries: list[tuple[Window, int]]) -> WeeklySchedule:
    """Each window goes on the weekdays whose bit is set in its mask (bit 0: Monday)."""
    days: dict[str, list[Window]] = {day: [] for day in WEEKDAYS}
    for window, mask in entries:
        for i, day in enumerate(WEEKDAYS):
            if mask >> i & 1:
                days[day].append(window)
    return WeeklySchedule(**days)


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
    ``resolution="microsecond"`` (see the module's documentation). A calendar has
    up to five weekly windows, each on a random set of weekdays, up to four
    holidays, two recurring holidays, two holiday ranges (of up to a week), three
    closures and three overrides (of up to two windows, one a day).

    >>> from hypothesis import find
    >>> find(business_calendars(zones=["Asia/Kathmandu"]), lambda c: True).timezone
    'Asia/Kathmandu'
    >>> find(business_calendars(), lambda c: True).weekly.mon  # shrinks to no windows
    ()
    >>> find(business_calendars(), lambda c: c.overrides != ()).overrides
    (DateOverride(day=datetime.date(2011, 9, 1), windows=()),)
    """
    fine = _fine(resolution)
    labels = tuple((zone, name) for name in ("", "support") for zone in zones)
    count = last.toordinal() - first.toordinal() + 1

    def day(chunk: bytes, at: int) -> date:
        return first + timedelta(days=_number(chunk, at, 3, count))

    @st.composite
    def calendar(draw: st.DrawFn) -> BusinessCalendar:
        # One choice of eight bytes: the zone and name, and how many entries of each kind.
        head = draw(_bytes(8))
        zone, name = labels[_number(head, 0, 2, len(labels))]
        n_weekly = _WEEKLY_COUNTS[_number(head, 2, 2, len(_WEEKLY_COUNTS))]
        n_holidays, n_recurring, n_ranges = _HOLIDAY_COUNTS[_number(head, 4, 2, 45)]
        n_closures, n_overrides = _CHANGE_COUNTS[_number(head, 6, 2, 16)]
        # A choice an entry (its times any-precision draws after it), the holidays one.
        weekly = []
        for _ in range(n_weekly):
            chunk = draw(_bytes(5))  # the window, then its weekdays (a mask, bit 0 Monday)
            weekly.append((_window(draw, fine, chunk, 0), chunk[4] % 127 + 1))
        size = 3 * n_holidays + 2 * n_recurring + 4 * n_ranges
        dated = draw(_bytes(size)) if size else b""
        holidays = tuple(day(dated, 3 * k) for k in range(n_holidays))
        at = 3 * n_holidays
        recurring = tuple(
            _MONTH_DAYS[_number(dated, at + 2 * k, 2, len(_MONTH_DAYS))] for k in range(n_recurring)
        )
        at += 2 * n_recurring
        ranges = []
        for k in range(n_ranges):
            start = day(dated, at + 4 * k)
            end = min(start + timedelta(days=dated[at + 4 * k + 3] % 7), last)
            ranges.append(DateRange(first=start, last=end))
        closures = []
        for _ in range(n_closures):
            chunk = draw(_bytes(7))
            opens, closes = _day_span(draw, fine, chunk, 3)
            closures.append(Closure(day=day(chunk, 0), start=opens, end=closes))
        overrides: dict[date, tuple[Window, ...]] = {}  # one a day: a later draw replaces
        for _ in range(n_overrides):
            chunk = draw(_bytes(12))  # the day, how many windows (0-2), two windows
            overrides[day(chunk, 0)] = tuple(
                _window(draw, fine, chunk, 4 + 4 * k) for k in range(chunk[3] % 3)
            )
        return BusinessCalendar(
            timezone=zone,
            weekly=_weekly(weekly),
            holidays=holidays,
            recurring_holidays=recurring,
            holiday_ranges=tuple(ranges),
            closures=tuple(closures),
            overrides=tuple(DateOverride(day=d, windows=w) for d, w in overrides.items()),
            name=name,
        )

    return calendar()


#: Which calendar ``calendars()`` draws: plain half the time, else a composite.
_KINDS: st.SearchStrategy[Literal["union", "intersection"] | None] = st.sampled_from(
    (None, None, "union", "intersection")
)


@memoized
def calendars(
    *,
    zones: Sequence[str] = DST_TEST_ZONES,
    first: date = date(2011, 9, 1),
    last: date = date(2012, 5, 31),
    resolution: Resolution = "minute",
) -> st.SearchStrategy[BusinessCalendar | CompositeCalendar]:
    """Calendars, and unions and intersections of two of them (about half the draws).

    ``resolution`` is that of :func:`business_calendars`. Shrinks towards a plain
    calendar.

    >>> from hypothesis import find
    >>> find(calendars(), lambda c: True).weekly.mon
    ()
    >>> find(calendars(), lambda c: isinstance(c, CompositeCalendar)).operation
    'union'
    """
    plain = business_calendars(zones=zones, first=first, last=last, resolution=resolution)

    @st.composite
    def calendar(draw: st.DrawFn) -> BusinessCalendar | CompositeCalendar:
        operation = draw(_KINDS)
        if operation is None:
            return draw(plain)
        return CompositeCalendar(operation=operation, left=draw(plain), right=draw(plain))

    return calendar()


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
    """Epoch microseconds within ``first``..``last``, often near a DST change or midnight.

    Shrinks towards ``first``'s midnight (UTC).

    >>> from hypothesis import find
    >>> find(instants(first=date(2026, 1, 1), last=date(2026, 12, 31)), lambda t: True)
    1767225600000000
    """
    lo = _us(datetime(first.year, first.month, first.day, tzinfo=UTC))
    hi = _us(datetime(last.year, last.month, last.day, tzinfo=UTC))
    near = sorted({t for z in zones for t in _transitions(z, first, last)})
    uniform = st.integers(lo, hi)
    hours = st.integers(lo // _HOUR_US, hi // _HOUR_US)
    changes = st.sampled_from(near) if near else None

    @st.composite
    def instant(draw: st.DrawFn) -> int:
        kind = draw(_INSTANT_KINDS)
        if kind == "hour":
            return draw(hours) * _HOUR_US
        if kind == "near" and changes is not None:
            return draw(changes) + draw(_NEAR)
        return draw(uniform)

    return instant()
