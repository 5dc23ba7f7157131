"""The SLA fold specialised once per policy: the fast path behind :func:`evaluate`.

:func:`~itsm_core.sla.evaluate_reference` is the plain fold (a compiled
matcher per condition list, asked per event and metric); this module gives
the same answers faster. Per policy, it keeps a table from an event's *fact*
(kind, state after it, category before and after, hold reason, trigger,
comment flags) to what the fact does to each metric: whether it starts,
stops, pauses, resumes, cancels or resets it, and whether it can move a
running, paused or idle clock at all. There are few distinct facts (dozens
in a real desk), so the conditions are asked once per fact and policy, and
the loop over events reads booleans and visits only the metrics a fact can
move. Results are built as compact rows; the records come on first use.
Policy selection for many tickets reads only the opening and the events that
can change what an :class:`~itsm_core.sla.Applicability` looks at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

import pendulum

from itsm_core._time import from_us, td_to_us, to_us
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError, NeverOpenError
from itsm_core.lifecycle import History
from itsm_core.sla._clock import (
    EVENT_CODES,
    ClockRunner,
    Decision,
    SlaStatus,
    StageChange,
    clock_calendar,
    decision,
    event_code,
    status_of,
)
from itsm_core.sla._compiled import (
    SEEN_GROUP,
    SEEN_OTHER,
    SEEN_PRIORITY,
    Fallback,
    clocks_fold,
    compiled_fold,
)
from itsm_core.sla._durations import BusinessDuration
from itsm_core.sla._policy import (
    Condition,
    Metric,
    SlaPolicy,
)
from itsm_core.ticket import (
    Assigned,
    Event,
    FieldChanged,
    GroupAssigned,
    PriorityChanged,
    Reassigned,
    TicketOpened,
    Unassigned,
    changes_no_field,
)

__all__ = [
    "decisions_of",
    "evaluate",
    "evaluate_many",
    "next_deadline",
    "select_policy_for_history",
]

# (kind, state, category, from_category, hold_reason, trigger, public, by_requester)
_Fact = tuple[str, str, str, str, str | None, str | None, bool | None, bool | None]
# Per fact: every metric's decision, and (metric index, decision) for the metrics it can
# move at all when none waits for a target (most facts move one metric or none).
Decisions = tuple[tuple[Decision, ...], tuple[tuple[int, Decision], ...]]


def _matches(c: Condition, fact: _Fact) -> bool:
    kind, state, category, from_category, hold, trigger, public, by_requester = fact
    return (
        (not c.event or kind in c.event)
        and (not c.state or state in c.state)
        and (not c.category or category in c.category)
        and (not c.from_category or from_category in c.from_category)
        and (not c.hold_reason or hold in c.hold_reason)
        and (not c.trigger or trigger in c.trigger)
        and (c.public is None or public is c.public)
        and (c.by_requester is None or by_requester is c.by_requester)
    )


def _any(conditions: tuple[Condition, ...], fact: _Fact) -> bool:
    return any(_matches(c, fact) for c in conditions)


def _decide(metric: Metric, fact: _Fact) -> Decision:
    pause = _any(metric.pause, fact)
    return decision(
        _any(metric.start, fact),
        _any(metric.stop, fact),
        pause,
        _any(metric.resume, fact) if metric.resume else not pause,
        _any(metric.cancel, fact),
        _any(metric.reset, fact),
        fact[0] == "priority_changed",
    )


class _Spec:
    """What a policy's fold needs, compiled once: per metric constants and the fact table."""

    __slots__ = ("decisions", "metrics", "policy", "targets")

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        self.metrics = policy.metrics
        self.decisions: dict[_Fact, Decisions] = {}
        # Per metric, the business time of each priority's target, when it needs no
        # calendar (a plain business duration); other priorities ask the metric.
        self.targets = tuple(
            {
                name: td_to_us(duration.value)
                for name, duration in m.targets
                if isinstance(duration, BusinessDuration)
            }
            for m in policy.metrics
        )

    def decide(self, fact: _Fact) -> Decisions:
        every = tuple(_decide(m, fact) for m in self.metrics)
        found = (every, tuple((i, d) for i, d in enumerate(every) if d[0] or d[1] or d[2]))
        if len(self.decisions) >= 4096:  # facts carry free-text states and triggers
            self.decisions.clear()
        self.decisions[fact] = found
        return found


