"""Stateful tests over every default lifecycle.

A ``RuleBasedStateMachine`` drives one ticket with legal and illegal commands
and checks, after every step, that:

* a ``Transition`` succeeds exactly when a slow reference reading the
  *definition* (not the compiled table) says it should, and lands where it says;
* a refused command raises ``InvalidTransition``, ``InvalidValueError`` or
  ``PermissionDenied`` and leaves the ticket as it was;
* the counters match the events, the version counts them, the category
  matches the lifecycle, final states have no exits and accept nothing;
* replaying the events from nothing gives the live ticket: after every step, the
  events so far folded by a checked ``History`` (which keeps the ticket after each
  event, so a step folds only its new events: the same left fold as a replay from
  nothing, at the cost of one step), and at the end the whole history replayed by
  ``Lifecycle.replay`` from an empty start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import product
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from itsm_core.errors import InvalidTransition, InvalidValueError, PermissionDenied
from itsm_core.lifecycle import (
    COMMAND_TRIGGERS,
    HOLD_REASONS,
    History,
    Lifecycle,
    LifecycleDef,
    TransitionDef,
    default_definitions,
)
from itsm_core.testing._ticket_strategies import TICKET_ACTORS, ticket_commands
from itsm_core.ticket import (
    AddComment,
    Assign,
    CommentAdded,
    Event,
    OpenTicket,
    Reassigned,
    SetMajor,
    StateChanged,
    Ticket,
    TicketCommand,
    Transition,
    UpdateField,
)

REFUSALS = (InvalidTransition, InvalidValueError, PermissionDenied)
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
STEPS = 30
#: Eight lifecycles share the example budget: each runs a quarter of the profile's examples
#: (500 of the ``ci`` profile's 2000, so 4000 runs of up to 30 steps in all) and never fewer
#: than 100. The single-ticket properties elsewhere run the full profile.
EXAMPLE_SCALE = 4


@cache
def trigger_choices(available: tuple[str, ...], triggers: tuple[str, ...]) -> Any:
    """Mostly a trigger the state has, else any trigger of the lifecycle or a bogus one.

    Two times in three one of ``available``, else one of all (as a choice between
    the two pools, the first twice, would): one draw from a tuple that repeats each
    pool in that proportion, shrinking towards the state's first trigger. Built
    once per pair (a strategy built on every step costs more than the draw).
    """
    anything = (*triggers, "explode")
    if not available:
        return st.sampled_from(anything)
    return st.sampled_from(available * (2 * len(anything)) + anything * len(available))


#: Who fires a trigger and the command's other fields, in one draw (the simplest first).
TRIGGER_FIELDS = st.sampled_from(
    tuple(product(TICKET_ACTORS, ("", "because"), (None, "", "fixed"), (None, *HOLD_REASONS)))
)


# ------------------------------------------------------------------ slow reference


def covers(source: str, state: str) -> bool:
    return state == source or state.startswith(source + ".")


def reference_candidates(definition: LifecycleDef, state: str, trigger: str) -> list[TransitionDef]:
    """The definition's transitions for ``trigger`` from ``state``: deepest source first."""
    found: list[tuple[int, int, TransitionDef]] = []
    for index, tr in enumerate(definition.transitions):
        if tr.trigger != trigger:
            continue
        depths = [src.count(".") for src in tr.source if covers(src, state)]
        if depths:
            found.append((-max(depths), index, tr))
    return [tr for _, _, tr in sorted(found, key=lambda item: (item[0], item[1]))]


def relation(name: str, ticket: Ticket, actor: str) -> bool:
    return {
        "anyone": True,
        "requester": actor == ticket.requester,
        "assignee": actor == ticket.assignee,
    }[name]


def guards_hold(tr: TransitionDef, ticket: Ticket, actor: str, command: Transition) -> bool:
    for guard in tr.guards:
        kind, values = guard.kind, guard.values
        if kind in ("actor_is", "actor_is_not"):
            related = any(relation(v, ticket, actor) for v in values)
            ok = related if kind == "actor_is" else not related
        else:
            ok = {
                "assigned": ticket.assignee is not None,
                "unassigned": ticket.assignee is None,
                "hold_reason": command.hold_reason in values,
                "approved": ticket.approval == "approved",
                "not_major": not ticket.major,
                "fields_set": all(ticket.custom(v) is not None for v in values),
            }[kind]
        if not ok:
            return False
    return True


