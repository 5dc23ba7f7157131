"""Pure evaluation of escalation rules over a ticket's history: what is due and when next."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs
import pendulum

from itsm_core._time import from_us, td_to_us, to_us, us_to_td
from itsm_core.calendar import BusinessCalendar, CalendarLike
from itsm_core.errors import InvalidValueError, NeverOpenError
from itsm_core.escalation._events import Escalated, EscalationRequested
from itsm_core.escalation._rules import (
    Action,
    EscalationConditions,
    EscalationLevel,
    EscalationRule,
    TriggerKind,
)
from itsm_core.escalation._structure import SupportStructure
from itsm_core.lifecycle import History
from itsm_core.sla import (
    BusinessDays,
    SlaPolicy,
    SlaStatus,
    clock_calendar,
    evaluate,
    reach_us,
    select_policy,
)
from itsm_core.ticket import (
    FINAL_CATEGORIES,
    Assigned,
    CommentAdded,
    Event,
    GroupAssigned,
    Reassigned,
    Ticket,
    TicketOpened,
)

__all__ = [
    "DueEscalation",
    "EscalationPlan",
    "due_escalations",
    "next_wakeup",
    "plan_escalations",
]

_DONE = frozenset({"resolved", *FINAL_CATEGORIES})
_ANY_TICKET = EscalationConditions()
#: Wall-clock time: every microsecond counts.
_WALL: CalendarLike = BusinessCalendar.always_open("UTC")


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


@attrs.frozen(kw_only=True)
class EscalationPlan:
    """What escalation says about one ticket at one instant: the levels due, and when next.

    ``wakeup`` is the next instant after ``now`` at which a level becomes due
    if no event comes first (``None``: only a new event can make one due).
    """

    due: tuple[DueEscalation, ...]
    wakeup: pendulum.DateTime | None


# ------------------------------------------------------------------------------ clocks


@attrs.frozen
class _Clock:
    """One cycle of a rule's clock: when it ran (segments) and whether it runs now."""

    cycle: int
    segments: tuple[tuple[int, int], ...]
    running: bool
    target_us: int = 0
    detail: str = ""


def _reach(cal: CalendarLike, clock: _Clock, needed: int, now_us: int) -> tuple[int, bool] | None:
    """When ``clock`` reaches ``needed`` business time, and whether that is by now."""
    at = reach_us(cal, clock.segments, needed, open_end=clock.running, while_running=True)
    return None if at is None else (at, at <= now_us)


