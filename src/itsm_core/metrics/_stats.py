"""Workload statistics as mergeable accumulators: counts and exact multisets of business times."""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from fractions import Fraction
from typing import Any, Protocol, TypeVar

import attrs

from itsm_core._time import us_to_td
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError
from itsm_core.metrics._compliance import PERIODS, period_namer
from itsm_core.metrics._walk import DIMENSIONS, check_dimensions, check_inputs, walk
from itsm_core.ticket import Event

__all__ = [
    "COUNTS",
    "TIMES",
    "Stats",
    "StatsKey",
    "Tally",
    "bucket_total",
    "check_grouping",
    "check_period",
    "merge_entries",
]

#: The counted measures of a :class:`Tally`.
COUNTS: tuple[str, ...] = ("arrived", "handled", "resolved", "reopened", "reassigned_away")
#: The timed measures of a :class:`Tally` (business time, exact multisets).
TIMES: tuple[str, ...] = ("first_response", "resolution", "on_hold")


def check_period(period: object) -> str:
    """``period`` if it is one of :data:`PERIODS` (``InvalidValueError`` naming it otherwise)."""
    if period not in PERIODS:
        raise InvalidValueError("period", period, f"one of {', '.join(PERIODS)}")
    assert isinstance(period, str)
    return period


def check_grouping(
    histories: object, calendar: object, period: object, timezone: str | None, by: object
) -> tuple[Iterable[Sequence[Event]], str, tuple[str, ...], Callable[[int], str]]:
    """The checked inputs of a grouped statistic: histories, period, dimensions, period namer.

    ``period`` is checked first, then ``by``, then the calendar, the histories
    and the timezone (``InvalidValueError`` naming the first wrong one); the
    namer gives an instant (microseconds) its period name in the timezone of
    periods (``timezone``, else the calendar's).

    >>> from itsm_core.calendar import BusinessCalendar
    >>> _, period, dims, name_of = check_grouping(
    ...     [], BusinessCalendar.eight_by_five("UTC"), "day", None, ("all", "agent"))
    >>> period, dims, name_of(0)
    ('day', ('all', 'agent'), '1970-01-01')
    """
    checked = check_period(period)
    dims = check_dimensions(by)
    histories, zone = check_inputs(histories, calendar, timezone)
    return histories, checked, dims, period_namer(zone, checked)


_K = TypeVar("_K")
_V = TypeVar("_V")


def merge_entries(
    mine: Iterable[tuple[_K, _V]], theirs: Iterable[tuple[_K, _V]], add: Callable[[_V, _V], _V]
) -> dict[_K, _V]:
    """The buckets of two mergeable results: a key in both gets ``add(mine, theirs)``.

    >>> merge_entries([("a", 1), ("b", 2)], [("b", 5), ("c", 7)], lambda x, y: x + y)
    {'a': 1, 'b': 7, 'c': 7}
    """
    merged = dict(mine)
    for key, value in theirs:
        current = merged.get(key)
        merged[key] = value if current is None else add(current, value)
    return merged


