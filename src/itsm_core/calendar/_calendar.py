"""Business calendars: the frozen value, its composition and its queries."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import attrs
import pendulum

from itsm_core._time import US_PER_DAY, datetime_op, shown_in, td_to_us, to_us, us_to_td, zone
from itsm_core.calendar._compile import Plan, calendar_limits, merge_ranges
from itsm_core.calendar._records import (
    WEEKDAYS,
    Closure,
    DateOverride,
    DateRange,
    MonthDay,
    WeeklySchedule,
    Window,
    as_tuple,
    check_date,
    parse_time,
)
from itsm_core.calendar._timeline import (
    MAX_INSTANT_US,
    MAX_YEAR,
    MIN_INSTANT_US,
    MIN_YEAR,
    Chunk,
    Limits,
    Timeline,
    intersect,
    unite,
)
from itsm_core.errors import InvalidValueError, NeverOpenError

__all__ = ["BusinessCalendar", "CalendarLike", "CompositeCalendar"]

_F = TypeVar("_F", bound=Callable[..., Any])


@runtime_checkable
class CalendarLike(Protocol):
    """What every calendar answers: :class:`BusinessCalendar` and :class:`CompositeCalendar`.

    >>> isinstance(BusinessCalendar.always_open("UTC"), CalendarLike)
    True
    """

    @property
    def timezone(self) -> str:
        """The IANA timezone results are shown in."""
        ...

    def is_open(self, at: datetime) -> bool:
        """Whether the calendar is open at an instant."""
        ...

    def next_open(self, at: datetime) -> pendulum.DateTime:
        """``at`` if open, else when the calendar next opens."""
        ...

    def next_close(self, at: datetime) -> pendulum.DateTime | None:
        """``at`` if closed, else when the open period ends (None: never)."""
        ...

    def previous_open(self, at: datetime) -> pendulum.DateTime | None:
        """When the latest open period starting at or before ``at`` started."""
        ...

    def previous_close(self, at: datetime) -> pendulum.DateTime | None:
        """When the latest open period ending at or before ``at`` ended."""
        ...

    def add(self, start: datetime, duration: timedelta) -> pendulum.DateTime:
        """The instant by which ``duration`` of open time has passed after ``start``."""
        ...

    def subtract(self, end: datetime, duration: timedelta) -> pendulum.DateTime:
        """The latest instant from which ``duration`` of open time passes until ``end``."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The open time between two instants."""
        ...

    def open_intervals(
        self, start: datetime, end: datetime
    ) -> list[tuple[pendulum.DateTime, pendulum.DateTime]]:
        """The open intervals within ``[start, end)``."""
        ...

    def add_business_days(self, at: datetime, days: int) -> pendulum.DateTime:
        """The same wall time ``days`` business days later."""
        ...

    def end_of_business_day(self, at: datetime) -> pendulum.DateTime:
        """When the business day of ``at`` (or the next one) ends."""
        ...

    def is_open_us(self, at_us: int) -> bool:
        """Fast :meth:`is_open` over epoch microseconds."""
        ...

    def add_us(self, start_us: int, duration_us: int) -> int:
        """Fast :meth:`add` over epoch microseconds."""
        ...

    def subtract_us(self, end_us: int, duration_us: int) -> int:
        """Fast :meth:`subtract` over epoch microseconds."""
        ...

    def elapsed_us(self, start_us: int, end_us: int) -> int:
        """Fast :meth:`elapsed` over epoch microseconds."""
        ...

    def next_open_us(self, at_us: int) -> int:
        """Fast :meth:`next_open` over epoch microseconds."""
        ...

    def next_close_us(self, at_us: int) -> int:
        """Fast :meth:`next_close` over epoch microseconds (``MAX_INSTANT_US``: never)."""
        ...

    def open_intervals_us(self, start_us: int, end_us: int) -> list[tuple[int, int]]:
        """Fast :meth:`open_intervals` over epoch microseconds."""
        ...


class _Cell:
    """Holds the compile plan, the compiled timeline and the functions that show results.

    ``add`` and ``subtract`` are the timeline's, over datetimes (``datetime_op``).
    Never compared, hashed or pickled.
    """

    __slots__ = ("add", "plan", "show", "subtract", "timeline")

    def __init__(self) -> None:
        self.plan: tuple[Plan, Limits] | None = None
        self.timeline: Timeline | None = None
        self.show: Callable[[int], pendulum.DateTime] | None = None
        self.add: Callable[[datetime, timedelta], pendulum.DateTime] | None = None
        self.subtract: Callable[[datetime, timedelta], pendulum.DateTime] | None = None

    def __reduce__(self) -> tuple[type[_Cell], tuple[()]]:
        return (_Cell, ())


_RANGE = "0002-01-01 to 9997-12-31 UTC"
#: How deeply unions and intersections may nest in a :class:`CompositeCalendar`.
MAX_CALENDAR_DEPTH = 100
_US_TEXT = re.compile(r"(-?\d+) us\b")


