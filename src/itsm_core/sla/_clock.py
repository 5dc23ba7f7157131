"""SLA clocks: a pure fold over a ticket's events."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import attrs
import pendulum

from itsm_core._time import from_us, td_to_us, to_us, us_to_td
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError, NeverOpenError
from itsm_core.lifecycle import History
from itsm_core.sla._manual import DueDateSet
from itsm_core.sla._policy import (
    EVENT_KINDS,
    ClassifiedStart,
    Condition,
    Metric,
    MissingTarget,
    OnPriorityChange,
    SlaPolicy,
    StartAt,
)
from itsm_core.ticket import (
    Assigned,
    CommentAdded,
    Event,
    GroupAssigned,
    PriorityChanged,
    Reassigned,
    StateChanged,
    TicketOpened,
    Unassigned,
)

__all__ = [
    "EVENT_BASES",
    "EVENT_CODES",
    "ClockRow",
    "ClockRunner",
    "Cycle",
    "CycleRow",
    "Decision",
    "MetricClock",
    "MetricRun",
    "SlaStatus",
    "Stage",
    "StageChange",
    "TimelineEntry",
    "breach_instant_us",
    "clock_calendar",
    "decision",
    "evaluate_reference",
    "event_code",
    "event_kind",
    "reach_us",
    "retarget_us",
    "status_of",
]


class Stage(enum.StrEnum):
    """Where a clock stands.

    ``pending``: not started; ``running`` and ``paused``: a cycle is active;
    ``met``, ``breached`` and ``cancelled``: how the cycle ended. A running
    cycle past its due instant is ``breached`` while it still runs.

    >>> [s.value for s in Stage]
    ['pending', 'running', 'paused', 'met', 'breached', 'cancelled']
    """

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"


_KINDS: dict[type, str] = {}


def event_kind(event: Event) -> str:
    """The kind a :class:`Condition` names for an event: its class name in snake_case.

    >>> from datetime import datetime, timezone
    >>> e = CommentAdded(ticket_id="T", actor="a", at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...                  body="hi", public=True, by_requester=False)
    >>> event_kind(e)
    'comment_added'
    """
    cls = type(event)
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _KINDS[cls] = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    return kind


#: What an event tells a fold, by its class: 0 nothing more than its kind, 1 a comment,
#: 2 a state change, 3 a priority change, 4 an assignment to a group, 5 an unassignment,
#: 6 the opening, 7 a due instant set by hand.
EVENT_BASES: tuple[tuple[type, int], ...] = (
    (CommentAdded, 1),
    (StateChanged, 2),
    (PriorityChanged, 3),
    (Assigned, 4),
    (Reassigned, 4),
    (GroupAssigned, 4),
    (Unassigned, 5),
    (TicketOpened, 6),
    (DueDateSet, 7),
)
#: By event class: (what it tells, its kind), filled by :func:`event_code`.
EVENT_CODES: dict[type, tuple[int, str]] = {}


def event_code(event: Event) -> tuple[int, str]:
    """What ``event`` tells a fold (a code of :data:`EVENT_BASES`) and its kind; kept."""
    # subclasses and event kinds defined outside the ticket module are found by their bases
    cls = type(event)
    code = next((c for base, c in EVENT_BASES if issubclass(cls, base)), 0)
    found = EVENT_CODES[cls] = (code, event_kind(event))
    return found


# A fact is what conditions see of one event:
# (kind, state, category, from_category, hold_reason, trigger, public, by_requester)
_Fact = tuple[str, str, str, str, str | None, str | None, bool | None, bool | None]
# A compiled condition list, for one event kind: ``True`` always matches, ``False``
# never does, otherwise a predicate over the fact.
_Matcher = bool | Callable[[_Fact], bool]


def _predicate(c: Condition) -> _Matcher:
    """``c`` without its event check (the kind is known when it is compiled)."""
    checks = [
        (index, frozenset(allowed))
        for index, allowed in (
            (1, c.state),
            (2, c.category),
            (3, c.from_category),
            (4, c.hold_reason),
            (5, c.trigger),
        )
        if allowed
    ]
    flags = [(i, v) for i, v in ((6, c.public), (7, c.by_requester)) if v is not None]
    if not checks and not flags:
        return True
    if len(checks) == 1 and not flags:
        index, allowed = checks[0]
        return lambda fact: fact[index] in allowed
    if not checks:
        return lambda fact: all(fact[i] is v for i, v in flags)

    def match(fact: _Fact) -> bool:
        for index, allowed in checks:
            if fact[index] not in allowed:
                return False
        return all(fact[i] is v for i, v in flags)

    return match


def _compile(conditions: tuple[Condition, ...], kind: str) -> _Matcher:
    predicates: list[Callable[[_Fact], bool]] = []
    for c in conditions:
        if c.event and kind not in c.event:
            continue
        predicate = _predicate(c)
        if predicate is True:
            return True
        if predicate is not False:
            predicates.append(predicate)
    if not predicates:
        return False
    if len(predicates) == 1:
        return predicates[0]
    return lambda fact: any(p(fact) for p in predicates)


def _hit(matcher: _Matcher, fact: _Fact) -> bool:
    return matcher is True or (matcher is not False and matcher(fact))


# Per event kind: (start, stop, pause, resume, cancel, reset, moves_running, moves_paused);
# resume is None when the metric resumes as soon as no pause condition matches; the two
# flags say whether such an event can change a running or a paused cycle at all.
_Entry = tuple[_Matcher, _Matcher, _Matcher, _Matcher | None, _Matcher, _Matcher, bool, bool]
_Table = dict[str, _Entry]


def _entry(metric: Metric, kind: str) -> _Entry:
    start = _compile(metric.start, kind)
    stop = _compile(metric.stop, kind)
    pause = _compile(metric.pause, kind)
    resume = _compile(metric.resume, kind) if metric.resume else None
    cancel = _compile(metric.cancel, kind)
    reset = _compile(metric.reset, kind)
    ending = not (cancel is False and stop is False and reset is False)
    # Whether an event of this kind can change an active cycle at all.
    moves_running = ending or pause is not False or kind == "priority_changed"
    moves_paused = (
        ending
        or kind == "priority_changed"
        or (resume is not False if resume is not None else pause is not True)
    )
    return (start, stop, pause, resume, cancel, reset, moves_running, moves_paused)


def _table(metric: Metric) -> _Table:
    return {kind: _entry(metric, kind) for kind in EVENT_KINDS}


# Compiled tables per policy, by identity (hashing a policy walks all its conditions).
_TABLES: dict[int, tuple[SlaPolicy, list[_Table]]] = {}


def _tables(policy: SlaPolicy) -> list[_Table]:
    found = _TABLES.get(id(policy))
    if found is None or found[0] is not policy:
        if len(_TABLES) >= 256:
            _TABLES.clear()
        found = _TABLES[id(policy)] = (policy, [_table(m) for m in policy.metrics])
    return found[1]


# ------------------------------------------------------------------------------- results


def clock_calendar(policy: SlaPolicy, customer_calendar: CalendarLike | None) -> CalendarLike:
    """The calendar ``policy``'s clocks count on: the customer's when the policy says so.

    The one place of the rule: with ``policy.use_customer_calendar`` and a
    customer calendar given, that calendar; otherwise the policy's own.

    >>> from datetime import timedelta
    >>> from itsm_core.calendar import BusinessCalendar
    >>> own, theirs = BusinessCalendar.eight_by_five("UTC"), BusinessCalendar.always_open("UTC")
    >>> policy = SlaPolicy(name="p", calendar=own, use_customer_calendar=True,
    ...                    metrics=(Metric.resolution({"P1": timedelta(hours=4)}),))
    >>> clock_calendar(policy, theirs) is theirs, clock_calendar(policy, None) is own
    (True, True)
    """
    if policy.use_customer_calendar and customer_calendar is not None:
        return customer_calendar
    return policy.calendar


def reach_us(
    calendar: CalendarLike,
    segments: Sequence[tuple[int, int]],
    needed_us: int,
    *,
    open_end: bool = False,
    while_running: bool = False,
) -> int | None:
    """When ``needed_us`` of business time has been counted over ``segments`` (``None``: never).

    ``segments`` are ``(start, end)`` stretches in epoch microseconds, in
    order; with ``open_end`` the last one goes on for ever (a running clock
    projected forward). A need of zero or less is met at the first start.
    With ``while_running`` a closed stretch must reach the need strictly
    before it ends (escalation levels fire only while their clock runs);
    otherwise reaching it exactly at the end counts (an SLA breach).
    This is the one answer to "when does N business time run out over these
    stretches" that SLA thresholds, breaches and escalation levels share.

    >>> from itsm_core.calendar import BusinessCalendar
    >>> always = BusinessCalendar.always_open("UTC")
    >>> reach_us(always, [(0, 10), (20, 30)], 15), reach_us(always, [(0, 10)], 15)
    (25, None)
    >>> reach_us(always, [(0, 10)], 15, open_end=True)
    15
    """
    if not segments:
        return None
    if needed_us <= 0:
        return segments[0][0]
    total = 0
    last = len(segments) - 1
    for i, (start, end) in enumerate(segments):
        try:
            at = calendar.add_us(start, needed_us - total)
        except NeverOpenError:
            return None
        if at < end or (at == end and not while_running) or (open_end and i == last):
            return at
        total += calendar.elapsed_us(start, end)
    return None


@attrs.frozen(kw_only=True)
class TimelineEntry:
    """One stage change of one clock, and what caused it.

    ``cause`` is the kind of the event that caused it (see :func:`event_kind`),
    ``"deadline"`` for a breach that happened between events, or
    ``"priority_changed"`` for a target recomputed after a priority change.
    ``event_index`` is the position of that event in the history.
    """

    at_us: int
    metric: str
    cycle: int
    stage: Stage
    cause: str
    event_index: int | None
    timezone: str

    @property
    def at(self) -> pendulum.DateTime:
        """When the stage changed, in the calendar's timezone."""
        return from_us(self.at_us, self.timezone)


