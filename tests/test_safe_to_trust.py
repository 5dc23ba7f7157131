"""Regressions of wrong answers and unhelpful errors found by probing the library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle import default_lifecycles
from itsm_core.ticket import AddComment, OpenTicket, Ticket

DESK = default_lifecycles()
PARIS = ZoneInfo("Europe/Paris")


def opened(at: datetime) -> Ticket:
    ticket, _ = DESK.apply(
        None,
        OpenTicket(ticket_id="I-1", type="incident", title="VPN", requester="ann"),
        actor="ann",
        at=at,
    )
    return ticket


# ---------------------------------------------------------------------------- 7: DST


def test_the_not_before_the_last_change_check_compares_instants_in_the_fall_back_hour() -> None:
    # 2026-10-25 in Paris: 02:00-03:00 happens twice (CEST, then CET).
    last = datetime(2026, 10, 25, 2, 50, fold=1, tzinfo=PARIS)  # 01:50 UTC
    ticket = opened(last)
    earlier = datetime(2026, 10, 25, 2, 55, fold=0, tzinfo=PARIS)  # 00:55 UTC: 55 min before
    assert earlier.astimezone(UTC) < last.astimezone(UTC)
    with pytest.raises(InvalidValueError) as caught:
        DESK.apply(ticket, AddComment(body="x", public=True), actor="ann", at=earlier)
    assert caught.value.field == "at"
    first = opened(datetime(2026, 10, 25, 2, 50, fold=0, tzinfo=PARIS))  # 00:50 UTC
    later = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS)  # 01:30 UTC: 40 min after
    commented, _ = DESK.apply(first, AddComment(body="x", public=True), actor="ann", at=later)
    assert commented.updated_at == later
    assert later.astimezone(UTC) - first.updated_at.astimezone(UTC) == timedelta(minutes=40)


# ---------------------------------------------------------------------------- 12: blank text


AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_blank_text_does_not_satisfy_a_required_field_nor_a_required_reason() -> None:
    from itsm_core.ticket import RequestApproval, Transition, UpdateField

    change, _ = DESK.apply(
        None,
        OpenTicket(ticket_id="C-1", type="normal_change", title="upgrade", requester="ann"),
        actor="ann",
        at=AT,
    )
    change, _ = DESK.apply(change, Transition(trigger="assess"), actor="ann", at=AT)
    change, _ = DESK.apply(
        change, UpdateField(field="backout_plan", value=" \t\n"), actor="ann", at=AT
    )
    with pytest.raises(InvalidValueError) as caught:
        DESK.apply(change, RequestApproval(approvers=("cab",)), actor="ann", at=AT)
    assert caught.value.field == "ticket.backout_plan"
    with pytest.raises(InvalidValueError) as caught:
        DESK.apply(change, Transition(trigger="cancel", reason="   "), actor="ann", at=AT)
    assert caught.value.field == "command.reason"


# ---------------------------------------------------------------------------- 13: frozen records


def test_records_built_by_hand_turn_their_lists_into_tuples_and_hash() -> None:
    from itsm_core.ticket import ApprovalRequested, RequestApproval, TicketOpened

    approvers = ["cab", "boss"]
    fields: list[Any] = [["root_cause", "disk"]]
    ticket = Ticket(
        id="I-1",
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="ann",
        opened_at=AT,
        updated_at=AT,
        approvers=approvers,  # type: ignore[arg-type]
        custom_fields=fields,  # type: ignore[arg-type]
        watchers=["bob"],  # type: ignore[arg-type]
    )
    event = ApprovalRequested(ticket_id="I-1", actor="ann", at=AT, approvers=approvers)  # type: ignore[arg-type]
    opening = TicketOpened(
        ticket_id="I-1",
        actor="ann",
        at=AT,
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="ann",
        custom_fields=fields,  # type: ignore[arg-type]
    )
    command = RequestApproval(approvers=approvers)  # type: ignore[arg-type]
    approvers.append("mallory")
    fields[0][1] = "edited"
    assert ticket.approvers == event.approvers == command.approvers == ("cab", "boss")
    assert ticket.custom_fields == opening.custom_fields == (("root_cause", "disk"),)
    assert ticket.watchers == ("bob",)
    assert len({hash(ticket), hash(event), hash(opening), hash(command)}) == 4


# ---------------------------------------------------------------------------- 14: round trips


def test_a_null_default_calendar_is_refused_rather_than_lost_in_a_round_trip() -> None:
    from itsm_core.errors import ConfigurationError
    from itsm_core.serialization import load_desk

    with pytest.raises(ConfigurationError) as caught:
        load_desk({"calendar": None, "calendars": {"office": {"timezone": "UTC"}}})
    assert [p.path for p in caught.value.problems] == ["calendar"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_float_custom_field_refuses_values_json_cannot_hold(value: float) -> None:
    import attrs

    from itsm_core.lifecycle import FieldDef, Lifecycle, incident
    from itsm_core.ticket import UpdateField

    definition = incident()
    definition = attrs.evolve(
        definition, fields=(*definition.fields, FieldDef(name="cost", type="float"))
    )
    lifecycle = Lifecycle(definition)
    ticket, _ = lifecycle.open(
        OpenTicket(ticket_id="I-1", type="incident", title="t", requester="ann"),
        actor="ann",
        at=AT,
    )
    updated, _ = lifecycle.apply(ticket, UpdateField(field="cost", value=2.5), actor="ann", at=AT)
    assert updated.custom("cost") == 2.5
    with pytest.raises(InvalidValueError):
        lifecycle.apply(ticket, UpdateField(field="cost", value=value), actor="ann", at=AT)
    with pytest.raises(InvalidValueError):
        lifecycle.open(
            OpenTicket(
                ticket_id="I-2",
                type="incident",
                title="t",
                requester="ann",
                custom_fields=(("cost", value),),
            ),
            actor="ann",
            at=AT,
        )


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_decoded_event_refuses_a_value_standard_json_cannot_hold(value: float) -> None:
    from itsm_core.errors import ConfigurationError
    from itsm_core.serialization import decode_event

    record = {
        "event": "field_changed",
        "ticket_id": "I-1",
        "actor": "ann",
        "at": "2026-03-02T09:00:00Z",
        "field": "cost",
        "old": None,
        "new": value,
        "custom": True,
    }
    with pytest.raises(ConfigurationError) as caught:
        decode_event(record)
    assert [p.path for p in caught.value.problems] == ["new"]


# ---------------------------------------------------------------------------- 15: timezones


@pytest.mark.parametrize(
    "name", ["localtime", "posixrules", "Factory", "posix/Europe/Paris", "right/UTC"]
)
def test_host_dependent_zone_names_are_not_timezones(name: str) -> None:
    from itsm_core.calendar import BusinessCalendar

    with pytest.raises(InvalidValueError) as caught:
        BusinessCalendar.always_open(name)
    assert caught.value.field == "timezone"


def test_iana_names_and_their_aliases_are_timezones() -> None:
    from itsm_core.calendar import BusinessCalendar

    for name in ("UTC", "Etc/UTC", "Europe/Paris", "US/Eastern"):
        assert BusinessCalendar.always_open(name).timezone == name


# ---------------------------------------------------------------------------- 18: wrong types


def _example(name: str) -> tuple[type, dict[str, Any]]:
    import attrs

    from tests.fuzz_documents import record_examples

    examples = {cls.__name__: (cls, value) for cls, value in record_examples().items()}
    cls, value = examples[name]
    return cls, {f.alias: getattr(value, f.name) for f in attrs.fields(cls) if f.init}


@pytest.mark.parametrize(
    ("record", "field", "junk"),
    [
        ("SlaPolicy", "metrics", 3),
        ("SlaPolicy", "metrics", "resolution"),
        ("SlaPolicy", "kind", "fastest"),
        ("Metric", "targets", "x"),
        ("Metric", "on_priority_change", 3),
        ("Metric", "start", 3),
        ("Condition", "event", 3),
        ("Applicability", "types", 3),
        ("Trigger", "kind", "x"),
        ("SupportGroup", "members", 3),
    ],
)
def test_records_of_the_wrong_type_are_errors_naming_the_field(
    record: str, field: str, junk: object
) -> None:
    cls, kwargs = _example(record)
    kwargs[field] = junk
    with pytest.raises(InvalidValueError) as caught:
        cls(**kwargs)
    assert caught.value.field == field


@pytest.mark.parametrize("junk", [{"type": "incident"}, ["incident"], 3])
def test_lifecycles_refuse_a_ticket_or_type_of_the_wrong_type(junk: Any) -> None:
    with pytest.raises(InvalidValueError) as caught:
        DESK[junk]
    assert caught.value.field == "type"
    with pytest.raises(InvalidValueError) as caught:
        DESK.apply(junk, AddComment(body="x", public=True), actor="ann", at=AT)
    assert caught.value.field == "ticket"


# ---------------------------------------------------------------------------- 19: range edges


def test_an_instant_outside_the_range_is_named_by_its_argument_and_shown_as_an_instant() -> None:
    from itsm_core.calendar import BusinessCalendar

    calendar = BusinessCalendar.always_open("UTC")
    late = datetime(9999, 12, 30, tzinfo=UTC)
    with pytest.raises(InvalidValueError) as caught:
        calendar.add(late, timedelta(days=1))
    assert caught.value.field == "start"
    assert "9999-12-30" in str(caught.value)
    assert "253402128000000000" not in str(caught.value)
    with pytest.raises(InvalidValueError) as caught:
        calendar.elapsed(datetime(2026, 1, 1, tzinfo=UTC), late)
    assert caught.value.field == "end"


def test_a_24x7_calendar_at_the_end_of_the_range_is_not_called_never_open() -> None:
    from itsm_core.calendar import BusinessCalendar
    from itsm_core.errors import ItsmError

    calendar = BusinessCalendar.always_open("UTC")
    with pytest.raises(ItsmError) as caught:
        calendar.add(datetime(9997, 12, 30, tzinfo=UTC), timedelta(days=5))
    message = str(caught.value)
    assert "never" not in message
    assert "9997-12-30" in message
    assert "supported range" in message
    with pytest.raises(ItsmError) as caught:
        calendar.subtract(datetime(2, 1, 3, tzinfo=UTC), timedelta(days=5))
    assert "never" not in str(caught.value)
    assert "0002-01-03" in str(caught.value)


# ---------------------------------------------------------------------------- 20: text and numbers


@pytest.mark.parametrize("text", ["09:00\n", "\u0669\u0669:00", "09:\u0660\u0660", " 09:00"])
def test_window_times_are_ascii_digits_without_trailing_text(text: str) -> None:
    from itsm_core.calendar import Window

    with pytest.raises(InvalidValueError) as caught:
        Window(start=text, end="17:00").bounds()
    assert caught.value.field == "window.start"


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_csv_rows_and_json_events_refuse_the_same_integers(value: int) -> None:
    from itsm_core.errors import ItsmError
    from itsm_core.serialization import decode_event, decode_event_row

    base = {"event": "assigned", "ticket_id": "I", "actor": "a", "at": "2026-03-02T09:00:00Z"}
    with pytest.raises(ItsmError):
        decode_event({**base, "assignee": "b", "support_line": value})
    with pytest.raises(ItsmError):
        decode_event_row({**base, "assignee": "b", "support_line": str(value)})
    largest = 2**63 - 1
    assert decode_event({**base, "assignee": "b", "support_line": largest}) == decode_event_row(
        {**base, "assignee": "b", "support_line": str(largest)}
    )


def test_a_csv_integer_cell_refuses_non_ascii_digits() -> None:
    from itsm_core.errors import ItsmError
    from itsm_core.serialization import decode_event_row

    base = {"event": "assigned", "ticket_id": "I", "actor": "a", "at": "2026-03-02T09:00:00Z"}
    with pytest.raises(ItsmError):
        decode_event_row({**base, "assignee": "b", "support_line": "\u0661"})


# ---------------------------------------------------------------------------- 17: depth


def test_a_calendar_union_chain_deeper_than_documented_is_refused_not_a_recursion_error() -> None:
    from itsm_core.calendar import BusinessCalendar, CompositeCalendar

    calendar: Any = BusinessCalendar.eight_by_five("UTC")
    other = BusinessCalendar.twelve_by_five("UTC")
    for _ in range(99):
        calendar = CompositeCalendar(operation="union", left=calendar, right=other)
    deepest = CompositeCalendar(operation="union", left=other, right=calendar)
    assert hash(deepest) == hash(deepest)
    assert deepest.add(AT, timedelta(hours=1)) == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    with pytest.raises(InvalidValueError) as caught:
        CompositeCalendar(operation="union", left=deepest, right=other)
    assert caught.value.field == "left"
    with pytest.raises(InvalidValueError) as caught:
        CompositeCalendar(operation="intersection", left=other, right=deepest)
    assert caught.value.field == "right"


# ---------------------------------------------------------------------------- 9, 8, 10: front door


def _opened_event(ticket_id: str, at: datetime, priority: str | None = "P1") -> Any:
    from itsm_core.ticket import TicketOpened

    return TicketOpened(
        ticket_id=ticket_id,
        actor="ann",
        at=at,
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="ann",
        effective_priority=priority,
    )


def _p1_policy() -> Any:
    from itsm_core.calendar import BusinessCalendar
    from itsm_core.sla import Metric, SlaPolicy

    return SlaPolicy(
        name="24x7",
        calendar=BusinessCalendar.always_open("UTC"),
        metrics=(Metric.resolution({"P1": timedelta(hours=4), "P3": timedelta(hours=40)}),),
    )


def test_a_ticket_opened_after_now_does_not_exist_yet_for_evaluate_many() -> None:
    from itsm_core.sla import evaluate_many

    now = AT + timedelta(hours=1)
    histories = [[_opened_event("I-1", AT)], [_opened_event("I-2", AT + timedelta(days=30))]]
    statuses = list(evaluate_many(histories, [_p1_policy()], now))
    assert [s.ticket_id for s in statuses] == ["I-1"]
    statuses = list(evaluate_many(histories, _p1_policy(), now))
    assert [s.ticket_id for s in statuses] == ["I-1"]


def test_a_ticket_classified_after_opening_gets_its_sla_clock() -> None:
    from itsm_core.sla import evaluate
    from itsm_core.ticket import Classify

    ticket, history = DESK.apply(
        None,
        OpenTicket(ticket_id="I-1", type="incident", title="VPN", requester="ann"),
        actor="ann",
        at=AT,
    )
    assert ticket.effective_priority is None
    ticket, events = DESK.apply(
        ticket, Classify(impact="high", urgency="high"), actor="dana", at=AT + timedelta(hours=1)
    )
    assert ticket.effective_priority == "P1"
    status = evaluate([*history, *events], _p1_policy(), AT + timedelta(hours=2))
    clock = status.clock("resolution")
    assert clock.current is not None
    assert clock.current.target_us == 4 * 3600 * 1_000_000


def test_a_refused_automated_action_surfaces_as_an_event_and_the_notification_is_kept() -> None:
    from itsm_core.escalation import (
        Action,
        DueEscalation,
        Escalated,
        NotificationRequested,
        apply_escalations,
    )
    from itsm_core.permissions import Grant, default_policy

    policy = default_policy([Grant(role="automation", principal="escalation")])
    _, history = DESK.apply(
        None,
        OpenTicket(ticket_id="I-1", type="incident", title="t", requester="ann"),
        actor="ann",
        at=AT,
    )
    due = DueEscalation(
        rule="slow",
        level=1,
        cycle=1,
        due_us=0,
        reason="too slow",
        actions=(Action.reassign_to_group("network"), Action.notify(people="mona")),
        timezone="UTC",
    )
    _, events = apply_escalations(
        history, [due], lifecycle=DESK, at=AT, authorizer=policy.authorizer(lifecycles=DESK)
    )
    escalated = [e for e in events if isinstance(e, Escalated)]
    assert len(escalated) == 1
    assert any("assign" in s for s in escalated[0].skipped)
    assert [e.recipients for e in events if isinstance(e, NotificationRequested)] == [("mona",)]


def test_apply_escalations_orders_by_instant_in_a_fall_back_hour() -> None:
    from itsm_core.escalation import Action, DueEscalation, apply_escalations

    last = datetime(2026, 10, 25, 2, 50, fold=1, tzinfo=PARIS)  # 01:50 UTC
    _, history = DESK.apply(
        None,
        OpenTicket(ticket_id="I-1", type="incident", title="t", requester="ann"),
        actor="ann",
        at=last,
    )
    due = DueEscalation(
        rule="r",
        level=1,
        cycle=1,
        due_us=0,
        reason="x",
        actions=(Action.notify(people="mona"),),
        timezone="UTC",
    )
    earlier = datetime(2026, 10, 25, 2, 55, fold=0, tzinfo=PARIS)  # 00:55 UTC
    with pytest.raises(InvalidValueError):
        apply_escalations(history, [due], lifecycle=DESK, at=earlier)


def test_an_sla_policy_refuses_a_calendar_that_is_not_one_at_construction() -> None:
    from itsm_core.sla import Metric, SlaPolicy

    with pytest.raises(InvalidValueError) as caught:
        SlaPolicy(
            name="p",
            calendar="office",  # type: ignore[arg-type]
            metrics=(Metric.resolution({"P1": timedelta(hours=1)}),),
        )
    assert caught.value.field == "policy.calendar"
