"""A slow, obviously correct reference for escalation: which levels are due, and when next.

It reads the rules of :mod:`itsm_core.escalation` literally and shares no code
with its evaluation. The history is cut into the intervals between the
instants at which something happened; after each instant every clock of every
rule is either running or not (the SLA clocks as :func:`oracle_evaluate`
reports them at that instant, the other clocks from their definitions, one
event at a time). The business time of each running interval is measured with
the calendar oracle, and a level is reached at the first instant at which the
time counted equals its threshold while its clock runs (a threshold of zero or
less: when the clock starts). Conditions are checked on the ticket folded from
the events up to that instant.

Instants are epoch microseconds. Property tests check that
:func:`itsm_core.escalation.due_escalations` and
:func:`itsm_core.escalation.next_wakeup` give exactly the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import attrs

from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar, CompositeCalendar
from itsm_core.errors import InvalidValueError, NeverOpenError
from itsm_core.escalation import (
    Escalated,
    EscalationConditions,
    EscalationLevel,
    EscalationRequested,
    EscalationRule,
    SupportStructure,
    TriggerKind,
)
from itsm_core.sla import BusinessDays, SlaPolicy
from itsm_core.testing._calendar_oracle import oracle_add, oracle_elapsed
from itsm_core.testing._sla_oracle import oracle_evaluate
from itsm_core.ticket import (
    Assigned,
    CommentAdded,
    Event,
    Reassigned,
    StateChanged,
    Ticket,
    TicketOpened,
    fold_events,
)

__all__ = ["OracleDue", "oracle_due_escalations", "oracle_escalations", "oracle_next_wakeup"]

#: A due level as the oracle sees it: ``(rule, level, cycle, due_us)``, levels counted from 1.
OracleDue = tuple[str, int, int, int]

Calendar = BusinessCalendar | CompositeCalendar
# Categories in which the ticket is no longer watched at all, and those that also end
# the wait for a reply and an escalation request.
_GONE = ("closed", "cancelled")
_SETTLED = ("resolved", "closed", "cancelled")
_MICROSECOND = timedelta(microseconds=1)
_ZERO = timedelta(0)


@attrs.define
class _Cycle:
    """One run of a rule's clock: where it starts and whether it runs after each instant."""

    number: int
    start: int
    running: dict[int, bool] = attrs.Factory(dict)  # instant index -> running after it
    target: int = 0


@attrs.define
class _Snapshot:
    """What the ticket looks like after each event."""

    at: int
    state: str
    category: str
    hold: str | None


class _Walk:
    """The events up to ``now`` and everything the rules read from them."""

    def __init__(self, history: Iterable[Event], now_us: int) -> None:
        self.now = now_us
        self.events: list[Event] = []
        for event in history:
            if to_us(event.at) > now_us:
                break
            self.events.append(event)
        self.instants = sorted({to_us(e.at) for e in self.events})
        self.snapshots: list[_Snapshot] = []
        state = category = ""
        hold: str | None = None
        for event in self.events:
            if isinstance(event, TicketOpened):
                state, category, hold = event.state, event.state_category, None
            elif isinstance(event, StateChanged):
                state, category = event.to_state, event.to_category
                hold = event.hold_reason if category == "on_hold" else None
            self.snapshots.append(_Snapshot(to_us(event.at), state, category, hold))
        self.fired = {(e.rule, e.level, e.cycle) for e in self.events if isinstance(e, Escalated)}
        self._tickets: list[Ticket] = []
        self._sla: dict[tuple[int, int], dict[str, list[dict[str, Any]]]] = {}

    def instant_of(self, index: int) -> int:
        """The index in ``instants`` of the instant of event ``index``."""
        return self.instants.index(self.snapshots[index].at)

    def last_event_by(self, at: int) -> int:
        """The index of the last event at or before ``at``."""
        found = 0
        for i, snap in enumerate(self.snapshots):
            if snap.at <= at:
                found = i
        return found

    def ticket_after(self, index: int) -> Ticket:
        """The ticket folded from the events up to event ``index``."""
        while len(self._tickets) <= index:
            done = len(self._tickets)
            previous = self._tickets[-1] if self._tickets else None
            self._tickets.append(fold_events(self.events[done : done + 1], previous))
        return self._tickets[index]

    def ticket_by(self, at: int) -> Ticket:
        """The ticket folded from the events at or before ``at``."""
        return self.ticket_after(self.last_event_by(at))

    def sla(self, policy: SlaPolicy, at: int) -> dict[str, list[dict[str, Any]]]:
        """The SLA oracle's cycles of ``policy`` as of ``at``."""
        key = (id(policy), at)
        if key not in self._sla:
            self._sla[key] = oracle_evaluate(self.events, policy, at)
        return self._sla[key]