# Compiled specs per policy, by identity (hashing a policy walks all its conditions).
_SPECS: dict[int, _Spec] = {}


def _spec(policy: SlaPolicy) -> _Spec:
    spec = _SPECS.get(id(policy))
    if spec is None or spec.policy is not policy:
        if len(_SPECS) >= 256:
            _SPECS.clear()
        spec = _SPECS[id(policy)] = _Spec(policy)
    return spec


def decisions_of(policy: SlaPolicy, facts: Sequence[_Fact]) -> list[dict[str, tuple[bool, ...]]]:
    """Per metric of ``policy``, what each of ``facts`` does: for the batch path.

    Keys ``start``, ``stop``, ``pause``, ``resume``, ``cancel``, ``reset`` (the
    conditions' verdicts, ``resume`` meaning "no pause matches" when the
    metric names no resume condition) and ``priority`` (a priority change);
    each a tuple with one verdict per fact, from the same table
    :func:`evaluate` reads.
    """
    spec = _spec(policy)
    found = [spec.decisions.get(f) or spec.decide(f) for f in facts]
    keys = (("start", 3), ("stop", 4), ("pause", 5), ("resume", 6), ("cancel", 7), ("reset", 8))
    return [
        {
            **{key: tuple(every[i][at] for every, _ in found) for key, at in keys},
            "priority": tuple(f[0] == "priority_changed" for f in facts),
        }
        for i in range(len(policy.metrics))
    ]


_by_instant_and_metric = itemgetter(0, 1)


def evaluate(
    history: History | Iterable[Event],
    policy: SlaPolicy,
    now: datetime,
    *,
    customer_calendar: CalendarLike | None = None,
) -> SlaStatus:
    """The clocks of ``policy`` over a ticket's history, as of ``now``.

    A pure fold over one :class:`~itsm_core.lifecycle.History` (raw events
    are checked into one first: one ticket, opened first, in time order):
    the same events, policy and ``now`` always give the same status, and
    replaying an edited policy over old events is how a policy change is
    repaired. Events after ``now`` are ignored (evaluate the past by passing
    an earlier ``now``). Because the fold reads the whole history, a policy
    attached late still starts at the first event that matches its start
    condition (retroactive start).

    With ``policy.use_customer_calendar``, ``customer_calendar`` (when given)
    replaces the policy's calendar. The fold is specialised once per policy
    (see :func:`~itsm_core.sla.evaluate_reference` for the plain one, which
    gives the same answers).

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core.sla import Metric, SlaPolicy
    >>> from itsm_core.ticket import CommentAdded, TicketOpened
    >>> at = datetime(2026, 3, 6, 15, 0, tzinfo=timezone.utc)  # a Friday, 15:00
    >>> policy = SlaPolicy(name="8x5", calendar=BusinessCalendar.eight_by_five("UTC"),
    ...                    metrics=(Metric.first_response({"P3": timedelta(hours=4)}),))
    >>> opened = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident", state="new",
    ...     state_category="new", title="t", requester="ann", effective_priority="P3")
    >>> clock = evaluate([opened], policy, at + timedelta(hours=1)).clock("first_response")
    >>> clock.stage.value, clock.elapsed, str(clock.due_at)  # 2 h on Friday, 2 h on Monday
    ('running', datetime.timedelta(seconds=3600), '2026-03-09 11:00:00+00:00')
    >>> reply = CommentAdded(ticket_id="I-1", actor="dana", at=at + timedelta(minutes=90),
    ...                      body="on it", public=True, by_requester=False)
    >>> met = evaluate([opened, reply], policy, at + timedelta(days=3)).clock("first_response")
    >>> met.stage.value, met.elapsed
    ('met', datetime.timedelta(seconds=5400))
    """
    last = _LAST_NOW
    now_us = last[1] if last[0] is now else _now_us(now)
    h = history if isinstance(history, History) else History.of(history)
    if customer_calendar is None:
        return _evaluate(h, policy, now_us, policy.calendar)
    return _evaluate(h, policy, now_us, clock_calendar(policy, customer_calendar))


