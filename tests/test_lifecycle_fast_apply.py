"""The records the hot path of ``Lifecycle.apply`` writes are the records ``attrs`` would build.

Tickets and events are written as drafts of the same layout and then finished
into the frozen record; a state change and an assignment write the new ticket
in one pass from their values. Whatever the path, the record equals the one
``attrs.evolve`` or the keyword constructor builds, and behaves like it
(frozen, hashable, picklable, weakly referable).
"""

from __future__ import annotations

import copy
import pickle
import weakref
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.errors import InvalidTransition, InvalidValueError, PermissionDenied
from itsm_core.lifecycle import Lifecycle, default_definitions, incident
from itsm_core.lifecycle._fast import trusted_builder
from itsm_core.testing._memo import sampled
from itsm_core.testing._ticket_strategies import TICKET_ACTORS
from itsm_core.ticket import (
    Assign,
    Assigned,
    Attachment,
    Event,
    Link,
    OpenTicket,
    StateChanged,
    Ticket,
    TicketOpened,
    Transition,
    _evolve,
    _slot_writer,
)

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
LIFECYCLES = {d.name: Lifecycle(d) for d in default_definitions()}
REFUSALS = (InvalidTransition, InvalidValueError, PermissionDenied)
#: Small finite spaces: a quarter of the profile's examples (500 under ``ci``), never fewer
#: than 100.
SMALL_SPACE = settings(max_examples=max(100, settings().max_examples // 4))

#: Values a change may give each kind of field (valid for the field's type).
CHANGES: dict[str, st.SearchStrategy[Any]] = {
    "state": st.sampled_from(("new", "assigned", "resolved")),
    "state_category": st.sampled_from(("new", "active", "resolved", "closed")),
    "title": st.sampled_from(("t", "Printer jam")),
    "assignee": st.sampled_from((None, *TICKET_ACTORS)),
    "group": st.sampled_from((None, "service-desk")),
    "support_line": st.sampled_from((None, 1, 2)),
    "major": st.booleans(),
    "hold_reason": st.sampled_from((None, "awaiting_vendor")),
    "resolution": st.sampled_from(("", "part replaced")),
    "watchers": st.sampled_from(((), ("ann",), ("ann", "bob"))),
    "links": st.sampled_from(((), (Link(kind="parent", ticket_id="T-9"),))),
    "custom_fields": st.sampled_from(((), (("workaround", "reboot"),))),
    "resolved_at": st.sampled_from((None, START + timedelta(hours=2))),
    "updated_at": st.sampled_from((START, START + timedelta(hours=3))),
    "reopenings": st.integers(0, 3),
    "version": st.integers(1, 9),
}


def tickets() -> st.SearchStrategy[Ticket]:
    return st.builds(
        Ticket,
        id=st.just("T-1"),
        type=st.just("incident"),
        state=st.sampled_from(("new", "assigned", "resolved")),
        state_category=st.sampled_from(("new", "active", "resolved")),
        title=st.just("t"),
        requester=st.sampled_from(TICKET_ACTORS),
        opened_at=st.just(START),
        updated_at=st.just(START + timedelta(minutes=5)),
        assignee=st.sampled_from((None, *TICKET_ACTORS)),
        watchers=st.sampled_from(((), ("ann",))),
        reopenings=st.integers(0, 2),
        version=st.integers(1, 5),
    )


@SMALL_SPACE
@given(
    tickets(), st.dictionaries(st.sampled_from(sorted(CHANGES)), st.none(), max_size=6), st.data()
)
def test_the_fold_evolves_a_ticket_exactly_as_attrs_evolve_does(
    ticket: Ticket, names: dict[str, None], data: st.DataObject
) -> None:
    changes = {name: data.draw(CHANGES[name], label=name) for name in names}
    new = _evolve(ticket, dict(changes))
    expected = attrs.evolve(ticket, **changes)
    assert type(new) is Ticket
    assert (new, hash(new), repr(new)) == (expected, hash(expected), repr(expected))
    assert attrs.asdict(new) == attrs.asdict(expected)


@SMALL_SPACE
@given(
    tickets(),
    st.sampled_from(TICKET_ACTORS),
    st.sampled_from((None, "service-desk")),
    st.sampled_from((None, 1, 3)),
)
def test_an_assignment_folds_like_the_generic_fold_of_its_changes(
    ticket: Ticket, assignee: str, group: str | None, line: int | None
) -> None:
    event = Assigned(
        ticket_id=ticket.id,
        actor="dispatcher",
        at=ticket.updated_at + timedelta(minutes=1),
        assignee=assignee,
        group=group,
        support_line=line,
    )
    new = event.apply_to(ticket)
    assert type(new) is Ticket
    assert new == Event.apply_to(event, ticket)
    assert new == attrs.evolve(
        ticket,
        assignee=assignee,
        group=group,
        support_line=line,
        updated_at=event.at,
        version=ticket.version + 1,
    )


def test_an_assignment_for_no_ticket_or_another_ticket_is_refused_as_before() -> None:
    event = Assigned(ticket_id="T-1", actor="a", at=START, assignee="dana")
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


def test_a_ticket_and_its_events_from_the_hot_path_behave_as_ordinary_frozen_records() -> None:
    lifecycle = Lifecycle(incident())
    opening = OpenTicket(ticket_id="T-1", type="incident", title="t", requester="rita")
    ticket, opened = lifecycle.apply(None, opening, actor="rita", at=START)
    ticket, events = lifecycle.apply(
        ticket, Transition(trigger="cancel", reason="duplicate"), actor="rita", at=START
    )
    records: tuple[Any, ...] = (ticket, *opened, *events)
    for record in records:
        assert type(record) in (Ticket, TicketOpened, StateChanged)
        assert weakref.ref(record)() is record
        assert pickle.loads(pickle.dumps(record)) == record
        assert copy.deepcopy(record) == record
        assert hash(copy.copy(record)) == hash(record)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(record, attrs.fields(type(record))[0].name, "T-2")
    assert [type(ticket), type(opened[0]), type(events[0])] == [Ticket, TicketOpened, StateChanged]
    assert (ticket.state_category, ticket.closed_at) == ("cancelled", START)


def test_a_record_whose_layout_admits_no_draft_is_written_through_its_slots() -> None:
    # Link keeps its weak-reference slot among its own slots: no draft class fits it.
    write = _slot_writer(Link, "kind, target", {"kind": "kind", "ticket_id": "target"}, {})
    link = write("parent", "INC-7")
    assert (type(link), link) == (Link, Link(kind="parent", ticket_id="INC-7"))
    built = trusted_builder(Link)("child", "INC-8")
    assert (type(built), built) == (Link, Link(kind="child", ticket_id="INC-8"))


@st.composite
def openings(draw: st.DrawFn) -> tuple[Lifecycle, OpenTicket]:
    """Opening commands: half plain (valid values only), half with odd values too."""
    lifecycle = LIFECYCLES[draw(sampled(tuple(sorted(LIFECYCLES))))]
    odd = draw(st.booleans())

    def pick(valid: tuple[Any, ...], invalid: tuple[Any, ...]) -> Any:
        return draw(sampled(valid + invalid if odd else valid))

    levels = ("high", "medium", "low", None)
    text = ("", " ", 3, None)
    command = OpenTicket(
        ticket_id=pick(("T-1",), text),
        type=pick((lifecycle.name,), ("other",)),
        title=pick(("Printer jam", "t"), text),
        requester=pick(("rita",), text),
        description=pick(("", "tray 2"), (" ", None)),
        # A level the matrix does not know is refused by the derivation, on either path.
        impact=pick((*levels, "nope"), ("critical", "", 2)),
        urgency=pick(levels, ("critical", " ", 2)),
        category=pick((None, "hardware"), text),
        service=pick((None, "printing"), text),
        customer=pick((None, "acme"), text),
        channel=pick((None, "phone"), text),
        custom_fields=pick(((),), ((("workaround", "reboot"),), (("no", 1),))),
        links=pick(((),), ((Link(kind="parent", ticket_id="T-9"),),)),
        attachments=pick(((),), ((Attachment(id="a-1", file_name="f.png", size=3),),)),
    )
    return lifecycle, command


class Recorder:
    """An authorizer that writes down what it was asked and refuses one actor."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, object, object]] = []

    def check(self, actor: str, action: str, ticket: object, command: object) -> None:
        self.asked.append((actor, action, ticket, command))
        if actor == "manager":
            raise PermissionDenied(principal=actor, action=action)


def _outcome(call: Any, command: OpenTicket, actor: str, at: datetime) -> tuple[Any, ...]:
    recorder = Recorder()
    try:
        new, events = call(None, command, actor=actor, at=at, authorizer=recorder)
    except REFUSALS as error:
        return ("refused", type(error), str(error), recorder.asked)
    return ("applied", new, events, tuple(map(type, events)), repr(events), recorder.asked)


@SMALL_SPACE
@given(
    openings(),
    st.sampled_from(("rita", "rita", "manager", " ")),
    st.sampled_from((START, START.astimezone(timezone(timedelta(hours=-5))))),
)
def test_the_hot_path_and_the_reference_path_agree_on_every_opening(
    opening: tuple[Lifecycle, OpenTicket], actor: str, at: datetime
) -> None:
    lifecycle, command = opening
    fast = _outcome(lifecycle.apply, command, actor, at)
    assert fast == _outcome(lifecycle._apply_reference, command, actor, at)
    if fast[0] == "applied":
        assert type(fast[1]) is Ticket
        assert fast[1] == lifecycle.replay(fast[2])


def _relay() -> Lifecycle:
    """A lifecycle whose ``assign`` leaves and enters every kind of category."""
    from itsm_core.lifecycle import LifecycleDef, StateDef, TransitionDef

    def state(name: str, category: str, *children: StateDef) -> StateDef:
        return StateDef(name=name, category=category, children=children)

    def move(source: str, dest: str, trigger: str = "assign") -> TransitionDef:
        return TransitionDef(trigger=trigger, source=(source,), dest=dest)

    return Lifecycle(
        LifecycleDef(
            name="relay",
            initial="new",
            states=(
                state("new", "new"),
                state("queued", "new"),
                state("triage", "active"),
                state("parked", "on_hold", state("vendor", "on_hold")),
                state("solved", "resolved"),
                state("answered", "resolved"),
                state("done", "closed"),
                state("dropped", "cancelled"),
                state("idle", "active"),
            ),
            transitions=(
                move("new", "triage"),
                move("queued", "parked.vendor"),
                move("triage", "solved"),
                move("solved", "triage"),
                move("answered", "solved"),
                move("parked.vendor", "done"),
                move("idle", "dropped"),
                move("new", "queued", "go"),
                move("new", "answered", "go"),
                move("new", "idle", "go"),
            ),
        )
    )


@pytest.mark.parametrize(
    "state", ["new", "queued", "triage", "parked.vendor", "solved", "answered", "idle"]
)
def test_an_assignment_that_moves_the_ticket_anywhere_folds_as_the_reference_does(
    state: str,
) -> None:
    lifecycle = _relay()
    category = lifecycle.category_of(state)
    resolved = category == "resolved"
    ticket = Ticket(
        id="R-1",
        type="relay",
        state=state,
        state_category=category,
        title="t",
        requester="rita",
        opened_at=START,
        updated_at=START,
        hold_reason="vendor" if category == "on_hold" else None,
        resolved_at=START if resolved else None,
        resolution_code="fixed" if resolved else None,
        resolution="done" if resolved else "",
        reopenings=1,
        version=4,
    )
    command = Assign(assignee="dana", group="desk", support_line=2)
    at = START + timedelta(hours=1)
    fast = lifecycle.apply(ticket, command, actor="dispatcher", at=at)
    slow = lifecycle._apply_reference(ticket, command, actor="dispatcher", at=at)
    assert fast == slow
    assert (type(fast[0]), fast[0].version, fast[0].assignee) == (Ticket, 6, "dana")
    assert [type(e) for e in fast[1]] == [Assigned, StateChanged]


def test_a_ticket_writer_of_a_name_that_is_no_field_is_refused_naming_the_fields() -> None:
    from itsm_core.lifecycle._fast import ticket_writer

    with pytest.raises(InvalidValueError, match=r"names: expected fields of Ticket: id, type"):
        ticket_writer(("state", "nope"))
