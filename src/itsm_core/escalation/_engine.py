"""Pure evaluation of escalation rules over a ticket's history, and applying what is due."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

import attrs
import pendulum

from itsm_core._time import from_us, td_to_us, to_us, us_to_td
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError, NeverOpenError
from itsm_core.escalation._events import (
    Escalated,
    EscalationRequested,
    MajorCandidateFlagged,
    NotificationRequested,
)
from itsm_core.escalation._rules import (
    Action,
    ActionKind,
    EscalationConditions,
    EscalationLevel,
    EscalationRule,
    TriggerKind,
)
from itsm_core.escalation._structure import SupportStructure
from itsm_core.lifecycle import Authorizer, Lifecycle, Lifecycles
from itsm_core.sla import SlaPolicy, SlaStatus, Stage, TimelineEntry, evaluate
from itsm_core.ticket import (
    FINAL_CATEGORIES,
    Assign,
    Assigned,
    CommentAdded,
    Event,
    OverridePriority,
    Reassign,
    Reassigned,
    StateChanged,
    Ticket,
    TicketCommand,
    TicketOpened,
    Watch,
    fold_events,
)

__all__ = [
    "DueEscalation",
    "apply_escalations",
    "due_escalations",
    "escalate",
    "next_wakeup",
    "request_escalation",
]

_DONE = frozenset({"resolved", *FINAL_CATEGORIES})
_ANY_TICKET = EscalationConditions()


class _Clockwork(Protocol):
    """What the evaluation needs of a calendar: business-time arithmetic in microseconds."""

    def add_us(self, start_us: int, duration_us: int) -> int: ...

    def elapsed_us(self, start_us: int, end_us: int) -> int: ...


class _WallClock:
    """Wall-clock time: every microsecond counts."""

    __slots__ = ()

    def add_us(self, start_us: int, duration_us: int) -> int:
        return start_us + duration_us

    def elapsed_us(self, start_us: int, end_us: int) -> int:
        return end_us - start_us


_WALL = _WallClock()


@attrs.frozen(kw_only=True)
class DueEscalation:
    """A level of a rule that is due: what to do, why, and since when.

    ``level`` counts from 1 in the rule's order; ``cycle`` is the ordinal of
    the trigger's clock (the SLA cycle, the wait for a reply, the visit of a
    state, the request; always 1 for reassignments). ``(rule, level, cycle)``
    is the key that fires at most once. ``due_us`` is the instant the level
    was reached (epoch microseconds), shown in ``timezone`` by :attr:`due_at`.

    >>> d = DueEscalation(rule="r", level=1, cycle=1, due_us=0, reason="why",
    ...                   actions=(Action.flag_major_candidate(),), timezone="UTC")
    >>> d.key, d.due_at.isoformat()
    (('r', 1, 1), '1970-01-01T00:00:00+00:00')
    """

    rule: str
    level: int
    cycle: int
    due_us: int
    reason: str
    actions: tuple[Action, ...]
    timezone: str
    name: str = ""

    @property
    def due_at(self) -> pendulum.DateTime:
        """When the level was reached."""
        return from_us(self.due_us, self.timezone)

    @property
    def key(self) -> tuple[str, int, int]:
        """``(rule, level, cycle)``: what the history records once it has fired."""
        return (self.rule, self.level, self.cycle)


# ----------------------------------------------------------------------------- history


class _History:
    """The events up to ``now``, the state after each, and what has fired.

    Tickets are folded lazily (a fold costs far more than reading a state), up
    to the latest event a condition needs.
    """

    __slots__ = ("_tickets", "at", "events", "fired", "states")

    def __init__(self, history: Iterable[Event], now_us: int) -> None:
        self.events: list[Event] = []
        self.at: list[int] = []
        # (state, category, hold reason) after each event
        self.states: list[tuple[str, str, str | None]] = []
        self.fired: set[tuple[str, int, int]] = set()
        self._tickets: list[Ticket] = []
        state = category = ""
        hold: str | None = None
        seen = False
        for index, event in enumerate(history):
            seen = True
            if not isinstance(event, Event):
                raise InvalidValueError(f"history[{index}]", event, "a ticket Event")
            if index == 0 and not isinstance(event, TicketOpened):
                raise InvalidValueError(
                    "history[0]", type(event).__name__, "a TicketOpened event first"
                )
            at = to_us(event.at, f"history[{index}].at")
            if self.at and at < self.at[-1]:
                raise InvalidValueError(
                    f"history[{index}].at", event.at, "events in time order (not before the last)"
                )
            if at > now_us:
                break
            if isinstance(event, StateChanged):
                state, category = event.to_state, event.to_category
                hold = event.hold_reason if category == "on_hold" else None
            elif isinstance(event, TicketOpened):
                state, category, hold = event.state, event.state_category, None
            elif isinstance(event, Escalated):
                self.fired.add((event.rule, event.level, event.cycle))
            self.events.append(event)
            self.at.append(at)
            self.states.append((state, category, hold))
        if not seen:
            raise InvalidValueError("history", [], "at least the TicketOpened event")

    def ticket_after(self, index: int) -> Ticket:
        """The ticket after event ``index``."""
        tickets = self._tickets
        while len(tickets) <= index:
            previous = tickets[-1] if tickets else None
            tickets.append(self.events[len(tickets)].apply_to(previous))
        return tickets[index]


# ------------------------------------------------------------------------------ clocks


@attrs.frozen
class _Clock:
    """One cycle of a rule's clock: when it ran (segments) and whether it runs now."""

    cycle: int
    segments: tuple[tuple[int, int], ...]
    running: bool
    target_us: int = 0
    detail: str = ""