# The last ``now`` converted, and its instant: a host evaluating many tickets at one
# ``now`` converts it once (datetimes are immutable; the pair is replaced whole).
_LAST_NOW: tuple[object, int] = (None, 0)


def _now_us(now: datetime) -> int:
    global _LAST_NOW
    now_us = to_us(now, "now")
    _LAST_NOW = (now, now_us)
    return now_us


# Per policy (by identity) whose own fold is compiled, what a call needs at hand:
# ``(policy, calendar, fold, elapsed_us, add_us, timezone, name)`` for its own calendar.
_Ready = tuple[SlaPolicy, CalendarLike, Callable[..., Any], Callable[[int, int], int],
               Callable[[int, int], int], str, str]  # fmt: skip
_READY: dict[int, _Ready] = {}


def _ready(policy: SlaPolicy, calendar: CalendarLike) -> _Ready | None:
    """``policy``'s generated fold of the clocks with ``calendar``'s integer API bound,
    kept for the policy's own calendar (``None``: the general fold answers)."""
    compiled = clocks_fold(policy)
    if compiled is None:
        return None
    ready = (policy, calendar, compiled, calendar.elapsed_us, calendar.add_us,
             calendar.timezone, policy.name)  # fmt: skip
    if calendar is policy.calendar:
        if len(_READY) >= 256:
            _READY.clear()
        _READY[id(policy)] = ready
    return ready


def _evaluate(h: History, policy: SlaPolicy, now_us: int, calendar: CalendarLike) -> SlaStatus:
    ready = _READY.get(id(policy))
    if ready is None or ready[0] is not policy or ready[1] is not calendar:
        ready = _ready(policy, calendar)
        if ready is None:
            return _general(h, policy, now_us, calendar)
    events = h.events
    try:
        rows, _, priority, group, _ = ready[2](events, h.instants_us, now_us, ready[3], ready[4])
    except Fallback:  # what the compiled fold does not model: the general fold
        return _general(h, policy, now_us, calendar)
    # the timeline on first use: most callers read the clocks alone
    return status_of(events[0].ticket_id, ready[6], now_us, ready[5], priority, group, rows,
                     None, (_timeline_of, h, policy, calendar))  # fmt: skip


def _evaluate_seen(
    h: History, policy: SlaPolicy, now_us: int, calendar: CalendarLike
) -> tuple[SlaStatus, int]:
    """:func:`_evaluate`, and which events that may change the applicable policy the fold
    met (``SEEN_*`` bits of the clocks fold; all of them for the general fold)."""
    ready = _READY.get(id(policy))
    if ready is None or ready[0] is not policy or ready[1] is not calendar:
        ready = _ready(policy, calendar)
        if ready is None:
            return _general(h, policy, now_us, calendar), _SEEN_ALL
    events = h.events
    try:
        rows, _, priority, group, seen = ready[2](events, h.instants_us, now_us, ready[3], ready[4])
    except Fallback:
        return _general(h, policy, now_us, calendar), _SEEN_ALL
    status = status_of(events[0].ticket_id, ready[6], now_us, ready[5], priority, group, rows,
                       None, (_timeline_of, h, policy, calendar))  # fmt: skip
    return status, seen


_SEEN_ALL = SEEN_PRIORITY | SEEN_GROUP | SEEN_OTHER