def _needed(cal: CalendarLike, level: EscalationLevel, clock: _Clock) -> int | None:
    """The business time ``clock`` must count for ``level`` to be reached (``None``: never)."""
    if level.percent is not None:
        return -(-clock.target_us * level.percent // 100)
    if isinstance(level.offset, BusinessDays):
        # GLPI's levels in days: the instant so many business days from the due instant
        # (as the clock projects it), measured in the business time the clock counts.
        due = reach_us(cal, clock.segments, clock.target_us, open_end=clock.running)
        if due is None:
            return None
        try:
            return clock.target_us + level.offset.business_us(cal, due)
        except (NeverOpenError, InvalidValueError):
            return None
    if level.offset is not None:
        return clock.target_us + td_to_us(level.offset)
    return level.threshold  # microseconds of ``after``


def _sla_clocks(status: SlaStatus, metric: str) -> list[_Clock]:
    """The cycles of ``metric`` with the running segments the SLA fold recorded."""
    return [
        _Clock(cycle.number, cycle.segments_us, cycle.running, cycle.target_us)
        for cycle in status.clock(metric).cycles
        if cycle.segments_us and not cycle.hidden  # hidden: counting, deadline not shown
    ]


def _waits(h: History, now_us: int) -> list[_Clock]:
    """The waits for a public agent reply: from opening, a requester message or a reopening."""
    clocks: list[_Clock] = []
    start: int | None = None
    previous = ""
    for event, at, (_, category, _) in zip(h.events, h.instants_us, h.states, strict=True):
        if at > now_us:
            break
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


def _visits(h: History, rule: EscalationRule, now_us: int) -> list[_Clock]:
    """The visits of the states a ``time_in_state`` trigger watches."""
    trigger = rule.trigger
    clocks: list[_Clock] = []
    start: int | None = None
    visited = ""
    for at, (state, category, hold) in zip(h.instants_us, h.states, strict=True):
        if at > now_us:
            break
        inside = trigger.watches(state, category, hold) and category not in FINAL_CATEGORIES
        if start is not None and not inside:
            clocks.append(_Clock(len(clocks) + 1, ((start, at),), False, detail=visited))
            start = None
        elif start is None and inside:
            start, visited = at, state
    if start is not None:
        clocks.append(_Clock(len(clocks) + 1, ((start, now_us),), True, detail=visited))
    return clocks


def _requests(h: History, rule: EscalationRule, now_us: int) -> list[_Clock]:
    """Each matching escalation request, running until the ticket is resolved."""
    wanted = rule.trigger.requests
    clocks: list[_Clock] = []
    instants, states = h.instants_us, h.states
    for index, event in enumerate(h.events):
        if instants[index] > now_us:
            break
        if not isinstance(event, EscalationRequested) or (wanted and event.kind not in wanted):
            continue
        end = next(
            (
                at
                for at, s in zip(instants[index:], states[index:], strict=True)
                if s[1] in _DONE and at <= now_us
            ),
            None,
        )
        who = "the requester" if event.by_requester else event.actor
        detail = f"{who} asked for the {event.kind}" + (f": {event.reason}" if event.reason else "")
        segment = ((instants[index], now_us if end is None else end),)
        clocks.append(_Clock(len(clocks) + 1, segment, end is None, detail=detail))
    return clocks


def _holder(group: str | None, assignee: str | None) -> str:
    return f"group:{group}" if group is not None else f"person:{assignee}"


def _reassignment_instants(h: History, bounces_only: bool, now_us: int) -> list[int]:
    """The instants of the reassignments the ticket counts (``counted``), in order.

    A bounce is a move to a group (to a person, for tickets without groups)
    that held the ticket before; a move inside the current group is not one.
    """
    held: set[str] = set()
    counted: list[int] = []
    for event, at in zip(h.events, h.instants_us, strict=True):
        if at > now_us:
            break
        if isinstance(event, Assigned):
            held.add(_holder(event.group, event.assignee))
        elif isinstance(event, Reassigned | GroupAssigned):
            # The moves the ticket counts in ``reassignments``, and only those.
            target = _holder(event.group, getattr(event, "assignee", None))
            if event.from_group is not None or event.from_assignee is not None:
                source = _holder(event.from_group, event.from_assignee)
                held.add(source)
            else:
                source = None
            if event.counted and (not bounces_only or (target in held and target != source)):
                counted.append(at)
            held.add(target)
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


def _chosen(
    policies: tuple[SlaPolicy, ...], rule: EscalationRule, index: int, ticket: Ticket
) -> SlaPolicy | None:
    """The policy an SLA trigger reads: the one it names, else the ticket's own.

    The ticket's own policy is chosen by the one rule of the library,
    :func:`~itsm_core.sla.select_policy` (the first policy whose applicability
    covers the ticket); a rule whose metric that policy does not measure has
    no clock for this ticket.
    """
    metric, wanted = rule.trigger.metric, rule.trigger.policy
    if wanted is not None:
        for policy in policies:
            if policy.name == wanted:
                return policy
        known = ", ".join(p.name for p in policies) or "none: no SLA policy given"
        raise InvalidValueError(
            f"rules[{index}].trigger.policy", wanted, f"a policy evaluated ({known})"
        )
    if not any(m.name == metric for p in policies for m in p.metrics):
        known = (
            ", ".join(m.name for p in policies for m in p.metrics) or "none: no SLA policy given"
        )
        raise InvalidValueError(
            f"rules[{index}].trigger.metric", metric, f"an SLA metric ({known})"
        )
    own = select_policy(policies, ticket)
    if own is None or not any(m.name == metric for m in own.metrics):
        return None
    return own


def _show(us: int) -> str:
    return str(us_to_td(us))


class _Plan:
    """Every level of every rule with the instant it is (or will be) reached."""

    def __init__(
        self,
        history: History | Iterable[Event],
        rules: Iterable[EscalationRule],
        now: datetime,
        *,
        policy: SlaPolicy | Sequence[SlaPolicy] | None,
        structure: SupportStructure | None,
        calendar: CalendarLike | None,
        customer_calendar: CalendarLike | None,
        status: SlaStatus | None = None,
    ) -> None:
        self.now_us = now_us = to_us(now, "now")
        self.rules = _check_rules(rules)
        policies = _policies(policy)
        if structure is not None and not isinstance(structure, SupportStructure):
            raise InvalidValueError("structure", structure, "a SupportStructure or None")
        self.history = h = History.of(history, field="history")
        self.structure = structure
        self.points: list[_Point] = []
        count = h.index_at(now_us) + 1
        self.fired = {
            (e.rule, e.level, e.cycle) for e in h.events[:count] if isinstance(e, Escalated)
        }
        business: CalendarLike = _WALL
        self.timezone = "UTC"
        if calendar is not None:
            business, self.timezone = calendar, calendar.timezone
        elif policies:
            business = clock_calendar(policies[0], customer_calendar)
            self.timezone = business.timezone
        if not count:  # the ticket does not exist yet at ``now``
            return
        ticket = h.ticket_after(count - 1)
        statuses: dict[str, SlaStatus] = {} if status is None else {status.policy: status}
        for index, rule in enumerate(self.rules):
            trigger = rule.trigger
            kind = trigger.kind
            cal_used: CalendarLike = business if trigger.business else _WALL
            if kind is TriggerKind.REASSIGNMENTS:
                self._reassignments(index, rule)
                continue
            if kind is TriggerKind.SLA_PERCENT or kind is TriggerKind.SLA_DUE:
                chosen = _chosen(policies, rule, index, ticket)
                if chosen is None:
                    continue
                if chosen.name not in statuses:
                    statuses[chosen.name] = evaluate(
                        h, chosen, now, customer_calendar=customer_calendar
                    )
                clocks = _sla_clocks(statuses[chosen.name], str(trigger.metric))
                cal_used = clock_calendar(chosen, customer_calendar)
            elif kind is TriggerKind.NO_REPLY:
                clocks = _waits(h, now_us)
            elif kind is TriggerKind.TIME_IN_STATE:
                clocks = _visits(h, rule, now_us)
            else:
                clocks = _requests(h, rule, now_us)
            for clock in clocks:
                for level_index, level in enumerate(rule.levels, start=1):
                    needed = _needed(cal_used, level, clock)
                    reached = None if needed is None else _reach(cal_used, clock, needed, now_us)
                    if reached is not None:
                        at, due = reached
                        reason = self._reason(rule, level, clock)
                        self.points.append(
                            _Point(index, rule, level_index, level, clock.cycle, at, due, reason)
                        )

    @staticmethod
    def _reason(rule: EscalationRule, level: EscalationLevel, clock: _Clock) -> str:
        kind = rule.trigger.kind
        if kind is TriggerKind.SLA_PERCENT:
            return (
                f"{rule.trigger.metric} reached {level.percent}% of its "
                f"{_show(clock.target_us)} target (cycle {clock.cycle})"
            )
        if kind is TriggerKind.SLA_DUE:
            if isinstance(level.offset, BusinessDays):
                days = level.offset.days
                side = "before" if days < 0 else "after"
                where = f"{abs(days)} business days {side} its due instant"
                if level.offset.end_of_day:
                    where = f"the end of the business day {days} business days after its due"
                return f"{rule.trigger.metric} {where} (target {_show(clock.target_us)})"
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
        instants = _reassignment_instants(self.history, rule.trigger.bounces_only, self.now_us)
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
        index = max(h.index_at(at_us), 0)
        if h.states[index][1] in FINAL_CATEGORIES:
            return False
        rule, level = point.rule.conditions, point.level.conditions
        if rule == _ANY_TICKET and level == _ANY_TICKET:  # no need to fold the ticket
            return True
        ticket = h.ticket_after(index)
        line = self._line(ticket)
        return rule.matches(ticket, line=line) and level.matches(ticket, line=line)

    def due(self) -> tuple[DueEscalation, ...]:
        found = [
            p
            for p in self.points
            if p.due
            and (p.rule.name, p.level_index, p.cycle) not in self.fired
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
            if (p.rule.name, p.level_index, p.cycle) in self.fired:
                continue
            if not self.watched(p, self.now_us):
                continue
            best = p.at_us if best is None else min(best, p.at_us)
        return best


def plan_escalations(
    history: History | Iterable[Event],
    rules: Iterable[EscalationRule],
    now: datetime,
    *,
    policy: SlaPolicy | Sequence[SlaPolicy] | None = None,
    structure: SupportStructure | None = None,
    calendar: CalendarLike | None = None,
    customer_calendar: CalendarLike | None = None,
    status: SlaStatus | None = None,
) -> EscalationPlan:
    """The levels due at ``now`` and the next wake-up, from one pass over the history.

    :func:`due_escalations` and :func:`next_wakeup` are its two halves.
    ``status``, when given, is the ticket's SLA status already evaluated at
    ``now`` for one of the policies: it is used instead of evaluating that
    policy again (the desk passes its own, so one call evaluates the SLA
    once).

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import Action, EscalationLevel, EscalationRule, Trigger
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> history = [TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...            state="new", state_category="new", title="No mail", requester="ann")]
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(), levels=(
    ...     EscalationLevel(after=timedelta(hours=1), actions=Action.notify(people="sam")),
    ...     EscalationLevel(after=timedelta(hours=4), actions=Action.notify(people="mona"))))
    >>> plan = plan_escalations(history, [rule], at + timedelta(hours=2))
    >>> [d.key for d in plan.due], str(plan.wakeup)
    ([('unanswered', 1, 1)], '2026-03-02 13:00:00+00:00')
    """
    plan = _Plan(
        history,
        rules,
        now,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
        status=status,
    )
    best = plan.wakeup()
    return EscalationPlan(
        due=plan.due(), wakeup=None if best is None else from_us(best, plan.timezone)
    )


def due_escalations(
    history: History | Iterable[Event],
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

    ``policy`` (one or several) serves the SLA triggers: a trigger reads the
    policy it names, else the ticket's own (the first policy whose
    applicability covers the ticket as of ``now``; see
    :func:`~itsm_core.sla.select_policy`). Durations of the
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
    return plan_escalations(
        history,
        rules,
        now,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
    ).due


def next_wakeup(
    history: History | Iterable[Event],
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
    return plan_escalations(
        history,
        rules,
        now,
        policy=policy,
        structure=structure,
        calendar=calendar,
        customer_calendar=customer_calendar,
    ).wakeup