@attrs.frozen(kw_only=True)
class Cycle:
    """One cycle of a clock, as of the evaluation instant; instants are epoch microseconds.

    ``elapsed_us`` is the business time counted while running, ``paused_us``
    the business time that passed while paused (never counted), ``due_us``
    the instant the target is reached if nothing pauses it (running cycles
    only), ``breached_us`` the instant the business time reached the target.
    ``segments_us`` are the stretches the clock ran, ``(start, end)`` pairs in
    order; a running cycle's last one ends at the evaluation instant.
    ``hidden`` is true while the ticket is in one of the metric's
    ``hide_due_in`` states: the cycle counts, but shows no ``due_us``.

    One definition of breach: a cycle is breached from the instant its
    business time reaches the target, so its stage as of any ``now`` is
    ``breached`` exactly when ``breached_at <= now``.
    """

    number: int
    stage: Stage
    running: bool
    started_us: int
    ended_us: int | None
    target_us: int
    elapsed_us: int
    paused_us: int
    due_us: int | None
    breached_us: int | None
    met_us: int | None
    timezone: str
    segments_us: tuple[tuple[int, int], ...] = ()
    hidden: bool = False

    def reaches_us(self, calendar: CalendarLike, needed_us: int) -> int | None:
        """When this cycle's counted business time reaches ``needed_us`` (``None``: never).

        Answered over :attr:`segments_us` with ``calendar`` (the clock's own);
        a running cycle is projected past the evaluation instant, as if nothing
        paused it. The integer API, for hot paths.
        """
        return reach_us(calendar, self.segments_us, needed_us, open_end=self.running)

    @property
    def segments(self) -> tuple[tuple[pendulum.DateTime, pendulum.DateTime], ...]:
        """The stretches the clock ran, as instants in the calendar's timezone."""
        return tuple(
            (from_us(a, self.timezone), from_us(b, self.timezone)) for a, b in self.segments_us
        )

    def _show(self, us: int | None) -> pendulum.DateTime | None:
        return None if us is None else from_us(us, self.timezone)

    @property
    def started_at(self) -> pendulum.DateTime:
        """When the cycle started."""
        return from_us(self.started_us, self.timezone)

    @property
    def ended_at(self) -> pendulum.DateTime | None:
        """When the cycle stopped or was cancelled (``None`` while active)."""
        return self._show(self.ended_us)

    @property
    def due_at(self) -> pendulum.DateTime | None:
        """When a running cycle reaches its target if nothing pauses it."""
        return self._show(self.due_us)

    @property
    def breached_at(self) -> pendulum.DateTime | None:
        """When the business time first exceeded the target."""
        return self._show(self.breached_us)

    @property
    def met_at(self) -> pendulum.DateTime | None:
        """When the cycle stopped within its target."""
        return self._show(self.met_us)

    @property
    def target(self) -> timedelta:
        """The business-time target."""
        return us_to_td(self.target_us)

    @property
    def elapsed(self) -> timedelta:
        """Business time counted so far."""
        return us_to_td(self.elapsed_us)

    @property
    def paused(self) -> timedelta:
        """Business time that passed while paused."""
        return us_to_td(self.paused_us)

    @property
    def remaining(self) -> timedelta:
        """Target minus elapsed: negative after a breach."""
        return us_to_td(self.target_us - self.elapsed_us)

    @property
    def percent(self) -> float:
        """Elapsed as a percentage of the target."""
        return self.elapsed_us * 100 / self.target_us


