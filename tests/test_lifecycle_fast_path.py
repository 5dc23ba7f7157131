"""The hot path of ``Lifecycle.apply`` agrees with the reference path, command by command.

``Lifecycle.apply`` takes a prepared, straight path for the usual commands and
falls back to the reference handlers for everything else (and for every
error). ``Lifecycle._apply_reference`` is the reference alone. On random
command sequences over every default lifecycle -- odd values, instants in
other zones or earlier than the last change, actors that guards refuse
included -- both return equal tickets and events, or raise the same error with
the same message, and ask the authorizer the same questions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.errors import InvalidTransition, InvalidValueError, PermissionDenied
from itsm_core.lifecycle import Guard, Lifecycle, default_definitions, incident
from itsm_core.lifecycle._fast import compile_guard, trusted_builder
from itsm_core.testing._ticket_strategies import TICKET_ACTORS, ticket_commands
from itsm_core.ticket import (
    CATEGORIES,
    Assign,
    Assigned,
    Event,
    OpenTicket,
    StateChanged,
    Ticket,
    TicketCommand,
    TicketOpened,
    Transition,
)

REFUSALS = (InvalidTransition, InvalidValueError, PermissionDenied)
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
LIFECYCLES = {d.name: Lifecycle(d) for d in default_definitions()}
ZONES = (UTC, timezone(timedelta(hours=2)), ZoneInfo("Europe/Paris"))
#: The guard and fold properties draw from small finite spaces (a few guard kinds, relations,
#: actors, categories): a quarter of the profile's examples (500 under ``ci``) covers them,
#: never fewer than 100. The command sessions run the full profile.
SMALL_SPACE = settings(max_examples=max(100, settings().max_examples // 4))


def plain_tickets() -> st.SearchStrategy[Ticket]:
    """Tickets built field by field: cheap, varied in the fields guards and folds read."""
    return st.builds(
        Ticket,
        id=st.just("T-1"),
        type=st.just("incident"),
        state=st.just("resolved"),
        state_category=st.just("resolved"),
        title=st.just("t"),
        requester=st.sampled_from(TICKET_ACTORS),
        opened_at=st.just(START),
        updated_at=st.just(START),
        assignee=st.sampled_from((None, *TICKET_ACTORS)),
        approval=st.sampled_from((None, "requested", "approved")),
        major=st.booleans(),
        custom_fields=st.sampled_from(((), (("workaround", "reboot"),), (("workaround", " "),))),
        reopenings=st.integers(0, 2),
    )


class Recorder:
    """An authorizer that writes down what it was asked and refuses one actor."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, Ticket | None, object]] = []

    def check(self, actor: str, action: str, ticket: Ticket | None, command: object) -> None:
        self.asked.append((actor, action, ticket, command))
        if actor == "manager" and action == "transition:cancel":
            raise PermissionDenied(principal=actor, action=action)


def odd_commands() -> st.SearchStrategy[TicketCommand]:
    """Commands the hot path must hand to the reference: values to refuse or to normalise."""
    text: Any = st.sampled_from(("", " ", None, 3, "ok"))
    return st.one_of(
        st.builds(
            Transition,
            trigger=st.sampled_from(("hold", "resolve", "assign", "", "nope", "close")),
            reason=text,
            resolution_code=text,
            hold_reason=st.sampled_from(("awaiting_vendor", " ", None, 1, "x")),
        ),
        st.builds(
            Assign,
            assignee=text,
            group=text,
            support_line=st.sampled_from((None, 0, 1, True, "2")),
        ),
    )


def outcome(call: Any, ticket: Ticket, command: TicketCommand, **kw: Any) -> tuple[Any, ...]:
    recorder = Recorder()
    try:
        new, events = call(ticket, command, authorizer=recorder, **kw)
    except REFUSALS as error:
        return ("refused", type(error), str(error), recorder.asked)
    return ("applied", new, events, tuple(map(type, events)), recorder.asked)


COMMANDS = {
    name: st.one_of(ticket_commands(lifecycle), odd_commands())
    for name, lifecycle in LIFECYCLES.items()
}


#: The steps of a session per lifecycle, built once (building a strategy costs more than a draw).
STEPS = {
    name: st.lists(
        st.tuples(
            commands,
            st.sampled_from(TICKET_ACTORS),
            st.integers(min_value=-60, max_value=6 * 24 * 60),
            st.sampled_from(ZONES),
        ),
        max_size=6,
    )
    for name, commands in COMMANDS.items()
}
NAMES = st.sampled_from(sorted(LIFECYCLES))


@st.composite
def sessions(draw: st.DrawFn) -> tuple[Lifecycle, list[tuple[Any, ...]]]:
    lifecycle = LIFECYCLES[draw(NAMES)]
    return lifecycle, draw(STEPS[lifecycle.name])


@given(sessions())
def test_the_hot_path_and_the_reference_path_agree_on_every_command(
    session: tuple[Lifecycle, list[tuple[Any, ...]]],
) -> None:
    lifecycle, steps = session
    opening = OpenTicket(ticket_id="T-1", type=lifecycle.name, title="t", requester="requester")
    ticket, opened = lifecycle.apply(None, opening, actor="requester", at=START)
    assert (ticket, opened) == lifecycle._apply_reference(
        None, opening, actor="requester", at=START
    )
    at = START
    for command, actor, minutes, zone in steps:
        when = (at + timedelta(minutes=minutes)).astimezone(zone)
        fast = outcome(lifecycle.apply, ticket, command, actor=actor, at=when)
        slow = outcome(lifecycle._apply_reference, ticket, command, actor=actor, at=when)
        assert fast == slow
        if slow[0] == "applied":
            ticket, at = slow[1], when


