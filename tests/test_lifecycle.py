"""The lifecycle engine: commands, policies, links, priorities, permissions hooks, diagrams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar
from itsm_core.errors import InvalidTransition, InvalidValueError, PermissionDenied
from itsm_core.lifecycle import (
    Authorizer,
    Lifecycle,
    Lifecycles,
    Policies,
    default_definitions,
    default_lifecycles,
    follow_up_ticket,
    follow_ups,
    incident,
    normal_change,
    problem,
    replay,
    to_dot,
    to_mermaid,
)
from itsm_core.lifecycle._engine import _Ctx
from itsm_core.priority import PriorityMatrix
from itsm_core.testing import MachineProbe, machine_dest
from itsm_core.testing._ticket_strategies import ticket_histories
from itsm_core.ticket import (
    AddComment,
    AddLink,
    ApprovalGiven,
    ApprovalRefused,
    ApprovalRequested,
    Approve,
    Assign,
    Assigned,
    Classify,
    ClearMajor,
    CommentAdded,
    Event,
    FieldChanged,
    Link,
    MajorCleared,
    MajorSet,
    Merge,
    Merged,
    OpenTicket,
    OverridePriority,
    PriorityChanged,
    Reassign,
    Reassigned,
    Refuse,
    RemoveLink,
    RequestApproval,
    SetMajor,
    Split,
    StateChanged,
    Ticket,
    TicketCommand,
    TicketOpened,
    TicketSplit,
    Transition,
    Unlinked,
    Unwatch,
    Unwatched,
    UpdateField,
    Watch,
    Watched,
)

DESK = default_lifecycles()
INCIDENT = DESK["incident"]
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REQUESTER = "rita"
AGENT = "dana"


def open_ticket(
    lifecycle: Lifecycle = INCIDENT, ticket_id: str = "INC-1", **fields: object
) -> tuple[Ticket, list[Event]]:
    command = OpenTicket(
        ticket_id=ticket_id,
        type=lifecycle.name,
        title="Mail is down",
        requester=REQUESTER,
        **fields,  # type: ignore[arg-type]
    )
    ticket, events = lifecycle.apply(None, command, actor=REQUESTER, at=MONDAY)
    return ticket, list(events)


def run(
    lifecycle: Lifecycle,
    ticket: Ticket,
    steps: Sequence[tuple[TicketCommand, str]],
    history: list[Event],
    at: datetime = MONDAY,
) -> Ticket:
    for command, actor in steps:
        ticket, events = lifecycle.apply(ticket, command, actor=actor, at=at)
        history += events
    return ticket


def in_progress(lifecycle: Lifecycle = INCIDENT) -> tuple[Ticket, list[Event]]:
    ticket, history = open_ticket(lifecycle)
    ticket = run(
        lifecycle,
        ticket,
        [
            (Assign(assignee=AGENT, group="desk", support_line=1), "disp"),
            (Transition(trigger="start"), AGENT),
        ],
        history,
    )
    return ticket, history


def resolved(lifecycle: Lifecycle = INCIDENT) -> tuple[Ticket, list[Event]]:
    ticket, history = in_progress(lifecycle)
    ticket = run(
        lifecycle,
        ticket,
        [(Transition(trigger="resolve", resolution_code="fixed", reason="rebooted"), AGENT)],
        history,
    )
    return ticket, history


# ------------------------------------------------------------------ opening


def test_opening_a_ticket_records_every_initial_field() -> None:
    ticket, events = open_ticket(
        impact="medium",
        urgency="high",
        description="since 9",
        category="email",
        service="exchange",
        links=(Link(kind="related", ticket_id="INC-0"),),
    )
    (opened,) = events
    assert isinstance(opened, TicketOpened)
    assert (opened.derived_priority, opened.effective_priority) == ("P2", "P2")
    assert ticket.state == "new"
    assert ticket.state_category == "new"
    assert (ticket.category, ticket.service, ticket.description) == ("email", "exchange", "since 9")
    assert ticket.links == (Link(kind="related", ticket_id="INC-0"),)
    assert ticket.opened_at == ticket.updated_at == MONDAY
    assert ticket.version == 1


def test_priority_is_derived_only_when_both_impact_and_urgency_are_known() -> None:
    ticket, _ = open_ticket(impact="high")
    assert ticket.derived_priority is None
    assert ticket.effective_priority is None
    ticket, _ = INCIDENT.apply(ticket, Classify(urgency="low"), actor=AGENT, at=MONDAY)
    assert (ticket.impact, ticket.urgency, ticket.derived_priority) == ("high", "low", "P3")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"impact": "enormous"}, "impact"),
        ({"urgency": "yesterday"}, "urgency"),
        ({"impact": ""}, "command.impact"),
        ({"custom_fields": (("colour", "red"),)}, "custom_fields"),
        ({"links": (Link(kind="parent", ticket_id="INC-1"),)}, "command.links[0]"),
        ({"links": (Link(kind="sibling", ticket_id="X"),)}, "command.links[0]"),
        (
            {"links": (Link(kind="related", ticket_id="X"), Link(kind="related", ticket_id="X"))},
            "command.links[1]",
        ),
        ({"category": 3}, "command.category"),
    ],
)
def test_opening_with_a_bad_field_names_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        open_ticket(INCIDENT, "INC-1", **fields)
    assert caught.value.field == field


def test_custom_fields_are_typed_and_restricted_to_their_choices() -> None:
    change = DESK["normal_change"]
    ticket, _ = open_ticket(change, custom_fields=(("risk", "low"), ("backout_plan", None)))
    assert ticket.custom_fields == (("risk", "low"),)
    with pytest.raises(InvalidValueError, match="one of 'low', 'medium', 'high'"):
        open_ticket(change, custom_fields=(("risk", "extreme"),))
    with pytest.raises(InvalidValueError, match="a str"):
        open_ticket(change, custom_fields=(("risk", 3),))
    with pytest.raises(InvalidValueError, match="pair"):
        open_ticket(change, custom_fields=(("risk",),))


@pytest.mark.parametrize(
    ("ticket", "command", "field"),
    [
        (None, Transition(trigger="start"), "ticket"),
        ("not a ticket", Transition(trigger="start"), "ticket"),
        (None, "open please", "command"),
    ],
)
def test_apply_refuses_what_is_not_a_ticket_or_a_command(
    ticket: object, command: object, field: str
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        INCIDENT.apply(ticket, command, actor="a", at=MONDAY)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_apply_needs_an_aware_instant_and_an_actor() -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidValueError, match="timezone-aware"):
        INCIDENT.apply(ticket, AddComment(body="x"), actor="a", at=datetime(2026, 3, 2))
    with pytest.raises(InvalidValueError, match="timezone-aware"):
        INCIDENT.apply(ticket, AddComment(body="x"), actor="a", at="2026-03-02")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="principal"):
        INCIDENT.apply(ticket, AddComment(body="x"), actor=" ", at=MONDAY)


def test_time_never_goes_backwards_on_a_ticket() -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidValueError) as caught:
        INCIDENT.apply(ticket, AddComment(body="x"), actor="a", at=MONDAY - timedelta(seconds=1))
    assert caught.value.field == "at"


def test_a_lifecycle_serves_only_its_own_ticket_type() -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidValueError, match=r"ticket.type"):
        DESK["problem"].apply(ticket, AddComment(body="x"), actor="a", at=MONDAY)
    with pytest.raises(InvalidValueError, match=r"command.type"):
        DESK["problem"].apply(
            None,
            OpenTicket(ticket_id="P", type="incident", title="t", requester="r"),
            actor="r",
            at=MONDAY,
        )


def test_a_ticket_is_opened_only_once() -> None:
    ticket, _ = open_ticket()
    command = OpenTicket(ticket_id="INC-1", type="incident", title="t", requester="r")
    with pytest.raises(InvalidTransition, match="opened only once"):
        INCIDENT.apply(ticket, command, actor="r", at=MONDAY)


# ------------------------------------------------------------------ transitions


def test_the_benchmark_path_goes_through_every_working_state() -> None:
    ticket, history = in_progress()
    ticket = run(
        INCIDENT,
        ticket,
        [
            (Transition(trigger="hold", hold_reason="awaiting_vendor", reason="RMA"), AGENT),
            (Transition(trigger="resume"), AGENT),
            (Transition(trigger="resolve", resolution_code="fixed"), AGENT),
            (Transition(trigger="close"), REQUESTER),
        ],
        history,
    )
    states = [e.to_state for e in history if isinstance(e, StateChanged)]
    assert states == [
        "assigned",
        "in_progress",
        "on_hold.awaiting_vendor",
        "in_progress",
        "resolved",
        "closed",
    ]
    assert ticket.closed_at == MONDAY
    assert ticket.is_final
    assert INCIDENT.replay(history) == ticket


def test_an_illegal_trigger_lists_what_is_allowed_and_changes_nothing() -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidTransition) as caught:
        INCIDENT.apply(
            ticket, Transition(trigger="resolve", resolution_code="x"), actor="a", at=MONDAY
        )
    assert caught.value.state == "new"
    assert caught.value.allowed == ("assign", "cancel", "merge")


def test_command_triggers_are_not_fired_by_transition() -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidTransition, match="fired by Assign"):
        INCIDENT.apply(ticket, Transition(trigger="assign"), actor="a", at=MONDAY)


def test_a_guard_that_fails_is_named() -> None:
    ticket, _ = in_progress()
    with pytest.raises(InvalidTransition, match="hold_reason=awaiting_vendor") as caught:
        INCIDENT.apply(
            ticket,
            Transition(trigger="hold", hold_reason="lunch", reason="r"),
            actor="a",
            at=MONDAY,
        )
    assert "no guard holds" in str(caught.value)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (Transition(trigger="hold", hold_reason="awaiting_vendor"), "command.reason"),
        (Transition(trigger="resolve"), "command.resolution_code"),
        (Transition(trigger="resolve", resolution_code=""), "command.resolution_code"),
        (Transition(trigger="resolve", resolution_code="x", reason=3), "command.reason"),  # type: ignore[arg-type]
        (Transition(trigger=""), "command.trigger"),
    ],
)
def test_a_transition_needs_the_fields_it_requires(command: Transition, field: str) -> None:
    ticket, _ = in_progress()
    with pytest.raises(InvalidValueError) as caught:
        INCIDENT.apply(ticket, command, actor=AGENT, at=MONDAY)
    assert caught.value.field == field


def test_a_transition_may_require_a_custom_field_of_the_ticket() -> None:
    lifecycle = DESK["problem"]
    ticket, history = in_progress(lifecycle)
    with pytest.raises(InvalidValueError, match="UpdateField") as caught:
        lifecycle.apply(ticket, Transition(trigger="record_known_error"), actor=AGENT, at=MONDAY)
    assert caught.value.field == "ticket.workaround"
    ticket = run(
        lifecycle,
        ticket,
        [
            (UpdateField(field="workaround", value="restart the spooler"), AGENT),
            (Transition(trigger="record_known_error"), AGENT),
        ],
        history,
    )
    assert ticket.state == "known_error"


def test_the_start_guard_needs_an_assignee() -> None:
    lifecycle = DESK["documentation_request"]
    definition = attrs.evolve(
        lifecycle.definition,
        transitions=(
            *lifecycle.definition.transitions,
            attrs.evolve(lifecycle.definition.transitions[1], source=("new",)),
        ),
    )
    custom = Lifecycle(definition)
    ticket, _ = open_ticket(custom)
    with pytest.raises(InvalidTransition, match="guard assigned"):
        custom.apply(ticket, Transition(trigger="start"), actor=AGENT, at=MONDAY)


def test_hold_reason_is_recorded_on_entering_hold_and_cleared_on_leaving() -> None:
    ticket, history = in_progress()
    ticket = run(
        INCIDENT,
        ticket,
        [(Transition(trigger="hold", hold_reason="awaiting_change", reason="CHG-7"), AGENT)],
        history,
    )
    change = history[-1]
    assert isinstance(change, StateChanged)
    assert (change.hold_reason, change.reason, change.to_category) == (
        "awaiting_change",
        "CHG-7",
        "on_hold",
    )
    assert ticket.hold_reason == "awaiting_change"
    ticket = run(INCIDENT, ticket, [(Transition(trigger="resume"), AGENT)], history)
    assert ticket.hold_reason is None


def test_resolving_records_the_resolution_and_reopening_clears_it() -> None:
    ticket, history = resolved()
    assert (ticket.resolution_code, ticket.resolution, ticket.resolved_at) == (
        "fixed",
        "rebooted",
        MONDAY,
    )
    ticket = run(INCIDENT, ticket, [(Transition(trigger="reopen"), REQUESTER)], history)
    assert (ticket.resolution_code, ticket.resolution, ticket.resolved_at) == (None, "", None)
    assert ticket.reopenings == 1
    assert ticket.state_category == "active"


def test_a_final_ticket_accepts_no_command_but_a_reciprocal_link() -> None:
    ticket, history = resolved()
    ticket = run(INCIDENT, ticket, [(Transition(trigger="close"), REQUESTER)], history)
    with pytest.raises(InvalidTransition, match="final"):
        INCIDENT.apply(ticket, AddComment(body="thanks"), actor=REQUESTER, at=MONDAY)
    ticket, _events = INCIDENT.apply(
        ticket, AddLink(kind="follow_up", target="INC-9", reciprocal=True), actor="sys", at=MONDAY
    )
    assert ticket.link_targets("follow_up") == ("INC-9",)


# ------------------------------------------------------------------ policies


def test_reopen_is_allowed_only_within_the_window_in_business_days() -> None:
    calendar = BusinessCalendar.eight_by_five("UTC")
    lifecycle = Lifecycle(incident(), calendar=calendar)
    ticket, _ = resolved(lifecycle)
    deadline = lifecycle.reopen_deadline(ticket)
    assert deadline == MONDAY + timedelta(days=14)  # ten business days: two weeks
    assert lifecycle.may(ticket, Transition(trigger="reopen"), actor=REQUESTER, at=deadline)
    late = deadline + timedelta(seconds=1)
    with pytest.raises(InvalidTransition, match="follow_up_of 'INC-1'"):
        lifecycle.apply(ticket, Transition(trigger="reopen"), actor=REQUESTER, at=late)


def test_a_calendar_passed_to_the_query_overrides_the_lifecycle_calendar() -> None:
    ticket, _ = resolved()
    calendar = BusinessCalendar.eight_by_five("UTC")
    assert INCIDENT.reopen_deadline(ticket) == MONDAY + timedelta(days=10)
    assert INCIDENT.reopen_deadline(ticket, calendar) == MONDAY + timedelta(days=14)
    assert INCIDENT.next_due_at(ticket, calendar) == MONDAY + timedelta(days=7)


def test_only_the_actors_the_policy_names_may_reopen() -> None:
    ticket, _ = resolved()
    assert INCIDENT.may(ticket, Transition(trigger="reopen"), actor=AGENT, at=MONDAY)
    with pytest.raises(InvalidTransition, match="only the requester or assignee may reopen"):
        INCIDENT.apply(ticket, Transition(trigger="reopen"), actor="stranger", at=MONDAY)
    anyone = Lifecycle(incident(attrs.evolve(incident().policies, reopen_by=("anyone",))))
    ticket, _ = resolved(anyone)
    assert anyone.may(ticket, Transition(trigger="reopen"), actor="stranger", at=MONDAY)


def test_without_a_window_a_ticket_may_be_reopened_any_time() -> None:
    lifecycle = Lifecycle(incident(attrs.evolve(incident().policies, reopen_window_days=None)))
    ticket, _ = resolved(lifecycle)
    assert lifecycle.reopen_deadline(ticket) is None
    assert lifecycle.may(
        ticket, Transition(trigger="reopen"), actor=REQUESTER, at=MONDAY + timedelta(days=900)
    )


def test_a_ticket_past_its_reopen_window_is_followed_up_by_a_new_linked_ticket() -> None:
    ticket, _ = resolved()
    command = follow_up_ticket(ticket, "INC-2", description="broken again")
    assert command.links == (Link(kind="follow_up_of", ticket_id="INC-1"),)
    new, events = INCIDENT.apply(None, command, actor=REQUESTER, at=MONDAY + timedelta(days=30))
    assert (new.title, new.requester) == (ticket.title, ticket.requester)
    (mirror,) = follow_ups(new, events)
    assert mirror.ticket_id == "INC-1"
    assert mirror.command == AddLink(kind="follow_up", target="INC-2", reciprocal=True)
    with pytest.raises(InvalidValueError):
        follow_up_ticket(ticket, "INC-1")


def test_closure_is_confirmed_by_the_requester_alone() -> None:
    ticket, _ = resolved()
    with pytest.raises(InvalidTransition, match="confirmed by the requester"):
        INCIDENT.apply(ticket, Transition(trigger="close"), actor=AGENT, at=MONDAY)
    assert INCIDENT.may(ticket, Transition(trigger="close"), actor=REQUESTER, at=MONDAY)
    agents_close = Lifecycle(
        incident(attrs.evolve(incident().policies, closure_confirmed_by_requester=False))
    )
    ticket, _ = resolved(agents_close)
    assert agents_close.may(ticket, Transition(trigger="close"), actor=AGENT, at=MONDAY)


def test_auto_close_becomes_due_after_n_business_days_and_nothing_happens_by_itself() -> None:
    calendar = BusinessCalendar.eight_by_five("UTC")
    lifecycle = Lifecycle(incident(), calendar=calendar)
    ticket, _ = resolved(lifecycle)
    due_at = MONDAY + timedelta(days=7)  # five business days after a Monday: next Monday
    assert lifecycle.next_due_at(ticket) == due_at
    assert lifecycle.due_transitions(ticket, due_at - timedelta(microseconds=1)) == ()
    (due,) = lifecycle.due_transitions(ticket, due_at)
    assert due.due_at == due_at
    assert due.command.trigger == "auto_close"
    with pytest.raises(InvalidTransition, match="auto-close is due at"):
        lifecycle.apply(ticket, due.command, actor="system", at=due_at - timedelta(hours=1))
    closed, _events = lifecycle.apply(ticket, due.command, actor="system", at=due_at)
    assert closed.state == "closed"
    assert lifecycle.due_transitions(closed, due_at + timedelta(days=30)) == ()


def test_a_major_incident_is_exempt_from_auto_close() -> None:
    ticket, history = in_progress()
    ticket = run(
        INCIDENT,
        ticket,
        [
            (SetMajor(reason="whole site down"), "manager"),
            (Transition(trigger="resolve", resolution_code="fixed"), AGENT),
        ],
        history,
    )
    later = MONDAY + timedelta(days=60)
    assert INCIDENT.next_due_at(ticket) is None
    assert INCIDENT.due_transitions(ticket, later) == ()
    with pytest.raises(InvalidTransition, match="not_major"):
        INCIDENT.apply(ticket, Transition(trigger="auto_close"), actor="system", at=later)


def test_auto_close_can_be_switched_off() -> None:
    lifecycle = Lifecycle(incident(attrs.evolve(incident().policies, auto_close_after_days=None)))
    ticket, _ = resolved(lifecycle)
    assert lifecycle.due_transitions(ticket, MONDAY + timedelta(days=365)) == ()
    with pytest.raises(InvalidTransition, match="auto-close is off"):
        lifecycle.apply(ticket, Transition(trigger="auto_close"), actor="system", at=MONDAY)


def test_a_requesters_public_reply_resumes_work_waiting_for_them() -> None:
    ticket, history = in_progress()
    ticket = run(
        INCIDENT,
        ticket,
        [
            (
                Transition(
                    trigger="hold", hold_reason="awaiting_requester", reason="which printer?"
                ),
                AGENT,
            )
        ],
        history,
    )
    waiting = ticket
    ticket, events = INCIDENT.apply(
        ticket, AddComment(body="the 3rd floor one"), actor=REQUESTER, at=MONDAY
    )
    assert [type(e) for e in events] == [CommentAdded, StateChanged]
    assert ticket.state == "in_progress"
    # internal notes, agents' replies and other holds do not resume
    for command, actor in [
        (AddComment(body="note", public=False), REQUESTER),
        (AddComment(body="still checking"), AGENT),
    ]:
        after, _ = INCIDENT.apply(waiting, command, actor=actor, at=MONDAY)
        assert after.state == "on_hold.awaiting_requester"
    vendor, _ = INCIDENT.apply(
        in_progress()[0],
        Transition(trigger="hold", hold_reason="awaiting_vendor", reason="RMA"),
        actor=AGENT,
        at=MONDAY,
    )
    after, _ = INCIDENT.apply(vendor, AddComment(body="any news?"), actor=REQUESTER, at=MONDAY)
    assert after.state == "on_hold.awaiting_vendor"


def test_the_reply_policy_can_be_switched_off() -> None:
    lifecycle = Lifecycle(
        incident(attrs.evolve(incident().policies, requester_reply_resumes=False))
    )
    ticket, _ = in_progress(lifecycle)
    ticket, _ = lifecycle.apply(
        ticket,
        Transition(trigger="hold", hold_reason="awaiting_requester", reason="?"),
        actor=AGENT,
        at=MONDAY,
    )
    ticket, events = lifecycle.apply(ticket, AddComment(body="answer"), actor=REQUESTER, at=MONDAY)
    assert len(events) == 1
    assert ticket.state == "on_hold.awaiting_requester"


# ------------------------------------------------------------------ assignment and comments


def test_assignment_records_person_group_and_support_line() -> None:
    ticket, history = open_ticket()
    ticket = run(
        INCIDENT, ticket, [(Assign(assignee=AGENT, group="desk", support_line=1), "disp")], history
    )
    assigned = history[1]
    assert isinstance(assigned, Assigned)
    assert (assigned.assignee, assigned.group, assigned.support_line) == (AGENT, "desk", 1)
    with pytest.raises(InvalidTransition, match="use Reassign"):
        INCIDENT.apply(ticket, Assign(assignee="x"), actor="disp", at=MONDAY)


def test_reassignments_are_counted_and_say_where_the_ticket_came_from() -> None:
    ticket, history = in_progress()
    ticket = run(
        INCIDENT,
        ticket,
        [
            (
                Reassign(assignee="erin", group="network", support_line=2, reason="network issue"),
                AGENT,
            ),
            (Reassign(assignee="erin", group="network", support_line=3), "erin"),
        ],
        history,
    )
    moves = [e for e in history if isinstance(e, Reassigned)]
    assert [(m.from_assignee, m.from_group, m.from_support_line) for m in moves] == [
        (AGENT, "desk", 1),
        ("erin", "network", 2),
    ]
    assert ticket.reassignments == 2
    assert ticket.state == "assigned"  # the new assignee starts again
    with pytest.raises(InvalidValueError, match="another assignee"):
        INCIDENT.apply(
            ticket, Reassign(assignee="erin", group="network", support_line=3), actor="x", at=MONDAY
        )


@pytest.mark.parametrize(
    "command",
    [
        Assign(assignee=""),
        Assign(assignee="a", support_line=0),
        Assign(assignee="a", support_line=True),
        Assign(assignee="a", group=""),
    ],
)
def test_a_bad_assignment_is_refused(command: Assign) -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidValueError):
        INCIDENT.apply(ticket, command, actor="disp", at=MONDAY)


def test_an_unassigned_ticket_cannot_be_reassigned() -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidTransition, match="use Assign"):
        INCIDENT.apply(ticket, Reassign(assignee="x"), actor="disp", at=MONDAY)


def test_assigning_outside_the_table_just_records_the_assignee() -> None:
    change = DESK["standard_change"]
    ticket, _ = open_ticket(change)
    ticket, events = change.apply(ticket, Assign(assignee=AGENT), actor="disp", at=MONDAY)
    assert [type(e) for e in events] == [Assigned]
    assert ticket.state == "new"


def test_the_first_public_reply_by_an_agent_is_the_first_response() -> None:
    ticket, history = open_ticket()
    later = MONDAY + timedelta(minutes=5)
    ticket = run(
        INCIDENT,
        ticket,
        [
            (AddComment(body="hello?"), REQUESTER),
            (AddComment(body="internal", public=False), AGENT),
        ],
        history,
    )
    assert ticket.first_response_at is None
    ticket = run(INCIDENT, ticket, [(AddComment(body="on it"), AGENT)], history, at=later)
    ticket = run(
        INCIDENT,
        ticket,
        [(AddComment(body="still"), AGENT)],
        history,
        at=later + timedelta(hours=1),
    )
    assert ticket.first_response_at == later
    comments = [e for e in history if isinstance(e, CommentAdded)]
    assert [(c.public, c.by_requester) for c in comments] == [
        (True, True),
        (False, False),
        (True, False),
        (True, False),
    ]


@pytest.mark.parametrize("command", [AddComment(body=""), AddComment(body="x", public="yes")])  # type: ignore[arg-type]
def test_a_bad_comment_is_refused(command: AddComment) -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidValueError):
        INCIDENT.apply(ticket, command, actor=AGENT, at=MONDAY)


# ------------------------------------------------------------------ priority


def test_a_manual_override_keeps_the_derived_priority_and_says_why() -> None:
    ticket, history = open_ticket(impact="low", urgency="low")
    ticket = run(
        INCIDENT, ticket, [(OverridePriority(priority="P2", reason="VIP user"), AGENT)], history
    )
    change = history[-1]
    assert isinstance(change, PriorityChanged)
    assert (change.derived, change.override, change.effective, change.reason, change.actor) == (
        "P5",
        "P2",
        "P2",
        "VIP user",
        AGENT,
    )
    assert (ticket.derived_priority, ticket.priority_override, ticket.effective_priority) == (
        "P5",
        "P2",
        "P2",
    )
    ticket = run(INCIDENT, ticket, [(Classify(impact="high", reason="more users"), AGENT)], history)
    assert (ticket.derived_priority, ticket.effective_priority) == ("P3", "P2")
    ticket = run(
        INCIDENT,
        ticket,
        [(OverridePriority(priority=None, reason="back to normal"), AGENT)],
        history,
    )
    assert (ticket.priority_override, ticket.effective_priority) == (None, "P3")


@pytest.mark.parametrize(
    "command",
    [
        OverridePriority(priority="P2", reason=""),
        OverridePriority(priority="P9", reason="r"),
        OverridePriority(priority="P0", reason="r"),
        OverridePriority(priority=None, reason="nothing to remove"),
        Classify(),
        Classify(urgency="eventually"),
    ],
)
def test_a_bad_priority_command_is_refused(command: TicketCommand) -> None:
    ticket, _ = open_ticket(impact="low", urgency="low")
    with pytest.raises(InvalidValueError):
        INCIDENT.apply(ticket, command, actor=AGENT, at=MONDAY)


def test_the_major_tier_is_set_and_cleared_only_by_its_commands_with_a_reason() -> None:
    ticket, history = open_ticket(impact="medium", urgency="medium")
    ticket = run(
        INCIDENT, ticket, [(OverridePriority(priority="P2", reason="VIP"), AGENT)], history
    )
    ticket = run(INCIDENT, ticket, [(SetMajor(reason="all sites"), "manager")], history)
    major_set, change = history[-2:]
    assert isinstance(major_set, MajorSet)
    assert major_set.reason == "all sites"
    assert isinstance(change, PriorityChanged)
    assert change.effective == "P0"
    assert ticket.major
    assert ticket.effective_priority == "P0"
    assert ticket.derived_priority == "P3"
    with pytest.raises(InvalidTransition, match="already major"):
        INCIDENT.apply(ticket, SetMajor(reason="again"), actor="manager", at=MONDAY)
    with pytest.raises(InvalidValueError, match=r"command.reason"):
        INCIDENT.apply(ticket, ClearMajor(reason=" "), actor="manager", at=MONDAY)
    ticket = run(INCIDENT, ticket, [(ClearMajor(reason="one site only"), "manager")], history)
    assert isinstance(history[-2], MajorCleared)
    assert (ticket.major, ticket.effective_priority) == (False, "P2")
    with pytest.raises(InvalidTransition, match="not major"):
        INCIDENT.apply(ticket, ClearMajor(reason="r"), actor="manager", at=MONDAY)


def test_a_ticket_without_a_derived_priority_can_still_be_major_or_overridden() -> None:
    ticket, history = open_ticket()
    ticket = run(
        INCIDENT, ticket, [(OverridePriority(priority="P4", reason="guess"), AGENT)], history
    )
    assert ticket.effective_priority == "P4"
    ticket = run(INCIDENT, ticket, [(SetMajor(reason="outage"), "manager")], history)
    assert ticket.effective_priority == "P0"


def test_only_lifecycles_that_allow_it_have_major_tickets() -> None:
    ticket, _ = open_ticket(DESK["service_request"])
    with pytest.raises(InvalidTransition, match="cannot be major"):
        DESK["service_request"].apply(ticket, SetMajor(reason="r"), actor="m", at=MONDAY)


def test_a_custom_matrix_derives_the_priorities() -> None:
    lifecycle = Lifecycle(incident(), matrix=PriorityMatrix.glpi_5x5())
    ticket, _ = open_ticket(lifecycle, impact="very_high", urgency="very_high")
    assert ticket.derived_priority == lifecycle.matrix.derive("very_high", "very_high").name


# ------------------------------------------------------------------ fields


def test_descriptive_and_custom_fields_change_with_their_old_value() -> None:
    lifecycle = DESK["problem"]
    ticket, history = open_ticket(lifecycle)
    ticket = run(
        lifecycle,
        ticket,
        [
            (UpdateField(field="title", value="Spooler crashes"), AGENT),
            (UpdateField(field="service", value="printing"), AGENT),
            (UpdateField(field="root_cause", value="driver leak"), AGENT),
            (UpdateField(field="root_cause", value=None), AGENT),
        ],
        history,
    )
    changes = [(e.field, e.old, e.new, e.custom) for e in history if isinstance(e, FieldChanged)]
    assert changes == [
        ("title", "Mail is down", "Spooler crashes", False),
        ("service", None, "printing", False),
        ("root_cause", None, "driver leak", True),
        ("root_cause", "driver leak", None, True),
    ]
    assert ticket.custom("root_cause") is None
    assert ticket.service == "printing"
    same, events = lifecycle.apply(
        ticket, UpdateField(field="service", value="printing"), actor=AGENT, at=MONDAY
    )
    assert events == ()
    assert same is ticket


@pytest.mark.parametrize(
    "command",
    [
        UpdateField(field="title", value=""),
        UpdateField(field="state", value="closed"),
        UpdateField(field="root_cause", value=5),
        UpdateField(field="service", value=""),
    ],
)
def test_a_bad_field_update_is_refused(command: UpdateField) -> None:
    ticket, _ = open_ticket(DESK["problem"])
    with pytest.raises(InvalidValueError):
        DESK["problem"].apply(ticket, command, actor=AGENT, at=MONDAY)


# ------------------------------------------------------------------ links


def test_links_are_mirrored_on_the_other_ticket() -> None:
    ticket, _ = open_ticket()
    ticket, events = INCIDENT.apply(
        ticket, AddLink(kind="parent", target="INC-9"), actor=AGENT, at=MONDAY
    )
    (mirror,) = follow_ups(ticket, events)
    assert mirror.ticket_id == "INC-9"
    assert mirror.command == AddLink(kind="child", target="INC-1", reciprocal=True)
    parent, _ = open_ticket(ticket_id="INC-9")
    parent, mirrored = INCIDENT.apply(parent, mirror.command, actor=AGENT, at=MONDAY)
    assert parent.link_targets("child") == ("INC-1",)
    assert follow_ups(parent, mirrored) == ()
    again, nothing = INCIDENT.apply(parent, mirror.command, actor=AGENT, at=MONDAY)
    assert nothing == ()
    assert again is parent


@pytest.mark.parametrize(
    ("command", "match"),
    [
        (AddLink(kind="parent", target="INC-1"), "another ticket"),
        (AddLink(kind="merged_into", target="INC-2"), "one of parent"),
        (AddLink(kind="related", target="INC-7"), "not already related"),
        (AddLink(kind="parent", target="INC-8"), "already has a parent"),
        (AddLink(kind="child", target="INC-7"), "not already linked"),
        (AddLink(kind="related", target="INC-2", reciprocal="no"), "True or False"),  # type: ignore[arg-type]
        (RemoveLink(kind="duplicate_of", target="INC-2"), "linked as duplicate_of"),
    ],
)
def test_link_rules(command: TicketCommand, match: str) -> None:
    ticket, history = open_ticket()
    ticket = run(
        INCIDENT,
        ticket,
        [
            (AddLink(kind="parent", target="INC-7"), AGENT),
            (AddLink(kind="related", target="INC-7"), AGENT),
        ],
        history,
    )
    with pytest.raises(InvalidValueError, match=match):
        INCIDENT.apply(ticket, command, actor=AGENT, at=MONDAY)


def test_removing_a_link_is_mirrored_too() -> None:
    ticket, history = open_ticket()
    ticket = run(INCIDENT, ticket, [(AddLink(kind="related", target="INC-5"), AGENT)], history)
    ticket, events = INCIDENT.apply(
        ticket, RemoveLink(kind="related", target="INC-5"), actor=AGENT, at=MONDAY
    )
    assert isinstance(events[0], Unlinked)
    assert ticket.links == ()
    (mirror,) = follow_ups(ticket, events)
    assert mirror.command == RemoveLink(kind="related", target="INC-1", reciprocal=True)
    other, _ = open_ticket(ticket_id="INC-5")
    same, nothing = INCIDENT.apply(other, mirror.command, actor=AGENT, at=MONDAY)
    assert nothing == ()
    assert same is other


def test_resolving_a_parent_resolves_its_children_but_closing_it_does_not_close_them() -> None:
    parent, history = in_progress()
    parent = run(
        INCIDENT,
        parent,
        [
            (AddLink(kind="child", target="INC-2"), AGENT),
            (AddLink(kind="duplicate", target="INC-3"), AGENT),
        ],
        history,
    )
    parent, events = INCIDENT.apply(
        parent,
        Transition(trigger="resolve", resolution_code="fixed", reason="new disk"),
        actor=AGENT,
        at=MONDAY,
    )
    wanted = follow_ups(parent, events)
    assert [(f.ticket_id, f.because) for f in wanted] == [
        ("INC-2", "parent INC-1 resolved"),
        ("INC-3", "original INC-1 resolved"),
    ]
    child, _ = in_progress()
    child = attrs.evolve(child, id="INC-2")
    child, _ = INCIDENT.apply(child, wanted[0].command, actor="system", at=MONDAY)
    assert (child.state, child.resolution_code, child.resolution) == (
        "resolved",
        "fixed",
        "new disk",
    )
    parent, events = INCIDENT.apply(parent, Transition(trigger="close"), actor=REQUESTER, at=MONDAY)
    assert follow_ups(parent, events) == ()


def test_merging_moves_the_ticket_to_merged_and_links_both() -> None:
    ticket, history = open_ticket()
    survivor, _ = open_ticket(ticket_id="INC-2")
    ticket = run(INCIDENT, ticket, [(Merge(into=survivor, reason="same outage"), AGENT)], history)
    merged, change = history[-2:]
    assert isinstance(merged, Merged)
    assert merged.into == "INC-2"
    assert isinstance(change, StateChanged)
    assert change.to_state == "merged"
    assert ticket.is_final
    assert ticket.link_targets("merged_into") == ("INC-2",)
    (mirror,) = follow_ups(ticket, history[-2:])
    survivor, _ = INCIDENT.apply(survivor, mirror.command, actor=AGENT, at=MONDAY)
    assert survivor.link_targets("merged_from") == ("INC-1",)


def test_merge_refuses_self_merge_and_merging_into_a_merged_ticket() -> None:
    ticket, _ = open_ticket()
    with pytest.raises(InvalidValueError, match="cannot be merged into itself"):
        INCIDENT.apply(ticket, Merge(into=ticket), actor=AGENT, at=MONDAY)
    other, _ = open_ticket(ticket_id="INC-2")
    third, _ = open_ticket(ticket_id="INC-3")
    other, _ = INCIDENT.apply(other, Merge(into=third), actor=AGENT, at=MONDAY)
    with pytest.raises(InvalidValueError, match="neither merged nor final"):
        INCIDENT.apply(ticket, Merge(into=other), actor=AGENT, at=MONDAY)
    with pytest.raises(InvalidValueError, match="the Ticket to merge into"):
        INCIDENT.apply(ticket, Merge(into="INC-3"), actor=AGENT, at=MONDAY)  # type: ignore[arg-type]


def test_a_split_opens_a_new_linked_ticket() -> None:
    ticket, _ = open_ticket(impact="low", urgency="high", service="print")
    ticket, events = INCIDENT.apply(
        ticket,
        Split(new_ticket_id="INC-2", title="Second printer", description="2nd floor"),
        actor=AGENT,
        at=MONDAY,
    )
    assert isinstance(events[0], TicketSplit)
    assert ticket.link_targets("split_into") == ("INC-2",)
    (opening,) = follow_ups(ticket, events)
    assert isinstance(opening.command, OpenTicket)
    new, _opened = INCIDENT.apply(None, opening.command, actor=AGENT, at=MONDAY)
    assert (new.id, new.title, new.urgency, new.service) == (
        "INC-2",
        "Second printer",
        "high",
        "print",
    )
    assert new.link_targets("split_from") == ("INC-1",)
    with pytest.raises(InvalidValueError, match="a new ticket id"):
        INCIDENT.apply(ticket, Split(new_ticket_id="INC-2", title="again"), actor=AGENT, at=MONDAY)


# ------------------------------------------------------------------ approvals


def approval_ready() -> tuple[Lifecycle, Ticket, list[Event]]:
    lifecycle = DESK["normal_change"]
    ticket, history = open_ticket(lifecycle)
    ticket = run(
        lifecycle,
        ticket,
        [
            (Transition(trigger="assess"), AGENT),
            (UpdateField(field="backout_plan", value="restore snapshot"), AGENT),
            (RequestApproval(approvers=("cab.chair", "cab.deputy"), reason="risk medium"), AGENT),
        ],
        history,
    )
    return lifecycle, ticket, history


def test_a_normal_change_needs_approval_before_it_is_implemented() -> None:
    lifecycle, ticket, history = approval_ready()
    assert isinstance(history[-2], ApprovalRequested)
    assert ticket.approvers == (
        "cab.chair",
        "cab.deputy",
    )
    assert ticket.state == "awaiting_approval"
    assert ticket.approval == "requested"
    with pytest.raises(PermissionDenied, match="not among the requested approvers"):
        lifecycle.apply(ticket, Approve(), actor=AGENT, at=MONDAY)
    ticket = run(lifecycle, ticket, [(Approve(comment="ok"), "cab.deputy")], history)
    assert isinstance(history[-2], ApprovalGiven)
    assert ticket.approval == "approved"
    ticket = run(lifecycle, ticket, [(Transition(trigger="start"), AGENT)], history)
    assert ticket.state == "implementing"


def test_a_refusal_needs_a_reason_and_ends_the_change() -> None:
    lifecycle, ticket, history = approval_ready()
    with pytest.raises(InvalidValueError, match=r"command.reason"):
        lifecycle.apply(ticket, Refuse(reason=""), actor="cab.chair", at=MONDAY)
    ticket = run(lifecycle, ticket, [(Refuse(reason="no test plan"), "cab.chair")], history)
    refused = history[-2]
    assert isinstance(refused, ApprovalRefused)
    assert refused.reason == "no test plan"
    assert (ticket.state, ticket.state_category, ticket.approval) == (
        "rejected",
        "cancelled",
        "refused",
    )


def test_requesting_approval_needs_the_backout_plan_and_valid_approvers() -> None:
    lifecycle = DESK["normal_change"]
    ticket, _ = open_ticket(lifecycle)
    ticket, _ = lifecycle.apply(ticket, Transition(trigger="assess"), actor=AGENT, at=MONDAY)
    with pytest.raises(InvalidValueError, match="backout_plan"):
        lifecycle.apply(ticket, RequestApproval(), actor=AGENT, at=MONDAY)
    assert RequestApproval(approvers=["x"]).approvers == ("x",)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"approvers\[0\]"):
        lifecycle.apply(ticket, RequestApproval(approvers=("",)), actor=AGENT, at=MONDAY)


def test_approval_commands_outside_the_table_are_invalid_transitions() -> None:
    ticket, _ = open_ticket()
    for command in (RequestApproval(), Approve(), Refuse(reason="r")):
        with pytest.raises(InvalidTransition):
            INCIDENT.apply(ticket, command, actor=AGENT, at=MONDAY)


def test_an_emergency_change_is_approved_by_anyone_when_no_approver_is_named() -> None:
    lifecycle = DESK["emergency_change"]
    ticket, history = open_ticket(lifecycle)
    ticket = run(lifecycle, ticket, [(RequestApproval(), AGENT), (Approve(), "ecab")], history)
    assert ticket.state == "implementing"


# ------------------------------------------------------------------ permissions hook


class Recorder:
    def __init__(self, deny: set[str] | None = None) -> None:
        self.calls: list[tuple[str, str, Ticket | None, object]] = []
        self.deny = deny or set()

    def check(self, actor: str, action: str, ticket: Ticket | None, command: object) -> None:
        self.calls.append((actor, action, ticket, command))
        if action in self.deny:
            raise PermissionDenied(principal=actor, action=action, reasons=("test policy",))


def test_the_authorizer_is_asked_before_anything_changes_with_the_commands_action() -> None:
    recorder = Recorder()
    assert isinstance(recorder, Authorizer)
    command = OpenTicket(ticket_id="INC-1", type="incident", title="t", requester=REQUESTER)
    ticket, _ = INCIDENT.apply(None, command, actor=REQUESTER, at=MONDAY, authorizer=recorder)
    assert recorder.calls == [(REQUESTER, "create", None, command)]
    denier = Recorder(deny={"transition:cancel"})
    with pytest.raises(PermissionDenied):
        INCIDENT.apply(
            ticket,
            Transition(trigger="cancel", reason="dup"),
            actor="x",
            at=MONDAY,
            authorizer=denier,
        )
    assert denier.calls[-1][:3] == ("x", "transition:cancel", ticket)
    # denial comes first, even for a command that would also be illegal
    with pytest.raises(PermissionDenied):
        INCIDENT.apply(
            ticket, Transition(trigger="cancel"), actor="x", at=MONDAY, authorizer=denier
        )
    with pytest.raises(PermissionDenied):
        INCIDENT.apply(None, command, actor="x", at=MONDAY, authorizer=Recorder(deny={"create"}))


@pytest.mark.parametrize(
    ("command", "action"),
    [
        (Assign(assignee="a"), "assign"),
        (Reassign(assignee="a"), "reassign"),
        (AddComment(body="b"), "comment.public"),
        (AddComment(body="b", public=False), "comment.internal"),
        (OverridePriority(priority="P1", reason="r"), "priority.override"),
        (SetMajor(reason="r"), "priority.set_major"),
        (ClearMajor(reason="r"), "priority.clear_major"),
        (Classify(impact="high"), "priority.classify"),
        (Transition(trigger="resolve"), "transition:resolve"),
        (UpdateField(field="title", value="t"), "update:title"),
        (AddLink(kind="related", target="X"), "link"),
        (RemoveLink(kind="related", target="X"), "unlink"),
        (Split(new_ticket_id="X", title="t"), "split"),
        (RequestApproval(), "approval.request"),
        (Approve(), "approval.give"),
        (Refuse(reason="r"), "approval.refuse"),
    ],
)
def test_every_command_names_its_action(command: TicketCommand, action: str) -> None:
    assert command.action == action


def test_available_commands_follow_state_guards_policies_and_the_authorizer() -> None:
    ticket, _ = open_ticket()
    actions = INCIDENT.available_commands(ticket, AGENT)
    assert "assign" in actions
    assert "reassign" not in actions
    assert {"transition:cancel", "merge", "priority.set_major"} <= set(actions)
    assert "transition:start" not in actions
    ticket, _ = resolved()
    assert "transition:close" not in INCIDENT.available_commands(ticket, AGENT)
    assert "transition:close" in INCIDENT.available_commands(ticket, REQUESTER)
    late = MONDAY + timedelta(days=30)
    assert "transition:reopen" not in INCIDENT.available_commands(ticket, REQUESTER, at=late)
    assert "transition:auto_close" in INCIDENT.available_commands(ticket, "system", at=late)
    limited = INCIDENT.available_commands(
        ticket, REQUESTER, authorizer=Recorder(deny={"transition:close", "comment.internal"})
    )
    assert "transition:close" not in limited
    assert "comment.internal" not in limited
    assert "comment.public" in limited


def test_available_commands_offer_hold_whatever_the_reason_and_unlink_only_with_links() -> None:
    ticket, _ = in_progress()
    actions = INCIDENT.available_commands(ticket, AGENT)
    assert "transition:hold" in actions
    assert "unlink" not in actions
    assert "reassign" in actions
    ticket, _ = INCIDENT.apply(ticket, AddLink(kind="related", target="X"), actor=AGENT, at=MONDAY)
    assert "unlink" in INCIDENT.available_commands(ticket, AGENT)
    ticket, _ = INCIDENT.apply(ticket, SetMajor(reason="r"), actor=AGENT, at=MONDAY)
    assert "priority.clear_major" in INCIDENT.available_commands(ticket, AGENT)


def test_every_available_transition_is_accepted_with_its_required_fields() -> None:
    for lifecycle in DESK.values():
        ticket, _ = open_ticket(lifecycle)
        for action in lifecycle.available_commands(ticket, REQUESTER):
            if action.startswith("transition:"):
                command = Transition(
                    trigger=action.removeprefix("transition:"), reason="r", resolution_code="c"
                )
                assert lifecycle.may(ticket, command, actor=REQUESTER, at=MONDAY), action


@given(ticket_histories(max_steps=12))
def test_available_transitions_are_exactly_the_ones_that_may_fire(history: object) -> None:
    from itsm_core.testing._ticket_strategies import TICKET_ACTORS, TicketHistory

    assert isinstance(history, TicketHistory)
    lifecycle, ticket = history.lifecycle, history.ticket
    at = ticket.updated_at
    for actor in TICKET_ACTORS:
        offered = {
            a.removeprefix("transition:")
            for a in lifecycle.available_commands(ticket, actor)
            if a.startswith("transition:")
        }
        possible = set()
        for trigger in lifecycle.triggers_from(ticket.state):
            for hold in (
                None,
                "awaiting_requester",
                "awaiting_vendor",
                "awaiting_change",
                "awaiting_problem",
            ):
                command = Transition(
                    trigger=trigger, reason="r", resolution_code="c", hold_reason=hold
                )
                if lifecycle.may(ticket, command, actor=actor, at=at):
                    possible.add(trigger)
        # custom fields a transition requires may be missing: offered is a superset
        assert possible <= offered
        assert offered - possible <= {"record_known_error", "resolve"}


@given(ticket_histories(max_steps=15))
def test_replaying_any_valid_history_gives_the_live_ticket(history: object) -> None:
    from itsm_core.testing._ticket_strategies import TicketHistory

    assert isinstance(history, TicketHistory)
    assert history.lifecycle.replay(history.events) == history.ticket
    assert replay(history.lifecycle, history.events) == history.ticket
    assert DESK.replay(history.events) == history.ticket
    assert history.ticket.version == len(history.events)


# ------------------------------------------------------------------ replay checks


def test_replay_refuses_a_history_of_another_lifecycle_or_with_wrong_states() -> None:
    _ticket, history = in_progress()
    with pytest.raises(InvalidValueError, match=r"events\[0\].type"):
        DESK["problem"].replay(history)
    opened = history[0]
    assert isinstance(opened, TicketOpened)
    wrong_category = attrs.evolve(opened, state_category="active")
    with pytest.raises(InvalidValueError, match="state_category"):
        INCIDENT.replay([wrong_category, *history[1:]])
    change = history[-1]
    assert isinstance(change, StateChanged)
    with pytest.raises(InvalidValueError, match="from_state"):
        INCIDENT.replay([*history, change])
    with pytest.raises(InvalidValueError, match="to_category"):
        INCIDENT.replay([*history[:-1], attrs.evolve(change, to_category="resolved")])
    with pytest.raises(InvalidValueError, match="state"):
        INCIDENT.replay([*history[:-1], attrs.evolve(change, to_state="limbo")])
    with pytest.raises(InvalidValueError, match=r"events\[0\]"):
        DESK.replay(history[1:])
    with pytest.raises(InvalidValueError):
        INCIDENT.replay([])
    with pytest.raises(InvalidValueError, match=r"events\[1\]: expected an Event"):
        INCIDENT.replay([history[0], "assigned"])  # type: ignore[list-item]


# ------------------------------------------------------------------ registry, table, diagrams


def test_the_registry_dispatches_on_the_ticket_type() -> None:
    assert set(DESK) == {d.name for d in default_definitions()}
    with pytest.raises(InvalidValueError, match="a ticket type"):
        DESK["hamster"]
    with pytest.raises(InvalidValueError, match="one lifecycle per ticket type"):
        Lifecycles([INCIDENT, INCIDENT])
    with pytest.raises(InvalidValueError):
        DESK.apply(None, Transition(trigger="start"), actor="a", at=MONDAY)
    ticket, _ = DESK.apply(
        None,
        OpenTicket(ticket_id="P-1", type="problem", title="t", requester="r"),
        actor="r",
        at=MONDAY,
    )
    assert DESK.for_ticket(ticket, AddComment(body="x")) is DESK["problem"]
    assert repr(DESK["problem"]).startswith("Lifecycle('problem'")


def test_the_compiled_table_agrees_with_the_transitions_machine() -> None:
    """The reference: fire the ``transitions`` machine itself with a throwaway model."""
    for lifecycle in DESK.values():
        ticket, _ = open_ticket(lifecycle)
        probe = MachineProbe(lifecycle.machine)
        triggers = sorted({t.trigger for t in lifecycle.definition.transitions})
        for state in lifecycle.states:
            for major in (False, True):
                for assignee in (None, AGENT):
                    for hold in (None, "awaiting_requester", "awaiting_vendor", "awaiting_change"):
                        current = attrs.evolve(
                            ticket,
                            state=state,
                            state_category=lifecycle.category_of(state),
                            major=major,
                            assignee=assignee,
                            approval="approved" if major else None,
                        )
                        ctx = _Ctx(current, REQUESTER, MONDAY, hold)
                        for trigger in triggers:
                            candidates = lifecycle.transitions_from(state, trigger)
                            from itsm_core.lifecycle._engine import evaluate_guards

                            compiled = next(
                                (c.dest for c in candidates if evaluate_guards(c.guards, ctx)), None
                            )
                            assert probe.dest(state, trigger, ctx) == compiled
                            if state == lifecycle.states[0] and not major and hold is None:
                                assert machine_dest(lifecycle.machine, state, trigger, ctx) == (
                                    compiled
                                )
        probe.close()
        assert lifecycle.machine.models == []


def test_final_states_have_no_exits_in_every_default_lifecycle() -> None:
    for lifecycle in DESK.values():
        for state in lifecycle.states:
            if lifecycle.is_final(state):
                assert lifecycle.triggers_from(state) == ()
                assert lifecycle.machine.get_triggers(state) == []
            else:
                assert lifecycle.triggers_from(state)


def test_unknown_states_are_named_in_queries() -> None:
    with pytest.raises(InvalidValueError, match="a state of lifecycle 'incident'"):
        INCIDENT.category_of("limbo")
    with pytest.raises(InvalidValueError):
        INCIDENT.triggers_from("limbo")


def test_diagrams_show_every_state_and_transition_of_the_machine() -> None:
    for lifecycle in DESK.values():
        mermaid = to_mermaid(lifecycle)
        dot = to_dot(lifecycle)
        assert mermaid == lifecycle.to_mermaid()
        assert dot == lifecycle.to_dot()
        assert mermaid.startswith("stateDiagram-v2\n")
        assert dot.startswith(f'digraph "{lifecycle.name}" {{')
        edges = sum(len(t.source) for t in lifecycle.definition.transitions)
        assert mermaid.count(" --> ") == edges + 1 + sum(
            lifecycle.is_final(s) for s in lifecycle.states
        )
        assert dot.count(" -> ") == edges + 1
        for state in lifecycle.states:
            assert f'"{state}" [label=' in dot
            assert state.replace(".", "__") in mermaid
    assert 'ltail="cluster_on_hold"' in INCIDENT.to_dot()
    assert "state on_hold {" in INCIDENT.to_mermaid()


def test_problem_and_change_policies_differ_from_the_service_desk_ones() -> None:
    assert problem().policies.closure_confirmed_by_requester is False
    assert normal_change().policies.auto_close_after_days is None
    assert Policies().reopen_by == ("requester",)


def test_watchers_and_the_customer_are_kept_on_the_ticket() -> None:
    ticket, history = open_ticket(customer="acme")
    assert ticket.customer == "acme"
    ticket = run(
        INCIDENT,
        ticket,
        [
            (Watch(watcher="lead"), AGENT),
            (Watch(watcher="lead"), AGENT),
            (Watch(watcher="boss"), AGENT),
            (Unwatch(watcher="lead"), AGENT),
            (Unwatch(watcher="nobody"), AGENT),
            (UpdateField(field="customer", value="globex"), AGENT),
        ],
        history,
    )
    assert [type(e) for e in history[1:]] == [Watched, Watched, Unwatched, FieldChanged]
    assert ticket.watchers == ("boss",)
    assert ticket.customer == "globex"
    assert "unwatch" in INCIDENT.available_commands(ticket, AGENT)
    assert Watch(watcher="x").action == "watch"
    assert Unwatch(watcher="x").action == "unwatch"
    with pytest.raises(InvalidValueError, match=r"command\.watcher"):
        INCIDENT.apply(ticket, Watch(watcher=""), actor=AGENT, at=MONDAY)
    assert INCIDENT.replay(history) == ticket


def test_the_markdown_tables_list_every_state_transition_field_and_policy() -> None:
    for lifecycle in DESK.values():
        text = lifecycle.to_markdown()
        rows = [line for line in text.splitlines() if line.startswith("| `")]
        definition = lifecycle.definition
        assert len(rows) == len(lifecycle.states) + len(definition.transitions) + len(
            definition.fields
        )
        assert "| reopen window |" in text
    assert "| `risk` | str | low, medium, high |" in DESK["normal_change"].to_markdown()


def test_a_lone_impact_or_urgency_is_checked_against_the_enabled_levels() -> None:
    matrix = attrs.evolve(PriorityMatrix.glpi_5x5(), disabled_urgency=("very_high",))
    lifecycle = Lifecycle(incident(), matrix=matrix)
    ticket, _ = open_ticket(lifecycle, impact="very_high")
    assert ticket.derived_priority is None
    with pytest.raises(InvalidValueError, match="urgency") as caught:
        open_ticket(lifecycle, urgency="very_high")
    assert caught.value.field == "urgency"


def test_a_ticket_in_a_state_the_lifecycle_does_not_know_is_refused() -> None:
    ticket, _ = open_ticket()
    lost = attrs.evolve(ticket, state="limbo")
    with pytest.raises(InvalidValueError, match=r"ticket\.state"):
        INCIDENT.apply(lost, Transition(trigger="start"), actor=AGENT, at=MONDAY)
    with pytest.raises(InvalidValueError, match="a state of lifecycle"):
        INCIDENT.available_commands(lost, AGENT)


ODD_VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [
        None,
        "",
        " ",
        "x",
        "P1",
        "high",
        "resolve",
        "INC-1",
        0,
        1,
        -1,
        True,
        2.5,
        (),
        ("x",),
        ["x"],
        {},
    ]
)


def odd_command() -> st.SearchStrategy[TicketCommand]:
    """Every command class with odd values in every field."""
    classes = [
        Transition,
        Assign,
        Reassign,
        AddComment,
        Classify,
        OverridePriority,
        SetMajor,
        ClearMajor,
        UpdateField,
        AddLink,
        RemoveLink,
        Split,
        RequestApproval,
        Approve,
        Refuse,
        Watch,
        Unwatch,
    ]
    return st.one_of(
        [st.builds(cls, **{a.name: ODD_VALUES for a in attrs.fields(cls)}) for cls in classes]
    )


@given(ticket_histories(max_steps=8), odd_command(), ODD_VALUES)
def test_odd_input_raises_only_the_librarys_own_errors_and_changes_nothing(
    history: object, command: TicketCommand, actor: Any
) -> None:
    from itsm_core.errors import ItsmError
    from itsm_core.testing._ticket_strategies import TicketHistory

    assert isinstance(history, TicketHistory)
    before = history.ticket
    for who in (actor, "agent.ann"):
        try:
            after, events = history.lifecycle.apply(
                before,
                command,
                actor=who,
                at=before.updated_at,
            )
        except ItsmError:
            continue
        assert after.version == before.version + len(events)
        assert history.lifecycle.replay((*history.events, *events)) == after


@given(
    st.builds(OpenTicket, **{a.name: ODD_VALUES for a in attrs.fields(OpenTicket)}),
    st.sampled_from(sorted(DESK)),
)
def test_odd_opening_input_raises_only_the_librarys_own_errors(
    command: OpenTicket, ticket_type: str
) -> None:
    from itsm_core.errors import ItsmError

    command = attrs.evolve(command, type=ticket_type)
    try:
        ticket, events = DESK.apply(None, command, actor="rita", at=MONDAY)
    except ItsmError:
        return
    assert DESK.replay(events) == ticket


def commands_for(lifecycle: Lifecycle, ticket: Ticket, trigger: str) -> list[TicketCommand]:
    """Commands that fire ``trigger``, with what its transitions may require."""
    if trigger == "assign":
        return [Assign(assignee=AGENT)]
    if trigger == "reassign":
        return [Reassign(assignee="erin", group="network", support_line=2)]
    if trigger == "requester_reply":
        return [AddComment(body="here you are")]
    if trigger == "request_approval":
        return [RequestApproval()]
    if trigger == "approve":
        return [Approve()]
    if trigger == "refuse":
        return [Refuse(reason="too risky")]
    if trigger == "merge":
        survivor = attrs.evolve(ticket, id="SURVIVOR", state=lifecycle.definition.initial)
        return [Merge(into=attrs.evolve(survivor, state_category="new"))]
    holds = {
        value
        for candidate in lifecycle.transitions_from(ticket.state, trigger)
        for guard in candidate.guards
        if guard.kind == "hold_reason"
        for value in guard.values
    }
    choices: list[str | None] = [*sorted(holds)] or [None]
    return [
        Transition(trigger=trigger, reason="r", resolution_code="c", hold_reason=hold)
        for hold in choices
    ]


def test_every_state_of_every_default_lifecycle_is_reachable_through_commands() -> None:
    for lifecycle in DESK.values():
        ticket, _ = open_ticket(lifecycle)
        for field in lifecycle.definition.fields:
            value = field.choices[0] if field.choices else "set"
            ticket, _ = lifecycle.apply(
                ticket, UpdateField(field=field.name, value=value), actor=AGENT, at=MONDAY
            )
        reached = {ticket.state: ticket}
        todo = [ticket]
        while todo:
            current = todo.pop()
            for trigger in lifecycle.triggers_from(current.state):
                for command in commands_for(lifecycle, current, trigger):
                    for actor in (REQUESTER, AGENT):
                        if not lifecycle.may(current, command, actor=actor, at=MONDAY):
                            continue
                        after, _ = lifecycle.apply(current, command, actor=actor, at=MONDAY)
                        if after.state not in reached:
                            reached[after.state] = after
                            todo.append(after)
        assert set(reached) == set(lifecycle.states), lifecycle.name


def test_a_desk_answers_membership_and_get_without_raising() -> None:
    from itsm_core.lifecycle import default_lifecycles

    desk = default_lifecycles()
    assert "incident" in desk
    assert "spaceship" not in desk
    assert desk.get("spaceship") is None
    assert desk.get("incident") is desk["incident"]