def requirements_met(tr: TransitionDef, ticket: Ticket, command: Transition) -> bool:
    given = {
        "reason": command.reason,
        "resolution_code": command.resolution_code,
        "hold_reason": command.hold_reason,
    }
    return all(
        bool(given[name]) if name in given else ticket.custom(name) is not None
        for name in tr.requires
    )


def policy_allows(
    definition: LifecycleDef, trigger: str, ticket: Ticket, actor: str, at: datetime
) -> bool:
    policies = definition.policies
    if trigger == "reopen":
        if not any(relation(r, ticket, actor) for r in policies.reopen_by):
            return False
        days = policies.reopen_window_days
        assert ticket.resolved_at is not None
        return days is None or at <= ticket.resolved_at + timedelta(days=days)
    if trigger == "close":
        return not policies.closure_confirmed_by_requester or actor == ticket.requester
    if trigger == "auto_close":
        days = policies.auto_close_after_days
        if days is None or ticket.major:
            return False
        assert ticket.resolved_at is not None
        return at >= ticket.resolved_at + timedelta(days=days)
    return True


def expected_destination(
    definition: LifecycleDef, ticket: Ticket, command: Transition, actor: str, at: datetime
) -> str | None:
    """Where the reference says ``command`` leads, or ``None`` when it must be refused."""
    if command.trigger in COMMAND_TRIGGERS or "" in (command.resolution_code, command.hold_reason):
        return None  # fired by their own command; empty codes are bad input
    for tr in reference_candidates(definition, ticket.state, command.trigger):
        if guards_hold(tr, ticket, actor, command):
            if requirements_met(tr, ticket, command) and policy_allows(
                definition, command.trigger, ticket, actor, at
            ):
                return tr.dest
            return None
    return None


# ------------------------------------------------------------------ the machine