@SMALL_SPACE
@given(plain_tickets(), st.data())
def test_a_state_change_folds_like_the_generic_fold_of_its_changes(
    ticket: Ticket, data: st.DataObject
) -> None:
    event = StateChanged(
        ticket_id=ticket.id,
        actor="agent.ann",
        at=ticket.updated_at + timedelta(hours=1),
        trigger="go",
        from_state=ticket.state,
        to_state="somewhere",
        from_category=data.draw(st.sampled_from((ticket.state_category, *CATEGORIES))),
        to_category=data.draw(st.sampled_from(CATEGORIES)),
        hold_reason=data.draw(st.sampled_from((None, "awaiting_vendor"))),
        reason=data.draw(st.sampled_from(("", "why"))),
        resolution_code=data.draw(st.sampled_from((None, "fixed"))),
    )
    assert event.apply_to(ticket) == Event.apply_to(event, ticket)


def test_a_state_change_for_no_ticket_or_another_ticket_is_refused_as_before() -> None:
    event = StateChanged(
        ticket_id="T-1",
        actor="a",
        at=START,
        trigger="go",
        from_state="new",
        to_state="assigned",
        from_category="new",
        to_category="active",
    )
    with pytest.raises(InvalidValueError, match="a TicketOpened event first"):
        event.apply_to(None)
    other = Ticket(
        id="T-2",
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="r",
        opened_at=START,
        updated_at=START,
    )
    with pytest.raises(InvalidValueError, match="the ticket's id 'T-2'"):
        event.apply_to(other)


@SMALL_SPACE
@given(
    st.sampled_from(("assigned", "unassigned", "approved", "not_major", "fields_set")),
    st.sampled_from(("actor_is", "actor_is_not")),
    st.lists(st.sampled_from(("anyone", "requester", "assignee")), min_size=1, max_size=2),
    st.sampled_from(TICKET_ACTORS),
    st.sampled_from((None, "awaiting_vendor")),
    plain_tickets(),
)
def test_a_compiled_guard_holds_exactly_when_the_engine_says_it_does(
    simple: str,
    relational: str,
    relations: list[str],
    actor: str,
    hold: str | None,
    ticket: Ticket,
) -> None:
    from itsm_core.lifecycle._engine import _Ctx, _guard_failure

    ctx = _Ctx(ticket, actor, ticket.updated_at, hold)
    for guard in (
        Guard(kind=simple, values=("workaround",) if simple == "fields_set" else ()),
        Guard(kind=relational, values=tuple(relations)),
        Guard(kind="hold_reason", values=("awaiting_vendor",)),
    ):
        assert compile_guard(guard)(ticket, actor, hold) is (_guard_failure(guard, ctx) is None)


def test_trusted_builders_build_the_records_the_keyword_constructors_build() -> None:
    build = trusted_builder(Assigned)
    fast = build("T-1", "ann", START, "dana", None, 2)
    slow = Assigned(ticket_id="T-1", actor="ann", at=START, assignee="dana", support_line=2)
    assert (fast, hash(fast), repr(fast)) == (slow, hash(slow), repr(slow))
    assert attrs.asdict(fast) == attrs.asdict(slow)


def test_a_refused_command_on_the_hot_path_changes_nothing_and_names_the_problem() -> None:
    lifecycle = Lifecycle(incident())
    opening = OpenTicket(ticket_id="T-1", type="incident", title="t", requester="r")
    ticket, _ = lifecycle.apply(None, opening, actor="r", at=START)
    with pytest.raises(InvalidValueError, match=r"command\.support_line"):
        lifecycle.apply(ticket, Assign(assignee="dana", support_line=0), actor="d", at=START)
    with pytest.raises(InvalidValueError, match="at or after"):
        lifecycle.apply(
            ticket, Assign(assignee="dana"), actor="d", at=START - timedelta(microseconds=1)
        )
    assert ticket.version == 1


def test_the_opening_event_and_ticket_are_the_records_the_keyword_constructors_build() -> None:
    lifecycle = Lifecycle(incident())
    command = OpenTicket(
        ticket_id="T-9",
        type="incident",
        title="Printer jam",
        requester="rita",
        description="tray 2",
        impact="high",
        urgency="low",
        category="hardware",
        service="printing",
        customer="acme",
        channel="phone",
    )
    ticket, (opened,) = lifecycle.apply(None, command, actor="rita", at=START)
    assert isinstance(opened, TicketOpened)
    expected = TicketOpened(
        ticket_id="T-9",
        actor="rita",
        at=START,
        type="incident",
        state="new",
        state_category="new",
        title="Printer jam",
        requester="rita",
        description="tray 2",
        impact="high",
        urgency="low",
        derived_priority=opened.derived_priority,
        effective_priority=opened.derived_priority,
        category="hardware",
        service="printing",
        customer="acme",
        channel="phone",
    )
    assert opened.derived_priority is not None
    assert (opened, repr(opened)) == (expected, repr(expected))
    built = Ticket(
        id="T-9",
        type="incident",
        state="new",
        state_category="new",
        title="Printer jam",
        requester="rita",
        opened_at=START,
        updated_at=START,
        description="tray 2",
        impact="high",
        urgency="low",
        derived_priority=opened.derived_priority,
        effective_priority=opened.derived_priority,
        category="hardware",
        service="printing",
        customer="acme",
        channel="phone",
    )
    assert (ticket, hash(ticket), repr(ticket)) == (built, hash(built), repr(built))