@attrs.frozen(kw_only=True)
class MetricClock:
    """A metric's clock: its stage and every cycle; the fields of the latest cycle at hand.

    ``stage`` is :attr:`Stage.PENDING` while no cycle has started; the other
    properties then are ``None``.
    """

    metric: str
    stage: Stage
    cycles: tuple[Cycle, ...]

    @property
    def current(self) -> Cycle | None:
        """The latest cycle, if any."""
        return self.cycles[-1] if self.cycles else None

    @property
    def started_at(self) -> pendulum.DateTime | None:
        """When the latest cycle started."""
        return self.cycles[-1].started_at if self.cycles else None

    @property
    def due_at(self) -> pendulum.DateTime | None:
        """When the latest cycle reaches its target, if it is running."""
        return self.cycles[-1].due_at if self.cycles else None

    @property
    def breached_at(self) -> pendulum.DateTime | None:
        """When the latest cycle breached, if it did."""
        return self.cycles[-1].breached_at if self.cycles else None

    @property
    def met_at(self) -> pendulum.DateTime | None:
        """When the latest cycle was met, if it was."""
        return self.cycles[-1].met_at if self.cycles else None

    @property
    def elapsed(self) -> timedelta | None:
        """Business time of the latest cycle."""
        return self.cycles[-1].elapsed if self.cycles else None

    @property
    def paused(self) -> timedelta | None:
        """Paused business time of the latest cycle."""
        return self.cycles[-1].paused if self.cycles else None

    @property
    def remaining(self) -> timedelta | None:
        """Target minus elapsed of the latest cycle (negative after a breach)."""
        return self.cycles[-1].remaining if self.cycles else None

    @property
    def percent(self) -> float | None:
        """Elapsed as a percentage of the target, for the latest cycle."""
        return self.cycles[-1].percent if self.cycles else None

    @property
    def running(self) -> bool:
        """Whether the clock is counting now (breached clocks may still count)."""
        return bool(self.cycles) and self.cycles[-1].running


#: One cycle in compact form, the fields of :class:`Cycle` but its timezone, in order:
#: ``(number, stage, running, started_us, ended_us, target_us, elapsed_us, paused_us,
#: due_us, breached_us, met_us, segments_us, hidden)``.
CycleRow = tuple[
    int,
    Stage,
    bool,
    int,
    int | None,
    int,
    int,
    int,
    int | None,
    int | None,
    int | None,
    tuple[tuple[int, int], ...],
    bool,
]
#: One clock in compact form: ``(metric, stage, cycles)``.
ClockRow = tuple[str, Stage, tuple[CycleRow, ...]]


def _cycle_row(c: Cycle) -> CycleRow:
    return (c.number, c.stage, c.running, c.started_us, c.ended_us, c.target_us, c.elapsed_us,
            c.paused_us, c.due_us, c.breached_us, c.met_us, c.segments_us, c.hidden)  # fmt: skip