def _instant_text(us: int) -> str:
    # An instant for a message: ISO text, never bare microseconds (even out of range).
    try:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).isoformat()
    except OverflowError:
        return "beyond 9999-12-31" if us > 0 else "before 0001-01-01"


def _open_near_the_edge(timeline: Timeline, *, backward: bool) -> bool:
    # Whether the calendar is open in the last (first) year of the range: a recurring one is.
    year = 366 * 24 * 3600 * 1_000_000
    try:
        if backward:
            edge = MIN_INSTANT_US + year
            return timeline.is_open(edge) or timeline.previous_open(edge) is not None
        return timeline.next_open(MAX_INSTANT_US - year) < MAX_INSTANT_US
    except (InvalidValueError, NeverOpenError):
        return False


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _edges(*names: str) -> Callable[[_F], _F]:
    """Errors at the edges of the supported range name the argument and show the instant.

    ``names`` are the method's datetime arguments, in order. An instant out of
    range is named by its argument; an answer that would lie beyond the range
    (a 24x7 calendar asked for 5 days after 9997-12-30) names the argument it
    started from, instead of calling the calendar "never open".
    """

    def decorate(method: _F) -> _F:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any) -> Any:
            try:
                return method(self, *args)
            except (InvalidValueError, NeverOpenError) as exc:
                given = dict(zip(names, args, strict=False))
                raise _at_the_edge(self, exc, given) from None

        return wrapper  # type: ignore[return-value]

    return decorate


def _at_the_edge(
    calendar: Any, exc: InvalidValueError | NeverOpenError, given: dict[str, Any]
) -> Exception:
    instants: dict[str, int] = {}
    for name, value in given.items():
        try:
            instants[name] = to_us(value, name)
        except InvalidValueError:
            continue
    if isinstance(exc, InvalidValueError):
        if exc.field != "at" or type(exc.value) is not int:
            return exc
        for name, us in instants.items():
            if us == exc.value:
                return InvalidValueError(name, _shown(given[name]), f"an instant from {_RANGE}")
        first = next(iter(given), "at")
        return InvalidValueError(
            first,
            _shown(given.get(first)),
            f"an instant whose answer lies within the supported range ({_RANGE})",
            f"the answer would be {_instant_text(exc.value)}",
        )
    if instants and _open_near_the_edge(calendar._timeline(), backward="before" in str(exc)):
        # open time recurs up to the edge: the range ends before the answer, not the calendar
        first = next(iter(instants))
        return InvalidValueError(
            first,
            _shown(given[first]),
            f"an instant whose answer lies within the supported range ({_RANGE})",
        )
    return NeverOpenError(_US_TEXT.sub(lambda m: _instant_text(int(m.group(1))), str(exc)))


