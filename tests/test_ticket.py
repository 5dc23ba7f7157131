"""The ticket record, its events and how they fold."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itsm_core.errors import InvalidValueError
from itsm_core.testing import events
from itsm_core.testing._ticket_strategies import TicketHistory, ticket_histories
from itsm_core.ticket import (
    CATEGORIES,
    FINAL_CATEGORIES,
    LINK_KINDS,
    ApprovalGiven,
    ApprovalRefused,
    ApprovalRequested,
    Assigned,
    CommentAdded,
    Event,
    FieldChanged,
    Link,
    Linked,
    MajorCleared,
    MajorSet,
    Merged,
    PriorityChanged,
    Reassigned,
    StateChanged,
    Ticket,
    TicketOpened,
    TicketSplit,
    Unlinked,
    event_writer,
    fold_events,
    inverse_link_kind,
    unrefusable_event,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def opened(**changes: Any) -> TicketOpened:
    event = TicketOpened(
        ticket_id="INC-1",
        actor="rita",
        at=AT,
        type="incident",
        state="new",
        state_category="new",
        title="Printer",
        requester="rita",
    )
    return attrs.evolve(event, **changes)


def common(minutes: int = 1) -> dict[str, Any]:
    return {"ticket_id": "INC-1", "actor": "dana", "at": AT + timedelta(minutes=minutes)}


def change(frm: str, frm_cat: str, to: str, to_cat: str, **extra: Any) -> StateChanged:
    return StateChanged(
        trigger="t",
        from_state=frm,
        to_state=to,
        from_category=frm_cat,
        to_category=to_cat,
        **common(),
        **extra,
    )


def test_the_categories_are_exactly_the_six_of_the_contract() -> None:
    assert CATEGORIES == ("new", "active", "on_hold", "resolved", "closed", "cancelled")
    assert {"closed", "cancelled"} == FINAL_CATEGORIES


def test_an_opening_event_makes_a_ticket_with_every_initial_field() -> None:
    event = opened(
        description="d",
        impact="high",
        urgency="low",
        derived_priority="P3",
        effective_priority="P3",
        category="hw",
        service="print",
        custom_fields=(("floor", 3),),
        links=(Link(kind="related", ticket_id="INC-0"),),
    )
    ticket = fold_events([event])
    assert (ticket.id, ticket.type, ticket.state, ticket.requester) == (
        "INC-1",
        "incident",
        "new",
        "rita",
    )
    assert (ticket.impact, ticket.urgency, ticket.derived_priority) == ("high", "low", "P3")
    assert ticket.custom("floor") == 3
    assert ticket.link_targets("related") == ("INC-0",)
    assert ticket.opened_at == ticket.updated_at == AT


def test_a_history_must_start_with_one_opening_event_for_one_ticket() -> None:
    with pytest.raises(InvalidValueError, match="TicketOpened event first"):
        fold_events([MajorSet(reason="r", **common())])
    with pytest.raises(InvalidValueError, match="expected an Event"):
        fold_events([opened(), "closed"])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match="no TicketOpened event after the first"):
        fold_events([opened(), opened()])
    with pytest.raises(InvalidValueError, match="the ticket's id 'INC-1'"):
        fold_events([opened(), MajorSet(reason="r", ticket_id="INC-2", actor="a", at=AT)])


def test_folding_counts_versions_and_moves_updated_at() -> None:
    ticket = fold_events([opened(), MajorSet(reason="r", **common(5))])
    assert ticket.version == 2
    assert ticket.updated_at == AT + timedelta(minutes=5)
    assert ticket.major


def test_resolving_records_when_and_how_and_reopening_counts() -> None:
    ticket = fold_events(
        [
            opened(),
            change(
                "new", "new", "resolved", "resolved", reason="rebooted", resolution_code="fixed"
            ),
        ]
    )
    assert (ticket.resolved_at, ticket.resolution, ticket.resolution_code) == (
        AT + timedelta(minutes=1),
        "rebooted",
        "fixed",
    )
    reopened = change("resolved", "resolved", "new", "new")
    assert reopened.is_reopening
    ticket = reopened.apply_to(ticket)
    assert (ticket.resolved_at, ticket.resolution_code, ticket.reopenings) == (None, None, 1)
    closing = change("new", "new", "closed", "closed")
    assert not closing.is_reopening
    assert closing.apply_to(ticket).closed_at == closing.at


def test_resolved_to_resolved_keeps_the_first_resolution() -> None:
    ticket = fold_events(
        [opened(), change("new", "new", "done", "resolved", reason="a", resolution_code="x")]
    )
    later = change("done", "resolved", "verified", "resolved", reason="b")
    assert later.apply_to(ticket).resolution == "a"


def test_the_hold_reason_lives_only_while_on_hold() -> None:
    held = fold_events(
        [opened(), change("new", "new", "on_hold.vendor", "on_hold", hold_reason="vendor")]
    )
    assert held.hold_reason == "vendor"
    assert (
        change("on_hold.vendor", "on_hold", "new", "new", hold_reason="x")
        .apply_to(held)
        .hold_reason
        is None
    )


def test_assignment_events_set_person_group_and_line_and_count_reassignments() -> None:
    ticket = fold_events(
        [
            opened(),
            Assigned(assignee="dana", group="desk", support_line=1, **common()),
            Reassigned(
                assignee="erin",
                group="net",
                support_line=2,
                from_assignee="dana",
                from_group="desk",
                from_support_line=1,
                **common(2),
            ),
        ]
    )
    assert (ticket.assignee, ticket.group, ticket.support_line, ticket.reassignments) == (
        "erin",
        "net",
        2,
        1,
    )


def test_only_an_agents_public_comment_is_a_first_response() -> None:
    internal = CommentAdded(body="b", public=False, by_requester=False, **common(1))
    requester = CommentAdded(body="b", public=True, by_requester=True, **common(2))
    reply = CommentAdded(body="b", public=True, by_requester=False, **common(3))
    later = CommentAdded(body="b", public=True, by_requester=False, **common(4))
    assert [c.is_agent_reply for c in (internal, requester, reply)] == [False, False, True]
    ticket = fold_events([opened(), internal, requester, reply, later])
    assert ticket.first_response_at == reply.at


def test_priority_events_keep_derived_override_and_effective() -> None:
    ticket = fold_events(
        [
            opened(),
            PriorityChanged(
                impact="low",
                urgency="low",
                derived="P5",
                override="P2",
                effective="P2",
                reason="VIP",
                **common(),
            ),
            MajorSet(reason="outage", **common(2)),
            MajorCleared(reason="over", **common(3)),
        ]
    )
    assert (ticket.derived_priority, ticket.priority_override, ticket.effective_priority) == (
        "P5",
        "P2",
        "P2",
    )
    assert not ticket.major


def test_field_links_merge_split_and_approval_events_fold() -> None:
    ticket = fold_events(
        [
            opened(),
            FieldChanged(field="title", old="Printer", new="Printers", **common()),
            FieldChanged(field="floor", old=None, new=3, custom=True, **common()),
            FieldChanged(field="aisle", old=None, new="b", custom=True, **common()),
            FieldChanged(field="floor", old=3, new=None, custom=True, **common()),
            Linked(kind="related", target="INC-5", **common()),
            Linked(kind="parent", target="INC-6", **common()),
            Unlinked(kind="related", target="INC-5", **common()),
            TicketSplit(new_ticket_id="INC-7", title="t", **common()),
            Merged(into="INC-8", **common()),
            ApprovalRequested(approvers=("cab",), **common()),
        ]
    )
    assert ticket.title == "Printers"
    assert ticket.custom_fields == (("aisle", "b"),)
    assert ticket.custom("floor", default=0) == 0
    assert ticket.links == (
        Link(kind="parent", ticket_id="INC-6"),
        Link(kind="split_into", ticket_id="INC-7"),
        Link(kind="merged_into", ticket_id="INC-8"),
    )
    assert (ticket.approval, ticket.approvers) == ("requested", ("cab",))
    assert ApprovalGiven(**common()).apply_to(ticket).approval == "approved"
    assert ApprovalRefused(reason="no", **common()).apply_to(ticket).approval == "refused"


def test_every_link_kind_has_an_inverse_whose_inverse_is_itself() -> None:
    for kind in LINK_KINDS:
        assert inverse_link_kind(inverse_link_kind(kind)) == kind
    with pytest.raises(InvalidValueError, match=r"link\.kind"):
        inverse_link_kind("sibling")


def test_a_ticket_is_frozen_and_hashable() -> None:
    ticket = fold_events([opened()])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ticket.state = "closed"  # type: ignore[misc]
    assert hash(ticket) == hash(fold_events([opened()]))


@given(ticket_histories(max_steps=15), st.data())
def test_folding_from_a_snapshot_equals_folding_from_nothing(
    history: TicketHistory, data: st.DataObject
) -> None:
    events = history.events
    cut = data.draw(st.integers(min_value=1, max_value=len(events)))
    snapshot = fold_events(events[:cut])
    assert fold_events(events[cut:], snapshot) == fold_events(events) == history.ticket


@given(ticket_histories(max_steps=15))
def test_every_history_opens_first_and_never_goes_back_in_time(history: TicketHistory) -> None:
    events: tuple[Event, ...] = history.events
    assert isinstance(events[0], TicketOpened)
    assert not any(isinstance(e, TicketOpened) for e in events[1:])
    assert all(a.at <= b.at for a, b in itertools.pairwise(events))
    assert {e.ticket_id for e in events} == {history.ticket.id}


@given(events())
def test_an_event_writer_writes_the_record_the_class_builds(event: Event) -> None:
    fields = attrs.asdict(event, recurse=False)
    written = event_writer(type(event))(**fields)
    assert type(written) is type(event)
    assert written == type(event)(**fields)
    assert hash(written) == hash(event)
    # by position too, where the writer takes them
    if not event_writer(type(event)).__code__.co_kwonlyargcount:
        assert event_writer(type(event))(*fields.values()) == event


def test_an_event_writer_leaves_a_class_with_a_validator_to_its_init() -> None:
    @attrs.frozen(kw_only=True)
    class Checked(Event):
        level: int = attrs.field(validator=attrs.validators.ge(0))

        def _changes(self, ticket: Ticket) -> dict[str, Any]:
            return {}

    assert not unrefusable_event(Checked)
    assert event_writer(Checked) is Checked
