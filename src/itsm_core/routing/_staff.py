"""Staff availability: agents with their own working calendars, absences and capacity."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeAlias

import attrs

from itsm_core._time import from_us, to_us
from itsm_core.calendar import BusinessCalendar
from itsm_core.errors import InvalidValueError

__all__ = ["ABSENCE_KINDS", "Absence", "Agent", "DutyRole", "Validator", "names"]

#: An attrs validator: ``(instance, attribute, value)``, raising on a bad value.
Validator: TypeAlias = Callable[[Any, Any, Any], None]

#: The kinds of absence an agent may record (the reason shown when they are skipped).
ABSENCE_KINDS: tuple[str, ...] = ("vacation", "sick_leave", "training", "other")


def _name(field: str) -> Validator:
    def check(_: Any, __: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValueError(field, value, "a non-empty name")

    return check


def names(value: object, field: str) -> tuple[str, ...]:
    """``value`` as a tuple of distinct non-empty names, or an error naming ``field``.

    >>> names(["olga", "pavel"], "members")
    ('olga', 'pavel')
    >>> names(["olga", "olga"], "members")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: members[1]: expected a name not listed before, got 'olga'
    """
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError(field, value, "a list of names")
    out = tuple(value)
    for index, item in enumerate(out):
        if not isinstance(item, str) or not item.strip():
            raise InvalidValueError(f"{field}[{index}]", item, "a non-empty name")
        if item in out[:index]:
            raise InvalidValueError(f"{field}[{index}]", item, "a name not listed before")
    return out


def _kind(_: Any, __: Any, value: Any) -> None:
    if value not in ABSENCE_KINDS:
        raise InvalidValueError("absence.kind", value, f"one of {', '.join(ABSENCE_KINDS)}")


def _day(field: str) -> Validator:
    def check(_: Any, __: Any, value: Any) -> None:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidValueError(field, value, "a datetime.date")

    return check


@attrs.frozen(kw_only=True)
class Absence:
    """Whole local days ``first`` to ``last`` (both included) an agent does not work, and why.

    >>> from datetime import date
    >>> Absence(kind="vacation", first=date(2026, 3, 9), last=date(2026, 3, 20)).days
    12
    >>> Absence(kind="holiday", first=date(2026, 3, 9), last=date(2026, 3, 9))
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: absence.kind: expected one of vacation, \
sick_leave, training, other, got 'holiday'
    """

    kind: str = attrs.field(validator=_kind)
    first: date = attrs.field(validator=_day("absence.first"))
    last: date = attrs.field(validator=_day("absence.last"))
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidValueError("absence.last", self.last, f"a date on or after {self.first}")

    @property
    def days(self) -> int:
        """The number of days the absence covers."""
        return (self.last - self.first).days + 1

    def covers(self, day: date) -> bool:
        """Whether local date ``day`` lies in the absence."""
        return self.first <= day <= self.last


def _calendar(_: Any, __: Any, value: Any) -> None:
    if value is not None and not isinstance(value, BusinessCalendar):
        raise InvalidValueError("agent.calendar", value, "a BusinessCalendar or None")


def _capacity(_: Any, __: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise InvalidValueError("agent.capacity", value, "a number of open tickets >= 1, or None")


def _absences(value: object) -> tuple[Absence, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError("agent.absences", value, "a list of Absence")
    out = tuple(value)
    for index, item in enumerate(out):
        if not isinstance(item, Absence):
            raise InvalidValueError(f"agent.absences[{index}]", item, "an Absence")
    return out


def _skills(value: object) -> tuple[str, ...]:
    return names(value, "agent.skills")


@attrs.frozen(kw_only=True)
class Agent:
    """A person who can be given tickets: when they work, when they are away, how much they hold.

    ``calendar`` is the agent's own working calendar (their shifts; ``None``:
    always working); vacations and sick leave are ``absences`` (or closures of
    the calendar itself). ``capacity`` caps the open tickets they hold
    (``None``: no cap); ``skills`` are the services and categories they know.

    >>> import pendulum
    >>> from datetime import date
    >>> olga = Agent(name="olga", calendar=BusinessCalendar.eight_by_five("Europe/Moscow"),
    ...              absences=(Absence(kind="vacation", first=date(2026, 3, 16),
    ...                                last=date(2026, 3, 27)),), capacity=2)
    >>> olga.unavailable_reason(pendulum.datetime(2026, 3, 2, 10, tz="Europe/Moscow"))
    >>> olga.unavailable_reason(pendulum.datetime(2026, 3, 2, 20, tz="Europe/Moscow"))
    "off shift (calendar '8x5' is closed at 2026-03-02T20:00:00+03:00)"
    >>> olga.unavailable_reason(pendulum.datetime(2026, 3, 17, 10, tz="Europe/Moscow"))
    'on vacation from 2026-03-16 to 2026-03-27'
    >>> olga.unavailable_reason(pendulum.datetime(2026, 3, 2, 10, tz="Europe/Moscow"), load=2)
    'at capacity (2 of 2 open tickets)'
    """

    name: str = attrs.field(validator=_name("agent.name"))
    calendar: BusinessCalendar | None = attrs.field(default=None, validator=_calendar)
    absences: tuple[Absence, ...] = attrs.field(default=(), converter=_absences)
    capacity: int | None = attrs.field(default=None, validator=_capacity)
    skills: tuple[str, ...] = attrs.field(default=(), converter=_skills)

    def local_day(self, at: datetime) -> date:
        """The agent's local date at ``at`` (in their calendar's timezone, else UTC)."""
        tz = self.calendar.timezone if self.calendar is not None else "UTC"
        return from_us(to_us(at, "at"), tz).date()

    def absence_at(self, at: datetime) -> Absence | None:
        """The absence covering the agent's local date at ``at``, if any."""
        day = self.local_day(at)
        for absence in self.absences:
            if absence.covers(day):
                return absence
        return None

    def working_reason(self, at: datetime) -> str | None:
        """Why the agent is not working at ``at`` (absent or off shift), ``None`` if working.

        >>> import pendulum
        >>> Agent(name="x").working_reason(pendulum.datetime(2026, 3, 1, tz="UTC")) is None
        True
        """
        absence = self.absence_at(at)
        if absence is not None:
            what = absence.kind.replace("_", " ")
            return f"on {what} from {absence.first} to {absence.last}"
        if self.calendar is not None and not self.calendar.is_open(at):
            shown = from_us(to_us(at), self.calendar.timezone).isoformat()
            return f"off shift (calendar {self.calendar.name!r} is closed at {shown})"
        return None

    def is_working(self, at: datetime) -> bool:
        """Whether the agent works at ``at`` (not absent, their calendar open)."""
        return self.working_reason(at) is None

    def unavailable_reason(self, at: datetime, *, load: int = 0) -> str | None:
        """Why the agent cannot take a ticket at ``at`` holding ``load``; ``None``: they can."""
        reason = self.working_reason(at)
        if reason is None and self.capacity is not None and load >= self.capacity:
            reason = f"at capacity ({load} of {self.capacity} open tickets)"
        return reason

    def is_available(self, at: datetime, *, load: int = 0) -> bool:
        """Whether the agent can take a ticket at ``at`` (working, under capacity).

        >>> import pendulum
        >>> Agent(name="x", capacity=1).is_available(pendulum.datetime(2026, 3, 1), load=1)
        False
        """
        return self.unavailable_reason(at, load=load) is None


def _holders(value: object) -> tuple[str, ...]:
    return names(value, "duty.holders")


@attrs.frozen(kw_only=True)
class DutyRole:
    """A role held by shift (the dispatcher of the day): its holders, in order of preference.

    Who holds it at an instant is derived like availability: the holders whose
    own calendars are open and who are not absent
    (:meth:`RoutingConfig.on_duty <itsm_core.routing.RoutingConfig.on_duty>`).

    >>> DutyRole(name="dispatcher", holders=("olga", "pavel")).holders
    ('olga', 'pavel')
    """

    name: str = attrs.field(validator=_name("duty.name"))
    holders: tuple[str, ...] = attrs.field(converter=_holders)