def _timeline_of(
    status: SlaStatus, h: History, policy: SlaPolicy, calendar: CalendarLike
) -> tuple[StageChange, ...]:
    """The stage changes :func:`evaluate` left for first use: the fold again, with them."""
    fold = compiled_fold(policy, eager=True)
    if fold is not None:
        try:
            _, changes, _, _ = fold(h.events, h.instants_us, status.now_us, calendar.elapsed_us,
                                    calendar.add_us)  # fmt: skip
        except Fallback:  # pragma: no cover - the clocks fold fell back first
            pass
        else:
            return tuple(changes)
    return _general(h, policy, status.now_us, calendar).stage_changes  # pragma: no cover


def _general(h: History, policy: SlaPolicy, now_us: int, calendar: CalendarLike) -> SlaStatus:
    """The fold over the fact table: every rule a policy may use."""
    spec = _spec(policy)
    decisions = spec.decisions
    fold = ClockRunner(spec.metrics, spec.targets, calendar)
    runs = fold.runs
    apply = fold.apply
    hiding = any(m.hide_due_in for m in policy.metrics)
    codes = EVENT_CODES
    category = ""
    priority: str | None = None
    group: str | None = None
    index = -1
    for event, at, (state, new_category, hold) in zip(
        h.events, h.instants_us, h.states, strict=True
    ):
        index += 1
        if at > now_us:
            break
        from_category, category = category, new_category
        trigger: str | None = None
        public: bool | None = None
        by_requester: bool | None = None
        info = codes.get(type(event))
        if info is None:
            info = event_code(event)
        code, kind = info
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
        fact = (kind, state, category, from_category, hold, trigger, public, by_requester)
        found = decisions.get(fact)
        if found is None:
            found = spec.decide(fact)
        moves: Iterable[tuple[int, Decision]]
        if hiding or fold.deferring:
            for run in runs:
                if run.metric.hide_due_in:
                    run.hidden = state in run.metric.hide_due_in
            moves = enumerate(found[0])
        else:
            moves = found[1]
        apply(moves, kind, at, priority, index)
    clocks = fold.finish(now_us)
    changes = fold.changes
    changes.sort(key=_by_instant_and_metric)
    return SlaStatus(
        ticket_id=h.ticket_id,
        policy=policy.name,
        now_us=now_us,
        timezone=calendar.timezone,
        priority=priority,
        group=group,
        clock_rows=clocks,
        stage_changes=tuple(changes),
    )


# ------------------------------------------------------------------------ policy selection

# The ticket fields an Applicability looks at, and what FieldChanged may set.
_SELECTION_FIELDS = ("type", "effective_priority", "category", "service", "customer", "group")
# Event classes of the ticket module that change none of those fields.
_INERT = frozenset(Event.__subclasses__()) - {
    TicketOpened,
    PriorityChanged,
    Assigned,
    Reassigned,
    GroupAssigned,
    Unassigned,
    FieldChanged,
}


def select_policy_for_history(
    policies: Iterable[SlaPolicy],
    history: History | Iterable[Event],
    *,
    until_us: int | None = None,
) -> SlaPolicy | None:
    """The first policy whose applicability covers the ticket, read from its events.

    The same answer as :func:`~itsm_core.sla.select_policy` on the ticket
    after the last event (at or before ``until_us`` when given, epoch
    microseconds), without folding every event into a ticket: it reads the
    opening and the events that can change a field an
    :class:`~itsm_core.sla.Applicability` looks at (priority, group,
    classification). ``None`` when no policy covers the ticket, or when it
    was opened after ``until_us``.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core.sla import Applicability, Metric, SlaPolicy
    >>> from itsm_core.ticket import PriorityChanged, TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> def policy(name, **covers):
    ...     return SlaPolicy(name=name, calendar=BusinessCalendar.always_open("UTC"),
    ...                      metrics=(Metric.resolution({"P1": timedelta(hours=4)}),),
    ...                      applies_to=Applicability(**covers))
    >>> policies = [policy("P1 only", priorities="P1"), policy("fallback")]
    >>> opened = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident",
    ...     state="new", state_category="new", title="t", requester="ann",
    ...     effective_priority="P1")
    >>> lowered = PriorityChanged(ticket_id="I-1", actor="dana", at=at + timedelta(hours=1),
    ...     impact=None, urgency=None, derived="P3", override=None, effective="P3")
    >>> select_policy_for_history(policies, [opened]).name
    'P1 only'
    >>> select_policy_for_history(policies, [opened, lowered]).name
    'fallback'
    """
    h = history if isinstance(history, History) else History.of(history)
    return _select(_plan_of(policies), h, until_us)


