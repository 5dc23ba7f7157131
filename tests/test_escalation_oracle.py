"""The escalation engine agrees with the slow reference in ``itsm_core.testing``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core._time import from_us, to_us
from itsm_core.calendar import BusinessCalendar, WeeklySchedule
from itsm_core.desk import Desk, DueKind
from itsm_core.errors import InvalidValueError
from itsm_core.escalation import (
    Action,
    Escalated,
    EscalationConditions,
    EscalationLevel,
    EscalationRule,
    SupportGroup,
    SupportStructure,
    Trigger,
    TriggerKind,
    apply_escalations,
    due_escalations,
    next_wakeup,
)
from itsm_core.lifecycle import default_lifecycles, incident
from itsm_core.sla import Metric, SlaPolicy
from itsm_core.testing import (
    escalation_histories,
    escalation_rules,
    oracle_escalations,
    support_structures,
    ticket_histories,
)
from itsm_core.testing._memo import memoized, sampled
from itsm_core.ticket import (
    Assigned,
    Event,
    Reassigned,
    StateChanged,
    TicketOpened,
)

MIN_US = 60_000_000
DESK = default_lifecycles()
CALENDARS = (
    BusinessCalendar.always_open("UTC"),
    BusinessCalendar.eight_by_five("Europe/Moscow"),
    BusinessCalendar.twelve_by_five("America/New_York"),
)
START_US = st.integers(
    to_us(datetime(2026, 1, 1, tzinfo=UTC)), to_us(datetime(2026, 12, 1, tzinfo=UTC))
)
SLA_KINDS = (TriggerKind.SLA_PERCENT, TriggerKind.SLA_DUE)
# The desk property serves incidents only: escalation reads no ticket type, and each new
# desk builds the machines of its lifecycles.
INCIDENTS = (incident(),)


_MAYBE_CALENDAR = st.none() | st.sampled_from(CALENDARS)


@memoized
@st.composite
def policies(draw: st.DrawFn) -> SlaPolicy:
    def target() -> timedelta:
        return timedelta(minutes=draw(st.integers(1, 16 * 60)))

    return SlaPolicy(
        name="p",
        calendar=draw(sampled(tuple(CALENDARS))),
        metrics=(
            Metric.first_response({"P3": target()}),
            Metric.next_response({"P3": target()}),
            Metric.resolution({"P3": target()}),
        ),
    )


class Scenario:
    """A ticket's events, the rules watching it and everything they are evaluated with."""

    def __init__(
        self,
        history: list[Event],
        rules: list[EscalationRule],
        policy: SlaPolicy | None,
        structure: SupportStructure,
        calendar: BusinessCalendar | None,
    ) -> None:
        self.history = history
        self.rules = rules
        self.policy = policy
        self.structure = structure
        self.calendar = calendar
        self.start = to_us(history[0].at)

    def __repr__(self) -> str:
        return (
            f"Scenario(history={self.history!r}, rules={self.rules!r}, policy={self.policy!r}, "
            f"structure={self.structure!r}, calendar={self.calendar!r})"
        )

    def engine(
        self, history: list[Event], now: int
    ) -> tuple[list[tuple[str, int, int, int]], int | None]:
        kwargs = {"policy": self.policy, "structure": self.structure, "calendar": self.calendar}
        due = due_escalations(history, self.rules, from_us(now, "UTC"), **kwargs)  # type: ignore[arg-type]
        wake = next_wakeup(history, self.rules, from_us(now, "UTC"), **kwargs)  # type: ignore[arg-type]
        by_name = {r.name: r for r in self.rules}
        for d in due:
            assert d.actions == by_name[d.rule].levels[d.level - 1].actions
        return [(d.rule, d.level, d.cycle, d.due_us) for d in due], (
            None if wake is None else to_us(wake)
        )

    def oracle(
        self, history: list[Event], now: int
    ) -> tuple[list[tuple[str, int, int, int]], int | None]:
        return oracle_escalations(
            history,
            self.rules,
            now,
            policy=self.policy,
            structure=self.structure,
            calendar=self.calendar,
        )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    rules = [draw(escalation_rules(name=f"rule-{i}")) for i in range(draw(st.integers(1, 3)))]
    needs_policy = any(r.trigger.kind in SLA_KINDS for r in rules)
    policy = draw(policies()) if needs_policy or draw(st.booleans()) else None
    calendar = draw(_MAYBE_CALENDAR)
    return Scenario(
        draw(escalation_histories(start_us=START_US)),
        rules,
        policy,
        draw(support_structures()),
        calendar,
    )


