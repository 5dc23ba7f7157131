"""Hypothesis strategies for tickets with valid histories.

Histories are built by *applying* drawn commands through a lifecycle, keeping
only the ones it accepts, so every generated ticket is reachable and its
events replay to it exactly. Shrinking removes steps and simplifies commands
(fewer steps, earlier triggers in the lifecycle's order, shorter delays).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import product

import attrs
from hypothesis import strategies as st

from itsm_core.errors import InvalidTransition, InvalidValueError, PermissionDenied
from itsm_core.lifecycle import (
    COMMAND_TRIGGERS,
    HOLD_REASONS,
    Lifecycle,
    Lifecycles,
    default_lifecycles,
)
from itsm_core.testing._fields import Fields
from itsm_core.testing._memo import memoized, sampled
from itsm_core.ticket import (
    FINAL_CATEGORIES,
    AddComment,
    AddLink,
    Approve,
    Assign,
    Classify,
    ClearMajor,
    Event,
    Merge,
    OpenTicket,
    OverridePriority,
    Reassign,
    Refuse,
    RemoveLink,
    RequestApproval,
    SetMajor,
    Split,
    Ticket,
    TicketCommand,
    Transition,
    Unwatch,
    UpdateField,
    Watch,
)

__all__ = [
    "TICKET_ACTORS",
    "TicketHistory",
    "register_ticket_strategies",
    "ticket_commands",
    "ticket_histories",
    "tickets",
]

#: The principals the strategies act as: the requester, two agents and a manager.
TICKET_ACTORS: tuple[str, ...] = ("requester", "agent.ann", "agent.bob", "manager")
_START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
_OTHERS = ("OTHER-1", "OTHER-2")


@attrs.frozen(kw_only=True)
class TicketHistory:
    """A ticket, the events that made it (opening first) and the lifecycle that applied them.

    >>> from itsm_core.lifecycle import incident
    >>> from itsm_core.ticket import OpenTicket
    >>> lc = Lifecycle(incident())
    >>> t, events = lc.apply(None, OpenTicket(ticket_id="I-1", type="incident", title="t",
    ...                      requester="requester"), actor="requester", at=_START)
    >>> h = TicketHistory(lifecycle=lc, ticket=t, events=events)
    >>> h.lifecycle.replay(h.events) == h.ticket, h.ticket.state
    (True, 'new')
    """

    lifecycle: Lifecycle
    ticket: Ticket
    events: tuple[Event, ...]


_TEXTS = ("", "because", "see the log")


@lru_cache(maxsize=64)
def _command_pools(lifecycle: Lifecycle) -> tuple[tuple[TicketCommand, ...], ...]:
    """Every command :func:`ticket_commands` draws, one pool per kind (transitions twice).

    Each pool is the product of its fields' values in order, the simplest first, so
    an index into it shrinks the way drawing each field would (to the first trigger,
    the empty reason...). Drawing a pool and an index costs two draws a command,
    where drawing each field costs one a field.
    """
    definition = lifecycle.definition
    triggers = sorted(
        {t.trigger for t in definition.transitions if t.trigger not in COMMAND_TRIGGERS}
    )
    matrix = lifecycle.matrix
    agents = TICKET_ACTORS[1:3]
    groups = ("desk", "network")
    lines = (1, 2, 3)
    texts = _TEXTS
    transitions = tuple(
        Transition(trigger=t, reason=r, resolution_code=c, hold_reason=h)
        for t, r, c, h in product(
            triggers, texts, (None, "fixed", "workaround"), (None, *HOLD_REASONS)
        )
    )
    field_updates: list[tuple[TicketCommand, ...]] = [
        tuple(UpdateField(field="title", value=v) for v in ("t2", "t3")),
        tuple(UpdateField(field="service", value=v) for v in (None, "email")),
    ]
    for spec in (f for f in definition.fields if f.type == "str"):
        values = spec.choices or ("a value", "another value")
        field_updates.append(tuple(UpdateField(field=spec.name, value=v) for v in values))
    into = Ticket(
        id="OTHER-1",
        type=lifecycle.name,
        state=definition.initial,
        state_category=lifecycle.category_of(definition.initial),
        title="the surviving ticket",
        requester="someone",
        opened_at=_START,
        updated_at=_START,
    )
    others: list[tuple[TicketCommand, ...]] = [
        tuple(
            Assign(assignee=a, group=g, support_line=n)
            for a, g, n in product(agents, groups, lines)
        ),
        tuple(
            Reassign(assignee=a, group=g, support_line=n, reason=r)
            for a, g, n, r in product(agents, groups, lines, texts)
        ),
        tuple(AddComment(body="a comment", public=p) for p in (False, True)),
        tuple(
            Classify(impact=i, urgency=u)
            for i, u in product((None, *matrix.impact.names), (None, *matrix.urgency.names))
        ),
        tuple(
            OverridePriority(priority=p, reason=r)
            for p, r in product((None, *(p.name for p in matrix.priorities)), texts)
        ),
        tuple(SetMajor(reason=r) for r in texts),
        tuple(ClearMajor(reason=r) for r in texts),
        *field_updates,
        tuple(
            AddLink(kind=k, target=t)
            for k, t in product(("parent", "child", "duplicate_of", "related"), _OTHERS)
        ),
        tuple(Watch(watcher=w) for w in TICKET_ACTORS),
        tuple(Unwatch(watcher=w) for w in TICKET_ACTORS),
        tuple(RemoveLink(kind="related", target=t) for t in _OTHERS),
        tuple(Split(new_ticket_id=i, title="s") for i in ("SPLIT-1", "SPLIT-2")),
        (RequestApproval(approvers=()),),
        (Approve(),),
        tuple(Refuse(reason=r) for r in texts),
        (Merge(into=into),),
    ]
    return (transitions, transitions, *others)


@lru_cache(maxsize=1024)
def _transitions_from(lifecycle: Lifecycle, state: str) -> tuple[Transition, ...]:
    """The transitions of :func:`ticket_commands` that ``state`` has (guards aside) and that
    can lead somewhere not final: these steps move a ticket along, the others end it."""
    triggers = {
        trigger
        for trigger in lifecycle.triggers_from(state)
        if any(
            t.dest_category not in FINAL_CATEGORIES
            for t in lifecycle.transitions_from(state, trigger)
        )
    }
    return tuple(
        command
        for command in _command_pools(lifecycle)[0]
        if isinstance(command, Transition) and command.trigger in triggers
    )


@lru_cache(maxsize=64)
def ticket_commands(lifecycle: Lifecycle) -> st.SearchStrategy[TicketCommand]:
    """Commands for tickets of ``lifecycle``, legal or not: every trigger and every command.

    Transitions are drawn twice as often as the other commands; merges target
    a fresh ticket ``OTHER-1`` of the same type. A command is two draws: its
    kind, then one of the kind's commands (every combination of its fields'
    values); a transition shrinks towards the first trigger with no reason, code or hold.

    >>> from itsm_core.lifecycle import Lifecycle, incident
    >>> from hypothesis import find, given, settings
    >>> @settings(max_examples=20)
    ... @given(ticket_commands(Lifecycle(incident())))
    ... def test(command):
    ...     assert command.action
    >>> test()
    >>> find(ticket_commands(Lifecycle(incident())), lambda c: isinstance(c, Transition))
    Transition(trigger='auto_close', reason='', resolution_code=None, hold_reason=None)
    """
    return st.one_of(*(sampled(pool) for pool in _command_pools(lifecycle)))


_MAX_DELAY = 3 * 24 * 60  # minutes between two steps, at most


@memoized
@st.composite
def ticket_histories(
    draw: st.DrawFn,
    lifecycles: Lifecycles | None = None,
    *,
    max_steps: int = 20,
) -> TicketHistory:
    """A ticket of a random type with a valid history of up to ``max_steps`` accepted commands.

    Commands are drawn from :func:`ticket_commands` with random actors and
    delays (0 to 3 days); one step in four draws among the transitions the
    ticket's state has towards a state that is not final, so that histories go
    through several states in a row (resolved and reopened, held and resumed);
    the rejected ones are skipped. The number of steps is
    one draw; the steps' choices (the command's kind, the command, its actor, the
    delay) are read from a few drawn bytes, about two steps per draw, and shrink
    towards the first command of the first kind, given at once by the requester.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(ticket_histories(max_steps=5))
    ... def test(history):
    ...     assert history.lifecycle.replay(history.events) == history.ticket
    >>> test()
    """
    desk = lifecycles if lifecycles is not None else _DEFAULT_DESK
    fields = Fields(draw)
    lifecycle = desk[fields.choice(tuple(sorted(desk)))]
    matrix = lifecycle.matrix
    at = _START
    ticket, events = lifecycle.open(
        OpenTicket(
            ticket_id="T-1",
            type=lifecycle.name,
            title="generated",
            requester=TICKET_ACTORS[0],
            impact=fields.choice((None, *matrix.impact.names)),
            urgency=fields.choice((None, *matrix.urgency.names)),
        ),
        actor=TICKET_ACTORS[0],
        at=at,
    )
    history = list(events)
    pools = _command_pools(lifecycle)
    steps = draw(st.integers(min_value=0, max_value=max_steps))
    for _ in range(steps):
        if ticket.is_final:
            break
        # One step in four is a transition the ticket's state has (resolve, then reopen,
        # needs two such steps in a row, which a draw over every command rarely gives).
        command: TicketCommand
        if fields.take(4) == 3 and (available := _transitions_from(lifecycle, ticket.state)):
            command = fields.choice(available)
        else:
            command = fields.choice(fields.choice(pools))
        actor = fields.choice(TICKET_ACTORS)
        at = at + timedelta(minutes=fields.take(_MAX_DELAY + 1))
        try:
            ticket, events = lifecycle.apply(ticket, command, actor=actor, at=at)
        except (InvalidTransition, InvalidValueError, PermissionDenied):
            continue
        history += events
    return TicketHistory(lifecycle=lifecycle, ticket=ticket, events=tuple(history))


@memoized
def tickets(
    lifecycles: Lifecycles | None = None, *, max_steps: int = 20
) -> st.SearchStrategy[Ticket]:
    """Tickets reachable through their lifecycle (the ticket of :func:`ticket_histories`).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(tickets(max_steps=3))
    ... def test(ticket):
    ...     assert ticket.version >= 1
    >>> test()
    """
    return ticket_histories(lifecycles, max_steps=max_steps).map(lambda h: h.ticket)


def register_ticket_strategies() -> None:
    """Make ``st.from_type(Ticket)`` draw :func:`tickets` (reachable tickets of every type).

    Meant for the ``hypothesis`` entry point, which Hypothesis calls at start-up.

    >>> from hypothesis import given, settings, strategies as st
    >>> register_ticket_strategies()
    >>> @settings(max_examples=20)
    ... @given(st.from_type(Ticket))
    ... def test(ticket):
    ...     assert ticket.version >= 1
    >>> test()
    """
    st.register_type_strategy(Ticket, tickets())


_DEFAULT_DESK = default_lifecycles()