class LifecycleMachine(RuleBasedStateMachine):
    definition: LifecycleDef
    lifecycle: Lifecycle
    triggers: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.ticket: Ticket | None = None
        self.history: list[Event] = []
        self.replayed: History | None = None
        self.at = START

    @initialize(
        impact=st.sampled_from((None, "high", "medium", "low")),
        urgency=st.sampled_from((None, "high", "medium", "low")),
    )
    def open_ticket(self, impact: str | None, urgency: str | None) -> None:
        command = OpenTicket(
            ticket_id="T-1",
            type=self.lifecycle.name,
            title="stateful",
            requester=TICKET_ACTORS[0],
            impact=impact,
            urgency=urgency,
        )
        self.ticket, events = self.lifecycle.apply(
            None, command, actor=TICKET_ACTORS[0], at=self.at
        )
        self.history = list(events)
        self.replayed = History(events, lifecycle=self.lifecycle)

    @property
    def live(self) -> Ticket:
        assert self.ticket is not None
        return self.ticket

    def attempt(self, command: TicketCommand, actor: str, delay: int) -> bool:
        before = self.live
        self.at = self.at + timedelta(minutes=delay)
        try:
            ticket, events = self.lifecycle.apply(before, command, actor=actor, at=self.at)
        except REFUSALS:
            assert self.live is before
            return False
        assert ticket.version == before.version + len(events)
        assert all(
            e.ticket_id == before.id and e.actor == actor and e.at == self.at for e in events
        )
        self.ticket = ticket
        self.history += events
        assert self.replayed is not None
        self.replayed = self.replayed.append(*events)
        return True

    @rule(
        data=st.data(),
        delay=st.integers(min_value=0, max_value=4 * 24 * 60),
        fields=TRIGGER_FIELDS,
    )
    def fire_a_trigger(
        self,
        data: st.DataObject,
        delay: int,
        fields: tuple[str, str, str | None, str | None],
    ) -> None:
        actor, reason, resolution_code, hold_reason = fields
        ticket = self.live
        available = tuple(self.lifecycle.triggers_from(ticket.state))
        trigger = data.draw(trigger_choices(available, tuple(self.triggers)), label="trigger")
        command = Transition(
            trigger=trigger,
            reason=reason,
            resolution_code=resolution_code,
            hold_reason=hold_reason,
        )
        at = self.at + timedelta(minutes=delay)
        expected = expected_destination(self.definition, ticket, command, actor, at)
        succeeded = self.attempt(command, actor, delay)
        assert succeeded == (expected is not None), (ticket.state, command, actor)
        if succeeded:
            assert self.live.state == expected
            change = self.history[-1]
            assert isinstance(change, StateChanged)
            assert (change.from_state, change.to_state) == (ticket.state, expected)
            if change.to_category == "on_hold":
                assert change.hold_reason == expected.rsplit(".", 1)[-1]

    @rule(
        data=st.data(),
        actor=st.sampled_from(TICKET_ACTORS),
        delay=st.integers(min_value=0, max_value=24 * 60),
    )
    def apply_any_command(self, data: st.DataObject, actor: str, delay: int) -> None:
        command = data.draw(ticket_commands(self.lifecycle), label="command")
        before = self.live
        if self.attempt(command, actor, delay) and isinstance(command, Transition):
            expected = expected_destination(self.definition, before, command, actor, self.at)
            assert self.live.state == expected

    @rule(delay=st.integers(min_value=0, max_value=2 * 24 * 60))
    def requester_replies(self, delay: int) -> None:
        before = self.live
        resumes = (
            self.definition.policies.requester_reply_resumes
            and bool(reference_candidates(self.definition, before.state, "requester_reply"))
            and not before.is_final
        )
        assert self.attempt(AddComment(body="any news?"), TICKET_ACTORS[0], delay) == (
            not before.is_final
        )
        if resumes:
            assert isinstance(self.history[-1], StateChanged)
            assert self.history[-1].trigger == "requester_reply"

    @precondition(lambda self: self.ticket is not None and self.ticket.is_final)
    @rule()
    def a_final_ticket_accepts_nothing(self) -> None:
        commands: list[TicketCommand] = [
            Transition(trigger=t, reason="r", resolution_code="c") for t in self.triggers
        ]
        commands += [
            Assign(assignee="agent.ann"),
            AddComment(body="hello"),
            SetMajor(reason="r"),
            UpdateField(field="title", value="new"),
        ]
        for command in commands:
            for actor in TICKET_ACTORS:
                assert not self.attempt(command, actor, 0)

    @invariant()
    def the_ticket_agrees_with_its_events(self) -> None:
        if self.ticket is None:
            return
        ticket = self.ticket
        history = self.history
        assert self.replayed is not None
        assert self.replayed.ticket == ticket
        assert ticket.version == len(history)
        assert ticket.state in self.lifecycle.states
        assert ticket.state_category == self.lifecycle.category_of(ticket.state)
        assert ticket.reassignments == sum(isinstance(e, Reassigned) for e in history)
        assert ticket.reopenings == sum(
            isinstance(e, StateChanged) and e.is_reopening for e in history
        )
        replies = [e.at for e in history if isinstance(e, CommentAdded) and e.is_agent_reply]
        assert ticket.first_response_at == (replies[0] if replies else None)
        if ticket.is_final:
            assert self.lifecycle.triggers_from(ticket.state) == ()
            assert self.lifecycle.available_commands(ticket, "manager") == ()

    def teardown(self) -> None:
        if self.ticket is not None:
            assert self.lifecycle.replay(self.history) == self.ticket


COVERED: list[str] = []


def machine_for(definition: LifecycleDef) -> Any:
    COVERED.append(definition.name)
    machine: Any = type(
        f"{definition.name.title().replace('_', '')}Machine",
        (LifecycleMachine,),
        {
            "definition": definition,
            "lifecycle": Lifecycle(definition),
            "triggers": sorted({t.trigger for t in definition.transitions}),
        },
    )
    machine.TestCase.settings = settings(
        stateful_step_count=STEPS,
        max_examples=max(100, settings().max_examples // EXAMPLE_SCALE),
    )
    return machine.TestCase


_DEFINITIONS = {d.name: d for d in default_definitions()}
TestIncident = machine_for(_DEFINITIONS["incident"])
TestServiceRequest = machine_for(_DEFINITIONS["service_request"])
TestInformationRequest = machine_for(_DEFINITIONS["information_request"])
TestDocumentationRequest = machine_for(_DEFINITIONS["documentation_request"])
TestProblem = machine_for(_DEFINITIONS["problem"])
TestStandardChange = machine_for(_DEFINITIONS["standard_change"])
TestNormalChange = machine_for(_DEFINITIONS["normal_change"])
TestEmergencyChange = machine_for(_DEFINITIONS["emergency_change"])


def test_every_default_lifecycle_has_a_stateful_test() -> None:
    assert sorted(COVERED) == sorted(d.name for d in default_definitions())
