"""First-contact resolution: definitions as data and a mergeable rate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import attrs

from itsm_core._time import td_to_us
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError
from itsm_core.metrics._stats import bucket_total, check_grouping, merge_entries
from itsm_core.metrics._walk import DIMENSIONS, TicketWalk, walk
from itsm_core.ticket import Event

__all__ = ["FcrDefinition", "FirstContact", "FirstContactKey"]


def _lines(value: object) -> tuple[int, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError("fcr.first_lines", value, "a sequence of support lines")
    found = tuple(value)
    if not found or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in found
    ):
        raise InvalidValueError("fcr.first_lines", found, "support lines, integers >= 1")
    return found


@attrs.frozen(kw_only=True)
class FcrDefinition:
    """What counts as resolved at the first contact, as data.

    A resolved ticket is a first-contact resolution when every condition
    set holds: ``first_line`` — at its first resolution the ticket's support
    line is one of ``first_lines``; ``no_reassignment`` — no assignee or group
    moved away before the first resolution; ``no_reopen`` — never reopened;
    ``within`` — resolved within this business time of opening.

    >>> FcrDefinition(within=timedelta(minutes=30)).within
    datetime.timedelta(seconds=1800)
    >>> FcrDefinition(within=timedelta(0))
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: fcr.within: expected a positive business duration, \
got datetime.timedelta(0)
    """

    name: str = "fcr"
    first_line: bool = True
    first_lines: tuple[int, ...] = attrs.field(default=(1,), converter=_lines)
    no_reassignment: bool = True
    no_reopen: bool = True
    within: timedelta | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("first_line", "no_reassignment", "no_reopen"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidValueError(f"fcr.{name}", getattr(self, name), "True or False")
        if self.within is not None and (
            not isinstance(self.within, timedelta) or self.within <= timedelta(0)
        ):
            raise InvalidValueError("fcr.within", self.within, "a positive business duration")

    def holds(self, seen: TicketWalk) -> bool | None:
        """Whether a walked ticket is a first-contact resolution (``None``: not resolved)."""
        if seen.first_resolution is None:
            return None
        _, _, line, elapsed = seen.first_resolution
        if self.first_line and line not in self.first_lines:
            return False
        if self.no_reassignment and seen.reassigned_before_resolution:
            return False
        if self.no_reopen and seen.reopened:
            return False
        return self.within is None or elapsed <= td_to_us(self.within)


@attrs.frozen(kw_only=True, order=True)
class FirstContactKey:
    """One bucket: a dimension, its value and the period of the first resolution.

    >>> FirstContactKey(by="agent", value="ann", period="2026-03") < FirstContactKey(
    ...     by="group", value="desk", period="2026-03")
    True
    """

    by: str
    value: str
    period: str


def _add_pairs(mine: tuple[int, int], theirs: tuple[int, int]) -> tuple[int, int]:
    return (mine[0] + theirs[0], mine[1] + theirs[1])


def _entries(
    value: Iterable[tuple[FirstContactKey, tuple[int, int]]],
) -> tuple[tuple[FirstContactKey, tuple[int, int]], ...]:
    return tuple(sorted(value))


@attrs.frozen(kw_only=True)
class FirstContact:
    """``(resolved, resolved at first contact)`` per dimension value and period; ``+`` merges.

    A ticket counts in the bucket of its first resolution (the agent and group
    that resolved it, the ticket's classification then). Reopenings count as
    far as the history goes.

    >>> FirstContact().rate()
    """

    definition: FcrDefinition = FcrDefinition()
    entries: tuple[tuple[FirstContactKey, tuple[int, int]], ...] = attrs.field(
        default=(), converter=_entries
    )
    by: tuple[str, ...] = DIMENSIONS
    period: str = "month"

    @classmethod
    def of(
        cls,
        histories: Iterable[Sequence[Event]],
        *,
        calendar: CalendarLike,
        definition: FcrDefinition | None = None,
        period: str = "month",
        timezone: str | None = None,
        by: Iterable[str] = DIMENSIONS,
    ) -> FirstContact:
        """First-contact resolution over many tickets' histories."""
        rule = FcrDefinition() if definition is None else definition
        if not isinstance(rule, FcrDefinition):
            raise InvalidValueError("definition", rule, "an FcrDefinition")
        histories, period, dims, name_of = check_grouping(histories, calendar, period, timezone, by)
        wanted = set(dims)
        found: dict[FirstContactKey, list[int]] = {}
        for index, events in enumerate(histories):
            seen = walk(events, index, calendar)
            verdict = rule.holds(seen)
            if verdict is None:
                continue
            assert seen.first_resolution is not None
            at_us, where, _, _ = seen.first_resolution
            name = name_of(at_us)
            for dim, value in where:
                if dim in wanted:
                    bucket = found.setdefault(
                        FirstContactKey(by=dim, value=value, period=name), [0, 0]
                    )
                    bucket[0] += 1
                    bucket[1] += int(verdict)
        entries = [(k, (v[0], v[1])) for k, v in found.items()]
        return cls(definition=rule, entries=entries, by=dims, period=period)

    def __add__(self, other: FirstContact) -> FirstContact:
        if not isinstance(other, FirstContact):
            return NotImplemented
        mine = (self.definition, self.by, self.period)
        if mine != (other.definition, other.by, other.period):
            raise InvalidValueError("other", other.definition, f"results of {mine}")
        merged = merge_entries(self.entries, other.entries, _add_pairs)
        return attrs.evolve(self, entries=merged.items())

    def counts(
        self, by: str = "all", value: str = "", period: str | None = None
    ) -> tuple[int, int]:
        """``(resolved, first contact)`` of the bucket (all periods merged when ``None``)."""
        return bucket_total(self.entries, self.by, (by, value, period), (0, 0), _add_pairs)

    def rate(self, by: str = "all", value: str = "", period: str | None = None) -> float | None:
        """The first-contact share of the resolved tickets, in percent (``None``: none)."""
        resolved, first = self.counts(by, value, period)
        return None if not resolved else first * 100 / resolved

    def kpi_counts(self, period: str | None = None) -> tuple[int, int]:
        """``(first contact, other resolved)`` over everything in ``period``: a KPI's counts."""
        resolved, first = self.counts("all", "", period)
        return first, resolved - first
