"""SLA compliance: cycles met and breached per period and key, mergeable.

:class:`Compliance` counts the SLA cycles met and breached per period, policy,
metric, priority and group. It is a frozen value built from any iterable of
:class:`~itsm_core.sla.SlaStatus` in constant memory, and two partial results
add up to the whole (``Compliance.of(a) + Compliance.of(b) == Compliance.of(a + b)``),
so the work can be split across processes or months.

>>> from datetime import timedelta
>>> import pendulum
>>> from itsm_core.calendar import BusinessCalendar
>>> from itsm_core.sla import Metric, SlaPolicy, evaluate
>>> from itsm_core.ticket import StateChanged, TicketOpened
>>> policy = SlaPolicy(name="kiosks", calendar=BusinessCalendar.eight_by_five("Europe/Moscow"),
...                    metrics=(Metric.resolution({"P3": timedelta(hours=8)}),))
>>> t0 = pendulum.datetime(2026, 3, 2, 9, tz="Europe/Moscow")
>>> opened = TicketOpened(ticket_id="INC-1", actor="kiosk", at=t0, type="incident", state="new",
...                       state_category="new", title="No paper", requester="kiosk",
...                       effective_priority="P3")
>>> resolved = StateChanged(ticket_id="INC-1", actor="ann", at=t0.add(hours=3), trigger="resolve",
...                         from_state="new", to_state="resolved", from_category="new",
...                         to_category="resolved")
>>> status = evaluate([opened, resolved], policy, t0.add(days=1))
>>> compliance = Compliance.of([status])
>>> compliance.percent(metric="resolution")
100.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import attrs

from itsm_core._time import from_us
from itsm_core.errors import InvalidValueError
from itsm_core.sla import SlaStatus, Stage

__all__ = ["PERIODS", "Compliance", "ComplianceKey", "period_namer", "period_of"]

#: How compliance buckets cycles in time, by the local date of the cycle's outcome.
PERIODS: tuple[str, ...] = ("month", "week", "day", "year")


@attrs.frozen(kw_only=True, order=True)
class ComplianceKey:
    """What one compliance bucket counts: a period and the policy, metric, priority and group.

    ``period`` is ``"2026-03"`` for a month, ``"2026-W10"`` for an ISO week,
    ``"2026-03-02"`` for a day and ``"2026"`` for a year. Keys sort by period first:

    >>> a = ComplianceKey(period="2026-04", policy="a", metric="resolution")
    >>> b = ComplianceKey(period="2026-03", policy="b", metric="resolution")
    >>> sorted([a, b])[0].policy
    'b'
    """

    period: str
    policy: str
    metric: str
    priority: str = ""
    group: str = ""


def period_of(us: int, timezone: str, period: str) -> str:
    """The name of the ``period`` (see :data:`PERIODS`) holding instant ``us`` in ``timezone``.

    >>> period_of(0, "UTC", "month"), period_of(0, "UTC", "week"), period_of(0, "UTC", "day")
    ('1970-01', '1970-W01', '1970-01-01')
    """
    local: datetime = from_us(us, timezone)
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    if period == "day":
        return local.date().isoformat()
    if period == "year":
        return f"{local.year:04d}"
    year, week, _ = local.isocalendar()
    return f"{year:04d}-W{week:02d}"


_HOUR = 3_600_000_000


def period_namer(timezone: str, period: str) -> Callable[[int], str]:
    """:func:`period_of` for one zone and period, remembered per UTC hour (a fast path).

    An hour whose two ends have the same UTC offset holds no offset change
    (zones change their offset at most once an hour), so local time runs
    straight through it and one period name serves the whole hour; an hour
    with a change is named instant by instant. The answers are exactly
    :func:`period_of`'s (a property test compares them).

    >>> name = period_namer("Europe/Moscow", "day")
    >>> name(0), name(75_600_000_000)
    ('1970-01-01', '1970-01-02')
    """
    known: dict[int, str | None] = {}

    def name(us: int) -> str:
        hour = us // _HOUR
        found = known.get(hour, "")
        if found:
            return found
        if found is None:
            return period_of(us, timezone, period)
        start, end = hour * _HOUR, hour * _HOUR + _HOUR - 1
        first = period_of(start, timezone, period)
        steady = (
            from_us(start, timezone).utcoffset() == from_us(end, timezone).utcoffset()
            and period_of(end, timezone, period) == first
        )
        known[hour] = first if steady else None
        return first if steady else period_of(us, timezone, period)

    return name


def _items(
    value: Mapping[ComplianceKey, tuple[int, int]]
    | Iterable[tuple[ComplianceKey, tuple[int, int]]],
) -> tuple[tuple[ComplianceKey, tuple[int, int]], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((k, (int(m), int(b))) for k, (m, b) in items))


@attrs.frozen
class Compliance:
    """Counts of SLA cycles met and breached per :class:`ComplianceKey`; add two to merge.

    A cycle counts when it has an outcome: stopped within its target (met),
    stopped after it or still running past it (breached). Running cycles
    within their target and cancelled cycles do not count. The period is the
    one of the outcome instant (the stop, or the breach of a running cycle),
    in the status's timezone unless ``timezone`` is given.

    >>> Compliance.of([]).percent()
    """

    counts: tuple[tuple[ComplianceKey, tuple[int, int]], ...] = attrs.field(
        default=(), converter=_items
    )

    @classmethod
    def of(
        cls, statuses: Iterable[SlaStatus], *, period: str = "month", timezone: str | None = None
    ) -> Compliance:
        """Compliance of many statuses, counted in one pass in constant memory."""
        if period not in PERIODS:
            raise InvalidValueError("period", period, f"one of {', '.join(PERIODS)}")
        # keyed by plain tuples while counting (one ComplianceKey per bucket, at the end);
        # the cycles are read from the statuses' compact rows (no Cycle record is built)
        counts: dict[tuple[str, str, str, str, str], list[int]] = {}
        met, breached = Stage.MET, Stage.BREACHED
        namers: dict[str, Callable[[int], str]] = {}  # period_of per zone, remembered per hour
        for status in statuses:
            zone = timezone or status.timezone
            name_of = namers.get(zone)
            if name_of is None:
                name_of = namers[zone] = period_namer(zone, period)
            policy, priority, group = status.policy, status.priority or "", status.group or ""
            for metric, _, rows in status.clock_rows:
                for row in rows:
                    stage, ended = row[1], row[4]  # CycleRow: (number, stage, running, ...)
                    if stage is met:
                        outcome, column = ended, 0
                    elif stage is breached:
                        outcome, column = (ended if ended is not None else row[9]), 1
                    else:
                        continue
                    assert outcome is not None
                    key = (name_of(outcome), policy, metric, priority, group)
                    found = counts.get(key)
                    if found is None:
                        found = counts[key] = [0, 0]
                    found[column] += 1
        return cls(
            {
                ComplianceKey(
                    period=name, policy=policy, metric=metric, priority=priority, group=group
                ): (v[0], v[1])
                for (name, policy, metric, priority, group), v in counts.items()
            }
        )

    def __add__(self, other: Compliance) -> Compliance:
        if not isinstance(other, Compliance):
            return NotImplemented
        merged = dict(self.counts)
        for key, (met, breached) in other.counts:
            m, b = merged.get(key, (0, 0))
            merged[key] = (m + met, b + breached)
        return Compliance(merged)

    def totals(self, **match: str) -> tuple[int, int]:
        """``(met, breached)`` over the buckets whose key fields equal ``match``.

        >>> Compliance().totals(metric="resolution")
        (0, 0)
        """
        names = {a.name for a in attrs.fields(ComplianceKey)}
        for name in match:
            if name not in names:
                raise InvalidValueError(
                    name, match[name], f"a key field: {', '.join(sorted(names))}"
                )
        met = breached = 0
        for key, (m, b) in self.counts:
            if all(getattr(key, name) == value for name, value in match.items()):
                met += m
                breached += b
        return met, breached

    def percent(self, **match: str) -> float | None:
        """The share met, in percent, over the matching buckets (``None`` when none count)."""
        met, breached = self.totals(**match)
        total = met + breached
        return None if total == 0 else met * 100 / total

    def periods(self) -> tuple[str, ...]:
        """The periods that have counts, in order."""
        return tuple(sorted({key.period for key, _ in self.counts}))

    def rows(self) -> list[tuple[str, str, str, str, str, int, int, str]]:
        """One row per bucket for a table: key fields, met, breached and the percentage."""
        return [
            (k.period, k.policy, k.metric, k.priority, k.group, m, b, f"{m * 100 / (m + b):.1f}%")
            for k, (m, b) in self.counts
        ]