# The plan of the last tuple of policies (a desk asks with its own tuple for every ticket).
_LAST_PLAN: tuple[tuple[SlaPolicy, ...], _Plan] | None = None


def _plan_of(policies: Iterable[SlaPolicy]) -> _Plan:
    """The selection plan of ``policies``, reused while the same tuple is asked again."""
    global _LAST_PLAN
    last = _LAST_PLAN
    if last is not None and last[0] is policies:
        return last[1]
    plan = _Plan(tuple(policies))
    if type(policies) is tuple:  # a tuple of frozen policies cannot change
        _LAST_PLAN = (policies, plan)
    return plan


# The event classes of the ticket module (a stale class object of a slotted attrs class
# may linger in ``__subclasses__``; that is harmless here).
_KNOWN = frozenset(Event.__subclasses__())
# What each Applicability field needs to follow after the opening.
_FOLLOW: dict[str, frozenset[type]] = {
    "priorities": frozenset({PriorityChanged, FieldChanged}),
    "groups": frozenset({Assigned, Reassigned, GroupAssigned, Unassigned, FieldChanged}),
    "types": frozenset({FieldChanged}),
    "categories": frozenset({FieldChanged}),
    "services": frozenset({FieldChanged}),
    "customers": frozenset({FieldChanged}),
}


# The ticket fields an Applicability looks at, in the order of _Plan's value lists.
_FIELDS = ("type", "effective_priority", "category", "service", "customer", "group")
_COVERS = ("types", "priorities", "categories", "services", "customers", "groups")


def _no_group(event: Event) -> None:
    return None  # an opening assigns no group


class _Plan:
    """Policy selection for one list of policies: which event classes can change the answer,
    and each policy's checks as ``(field index, allowed values)`` for its non-empty fields.

    ``opening`` holds the same checks as ``(read the opened event's field, allowed)``, for
    tickets whose later events cannot change the answer; ``always`` is the first policy
    when it covers every ticket (then no later event can change the answer: ``scan`` is
    false); ``seen`` the clocks fold's ``SEEN_*`` bits of the events that can.
    """

    __slots__ = ("always", "checks", "opening", "policies", "quiet", "scan", "seen")

    def __init__(self, policies: tuple[SlaPolicy, ...]) -> None:
        self.policies = policies
        follow: set[type] = set()
        checks = []
        for policy in policies:
            mine = []
            for index, field in enumerate(_COVERS):
                allowed = getattr(policy.applies_to, field)
                if allowed:
                    follow |= _FOLLOW[field]
                    mine.append((index, frozenset(allowed)))
            checks.append((policy, tuple(mine)))
        # the event classes that never change the choice
        self.quiet = _KNOWN - follow
        self.checks = tuple(checks)
        self.opening = tuple(
            (policy, tuple((_READS[index], allowed) for index, allowed in mine))
            for policy, mine in checks
        )
        self.always = policies[0] if checks and not checks[0][1] else None
        self.scan = bool(checks) and self.always is None
        self.seen = SEEN_OTHER  # field changes, and event kinds defined elsewhere
        if PriorityChanged in follow:
            self.seen |= SEEN_PRIORITY
        if follow & {Assigned, Reassigned, GroupAssigned, Unassigned}:
            self.seen |= SEEN_GROUP


# How the opened event gives each field of _FIELDS.
_READS: tuple[Callable[[Event], object], ...] = (
    *(attrgetter(name) for name in _FIELDS[:5]),
    _no_group,
)