def _per_instant(walk: _Walk, cycles: list[_Cycle], active_after: list[set[int]]) -> None:
    """Record, for each instant, whether each cycle runs once all its events happened."""
    for index, active in enumerate(active_after):
        moment = walk.instant_of(index)
        for cycle in cycles:
            if cycle.start <= walk.snapshots[index].at:
                cycle.running[moment] = cycle.number in active


def _wait_cycles(walk: _Walk) -> list[_Cycle]:
    """``no_reply``: waits from opening, a public requester message or a reopening, to a
    public agent reply or to the ticket being resolved (or closed, or cancelled)."""
    cycles: list[_Cycle] = []
    active_after: list[set[int]] = []
    waiting: _Cycle | None = None
    before = ""
    for event, snap in zip(walk.events, walk.snapshots, strict=True):
        settled = snap.category in _SETTLED
        if waiting is not None:
            agent_reply = (
                isinstance(event, CommentAdded) and event.public and not event.by_requester
            )
            if agent_reply or settled:
                waiting = None
        else:
            opens = isinstance(event, TicketOpened)
            asks = isinstance(event, CommentAdded) and event.public and event.by_requester
            reopened = before == "resolved"
            if not settled and (opens or asks or reopened):
                waiting = _Cycle(len(cycles) + 1, snap.at)
                cycles.append(waiting)
        active_after.append(set() if waiting is None else {waiting.number})
        before = snap.category
    _per_instant(walk, cycles, active_after)
    return cycles


def _watches(rule: EscalationRule, snap: _Snapshot) -> bool:
    trigger = rule.trigger
    if snap.category in _GONE:
        return False
    if trigger.states and snap.state not in trigger.states:
        return False
    if trigger.categories and snap.category not in trigger.categories:
        return False
    return not trigger.hold_reasons or snap.hold in trigger.hold_reasons


def _visit_cycles(walk: _Walk, rule: EscalationRule) -> list[_Cycle]:
    """``time_in_state``: each unbroken stay in the watched states is one visit."""
    cycles: list[_Cycle] = []
    active_after: list[set[int]] = []
    inside = False
    for snap in walk.snapshots:
        now_inside = _watches(rule, snap)
        if now_inside and not inside:
            cycles.append(_Cycle(len(cycles) + 1, snap.at))
        inside = now_inside
        active_after.append({cycles[-1].number} if inside else set())
    _per_instant(walk, cycles, active_after)
    return cycles


def _request_cycles(walk: _Walk, rule: EscalationRule) -> list[_Cycle]:
    """``request``: each matching request runs until the ticket is resolved."""
    wanted = rule.trigger.requests
    cycles: list[_Cycle] = []
    open_requests: set[int] = set()
    active_after: list[set[int]] = []
    for event, snap in zip(walk.events, walk.snapshots, strict=True):
        if isinstance(event, EscalationRequested) and (not wanted or event.kind in wanted):
            cycles.append(_Cycle(len(cycles) + 1, snap.at))
            open_requests.add(len(cycles))
        if snap.category in _SETTLED:
            open_requests.clear()
        active_after.append(set(open_requests))
    _per_instant(walk, cycles, active_after)
    return cycles