class _BucketKey(Protocol):
    @property
    def by(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def period(self) -> str: ...


def bucket_total(
    entries: Iterable[tuple[_BucketKey, _V]],
    dims: tuple[str, ...],
    where: tuple[str, str, str | None],
    zero: _V,
    add: Callable[[_V, _V], _V],
) -> _V:
    """The buckets of ``where`` = ``(by, value, period)`` added up (all periods when ``None``).

    ``by`` must be one of ``dims`` (``InvalidValueError`` naming it otherwise).

    >>> keys = [StatsKey(by="agent", value="ann", period=p) for p in ("2026-03", "2026-04")]
    >>> bucket_total(zip(keys, (2, 3)), ("agent",), ("agent", "ann", None), 0, int.__add__)
    5
    """
    by, value, period = where
    if by not in dims:
        raise InvalidValueError("by", by, f"one of {', '.join(dims)}")
    total = zero
    for key, found in entries:
        if key.by == by and key.value == value and (period is None or key.period == period):
            total = add(total, found)
    return total


@attrs.frozen(kw_only=True, order=True)
class StatsKey:
    """One bucket: a dimension (see ``DIMENSIONS``), its value and a period name.

    ``value`` is ``""`` for the ``all`` dimension and for an unset field.

    >>> StatsKey(by="all", value="", period="2026-03").value
    ''
    """

    by: str
    value: str
    period: str


def _merge_sorted(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not a:
        return b
    if not b:
        return a
    return tuple(heapq.merge(a, b))


def _sorted_ints(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(value))


@attrs.frozen(kw_only=True)
class Tally:
    """The counts and business times of one bucket; ``+`` merges two.

    Times are kept as an exact multiset (sorted microseconds), so every
    quantile is exact and merging is concatenation: at service-desk scale
    (thousands of tickets a month) this is small. :meth:`quantile` uses the
    **nearest-rank** method: the smallest value with at least ``q`` of the
    values at or below it (``sorted[ceil(q * n) - 1]``); the median is
    ``quantile(0.5)`` (the lower middle of an even count).

    >>> t = Tally(resolved=3, resolution=(3_600_000_000, 60_000_000, 600_000_000))
    >>> str(t.median("resolution")), str(t.mean("resolution")), str(t.quantile("resolution", 0.9))
    ('0:10:00', '0:23:40', '1:00:00')
    """

    arrived: int = 0
    handled: int = 0
    resolved: int = 0
    reopened: int = 0
    reassigned_away: int = 0
    first_response: tuple[int, ...] = attrs.field(default=(), converter=_sorted_ints)
    resolution: tuple[int, ...] = attrs.field(default=(), converter=_sorted_ints)
    on_hold: tuple[int, ...] = attrs.field(default=(), converter=_sorted_ints)

    def __add__(self, other: Tally) -> Tally:
        if not isinstance(other, Tally):
            return NotImplemented
        fields: dict[str, Any] = {n: getattr(self, n) + getattr(other, n) for n in COUNTS}
        for name in TIMES:
            fields[name] = _merge_sorted(getattr(self, name), getattr(other, name))
        return Tally(**fields)

    def _times(self, measure: str) -> tuple[int, ...]:
        if measure not in TIMES:
            raise InvalidValueError("measure", measure, f"one of {', '.join(TIMES)}")
        values: tuple[int, ...] = getattr(self, measure)
        return values

    def count(self, measure: str) -> int:
        """How many values a timed measure holds."""
        return len(self._times(measure))

    def total(self, measure: str) -> timedelta:
        """The sum of a timed measure (``0:00:00`` when empty)."""
        return us_to_td(sum(self._times(measure)))

    def mean(self, measure: str) -> timedelta | None:
        """The mean of a timed measure, rounded half-even to the microsecond (``None``: empty)."""
        values = self._times(measure)
        if not values:
            return None
        return us_to_td(round(Fraction(sum(values), len(values))))

    def quantile(self, measure: str, q: float) -> timedelta | None:
        """The nearest-rank ``q``-quantile (``0 < q <= 1``) of a timed measure (``None``: empty).

        >>> Tally(on_hold=(1, 2, 3, 4)).quantile("on_hold", 1.5)
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: q: expected a fraction with 0 < q <= 1, got 1.5
        """
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 < q <= 1:
            raise InvalidValueError("q", q, "a fraction with 0 < q <= 1")
        values = self._times(measure)
        if not values:
            return None
        rank = math.ceil(Fraction(str(q)) * len(values))  # 0.9 is 9/10, not its binary float
        return us_to_td(values[rank - 1])

    def median(self, measure: str) -> timedelta | None:
        """``quantile(measure, 0.5)``: the lower middle value."""
        return self.quantile(measure, 0.5)

    def p90(self, measure: str) -> timedelta | None:
        """``quantile(measure, 0.9)``."""
        return self.quantile(measure, 0.9)


def _entries(
    value: Iterable[tuple[StatsKey, Tally]],
) -> tuple[tuple[StatsKey, Tally], ...]:
    return tuple(sorted(value, key=lambda item: item[0]))


@attrs.frozen(kw_only=True)
class Stats:
    """Counts and business times per dimension value and period; ``+`` merges two.

    Built by :meth:`of` from ticket histories (sequences of events, one per
    ticket). Each fact counts in the period of its own instant: an arrival
    at the opening, ``handled`` at the first assignment to an agent or
    group, ``resolved`` and the resolution time at the first resolution
    (opening to first resolution, in business time), ``reopened`` at each
    reopening (for the agent and group that had resolved), ``reassigned_away``
    when the assignee or group moves away, the first-response time at the
    first public reply by an agent (for the agent who replied), and each hold
    interval when the ticket leaves hold. Merging any split of the tickets,
    in any order, equals computing over all of them.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core.ticket import StateChanged, TicketOpened
    >>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> history = [
    ...     TicketOpened(ticket_id="I-1", actor="r", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r"),
    ...     StateChanged(ticket_id="I-1", actor="ann", at=at.replace(hour=11), trigger="resolve",
    ...                  from_state="new", to_state="resolved", from_category="new",
    ...                  to_category="resolved"),
    ... ]
    >>> stats = Stats.of([history], calendar=BusinessCalendar.eight_by_five("UTC"))
    >>> str(stats.tally("agent", "ann").median("resolution")), stats.tally().resolved
    ('2:00:00', 1)
    """

    entries: tuple[tuple[StatsKey, Tally], ...] = attrs.field(default=(), converter=_entries)
    by: tuple[str, ...] = DIMENSIONS
    period: str = "month"

    @classmethod
    def of(
        cls,
        histories: Iterable[Sequence[Event]],
        *,
        calendar: CalendarLike,
        period: str = "month",
        timezone: str | None = None,
        by: Iterable[str] = DIMENSIONS,
    ) -> Stats:
        """Statistics of many tickets' histories, one walk per ticket."""
        histories, period, dims, name_of = check_grouping(histories, calendar, period, timezone, by)
        wanted = set(dims)
        found: dict[tuple[str, str, str], dict[str, Any]] = {}
        for index, events in enumerate(histories):
            for obs in walk(events, index, calendar).observations:
                name = name_of(obs.at_us)
                for dim, value in obs.dims:
                    if dim not in wanted:
                        continue
                    bucket = found.get((dim, value, name))
                    if bucket is None:
                        bucket = found[(dim, value, name)] = {}
                    if obs.value_us is None:
                        bucket[obs.measure] = bucket.get(obs.measure, 0) + 1
                    else:
                        bucket.setdefault(obs.measure, []).append(obs.value_us)
        entries = [
            (StatsKey(by=dim, value=value, period=name), Tally(**bucket))
            for (dim, value, name), bucket in found.items()
        ]
        return cls(entries=entries, by=dims, period=period)

    def __add__(self, other: Stats) -> Stats:
        if not isinstance(other, Stats):
            return NotImplemented
        if (self.by, self.period) != (other.by, other.period):
            raise InvalidValueError(
                "other", (other.by, other.period), f"statistics by {self.by} per {self.period}"
            )
        merged = merge_entries(self.entries, other.entries, operator.add)
        return Stats(entries=merged.items(), by=self.by, period=self.period)

    def tally(self, by: str = "all", value: str = "", period: str | None = None) -> Tally:
        """The bucket of ``by`` = ``value`` in ``period`` (all periods merged when ``None``).

        >>> Stats().tally("agent", "ann").resolved
        0
        """
        return bucket_total(self.entries, self.by, (by, value, period), Tally(), operator.add)

    def values(self, by: str) -> tuple[str, ...]:
        """The values of dimension ``by`` that have a bucket, sorted."""
        return tuple(sorted({k.value for k, _ in self.entries if k.by == by}))

    def periods(self) -> tuple[str, ...]:
        """The periods that have a bucket, sorted."""
        return tuple(sorted({k.period for k, _ in self.entries}))
