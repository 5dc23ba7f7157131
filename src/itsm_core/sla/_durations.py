"""Durations that say what they mean: business time, business days, end of day, wall time.

A contract says "within 8 business hours", "within 5 business days", "by
close of business", "2 business days then close of business" or "within 24
hours, nights included". Each is a distinct record; a plain ``timedelta``
where a target is expected means business time (:class:`BusinessDuration`).

Every kind answers the same two questions from a start instant over a
calendar: :meth:`~BusinessDays.due_us`, the instant it designates, and
:meth:`~BusinessDays.business_us`, the business time between the start and
that instant (the measure a clock counts and thresholds take a percentage of).
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from itsm_core._time import from_us, td_to_us, to_us
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError, NeverOpenError

__all__ = [
    "BusinessDays",
    "BusinessDuration",
    "SlaDuration",
    "WallDuration",
    "as_sla_duration",
]


def _td(value: timedelta) -> timedelta:
    td_to_us(value, "duration.value")
    return value


def _business_between(calendar: CalendarLike, start_us: int, end_us: int) -> int:
    if end_us <= start_us:
        return -calendar.elapsed_us(end_us, start_us)
    return calendar.elapsed_us(start_us, end_us)


@attrs.frozen(kw_only=True)
class BusinessDuration:
    """An amount of open time on the calendar (``"8h"``); negative for an offset before.

    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core._time import from_us, to_us
    >>> import pendulum
    >>> cal = BusinessCalendar.eight_by_five("UTC")
    >>> friday_4pm = to_us(pendulum.datetime(2026, 3, 6, 16))
    >>> d = BusinessDuration(value=timedelta(hours=2))
    >>> str(from_us(d.due_us(cal, friday_4pm), "UTC")), d.business_us(cal, friday_4pm) // 3600e6
    ('2026-03-09 10:00:00+00:00', 2.0)
    """

    value: timedelta = attrs.field(converter=_td)

    def business_us(self, calendar: CalendarLike, start_us: int) -> int:
        """The business time the duration stands for: its value, whatever the start."""
        return td_to_us(self.value)

    def due_us(self, calendar: CalendarLike, start_us: int) -> int:
        """The instant ``value`` of open time after (before, when negative) ``start_us``."""
        us = td_to_us(self.value)
        if us < 0:
            return calendar.subtract_us(start_us, -us)
        return calendar.add_us(start_us, us)


@attrs.frozen(kw_only=True)
class BusinessDays:
    """``days`` business days keeping the time of day (``"5bd"``), or the end of a business day.

    Without ``end_of_day`` the instant is the same local time ``days``
    business days later (earlier when negative), rolled to the next opening
    when the calendar is closed then. With ``end_of_day`` it is the end of the
    business day ``days`` business days later: ``"eod"`` (``days=0``: close of
    business today, or of the next business day when closed) and
    ``"2bd eod"``.

    >>> import pendulum
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core._time import from_us, to_us
    >>> cal = BusinessCalendar.eight_by_five("UTC")
    >>> tuesday_10am = to_us(pendulum.datetime(2026, 3, 3, 10))
    >>> for d in (BusinessDays(days=5), BusinessDays(days=0, end_of_day=True),
    ...           BusinessDays(days=2, end_of_day=True)):
    ...     print(from_us(d.due_us(cal, tuesday_10am), "UTC"), d.business_us(cal, tuesday_10am))
    2026-03-10 10:00:00+00:00 144000000000
    2026-03-03 17:00:00+00:00 25200000000
    2026-03-05 17:00:00+00:00 82800000000
    >>> BusinessDays(days=0)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: business_days.days: expected a non-zero count of \
business days (or end_of_day), got 0
    """

    days: int
    end_of_day: bool = False

    def __attrs_post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise InvalidValueError("business_days.days", self.days, "an int")
        if self.days == 0 and not self.end_of_day:
            raise InvalidValueError(
                "business_days.days", self.days, "a non-zero count of business days (or end_of_day)"
            )
        if self.end_of_day and self.days < 0:
            raise InvalidValueError(
                "business_days.days", self.days, "zero or more days before an end of day"
            )

    def due_us(self, calendar: CalendarLike, start_us: int) -> int:
        """The instant the days designate from ``start_us`` (see the class)."""
        at = from_us(start_us, calendar.timezone)
        if self.end_of_day:
            day = calendar.add_business_days(at, self.days) if self.days else at
            return to_us(calendar.end_of_business_day(day))
        due = to_us(calendar.add_business_days(at, self.days))
        return due if calendar.is_open_us(due) else calendar.next_open_us(due)

    def business_us(self, calendar: CalendarLike, start_us: int) -> int:
        """The business time between ``start_us`` and :meth:`due_us` (negative: before)."""
        return _business_between(calendar, start_us, self.due_us(calendar, start_us))


@attrs.frozen(kw_only=True)
class WallDuration:
    """Wall-clock time, nights and holidays included (``"24h wall"``).

    As a target on a business calendar, the clock counts the business time
    between the start and ``start + value``; when that stretch holds no open
    time the target is one microsecond (reached at the first business instant).

    >>> import pendulum
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core._time import to_us
    >>> cal = BusinessCalendar.eight_by_five("UTC")
    >>> monday_10am = to_us(pendulum.datetime(2026, 3, 2, 10))
    >>> WallDuration(value=timedelta(hours=24)).business_us(cal, monday_10am) // 3_600_000_000
    8
    """

    value: timedelta = attrs.field(converter=_td)

    def due_us(self, calendar: CalendarLike, start_us: int) -> int:
        """``start_us`` plus ``value`` of wall time."""
        return start_us + td_to_us(self.value)

    def business_us(self, calendar: CalendarLike, start_us: int) -> int:
        """The business time between ``start_us`` and :meth:`due_us` (negative: before)."""
        return _business_between(calendar, start_us, self.due_us(calendar, start_us))


#: Any duration of the SLA vocabulary.
SlaDuration = BusinessDuration | BusinessDays | WallDuration


def as_sla_duration(value: object, field: str = "duration") -> SlaDuration:
    """``value`` as an SLA duration: a plain ``timedelta`` means business time.

    >>> as_sla_duration(timedelta(hours=8))
    BusinessDuration(value=datetime.timedelta(seconds=28800))
    >>> as_sla_duration("8h", "metric.targets.P1")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: metric.targets.P1: expected a timedelta, \
BusinessDuration, BusinessDays or WallDuration, got '8h'
    """
    if isinstance(value, (BusinessDuration, BusinessDays, WallDuration)):
        return value
    if isinstance(value, timedelta):
        return BusinessDuration(value=value)
    raise InvalidValueError(
        field, value, "a timedelta, BusinessDuration, BusinessDays or WallDuration"
    )


def resolve_us(duration: SlaDuration, calendar: CalendarLike, start_us: int) -> int | None:
    """The business time of a target from ``start_us`` (at least 1 µs).

    ``None`` when the calendar has no business day to designate (no target).
    """
    if isinstance(duration, BusinessDuration):
        return td_to_us(duration.value)
    try:
        return max(1, duration.business_us(calendar, start_us))
    except (NeverOpenError, InvalidValueError):  # no business day, or none in range
        return None