def _sla_cycles(walk: _Walk, policy: SlaPolicy, metric: str) -> list[_Cycle]:
    """The metric's cycles as the SLA oracle reports them after each instant."""
    final = walk.sla(policy, walk.now)[metric]
    cycles = [_Cycle(c["number"], c["started_us"], target=c["target_us"]) for c in final]
    for moment, at in enumerate(walk.instants):
        started = [(c, f) for c, f in zip(cycles, final, strict=True) if c.start <= at]
        if not any(f["ended_us"] is None or at < f["ended_us"] for _, f in started):
            for cycle, _ in started:  # every cycle so far has ended: none runs
                cycle.running[moment] = False
            continue
        then = walk.sla(policy, at)[metric]
        for cycle, _ in started:
            cycle.running[moment] = bool(then[cycle.number - 1]["running"])
    return cycles


def _elapsed(calendar: Calendar | None, start: int, end: int) -> int:
    return end - start if calendar is None else oracle_elapsed(calendar, start, end)


def _add(calendar: Calendar | None, start: int, duration: int) -> int:
    return start + duration if calendar is None else oracle_add(calendar, start, duration)


def _reach(walk: _Walk, calendar: Calendar | None, cycle: _Cycle, needed: int) -> int | None:
    """The instant ``cycle`` has counted ``needed`` while running (may be after ``now``).

    ``None`` when it never does: it stopped short, or the calendar never opens.
    """
    if needed <= 0:
        return cycle.start
    counted = 0
    bounds = [*walk.instants, walk.now]
    for moment in sorted(cycle.running):
        if not cycle.running[moment]:
            continue
        begin, end = bounds[moment], bounds[moment + 1]
        last = moment == len(walk.instants) - 1
        remaining = needed - counted
        if remaining <= 0:
            return begin
        try:
            if last:  # runs on past ``now`` until something happens
                return _add(calendar, begin, remaining)
            length = _elapsed(calendar, begin, end)
            if length >= remaining:
                at = _add(calendar, begin, remaining)
                if at < end:
                    return at
        except NeverOpenError:
            return None
        counted += length
    return None


def _holder(group: str | None, person: str | None) -> str:
    return f"group {group}" if group is not None else f"person {person}"


def _reassignment_instants(walk: _Walk, bounces_only: bool) -> list[int]:
    """When the ticket's reassignment count went up (``bounces_only``: when it moved back
    to a group, or a person for tickets without groups, that held it before)."""
    instants: list[int] = []
    if not bounces_only:
        count = 0
        for i, snap in enumerate(walk.snapshots):
            folded = walk.ticket_after(i).reassignments
            if folded > count:
                instants.append(snap.at)
            count = folded
        return instants
    held: list[str] = []
    for event, snap in zip(walk.events, walk.snapshots, strict=True):
        if isinstance(event, Assigned):
            held.append(_holder(event.group, event.assignee))
        elif isinstance(event, Reassigned):
            before = _holder(event.from_group, event.from_assignee)
            after = _holder(event.group, event.assignee)
            if after != before and after in held:
                instants.append(snap.at)
            held += [before, after]
    return instants


def _line(ticket: Ticket, structure: SupportStructure | None) -> int | None:
    if ticket.support_line is not None or structure is None:
        return ticket.support_line
    for group in structure.groups:
        if group.name == ticket.group:
            return group.line
    return None


def _holds(conditions: EscalationConditions, ticket: Ticket, line: int | None) -> bool:
    checks: list[tuple[tuple[Any, ...], Any]] = [
        (conditions.types, ticket.type),
        (conditions.priorities, ticket.effective_priority),
        (conditions.categories, ticket.category),
        (conditions.services, ticket.service),
        (conditions.groups, ticket.group),
        (conditions.lines, line),
    ]
    if any(allowed and value not in allowed for allowed, value in checks):
        return False
    return conditions.major is None or ticket.major == conditions.major


def _watched(
    walk: _Walk,
    rule: EscalationRule,
    level: EscalationLevel,
    at: int,
    structure: SupportStructure | None,
) -> bool:
    if walk.snapshots[walk.last_event_by(at)].category in _GONE:
        return False
    ticket = walk.ticket_by(at)
    line = _line(ticket, structure)
    return _holds(rule.conditions, ticket, line) and _holds(level.conditions, ticket, line)