def _cycle(row: CycleRow, timezone: str) -> Cycle:
    (number, stage, running, started, ended, target, elapsed, paused, due, breached, met,
     segments, hidden) = row  # fmt: skip
    return Cycle(number=number, stage=stage, running=running, started_us=started,
                 ended_us=ended, target_us=target, elapsed_us=elapsed, paused_us=paused,
                 due_us=due, breached_us=breached, met_us=met, timezone=timezone,
                 segments_us=segments, hidden=hidden)  # fmt: skip


@attrs.frozen(kw_only=True)
class SlaStatus:
    """The clocks of one policy over one ticket, as of ``now``, and their timeline.

    ``priority`` and ``group`` are the ticket's effective priority and
    assignee group as of ``now`` (what compliance reports group by).
    ``clock_rows`` holds the clocks in compact form (:data:`ClockRow`
    tuples, what the fold builds); :attr:`clocks` gives them as
    :class:`MetricClock` records, built on first use and kept.
    ``stage_changes`` is the timeline in compact form, tuples of
    ``(at_us, metric, cycle, stage, cause, event_index)`` in time order;
    :attr:`timeline` gives the same as :class:`TimelineEntry` records.
    :func:`~itsm_core.sla.evaluate` may leave the timeline to be found on
    first use (by folding the ticket's events again, with their stage
    changes): reading ``stage_changes``, comparing, hashing, printing or
    pickling a status finds it, so every status answers alike (until then the
    status keeps the ticket's history).
    """

    ticket_id: str
    policy: str
    now_us: int
    timezone: str
    priority: str | None
    group: str | None
    clock_rows: tuple[ClockRow, ...] = attrs.field(repr=False)
    stage_changes: tuple[tuple[int, str, int, str, str, int | None], ...]
    _clocks: tuple[MetricClock, ...] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )
    # How to find ``stage_changes`` when a fold left it unset: ``(find, *arguments)``,
    # called as ``find(self, *arguments)`` once.
    _later: tuple[Any, ...] | None = attrs.field(default=None, init=False, eq=False, repr=False)

    if not TYPE_CHECKING:  # only ``stage_changes`` is ever missing; typing sees the field

        def __getattr__(self, name: str) -> Any:
            if name != "stage_changes":
                raise AttributeError(name)
            later = object.__getattribute__(self, "_later")
            if later is None:  # found meanwhile by another thread
                return object.__getattribute__(self, name)
            found = later[0](self, *later[1:])
            object.__setattr__(self, "stage_changes", found)  # published whole, then
            object.__setattr__(self, "_later", None)
            return found

    @classmethod
    def of_clocks(
        cls,
        *,
        ticket_id: str,
        policy: str,
        now_us: int,
        timezone: str,
        priority: str | None,
        group: str | None,
        clocks: tuple[MetricClock, ...],
        stage_changes: tuple[tuple[int, str, int, str, str, int | None], ...],
    ) -> SlaStatus:
        """A status from :class:`MetricClock` records (their cycles in ``timezone``)."""
        status = cls(
            ticket_id=ticket_id,
            policy=policy,
            now_us=now_us,
            timezone=timezone,
            priority=priority,
            group=group,
            clock_rows=tuple(
                (c.metric, c.stage, tuple(_cycle_row(x) for x in c.cycles)) for c in clocks
            ),
            stage_changes=stage_changes,
        )
        object.__setattr__(status, "_clocks", clocks)
        return status

    @property
    def clocks(self) -> tuple[MetricClock, ...]:
        """Each metric's clock, in the policy's order (built from :attr:`clock_rows` once)."""
        clocks = self._clocks
        if clocks is None:
            tz = self.timezone
            clocks = tuple(
                MetricClock(metric=metric, stage=stage, cycles=tuple(_cycle(r, tz) for r in rows))
                for metric, stage, rows in self.clock_rows
            )
            object.__setattr__(self, "_clocks", clocks)  # published whole: safe to share
        return clocks

    @property
    def timeline(self) -> tuple[TimelineEntry, ...]:
        """Every stage change of every clock, in time order, with its cause."""
        return tuple(
            TimelineEntry(
                at_us=at,
                metric=metric,
                cycle=cycle,
                stage=Stage(stage),
                cause=cause,
                event_index=index,
                timezone=self.timezone,
            )
            for at, metric, cycle, stage, cause, index in self.stage_changes
        )

    def clock(self, metric: str) -> MetricClock:
        """The clock of ``metric``."""
        for clock in self.clocks:
            if clock.metric == metric:
                return clock
        choices = ", ".join(c.metric for c in self.clocks)
        raise InvalidValueError("metric", metric, f"one of {choices}")

    @property
    def now(self) -> pendulum.DateTime:
        """The evaluation instant, in the calendar's timezone."""
        return from_us(self.now_us, self.timezone)


# The slots of SlaStatus, written directly: a fold builds one status per ticket, and the
# keyword call of the attrs ``__init__`` costs more than the rest of the wrapping.
_STATUS_SLOTS = tuple(
    getattr(SlaStatus, name).__set__
    for name in ("ticket_id", "policy", "now_us", "timezone", "priority", "group",
                 "clock_rows", "stage_changes", "_clocks", "_later")
)  # fmt: skip
_new = object.__new__


def status_of(
    ticket_id: str,
    policy: str,
    now_us: int,
    timezone: str,
    priority: str | None,
    group: str | None,
    clock_rows: tuple[ClockRow, ...],
    stage_changes: tuple[StageChange, ...] | None,
    later: tuple[Any, ...] | None = None,
) -> SlaStatus:
    """``SlaStatus(ticket_id=..., ...)`` for the folds: the same record, built faster.

    With ``stage_changes=None``, ``later`` is ``(find, *arguments)``: the timeline is
    ``find(status, *arguments)``, asked on first use. SlaStatus has no validators,
    converters or post-init hook (a test holds the two ways of building it to the same
    record).
    """
    a, b, c, d, e, f, g, h, i, j = _STATUS_SLOTS
    status: SlaStatus = _new(SlaStatus)
    a(status, ticket_id)
    b(status, policy)
    c(status, now_us)
    d(status, timezone)
    e(status, priority)
    f(status, group)
    g(status, clock_rows)
    if stage_changes is not None:
        h(status, stage_changes)
    i(status, None)
    j(status, later)
    return status


