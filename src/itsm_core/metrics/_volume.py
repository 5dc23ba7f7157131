"""Volume and rhythm: arrivals by month, weekday and hour; the backlog and its age at an instant."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise

import attrs

from itsm_core._time import from_us, td_to_us, to_us
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError
from itsm_core.metrics._walk import DIMENSIONS, check_dimensions, check_inputs, dims_of, walk
from itsm_core.ticket import Event

__all__ = ["AXES", "DEFAULT_AGE_EDGES", "Arrivals", "Backlog"]

#: Arrival buckets: ``month`` (``"2026-03"``), ``weekday`` (``"Mon"``), ``hour`` (``"09"``).
AXES: tuple[str, ...] = ("month", "weekday", "hour")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Backlog age bins (wall-clock age): under 1 day, 1-3 days, 3-7 days, 7-30 days, 30 days and more.
DEFAULT_AGE_EDGES: tuple[timedelta, ...] = (
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)
_OPEN = frozenset({"new", "active", "on_hold"})


def _counts(
    value: Iterable[tuple[tuple[str, ...], int]],
) -> tuple[tuple[tuple[str, ...], int], ...]:
    return tuple(sorted((k, n) for k, n in value if n))


def _merged(
    a: tuple[tuple[tuple[str, ...], int], ...], b: tuple[tuple[tuple[str, ...], int], ...]
) -> Counter[tuple[str, ...]]:
    total: Counter[tuple[str, ...]] = Counter(dict(a))
    total.update(dict(b))
    return total


@attrs.frozen(kw_only=True)
class Arrivals:
    """Tickets opened per dimension value, by month, weekday and hour (local); ``+`` merges.

    ``counts`` holds ``((by, value, axis, bucket), n)`` pairs.

    >>> Arrivals(timezone="UTC").get("all", "", "weekday")
    ()
    """

    timezone: str
    counts: tuple[tuple[tuple[str, ...], int], ...] = attrs.field(default=(), converter=_counts)
    by: tuple[str, ...] = DIMENSIONS

    @classmethod
    def of(
        cls,
        histories: Iterable[Sequence[Event]],
        *,
        calendar: CalendarLike,
        timezone: str | None = None,
        by: Iterable[str] = DIMENSIONS,
    ) -> Arrivals:
        """Arrivals of many tickets, at the local instant each was opened."""
        histories, tz = check_inputs(histories, calendar, timezone)
        dims = check_dimensions(by)
        wanted = set(dims)
        found: Counter[tuple[str, ...]] = Counter()
        for index, events in enumerate(histories):
            seen = walk(events, index, calendar)
            local: datetime = from_us(seen.opened_us, tz)
            buckets = {
                "month": f"{local.year:04d}-{local.month:02d}",
                "weekday": _WEEKDAYS[local.weekday()],
                "hour": f"{local.hour:02d}",
            }
            opened = seen.observations[0]
            for dim, value in opened.dims:
                if dim in wanted:
                    for axis, bucket in buckets.items():
                        found[(dim, value, axis, bucket)] += 1
        return cls(timezone=tz, counts=found.items(), by=dims)

    def __add__(self, other: Arrivals) -> Arrivals:
        if not isinstance(other, Arrivals):
            return NotImplemented
        if (self.timezone, self.by) != (other.timezone, other.by):
            raise InvalidValueError("other", other.timezone, f"arrivals in {self.timezone}")
        return attrs.evolve(self, counts=_merged(self.counts, other.counts).items())

    def get(self, by: str, value: str, axis: str) -> tuple[tuple[str, int], ...]:
        """``(bucket, count)`` pairs of one axis for ``by`` = ``value``, in bucket order."""
        if axis not in AXES:
            raise InvalidValueError("axis", axis, f"one of {', '.join(AXES)}")
        found = [(k[3], n) for k, n in self.counts if k[:3] == (by, value, axis)]
        if axis == "weekday":
            found.sort(key=lambda item: _WEEKDAYS.index(item[0]))
        return tuple(found)


def _label(edge: timedelta) -> str:
    us = td_to_us(edge)
    for unit, name in ((86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "m")):
        if us % unit == 0:
            return f"{us // unit}{name}"
    return str(edge)


def _edges(value: object) -> tuple[timedelta, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError("edges", value, "a sequence of increasing positive durations")
    found = tuple(value)
    previous = timedelta(0)
    for index, edge in enumerate(found):
        if not isinstance(edge, timedelta) or edge <= previous:
            raise InvalidValueError(f"edges[{index}]", edge, f"a duration above {previous}")
        previous = edge
    return found


@attrs.frozen(kw_only=True)
class Backlog:
    """The tickets open (new, active or on hold) at instant ``at``, by age bin; ``+`` merges.

    The age is wall-clock time since opening; ``edges`` split the ages into
    bins (``[0, e1)``, ``[e1, e2)`` ... ``[en, ∞)``), labelled ``"<1d"``,
    ``"1d-3d"`` ... ``">=30d"``. A ticket opened after ``at`` does not exist
    yet. ``counts`` holds ``((by, value, bin label), n)`` pairs.

    >>> Backlog(at_us=0).bins()
    ('<1d', '1d-3d', '3d-7d', '7d-30d', '>=30d')
    """

    at_us: int
    edges: tuple[timedelta, ...] = attrs.field(default=DEFAULT_AGE_EDGES, converter=_edges)
    counts: tuple[tuple[tuple[str, ...], int], ...] = attrs.field(default=(), converter=_counts)
    by: tuple[str, ...] = DIMENSIONS

    def bins(self) -> tuple[str, ...]:
        """The bin labels, youngest first."""
        labels = [_label(e) for e in self.edges]
        if not labels:
            return ("all ages",)
        middle = [f"{a}-{b}" for a, b in pairwise(labels)]
        return (f"<{labels[0]}", *middle, f">={labels[-1]}")

    @classmethod
    def of(
        cls,
        histories: Iterable[Sequence[Event]],
        at: datetime,
        *,
        calendar: CalendarLike,
        edges: Iterable[timedelta] = DEFAULT_AGE_EDGES,
        by: Iterable[str] = DIMENSIONS,
    ) -> Backlog:
        """The backlog at ``at`` of many tickets' histories (events after ``at`` are not read)."""
        at_us = to_us(at, "at")
        histories, _ = check_inputs(histories, calendar, None)
        bounds = _edges(edges)
        bounds_us = [td_to_us(e) for e in bounds]
        dims = check_dimensions(by)
        wanted = set(dims)
        empty = cls(at_us=at_us, edges=bounds, by=dims)
        labels = empty.bins()
        found: Counter[tuple[str, ...]] = Counter()
        for index, events in enumerate(histories):
            seen = walk(events, index, calendar)
            current = None
            for moment, ticket in seen.states:
                if moment > at_us:
                    break
                current = ticket
            if current is None or current.state_category not in _OPEN:
                continue
            label = labels[bisect_right(bounds_us, at_us - seen.opened_us)]
            for dim, value in dims_of(current):
                if dim in wanted:
                    found[(dim, value, label)] += 1
        return attrs.evolve(empty, counts=found.items())

    def __add__(self, other: Backlog) -> Backlog:
        if not isinstance(other, Backlog):
            return NotImplemented
        if (self.at_us, self.edges, self.by) != (other.at_us, other.edges, other.by):
            raise InvalidValueError(
                "other", other.at_us, f"a backlog at {self.at_us} with {self.edges}"
            )
        return attrs.evolve(self, counts=_merged(self.counts, other.counts).items())

    def count(self, by: str = "all", value: str = "") -> int:
        """How many tickets of ``by`` = ``value`` are open at the instant."""
        return sum(n for k, n in self.counts if k[:2] == (by, value))

    def ages(self, by: str = "all", value: str = "") -> tuple[tuple[str, int], ...]:
        """``(bin label, count)`` for every bin, youngest first (zeros included)."""
        found = {k[2]: n for k, n in self.counts if k[:2] == (by, value)}
        return tuple((label, found.get(label, 0)) for label in self.bins())