def _reach(cal: _Clockwork, clock: _Clock, needed: int, now_us: int) -> tuple[int, bool] | None:
    """When ``clock`` reaches ``needed`` business time, and whether that is by now.

    ``None`` when it never does (stopped short, or the calendar never opens).
    A level is reached at the instant the time counted equals its threshold,
    provided the clock was still running then.
    """
    segments = clock.segments  # never empty: a cycle runs at least from its start
    if needed <= 0:
        return segments[0][0], True
    total = 0
    last = len(segments) - 1
    for i, (start, end) in enumerate(segments):
        try:
            at = cal.add_us(start, needed - total)
        except NeverOpenError:
            return None
        if clock.running and i == last:
            return at, at <= now_us
        if at < end:
            return at, True
        total += cal.elapsed_us(start, end)
    return None


def _sla_clocks(
    status: SlaStatus, timeline: tuple[TimelineEntry, ...], metric: str
) -> list[_Clock]:
    """The cycles of ``metric`` with their running segments, read from the SLA timeline."""
    clock = status.clock(metric)
    entries = [e for e in timeline if e.metric == metric]
    clocks = []
    for cycle in clock.cycles:
        start = cycle.started_us
        end = cycle.ended_us if cycle.ended_us is not None else status.now_us
        running = True
        seg_start = start
        segments: list[tuple[int, int]] = []
        for entry in entries:
            if entry.at_us < start:
                continue
            if entry.at_us > end:
                break
            if entry.stage is Stage.RUNNING and not running:
                running, seg_start = True, entry.at_us
            elif entry.stage is Stage.PAUSED and running:
                running = False
                segments.append((seg_start, entry.at_us))
        if running:
            segments.append((seg_start, end))
        clocks.append(
            _Clock(
                cycle=cycle.number,
                segments=tuple(segments),
                running=running and cycle.ended_us is None,
                target_us=cycle.target_us,
            )
        )
    return clocks


def _waits(h: _History, now_us: int) -> list[_Clock]:
    """The waits for a public agent reply: from opening, a requester message or a reopening."""
    clocks: list[_Clock] = []
    start: int | None = None
    previous = ""
    for event, at, (_, category, _) in zip(h.events, h.at, h.states, strict=True):
        if start is not None:
            if (isinstance(event, CommentAdded) and event.is_agent_reply) or category in _DONE:
                clocks.append(_Clock(len(clocks) + 1, ((start, at),), False))
                start = None
        elif category not in _DONE and (
            isinstance(event, TicketOpened)
            or (isinstance(event, CommentAdded) and event.public and event.by_requester)
            or previous == "resolved"
        ):
            start = at
        previous = category
    if start is not None:
        clocks.append(_Clock(len(clocks) + 1, ((start, now_us),), True))
    return clocks


def _visits(h: _History, rule: EscalationRule, now_us: int) -> list[_Clock]:
    """The visits of the states a ``time_in_state`` trigger watches."""
    trigger = rule.trigger
    clocks: list[_Clock] = []
    start: int | None = None
    visited = ""
    for at, (state, category, hold) in zip(h.at, h.states, strict=True):
        inside = trigger.watches(state, category, hold) and category not in FINAL_CATEGORIES
        if start is not None and not inside:
            clocks.append(_Clock(len(clocks) + 1, ((start, at),), False, detail=visited))
            start = None
        elif start is None and inside:
            start, visited = at, state
    if start is not None:
        clocks.append(_Clock(len(clocks) + 1, ((start, now_us),), True, detail=visited))
    return clocks


