"""A slow, obviously correct reference for business calendars.

It follows the rules of :mod:`itsm_core.calendar` word for word, one local date
at a time with plain ``datetime`` and ``zoneinfo`` and no cleverness: no
compiled timeline, no running sums, no bisection. Use it in property tests to
check the fast answers (``calendar.add(...) == oracle_add(calendar, ...)``).

Instants are epoch microseconds, like the fast integer API.

Two memos keep it affordable in properties that ask about the same days several
times (is there enough open time? then: where does the duration end?): the
parsed times of day, and each calendar's open spans of each local date. Both are
caches of pure functions of values, so they change no answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from itsm_core.calendar import BusinessCalendar, CompositeCalendar, Window
from itsm_core.errors import NeverOpenError

__all__ = [
    "oracle_add",
    "oracle_elapsed",
    "oracle_is_open",
    "oracle_local_open",
    "oracle_next_close",
    "oracle_next_open",
    "oracle_open_intervals",
    "oracle_subtract",
]

Calendar = BusinessCalendar | CompositeCalendar
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WEEK_US = 7 * 86_400_000_000
_GIVE_UP_WEEKS = 60 * 53


@lru_cache(maxsize=4096)
def _clock(text: str) -> timedelta:
    """``'HH:MM[:SS[.ffffff]]'`` (or ``'24:00'``) as the time since midnight."""
    if text.startswith("24:"):
        return timedelta(days=1)
    t = time.fromisoformat(text)
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _windows_starting(cal: BusinessCalendar, day: date) -> tuple[Window, ...] | None:
    """The override windows of ``day``, or ``None`` when it has no override."""
    for override in cal.overrides:
        if override.day == day:
            return override.windows
    return None


def _span(day: date, window: Window) -> tuple[datetime, datetime]:
    midnight = datetime.combine(day, time())
    start = midnight + _clock(window.start)
    end = midnight + _clock(window.end)
    if end <= start:
        end += timedelta(days=1)
    return start, end


def _is_whole_holiday(cal: BusinessCalendar, day: date) -> bool:
    if day in cal.holidays:
        return True
    if any(md.month == day.month and md.day == day.day for md in cal.recurring_holidays):
        return True
    return any(rng.first <= day <= rng.last for rng in cal.holiday_ranges)


_T = TypeVar("_T", datetime, int)


def _merge(spans: list[tuple[_T, _T]]) -> list[tuple[_T, _T]]:
    """Overlapping or touching spans (local datetimes or epoch microseconds) joined, sorted."""
    merged: list[tuple[_T, _T]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def oracle_local_open(cal: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """``open(D)``: the naive local open spans of ``day``, per the documented rules.

    >>> from itsm_core.calendar import WeeklySchedule
    >>> cal = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["22:00-06:00"]))
    >>> [(str(a), str(b)) for a, b in oracle_local_open(cal, date(2026, 3, 7))]
    [('2026-03-07 00:00:00', '2026-03-07 06:00:00')]
    """
    if _is_whole_holiday(cal, day):
        return []
    midnight = datetime.combine(day, time())
    next_midnight = midnight + timedelta(days=1)
    override = _windows_starting(cal, day)
    if override is not None:
        spans = [_span(day, w) for w in override]
    else:
        spans = [_span(day, w) for w in cal.weekly.day(day.weekday())]
        yesterday = day - timedelta(days=1)
        previous = _windows_starting(cal, yesterday)
        if previous is None:
            previous = cal.weekly.day(yesterday.weekday())
        spans += [_span(yesterday, w) for w in previous]
    clipped = [
        (max(a, midnight), min(b, next_midnight))
        for a, b in spans
        if max(a, midnight) < min(b, next_midnight)
    ]
    result = _merge(clipped)
    for closure in cal.closures:
        if closure.day != day:
            continue
        hole_start = midnight + _clock(closure.start)
        hole_end = midnight + _clock(closure.end)
        kept: list[tuple[datetime, datetime]] = []
        for a, b in result:
            if a < hole_start:
                kept.append((a, min(b, hole_start)))
            if b > hole_end:
                kept.append((max(a, hole_end), b))
        result = [(a, b) for a, b in kept if a < b]
    return result


def _us(naive: datetime, zone: ZoneInfo) -> int:
    """A naive local datetime as epoch microseconds; fold=0 is the compatible rule."""
    delta = naive.replace(tzinfo=zone, fold=0) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _local_date(us: int, zone: ZoneInfo) -> date:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(zone).date()


def oracle_open_intervals(cal: Calendar, start: int, end: int) -> list[tuple[int, int]]:
    """The merged open intervals within ``[start, end)``, clipped to it.

    >>> cal = BusinessCalendar.eight_by_five("UTC")
    >>> oracle_open_intervals(cal, 0, 86_400_000_000 * 2)  # 1970-01-01 was a Thursday
    [(32400000000, 61200000000), (118800000000, 147600000000)]
    """
    if end <= start:
        return []
    if isinstance(cal, CompositeCalendar):
        left = oracle_open_intervals(cal.left, start, end)
        right = oracle_open_intervals(cal.right, start, end)
        if cal.operation == "union":
            return _merge(left + right)
        both = [(max(a, c), min(b, d)) for a, b in left for c, d in right if max(a, c) < min(b, d)]
        return _merge(both)
    zone = ZoneInfo(cal.timezone)
    day = _local_date(start, zone) - timedelta(days=3)
    last = _local_date(end, zone) + timedelta(days=3)
    spans: list[tuple[int, int]] = []
    known = _open_days(cal)
    while day <= last:
        if day not in known:
            found = ((_us(a, zone), _us(b, zone)) for a, b in oracle_local_open(cal, day))
            known[day] = [(lo, hi) for lo, hi in found if lo < hi]  # skipped wall time: none
        spans += known[day]
        day += timedelta(days=1)
    return [(max(a, start), min(b, end)) for a, b in _merge(spans) if max(a, start) < min(b, end)]


@lru_cache(maxsize=64)
def _open_days(cal: BusinessCalendar) -> dict[date, list[tuple[int, int]]]:
    """The memo of ``cal``'s open spans (epoch microseconds) by local date, filled as walked."""
    return {}


