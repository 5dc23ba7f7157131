"""Business-hours calendars and exact business-time arithmetic.

A :class:`BusinessCalendar` is a frozen value: an IANA timezone, weekly open
windows (several per day, crossing midnight allowed), holidays, partial closures
and date overrides. It compiles lazily into a timeline of open intervals in
epoch microseconds, so every query is a bisection, whatever the span.

>>> import pendulum
>>> from datetime import timedelta
>>> cal = BusinessCalendar.eight_by_five("Europe/Moscow")
>>> print(cal.add(pendulum.datetime(2026, 3, 6, 16, tz="Europe/Moscow"), timedelta(hours=2)))
2026-03-09 10:00:00+03:00
"""

from itsm_core.calendar._calendar import BusinessCalendar, CalendarLike, CompositeCalendar
from itsm_core.calendar._holidays import country_holidays
from itsm_core.calendar._records import (
    WEEKDAYS,
    Closure,
    DateOverride,
    DateRange,
    MonthDay,
    WeeklySchedule,
    Window,
)
from itsm_core.calendar._timeline import MAX_INSTANT_US, MIN_INSTANT_US

__all__ = [
    "MAX_INSTANT_US",
    "MIN_INSTANT_US",
    "WEEKDAYS",
    "BusinessCalendar",
    "CalendarLike",
    "Closure",
    "CompositeCalendar",
    "DateOverride",
    "DateRange",
    "MonthDay",
    "WeeklySchedule",
    "Window",
    "country_holidays",
]
