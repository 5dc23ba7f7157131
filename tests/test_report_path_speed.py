"""The report path's shortcuts give the plain answers: policy selection skips the event kinds of
other rooms that change no ticket field (escalation, desk records) instead of folding the
ticket, and still folds for a kind that changes or reads the ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar
from itsm_core.desk import SlaThresholdReached
from itsm_core.escalation import Escalated, NotificationRequested
from itsm_core.lifecycle import History
from itsm_core.sla import Applicability, Metric, SlaPolicy, select_policy, select_policy_for_history
from itsm_core.testing import event_histories, instants
from itsm_core.ticket import (
    Assigned,
    Event,
    FieldChanged,
    PriorityChanged,
    Ticket,
    TicketOpened,
    changes_no_field,
)

STARTS = instants(zones=("UTC",))
DAY_US = 86_400_000_000
_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUPS = st.sampled_from(["line-1", "line-2", "vip"])
PRIORITY = st.sampled_from(["P1", "P2", "P3"])


@attrs.frozen(kw_only=True)
class Regrouped(Event):
    """A kind defined outside the ticket module that moves the ticket to another group."""

    group: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"group": self.group}


@attrs.frozen(kw_only=True)
class Mirrored(Event):
    """A kind that reads the ticket (it copies its group into its own custom field)."""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"custom_fields": ((("mirror", ticket.group or ""),))}


@st.composite
def histories_with_other_rooms(draw: st.DrawFn) -> list[Event]:
    """Histories mixing selection-changing events with escalation and desk records."""
    history = draw(event_histories(start_us=STARTS, max_events=5))
    tid = history[0].ticket_id
    opened = history[0]
    assert isinstance(opened, TicketOpened)
    history[0] = attrs.evolve(opened, type=draw(st.sampled_from(["incident", "request"])))
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(1, len(history)))
        at = history[where - 1].at
        options: list[Event] = [
            Escalated(ticket_id=tid, actor="escalation", at=at, rule="slow", level=1, cycle=1,
                      due_at=at - timedelta(hours=1), reason="no reply"),
            NotificationRequested(ticket_id=tid, actor="escalation", at=at, rule="slow",
                                  level=1, recipients=("sam",), reason="no reply"),
            SlaThresholdReached(ticket_id=tid, actor="desk", at=at, policy="p0",
                                metric="resolution", cycle=1, percent=100, reached_at=at),
            Assigned(ticket_id=tid, actor="d", at=at, assignee="dana", group=draw(GROUPS),
                     support_line=1),
            PriorityChanged(ticket_id=tid, actor="d", at=at, impact=None, urgency=None,
                            derived=None, override=None, effective=draw(PRIORITY)),
            FieldChanged(ticket_id=tid, actor="d", at=at, field="type", old=None,
                         new=draw(st.sampled_from(["incident", "request"]))),
            Regrouped(ticket_id=tid, actor="d", at=at, group=draw(GROUPS)),
            Mirrored(ticket_id=tid, actor="d", at=at),
        ]  # fmt: skip
        history.insert(where, draw(st.sampled_from(options)))
    return history


COVERS = st.fixed_dictionaries(
    {},
    optional={
        "types": st.just("incident"),
        "priorities": st.lists(PRIORITY, min_size=1, max_size=2),
        "groups": st.lists(GROUPS, min_size=1, max_size=2),
    },
)
_CALENDAR = BusinessCalendar.always_open("UTC")


def _policy(name: str, covers: dict[str, object]) -> SlaPolicy:
    return SlaPolicy(
        name=name,
        calendar=_CALENDAR,
        metrics=(Metric.resolution({"P1": timedelta(hours=4)}),),
        applies_to=Applicability(**covers),  # type: ignore[arg-type]
    )


@settings(max_examples=max(50, settings().max_examples // 8), deadline=None)
@given(
    histories_with_other_rooms(),
    st.lists(COVERS, min_size=1, max_size=3),
    st.integers(-DAY_US, DAY_US),
)
def test_selection_past_escalation_and_desk_records_picks_what_the_folded_ticket_picks(
    history: list[Event], covers: list[dict[str, object]], shift: int
) -> None:
    policies = [_policy(f"p{i}", c) for i, c in enumerate(covers)]
    h = History(history)
    until = to_us(history[-1].at) + shift
    found = select_policy_for_history(policies, h, until_us=until)
    index = h.index_at(until)
    expected = None if index < 0 else select_policy(policies, h.ticket_after(index))
    assert found is expected


def test_escalation_and_desk_records_change_nothing_selection_reads() -> None:
    records = [
        Escalated(ticket_id="I-1", actor="x", at=_AT, rule="r", level=1, cycle=1,
                  due_at=_AT, reason="late"),
        NotificationRequested(ticket_id="I-1", actor="x", at=_AT, rule="r", level=1,
                              recipients=("sam",), reason="late"),
        SlaThresholdReached(ticket_id="I-1", actor="desk", at=_AT, policy="p",
                            metric="resolution", cycle=1, percent=50, reached_at=_AT),
    ]  # fmt: skip
    assert all(changes_no_field(e) for e in records)


def test_a_kind_that_sets_or_reads_a_field_is_left_to_the_fold() -> None:
    assert not changes_no_field(Regrouped(ticket_id="I-1", actor="d", at=_AT, group="vip"))
    assert not changes_no_field(Mirrored(ticket_id="I-1", actor="d", at=_AT))
    opened = TicketOpened(ticket_id="I-1", actor="ann", at=_AT, type="incident", state="new",
                          state_category="new", title="t", requester="ann")  # fmt: skip
    assert not changes_no_field(opened)  # an opening folds its own way


def test_a_group_set_by_another_rooms_kind_after_an_escalation_moves_the_ticket() -> None:
    opened = TicketOpened(ticket_id="I-1", actor="ann", at=_AT, type="incident", state="new",
                          state_category="new", title="t", requester="ann")  # fmt: skip
    later = _AT + timedelta(minutes=5)
    history = History([
        opened,
        Escalated(ticket_id="I-1", actor="x", at=later, rule="r", level=1, cycle=1,
                  due_at=_AT, reason="late"),
        Regrouped(ticket_id="I-1", actor="d", at=later, group="vip"),
    ])  # fmt: skip
    vip, rest = _policy("vip", {"groups": ["vip"]}), _policy("rest", {})
    assert select_policy_for_history([vip, rest], history) is vip
    assert select_policy_for_history([vip, rest], history.events[:2]) is rest


def test_selection_reuses_a_plan_only_for_the_same_tuple_of_policies() -> None:
    opened = TicketOpened(ticket_id="I-1", actor="ann", at=_AT, type="incident", state="new",
                          state_category="new", title="t", requester="ann",
                          effective_priority="P1")  # fmt: skip
    history = History([opened])
    p1, rest = _policy("p1", {"priorities": ["P1"]}), _policy("rest", {})
    first, second = (p1, rest), (rest, p1)
    assert select_policy_for_history(first, history) is p1
    assert select_policy_for_history(first, history) is p1
    assert select_policy_for_history(second, history) is rest
    assert select_policy_for_history(list(first), history) is p1
    assert select_policy_for_history(second, history) is rest