# ---------------------------------------------------------------------------------- fold

_PENDING, _RUNNING, _PAUSED = Stage.PENDING, Stage.RUNNING, Stage.PAUSED
_CANCELLED, _MET, _BREACHED = Stage.CANCELLED, Stage.MET, Stage.BREACHED

#: What one event does to one metric's clock, as :class:`ClockRunner` reads it:
#: ``(moves running, moves paused, moves idle, start, stop, pause, resume, cancel, reset,
#: ends or retargets an active cycle)``; see :func:`decision`.
Decision = tuple[bool, bool, bool, bool, bool, bool, bool, bool, bool, bool]
#: One stage change in compact form: ``(at_us, metric, cycle, stage, cause, event_index)``.
StageChange = tuple[int, str, int, str, str, int | None]


def decision(
    start: bool, stop: bool, pause: bool, resume: bool, cancel: bool, reset: bool, priority: bool
) -> Decision:
    """What an event does to a metric, from its conditions' verdicts on the event.

    ``resume`` is the resume conditions' verdict (or "no pause matches" when
    the metric names none); ``priority`` says the event changes the priority.
    The first three flags say whether the event can move a running, a paused
    or an idle clock at all; the last whether it ends or retargets a cycle.

    >>> decision(True, False, False, True, False, False, False)[:3]
    (False, True, True)
    """
    ending = cancel or stop or reset or priority
    return (ending or pause, ending or resume, start and not stop, start, stop, pause, resume,
            cancel, reset, ending)  # fmt: skip


def breach_instant_us(
    segments: Sequence[tuple[int, int]],
    target_us: int,
    elapsed_us: Callable[[int, int], int],
    add_us: Callable[[int, int], int],
) -> int | None:
    """When running ``segments`` first reached ``target_us`` of business time (None: never).

    ``elapsed_us`` and ``add_us`` are the clock calendar's; every fold finds a
    breach after a retarget this way.

    >>> from itsm_core.calendar import BusinessCalendar
    >>> always = BusinessCalendar.always_open("UTC")
    >>> breach_instant_us([(0, 10), (20, 30)], 15, always.elapsed_us, always.add_us)
    25
    >>> breach_instant_us([(0, 10)], 15, always.elapsed_us, always.add_us) is None
    True
    """
    total = 0
    for start, end in segments:
        length = elapsed_us(start, end)
        if total + length >= target_us:
            return add_us(start, target_us - total)
        total += length
    return None


def retarget_us(
    segments: Sequence[tuple[int, int]],
    running: bool,
    seg_start: int,
    at: int,
    old: int,
    new: int,
    breached: int | None,
    name: str,
    number: int,
    index: int,
    changes: list[StageChange],
    elapsed_us: Callable[[int, int], int],
    add_us: Callable[[int, int], int],
) -> int | None:
    """An active cycle's target moves from ``old`` to ``new`` at ``at``: its breach instant.

    ``segments`` are the cycle's closed running stretches; a ``running``
    cycle's open one, from ``seg_start``, stays open up to ``at`` (splitting
    it would move a breach that lands exactly on its boundary: breach
    instants are computed per segment). A breach of the old target not yet
    recorded is; a breach that appears or disappears is recorded as a
    ``priority_changed`` stage change of cycle ``number`` (event ``index``).

    >>> from itsm_core.calendar import BusinessCalendar
    >>> always = BusinessCalendar.always_open("UTC")
    >>> changes = []
    >>> retarget_us([(0, 10)], True, 20, 30, 100, 15, None, "resolution", 1, 3, changes,
    ...             always.elapsed_us, always.add_us)
    25
    >>> changes
    [(30, 'resolution', 1, 'breached', 'priority_changed', 3)]
    """
    segs = list(segments)
    if running:
        segs.append((seg_start, at))
        if breached is None:  # a breach of the old target since the segment began
            breached = breach_instant_us(segs, old, elapsed_us, add_us)
            if breached is not None:
                changes.append((breached, name, number, "breached", "deadline", None))
    was = breached is not None
    breached = breach_instant_us(segs, new, elapsed_us, add_us)
    if was and breached is None:
        stage = "running" if running else "paused"
        changes.append((at, name, number, stage, "priority_changed", index))
    elif not was and breached is not None:
        changes.append((at, name, number, "breached", "priority_changed", index))
    return breached


class MetricRun:
    """One metric's mutable state while folding; class attributes are the initial values.

    ``targets`` maps a priority to its target in business time, for the
    priorities whose target needs no calendar (empty: always ask the metric).
    """

    stage = _PENDING  # PENDING, RUNNING, PAUSED or an end stage
    cycle_start = 0
    seg_start = 0
    elapsed = 0
    paused = 0
    paused_since = 0
    target = 0
    breached: int | None = None
    deferred: int | None = None  # a start event that found no target
    hidden = False
    manual: int | None = None  # a due instant set by hand (DueDateSet)
    segments: tuple[tuple[int, int], ...] = ()

    def __init__(self, metric: Metric, targets: Mapping[str, int]) -> None:
        self.metric = metric
        self.name = metric.name
        self.targets = targets
        self.cycles: list[CycleRow] = []


