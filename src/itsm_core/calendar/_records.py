"""The plain-data records a business calendar is made of.

These records only hold data: a :class:`Window` is two strings. Everything is
checked, with the full field path in the error, when the records are placed in
a :class:`~itsm_core.calendar.BusinessCalendar`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs

from itsm_core._time import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND
from itsm_core.errors import InvalidValueError

__all__ = [
    "WEEKDAYS",
    "Closure",
    "DateOverride",
    "DateRange",
    "MonthDay",
    "WeeklySchedule",
    "Window",
]

#: The weekday field names of :class:`WeeklySchedule`, Monday first.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# ASCII digits only, the whole text (``$`` would let a trailing newline through).
_TIME_RE = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?")
_TIME_EXPECTED = "a local time 'HH:MM[:SS[.ffffff]]' between 00:00 and 23:59:59.999999"
_END_EXPECTED = "a local time 'HH:MM[:SS[.ffffff]]' between 00:00 and 24:00"


def parse_time(value: object, field: str, *, end: bool) -> int:
    """Microseconds after local midnight of ``'HH:MM[:SS[.ffffff]]'``.

    ``24:00`` is accepted only for an end (``end=True``) and means the next
    midnight.

    >>> parse_time("09:30", "start", end=False)
    34200000000
    >>> parse_time("24:00", "end", end=True)
    86400000000
    """
    expected = _END_EXPECTED if end else _TIME_EXPECTED
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidValueError(field, value, expected)
    hours, minutes = int(match[1]), int(match[2])
    seconds = int(match[3] or 0)
    micros = int((match[4] or "").ljust(6, "0"))
    if minutes > 59 or seconds > 59:
        raise InvalidValueError(field, value, expected)
    total = hours * US_PER_HOUR + minutes * US_PER_MINUTE + seconds * US_PER_SECOND + micros
    if total > US_PER_DAY or (total == US_PER_DAY and not end):
        raise InvalidValueError(field, value, expected)
    return total


def as_tuple(value: Any, field: str) -> tuple[Any, ...]:
    """``value`` (a tuple, list, set or other iterable) as a tuple; ``field`` names it in errors.

    Sets are sorted, so equal inputs give equal records.
    """
    if isinstance(value, tuple):
        return value
    if isinstance(value, (list, frozenset, set)) or (
        isinstance(value, Iterable) and not isinstance(value, (str, bytes, dict))
    ):
        items = tuple(value)
        if isinstance(value, (set, frozenset)):
            items = tuple(sorted(items, key=repr))
        return items
    raise InvalidValueError(field, value, "a sequence (tuple or list)")


def _windows(value: Iterable[Window]) -> tuple[Window, ...]:
    return as_tuple(value, "windows")


@attrs.frozen(kw_only=True)
class Window:
    """An open window of local wall time, ``start`` to ``end``.

    Times are strings ``'HH:MM[:SS[.ffffff]]'``. ``end`` may be ``'24:00'``.
    A window whose end is not after its start crosses midnight and ends on the
    next day; it belongs to the day it starts on.

    >>> Window(start="22:00", end="06:00").crosses_midnight
    True
    >>> Window.parse("09:00-17:00")
    Window(start='09:00', end='17:00')
    """

    start: str
    end: str

    @classmethod
    def parse(cls, text: str) -> Window:
        """A window from ``'HH:MM-HH:MM'`` text.

        >>> Window.parse("13:00-24:00").end
        '24:00'
        """
        if not isinstance(text, str) or text.count("-") != 1:
            raise InvalidValueError("window", text, "a window 'HH:MM-HH:MM'")
        start, end = (part.strip() for part in text.split("-"))
        window = cls(start=start, end=end)
        window.bounds("window")
        return window

    def bounds(self, field: str = "window") -> tuple[int, int]:
        """Start and end in microseconds after the local midnight of the start day.

        The end of a window that crosses midnight is past ``24:00``.

        >>> Window(start="22:00", end="02:00").bounds()
        (79200000000, 93600000000)
        """
        start = parse_time(self.start, f"{field}.start", end=False)
        end = parse_time(self.end, f"{field}.end", end=True)
        if end == start:
            raise InvalidValueError(
                f"{field}.end",
                self.end,
                "an end different from the start",
                "a window ending before its start crosses midnight; '00:00'-'24:00' is a whole day",
            )
        return (start, end) if end > start else (start, end + US_PER_DAY)

    @property
    def crosses_midnight(self) -> bool:
        """Whether the window ends on the day after it starts.

        >>> Window(start="09:00", end="24:00").crosses_midnight
        False
        """
        return self.bounds()[1] > US_PER_DAY


def _mon(value: Iterable[Window]) -> tuple[Window, ...]:
    return as_tuple(value, "weekly.mon")


def _tue(value: Iterable[Window]) -> tuple[Window, ...]:
    return as_tuple(value, "weekly.tue")


def _wed(value: Iterable[Window]) -> tuple[Window, ...]:
    return as_tuple(value, "weekly.wed")


def _thu(value: Iterable[Window]) -> tuple[Window, ...]:
    return as_tuple(value, "weekly.thu")


def _fri(value: Iterable[Window]) -> tuple[Window, ...]:
    return as_tuple(value, "weekly.fri")


def _sat(value: Iterable[Window]) -> tuple[Window, ...]:
    return as_tuple(value, "weekly.sat")


def _sun(value: Iterable[Window]) -> tuple[Window, ...]:
    return as_tuple(value, "weekly.sun")


@attrs.frozen(kw_only=True)
class WeeklySchedule:
    """The open windows of each weekday; a day with no window is closed.

    >>> week = WeeklySchedule.same(["09:00-13:00", "14:00-18:00"])
    >>> len(week.mon), week.sat
    (2, ())
    """

    mon: tuple[Window, ...] = attrs.field(default=(), converter=_mon)
    tue: tuple[Window, ...] = attrs.field(default=(), converter=_tue)
    wed: tuple[Window, ...] = attrs.field(default=(), converter=_wed)
    thu: tuple[Window, ...] = attrs.field(default=(), converter=_thu)
    fri: tuple[Window, ...] = attrs.field(default=(), converter=_fri)
    sat: tuple[Window, ...] = attrs.field(default=(), converter=_sat)
    sun: tuple[Window, ...] = attrs.field(default=(), converter=_sun)

    @classmethod
    def same(
        cls,
        windows: Iterable[Window | str],
        days: Iterable[str] = ("mon", "tue", "wed", "thu", "fri"),
    ) -> WeeklySchedule:
        """The same windows on each of ``days`` (Monday to Friday by default).

        Windows may be given as :class:`Window` or as ``'HH:MM-HH:MM'`` text.

        >>> WeeklySchedule.same(["08:00-20:00"], days=WEEKDAYS).sun
        (Window(start='08:00', end='20:00'),)
        """
        parsed = tuple(w if isinstance(w, Window) else Window.parse(w) for w in windows)
        chosen = as_tuple(days, "days")
        for day in chosen:
            if day not in WEEKDAYS:
                raise InvalidValueError("days", day, "weekday names " + ", ".join(WEEKDAYS))
        return cls(**dict.fromkeys(chosen, parsed))

    def day(self, weekday: int) -> tuple[Window, ...]:
        """The windows of a weekday number (Monday is 0, as in ``date.weekday()``).

        >>> WeeklySchedule.same(["09:00-17:00"]).day(4)
        (Window(start='09:00', end='17:00'),)
        """
        result: tuple[Window, ...] = getattr(self, WEEKDAYS[weekday])
        return result


@attrs.frozen(kw_only=True)
class MonthDay:
    """A holiday recurring every year on a month and day (29 February: leap years only).

    >>> MonthDay(month=12, day=25)
    MonthDay(month=12, day=25)
    """

    month: int
    day: int


@attrs.frozen(kw_only=True)
class DateRange:
    """Whole local dates from ``first`` to ``last``, both included.

    >>> from datetime import date
    >>> DateRange(first=date(2026, 1, 1), last=date(2026, 1, 8)).days
    8
    """

    first: date
    last: date

    @property
    def days(self) -> int:
        """The number of dates in the range.

        >>> from datetime import date
        >>> DateRange(first=date(2026, 5, 1), last=date(2026, 5, 1)).days
        1
        """
        return (self.last - self.first).days + 1


@attrs.frozen(kw_only=True)
class Closure:
    """A partial closure: local date ``day`` is closed from ``start`` to ``end``.

    The window lies within the day (``end`` after ``start``; ``'24:00'`` allowed),
    e.g. a short pre-holiday day closing at 13:00.

    >>> from datetime import date
    >>> Closure(day=date(2026, 12, 31), start="13:00", end="24:00").end
    '24:00'
    """

    day: date
    start: str
    end: str


@attrs.frozen(kw_only=True)
class DateOverride:
    """Open windows for one local date, replacing that date's weekly windows.

    No windows means the date is closed. Like weekly windows, an override window
    may cross midnight.

    >>> from datetime import date
    >>> DateOverride(day=date(2026, 11, 1), windows=[Window.parse("10:00-15:00")]).windows
    (Window(start='10:00', end='15:00'),)
    """

    day: date
    windows: tuple[Window, ...] = attrs.field(default=(), converter=_windows)


def check_date(value: object, field: str) -> date:
    """``value`` if it is a ``datetime.date`` (not a ``datetime``), else an error.

    >>> check_date(date(2026, 1, 1), "holidays[0]")
    datetime.date(2026, 1, 1)
    """
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidValueError(field, value, "a datetime.date")
    return value
