"""The Desk: one front door, one policy rule, one SLA evaluation, nothing time-driven missed."""

from __future__ import annotations

import pickle
import tomllib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import itsm_core.desk._desk as desk_module
from itsm_core._time import to_us
from itsm_core.desk import (
    AutomationRefused,
    Desk,
    Due,
    DueKind,
    Outcome,
    SlaThresholdReached,
)
from itsm_core.errors import InvalidValueError, PermissionDenied
from itsm_core.escalation import Escalated
from itsm_core.lifecycle import History
from itsm_core.permissions import Grant
from itsm_core.serialization import dump_desk, load_desk
from itsm_core.sla import Stage, evaluate
from itsm_core.testing._memo import sampled
from itsm_core.ticket import (
    AddComment,
    Assign,
    Event,
    OpenTicket,
    Reassign,
    StateChanged,
    Ticket,
    TicketCommand,
    Transition,
)

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "desk.toml"
DESK = load_desk(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
TZ = "Europe/Moscow"
TUESDAY = pendulum.datetime(2026, 3, 10, 9, 0, tz=TZ)  # a working day
KIOSK = "kiosk-007"


def open_ticket(kind: str = "incident", at: datetime = TUESDAY, **fields: Any) -> Outcome:
    command = OpenTicket(
        ticket_id=fields.pop("ticket_id", "T-1"),
        type=kind,
        title="kiosk frozen",
        requester=KIOSK,
        **fields,
    )
    return DESK.apply(None, command, actor=KIOSK, at=at)


# ------------------------------------------------------------------------------ the record


def test_the_example_desk_round_trips_through_its_document() -> None:
    assert load_desk(dump_desk(DESK)) == DESK
    assert DESK.automation_actor == "automation"
    renamed = attrs.evolve(DESK, automation_actor="robot")
    assert dump_desk(renamed)["automation_actor"] == "robot"
    assert load_desk(dump_desk(renamed)).automation_actor == "robot"


def test_a_desk_refuses_an_undeclared_calendar_and_a_blank_automation_actor() -> None:
    with pytest.raises(InvalidValueError, match="calendar"):
        Desk(calendar="office")
    with pytest.raises(InvalidValueError, match="automation_actor"):
        Desk(automation_actor=" ")


def test_a_desk_pickles_by_its_fields_and_rebuilds_what_it_built() -> None:
    DESK.lifecycles()
    copy = pickle.loads(pickle.dumps(DESK))
    assert copy == DESK
    assert copy.lifecycles() is not DESK.lifecycles()
    assert sorted(copy.lifecycles()) == sorted(DESK.lifecycles())


def test_the_desk_builds_its_lifecycles_and_authorizer_once() -> None:
    assert DESK.lifecycles() is DESK.lifecycles()
    assert DESK.authorizer() is DESK.authorizer()


# ------------------------------------------------------------------------------ apply


def test_apply_opens_a_ticket_and_returns_its_history_events_and_follow_ups() -> None:
    opened = open_ticket(impact="high", urgency="high")
    assert opened.ticket.state == "new"
    assert opened.history.ticket == opened.ticket
    assert opened.events == opened.history.events
    assert opened.changed
    linked = DESK.apply(
        opened.history,
        Assign(assignee="dana", group="service-desk", support_line=1),
        actor="dana",
        at=TUESDAY.add(minutes=5),
    )
    assert linked.ticket.assignee == "dana"
    assert len(linked.history) == len(opened.history) + len(linked.events)
    assert linked.follow_ups == ()


def test_apply_denies_by_default_and_changes_nothing() -> None:
    opened = open_ticket()
    with pytest.raises(PermissionDenied):
        DESK.apply(
            opened.history,
            Transition(trigger="cancel", reason="spam"),
            actor="stranger",
            at=TUESDAY.add(minutes=1),
        )
    assert DESK.status(opened.history, TUESDAY.add(minutes=1)).ticket == opened.ticket


def test_apply_accepts_stored_events_and_checks_them_against_the_lifecycle() -> None:
    opened = open_ticket()
    again = DESK.apply(
        list(opened.history), AddComment(body="any news?"), actor=KIOSK, at=TUESDAY.add(hours=1)
    )
    assert len(again.history) == 2
    bogus = StateChanged(
        ticket_id="T-1",
        actor="x",
        at=TUESDAY.add(hours=1),
        trigger="resolve",
        from_state="new",
        to_state="resolved",
        from_category="new",
        to_category="resolved",
    )
    with pytest.raises(InvalidValueError) as caught:
        DESK.apply(
            [*opened.history, bogus], AddComment(body="?"), actor=KIOSK, at=TUESDAY.add(hours=2)
        )
    assert caught.value.field == "events[1].to_state"
    with pytest.raises(InvalidValueError, match="events"):
        DESK.history([])


# ------------------------------------------------------------------------------ the one rule


def test_the_example_desks_service_request_gets_its_own_policys_thresholds_in_every_verb() -> None:
    opened = open_ticket("service_request")
    h = opened.history
    status = DESK.status(h, TUESDAY)
    assert status.policy == "Kiosk requests"
    assert "first SLA policy" in status.policy_reason
    # 16 business hours: half of it is reached at 17:00 the same day, not at 13:00 (8 h).
    half = TUESDAY.replace(hour=17)
    assert [d for d in DESK.due(h, half.subtract(minutes=1)) if d.metric] == []
    at_half = [d for d in DESK.due(h, half) if d.kind is DueKind.SLA_THRESHOLD]
    assert [(d.metric, d.percent, d.at) for d in at_half] == [("resolution", 50, half)]
    h = DESK.advance(h, TUESDAY.replace(hour=11)).history  # the unanswered-request level
    assert DESK.next_wakeup(h, TUESDAY.replace(hour=11)) == half
    advanced = DESK.advance(h, half)
    recorded = [e for e in advanced.events if isinstance(e, SlaThresholdReached)]
    assert [(e.policy, e.percent, e.reached_at) for e in recorded] == [("Kiosk requests", 50, half)]
    # Escalation reads the same policy: the incident-only warnings never fire for a request.
    assert not any(isinstance(e, Escalated) and "resolution" in e.rule for e in advanced.events)
    breach = DESK.due(advanced.history, TUESDAY.add(days=1).replace(hour=17))
    assert [d.percent for d in breach if d.metric == "resolution"] == [75, 90, 100]
    assert breach[-1].kind is DueKind.SLA_BREACH


def test_an_incident_gets_the_incident_policy_and_its_escalation_warnings() -> None:
    opened = open_ticket(impact="medium", urgency="medium")
    h = opened.history
    assert DESK.status(h, TUESDAY).policy == "Kiosk incidents"
    # 8 business hours: 50 % at 13:00.
    due = DESK.due(h, TUESDAY.replace(hour=13))
    assert {(d.kind, d.percent) for d in due if d.metric == "resolution"} == {
        (DueKind.SLA_THRESHOLD, 50)
    }
    assert any(d.kind is DueKind.ESCALATION and d.escalation is not None for d in due)


def test_no_policy_is_chosen_when_none_applies_and_the_reason_says_so() -> None:
    opened = open_ticket("problem")
    status = DESK.status(opened.history, TUESDAY.add(hours=1))
    assert status.policy is None
    assert status.sla is None
    assert "no SLA policy" in status.policy_reason


# --------------------------------------------------------------------- one SLA evaluation


def test_status_due_and_next_wakeup_evaluate_the_sla_once_per_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = evaluate

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(desk_module, "evaluate", counting)
    import itsm_core.escalation._engine as engine

    monkeypatch.setattr(engine, "evaluate", counting)
    h = open_ticket(impact="low", urgency="low").history
    now = TUESDAY.add(hours=30)
    for verb in (DESK.status, DESK.due, DESK.next_wakeup):
        calls.clear()
        verb(h, now)
        assert calls == ["Kiosk incidents"], verb.__name__


# ------------------------------------------------------------------------------ breach


def test_the_breach_is_a_wakeup_and_is_due_at_the_instant_the_target_is_reached() -> None:
    # An 8x5 calendar, a 1 h first-response target (P3 default), opened mid-morning.
    opened = open_ticket(at=TUESDAY.replace(hour=10, minute=30))
    h = opened.history
    breach = TUESDAY.replace(hour=11, minute=30)
    h = _host(h, breach.subtract(minutes=1))
    assert DESK.next_wakeup(h, breach.subtract(minutes=1)) == breach
    due = [d for d in DESK.due(h, breach) if d.metric == "first_response"]
    assert [d.kind for d in due][-1] is DueKind.SLA_BREACH
    status = DESK.status(h, breach)
    assert status.sla is not None
    assert status.sla.clock("first_response").stage is Stage.BREACHED


def test_a_target_reached_at_closing_time_breaches_at_closing_time() -> None:
    opened = open_ticket("service_request", at=TUESDAY)
    h = opened.history
    closing = TUESDAY.add(days=1).replace(hour=17)  # 16 business hours later
    evening = evaluate(h, DESK.sla_policies[1], closing.add(hours=6))
    morning = evaluate(h, DESK.sla_policies[1], closing.add(hours=16))
    assert evening.clock("resolution").breached_at == closing
    assert morning.clock("resolution").breached_at == closing
    at_close = evaluate(h, DESK.sla_policies[1], closing)
    assert at_close.clock("resolution").stage is Stage.BREACHED
    before = evaluate(h, DESK.sla_policies[1], closing.subtract(microseconds=1))
    assert before.clock("resolution").stage is Stage.RUNNING


# ------------------------------------------------------------------------------ advance


def test_advance_closes_a_resolved_ticket_as_the_automation_actor() -> None:
    h = open_ticket().history
    h = DESK.apply(
        h,
        Assign(assignee="dana", group="service-desk", support_line=1),
        actor="dana",
        at=TUESDAY.add(minutes=5),
    ).history
    h = DESK.apply(
        h,
        Transition(trigger="resolve", resolution_code="fixed", reason="ok"),
        actor="dana",
        at=TUESDAY.add(minutes=30),
    ).history
    h = _host(h, TUESDAY.add(days=1))
    wake = DESK.next_wakeup(h, TUESDAY.add(days=1))
    assert wake is not None
    closing = [d for d in DESK.due(h, wake) if d.kind is DueKind.TRANSITION]
    assert [d.command.action for d in closing if d.command] == ["transition:auto_close"]
    done = DESK.advance(h, wake)
    assert done.ticket.state_category == "closed"
    assert {e.actor for e in done.events} == {"automation"}
    assert DESK.next_wakeup(done.history, wake) is None


def test_the_end_of_the_reopen_window_is_due_once_and_recorded() -> None:
    policies = attrs.evolve(
        DESK.lifecycles()["incident"].definition.policies,
        reopen_window_days=2,
        auto_close_after_days=5,
    )
    definitions = tuple(
        attrs.evolve(d, policies=policies) if d.name == "incident" else d
        for d in DESK.lifecycle_definitions
    )
    desk = attrs.evolve(DESK, lifecycle_definitions=definitions)
    h = desk.apply(
        None,
        OpenTicket(ticket_id="T-3", type="incident", title="t", requester=KIOSK),
        actor=KIOSK,
        at=TUESDAY,
    ).history
    h = desk.apply(
        h,
        Assign(assignee="dana", group="service-desk", support_line=1),
        actor="dana",
        at=TUESDAY.add(minutes=5),
    ).history
    resolved_at = TUESDAY.add(minutes=30)
    h = desk.apply(
        h,
        Transition(trigger="resolve", resolution_code="fixed", reason="ok"),
        actor="dana",
        at=resolved_at,
    ).history
    h = _host_of(desk, h, resolved_at.add(days=1))
    window_end = desk.calendars["support"].add_business_days(resolved_at, 2)
    assert desk.next_wakeup(h, resolved_at.add(days=1)) == window_end
    due = desk.due(h, window_end)
    assert [(d.kind, d.at) for d in due] == [(DueKind.REOPEN_WINDOW_END, window_end)]
    assert due[0].key == ("reopen_window_end",)
    done = desk.advance(h, window_end)
    assert [type(e).__name__ for e in done.events] == ["ReopenWindowEnded"]
    assert desk.due(done.history, window_end) == ()
    later = desk.next_wakeup(done.history, window_end)
    assert later is not None
    assert later > window_end


def test_a_refused_automated_transition_is_recorded_and_not_retried() -> None:
    grants = tuple(g for g in DESK.permissions.grants if g.role != "automation")
    locked = attrs.evolve(DESK, permissions=attrs.evolve(DESK.permissions, grants=grants))
    h = locked.apply(
        None,
        OpenTicket(ticket_id="T-9", type="incident", title="t", requester=KIOSK),
        actor=KIOSK,
        at=TUESDAY,
    ).history
    h = locked.apply(
        h,
        Assign(assignee="dana", group="service-desk", support_line=1),
        actor="dana",
        at=TUESDAY.add(minutes=5),
    ).history
    h = locked.apply(
        h,
        Transition(trigger="resolve", resolution_code="fixed", reason="ok"),
        actor="dana",
        at=TUESDAY.add(minutes=30),
    ).history
    cursor: datetime = TUESDAY.add(minutes=30)
    while (wake := locked.next_wakeup(h, cursor)) is not None:
        if any(d.kind is DueKind.TRANSITION for d in locked.due(h, wake)):
            break
        h = locked.advance(h, wake).history
        cursor = wake
    assert wake is not None
    done = locked.advance(h, wake)
    refused = [e for e in done.events if isinstance(e, AutomationRefused)]
    assert [e.action for e in refused] == ["transition:auto_close"]
    assert "automation" in refused[0].reason
    assert done.ticket.state_category == "resolved"
    assert not [d for d in locked.due(done.history, wake) if d.kind is DueKind.TRANSITION]


def test_advance_refuses_a_now_before_the_last_event() -> None:
    h = open_ticket().history
    with pytest.raises(InvalidValueError, match="now"):
        DESK.advance(h, TUESDAY.subtract(hours=1))


def test_a_due_record_has_one_key_per_thing_due() -> None:
    h = open_ticket(impact="high", urgency="high").history
    due = DESK.due(h, TUESDAY.add(days=3))
    keys = [d.key for d in due]
    assert len(keys) == len(set(keys))
    assert all(isinstance(d, Due) for d in due)


# ------------------------------------------------------------------------------ properties

AGENT = "dana"
STEPS: tuple[tuple[str, TicketCommand], ...] = (
    (AGENT, Assign(assignee=AGENT, group="service-desk", support_line=1)),
    (AGENT, AddComment(body="on it")),
    (AGENT, Transition(trigger="start")),
    (AGENT, Transition(trigger="hold", hold_reason="awaiting_requester", reason="details?")),
    (KIOSK, AddComment(body="here you go")),
    (AGENT, Transition(trigger="resolve", resolution_code="fixed", reason="done")),
    (KIOSK, Transition(trigger="reopen")),
    ("olga", Reassign(assignee="pavel", group="field-engineers", support_line=2)),
)


_LEVELS = st.sampled_from(["low", "medium", "high"])
_STEPS = st.lists(st.sampled_from(STEPS), max_size=6)


@st.composite
def scripts(draw: st.DrawFn) -> tuple[Outcome, list[tuple[datetime, str, TicketCommand]]]:
    """An opened ticket of the example desk and a script of later commands."""
    kind = draw(sampled(("incident", "incident", "service_request")))
    level = _LEVELS
    opened_at = TUESDAY.add(minutes=draw(st.integers(0, 7 * 24 * 60)))
    opened = open_ticket(kind, at=opened_at, impact=draw(level), urgency=draw(level))
    at = opened_at
    script: list[tuple[datetime, str, TicketCommand]] = []
    for actor, command in draw(_STEPS):
        at = at.add(minutes=draw(st.integers(0, 3 * 24 * 60)))
        script.append((at, actor, command))
    return opened, script


def _apply_script(h: History, script: list[tuple[datetime, str, TicketCommand]]) -> History:
    for at, actor, command in script:
        if DESK.lifecycles()[h.ticket.type].may(
            h.ticket, command, actor=actor, at=at, authorizer=DESK.authorizer()
        ):
            h = DESK.apply(h, command, actor=actor, at=at).history
    return h


@settings(max_examples=60)
@given(scripts(), st.integers(0, 10 * 24 * 60))
def test_nothing_is_due_strictly_before_the_wakeup_and_something_is_due_at_it(
    case: tuple[Outcome, list[tuple[datetime, str, TicketCommand]]], minutes: int
) -> None:
    opened, script = case
    h = _apply_script(opened.history, script)
    now = pendulum.instance(h[-1].at).add(minutes=minutes)
    wake = DESK.next_wakeup(h, now)
    if wake is None:
        assert DESK.due(h, now.add(days=60)) == ()
        return
    assert wake >= now
    if wake > now:
        assert DESK.due(h, now) == ()
        assert DESK.due(h, wake - (wake - now) / 2) == ()
        assert DESK.due(h, wake - timedelta(microseconds=1)) == ()
    assert DESK.due(h, wake) != ()
    moved = DESK.advance(h, wake)
    later = DESK.next_wakeup(moved.history, wake)
    assert moved.changed or later is None or later > wake
    assert later is None or later > wake or DESK.due(moved.history, wake) != ()


def _host(h: History, until: datetime) -> History:
    """A host that wakes only when the desk tells it to, up to ``until``."""
    return _host_of(DESK, h, until)


def _host_of(desk: Desk, h: History, until: datetime) -> History:
    cursor = pendulum.instance(h[-1].at)
    for _ in range(200):
        wake = desk.next_wakeup(h, cursor)
        if wake is None or wake > until:
            return h
        h = desk.advance(h, wake).history
        cursor = wake
    raise AssertionError("the host was woken 200 times")  # pragma: no cover


@settings(max_examples=40)
@given(scripts(), st.integers(0, 10 * 24 * 60))
def test_a_host_that_wakes_only_when_told_sees_every_threshold_and_every_breach(
    case: tuple[Outcome, list[tuple[datetime, str, TicketCommand]]], minutes: int
) -> None:
    opened, script = case
    h = opened.history
    for at, actor, command in script:
        h = _host(h, at)
        h = _apply_script(h, [(at, actor, command)])
    end = pendulum.instance(h[-1].at).add(minutes=minutes)
    h = _host(h, end)
    status = DESK.status(h, end)
    assert status.sla is not None
    policy = DESK.sla_policies[[p.name for p in DESK.sla_policies].index(str(status.policy))]
    seen = {
        (e.metric, e.cycle, e.percent): e.reached_at
        for e in h
        if isinstance(e, SlaThresholdReached)
    }
    calendar = DESK.calendar_for(policy, status.ticket)
    for clock in status.sla.clocks:
        for cycle in clock.cycles:
            for percent in sorted({*policy.thresholds, 100}):
                reached = desk_module._reached(calendar, cycle, percent)
                if reached is None or reached > status.sla.now_us:
                    continue
                key = (clock.metric, cycle.number, percent)
                assert key in seen, key
                assert to_us(seen[key]) == reached
    assert DESK.due(h, end) == ()


def _ticket_ids(events: Iterator[Event]) -> set[str]:
    return {e.ticket_id for e in events}


def test_follow_ups_come_back_for_a_linked_ticket() -> None:
    from itsm_core.ticket import AddLink

    h = open_ticket().history
    linked = DESK.apply(
        h, AddLink(kind="parent", target="T-2"), actor="dana", at=TUESDAY.add(minutes=1)
    )
    assert [f.ticket_id for f in linked.follow_ups] == ["T-2"]
    assert _ticket_ids(iter(linked.events)) == {"T-1"}


def test_grants_are_the_desks_own() -> None:
    assert Grant(role="automation", principal="automation") in DESK.permissions.grants
    assert isinstance(DESK.status(open_ticket().history, TUESDAY).ticket, Ticket)


def test_a_python_built_policy_keyed_to_a_priority_the_matrix_does_not_know_is_refused() -> None:
    from itsm_core.calendar import BusinessCalendar
    from itsm_core.sla import Applicability, Metric, SlaPolicy

    calendar = BusinessCalendar.always_open("UTC")
    misspelled = SlaPolicy(name="typo", calendar=calendar,
                           metrics=(Metric.resolution({"p3": timedelta(hours=8)}),))  # fmt: skip
    with pytest.raises(InvalidValueError) as caught:
        Desk(sla_policies=(misspelled,))
    assert caught.value.field == "sla_policies[0].metrics.resolution.targets"
    assert caught.value.value == "p3"
    assert "one of P0, P1, P2, P3, P4, P5" in caught.value.expected
    covers = SlaPolicy(name="covers", calendar=calendar,
                       metrics=(Metric.resolution({"P3": timedelta(hours=8)}),),
                       applies_to=Applicability(priorities=("P1", "p2")))  # fmt: skip
    with pytest.raises(InvalidValueError, match=r"applies_to\.priorities\[1\]: .*got 'p2'"):
        Desk(sla_policies=(covers,))