def _as_policies(policy: SlaPolicy | Sequence[SlaPolicy] | None) -> list[SlaPolicy]:
    if policy is None:
        return []
    if isinstance(policy, SlaPolicy):
        return [policy]
    return list(policy)


def _for_customer(policy: SlaPolicy, customer_calendar: Calendar | None) -> SlaPolicy:
    if policy.use_customer_calendar and customer_calendar is not None:
        return attrs.evolve(policy, calendar=customer_calendar)
    return policy


def _sla_policy(policies: list[SlaPolicy], rule: EscalationRule) -> SlaPolicy:
    trigger = rule.trigger
    for policy in policies:
        if trigger.policy is not None and policy.name != trigger.policy:
            continue
        if any(m.name == trigger.metric for m in policy.metrics):
            return policy
    raise InvalidValueError(
        f"rule {rule.name!r}.trigger", trigger.metric, "a metric of an SLA policy given"
    )


def _points(
    history: Iterable[Event],
    rules: Sequence[EscalationRule],
    now_us: int,
    policy: SlaPolicy | Sequence[SlaPolicy] | None,
    structure: SupportStructure | None,
    calendar: Calendar | None,
    customer_calendar: Calendar | None,
) -> tuple[_Walk, list[tuple[int, int, int, int, int]]]:
    """Every level of every cycle with the instant it is reached: ``(at, rule index,
    level, cycle, is it after now)`` -- a level that stopped short is not listed."""
    walk = _Walk(history, now_us)
    policies = [_for_customer(p, customer_calendar) for p in _as_policies(policy)]
    if calendar is not None:
        durations: Calendar | None = calendar
    else:
        durations = policies[0].calendar if policies else None
    found: list[tuple[int, int, int, int, int]] = []
    if not walk.events:
        return walk, found
    sla_seen: dict[tuple[str, str], list[_Cycle]] = {}
    for r, rule in enumerate(rules):
        kind = rule.trigger.kind
        if kind is TriggerKind.REASSIGNMENTS:
            instants = _reassignment_instants(walk, rule.trigger.bounces_only)
            for n, level in enumerate(rule.levels, start=1):
                if level.count is not None and level.count < len(instants):
                    found.append((instants[level.count], r, n, 1, 0))
            continue
        used = durations if rule.trigger.business else None
        if kind in (TriggerKind.SLA_PERCENT, TriggerKind.SLA_DUE):
            chosen = _sla_policy(policies, rule)
            key = (chosen.name, str(rule.trigger.metric))
            if key not in sla_seen:
                sla_seen[key] = _sla_cycles(walk, chosen, key[1])
            cycles, used = sla_seen[key], chosen.calendar
        elif kind is TriggerKind.NO_REPLY:
            cycles = _wait_cycles(walk)
        elif kind is TriggerKind.TIME_IN_STATE:
            cycles = _visit_cycles(walk, rule)
        else:
            cycles = _request_cycles(walk, rule)
        for cycle in cycles:
            for n, level in enumerate(rule.levels, start=1):
                if level.percent is not None:
                    # the first whole microsecond at which counted * 100 >= target * percent
                    needed = (cycle.target * level.percent + 99) // 100
                elif isinstance(level.offset, BusinessDays):
                    # days from the due instant, measured in the business time counted
                    due = _reach(walk, used, cycle, cycle.target)
                    if due is None or used is None:
                        continue
                    needed = cycle.target + level.offset.business_us(used, due)
                elif level.offset is not None:
                    needed = cycle.target + level.offset // _MICROSECOND
                else:
                    needed = (level.after or _ZERO) // _MICROSECOND
                at = _reach(walk, used, cycle, needed)
                if at is not None:
                    found.append((at, r, n, cycle.number, int(at > now_us)))
    return walk, found


