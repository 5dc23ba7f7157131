"""Hypothesis strategies for tickets with valid histories.

Histories are built by *applying* drawn commands through a lifecycle, keeping
only the ones it accepts, so every generated ticket is reachable and its
events replay to it exactly. Shrinking removes steps and simplifies commands
(fewer steps, earlier triggers in the lifecycle's order, shorter delays).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

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
from itsm_core.testing._memo import sampled
from itsm_core.ticket import (
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


def _texts() -> st.SearchStrategy[str]:
    return st.sampled_from(("", "because", "see the log"))


@lru_cache(maxsize=64)
def ticket_commands(lifecycle: Lifecycle) -> st.SearchStrategy[TicketCommand]:
    """Commands for tickets of ``lifecycle``, legal or not: every trigger and every command.

    Transitions are drawn twice as often as the other commands; merges target
    a fresh ticket ``OTHER-1`` of the same type.

    >>> from itsm_core.lifecycle import Lifecycle, incident
    >>> from hypothesis import given
    >>> @given(ticket_commands(Lifecycle(incident())))
    ... def test(command):
    ...     assert command.action
    >>> test()
    """
    definition = lifecycle.definition
    triggers = sorted(
        {t.trigger for t in definition.transitions if t.trigger not in COMMAND_TRIGGERS}
    )
    matrix = lifecycle.matrix
    agents = st.sampled_from(TICKET_ACTORS[1:3])
    groups = st.sampled_from(("desk", "network"))
    lines = st.sampled_from((1, 2, 3))
    transition = st.builds(
        Transition,
        trigger=st.sampled_from(triggers),
        reason=_texts(),
        resolution_code=st.sampled_from((None, "fixed", "workaround")),
        hold_reason=st.sampled_from((None, *HOLD_REASONS)),
    )
    fields = [f for f in definition.fields if f.type == "str"]
    field_updates: list[st.SearchStrategy[TicketCommand]] = [
        st.builds(UpdateField, field=st.just("title"), value=st.sampled_from(("t2", "t3"))),
        st.builds(
            UpdateField,
            field=st.just("service"),
            value=st.sampled_from((None, "email")),
        ),
    ]
    for spec in fields:
        values = spec.choices or ("a value", "another value")
        field_updates.append(
            st.builds(UpdateField, field=st.just(spec.name), value=st.sampled_from(values))
        )
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
    others: list[st.SearchStrategy[TicketCommand]] = [
        st.builds(Assign, assignee=agents, group=groups, support_line=lines),
        st.builds(Reassign, assignee=agents, group=groups, support_line=lines, reason=_texts()),
        st.builds(AddComment, body=st.just("a comment"), public=st.booleans()),
        st.builds(
            Classify,
            impact=st.sampled_from((None, *matrix.impact.names)),
            urgency=st.sampled_from((None, *matrix.urgency.names)),
        ),
        st.builds(
            OverridePriority,
            priority=st.sampled_from((None, *(p.name for p in matrix.priorities))),
            reason=_texts(),
        ),
        st.builds(SetMajor, reason=_texts()),
        st.builds(ClearMajor, reason=_texts()),
        *field_updates,
        st.builds(
            AddLink,
            kind=st.sampled_from(("parent", "child", "duplicate_of", "related")),
            target=st.sampled_from(_OTHERS),
        ),
        st.builds(Watch, watcher=st.sampled_from(TICKET_ACTORS)),
        st.builds(Unwatch, watcher=st.sampled_from(TICKET_ACTORS)),
        st.builds(RemoveLink, kind=st.just("related"), target=st.sampled_from(_OTHERS)),
        st.builds(Split, new_ticket_id=st.sampled_from(("SPLIT-1", "SPLIT-2")), title=st.just("s")),
        st.just(RequestApproval(approvers=())),
        st.just(Approve()),
        st.builds(Refuse, reason=_texts()),
        st.builds(Merge, into=st.just(into)),
    ]
    return st.one_of(transition, transition, *others)


@st.composite
def ticket_histories(
    draw: st.DrawFn,
    lifecycles: Lifecycles | None = None,
    *,
    max_steps: int = 20,
) -> TicketHistory:
    """A ticket of a random type with a valid history of up to ``max_steps`` accepted commands.

    Commands are drawn from :func:`ticket_commands` with random actors and
    delays (0 to 3 days); the rejected ones are skipped.

    >>> from hypothesis import given
    >>> @given(ticket_histories(max_steps=5))
    ... def test(history):
    ...     assert history.lifecycle.replay(history.events) == history.ticket
    >>> test()
    """
    desk = lifecycles if lifecycles is not None else _DEFAULT_DESK
    lifecycle = desk[draw(sampled(tuple(sorted(desk))))]
    matrix = lifecycle.matrix
    at = _START
    ticket, events = lifecycle.open(
        OpenTicket(
            ticket_id="T-1",
            type=lifecycle.name,
            title="generated",
            requester=TICKET_ACTORS[0],
            impact=draw(sampled((None, *matrix.impact.names))),
            urgency=draw(sampled((None, *matrix.urgency.names))),
        ),
        actor=TICKET_ACTORS[0],
        at=at,
    )
    history = list(events)
    steps = draw(st.integers(min_value=0, max_value=max_steps))
    for _ in range(steps):
        if ticket.is_final:
            break
        command = draw(ticket_commands(lifecycle))
        actor = draw(sampled(TICKET_ACTORS))
        at = at + timedelta(minutes=draw(st.integers(min_value=0, max_value=3 * 24 * 60)))
        try:
            ticket, events = lifecycle.apply(ticket, command, actor=actor, at=at)
        except (InvalidTransition, InvalidValueError, PermissionDenied):
            continue
        history += events
    return TicketHistory(lifecycle=lifecycle, ticket=ticket, events=tuple(history))


def tickets(
    lifecycles: Lifecycles | None = None, *, max_steps: int = 20
) -> st.SearchStrategy[Ticket]:
    """Tickets reachable through their lifecycle (the ticket of :func:`ticket_histories`).

    >>> from hypothesis import given
    >>> @given(tickets(max_steps=3))
    ... def test(ticket):
    ...     assert ticket.version >= 1
    >>> test()
    """
    return ticket_histories(lifecycles, max_steps=max_steps).map(lambda h: h.ticket)


def register_ticket_strategies() -> None:
    """Make ``st.from_type(Ticket)`` draw :func:`tickets` (reachable tickets of every type).

    Meant for the ``hypothesis`` entry point, which Hypothesis calls at start-up.

    >>> from hypothesis import given, strategies as st
    >>> register_ticket_strategies()
    >>> @given(st.from_type(Ticket))
    ... def test(ticket):
    ...     assert ticket.version >= 1
    >>> test()
    """
    st.register_type_strategy(Ticket, tickets())


_DEFAULT_DESK = default_lifecycles()