def _select(plan: _Plan, h: History, until_us: int | None) -> SlaPolicy | None:
    events = h.events
    if until_us is not None:
        instants = h.instants_us
        count = len(events)
        if instants[count - 1] > until_us:
            while count and instants[count - 1] > until_us:
                count -= 1
            if not count:
                return None
            events = events[:count]
    # only events of the classes some policy follows (or of unknown classes) can matter
    if plan.scan and len(events) > 1 and not plan.quiet.issuperset(map(type, events)):
        return _select_after(plan, h, events)
    return _by_opening(plan, events[0])


def _by_opening(plan: _Plan, opened: Event) -> SlaPolicy | None:
    """The first policy covering the ticket as ``opened`` (its TicketOpened) left it."""
    for policy, checks in plan.opening:
        for read, allowed in checks:
            if read(opened) not in allowed:
                break
        else:
            return policy
    return None


def _select_after(plan: _Plan, h: History, events: tuple[Event, ...]) -> SlaPolicy | None:
    """:func:`_select` for a ticket whose later ``events`` may change the answer."""
    count = len(events)
    opened = events[0]
    if not isinstance(opened, TicketOpened):  # pragma: no cover - a History opens first
        raise InvalidValueError("events[0]", opened, "a TicketOpened event first")
    values: list[object] = [opened.type, opened.effective_priority, opened.category,
                            opened.service, opened.customer, None]  # fmt: skip
    later = events[1:count]
    if not plan.quiet.issuperset(map(type, later)):
        fields = dict(zip(_FIELDS, values, strict=True))
        _follow(h, later, count, fields, plan)
        if "ticket" in fields:  # an event kind of its own: the folded ticket decided
            return fields["ticket"]  # type: ignore[return-value]
        values = [fields[name] for name in _FIELDS]
    for policy, checks in plan.checks:
        for index, allowed in checks:
            if values[index] not in allowed:
                break
        else:
            return policy
    return None


def _follow(
    h: History, later: tuple[Event, ...], count: int, fields: dict[str, object], plan: _Plan
) -> None:
    """Apply the events after the opening to ``fields``; for an event kind defined
    elsewhere, fold the ticket the plain way and put the answer in ``fields["ticket"]``."""
    for event in later:
        cls = type(event)
        if cls in _INERT:
            continue
        if cls is PriorityChanged:
            fields["effective_priority"] = event.effective  # type: ignore[attr-defined]
        elif cls is Assigned or cls is Reassigned or cls is GroupAssigned:
            fields["group"] = event.group  # type: ignore[attr-defined]
        elif cls is Unassigned:
            fields["group"] = None
        elif cls is FieldChanged:
            name = event.field  # type: ignore[attr-defined]
            if not event.custom and name in _SELECTION_FIELDS:  # type: ignore[attr-defined]
                fields[name] = event.new  # type: ignore[attr-defined]
        elif not changes_no_field(event):
            ticket = h.ticket_after(count - 1)
            fields["ticket"] = next(
                (p for p in plan.policies if p.applies_to.matches(ticket)), None
            )
            return