class ClockRunner:
    """The clock mechanics every SLA fold shares, in integers (epoch microseconds).

    What happens to a metric's clock when a segment closes, a target is
    reached, a due instant is set by hand, a cycle starts or ends or its
    target changes, and what a :data:`Decision` does to it (:meth:`apply`).
    A fold finds each event's decisions its own way and records the cycles
    as :data:`CycleRow` tuples and the stage changes in :attr:`changes`.
    """

    def __init__(
        self,
        metrics: Sequence[Metric],
        targets: Sequence[Mapping[str, int]],
        calendar: CalendarLike,
    ) -> None:
        self.calendar = calendar
        self.elapsed_us = calendar.elapsed_us
        self.runs = [MetricRun(m, t) for m, t in zip(metrics, targets, strict=True)]
        self.deferring = False  # a run waits for a target: every event may move it
        self.changes: list[StageChange] = []

    def due(self, start: int, remaining: int) -> int | None:
        """When ``remaining`` business time will have passed after ``start`` (None: never)."""
        try:
            return self.calendar.add_us(start, remaining)
        except NeverOpenError:
            return None

    def begin(self, run: MetricRun, at: int) -> int:
        """When a cycle started by an event at ``at`` begins to count (its start rule)."""
        metric = run.metric
        if metric.start_at is StartAt.EVENT and metric.start_offset is None:
            return at
        try:
            if metric.start_at is StartAt.NEXT_OPENING and not self.calendar.is_open_us(at):
                at = self.calendar.next_open_us(at)
            if metric.start_offset is not None:
                at = self.calendar.add_us(at, td_to_us(metric.start_offset.value))
        except NeverOpenError:
            pass
        return at

    def target(self, run: MetricRun, priority: str | None, start: int) -> int | None:
        """The business time of ``priority``'s target for a cycle starting at ``start``."""
        found = run.targets.get(priority) if priority is not None else None
        if found is not None:
            return found
        return run.metric.target_us(priority, self.calendar, start)

    def defer(self, run: MetricRun, at: int) -> None:
        """A start event at ``at`` found no target: the cycle waits for one."""
        run.deferred = at
        self.deferring = True

    def close_segment(self, run: MetricRun, at: int) -> None:
        """Count the running segment up to ``at``; record a breach inside it."""
        seg_start = run.seg_start
        if at < seg_start:  # a delayed start not reached yet counts nothing
            at = seg_start
        length = self.elapsed_us(seg_start, at)
        if run.breached is None and run.elapsed + length >= run.target:
            run.breached = self.calendar.add_us(seg_start, run.target - run.elapsed)
            self.changes.append(
                (run.breached, run.name, len(run.cycles) + 1, "breached", "deadline", None)
            )
        run.segments = (*run.segments, (seg_start, at))
        run.elapsed += length

    def manual_target(self, run: MetricRun, start: int) -> int:
        """The business time from ``start`` to the due instant set by hand (at least 1 µs)."""
        due = run.manual if run.manual is not None else start
        return max(1, self.elapsed_us(start, due) if due > start else 0)

    def set_due(
        self, name: str, due: int | None, at: int, priority: str | None, index: int
    ) -> None:
        """A due instant set (or cleared) by hand for the metric ``name``."""
        for run in self.runs:
            if run.name != name:
                continue
            run.manual = due
            if run.stage is _RUNNING or run.stage is _PAUSED:
                target = (
                    self.manual_target(run, run.cycle_start)
                    if due is not None
                    else self.target(run, priority, run.cycle_start)
                )
                if target is not None and target != run.target:
                    self.retarget(run, at, target, index)

    def start(self, run: MetricRun, at: int, target: int, cause: str, index: int) -> None:
        """A new cycle starts counting at ``at``."""
        if run.manual is not None:
            target = self.manual_target(run, at)
        run.deferred = None
        run.stage = _RUNNING
        run.cycle_start = run.seg_start = at
        run.elapsed = run.paused = 0
        run.target = target
        run.breached = None
        run.segments = ()
        self.changes.append((at, run.name, len(run.cycles) + 1, "running", cause, index))

    def end(self, run: MetricRun, at: int, stage: Stage, cause: str, index: int | None) -> None:
        """The active cycle ends at ``at``: cancelled, or met or breached by its time."""
        if run.stage is _RUNNING:
            self.close_segment(run, at)
        elif run.stage is _PAUSED:
            since = run.paused_since
            run.paused += self.elapsed_us(since, at if at > since else since)
        run.manual = None  # a due instant set by hand lasts for its cycle
        if stage is not _CANCELLED:
            stage = _BREACHED if run.elapsed >= run.target else _MET
        cycles = run.cycles
        cycles.append(
            (len(cycles) + 1, stage, False, run.cycle_start, at, run.target, run.elapsed,
             run.paused, None, run.breached, at if stage is _MET else None, run.segments,
             False)
        )  # fmt: skip
        self.changes.append((at, run.name, len(cycles), stage.value, cause, index))
        run.stage = stage

    def retarget(self, run: MetricRun, at: int, target: int, index: int) -> None:
        """The active cycle's target becomes ``target``: its breach moves with it."""
        if run.breached is None:
            # Neither target reached yet: nothing to find over the segments.
            counted = run.elapsed
            if run.stage is _RUNNING:
                seg_start = run.seg_start
                counted += self.elapsed_us(seg_start, at if at > seg_start else seg_start)
            if counted < target and counted < run.target:
                run.target = target
                return
        run.breached = retarget_us(
            run.segments,
            run.stage is _RUNNING,
            run.seg_start,
            at,
            run.target,
            target,
            run.breached,
            run.name,
            len(run.cycles) + 1,
            index,
            self.changes,
            self.elapsed_us,
            self.calendar.add_us,
        )
        run.target = target

    def active(
        self, run: MetricRun, d: Decision, kind: str, at: int, priority: str | None, index: int
    ) -> bool:
        """A running or paused cycle meets an event; whether the metric is done with it."""
        if d[7]:  # cancel
            self.end(run, at, _CANCELLED, kind, index)
            return True
        if d[4]:  # stop
            self.end(run, at, _MET, kind, index)
            return True
        if d[8]:  # reset
            self.end(run, at, _CANCELLED, kind, index)
            begin = self.begin(run, at)
            target = self.target(run, priority, begin)
            if target is not None:
                self.start(run, begin, target, kind, index)
            else:
                self.defer(run, at)
            return True
        if (
            kind == "priority_changed"
            and run.metric.on_priority_change is OnPriorityChange.RECOMPUTE
            and run.manual is None
        ):
            target = self.target(run, priority, run.cycle_start)
            if target is None:
                missing = run.metric.on_missing_target
                if missing is MissingTarget.STOP:
                    self.end(run, at, _CANCELLED, kind, index)
                    return True
                if missing is MissingTarget.REFUSE:
                    raise InvalidValueError(
                        f"events[{index}].effective",
                        priority,
                        f"a priority with a {run.name} target (the metric refuses "
                        "a change to a priority without one)",
                    )
            elif target != run.target:
                self.retarget(run, at, target, index)
        return False

    def idle(
        self, run: MetricRun, d: Decision, kind: str, at: int, priority: str | None, index: int
    ) -> bool:
        """No cycle is active; whether the metric is done with the event (nothing started)."""
        if run.deferred is not None and not d[3]:
            if d[4] or d[7]:  # stop or cancel: the deferred start is dropped
                run.deferred = None
                return True
            if kind != "priority_changed":
                return True
            since = run.deferred
            if run.metric.classified_start is ClassifiedStart.CLASSIFICATION:
                since = at
            begin = self.begin(run, since)
            target = self.target(run, priority, begin)
            if target is None:
                return True
            self.start(run, begin, target, kind, index)
            return False
        if not d[3] or d[4]:
            return True
        begin = self.begin(run, at)
        target = self.target(run, priority, begin)
        if target is None:
            if run.deferred is None:
                self.defer(run, at)
            return True
        self.start(run, begin, target, kind, index)
        return False

    def apply(
        self,
        moves: Iterable[tuple[int, Decision]],
        kind: str,
        at: int,
        priority: str | None,
        index: int,
    ) -> None:
        """What an event at ``at`` does to the clocks: ``(run index, decision)`` pairs."""
        runs = self.runs
        for i, d in moves:
            run = runs[i]
            stage = run.stage
            if stage is _RUNNING:
                if not d[0] or (d[9] and self.active(run, d, kind, at, priority, index)):
                    continue
            elif stage is _PAUSED:
                if not d[1] or (d[9] and self.active(run, d, kind, at, priority, index)):
                    continue
            elif (run.deferred is None and not d[2]) or self.idle(
                run, d, kind, at, priority, index
            ):
                continue
            if run.stage is _RUNNING:
                if d[5]:  # pause
                    self.close_segment(run, at)
                    run.stage = _PAUSED
                    run.paused_since = at if at > run.cycle_start else run.cycle_start
                    self.changes.append((at, run.name, len(run.cycles) + 1, "paused", kind, index))
            elif d[6]:  # resume
                since = run.paused_since
                run.paused += self.elapsed_us(since, at if at > since else since)
                run.stage = _RUNNING
                run.seg_start = at if at > run.cycle_start else run.cycle_start
                self.changes.append((at, run.name, len(run.cycles) + 1, "running", kind, index))

    def finish(self, now: int) -> tuple[ClockRow, ...]:
        """Every clock as of ``now``, the active cycles counted up to it."""
        clocks: list[ClockRow] = []
        for run in self.runs:
            stage = run.stage
            cycles: tuple[CycleRow, ...] = tuple(run.cycles)
            if stage is _RUNNING or stage is _PAUSED:
                elapsed, paused, due = run.elapsed, run.paused, None
                breached = run.breached
                seg_start = run.seg_start
                until = now if now > seg_start else seg_start  # a delayed start not reached yet
                if stage is _RUNNING:
                    length = self.elapsed_us(seg_start, until)
                    if breached is None and elapsed + length >= run.target:
                        breached = self.calendar.add_us(seg_start, run.target - elapsed)
                        self.changes.append(
                            (breached, run.name, len(cycles) + 1, "breached", "deadline", None)
                        )
                    if breached is None and not run.hidden:
                        due = self.due(seg_start, run.target - elapsed)
                    elapsed += length
                    segments = (*run.segments, (seg_start, until))
                else:
                    since = run.paused_since
                    paused += self.elapsed_us(since, now if now > since else since)
                    segments = run.segments
                if breached is not None:
                    stage = _BREACHED
                cycles = (
                    *cycles,
                    (len(cycles) + 1, stage, run.stage is _RUNNING, run.cycle_start, None,
                     run.target, elapsed, paused, due, breached, None, segments, run.hidden),
                )  # fmt: skip
            clocks.append((run.name, stage, cycles))
        return tuple(clocks)