class _Queries:
    """The queries shared by both calendar kinds, over ``self._timeline()``."""

    __slots__ = ()
    _cache: _Cell  # a field of both subclasses

    @property
    def timezone(self) -> str:  # pragma: no cover - overridden by both subclasses
        raise NotImplementedError

    def _timeline(self) -> Timeline:  # pragma: no cover - overridden by both subclasses
        raise NotImplementedError

    # -- fast integer API --------------------------------------------------------

    def is_open_us(self, at_us: int) -> bool:
        """Whether the calendar is open at ``at_us`` (epoch microseconds).

        >>> from itsm_core._time import to_us
        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("UTC")
        >>> cal.is_open_us(to_us(pendulum.datetime(2026, 3, 6, 16, 59)))
        True
        """
        return self._timeline().is_open(at_us)

    def add_us(self, start_us: int, duration_us: int) -> int:
        """:meth:`add` over epoch microseconds; no conversions, no checks.

        >>> cal = BusinessCalendar.always_open("UTC")
        >>> cal.add_us(0, 5)
        5
        """
        return self._timeline().add(start_us, duration_us)

    def subtract_us(self, end_us: int, duration_us: int) -> int:
        """:meth:`subtract` over epoch microseconds.

        >>> BusinessCalendar.always_open("UTC").subtract_us(10, 4)
        6
        """
        return self._timeline().subtract(end_us, duration_us)

    def elapsed_us(self, start_us: int, end_us: int) -> int:
        """:meth:`elapsed` in microseconds over epoch microseconds.

        >>> BusinessCalendar.always_open("UTC").elapsed_us(10, 4)
        -6
        """
        return self._timeline().elapsed(start_us, end_us)

    def next_open_us(self, at_us: int) -> int:
        """:meth:`next_open` over epoch microseconds.

        >>> BusinessCalendar.always_open("UTC").next_open_us(7)
        7
        """
        return self._timeline().next_open(at_us)

    def next_close_us(self, at_us: int) -> int:
        """:meth:`next_close` over epoch microseconds; ``MAX_INSTANT_US`` means never.

        >>> from itsm_core.calendar import MAX_INSTANT_US
        >>> BusinessCalendar.always_open("UTC").next_close_us(7) == MAX_INSTANT_US
        True
        """
        return self._timeline().next_close(at_us)

    def open_intervals_us(self, start_us: int, end_us: int) -> list[tuple[int, int]]:
        """:meth:`open_intervals` over epoch microseconds.

        >>> BusinessCalendar.always_open("UTC").open_intervals_us(5, 9)
        [(5, 9)]
        """
        return self._timeline().intervals(start_us, end_us)

    # -- datetime API ----------------------------------------------------------------

    def _shows(self) -> Callable[[int], pendulum.DateTime]:
        """``us -> pendulum.DateTime`` in :attr:`timezone` (``from_us``), looked up once."""
        show = self._cache.show
        if show is None:
            show = self._cache.show = shown_in(self.timezone)
        return show

    def _show(self, us: int) -> pendulum.DateTime:
        return self._shows()(us)

    def _adds(self) -> Callable[[datetime, timedelta], pendulum.DateTime]:
        """:meth:`add` over datetimes, built once (``datetime_op`` of the timeline's)."""
        add = self._cache.add = datetime_op(self._timeline().add, self.timezone, "start")
        return add

    def _subtracts(self) -> Callable[[datetime, timedelta], pendulum.DateTime]:
        """:meth:`subtract` over datetimes, built once."""
        subtract = self._cache.subtract = datetime_op(
            self._timeline().subtract, self.timezone, "end"
        )
        return subtract

    @_edges(
        "at",
    )
    def is_open(self, at: datetime) -> bool:
        """Whether the calendar is open at ``at`` (an aware datetime).

        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> cal.is_open(pendulum.datetime(2026, 3, 6, 9, 0, tz="Europe/Moscow"))
        True
        >>> cal.is_open(pendulum.datetime(2026, 3, 6, 17, 0, tz="Europe/Moscow"))
        False
        """
        return self._timeline().is_open(to_us(at, "at"))

    @_edges(
        "at",
    )
    def next_open(self, at: datetime) -> pendulum.DateTime:
        """``at`` itself if the calendar is open then, else the instant it next opens.

        Raises :class:`~itsm_core.errors.NeverOpenError` if it never opens again.

        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> print(cal.next_open(pendulum.datetime(2026, 3, 7, 12, 0, tz="Europe/Moscow")))
        2026-03-09 09:00:00+03:00
        """
        return self._show(self._timeline().next_open(to_us(at, "at")))

    @_edges(
        "at",
    )
    def next_close(self, at: datetime) -> pendulum.DateTime | None:
        """``at`` itself if the calendar is closed then, else the instant the open period ends.

        ``None`` if it never closes again (a 24x7 calendar).

        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> print(cal.next_close(pendulum.datetime(2026, 3, 6, 12, 0, tz="Europe/Moscow")))
        2026-03-06 17:00:00+03:00
        >>> print(BusinessCalendar.always_open("UTC").next_close(pendulum.datetime(2026, 1, 1)))
        None
        """
        result = self._timeline().next_close(to_us(at, "at"))
        return None if result >= MAX_INSTANT_US else self._show(result)

    @_edges(
        "at",
    )
    def previous_open(self, at: datetime) -> pendulum.DateTime | None:
        """When the latest open period that started at or before ``at`` started.

        ``None`` if there is none (never open before, or open since forever).

        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> print(cal.previous_open(pendulum.datetime(2026, 3, 7, 12, 0, tz="Europe/Moscow")))
        2026-03-06 09:00:00+03:00
        """
        result = self._timeline().previous_open(to_us(at, "at"))
        return None if result is None else self._show(result)

    @_edges(
        "at",
    )
    def previous_close(self, at: datetime) -> pendulum.DateTime | None:
        """When the latest open period that ended at or before ``at`` ended.

        ``None`` if there is none.

        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> print(cal.previous_close(pendulum.datetime(2026, 3, 9, 12, 0, tz="Europe/Moscow")))
        2026-03-06 17:00:00+03:00
        """
        result = self._timeline().previous_close(to_us(at, "at"))
        return None if result is None else self._show(result)

    def add(self, start: datetime, duration: timedelta) -> pendulum.DateTime:
        """The earliest instant by which ``duration`` of open time has passed after ``start``.

        A zero duration returns ``start`` itself (even when closed); a negative one
        is :meth:`subtract`. The result may be a closing instant: 8 h after 09:00
        in an 8x5 calendar is 17:00 the same day, not 09:00 the next.

        >>> import pendulum
        >>> from datetime import timedelta
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> friday = pendulum.datetime(2026, 3, 6, 15, 0, tz="Europe/Moscow")
        >>> print(cal.add(friday, timedelta(hours=4)))
        2026-03-09 11:00:00+03:00
        """
        # What ``@_edges("start")`` does, inline: the hot path saves a call.
        try:
            return (self._cache.add or self._adds())(start, duration)
        except (InvalidValueError, NeverOpenError) as exc:
            raise _at_the_edge(self, exc, {"start": start}) from None

    def subtract(self, end: datetime, duration: timedelta) -> pendulum.DateTime:
        """The latest instant from which ``duration`` of open time passes until ``end``.

        Zero returns ``end``; a negative duration is :meth:`add`.

        >>> import pendulum
        >>> from datetime import timedelta
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> monday = pendulum.datetime(2026, 3, 9, 11, 0, tz="Europe/Moscow")
        >>> print(cal.subtract(monday, timedelta(hours=4)))
        2026-03-06 15:00:00+03:00
        """
        try:  # ``@_edges("end")``, inline
            return (self._cache.subtract or self._subtracts())(end, duration)
        except (InvalidValueError, NeverOpenError) as exc:
            raise _at_the_edge(self, exc, {"end": end}) from None

    @_edges("start", "end")
    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The open time between ``start`` and ``end``, exact to the microsecond.

        When ``end`` is before ``start`` the result is ``-elapsed(end, start)``.

        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> a = pendulum.datetime(2026, 3, 6, 15, 0, tz="Europe/Moscow")
        >>> b = pendulum.datetime(2026, 3, 9, 11, 0, tz="Europe/Moscow")
        >>> cal.elapsed(a, b), cal.elapsed(b, a)
        (datetime.timedelta(seconds=14400), datetime.timedelta(days=-1, seconds=72000))
        """
        return us_to_td(self._timeline().elapsed(to_us(start, "start"), to_us(end, "end")))

    @_edges("start", "end")
    def open_intervals(
        self, start: datetime, end: datetime
    ) -> list[tuple[pendulum.DateTime, pendulum.DateTime]]:
        """The open intervals ``(start, end)`` within ``[start, end)``, clipped to it.

        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("UTC")
        >>> start, end = pendulum.datetime(2026, 3, 6, 12), pendulum.datetime(2026, 3, 10)
        >>> spans = cal.open_intervals(start, end)
        >>> [(str(a), str(b)) for a, b in spans]  # doctest: +NORMALIZE_WHITESPACE
        [('2026-03-06 12:00:00+00:00', '2026-03-06 17:00:00+00:00'),
         ('2026-03-09 09:00:00+00:00', '2026-03-09 17:00:00+00:00')]
        """
        pairs = self._timeline().intervals(to_us(start, "start"), to_us(end, "end"))
        return [(self._show(a), self._show(b)) for a, b in pairs]

    # -- business days -------------------------------------------------------------

    def _local(self, us: int) -> tuple[int, int]:
        """Local date ordinal and microseconds after local midnight of an instant."""
        local = self._show(us)
        ordinal = local.date().toordinal()
        micros = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000
        return ordinal, micros + local.microsecond

    def _midnight(self, ordinal: int) -> int:
        return _instant(self.timezone, ordinal, 0)

    def _is_business_day(self, ordinal: int) -> bool:
        tl = self._timeline()
        return tl.elapsed(self._midnight(ordinal), self._midnight(ordinal + 1)) > 0

    def _next_business_day(self, ordinal: int) -> int:
        tl = self._timeline()
        cursor = ordinal + 1
        while True:
            day = self._local(tl.next_open(self._midnight(cursor)))[0]
            if day > ordinal:
                return day
            cursor += 1  # pragma: no cover - only where a DST gap spans a midnight

    def _previous_business_day(self, ordinal: int) -> int:
        tl = self._timeline()
        cursor = ordinal
        while True:
            day = self._local(tl.last_open_before(self._midnight(cursor)))[0]
            if day < ordinal:
                return day
            cursor -= 1  # pragma: no cover - only where a DST gap spans a midnight

    @_edges(
        "at",
    )
    def add_business_days(self, at: datetime, days: int) -> pendulum.DateTime:
        """The same local wall time ``days`` business days later (earlier if negative).

        A business day is a local date with some open time. ``days=0`` keeps
        ``at``'s date if it is a business day, else moves to the next one. The wall
        time is kept even if the calendar is closed then; a wall time skipped by a
        DST change moves forward by the gap.

        >>> import pendulum
        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> friday = pendulum.datetime(2026, 3, 6, 15, 30, tz="Europe/Moscow")
        >>> print(cal.add_business_days(friday, 1))
        2026-03-09 15:30:00+03:00
        >>> print(cal.add_business_days(friday, -5))
        2026-02-27 15:30:00+03:00
        """
        if isinstance(days, bool) or not isinstance(days, int):
            raise InvalidValueError("days", days, "an int")
        ordinal, micros = self._local(to_us(at, "at"))
        if days == 0 and not self._is_business_day(ordinal):
            ordinal = self._next_business_day(ordinal)
        for _ in range(days):
            ordinal = self._next_business_day(ordinal)
        for _ in range(-days):
            ordinal = self._previous_business_day(ordinal)
        return self._show(_instant(self.timezone, ordinal, micros))

    @_edges(
        "at",
    )
    def end_of_business_day(self, at: datetime) -> pendulum.DateTime:
        """When the business day ends: the last closing instant of the local date of
        :meth:`next_open` (``at``), counting at most up to that date's midnight.

        >>> import pendulum
        >>> from itsm_core.calendar import WeeklySchedule
        >>> cal = BusinessCalendar(
        ...     timezone="Europe/Moscow",
        ...     weekly=WeeklySchedule.same(["09:00-13:00", "14:00-18:00"]),
        ... )
        >>> print(cal.end_of_business_day(pendulum.datetime(2026, 3, 6, 10, tz="Europe/Moscow")))
        2026-03-06 18:00:00+03:00
        >>> print(cal.end_of_business_day(pendulum.datetime(2026, 3, 7, 10, tz="Europe/Moscow")))
        2026-03-09 18:00:00+03:00
        """
        tl = self._timeline()
        opened = tl.next_open(to_us(at, "at"))
        midnight = self._midnight(self._local(opened)[0] + 1)
        return self._show(tl.last_close_before(max(midnight, opened + 1)))

    # -- composition ---------------------------------------------------------------

    def union(self, other: BusinessCalendar | CompositeCalendar) -> CompositeCalendar:
        """Open when either calendar is open; results shown in this calendar's timezone.

        >>> import pendulum
        >>> days = BusinessCalendar.eight_by_five("UTC")
        >>> nights = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["17:00-20:00"]))
        >>> both = days.union(nights)
        >>> print(both.next_close(pendulum.datetime(2026, 3, 6, 10)))
        2026-03-06 20:00:00+00:00
        """
        return CompositeCalendar(operation="union", left=_me(self), right=other)

    def intersection(self, other: BusinessCalendar | CompositeCalendar) -> CompositeCalendar:
        """Open when both calendars are open; results shown in this calendar's timezone.

        >>> import pendulum
        >>> support = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> customer = BusinessCalendar.eight_by_five("Europe/London")
        >>> both = support.intersection(customer)
        >>> [(str(a), str(b)) for a, b in both.open_intervals(
        ...     pendulum.datetime(2026, 3, 6), pendulum.datetime(2026, 3, 7))]
        [('2026-03-06 12:00:00+03:00', '2026-03-06 17:00:00+03:00')]
        """
        return CompositeCalendar(operation="intersection", left=_me(self), right=other)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _me(value: _Queries) -> BusinessCalendar | CompositeCalendar:
    assert isinstance(value, (BusinessCalendar, CompositeCalendar))
    return value


def _instant(timezone: str, ordinal: int, micros: int) -> int:
    """Local date + time in ``timezone`` to epoch microseconds (compatible rule)."""
    naive = datetime.fromordinal(ordinal) + timedelta(microseconds=micros)
    return to_us(naive.replace(tzinfo=zone(timezone)))


# -- the business calendar value ---------------------------------------------------


def _dates(value: Iterable[date]) -> tuple[date, ...]:
    return as_tuple(value, "holidays")


def _month_days(value: Iterable[MonthDay]) -> tuple[MonthDay, ...]:
    return as_tuple(value, "recurring_holidays")


def _ranges(value: Iterable[DateRange]) -> tuple[DateRange, ...]:
    return as_tuple(value, "holiday_ranges")


def _closures(value: Iterable[Closure]) -> tuple[Closure, ...]:
    return as_tuple(value, "closures")


def _overrides(value: Iterable[DateOverride]) -> tuple[DateOverride, ...]:
    return as_tuple(value, "overrides")


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _windows_us(windows: object, field: str) -> list[tuple[int, int]]:
    items = as_tuple(windows, field)
    out: list[tuple[int, int]] = []
    for i, window in enumerate(items):
        path = f"{field}[{i}]"
        if not isinstance(window, Window):
            raise InvalidValueError(path, window, "a Window(start=..., end=...)")
        out.append(window.bounds(path))
    return sorted(out)


def _plan_and_limits(cal: BusinessCalendar) -> tuple[Plan, Limits]:
    """Validate every field (errors name the field path) and build the compile plan."""
    if not isinstance(cal.name, str):
        raise InvalidValueError("name", cal.name, "a string")
    if not isinstance(cal.timezone, str):
        raise InvalidValueError("timezone", cal.timezone, "an IANA timezone name as a string")
    tz = zone(cal.timezone, "timezone")
    if not isinstance(cal.weekly, WeeklySchedule):
        raise InvalidValueError("weekly", cal.weekly, "a WeeklySchedule")
    weekly = tuple(_windows_us(getattr(cal.weekly, day), f"weekly.{day}") for day in WEEKDAYS)
    years: list[int] = []
    holidays: set[int] = set()
    for i, day in enumerate(cal.holidays):
        holidays.add(check_date(day, f"holidays[{i}]").toordinal())
        years.append(day.year)
    recurring: set[tuple[int, int]] = set()
    for i, md in enumerate(cal.recurring_holidays):
        path = f"recurring_holidays[{i}]"
        if not isinstance(md, MonthDay):
            raise InvalidValueError(path, md, "a MonthDay(month=..., day=...)")
        if isinstance(md.month, bool) or not isinstance(md.month, int) or not 1 <= md.month <= 12:
            raise InvalidValueError(f"{path}.month", md.month, "a month number from 1 to 12")
        last = _DAYS_IN_MONTH[md.month - 1]
        if isinstance(md.day, bool) or not isinstance(md.day, int) or not 1 <= md.day <= last:
            raise InvalidValueError(f"{path}.day", md.day, f"a day from 1 to {last}")
        recurring.add((md.month, md.day))
    ranges: list[tuple[int, int]] = []
    for i, rng in enumerate(cal.holiday_ranges):
        path = f"holiday_ranges[{i}]"
        if not isinstance(rng, DateRange):
            raise InvalidValueError(path, rng, "a DateRange(first=..., last=...)")
        first = check_date(rng.first, f"{path}.first")
        last_day = check_date(rng.last, f"{path}.last")
        if last_day < first:
            raise InvalidValueError(f"{path}.last", last_day, f"a date on or after {first}")
        ranges.append((first.toordinal(), last_day.toordinal()))
        years += [first.year, last_day.year]
    closures: dict[int, list[tuple[int, int]]] = {}
    for i, closure in enumerate(cal.closures):
        path = f"closures[{i}]"
        if not isinstance(closure, Closure):
            raise InvalidValueError(path, closure, "a Closure(day=..., start=..., end=...)")
        day = check_date(closure.day, f"{path}.day")
        start = parse_time(closure.start, f"{path}.start", end=False)
        end = parse_time(closure.end, f"{path}.end", end=True)
        if end <= start:
            raise InvalidValueError(
                f"{path}.end", closure.end, f"a time after the start {closure.start!r}"
            )
        closures.setdefault(day.toordinal(), []).append((start, end))
        years.append(day.year)
    overrides: dict[int, list[tuple[int, int]]] = {}
    for i, override in enumerate(cal.overrides):
        path = f"overrides[{i}]"
        if not isinstance(override, DateOverride):
            raise InvalidValueError(path, override, "a DateOverride(day=..., windows=...)")
        day = check_date(override.day, f"{path}.day")
        if day.toordinal() in overrides:
            raise InvalidValueError(f"{path}.day", day, "a date not already overridden")
        overrides[day.toordinal()] = _windows_us(override.windows, f"{path}.windows")
        years.append(day.year)
    frozen_recurring = frozenset(recurring)
    plan = Plan(
        zone=tz,
        weekly=weekly,
        holidays=frozenset(holidays),
        ranges=ranges,
        recurring=frozen_recurring,
        closures=closures,
        overrides=overrides,
    )
    limits = calendar_limits(weekly=weekly, recurring=frozen_recurring, dated_years=years)
    return plan, limits


@lru_cache(maxsize=256)
def _shared_timeline(cal: BusinessCalendar | CompositeCalendar) -> Timeline:
    """One compiled timeline per distinct calendar value, shared by equal values."""
    if isinstance(cal, BusinessCalendar):
        planned = cal._cache.plan  # built when the value was, unless unpickled since
        plan, limits = planned if planned is not None else _plan_and_limits(cal)
        return Timeline(plan.chunk, limits)
    left, right = cal.left._timeline(), cal.right._timeline()
    if cal.operation == "union":
        return Timeline(
            lambda y: unite(left.chunk(y), right.chunk(y)), left.limits.union(right.limits)
        )
    limits = left.limits.intersection(right.limits)
    if _utc_week(cal) == ([], []):
        # provably never open: searches for open time stop at once (no compiling years)
        limits = attrs.evolve(limits, open_lo=MAX_YEAR + 1, open_hi=MIN_YEAR - 1)
    return Timeline(lambda y: intersect(left.chunk(y), right.chunk(y)), limits)


_WEEK_US = 7 * US_PER_DAY
#: 1970-01-05, the first Monday after the epoch, in days since the epoch
_FIRST_MONDAY = 4
#: IANA names that are fixed offsets by the tz database's definition (its ``etcetera``
#: file and the backward links to it); every ``Etc/`` zone is one
_FIXED_NAMES = frozenset(
    {"UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "Universal", "Zulu"}
)
_PROBE_YEARS = (MIN_YEAR, 1900, 1970, 2038, 2500, MAX_YEAR)


def _fixed_offset_us(plan: Plan) -> int | None:
    """The zone's one offset (µs) if it is a fixed-offset zone, else None.

    A zone is taken as fixed only if its name says so (``UTC``, ``Etc/GMT+5``...)
    and its offset is the same in every probed year.
    """
    key = plan.zone.key
    if not (key in _FIXED_NAMES or key.startswith("Etc/")):
        return None
    offsets = {plan.zone.utcoffset(datetime(year, 7, 1)) for year in _PROBE_YEARS}  # noqa: DTZ001
    found = offsets.pop()
    if offsets or found is None:
        return None
    return td_to_us(found)


def _utc_week(cal: BusinessCalendar | CompositeCalendar) -> Chunk | None:
    """Where in the UTC week (µs after Monday 00:00 UTC) the calendar may be open, or None.

    A superset of the open time, the same every week: a calendar in a fixed-offset
    zone can only be open within its weekly windows and the windows of its date
    overrides (each counted on its weekday, every week), shifted by its offset;
    holidays and closures only take open time away. A union may be open where
    either operand may, an intersection where both may. None when a zone has
    more than one offset (a window's instants then move with DST): nothing is
    claimed. So an empty answer proves that the calendar is never open.

    >>> weekdays = BusinessCalendar.eight_by_five("Etc/GMT-3")  # UTC+03:00
    >>> _utc_week(weekdays)[0][:2]  # Monday 06:00-14:00 UTC, then Tuesday
    [21600000000, 108000000000]
    >>> _utc_week(BusinessCalendar.eight_by_five("Europe/Moscow")) is None
    True
    """
    if isinstance(cal, CompositeCalendar):
        left = _utc_week(cal.left)
        right = None if left is None else _utc_week(cal.right)
        if left is None or right is None:
            return None
        return unite(left, right) if cal.operation == "union" else intersect(left, right)
    planned = cal._cache.plan
    plan = planned[0] if planned is not None else _plan_and_limits(cal)[0]
    offset = _fixed_offset_us(plan)
    if offset is None:
        return None
    local = [(weekday, ranges) for weekday, ranges in enumerate(plan.weekly)]
    for ordinal, ranges in plan.overrides.items():
        local.append((date.fromordinal(ordinal).weekday(), ranges))
    pieces: list[tuple[int, int]] = []
    for weekday, ranges in local:
        for start, end in ranges:
            a = (weekday * US_PER_DAY + start - offset) % _WEEK_US
            b = a + (end - start)  # a window lasts at most 48 hours: it wraps once at most
            pieces += [(a, b)] if b <= _WEEK_US else [(a, _WEEK_US), (0, b - _WEEK_US)]
    merged = merge_ranges(pieces)
    return [a for a, _ in merged], [b for _, b in merged]


_MON_FRI = ("mon", "tue", "wed", "thu", "fri")


@attrs.frozen(kw_only=True)
class BusinessCalendar(_Queries):
    """A business-hours calendar: when, in local time, the business is open.

    Plain data that cattrs turns to and from dicts. Every field is checked at
    construction; an error names the field path (``weekly.mon[1].end``).
    Overlapping or touching windows of a day merge: open time is their union.
    Queries answer in epoch-exact time; results are ``pendulum.DateTime`` in
    :attr:`timezone`.

    >>> import pendulum
    >>> from datetime import timedelta
    >>> cal = BusinessCalendar(
    ...     name="support",
    ...     timezone="Europe/Moscow",
    ...     weekly=WeeklySchedule.same(["09:00-13:00", "14:00-18:00"]),
    ... )
    >>> print(cal.add(pendulum.datetime(2026, 3, 6, 12, tz="Europe/Moscow"), timedelta(hours=8)))
    2026-03-09 12:00:00+03:00
    """

    timezone: str
    weekly: WeeklySchedule = attrs.field(factory=WeeklySchedule)
    holidays: tuple[date, ...] = attrs.field(default=(), converter=_dates)
    recurring_holidays: tuple[MonthDay, ...] = attrs.field(default=(), converter=_month_days)
    holiday_ranges: tuple[DateRange, ...] = attrs.field(default=(), converter=_ranges)
    closures: tuple[Closure, ...] = attrs.field(default=(), converter=_closures)
    overrides: tuple[DateOverride, ...] = attrs.field(default=(), converter=_overrides)
    name: str = ""
    _cache: _Cell = attrs.field(init=False, factory=_Cell, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._cache.plan = _plan_and_limits(self)

    def _timeline(self) -> Timeline:
        timeline = self._cache.timeline
        if timeline is None:
            timeline = self._cache.timeline = _shared_timeline(self)
        return timeline

    # -- presets and builders ---------------------------------------------------------

    @classmethod
    def always_open(cls, timezone: str, *, name: str = "24x7") -> BusinessCalendar:
        """Open around the clock, every day (24x7).

        >>> BusinessCalendar.always_open("UTC").weekly.sun
        (Window(start='00:00', end='24:00'),)
        """
        weekly = WeeklySchedule.same([Window(start="00:00", end="24:00")], days=WEEKDAYS)
        return cls(timezone=timezone, weekly=weekly, name=name)

    @classmethod
    def eight_by_five(cls, timezone: str, *, name: str = "8x5") -> BusinessCalendar:
        """09:00-17:00, Monday to Friday.

        >>> BusinessCalendar.eight_by_five("UTC").weekly.mon
        (Window(start='09:00', end='17:00'),)
        """
        weekly = WeeklySchedule.same([Window(start="09:00", end="17:00")], days=_MON_FRI)
        return cls(timezone=timezone, weekly=weekly, name=name)

    @classmethod
    def twelve_by_five(cls, timezone: str, *, name: str = "12x5") -> BusinessCalendar:
        """08:00-20:00, Monday to Friday.

        >>> BusinessCalendar.twelve_by_five("UTC").weekly.sat
        ()
        """
        weekly = WeeklySchedule.same([Window(start="08:00", end="20:00")], days=_MON_FRI)
        return cls(timezone=timezone, weekly=weekly, name=name)

    @classmethod
    def twelve_by_seven(cls, timezone: str, *, name: str = "12x7") -> BusinessCalendar:
        """08:00-20:00, every day.

        >>> BusinessCalendar.twelve_by_seven("UTC").weekly.sun
        (Window(start='08:00', end='20:00'),)
        """
        weekly = WeeklySchedule.same([Window(start="08:00", end="20:00")], days=WEEKDAYS)
        return cls(timezone=timezone, weekly=weekly, name=name)

    def with_holidays(self, days: Iterable[date]) -> BusinessCalendar:
        """A copy with the given whole-date holidays added (duplicates dropped).

        >>> from datetime import date
        >>> cal = BusinessCalendar.eight_by_five("UTC").with_holidays([date(2026, 1, 1)])
        >>> cal.holidays
        (datetime.date(2026, 1, 1),)
        """
        added = as_tuple(days, "days")
        for i, day in enumerate(added):
            check_date(day, f"days[{i}]")
        merged = tuple(sorted(set(self.holidays) | set(added)))
        return attrs.evolve(self, holidays=merged)

    def with_country_holidays(
        self, country: str, years: Iterable[int] | int, *, subdivision: str | None = None
    ) -> BusinessCalendar:
        """A copy with a country's public holidays from the ``holidays`` package.

        Needs the optional extra ``itsm-core[holidays]``.

        >>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
        >>> ru = cal.with_country_holidays("RU", years=[2026])
        >>> from datetime import date
        >>> date(2026, 1, 7) in ru.holidays
        True
        """
        from itsm_core.calendar._holidays import country_holidays

        return self.with_holidays(country_holidays(country, years, subdivision=subdivision))

    def with_name(self, name: str) -> BusinessCalendar:
        """A copy with another name.

        >>> BusinessCalendar.always_open("UTC").with_name("noc").name
        'noc'
        """
        return attrs.evolve(self, name=name)


@attrs.frozen(kw_only=True)
class CompositeCalendar(_Queries):
    """The union or intersection of two calendars; answers the same queries.

    Results are shown in the timezone of ``left``. Each operand keeps its own
    timezone, so support hours in Moscow intersected with office hours in London
    are open exactly when both are. Unions and intersections nest at most
    ``MAX_CALENDAR_DEPTH`` (100) deep; a deeper one is an
    :class:`~itsm_core.errors.InvalidValueError`.

    >>> a = BusinessCalendar.eight_by_five("UTC")
    >>> a.union(BusinessCalendar.twelve_by_seven("UTC")).operation
    'union'
    """

    operation: Literal["union", "intersection"]
    left: BusinessCalendar | CompositeCalendar
    right: BusinessCalendar | CompositeCalendar
    _cache: _Cell = attrs.field(init=False, factory=_Cell, eq=False, hash=False, repr=False)
    _depth: int = attrs.field(init=False, default=1, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.operation not in ("union", "intersection"):
            raise InvalidValueError("operation", self.operation, "'union' or 'intersection'")
        depth = 1
        for field in ("left", "right"):
            value = getattr(self, field)
            if not isinstance(value, (BusinessCalendar, CompositeCalendar)):
                raise InvalidValueError(field, value, "a BusinessCalendar or CompositeCalendar")
            if isinstance(value, CompositeCalendar):
                if value._depth >= MAX_CALENDAR_DEPTH:
                    raise InvalidValueError(
                        field,
                        f"a calendar {value._depth} operations deep",
                        f"a calendar of at most {MAX_CALENDAR_DEPTH} nested unions and "
                        "intersections (comparing, hashing and compiling deeper ones would "
                        "exhaust Python's recursion)",
                    )
                depth = max(depth, value._depth + 1)
        object.__setattr__(self, "_depth", depth)

    @property
    def timezone(self) -> str:
        """The timezone results are shown in: the left operand's.

        >>> a = BusinessCalendar.eight_by_five("Asia/Tokyo")
        >>> a.intersection(BusinessCalendar.eight_by_five("UTC")).timezone
        'Asia/Tokyo'
        """
        return self.left.timezone

    def _timeline(self) -> Timeline:
        timeline = self._cache.timeline
        if timeline is None:
            timeline = self._cache.timeline = _shared_timeline(self)
        return timeline