def oracle_escalations(
    history: Iterable[Event],
    rules: Iterable[EscalationRule],
    now_us: int,
    *,
    policy: SlaPolicy | Sequence[SlaPolicy] | None = None,
    structure: SupportStructure | None = None,
    calendar: Calendar | None = None,
    customer_calendar: Calendar | None = None,
) -> tuple[list[OracleDue], int | None]:
    """:func:`oracle_due_escalations` and :func:`oracle_next_wakeup` from one walk.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import Action, Trigger
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> history = [TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...            state="new", state_category="new", title="t", requester="ann")]
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(), levels=(
    ...     EscalationLevel(after=timedelta(0), actions=Action.notify(people="sam")),
    ...     EscalationLevel(after=timedelta(hours=5), actions=Action.notify(people="mona"))))
    >>> due, wake = oracle_escalations(history, [rule], to_us(at))
    >>> due == [("unanswered", 1, 1, to_us(at))], wake - to_us(at)
    (True, 18000000000)
    """
    chosen = list(rules)
    walk, found = _points(history, chosen, now_us, policy, structure, calendar, customer_calendar)
    due: list[tuple[int, int, int, int]] = []
    ahead: list[int] = []
    for at, r, n, cycle, later in found:
        rule = chosen[r]
        if (rule.name, n, cycle) in walk.fired:
            continue
        # a level ahead counts when its rule watches the ticket as it is now
        if _watched(walk, rule, rule.levels[n - 1], now_us if later else at, structure):
            if later:
                ahead.append(at)
            else:
                due.append((at, r, n, cycle))
    due.sort()
    return [(chosen[r].name, n, cycle, at) for at, r, n, cycle in due], min(ahead, default=None)


def oracle_due_escalations(
    history: Iterable[Event],
    rules: Iterable[EscalationRule],
    now_us: int,
    *,
    policy: SlaPolicy | Sequence[SlaPolicy] | None = None,
    structure: SupportStructure | None = None,
    calendar: Calendar | None = None,
    customer_calendar: Calendar | None = None,
) -> list[OracleDue]:
    """The levels due at ``now_us``, in the order they were reached, as ``OracleDue`` tuples.

    Same arguments and rules as :func:`itsm_core.escalation.due_escalations`:
    reached at or before ``now_us``, watched on the ticket as of that instant
    (never a closed or cancelled one), and not recorded as fired. Levels
    reached at the same instant come in the order of the rules, then levels,
    then cycles.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import Action, Trigger
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> history = [TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...            state="new", state_category="new", title="t", requester="ann")]
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(), levels=(
    ...     EscalationLevel(after=timedelta(hours=1), actions=Action.notify(people="sam")),
    ...     EscalationLevel(after=timedelta(hours=5), actions=Action.notify(people="mona"))))
    >>> start = to_us(at)
    >>> oracle_due_escalations(history, [rule], start + 3_600_000_000) == [
    ...     ("unanswered", 1, 1, start + 3_600_000_000)]
    True
    """
    return oracle_escalations(
        history,
        rules,
        now_us,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
    )[0]


def oracle_next_wakeup(
    history: Iterable[Event],
    rules: Iterable[EscalationRule],
    now_us: int,
    *,
    policy: SlaPolicy | Sequence[SlaPolicy] | None = None,
    structure: SupportStructure | None = None,
    calendar: Calendar | None = None,
    customer_calendar: Calendar | None = None,
) -> int | None:
    """The first instant after ``now_us`` at which a level is reached if nothing happens.

    Only levels not recorded as fired and watched on the ticket as of
    ``now_us`` count; ``None`` when none is ahead.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import Action, Trigger
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> history = [TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...            state="new", state_category="new", title="t", requester="ann")]
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(), levels=(
    ...     EscalationLevel(after=timedelta(hours=1), actions=Action.notify(people="sam")),
    ...     EscalationLevel(after=timedelta(hours=5), actions=Action.notify(people="mona"))))
    >>> start = to_us(at)
    >>> oracle_next_wakeup(history, [rule], start + 3_600_000_000) - start
    18000000000
    """
    return oracle_escalations(
        history,
        rules,
        now_us,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
    )[1]