def evaluate_many(
    histories: Iterable[Sequence[Event]],
    policies: SlaPolicy | Sequence[SlaPolicy],
    now: datetime,
) -> Iterator[SlaStatus]:
    """Evaluate many tickets lazily, one status per history, in constant memory.

    With one policy every ticket is evaluated against it; with a sequence the
    first policy whose applicability covers the ticket (as of ``now``) is
    used, and tickets no policy covers are skipped. The policy is chosen from
    the opening and the few events that can change applicability
    (:func:`select_policy_for_history`), not from a whole ticket fold. A
    ticket opened after ``now`` does not exist yet as of ``now`` and is
    skipped. Policies pickle, so a host may split the histories across
    processes and evaluate each part alone.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core.sla import Applicability, Metric, SlaPolicy
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> def opened(tid, kind):
    ...     return [TicketOpened(ticket_id=tid, actor="ann", at=at, type=kind, state="new",
    ...             state_category="new", title="t", requester="ann", effective_priority="P1")]
    >>> incidents = SlaPolicy(name="incidents", calendar=BusinessCalendar.always_open("UTC"),
    ...     metrics=(Metric.resolution({"P1": timedelta(hours=4)}),),
    ...     applies_to=Applicability(types="incident"))
    >>> statuses = evaluate_many([opened("I-1", "incident"), opened("R-1", "request")],
    ...                          [incidents], at + timedelta(hours=1))
    >>> [(s.ticket_id, s.policy, s.clock("resolution").percent) for s in statuses]
    [('I-1', 'incidents', 25.0)]
    """
    now_us = to_us(now, "now")
    single = policies if isinstance(policies, SlaPolicy) else None
    plan = None if single is not None else _Plan(tuple(policies))  # type: ignore[arg-type]
    for history in histories:
        h = history if isinstance(history, History) else History.of(history)
        if h.instants_us[0] > now_us:
            continue  # opened after ``now``: as of ``now`` the ticket does not exist yet
        if plan is None:
            assert single is not None
            yield _evaluate(h, single, now_us, single.calendar)
            continue
        if plan.always is not None:  # the first policy covers every ticket
            yield _evaluate(h, plan.always, now_us, plan.always.calendar)
            continue
        # the policy the opening chooses, kept when the fold met no event that could
        # change the choice (one pass over the events for both)
        opening = _by_opening(plan, h.events[0])
        if opening is not None:
            status, seen = _evaluate_seen(h, opening, now_us, opening.calendar)
            if not seen & plan.seen:
                yield status
                continue
        chosen = _select(plan, h, now_us)
        if chosen is not None:
            if chosen is opening:
                yield status
            else:
                yield _evaluate(h, chosen, now_us, chosen.calendar)


def next_deadline(
    history: Sequence[Event] | Iterable[Event],
    policy: SlaPolicy,
    now: datetime,
    *,
    customer_calendar: CalendarLike | None = None,
) -> pendulum.DateTime | None:
    """The next instant after ``now`` at which a clock crosses a threshold or breaches.

    The breach (the instant the business time reaches the target) is always
    included, so a host that wakes only when told observes it. A host
    schedules one wake-up at this instant instead of polling; paused
    and stopped clocks wait for an event, so they contribute nothing. ``None``
    when no running clock has a threshold ahead.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core.sla import Metric, SlaPolicy
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> policy = SlaPolicy(name="24x7", calendar=BusinessCalendar.always_open("UTC"),
    ...                    metrics=(Metric.resolution({"P2": timedelta(hours=8)}),),
    ...                    thresholds=(50, 75))
    >>> history = [TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident",
    ...     state="new", state_category="new", title="t", requester="ann",
    ...     effective_priority="P2")]
    >>> [str(next_deadline(history, policy, at + timedelta(hours=h))) for h in (1, 5, 7)]
    ['2026-03-02 13:00:00+00:00', '2026-03-02 15:00:00+00:00', '2026-03-02 17:00:00+00:00']
    """
    status = evaluate(history, policy, now, customer_calendar=customer_calendar)
    calendar = clock_calendar(policy, customer_calendar)
    best: int | None = None
    for clock in status.clocks:
        cycle = clock.current
        if cycle is None or not cycle.running or cycle.hidden:
            continue
        if cycle.due_us is not None:  # the breach, whatever the thresholds
            best = cycle.due_us if best is None else min(best, cycle.due_us)
        for percent in policy.thresholds:
            needed = -(-cycle.target_us * percent // 100)  # ceiling: the threshold is reached
            if needed > cycle.elapsed_us:
                try:
                    at = calendar.add_us(status.now_us, needed - cycle.elapsed_us)
                except NeverOpenError:
                    break
                best = at if best is None else min(best, at)
                break
    return None if best is None else from_us(best, status.timezone)