class _Fold(ClockRunner):
    """The plain fold: each metric's condition lists compiled to matchers per event kind."""

    def __init__(self, policy: SlaPolicy, calendar: CalendarLike) -> None:
        super().__init__(policy.metrics, [{} for _ in policy.metrics], calendar)
        self.tables = _tables(policy)

    def step(self, fact: _Fact, at: int, priority: str | None, index: int) -> None:
        kind = fact[0]
        state = fact[1]
        moves: list[tuple[int, Decision]] = []
        for i, (run, table) in enumerate(zip(self.runs, self.tables, strict=True)):
            hide = run.metric.hide_due_in
            if hide:
                run.hidden = state in hide
            entry = table.get(kind)
            if entry is None:  # an event kind defined outside the ticket module
                entry = table[kind] = _entry(run.metric, kind)
            start, stop, pause, resume, cancel, reset, moves_running, moves_paused = entry
            stage = run.stage
            if stage is _RUNNING:
                if not moves_running:
                    continue
            elif stage is _PAUSED:
                if not moves_paused:
                    continue
            elif start is False and run.deferred is None:
                continue
            pausing = _hit(pause, fact)
            found = decision(
                _hit(start, fact),
                _hit(stop, fact),
                pausing,
                _hit(resume, fact) if resume is not None else not pausing,
                _hit(cancel, fact),
                _hit(reset, fact),
                kind == "priority_changed",
            )
            moves.append((i, found))
        self.apply(moves, kind, at, priority, index)