def _requests(h: _History, rule: EscalationRule, now_us: int) -> list[_Clock]:
    """Each matching escalation request, running until the ticket is resolved."""
    wanted = rule.trigger.requests
    clocks: list[_Clock] = []
    for index, event in enumerate(h.events):
        if not isinstance(event, EscalationRequested):
            continue
        if wanted and event.kind not in wanted:
            continue
        start = h.at[index]
        end: int | None = None
        for at, (_, category, _) in zip(h.at[index:], h.states[index:], strict=True):
            if category in _DONE:
                end = at
                break
        who = "the requester" if event.by_requester else event.actor
        detail = f"{who} asked for the {event.kind}" + (f": {event.reason}" if event.reason else "")
        clocks.append(
            _Clock(
                len(clocks) + 1,
                ((start, now_us if end is None else end),),
                end is None,
                detail=detail,
            )
        )
    return clocks


def _holder(group: str | None, assignee: str | None) -> str:
    return f"group:{group}" if group is not None else f"person:{assignee}"


def _reassignment_instants(h: _History, bounces_only: bool) -> list[int]:
    """The instants of the counted reassignments, in order.

    A bounce is a move to a group (to a person, for tickets without groups)
    that held the ticket before; a move inside the current group is not one.
    """
    held: set[str] = set()
    counted: list[int] = []
    for event, at in zip(h.events, h.at, strict=True):
        if isinstance(event, Assigned):
            held.add(_holder(event.group, event.assignee))
        elif isinstance(event, Reassigned):
            source = _holder(event.from_group, event.from_assignee)
            target = _holder(event.group, event.assignee)
            if not bounces_only or (target in held and target != source):
                counted.append(at)
            held.update((source, target))
    return counted


# ---------------------------------------------------------------------------- planning


@attrs.frozen
class _Point:
    """A level of a rule in one cycle: reached (``due``) or expected (``due=False``)."""

    rule_index: int
    rule: EscalationRule
    level_index: int
    level: EscalationLevel
    cycle: int
    at_us: int
    due: bool
    reason: str


def _policies(policy: SlaPolicy | Sequence[SlaPolicy] | None) -> tuple[SlaPolicy, ...]:
    if policy is None:
        return ()
    if isinstance(policy, SlaPolicy):
        return (policy,)
    policies = tuple(policy)
    for i, p in enumerate(policies):
        if not isinstance(p, SlaPolicy):
            raise InvalidValueError(f"policy[{i}]", p, "an SlaPolicy")
    return policies


def _check_rules(rules: Iterable[EscalationRule]) -> tuple[EscalationRule, ...]:
    checked = tuple(rules)
    seen: set[str] = set()
    for i, rule in enumerate(checked):
        if not isinstance(rule, EscalationRule):
            raise InvalidValueError(f"rules[{i}]", rule, "an EscalationRule")
        if rule.name in seen:
            raise InvalidValueError(f"rules[{i}].name", rule.name, "a unique rule name")
        seen.add(rule.name)
    return checked


def _policy_for(policies: tuple[SlaPolicy, ...], rule: EscalationRule, index: int) -> SlaPolicy:
    metric, wanted = rule.trigger.metric, rule.trigger.policy
    if wanted is not None:
        named = [p for p in policies if p.name == wanted]
        if not named:
            known = ", ".join(p.name for p in policies) or "none: no SLA policy given"
            raise InvalidValueError(
                f"rules[{index}].trigger.policy", wanted, f"a policy evaluated ({known})"
            )
        policies = tuple(named)
    for policy in policies:
        if any(m.name == metric for m in policy.metrics):
            return policy
    known = ", ".join(m.name for p in policies for m in p.metrics) or "none: no SLA policy given"
    raise InvalidValueError(f"rules[{index}].trigger.metric", metric, f"an SLA metric ({known})")


def _show(us: int) -> str:
    return str(us_to_td(us))


