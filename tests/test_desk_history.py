"""One History: the ordered events of one ticket, validated once, and the ticket after each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from itsm_core.calendar import BusinessCalendar
from itsm_core.errors import InvalidValueError, NaiveDatetimeError
from itsm_core.lifecycle import History, default_lifecycles
from itsm_core.metrics import Stats
from itsm_core.sla import Metric, SlaPolicy, evaluate
from itsm_core.ticket import (
    CHANGEABLE_FIELDS,
    AddComment,
    Assign,
    CommentAdded,
    Event,
    FieldChanged,
    OpenTicket,
    StateChanged,
    TicketOpened,
    Transition,
    fold_events,
)

DESK = default_lifecycles()
INCIDENT = DESK["incident"]
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def worked_history() -> list[Event]:
    ticket, events = DESK.apply(
        None,
        OpenTicket(ticket_id="INC-1", type="incident", title="t", requester="ann"),
        actor="ann",
        at=AT,
    )
    history = list(events)
    for minutes, command in enumerate(
        (
            Assign(assignee="dana", group="desk", support_line=1),
            AddComment(body="on it"),
            Transition(trigger="start"),
            Transition(trigger="resolve", resolution_code="fixed", reason="ok"),
        ),
        start=1,
    ):
        ticket, events = DESK.apply(
            ticket, command, actor="dana", at=AT + timedelta(minutes=minutes)
        )
        history += events
    return history


def test_a_history_exposes_the_ticket_after_each_event() -> None:
    events = worked_history()
    history = History(events, lifecycle=INCIDENT)
    assert len(history) == len(events)
    assert list(history) == events
    assert history.ticket == fold_events(events)
    assert [t.version for t in history.tickets] == list(range(1, len(events) + 1))
    assert history.ticket_after(0).state == "new"
    assert history.states[-1] == ("resolved", "resolved", None)
    assert history.ticket_id == "INC-1"
    assert history[0] is events[0]
    assert history[1:3] == tuple(events[1:3])
    assert History.of(history) is history
    assert history == History(events)
    assert hash(history) == hash(History(events))
    assert "INC-1" in repr(history)
    with pytest.raises(InvalidValueError, match="index"):
        history.ticket_after(len(events))


def test_append_checks_only_the_new_events_and_until_cuts_at_an_instant() -> None:
    events = worked_history()
    history = History(events[:2], lifecycle=INCIDENT)
    longer = history.append(*events[2:])
    assert longer == History(events)
    assert len(history) == 2  # unchanged
    assert longer.until(AT + timedelta(minutes=2)) == History(events[:4])
    assert longer.until(AT + timedelta(days=1)) is longer
    with pytest.raises(InvalidValueError, match="now"):
        longer.until(AT - timedelta(seconds=1))
    assert longer.state_at(0) is None
    assert longer.index_at(10**18) == len(events) - 1


def _refused(events: Sequence[object], field: str, *, lifecycle: bool = True) -> None:
    with pytest.raises(InvalidValueError) as caught:
        History(events, lifecycle=INCIDENT if lifecycle else None)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_every_impossible_history_is_refused_naming_the_event_and_the_field() -> None:
    events = worked_history()
    opened = events[0]
    assert isinstance(opened, TicketOpened)
    other = CommentAdded(
        ticket_id="INC-2", actor="bob", at=AT, body="me too", public=True, by_requester=False
    )
    _refused([], "events")
    _refused(events[1:], "events[0]")  # the first event does not open the ticket
    _refused([opened, opened], "events[1]")  # a second opening
    _refused([opened, "not an event"], "events[1]")
    _refused([*events, other], f"events[{len(events)}].ticket_id")  # another ticket's event
    early = attrs.evolve(events[2], at=AT - timedelta(minutes=1))
    _refused([*events[:2], early], "events[2].at")  # back in time
    _refused([attrs.evolve(opened, type="problem"), *events[1:]], "events[0].type")
    _refused([attrs.evolve(opened, state="limbo")], "events[0].state")
    last = events[-1]
    assert isinstance(last, StateChanged)
    _refused(
        [*events[:-1], attrs.evolve(last, to_state="closed")], f"events[{len(events) - 1}].to_state"
    )
    _refused([*events, last], f"events[{len(events)}].from_state")  # resolved twice
    _refused(
        [*events[:-1], attrs.evolve(last, to_category="closed")],
        f"events[{len(events) - 1}].to_category",
    )
    with pytest.raises(NaiveDatetimeError) as naive:
        History([attrs.evolve(opened, at=datetime(2026, 3, 2, 9))])
    assert naive.value.field == "events[0].at"
    with pytest.raises(NaiveDatetimeError) as later:
        History([opened, attrs.evolve(events[1], at=datetime(2026, 3, 2, 9))])
    assert later.value.field == "events[1].at"


@pytest.mark.parametrize(
    ("field", "new", "custom", "refused"),
    [
        ("state", "closed", False, "field"),  # a state changes through StateChanged
        ("hold_reason", "awaiting_caller", False, "field"),
        ("opened_at", "2026-01-01", False, "field"),
        ("assignee", "dana", False, "field"),  # through Assigned
        ("no_such_field", "x", False, "field"),
        ("", "x", True, "field"),
        ("type", None, False, "new"),  # a required field cannot be unset
        ("title", 5, False, "new"),
        ("category", 5, False, "new"),
        ("floor", ["a list"], True, "new"),
        ("floor", 3, "yes", "custom"),
    ],
)
def test_a_field_change_a_ticket_cannot_take_is_refused_naming_the_field(
    field: str, new: object, custom: object, refused: str
) -> None:
    events = worked_history()
    change = FieldChanged(
        ticket_id="INC-1", actor="dana", at=events[-1].at, field=field, old=None,
        new=new, custom=custom,  # type: ignore[arg-type]
    )  # fmt: skip
    index = len(events)
    _refused([*events, change], f"events[{index}].{refused}")
    with pytest.raises(InvalidValueError) as caught:  # the report's statistics, raw events
        Stats.of([[*events, change]], calendar=BusinessCalendar.always_open("UTC"))
    assert caught.value.field == f"histories[0][{index}].{refused}"


@pytest.mark.parametrize(("field", "optional"), sorted(CHANGEABLE_FIELDS.items()))
def test_every_changeable_field_takes_text_and_the_optional_ones_none(
    field: str, optional: bool
) -> None:
    events = worked_history()
    values: list[str | None] = ["Printers", *([None] if optional else [])]
    for value in values:
        change = FieldChanged(
            ticket_id="INC-1", actor="dana", at=events[-1].at, field=field, old=None, new=value
        )
        history = History([*events, change], lifecycle=INCIDENT)
        assert getattr(history.ticket, field) == value
        assert history.states[-1] == history.states[-2]


def test_instants_are_compared_as_instants_across_a_dst_fall_back() -> None:
    zone = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 50, tzinfo=zone, fold=0)  # EDT
    second = datetime(2026, 11, 1, 1, 10, tzinfo=zone, fold=1)  # EST: 20 minutes later
    opened = TicketOpened(
        ticket_id="T",
        actor="a",
        at=first,
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="a",
    )
    reply = CommentAdded(
        ticket_id="T", actor="b", at=second, body="hi", public=True, by_requester=False
    )
    assert len(History([opened, reply])) == 2
    back = attrs.evolve(reply, at=datetime(2026, 11, 1, 1, 40, tzinfo=zone, fold=0))
    with pytest.raises(InvalidValueError) as caught:
        History([opened, back])
    assert caught.value.field == "events[1].at"


def test_the_sla_refuses_another_tickets_reply_in_the_history() -> None:
    events = worked_history()[:1]
    reply = CommentAdded(
        ticket_id="INC-2",
        actor="dana",
        at=AT + timedelta(minutes=5),
        body="done",
        public=True,
        by_requester=False,
    )
    policy = SlaPolicy(
        name="p",
        calendar=BusinessCalendar.always_open("UTC"),
        metrics=(
            Metric.first_response({"P3": timedelta(hours=1)}, default_target=timedelta(hours=1)),
        ),
    )
    with pytest.raises(InvalidValueError) as caught:
        evaluate([*events, reply], policy, AT + timedelta(hours=2))
    assert caught.value.field == "events[1].ticket_id"


def test_replay_is_the_history_checked_by_the_lifecycle() -> None:
    events = worked_history()
    assert INCIDENT.replay(events) == History(events, lifecycle=INCIDENT).ticket
    assert DESK.replay(events) == fold_events(events)