@given(scenario=scenarios(), minutes=st.integers(0, 4 * 24 * 60), fired=st.integers(0, 100))
def test_due_escalations_and_next_wakeup_agree_with_the_reference(
    scenario: Scenario, minutes: int, fired: int
) -> None:
    now = scenario.start + minutes * MIN_US
    # Let the engine fire what was due at an earlier instant, so the history records it.
    earlier = scenario.start + (now - scenario.start) * fired // 100
    stored = [e for e in scenario.history if to_us(e.at) <= earlier]
    _, events = apply_escalations(
        stored,
        due_escalations(
            stored,
            scenario.rules,
            from_us(earlier, "UTC"),
            policy=scenario.policy,
            structure=scenario.structure,
            calendar=scenario.calendar,
        ),
        lifecycle=DESK,
        at=from_us(earlier, "UTC"),
        structure=scenario.structure,
    )
    history = [*stored, *events, *(e for e in scenario.history if to_us(e.at) > earlier)]
    assert scenario.engine(history, now) == scenario.oracle(history, now)


@st.composite
def desks(draw: st.DrawFn) -> tuple[Desk, list[Event]]:
    """A desk with escalation rules, maybe an SLA policy and a calendar, and a valid history."""
    rules = tuple(draw(escalation_rules(name=f"rule-{i}")) for i in range(draw(st.integers(1, 3))))
    policy = None
    if any(r.trigger.kind in SLA_KINDS for r in rules) or draw(st.booleans()):

        def target() -> dict[str, timedelta]:
            minutes = draw(st.integers(1, 16 * 60))
            return {p: timedelta(minutes=minutes) for p in ("P1", "P2", "P3", "P4", "P5")}

        policy = SlaPolicy(
            name="p",
            calendar=draw(sampled(tuple(CALENDARS))),
            metrics=(
                Metric.first_response(target()),
                Metric.next_response(target()),
                Metric.resolution(target()),
            ),
        )
    calendar = draw(_MAYBE_CALENDAR)
    desk = Desk(
        lifecycle_definitions=INCIDENTS,
        calendars={} if calendar is None else {"office": calendar},
        calendar=None if calendar is None else "office",
        sla_policies=() if policy is None else (policy,),
        support=draw(support_structures()),
        escalation_rules=rules,
    )
    history = draw(ticket_histories(desk.lifecycles(), max_steps=8))
    return desk, list(history.events)