class _Plan:
    """Every level of every rule with the instant it is (or will be) reached."""

    def __init__(
        self,
        history: Iterable[Event],
        rules: Iterable[EscalationRule],
        now: datetime,
        *,
        policy: SlaPolicy | Sequence[SlaPolicy] | None,
        structure: SupportStructure | None,
        calendar: CalendarLike | None,
        customer_calendar: CalendarLike | None,
    ) -> None:
        self.now_us = now_us = to_us(now, "now")
        self.rules = _check_rules(rules)
        policies = _policies(policy)
        if structure is not None and not isinstance(structure, SupportStructure):
            raise InvalidValueError("structure", structure, "a SupportStructure or None")
        events = history if isinstance(history, Sequence) else tuple(history)
        self.history = h = _History(events, now_us)
        self.structure = structure
        business: _Clockwork
        if calendar is not None:
            business, self.timezone = calendar, calendar.timezone
        elif policies:
            first = policies[0]
            cal: CalendarLike = first.calendar
            if first.use_customer_calendar and customer_calendar is not None:
                cal = customer_calendar
            business, self.timezone = cal, cal.timezone
        else:
            business, self.timezone = _WALL, "UTC"
        self.points: list[_Point] = []
        if not h.events:  # the ticket does not exist yet at ``now``
            return
        statuses: dict[int, tuple[SlaStatus, tuple[TimelineEntry, ...]]] = {}
        sla_cache: dict[tuple[int, str], list[_Clock]] = {}
        for index, rule in enumerate(self.rules):
            trigger = rule.trigger
            kind = trigger.kind
            cal_used: _Clockwork = business if trigger.business else _WALL
            if kind is TriggerKind.REASSIGNMENTS:
                self._reassignments(index, rule)
                continue
            if kind is TriggerKind.SLA_PERCENT or kind is TriggerKind.SLA_DUE:
                chosen = _policy_for(policies, rule, index)
                metric = str(trigger.metric)
                key = (policies.index(chosen), metric)
                if key not in sla_cache:
                    if key[0] not in statuses:
                        status = evaluate(events, chosen, now, customer_calendar=customer_calendar)
                        statuses[key[0]] = (status, status.timeline)
                    sla_cache[key] = _sla_clocks(*statuses[key[0]], metric)
                clocks = sla_cache[key]
                sla_cal: CalendarLike = chosen.calendar
                if chosen.use_customer_calendar and customer_calendar is not None:
                    sla_cal = customer_calendar
                cal_used = sla_cal
            elif kind is TriggerKind.NO_REPLY:
                clocks = _waits(h, now_us)
            elif kind is TriggerKind.TIME_IN_STATE:
                clocks = _visits(h, rule, now_us)
            else:
                clocks = _requests(h, rule, now_us)
            for clock in clocks:
                for level_index, level in enumerate(rule.levels, start=1):
                    needed = self._needed(rule, level, clock)
                    reached = _reach(cal_used, clock, needed, now_us)
                    if reached is None:
                        continue
                    at, due = reached
                    reason = self._reason(rule, level, clock)
                    self.points.append(
                        _Point(index, rule, level_index, level, clock.cycle, at, due, reason)
                    )

    @staticmethod
    def _needed(rule: EscalationRule, level: EscalationLevel, clock: _Clock) -> int:
        if level.percent is not None:
            return -(-clock.target_us * level.percent // 100)
        if level.offset is not None:
            return clock.target_us + td_to_us(level.offset)
        return level.threshold  # microseconds of ``after``

    @staticmethod
    def _reason(rule: EscalationRule, level: EscalationLevel, clock: _Clock) -> str:
        kind = rule.trigger.kind
        if kind is TriggerKind.SLA_PERCENT:
            return (
                f"{rule.trigger.metric} reached {level.percent}% of its "
                f"{_show(clock.target_us)} target (cycle {clock.cycle})"
            )
        if kind is TriggerKind.SLA_DUE:
            offset = level.threshold  # microseconds of ``offset``
            where = (
                "at its due instant"
                if offset == 0
                else f"{_show(abs(offset))} {'before' if offset < 0 else 'after'} its due instant"
            )
            return f"{rule.trigger.metric} {where} (target {_show(clock.target_us)})"
        after_us = level.threshold  # microseconds of ``after``
        after = _show(after_us)
        if kind is TriggerKind.NO_REPLY:
            return f"no public reply to the requester for {after}"
        if kind is TriggerKind.TIME_IN_STATE:
            return f"in state {clock.detail} for {after}"
        return clock.detail if after_us == 0 else f"{clock.detail} (still open after {after})"

    def _reassignments(self, index: int, rule: EscalationRule) -> None:
        instants = _reassignment_instants(self.history, rule.trigger.bounces_only)
        what = "bounced back" if rule.trigger.bounces_only else "reassigned"
        for level_index, level in enumerate(rule.levels, start=1):
            count = level.count if level.count is not None else 0
            if len(instants) > count:
                times = "once" if count == 0 else f"{count + 1} times"
                reason = f"{what} {times} (more than {count})"
                self.points.append(
                    _Point(index, rule, level_index, level, 1, instants[count], True, reason)
                )

    def _line(self, ticket: Ticket) -> int | None:
        if ticket.support_line is not None or self.structure is None:
            return ticket.support_line
        return self.structure.line_of(ticket.group)

    def watched(self, point: _Point, at_us: int) -> bool:
        """Whether the point's rule and level watch the ticket as of ``at_us``.

        Never a closed or cancelled ticket.
        """
        h = self.history
        index = max(bisect_right(h.at, at_us) - 1, 0)
        if h.states[index][1] in FINAL_CATEGORIES:
            return False
        rule, level = point.rule.conditions, point.level.conditions
        if rule == _ANY_TICKET and level == _ANY_TICKET:  # no need to fold the ticket
            return True
        ticket = h.ticket_after(index)
        line = self._line(ticket)
        return rule.matches(ticket, line=line) and level.matches(ticket, line=line)

    def due(self) -> tuple[DueEscalation, ...]:
        h = self.history
        found = [
            p
            for p in self.points
            if p.due
            and (p.rule.name, p.level_index, p.cycle) not in h.fired
            and self.watched(p, p.at_us)
        ]
        found.sort(key=lambda p: (p.at_us, p.rule_index, p.level_index, p.cycle))
        return tuple(
            DueEscalation(
                rule=p.rule.name,
                level=p.level_index,
                cycle=p.cycle,
                due_us=p.at_us,
                reason=p.reason,
                actions=p.level.actions,
                timezone=self.timezone,
                name=p.level.name,
            )
            for p in found
        )

    def wakeup(self) -> int | None:
        best: int | None = None
        for p in self.points:
            if p.due or p.at_us <= self.now_us:
                continue
            if (p.rule.name, p.level_index, p.cycle) in self.history.fired:
                continue
            if not self.watched(p, self.now_us):
                continue
            best = p.at_us if best is None else min(best, p.at_us)
        return best


def due_escalations(
    history: Sequence[Event] | Iterable[Event],
    rules: Iterable[EscalationRule],
    now: datetime,
    *,
    policy: SlaPolicy | Sequence[SlaPolicy] | None = None,
    structure: SupportStructure | None = None,
    calendar: CalendarLike | None = None,
    customer_calendar: CalendarLike | None = None,
) -> tuple[DueEscalation, ...]:
    """The levels due at ``now``, in the order they were reached: a pure function.

    A level is due when its rule's clock reached the level's threshold at or
    before ``now``, the rule's conditions held on the ticket at that instant
    (and the ticket was not closed or cancelled), and the history records no
    :class:`~itsm_core.escalation.Escalated` event for the same rule, level
    and cycle. Levels passed while nobody evaluated are all due at the next
    evaluation, in order. Events after ``now`` are ignored.

    ``policy`` (one or several) serves the SLA triggers; durations of the
    other triggers count on ``calendar``, else on the first policy's calendar,
    else in wall-clock time. ``structure`` gives the line of a group when the
    ticket records none.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import Trigger
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> history = [TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...            state="new", state_category="new", title="No mail", requester="ann")]
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(),
    ...     levels=EscalationLevel(after=timedelta(hours=2), actions=Action.notify(
    ...         roles="manager")))
    >>> due_escalations(history, [rule], at + timedelta(hours=1))
    ()
    >>> [d.reason for d in due_escalations(history, [rule], at + timedelta(hours=3))]
    ['no public reply to the requester for 2:00:00']
    """
    plan = _Plan(
        history,
        rules,
        now,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
    )
    return plan.due()


def next_wakeup(
    history: Sequence[Event] | Iterable[Event],
    rules: Iterable[EscalationRule],
    now: datetime,
    *,
    policy: SlaPolicy | Sequence[SlaPolicy] | None = None,
    structure: SupportStructure | None = None,
    calendar: CalendarLike | None = None,
    customer_calendar: CalendarLike | None = None,
) -> pendulum.DateTime | None:
    """The next instant after ``now`` at which a level becomes due, if no event comes first.

    Running clocks are projected forward; paused or stopped ones wait for an
    event, and so do reassignment counts and requests not yet made, so call
    it again after every new event. Only rules whose conditions hold on the
    ticket as of ``now`` count. ``None`` when nothing is ahead.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import Trigger
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> history = [TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...            state="new", state_category="new", title="No mail", requester="ann")]
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(),
    ...     levels=EscalationLevel(after=timedelta(hours=2), actions=Action.notify(
    ...         roles="manager")))
    >>> print(next_wakeup(history, [rule], at))
    2026-03-02 11:00:00+00:00
    """
    plan = _Plan(
        history,
        rules,
        now,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
    )
    best = plan.wakeup()
    return None if best is None else from_us(best, plan.timezone)


# ---------------------------------------------------------------------------- applying


def request_escalation(
    ticket: Ticket, *, kind: str, actor: str, at: datetime, reason: str = ""
) -> EscalationRequested:
    """The event recording that ``actor`` asked for an escalation of ``kind`` ("manager"...).

    The host appends it to the history; a ``request`` trigger reads it.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t = Ticket(id="INC-1", type="incident", state="new", state_category="new",
    ...            title="t", requester="ann", opened_at=at, updated_at=at)
    >>> e = request_escalation(t, kind="manager", actor="ann", at=at, reason="third call")
    >>> e.kind, e.by_requester
    ('manager', True)
    """
    if not isinstance(ticket, Ticket):
        raise InvalidValueError("ticket", ticket, "a Ticket")
    if not isinstance(kind, str) or not kind.strip():
        raise InvalidValueError("kind", kind, "a non-empty request kind such as 'manager'")
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidValueError("actor", actor, "a non-empty principal name")
    if not isinstance(reason, str):
        raise InvalidValueError("reason", reason, "a string")
    if to_us(at, "at") < to_us(ticket.updated_at, "ticket.updated_at"):
        raise InvalidValueError(
            "at", at, f"an instant at or after the ticket's last change {ticket.updated_at}"
        )
    if ticket.is_final:
        raise InvalidValueError("ticket.state", ticket.state, "a ticket that is not final")
    return EscalationRequested(
        ticket_id=ticket.id,
        actor=actor,
        at=at,
        kind=kind,
        by_requester=actor == ticket.requester,
        reason=reason,
    )


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


class _Applier:
    """Turns due levels into events, one action at a time, on a working ticket."""

    def __init__(
        self,
        history: Sequence[Event],
        lifecycle: Lifecycle | Lifecycles,
        structure: SupportStructure | None,
        actor: str,
        at: datetime,
        authorizer: Authorizer | None,
    ) -> None:
        self.authorizer = authorizer
        self.ticket = fold_events(history)
        self.lifecycle = lifecycle
        self.structure = structure
        self.actor = actor
        self.at = at
        self.flagged = any(isinstance(e, MajorCandidateFlagged) for e in history)

    def _lifecycle(self) -> Lifecycle:
        if isinstance(self.lifecycle, Lifecycles):
            return self.lifecycle[self.ticket.type]
        return self.lifecycle

    def resolve(self, action: Action) -> tuple[list[str], list[str]]:
        """The people an action names, and the roles that named nobody."""
        t = self.ticket
        s = self.structure
        people: list[str] = []
        unresolved: list[str] = []
        for role in action.roles:
            found: list[str] = []
            if role == "requester":
                found = [t.requester]
            elif role == "assignee":
                found = [t.assignee] if t.assignee is not None else []
            elif role == "watchers":
                found = list(t.watchers)
            elif s is not None and role == "manager":
                manager = s.manager_of(t.group)
                found = [manager] if manager is not None else []
            elif s is not None and t.group in s:
                group = s.group(str(t.group))
                if role == "group":
                    found = list(group.members)
                elif group.supervisor is not None:
                    found = [group.supervisor]
            if not found:
                unresolved.append(role)
            people += found
        for name in action.groups:
            if s is None:
                raise InvalidValueError(
                    "structure", None, f"a SupportStructure to resolve {name!r}"
                )
            people += s.group(name).members
        people += action.people
        return list(_unique(people)), unresolved

    def command(self, command: TicketCommand) -> list[Event]:
        ticket, events = self._lifecycle().apply(
            self.ticket, command, actor=self.actor, at=self.at, authorizer=self.authorizer
        )
        self.ticket = ticket
        return list(events)

    def reassign(self, action: Action, reason: str) -> tuple[list[Event], str | None]:
        t = self.ticket
        s = self.structure
        if s is None:
            return [], f"{action.describe()}: no support structure given"
        if action.to == "supervisor":
            assignee = s.supervisor_of(t.group)
            if assignee is None:
                return [], f"{action.describe()}: the group {t.group!r} has no supervisor"
            group, line = t.group, t.support_line
        else:
            target = (
                s.group(str(action.group))
                if action.to == "group"
                else s.next_line_for(t, skill=action.skill)
            )
            if target is None:
                return [], f"{action.describe()}: no line above {t.group!r}"
            assignee, group, line = str(target.receiver), target.name, target.line
        if (assignee, group, line) == (t.assignee, t.group, t.support_line):
            return [], f"{action.describe()}: already with {assignee!r}"
        if t.assignee is None:
            return self.command(Assign(assignee=assignee, group=group, support_line=line)), None
        return self.command(
            Reassign(assignee=assignee, group=group, support_line=line, reason=reason)
        ), None

    def raise_priority(self, action: Action, reason: str) -> tuple[list[Event], str | None]:
        t = self.ticket
        if t.major:
            return [], f"{action.describe()}: the ticket is a major incident"
        matrix = self._lifecycle().matrix
        names = [p.name for p in matrix.priorities]
        current = t.effective_priority
        if action.priority is not None:
            wanted = matrix.priority(action.priority)
            if current in names and matrix.priority(str(current)).rank <= wanted.rank:
                return [], f"{action.describe()}: already {current}"
            target = wanted.name
        else:
            if current not in names:
                return [], f"{action.describe()}: the ticket has no priority to raise"
            index = names.index(str(current))
            target = names[max(index - int(action.by or 1), 0)]
            if target == current:
                return [], f"{action.describe()}: already the most urgent"
        return self.command(OverridePriority(priority=target, reason=reason)), None

    def level(self, due: DueEscalation) -> list[Event]:
        if self.ticket.is_final:
            skipped = ["every action: the ticket is final"]
            action_events: list[Event] = []
        else:
            action_events, skipped = self.actions(due)
        escalated = Escalated(
            ticket_id=self.ticket.id,
            actor=self.actor,
            at=self.at,
            rule=due.rule,
            level=due.level,
            cycle=due.cycle,
            due_at=due.due_at,
            reason=due.reason,
            actions=due.actions,
            skipped=tuple(skipped),
        )
        return [escalated, *action_events]

    def actions(self, due: DueEscalation) -> tuple[list[Event], list[str]]:
        reason = f"escalation {due.rule!r} level {due.level}: {due.reason}"
        tid, actor, at = self.ticket.id, self.actor, self.at
        events: list[Event] = []
        skipped: list[str] = []
        for action in due.actions:
            kind = action.kind
            if kind is ActionKind.NOTIFY:
                people, unresolved = self.resolve(action)
                if not people:
                    skipped.append(f"{action.describe()}: nobody to notify")
                    continue
                events.append(
                    NotificationRequested(
                        ticket_id=tid,
                        actor=actor,
                        at=at,
                        rule=due.rule,
                        level=due.level,
                        recipients=tuple(people),
                        reason=due.reason,
                        roles=action.roles,
                        groups=action.groups,
                        unresolved=tuple(unresolved),
                        message=action.message,
                    )
                )
            elif kind is ActionKind.ADD_WATCHER:
                people, _ = self.resolve(action)
                new = [p for p in people if p not in self.ticket.watchers]
                if not new:
                    skipped.append(f"{action.describe()}: nobody new to add")
                for person in new:
                    events += self.command(Watch(watcher=person))
            elif kind is ActionKind.FLAG_MAJOR_CANDIDATE:
                if self.flagged or self.ticket.major:
                    skipped.append(f"{action.describe()}: already flagged or major")
                    continue
                self.flagged = True
                events.append(
                    MajorCandidateFlagged(ticket_id=tid, actor=actor, at=at, reason=reason)
                )
            else:
                handler = self.reassign if kind is ActionKind.REASSIGN else self.raise_priority
                produced, why = handler(action, reason)
                events += produced
                if why is not None:
                    skipped.append(why)
        return events, skipped


def apply_escalations(
    history: Sequence[Event],
    due: Iterable[DueEscalation],
    *,
    lifecycle: Lifecycle | Lifecycles,
    at: datetime,
    structure: SupportStructure | None = None,
    actor: str = "escalation",
    authorizer: Authorizer | None = None,
) -> tuple[Ticket, tuple[Event, ...]]:
    """Carry out due levels: the ticket after them and the events to append to the history.

    For each level, in order: an :class:`~itsm_core.escalation.Escalated`
    event (which makes the level fire at most once), then the events of its
    actions: :class:`~itsm_core.escalation.NotificationRequested` (the host
    sends it), the lifecycle's events of a reassignment (``Assign`` or
    ``Reassign``), a priority raise (``OverridePriority``) or a new watcher
    (``Watch``), and :class:`~itsm_core.escalation.MajorCandidateFlagged`. Actions that no
    longer apply (no line above, already the most urgent priority, a final
    ticket) do nothing and are listed in the ``Escalated`` event's ``skipped``.
    ``at`` is the evaluation instant (not before the ticket's last change).
    The lifecycle's commands run as ``actor``, checked by ``authorizer`` when
    one is given. Bad input raises and nothing is produced.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.escalation import Action
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.ticket import OpenTicket
    >>> desk = default_lifecycles()
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> _, history = desk.apply(None, OpenTicket(ticket_id="INC-1", type="incident",
    ...     title="t", requester="ann", impact="low", urgency="low"), actor="ann", at=at)
    >>> due = DueEscalation(rule="slow", level=1, cycle=1, due_us=0, reason="too slow",
    ...                     actions=(Action.raise_priority(),), timezone="UTC")
    >>> ticket, events = apply_escalations(history, [due], lifecycle=desk, at=at)
    >>> ticket.effective_priority, [type(e).__name__ for e in events]
    ('P4', ['Escalated', 'PriorityChanged'])
    """
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidValueError("actor", actor, "a non-empty principal name")
    to_us(at, "at")
    events = list(history)
    applier = _Applier(events, lifecycle, structure, actor, at, authorizer)
    if at < applier.ticket.updated_at:
        raise InvalidValueError(
            "at", at, f"an instant at or after the ticket's last change {applier.ticket.updated_at}"
        )
    start = applier.ticket
    produced: list[Event] = []
    for i, item in enumerate(due):
        if not isinstance(item, DueEscalation):
            raise InvalidValueError(f"due[{i}]", item, "a DueEscalation")
        produced += applier.level(item)
    return fold_events(produced, start) if produced else start, tuple(produced)


def escalate(
    history: Sequence[Event],
    rules: Iterable[EscalationRule],
    now: datetime,
    *,
    lifecycle: Lifecycle | Lifecycles,
    policy: SlaPolicy | Sequence[SlaPolicy] | None = None,
    structure: SupportStructure | None = None,
    calendar: CalendarLike | None = None,
    customer_calendar: CalendarLike | None = None,
    actor: str = "escalation",
    authorizer: Authorizer | None = None,
) -> tuple[Ticket, tuple[Event, ...], pendulum.DateTime | None]:
    """:func:`due_escalations` then :func:`apply_escalations` at ``now``, and the next wake-up.

    Returns the ticket, the events to append and the instant to call again
    (``None``: only a new event can make anything due).

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import Action, EscalationLevel, EscalationRule, Trigger
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.ticket import OpenTicket
    >>> desk = default_lifecycles()
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> _, history = desk.apply(None, OpenTicket(ticket_id="INC-1", type="incident",
    ...     title="t", requester="ann"), actor="ann", at=at)
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(), levels=(
    ...     EscalationLevel(after=timedelta(hours=1), actions=Action.notify(people="sam")),
    ...     EscalationLevel(after=timedelta(hours=3), actions=Action.notify(people="mona"))))
    >>> ticket, events, wake = escalate(history, [rule], at + timedelta(hours=2), lifecycle=desk)
    >>> [type(e).__name__ for e in events], str(wake)
    (['Escalated', 'NotificationRequested'], '2026-03-02 12:00:00+00:00')
    """
    rules = _check_rules(rules)
    plan = _Plan(
        history,
        rules,
        now,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
    )
    ticket, events = apply_escalations(
        history,
        plan.due(),
        lifecycle=lifecycle,
        at=now,
        structure=structure,
        actor=actor,
        authorizer=authorizer,
    )
    wake = next_wakeup(
        [*history, *events],
        rules,
        now,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
    )
    return ticket, events, wake