_by_instant_and_metric = itemgetter(0, 1)


def evaluate_reference(
    history: History | Iterable[Event],
    policy: SlaPolicy,
    now: datetime,
    *,
    customer_calendar: CalendarLike | None = None,
) -> SlaStatus:
    """The plain SLA fold: the slow, obviously correct twin of :func:`~itsm_core.sla.evaluate`.

    Each metric's condition lists are compiled to matchers per event kind,
    and every event asks each metric's matchers in turn. ``evaluate`` gives
    the same answers (a property test holds them to it) by asking the
    conditions once per distinct event fact and policy. Use this one to check
    a fast path, never in a hot loop.

    A pure fold over one :class:`~itsm_core.lifecycle.History` (raw events
    are checked into one first: one ticket, opened first, in time order):
    the same events, policy and ``now`` always give the same status, and
    replaying an edited policy over old events is how a policy change is
    repaired. Events after ``now`` are ignored (evaluate the past by passing
    an earlier ``now``). Because the fold reads the whole history, a policy
    attached late still starts at the first event that matches its start
    condition (retroactive start).

    With ``policy.use_customer_calendar``, ``customer_calendar`` (when given)
    replaces the policy's calendar.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 6, 15, 0, tzinfo=timezone.utc)  # a Friday, 15:00
    >>> policy = SlaPolicy(name="8x5", calendar=BusinessCalendar.eight_by_five("UTC"),
    ...                    metrics=(Metric.first_response({"P3": timedelta(hours=4)}),))
    >>> opened = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident", state="new",
    ...     state_category="new", title="t", requester="ann", effective_priority="P3")
    >>> clock = evaluate_reference([opened], policy, at + timedelta(hours=1)).clock(
    ...     "first_response")
    >>> clock.stage.value, clock.elapsed, str(clock.due_at)  # 2 h on Friday, 2 h on Monday
    ('running', datetime.timedelta(seconds=3600), '2026-03-09 11:00:00+00:00')
    >>> reply = CommentAdded(ticket_id="I-1", actor="dana", at=at + timedelta(minutes=90),
    ...                      body="on it", public=True, by_requester=False)
    >>> met = evaluate_reference([opened, reply], policy, at + timedelta(days=3)).clock(
    ...     "first_response")
    >>> met.stage.value, met.elapsed
    ('met', datetime.timedelta(seconds=5400))
    """
    now_us = to_us(now, "now")
    h = History.of(history)
    calendar = clock_calendar(policy, customer_calendar)
    fold = _Fold(policy, calendar)
    step = fold.step
    category = ""
    priority: str | None = None
    group: str | None = None
    for index, (event, at, (state, new_category, hold)) in enumerate(
        zip(h.events, h.instants_us, h.states, strict=True)
    ):
        if at > now_us:
            break
        from_category, category = category, new_category
        trigger: str | None = None
        public: bool | None = None
        by_requester: bool | None = None
        code, kind = EVENT_CODES.get(type(event)) or event_code(event)
        if code == 1:
            public, by_requester = event.public, event.by_requester  # type: ignore[attr-defined]
        elif code == 2:
            trigger = event.trigger  # type: ignore[attr-defined]
        elif code == 3:
            priority = event.effective  # type: ignore[attr-defined]
        elif code == 4:
            group = event.group  # type: ignore[attr-defined]
        elif code == 5:
            group = None
        elif code == 6:
            priority = event.effective_priority  # type: ignore[attr-defined]
        elif code == 7:
            due = event.due  # type: ignore[attr-defined]
            fold.set_due(
                event.metric,  # type: ignore[attr-defined]
                None if due is None else to_us(due, "due"),
                at,
                priority,
                index,
            )
        step(
            (kind, state, category, from_category, hold, trigger, public, by_requester),
            at,
            priority,
            index,
        )
    clocks = fold.finish(now_us)
    fold.changes.sort(key=_by_instant_and_metric)
    return SlaStatus(
        ticket_id=h.ticket_id,
        policy=policy.name,
        now_us=now_us,
        timezone=calendar.timezone,
        priority=priority,
        group=group,
        clock_rows=clocks,
        stage_changes=tuple(fold.changes),
    )