# Each example builds a desk and a history through its lifecycle (~30 ms of CPU): 15 % of
# the profile's examples (150 under ci); the engine property above carries the 1,000.
@settings(max_examples=settings().max_examples * 3 // 20)
@given(scenario=desks(), minutes=st.integers(0, 4 * 24 * 60))
def test_the_desk_verbs_agree_with_the_reference(
    scenario: tuple[Desk, list[Event]], minutes: int
) -> None:
    desk, history = scenario
    now_us = to_us(history[-1].at) + minutes * MIN_US
    now = from_us(now_us, "UTC")
    policy = desk.sla_policies[0] if desk.sla_policies else None
    calendar = policy.calendar if policy is not None else desk.default_calendar
    due, wake = oracle_escalations(
        history,
        desk.escalation_rules,
        now_us,
        policy=desk.sla_policies,
        structure=desk.support,
        calendar=calendar,
    )
    status = desk.status(history, now)
    escalations = [d.escalation for d in status.due if d.kind is DueKind.ESCALATION]
    assert [(e.rule, e.level, e.cycle, e.due_us) for e in escalations if e] == due
    desk_wake = None if status.next_wakeup is None else to_us(status.next_wakeup)
    if due:
        assert desk_wake == now_us  # something is due now
    elif wake is not None:
        assert desk_wake is not None
        assert desk_wake <= wake  # an SLA threshold or a timed transition may come first
    if policy is None:  # nothing but escalation levels and timed transitions to wait for
        ticket = status.ticket
        auto = desk.lifecycles()[ticket.type].next_due_at(ticket)
        ahead = [u for u in (wake, None if auto is None else to_us(auto)) if u is not None]
        expected = None if not ahead else max(min(ahead), now_us)
        assert desk_wake == (now_us if due else expected)
    advanced = desk.advance(history, now)
    fired = [(e.rule, e.level, e.cycle) for e in advanced.events if isinstance(e, Escalated)]
    assert fired == [d[:3] for d in due]
    after, _ = oracle_escalations(
        list(advanced.history),
        desk.escalation_rules,
        now_us,
        policy=desk.sla_policies,
        structure=desk.support,
        calendar=calendar,
    )
    assert after == []  # each level fires once


def test_the_reference_agrees_on_hand_picked_corners() -> None:
    at = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # a Friday afternoon
    minute = timedelta(minutes=1)

    def moved(n: int, group: str, back: str) -> Reassigned:
        return Reassigned(
            ticket_id="T-1",
            actor="agent",
            at=at + n * minute,
            assignee=f"{group}-1",
            group=group,
            support_line=None,
            from_assignee=f"{back}-1",
            from_group=back,
            from_support_line=None,
        )

    history: list[Event] = [
        TicketOpened(
            ticket_id="T-1",
            actor="ann",
            at=at,
            type="incident",
            state="new",
            state_category="new",
            title="t",
            requester="ann",
            effective_priority="P3",
        ),
        Assigned(ticket_id="T-1", actor="desk", at=at, assignee="help-desk-1", group="help-desk"),
        StateChanged(
            ticket_id="T-1",
            actor="agent",
            at=at + minute,
            trigger="wait",
            from_state="new",
            to_state="waiting",
            from_category="new",
            to_category="on_hold",
            hold_reason="awaiting_vendor",
        ),
        moved(2, "admins", "help-desk"),
        moved(3, "help-desk", "admins"),
    ]
    office = BusinessCalendar.eight_by_five("Europe/Moscow")
    always = BusinessCalendar.always_open("UTC")
    sla = SlaPolicy(
        name="sla",
        calendar=office,
        use_customer_calendar=True,
        metrics=(Metric.resolution({"P3": 8 * 60 * minute}),),
    )
    ola = SlaPolicy(name="ola", calendar=always, metrics=(Metric.resolution({"P3": 60 * minute}),))
    notify = Action.notify(people="duty-officer")
    rules = [
        EscalationRule(
            name="held",
            trigger=Trigger.time_in_state(states="waiting", hold_reasons="awaiting_vendor"),
            levels=EscalationLevel(after=30 * minute, actions=notify),
            conditions=EscalationConditions(lines=1, major=False),
        ),
        EscalationRule(
            name="ola",
            trigger=Trigger.sla_percent("resolution", policy="ola"),
            levels=EscalationLevel(percent=50, actions=notify),
        ),
        EscalationRule(
            name="sla",
            trigger=Trigger.sla_due("resolution"),
            levels=EscalationLevel(offset=-60 * minute, actions=notify),
        ),
        EscalationRule.ping_pong(0, bounces_only=True),
    ]
    structure = SupportStructure(
        groups=(
            SupportGroup(name="help-desk", line=1, members=("help-desk-1",)),
            SupportGroup(name="admins", line=2, members=("admins-1",)),
        ),
        default_group="help-desk",
    )
    kwargs: dict[str, object] = {
        "policy": (sla, ola),
        "structure": structure,
        "customer_calendar": always,
    }
    for offset in (-1, 0, 20, 45, 200, 3 * 24 * 60):
        now = to_us(at) + offset * MIN_US
        due = due_escalations(history, rules, from_us(now, "UTC"), **kwargs)  # type: ignore[arg-type]
        wake = next_wakeup(history, rules, from_us(now, "UTC"), **kwargs)  # type: ignore[arg-type]
        expected = oracle_escalations(history, rules, now, **kwargs)  # type: ignore[arg-type]
        assert ([(d.rule, d.level, d.cycle, d.due_us) for d in due], wake and to_us(wake)) == (
            expected
        ), offset
    soon = oracle_escalations(history, rules, to_us(at) + 45 * MIN_US, **kwargs)  # type: ignore[arg-type]
    assert [rule for rule, *_ in soon[0]] == ["ping-pong", "ola", "held"]
    closed = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule())
    waiting = rules[:1]
    assert oracle_escalations(history, waiting, to_us(at), calendar=closed) == ([], None)
    assert next_wakeup(history, waiting, at, calendar=closed) is None
    with pytest.raises(InvalidValueError):
        oracle_escalations(history, rules[1:2], to_us(at), policy=sla)
