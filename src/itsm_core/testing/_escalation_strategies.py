"""Hypothesis strategies for support structures, escalation rules and the histories they read.

``support_structures()`` draws a valid desk of one to three groups per line
(lines 1 to 3, sometimes an external contractor). ``escalation_rules()`` draws
valid rules of every trigger kind with strictly increasing levels whose actions
only notify (so applying them never needs a lifecycle). ``escalation_histories()``
draws a ticket's events in time order: comments, state changes, reassignments
between a few groups and escalation requests.

Shrinking: structures shrink towards one group per line; rules towards the
first trigger kind (``sla_percent``), one level and small thresholds;
histories towards fewer events and shorter gaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache

from hypothesis import strategies as st

from itsm_core.escalation import (
    EXTERNAL_LINE,
    Action,
    EscalationConditions,
    EscalationLevel,
    EscalationRequested,
    EscalationRule,
    SupportGroup,
    SupportStructure,
    Trigger,
    TriggerKind,
)
from itsm_core.testing._fields import Fields
from itsm_core.testing._memo import memoized, sampled
from itsm_core.ticket import (
    Assigned,
    CommentAdded,
    Event,
    Reassigned,
    StateChanged,
    TicketOpened,
)

__all__ = [
    "ESCALATION_ACTIONS",
    "ESCALATION_CONDITIONS",
    "REQUEST_KINDS",
    "SUPPORT_GROUP_NAMES",
    "escalation_histories",
    "escalation_rules",
    "escalation_triggers",
    "support_structures",
]

#: The group names the strategies use, one list per line (index 0: first line).
SUPPORT_GROUP_NAMES: tuple[tuple[str, ...], ...] = (
    ("help-desk", "kiosk"),
    ("admins", "network"),
    ("experts", "developers"),
)
#: The request kinds the strategies use.
REQUEST_KINDS: tuple[str, ...] = ("manager", "supervisor")
_CATEGORIES = ("access", "network", "printing")
# What a group may cover: anything first (the simplest), then one or two categories.
_COVERAGE: tuple[tuple[str, ...], ...] = (
    (),
    ("access",),
    ("network",),
    ("printing",),
    ("access", "network"),
    ("network", "printing"),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Open categories the walk moves between, and the states it names them by.
_WALK = (
    ("new", "new", None),
    ("assigned", "active", None),
    ("in_progress", "active", None),
    ("on_hold.awaiting_vendor", "on_hold", "awaiting_vendor"),
    ("on_hold.awaiting_requester", "on_hold", "awaiting_requester"),
    ("resolved", "resolved", None),
)


@memoized
@st.composite
def support_structures(draw: st.DrawFn, *, external: bool | None = None) -> SupportStructure:
    """A desk: one or two groups on each of lines 1 to 3, and maybe an external contractor.

    ``external`` forces the contractor in (``True``) or out (``False``).
    """
    groups: list[SupportGroup] = []
    for line, names in enumerate(SUPPORT_GROUP_NAMES, start=1):
        count = draw(st.integers(1, len(names)))
        for name in names[:count]:
            categories = _COVERAGE[draw(st.integers(0, len(_COVERAGE) - 1))]
            groups.append(
                SupportGroup(
                    name=name,
                    line=line,
                    members=(f"{name}-1", f"{name}-2"),
                    categories=categories,
                    supervisor=f"{name}-lead" if draw(st.booleans()) else None,
                    manager=f"{name}-manager" if draw(st.booleans()) else None,
                )
            )
    if external if external is not None else draw(st.booleans()):
        groups.append(
            SupportGroup(
                name="contractor", line=EXTERNAL_LINE, dispatcher="vendor-desk", external=True
            )
        )
    return SupportStructure(groups=tuple(groups), default_group="help-desk", manager="head")


_NARROW = (
    EscalationConditions(),
    EscalationConditions(),
    EscalationConditions(lines=(1,)),
    EscalationConditions(priorities=("P1", "P2")),
)
_NOTIFY = (
    Action.notify(roles="assignee"),
    Action.notify(roles=("supervisor", "manager")),
    Action.notify(people="duty-officer"),
)
_RULE_CONDITIONS = (
    EscalationConditions(),
    EscalationConditions(lines=(1, 2)),
    EscalationConditions(groups=("help-desk", "admins")),
)
#: The actions the levels of :func:`escalation_rules` take (each notifies).
ESCALATION_ACTIONS: tuple[Action, ...] = _NOTIFY
#: The conditions :func:`escalation_rules` puts on rules and levels, the empty one first.
ESCALATION_CONDITIONS: tuple[EscalationConditions, ...] = tuple(
    dict.fromkeys((*_RULE_CONDITIONS, *_NARROW))
)
_LEVEL_EXTRAS = tuple((action, narrow) for action in _NOTIFY for narrow in _NARROW)
_LEVEL_VALUES = {
    bounds: st.sets(st.integers(*bounds), min_size=1, max_size=3)
    for bounds in ((1, 150), (0, 4), (-600, 600), (0, 600))
}


def _levels(draw: st.DrawFn, fields: Fields, kind: TriggerKind) -> tuple[EscalationLevel, ...]:
    if kind is TriggerKind.SLA_PERCENT:
        low, high = 1, 150
    elif kind is TriggerKind.REASSIGNMENTS:
        low, high = 0, 4
    else:
        low, high = (-600 if kind is TriggerKind.SLA_DUE else 0), 600
    values = sorted(draw(_LEVEL_VALUES[low, high]))
    levels = []
    for value in values:
        # The action and the narrowing together (the first of each first).
        action, narrow = fields.choice(_LEVEL_EXTRAS)
        if kind is TriggerKind.SLA_PERCENT:
            level = EscalationLevel(percent=value, actions=action, conditions=narrow)
        elif kind is TriggerKind.REASSIGNMENTS:
            level = EscalationLevel(count=value, actions=action, conditions=narrow)
        elif kind is TriggerKind.SLA_DUE:
            offset = timedelta(minutes=value)
            level = EscalationLevel(offset=offset, actions=action, conditions=narrow)
        else:
            after = timedelta(minutes=value)
            level = EscalationLevel(after=after, actions=action, conditions=narrow)
        levels.append(level)
    return tuple(levels)


@memoized
@st.composite
def escalation_rules(
    draw: st.DrawFn,
    *,
    metrics: Sequence[str] = ("first_response", "next_response", "resolution"),
    name: str = "rule",
) -> EscalationRule:
    """A valid rule of any trigger kind, notifying at each level.

    SLA triggers name one of ``metrics`` (empty: no SLA triggers).
    """
    # The trigger (a kind, then one of its triggers, as escalation_triggers draws it), the
    # conditions and each level's actions come from a few drawn bytes.
    fields = Fields(draw)
    pools = _trigger_pool(tuple(metrics))
    pool = fields.choice(pools)
    trigger = fields.choice(pool)
    conditions = fields.choice(_RULE_CONDITIONS)
    return EscalationRule(
        name=name,
        trigger=trigger,
        levels=_levels(draw, fields, trigger.kind),
        conditions=conditions,
    )


@cache
def _trigger_pool(metrics: tuple[str, ...]) -> tuple[tuple[Trigger, ...], ...]:
    """Every trigger :func:`escalation_triggers` draws, one pool per kind in kind order."""
    pools: list[tuple[Trigger, ...]] = []
    for kind in TriggerKind:
        if kind is TriggerKind.SLA_PERCENT:
            pool = tuple(Trigger.sla_percent(m) for m in metrics)
        elif kind is TriggerKind.SLA_DUE:
            pool = tuple(Trigger.sla_due(m) for m in metrics)
        elif kind is TriggerKind.NO_REPLY:
            pool = tuple(Trigger.no_reply(business=b) for b in (False, True))
        elif kind is TriggerKind.TIME_IN_STATE:
            pool = tuple(
                Trigger.time_in_state(categories=c, business=b)
                for c in ("new", "active", "on_hold")
                for b in (False, True)
            )
        elif kind is TriggerKind.REQUEST:
            pool = tuple(
                Trigger.request(*kinds, business=b)
                for kinds in ((), ("manager",))
                for b in (False, True)
            )
        else:
            pool = tuple(Trigger.reassignments(bounces_only=b) for b in (False, True))
        if pool:
            pools.append(pool)
    return tuple(pools)


_TRIGGERS: dict[tuple[str, ...], st.SearchStrategy[Trigger]] = {}


def escalation_triggers(
    *, metrics: Sequence[str] = ("first_response", "next_response", "resolution")
) -> st.SearchStrategy[Trigger]:
    """The triggers of :func:`escalation_rules`: every kind, each kind equally likely.

    SLA triggers name one of ``metrics`` (empty: no SLA triggers). Two draws (the
    kind, then the trigger); shrinks towards the first kind and its first trigger.

    >>> from hypothesis import find
    >>> find(escalation_triggers(), lambda t: True).kind.value
    'sla_percent'
    >>> find(escalation_triggers(metrics=()), lambda t: True).kind.value
    'no_reply'
    """
    key = tuple(metrics)
    strategy = _TRIGGERS.get(key)
    if strategy is None:
        strategy = _TRIGGERS[key] = st.one_of(*(sampled(pool) for pool in _trigger_pool(key)))
    return strategy


_EVENT_KINDS = ("comment", "comment", "state", "reassign", "request")


@memoized
@st.composite
def escalation_histories(
    draw: st.DrawFn,
    *,
    start_us: st.SearchStrategy[int],
    max_events: int = 12,
    max_gap: timedelta = timedelta(hours=8),
    priority: str = "P3",
) -> list[Event]:
    """A ticket's events in time order, assigned at opening to ``help-desk`` on line 1.

    Comments (public or not, by the requester or not), moves between the open
    states and resolving (closing ends the walk), reassignments between the
    groups of :data:`SUPPORT_GROUP_NAMES` and escalation requests. The
    priority never changes, so SLA targets stay put.
    """
    at = _EPOCH + timedelta(microseconds=draw(start_us))
    gap_us = st.integers(0, int(max_gap.total_seconds() * 1_000_000))
    # Each event's choices but its gap come from a few drawn bytes; the gaps keep
    # Hypothesis's own integers, which favour zero and tiny gaps (events at one instant).
    fields = Fields(draw)
    events: list[Event] = [
        TicketOpened(
            ticket_id="T-1",
            actor="requester",
            at=at,
            type="incident",
            state="new",
            state_category="new",
            title="t",
            requester="requester",
            effective_priority=priority,
            category=fields.choice(_CATEGORIES),
        ),
        Assigned(
            ticket_id="T-1",
            actor="dispatcher",
            at=at,
            assignee="help-desk-1",
            group="help-desk",
            support_line=1,
        ),
    ]
    state, category = "new", "new"
    assignee, group, line = "help-desk-1", "help-desk", 1
    for _ in range(draw(st.integers(0, max_events))):
        at = at + timedelta(microseconds=draw(gap_us))
        kind = fields.choice(_EVENT_KINDS)
        if kind == "comment":
            public = fields.flag()
            events.append(
                CommentAdded(
                    ticket_id="T-1",
                    actor="someone",
                    at=at,
                    body="...",
                    public=public,
                    by_requester=fields.flag(),
                )
            )
        elif kind == "reassign":
            new_line = 1 + fields.take(len(SUPPORT_GROUP_NAMES))
            new_group = fields.choice(SUPPORT_GROUP_NAMES[new_line - 1])
            if new_group == group:
                continue
            new_assignee = f"{new_group}-1"
            events.append(
                Reassigned(
                    ticket_id="T-1",
                    actor="agent",
                    at=at,
                    assignee=new_assignee,
                    group=new_group,
                    support_line=new_line,
                    from_assignee=assignee,
                    from_group=group,
                    from_support_line=line,
                )
            )
            assignee, group, line = new_assignee, new_group, new_line
        elif kind == "request":
            by_requester = fields.flag()
            events.append(
                EscalationRequested(
                    ticket_id="T-1",
                    actor="requester" if by_requester else "agent",
                    at=at,
                    kind=fields.choice(REQUEST_KINDS),
                    by_requester=by_requester,
                )
            )
        else:
            close = category == "resolved" and fields.flag()
            to_state, to_category, hold = (
                ("closed", "closed", None) if close else fields.choice(_WALK)
            )
            if to_state == state:
                continue
            events.append(
                StateChanged(
                    ticket_id="T-1",
                    actor="agent",
                    at=at,
                    trigger=f"to_{to_state}",
                    from_state=state,
                    to_state=to_state,
                    from_category=category,
                    to_category=to_category,
                    hold_reason=hold,
                )
            )
            state, category = to_state, to_category
            if close:
                break
    return events