def oracle_is_open(cal: Calendar, at: int) -> bool:
    """Whether the calendar is open at the instant.

    >>> oracle_is_open(BusinessCalendar.always_open("UTC"), 0)
    True
    """
    return bool(oracle_open_intervals(cal, at, at + 1))


def oracle_elapsed(cal: Calendar, start: int, end: int) -> int:
    """Open microseconds between two instants (negative when ``end < start``).

    >>> oracle_elapsed(BusinessCalendar.always_open("UTC"), 5, 2)
    -3
    """
    if end < start:
        return -oracle_elapsed(cal, end, start)
    return sum(b - a for a, b in oracle_open_intervals(cal, start, end))


def oracle_add(cal: Calendar, start: int, duration: int, *, weeks: int = _GIVE_UP_WEEKS) -> int:
    """The earliest instant by which ``duration`` of open time has passed after ``start``.

    Searches ``weeks`` weeks ahead, then raises ``NeverOpenError``.

    >>> oracle_add(BusinessCalendar.always_open("UTC"), 0, 7)
    7
    """
    if duration < 0:
        return oracle_subtract(cal, start, -duration, weeks=weeks)
    if duration == 0:
        return start
    remaining = duration
    cursor = start
    for _ in range(weeks):
        for a, b in oracle_open_intervals(cal, cursor, cursor + _WEEK_US):
            if b - a >= remaining:
                return a + remaining
            remaining -= b - a
        cursor += _WEEK_US
    raise NeverOpenError("the oracle found too little open time")


def oracle_subtract(cal: Calendar, end: int, duration: int, *, weeks: int = _GIVE_UP_WEEKS) -> int:
    """The latest instant from which ``duration`` of open time passes until ``end``.

    >>> oracle_subtract(BusinessCalendar.always_open("UTC"), 10, 7)
    3
    """
    if duration < 0:
        return oracle_add(cal, end, -duration, weeks=weeks)
    if duration == 0:
        return end
    remaining = duration
    cursor = end
    for _ in range(weeks):
        for a, b in reversed(oracle_open_intervals(cal, cursor - _WEEK_US, cursor)):
            if b - a >= remaining:
                return b - remaining
            remaining -= b - a
        cursor -= _WEEK_US
    raise NeverOpenError("the oracle found too little open time")


def oracle_next_open(cal: Calendar, at: int, *, weeks: int = _GIVE_UP_WEEKS) -> int:
    """``at`` if open, else the first open instant after it.

    >>> oracle_next_open(BusinessCalendar.eight_by_five("UTC"), 0)
    32400000000
    """
    cursor = at
    for _ in range(weeks):
        found = oracle_open_intervals(cal, cursor, cursor + _WEEK_US)
        if found:
            return found[0][0]
        cursor += _WEEK_US
    raise NeverOpenError("the oracle found no open time")


def oracle_next_close(cal: Calendar, at: int, *, weeks: int = _GIVE_UP_WEEKS) -> int | None:
    """``at`` if closed, else the end of the open period (``None``: not within ``weeks``).

    >>> oracle_next_close(BusinessCalendar.eight_by_five("UTC"), 32400000000)
    61200000000
    >>> print(oracle_next_close(BusinessCalendar.always_open("UTC"), 0, weeks=2))
    None
    """
    cursor = at
    for _ in range(weeks):
        found = oracle_open_intervals(cal, cursor, cursor + _WEEK_US)
        if not found or found[0][0] > cursor:
            return cursor
        if found[0][1] < cursor + _WEEK_US:
            return found[0][1]
        cursor += _WEEK_US
    return None
