"""Escalation: rules as data, a pure evaluation that fires each level once, and its actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itsm_core._time import from_us, to_us
from itsm_core.calendar import BusinessCalendar, WeeklySchedule
from itsm_core.errors import (
    ConfigurationError,
    InvalidValueError,
    NaiveDatetimeError,
    PermissionDenied,
)
from itsm_core.escalation import (
    EXTERNAL_LINE,
    Action,
    ActionKind,
    DueEscalation,
    Escalated,
    EscalationConditions,
    EscalationLevel,
    EscalationRequested,
    EscalationRule,
    MajorCandidateFlagged,
    NotificationRequested,
    Route,
    SupportGroup,
    SupportStructure,
    Trigger,
    TriggerKind,
    apply_escalations,
    due_escalations,
    escalate,
    next_wakeup,
    request_escalation,
)
from itsm_core.lifecycle import default_lifecycles
from itsm_core.sla import BusinessDays, Condition, Metric, SlaPolicy, evaluate
from itsm_core.testing._escalation_strategies import (
    escalation_histories,
    escalation_rules,
    support_structures,
)
from itsm_core.testing._memo import memoized, sampled
from itsm_core.ticket import (
    AddComment,
    Assigned,
    Classify,
    Event,
    GroupAssigned,
    OpenTicket,
    Reassign,
    Reassigned,
    SetMajor,
    Ticket,
    TicketCommand,
    TicketOpened,
    Transition,
    Watched,
    fold_events,
)

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
MON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
DESK = default_lifecycles()
WALL = BusinessCalendar.always_open("UTC")

STRUCTURE = SupportStructure(
    groups=(
        SupportGroup(
            name="help-desk",
            line=1,
            members=("dana", "eli"),
            supervisor="sam",
            manager="mona",
            description="registers requests, solves the general and typical ones",
        ),
        SupportGroup(
            name="admins",
            line=2,
            members=("ari", "ben"),
            categories=("access", "network"),
            supervisor="alex",
        ),
        SupportGroup(name="dba", line=2, members=("dora",), categories=("database",)),
        SupportGroup(name="experts", line=3, members=("eve",), supervisor="emil"),
        SupportGroup(
            name="contractor", line=EXTERNAL_LINE, dispatcher="vendor-desk", external=True
        ),
    ),
    routes=(Route(group="admins", categories="network", types="incident"),),
    default_group="help-desk",
    manager="head",
)
POLICY = SlaPolicy(
    name="24x7",
    calendar=WALL,
    metrics=(
        Metric.first_response({"P3": H, "P2": 30 * MIN}),
        Metric.resolution({"P3": 8 * H, "P2": 4 * H, "P1": 2 * H}),
    ),
)


class Desk:
    """A ticket and its stored history, changed only through the lifecycle."""

    def __init__(self, at: datetime = MON, **fields: str) -> None:
        command = OpenTicket(
            ticket_id="INC-1",
            type="incident",
            title="No mail",
            requester="ann",
            impact=fields.pop("impact", "medium"),
            urgency=fields.pop("urgency", "medium"),
            **fields,  # type: ignore[arg-type]
        )
        self.ticket, events = DESK.apply(None, command, actor="ann", at=at)
        self.history: list[Event] = list(events)
        assign = STRUCTURE.assignment(self.ticket)
        assert assign is not None
        self.do(assign, "dispatcher", at)

    def do(self, command: TicketCommand, actor: str, at: datetime) -> None:
        self.ticket, events = DESK.apply(self.ticket, command, actor=actor, at=at)
        self.history += events

    def add(self, event: Event) -> None:
        self.ticket = event.apply_to(self.ticket)
        self.history.append(event)

    def due(self, rules: list[EscalationRule], now: datetime) -> tuple[DueEscalation, ...]:
        return due_escalations(self.history, rules, now, policy=POLICY, structure=STRUCTURE)

    def run(self, rules: list[EscalationRule], now: datetime) -> tuple[DueEscalation, ...]:
        due = self.due(rules, now)
        self.ticket, events = apply_escalations(
            self.history, due, lifecycle=DESK, at=now, structure=STRUCTURE
        )
        self.history += events
        return due

    def emitted(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.history if isinstance(e, kind)]


def notify(*roles: str) -> Action:
    return Action.notify(roles=roles)


def levels(rule: EscalationRule, due: tuple[DueEscalation, ...]) -> list[tuple[int, int, str]]:
    return [(d.level, d.cycle, str(d.due_at)) for d in due if d.rule == rule.name]


# ---------------------------------------------------------------------- trigger kinds


RESOLUTION_PERCENT = EscalationRule(
    name="resolution warnings",
    trigger=Trigger.sla_percent("resolution"),
    levels=(
        EscalationLevel(percent=50, actions=notify("assignee")),
        EscalationLevel(percent=75, actions=notify("assignee", "supervisor")),
        EscalationLevel(percent=100, actions=notify("manager")),
    ),
)


def test_sla_percent_levels_fire_at_their_share_of_the_target() -> None:
    desk = Desk()
    assert desk.ticket.effective_priority == "P3"  # an 8 hour resolution target
    assert desk.due([RESOLUTION_PERCENT], MON + 3 * H) == ()
    due = desk.due([RESOLUTION_PERCENT], MON + 7 * H)
    assert levels(RESOLUTION_PERCENT, due) == [
        (1, 1, "2026-03-02 13:00:00+00:00"),
        (2, 1, "2026-03-02 15:00:00+00:00"),
    ]
    assert due[0].reason == "resolution reached 50% of its 8:00:00 target (cycle 1)"


def test_business_hours_push_a_percent_level_over_the_weekend() -> None:
    office = BusinessCalendar.eight_by_five("Europe/Moscow")
    policy = SlaPolicy(name="8x5", calendar=office, metrics=(Metric.resolution({"P3": 8 * H}),))
    friday_3pm = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # 15:00 in Moscow
    desk = Desk(at=friday_3pm)
    due = due_escalations(
        desk.history, [RESOLUTION_PERCENT], friday_3pm + 4 * 24 * H, policy=policy
    )
    # 2 business hours on Friday, 2 more on Monday morning make 50%.
    assert [str(d.due_at) for d in due][:2] == [
        "2026-03-09 11:00:00+03:00",
        "2026-03-09 13:00:00+03:00",
    ]
    wake = next_wakeup(desk.history, [RESOLUTION_PERCENT], friday_3pm + H, policy=policy)
    assert str(wake) == "2026-03-09 11:00:00+03:00"


def test_a_paused_clock_delays_its_levels() -> None:
    desk = Desk()
    desk.do(Transition(trigger="start"), "dana", MON + H)
    desk.do(
        Transition(trigger="hold", hold_reason="awaiting_requester", reason="log file?"),
        "dana",
        MON + 2 * H,
    )
    desk.do(AddComment(body="here it is"), "ann", MON + 5 * H)  # resumes the clock
    due = desk.due([RESOLUTION_PERCENT], MON + 24 * H)
    assert levels(RESOLUTION_PERCENT, due) == [
        (1, 1, "2026-03-02 16:00:00+00:00"),
        (2, 1, "2026-03-02 18:00:00+00:00"),
        (3, 1, "2026-03-02 20:00:00+00:00"),
    ]
    desk2 = Desk()
    desk2.do(Transition(trigger="start"), "dana", MON + H)
    desk2.do(
        Transition(trigger="hold", hold_reason="awaiting_requester", reason="?"),
        "dana",
        MON + 2 * H,
    )
    assert next_wakeup(desk2.history, [RESOLUTION_PERCENT], MON + 3 * H, policy=POLICY) is None


def test_sla_due_levels_fire_before_and_after_the_due_instant() -> None:
    rule = EscalationRule(
        name="glpi levels",
        trigger=Trigger.sla_due("resolution"),
        levels=(
            EscalationLevel(offset=-2 * H, actions=notify("assignee"), name="warning"),
            EscalationLevel(offset=timedelta(0), actions=notify("supervisor")),
            EscalationLevel(offset=H, actions=Action.reassign_next_line()),
            EscalationLevel(offset=3 * H, actions=notify("manager")),
        ),
    )
    desk = Desk()
    due = desk.due([rule], MON + 10 * H)
    assert levels(rule, due) == [
        (1, 1, "2026-03-02 15:00:00+00:00"),
        (2, 1, "2026-03-02 17:00:00+00:00"),
        (3, 1, "2026-03-02 18:00:00+00:00"),
    ]
    assert due[0].name == "warning"
    assert [d.reason for d in due] == [
        "resolution 2:00:00 before its due instant (target 8:00:00)",
        "resolution at its due instant (target 8:00:00)",
        "resolution 1:00:00 after its due instant (target 8:00:00)",
    ]
    early = EscalationRule(
        name="early",
        trigger=Trigger.sla_due("resolution"),
        levels=EscalationLevel(offset=-9 * H, actions=notify("assignee")),
    )
    assert [str(d.due_at) for d in desk.due([early], MON)] == ["2026-03-02 09:00:00+00:00"]


def test_each_level_fires_once_per_sla_cycle_and_again_after_a_reopening() -> None:
    desk = Desk()
    desk.do(Transition(trigger="start"), "dana", MON + H)
    assert len(desk.run([RESOLUTION_PERCENT], MON + 5 * H)) == 1
    assert desk.run([RESOLUTION_PERCENT], MON + 5 * H) == ()
    assert desk.run([RESOLUTION_PERCENT], MON + 5 * H + MIN) == ()
    desk.do(
        Transition(trigger="resolve", resolution_code="fixed", reason="ok"), "dana", MON + 6 * H
    )
    assert desk.run([RESOLUTION_PERCENT], MON + 20 * H) == ()
    desk.do(Transition(trigger="reopen"), "ann", MON + 21 * H)
    again = desk.run([RESOLUTION_PERCENT], MON + 25 * H)
    assert [(d.level, d.cycle) for d in again] == [(1, 2)]
    fired = [(e.level, e.cycle) for e in desk.emitted(Escalated)]  # type: ignore[attr-defined]
    assert fired == [(1, 1), (1, 2)]


NO_REPLY = EscalationRule(
    name="unanswered",
    trigger=Trigger.no_reply(),
    levels=(
        EscalationLevel(after=2 * H, actions=notify("supervisor")),
        EscalationLevel(after=4 * H, actions=Action.notify(roles="manager", message="urgent")),
    ),
)


def test_no_reply_escalates_an_unanswered_request_to_the_manager() -> None:
    desk = Desk()
    desk.do(AddComment(body="working on it", public=False), "dana", MON + H)  # internal
    due = desk.run([NO_REPLY], MON + 4 * H)
    assert levels(NO_REPLY, due) == [
        (1, 1, "2026-03-02 11:00:00+00:00"),
        (2, 1, "2026-03-02 13:00:00+00:00"),
    ]
    notes = desk.emitted(NotificationRequested)
    assert [n.recipients for n in notes] == [("sam",), ("mona",)]  # type: ignore[attr-defined]
    assert notes[1].message == "urgent"  # type: ignore[attr-defined]
    assert notes[1].reason == "no public reply to the requester for 4:00:00"  # type: ignore[attr-defined]


def test_an_agent_reply_ends_the_wait_and_a_requester_message_starts_a_new_one() -> None:
    desk = Desk()
    desk.do(AddComment(body="on it"), "dana", MON + H)
    assert desk.due([NO_REPLY], MON + 10 * H) == ()
    desk.do(AddComment(body="still broken"), "ann", MON + 11 * H)
    due = desk.due([NO_REPLY], MON + 14 * H)
    assert [(d.level, d.cycle, str(d.due_at)) for d in due] == [(1, 2, "2026-03-02 22:00:00+00:00")]
    assert str(next_wakeup(desk.history, [NO_REPLY], MON + 14 * H)) == ("2026-03-03 00:00:00+00:00")
    desk.do(
        Transition(trigger="resolve", resolution_code="fixed", reason="ok"), "dana", MON + 15 * H
    )
    assert desk.due([NO_REPLY], MON + 30 * H) == due
    desk.do(Transition(trigger="reopen"), "ann", MON + 16 * H)
    assert [d.cycle for d in desk.due([NO_REPLY], MON + 19 * H)] == [2, 3]


def test_time_in_state_counts_each_visit() -> None:
    rule = EscalationRule(
        name="stuck with a vendor",
        trigger=Trigger.time_in_state(hold_reasons="awaiting_vendor", business=False),
        levels=EscalationLevel(after=24 * H, actions=notify("supervisor")),
    )
    desk = Desk()
    desk.do(Transition(trigger="start"), "dana", MON)
    hold = Transition(trigger="hold", hold_reason="awaiting_vendor", reason="RMA")
    desk.do(hold, "dana", MON + H)
    desk.do(Transition(trigger="resume"), "dana", MON + 20 * H)
    assert desk.due([rule], MON + 48 * H) == ()
    desk.do(hold, "dana", MON + 48 * H)
    due = desk.due([rule], MON + 80 * H)
    assert [(d.cycle, str(d.due_at)) for d in due] == [(2, "2026-03-05 09:00:00+00:00")]
    assert due[0].reason == "in state on_hold.awaiting_vendor for 1 day, 0:00:00"


def test_a_customer_asking_for_a_manager_reaches_the_manager_at_once() -> None:
    rule = EscalationRule(
        name="put me through to a manager",
        trigger=Trigger.request("manager"),
        levels=(
            EscalationLevel(after=timedelta(0), actions=(notify("manager"), notify("assignee"))),
            EscalationLevel(after=H, actions=Action.raise_priority()),
        ),
    )
    desk = Desk()
    asked = MON + 2 * H
    desk.add(request_escalation(desk.ticket, kind="supervisor", actor="dana", at=asked))
    assert desk.due([rule], asked) == ()  # another kind of request
    desk.add(
        request_escalation(desk.ticket, kind="manager", actor="ann", at=asked, reason="3rd call")
    )
    due = desk.run([rule], asked)
    assert [d.reason for d in due] == ["the requester asked for the manager: 3rd call"]
    assert [n.recipients for n in desk.emitted(NotificationRequested)] == [  # type: ignore[attr-defined]
        ("mona",),
        ("dana",),
    ]
    assert str(next_wakeup(desk.history, [rule], asked)) == "2026-03-02 12:00:00+00:00"
    later = desk.run([rule], asked + 2 * H)
    assert (
        later[0].reason
        == "the requester asked for the manager: 3rd call (still open after 1:00:00)"
    )
    assert desk.ticket.effective_priority == "P2"


def test_ping_pong_gives_the_ticket_to_the_supervisor() -> None:
    rule = EscalationRule.ping_pong(2)
    desk = Desk()
    moves = [("ari", "admins", 2), ("dana", "help-desk", 1), ("ari", "admins", 2)]
    for i, (who, group, line) in enumerate(moves[:2]):
        desk.do(Reassign(assignee=who, group=group, support_line=line), "x", MON + i * H)
        assert desk.run([rule], MON + i * H) == ()
    who, group, line = moves[2]
    desk.do(Reassign(assignee=who, group=group, support_line=line), "x", MON + 2 * H)
    due = desk.run([rule], MON + 3 * H)
    assert [(d.reason, str(d.due_at)) for d in due] == [
        ("reassigned 3 times (more than 2)", "2026-03-02 11:00:00+00:00")
    ]
    assert (desk.ticket.assignee, desk.ticket.group) == ("alex", "admins")
    assert [n.recipients for n in desk.emitted(NotificationRequested)] == [("alex",)]  # type: ignore[attr-defined]
    # the supervisor taking the ticket is itself a reassignment; the level does not fire again
    assert desk.run([rule], MON + 4 * H) == ()


def test_bounces_only_counts_returns_to_a_previous_group() -> None:
    rule = EscalationRule.ping_pong(0, bounces_only=True)
    desk = Desk()
    desk.do(Reassign(assignee="ari", group="admins", support_line=2), "x", MON + H)
    desk.do(Reassign(assignee="eve", group="experts", support_line=3), "x", MON + 2 * H)
    assert desk.due([rule], MON + 3 * H) == ()
    desk.do(Reassign(assignee="ben", group="admins", support_line=2), "x", MON + 4 * H)
    assert [d.reason for d in desk.due([rule], MON + 5 * H)] == ["bounced back once (more than 0)"]
    inside = Desk()
    inside.do(Reassign(assignee="eli", group="help-desk", support_line=1), "x", MON + H)
    assert inside.due([rule], MON + 2 * H) == ()  # a move inside the group is no bounce


def _moved(move: Event) -> list[Event]:
    opened = TicketOpened(
        ticket_id="T",
        actor="r",
        at=MON,
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="r",
    )
    first = Assigned(
        ticket_id="T", actor="d", at=MON, assignee="a", group="help-desk", support_line=1
    )
    return [opened, first, move]


def test_ping_pong_counts_exactly_the_moves_the_ticket_counts() -> None:
    rule = EscalationRule.ping_pong(0)
    uncounted = Reassigned(
        ticket_id="T",
        actor="d",
        at=MON + MIN,
        assignee="b",
        group="help-desk",
        support_line=1,
        from_assignee="a",
        from_group="help-desk",
        from_support_line=1,
        counted=False,
    )
    history = _moved(uncounted)
    assert fold_events(history).reassignments == 0
    assert due_escalations(history, [rule], MON + H) == ()
    to_group = GroupAssigned(
        ticket_id="T",
        actor="d",
        at=MON + MIN,
        group="admins",
        from_group="help-desk",
        from_assignee="a",
        counted=True,
    )
    history = _moved(to_group)
    assert fold_events(history).reassignments == 1
    assert [d.reason for d in due_escalations(history, [rule], MON + H)] == [
        "reassigned once (more than 0)"
    ]


def test_levels_passed_while_the_host_was_down_fire_in_order_at_the_next_evaluation() -> None:
    rules = [RESOLUTION_PERCENT, NO_REPLY]
    desk = Desk()
    due = desk.run(rules, MON + 30 * H)
    assert [(d.rule, d.level, d.due_us) for d in due] == sorted(
        [(d.rule, d.level, d.due_us) for d in due], key=lambda k: k[2]
    )
    assert [(d.rule, d.level) for d in due] == [
        ("unanswered", 1),
        ("resolution warnings", 1),
        ("unanswered", 2),
        ("resolution warnings", 2),
        ("resolution warnings", 3),
    ]
    kinds = [type(e).__name__ for e in desk.history[-10:]]
    assert kinds == ["Escalated", "NotificationRequested"] * 5
    assert desk.run(rules, MON + 31 * H) == ()


def test_conditions_are_checked_on_the_ticket_when_the_level_was_reached() -> None:
    rule = EscalationRule(
        name="first line only",
        trigger=Trigger.no_reply(),
        levels=(
            EscalationLevel(after=H, actions=notify("supervisor")),
            EscalationLevel(after=3 * H, actions=notify("supervisor")),
        ),
        conditions=EscalationConditions(lines=1, types="incident", priorities=("P3",)),
    )
    desk = Desk()
    desk.do(Reassign(assignee="ari", group="admins", support_line=2), "x", MON + 2 * H)
    assert [d.level for d in desk.due([rule], MON + 5 * H)] == [1]
    other = EscalationRule(
        name="p1 only",
        trigger=Trigger.no_reply(),
        levels=EscalationLevel(after=H, actions=notify("supervisor")),
        conditions=EscalationConditions(priorities="P1", major=False),
    )
    assert desk.due([other], MON + 5 * H) == ()
    assert next_wakeup(desk.history, [other], MON) is None


def test_a_level_may_narrow_the_rule_conditions() -> None:
    rule = EscalationRule(
        name="graded",
        trigger=Trigger.no_reply(),
        levels=(
            EscalationLevel(after=H, actions=notify("supervisor")),
            EscalationLevel(
                after=2 * H,
                actions=notify("manager"),
                conditions=EscalationConditions(priorities=("P1", "P2")),
            ),
            EscalationLevel(
                after=3 * H,
                actions=notify("manager"),
                conditions=EscalationConditions(groups="help-desk"),
            ),
        ),
    )
    desk = Desk()
    assert [d.level for d in desk.due([rule], MON + 4 * H)] == [1, 3]
    urgent = Desk(impact="high", urgency="medium")
    assert [d.level for d in urgent.due([rule], MON + 4 * H)] == [1, 2, 3]
    assert str(next_wakeup(desk.history, [rule], MON + H)) == "2026-03-02 12:00:00+00:00"
    with pytest.raises(InvalidValueError, match=r"level\.conditions"):
        EscalationLevel(after=H, actions=notify("manager"), conditions="P1")  # type: ignore[arg-type]


def test_line_conditions_use_the_structure_when_the_ticket_records_no_line() -> None:
    desk = Desk()
    desk.do(Reassign(assignee="ari", group="admins"), "x", MON)
    rule = EscalationRule(
        name="second line",
        trigger=Trigger.no_reply(),
        levels=EscalationLevel(after=H, actions=notify("group")),
        conditions=EscalationConditions(lines=2, groups=("admins",)),
    )
    assert desk.ticket.support_line is None
    assert len(desk.due([rule], MON + 2 * H)) == 1
    assert due_escalations(desk.history, [rule], MON + 2 * H) == ()  # no structure, no line


def test_a_closed_ticket_escalates_no_more() -> None:
    desk = Desk()
    desk.do(Transition(trigger="resolve", resolution_code="fixed", reason="ok"), "dana", MON)
    desk.do(Transition(trigger="close"), "ann", MON)
    rule = EscalationRule(
        name="stuck",
        trigger=Trigger.time_in_state(categories="closed"),
        levels=EscalationLevel(after=H, actions=notify("assignee")),
    )
    assert desk.due([rule, NO_REPLY, RESOLUTION_PERCENT], MON + 50 * H) == ()


# ------------------------------------------------------------------------------ actions


def _due(*actions: Action, rule: str = "r") -> DueEscalation:
    return DueEscalation(
        rule=rule,
        level=1,
        cycle=1,
        due_us=to_us(MON),
        reason="test",
        actions=actions,
        timezone="UTC",
    )


def test_functional_escalation_climbs_the_lines_to_the_external_contractor() -> None:
    desk = Desk(category="database")
    up = _due(Action.reassign_next_line())
    lines = []
    for i in range(4):
        desk.ticket, events = apply_escalations(
            desk.history, [up], lifecycle=DESK, at=MON + i * H, structure=STRUCTURE
        )
        desk.history += events
        lines.append((desk.ticket.group, desk.ticket.assignee, desk.ticket.support_line))
    assert lines == [
        ("dba", "dora", 2),
        ("experts", "eve", 3),
        ("contractor", "vendor-desk", 4),
        ("contractor", "vendor-desk", 4),
    ]
    last = desk.emitted(Escalated)[-1]
    assert last.skipped == ("reassign to the next line: no line above 'contractor'",)  # type: ignore[attr-defined]


def test_reassign_to_a_named_group_or_the_supervisor() -> None:
    desk = Desk()
    ticket, _ = apply_escalations(
        desk.history,
        [_due(Action.reassign_to_group("experts"))],
        lifecycle=DESK,
        at=MON,
        structure=STRUCTURE,
    )
    assert (ticket.group, ticket.assignee) == ("experts", "eve")
    ticket, _ = apply_escalations(
        desk.history,
        [_due(Action.reassign_to_supervisor())],
        lifecycle=DESK,
        at=MON,
        structure=STRUCTURE,
    )
    assert (ticket.group, ticket.assignee) == ("help-desk", "sam")
    bare = DESK["incident"].open(
        OpenTicket(ticket_id="INC-2", type="incident", title="t", requester="r"), actor="r", at=MON
    )[1]
    ticket, events = apply_escalations(
        bare,
        [_due(Action.reassign_next_line())],
        lifecycle=DESK["incident"],
        at=MON,
        structure=STRUCTURE,
    )
    assert (ticket.group, ticket.assignee) == ("help-desk", "dana")  # its route, via Assign
    assert [type(e).__name__ for e in events] == ["Escalated", "Assigned", "StateChanged"]


def test_raise_priority_by_a_level_and_to_a_named_level() -> None:
    desk = Desk()
    assert desk.ticket.effective_priority == "P3"
    ticket, events = apply_escalations(
        desk.history, [_due(Action.raise_priority())], lifecycle=DESK, at=MON
    )
    assert ticket.effective_priority == "P2"
    assert ticket.priority_override == "P2"
    assert events[1].reason.startswith("escalation 'r' level 1")  # type: ignore[attr-defined]
    ticket, _ = apply_escalations(
        desk.history, [_due(Action.raise_priority(9))], lifecycle=DESK, at=MON
    )
    assert ticket.effective_priority == "P1"
    ticket, _ = apply_escalations(
        desk.history, [_due(Action.raise_priority_to("P1"))], lifecycle=DESK, at=MON
    )
    assert ticket.effective_priority == "P1"
    ticket, events = apply_escalations(
        desk.history, [_due(Action.raise_priority_to("P4"))], lifecycle=DESK, at=MON
    )
    assert ticket.effective_priority == "P3"
    assert events[0].skipped == ("raise priority to P4: already P3",)  # type: ignore[attr-defined]


def test_actions_that_no_longer_apply_are_skipped_and_recorded() -> None:
    urgent = Desk(impact="high", urgency="high")
    assert urgent.ticket.effective_priority == "P1"
    _, events = apply_escalations(
        urgent.history, [_due(Action.raise_priority())], lifecycle=DESK, at=MON
    )
    assert events[0].skipped == ("raise priority by 1 level: already the most urgent",)  # type: ignore[attr-defined]
    urgent.do(SetMajor(reason="site down"), "sam", MON)
    _, events = apply_escalations(
        urgent.history,
        [_due(Action.raise_priority(), Action.flag_major_candidate())],
        lifecycle=DESK,
        at=MON,
    )
    assert events[0].skipped == (  # type: ignore[attr-defined]
        "raise priority by 1 level: the ticket is a major incident",
        "flag as a major-incident candidate: already flagged or major",
    )
    plain = Desk()
    _, events = apply_escalations(
        plain.history,
        [_due(Action.reassign_next_line(), notify("supervisor"), Action.reassign_to_supervisor())],
        lifecycle=DESK,
        at=MON,
    )
    assert events[0].skipped == (  # type: ignore[attr-defined]
        "reassign to the next line: no support structure given",
        "notify supervisor: nobody to notify",
        "reassign to the supervisor: no support structure given",
    )
    plain.do(Reassign(assignee="ari", group="dba", support_line=2), "x", MON)
    _, events = apply_escalations(
        plain.history,
        [_due(Action.reassign_to_supervisor(), notify("manager", "supervisor"))],
        lifecycle=DESK,
        at=MON,
        structure=STRUCTURE,
    )
    assert events[0].skipped == ("reassign to the supervisor: the group 'dba' has no supervisor",)  # type: ignore[attr-defined]
    assert events[1].recipients == ("head",)  # type: ignore[attr-defined]
    assert events[1].unresolved == ("supervisor",)  # type: ignore[attr-defined]
    _, events = apply_escalations(
        Desk().history,
        [_due(Action.reassign_to_group("help-desk"))],
        lifecycle=DESK,
        at=MON,
        structure=STRUCTURE,
    )
    assert events[0].skipped == ("reassign to group help-desk: already with 'dana'",)  # type: ignore[attr-defined]
    unrated = Desk(impact=None, urgency=None)  # type: ignore[arg-type]
    assert unrated.ticket.effective_priority is None
    ticket, events = apply_escalations(
        unrated.history,
        [_due(Action.raise_priority(), Action.raise_priority_to("P2"))],
        lifecycle=DESK,
        at=MON,
    )
    assert events[0].skipped == (  # type: ignore[attr-defined]
        "raise priority by 1 level: the ticket has no priority to raise",
    )
    assert ticket.effective_priority == "P2"
    plain.do(Transition(trigger="resolve", resolution_code="fixed", reason="ok"), "ari", MON)
    plain.do(Transition(trigger="close"), "ann", MON)
    ticket, events = apply_escalations(
        plain.history, [_due(Action.raise_priority())], lifecycle=DESK, at=MON
    )
    assert events[0].skipped == ("every action: the ticket is final",)  # type: ignore[attr-defined]
    assert ticket.version == plain.ticket.version + 1


def test_watchers_groups_people_and_major_candidates() -> None:
    desk = Desk()
    due = _due(
        Action.add_watcher(roles=("supervisor", "requester"), people="auditor"),
        Action.add_watcher(roles="manager", people="auditor"),
        Action.notify(roles="watchers", groups="admins", people="duty"),
        Action.flag_major_candidate(),
    )
    ticket, events = apply_escalations(
        desk.history, [due], lifecycle=DESK, at=MON, structure=STRUCTURE
    )
    assert [type(e).__name__ for e in events] == [
        "Escalated",
        "Watched",
        "Watched",
        "Watched",
        "Watched",
        "NotificationRequested",
        "MajorCandidateFlagged",
    ]
    assert [e.watcher for e in events if isinstance(e, Watched)] == [
        "sam",
        "ann",
        "auditor",
        "mona",
    ]
    note = next(e for e in events if isinstance(e, NotificationRequested))
    assert note.recipients == ("sam", "ann", "auditor", "mona", "ari", "ben", "duty")
    history = [*desk.history, *events]
    _, again = apply_escalations(history, [due], lifecycle=DESK, at=MON, structure=STRUCTURE)
    assert again[0].skipped == (  # type: ignore[attr-defined]
        "add watcher supervisor, requester, auditor: nobody new to add",
        "add watcher manager, auditor: nobody new to add",
        "flag as a major-incident candidate: already flagged or major",
    )
    assert ticket.version == desk.ticket.version + len(events)
    with pytest.raises(InvalidValueError, match="structure"):
        apply_escalations(
            desk.history, [_due(Action.notify(groups="admins"))], lifecycle=DESK, at=MON
        )


def test_lifecycle_replay_and_sla_clocks_accept_escalation_events() -> None:
    desk = Desk()
    desk.do(Transition(trigger="start"), "dana", MON + H)
    before = evaluate(desk.history, POLICY, MON + 20 * H)
    desk.run([RESOLUTION_PERCENT, NO_REPLY], MON + 10 * H)
    desk.add(request_escalation(desk.ticket, kind="manager", actor="ann", at=MON + 10 * H))
    assert any(isinstance(e, Escalated) for e in desk.history)
    assert DESK.replay(desk.history) == desk.ticket
    assert fold_events(desk.history) == desk.ticket
    after = evaluate(desk.history, POLICY, MON + 20 * H)
    assert after.clocks == before.clocks  # the records leave the clocks alone
    desk.run([EscalationRule.sla_warnings("first_response")], MON + 11 * H)
    # the 100% level of first-response warnings raised the priority: the targets moved
    assert desk.ticket.effective_priority == "P2"
    assert evaluate(desk.history, POLICY, MON + 20 * H).clocks != before.clocks
    assert DESK.replay(desk.history) == desk.ticket


def test_escalate_applies_and_reports_the_next_wakeup() -> None:
    desk = Desk()
    ticket, events, wake = escalate(
        desk.history, [NO_REPLY], MON + 3 * H, lifecycle=DESK, structure=STRUCTURE
    )
    assert [type(e).__name__ for e in events] == ["Escalated", "NotificationRequested"]
    assert str(wake) == "2026-03-02 13:00:00+00:00"
    assert ticket.version == desk.ticket.version + 2
    _, nothing, wake = escalate(
        [*desk.history, *events], [NO_REPLY], MON + 3 * H, lifecycle=DESK, structure=STRUCTURE
    )
    assert nothing == ()
    assert str(wake) == "2026-03-02 13:00:00+00:00"


def test_business_durations_count_on_the_given_calendar() -> None:
    office = BusinessCalendar.eight_by_five("UTC")
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    desk = Desk(at=friday)
    wake = next_wakeup(desk.history, [NO_REPLY], friday, calendar=office)
    assert str(wake) == "2026-03-09 10:00:00+00:00"
    wall = EscalationRule(
        name="wall",
        trigger=Trigger.no_reply(business=False),
        levels=EscalationLevel(after=2 * H, actions=notify("supervisor")),
    )
    assert str(next_wakeup(desk.history, [wall], friday, calendar=office)) == (
        "2026-03-06 18:00:00+00:00"
    )
    never = BusinessCalendar.always_open("UTC").with_holidays([])  # still open: sanity
    assert next_wakeup(desk.history, [NO_REPLY], friday, calendar=never) is not None


# ---------------------------------------------------------------------------- structure


def test_routing_registers_a_ticket_with_the_group_its_route_names() -> None:
    network = Desk(category="network")
    assert (network.ticket.group, network.ticket.assignee, network.ticket.support_line) == (
        "admins",
        "ari",
        2,
    )
    printing = Desk(category="printing")
    assert printing.ticket.group == "help-desk"
    no_default = SupportStructure(groups=STRUCTURE.groups)
    assert no_default.route(printing.ticket) is None
    assert no_default.assignment(printing.ticket) is None


def test_next_line_prefers_a_specific_group_then_declaration_order() -> None:
    assert STRUCTURE.next_line("help-desk", category="database").name == "dba"  # type: ignore[union-attr]
    assert STRUCTURE.next_line("help-desk", category="access").name == "admins"  # type: ignore[union-attr]
    assert STRUCTURE.next_line("help-desk").name == "admins"  # type: ignore[union-attr]
    assert STRUCTURE.next_line("help-desk", category="printing").name == "experts"  # type: ignore[union-attr]
    assert STRUCTURE.next_line("experts").name == "contractor"  # type: ignore[union-attr]
    assert STRUCTURE.next_line("contractor") is None
    skilled = SupportStructure(
        groups=(
            SupportGroup(name="desk", line=1, members=("d",), escalates_to="vendor"),
            SupportGroup(name="l2", line=2, members=("a",)),
            SupportGroup(name="sql", line=2, members=("s",), skills=("sql",)),
            SupportGroup(name="vendor", line=4, dispatcher="v", external=True),
        )
    )
    assert skilled.next_line("desk").name == "vendor"  # type: ignore[union-attr]
    assert skilled.next_line("l2", skill="sql") is None
    assert skilled.next_line("sql").name == "vendor"  # type: ignore[union-attr]
    assert skilled.on_line(2) == skilled.groups[1:3]
    mail = SupportGroup(name="mail", line=2, members=("m",), services=("email",))
    assert mail.covers(service="email")
    assert not mail.covers(service="vpn")
    assert skilled.line_of("sql") == 2
    assert skilled.line_of(None) is None
    assert skilled.members_of("l2") == ("a",)
    assert skilled.supervisor_of("l2") is None
    assert skilled.manager_of("nowhere") is None
    assert "sql" in skilled
    assert 3 not in skilled
    with pytest.raises(InvalidValueError, match="group: expected one of desk, l2, sql, vendor"):
        skilled.group("l9")


def test_a_structure_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        SupportStructure(
            groups=(
                SupportGroup(name="desk", line=0, members=("",)),
                SupportGroup(name="desk", line=True, supervisor=" ", escalates_to="moon"),
                "not a group",  # type: ignore[arg-type]
                SupportGroup(name=" ", line=2, members=("x",), external="yes"),  # type: ignore[arg-type]
                SupportGroup(name="empty", line=2),
            ),
            routes=(Route(group="nowhere"), "route"),  # type: ignore[arg-type]
            default_group="ghost",
        )
    paths = [p.path for p in caught.value.problems]
    assert paths == [
        "groups[0].line",
        "groups[0].members[0]",
        "groups[1].line",
        "groups[1].supervisor",
        "groups[1].name",
        "groups[2]",
        "groups[3].name",
        "groups[3].external",
        "groups[4]",
        "groups[1].escalates_to",
        "routes[0].group",
        "routes[1]",
        "default_group",
    ]


# -------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Trigger(kind="sla_percent"), "trigger.metric"),
        (lambda: Trigger(kind="no_reply", metric="resolution"), "trigger.metric"),
        (lambda: Trigger(kind="time_in_state"), "trigger.states"),
        (lambda: Trigger.sla_due("resolution", policy=" "), "trigger.policy"),
        (lambda: Trigger(kind="no_reply", policy="sla"), "trigger.policy"),
        (lambda: Trigger.time_in_state(categories="waiting"), "trigger.categories[0]"),
        (lambda: Trigger.request(""), "trigger.requests[0]"),
        (lambda: Trigger(kind="reassignments", bounces_only=1), "trigger.bounces_only"),  # type: ignore[arg-type]
        (lambda: Trigger(kind="no_reply", business="yes"), "trigger.business"),  # type: ignore[arg-type]
        (lambda: Action(kind="notify"), "action.roles"),
        (lambda: Action.notify(roles="boss"), "action.roles[0]"),
        (lambda: Action.add_watcher(), "action.people"),
        (lambda: Action(kind="reassign", to="group"), "action.group"),
        (lambda: Action(kind="reassign", to="supervisor", group="x"), "action.group"),
        (lambda: Action(kind="reassign", to="group", group=" "), "action.group[0]"),
        (lambda: Action(kind="raise_priority"), "action.by"),
        (lambda: Action(kind="raise_priority", by=1, priority="P1"), "action.by"),
        (lambda: Action.raise_priority(0), "action.by"),
        (lambda: Action.raise_priority_to(""), "action.priority[0]"),
        (lambda: Action.notify(people=("",)), "action.people[0]"),
        (lambda: EscalationLevel(percent=50, actions=()), "level.actions"),
        (lambda: EscalationLevel(percent=50, actions=("x",)), "level.actions[0]"),  # type: ignore[arg-type]
        (lambda: EscalationLevel(actions=notify("assignee")), "level"),
        (lambda: EscalationLevel(percent=0, count=1, actions=notify("assignee")), "level"),
        (lambda: EscalationLevel(percent=0, actions=notify("assignee")), "level.percent"),
        (lambda: EscalationLevel(percent=1001, actions=notify("assignee")), "level.percent"),
        (lambda: EscalationLevel(offset=5, actions=notify("assignee")), "level.offset"),  # type: ignore[arg-type]
        (lambda: EscalationLevel(count=-1, actions=notify("assignee")), "level.count"),
        (lambda: EscalationConditions(types=("",)), "conditions.types[0]"),
        (lambda: EscalationConditions(lines=0), "conditions.lines[0]"),
        (
            lambda: EscalationRule(name="", trigger=Trigger.no_reply(), levels=()),
            "rule.name",
        ),
        (lambda: EscalationRule(name="r", trigger="x", levels=()), "rule.trigger"),  # type: ignore[arg-type]
        (
            lambda: EscalationRule(
                name="r",
                trigger=Trigger.no_reply(),
                levels=(),
                conditions="x",  # type: ignore[arg-type]
            ),
            "rule.conditions",
        ),
        (lambda: EscalationRule(name="r", trigger=Trigger.no_reply(), levels=()), "rule.levels"),
        (
            lambda: EscalationRule(name="r", trigger=Trigger.no_reply(), levels=("x",)),  # type: ignore[arg-type]
            "rule.levels[0]",
        ),
        (
            lambda: EscalationRule(
                name="r",
                trigger=Trigger.no_reply(),
                levels=EscalationLevel(percent=5, actions=notify("assignee")),
            ),
            "rule.levels[0].percent",
        ),
        (
            lambda: EscalationRule(
                name="r",
                trigger=Trigger.no_reply(),
                levels=(
                    EscalationLevel(after=H, actions=notify("assignee")),
                    EscalationLevel(after=H, actions=notify("manager")),
                ),
            ),
            "rule.levels[1].after",
        ),
    ],
)
def test_invalid_rules_name_the_field_at_fault(build: object, field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_evaluation_rejects_bad_input_with_the_field_at_fault() -> None:
    desk = Desk()
    sla_rule = EscalationRule.sla_warnings("resolution")
    early = request_escalation(desk.ticket, kind="manager", actor="ann", at=MON)
    early = attrs.evolve(early, at=MON - H)
    assert due_escalations(desk.history, [NO_REPLY], MON - H) == ()  # before the ticket
    assert next_wakeup(desk.history, [NO_REPLY], MON - H) is None
    cases: list[tuple[object, str]] = [
        (lambda: desk.due([sla_rule, sla_rule], MON), "rules[1].name"),
        (lambda: desk.due(["rule"], MON), "rules[0]"),  # type: ignore[list-item]
        (lambda: due_escalations(desk.history, [sla_rule], MON), "rules[0].trigger.metric"),
        (
            lambda: desk.due([EscalationRule.sla_warnings("update")], MON),
            "rules[0].trigger.metric",
        ),
        (lambda: due_escalations(desk.history[1:], [NO_REPLY], MON), "history[0]"),
        (lambda: due_escalations([desk.history[0], "x"], [NO_REPLY], MON), "history[1]"),  # type: ignore[list-item]
        (
            lambda: due_escalations([*desk.history, early], [NO_REPLY], MON + H),
            "history[3].at",
        ),
        (lambda: due_escalations([], [NO_REPLY], MON), "history"),
        (lambda: due_escalations(desk.history, [NO_REPLY], MON, policy=["p"]), "policy[0]"),  # type: ignore[list-item]
        (lambda: due_escalations(desk.history, [NO_REPLY], MON, structure="s"), "structure"),  # type: ignore[arg-type]
        (
            lambda: apply_escalations(desk.history, ["d"], lifecycle=DESK, at=MON),  # type: ignore[list-item]
            "due[0]",
        ),
        (lambda: apply_escalations(desk.history, [], lifecycle=DESK, at=MON, actor=""), "actor"),
        (lambda: apply_escalations(desk.history, [], lifecycle=DESK, at=MON - H), "at"),
    ]
    for build, field in cases:
        with pytest.raises(InvalidValueError) as caught:
            build()  # type: ignore[operator]
        assert caught.value.field == field
    with pytest.raises(NaiveDatetimeError):
        due_escalations(desk.history, [NO_REPLY], datetime(2026, 3, 2, 9))


def test_escalation_requests_are_checked() -> None:
    desk = Desk()
    t = desk.ticket
    cases: list[tuple[dict[str, object], str]] = [
        ({"kind": ""}, "kind"),
        ({"actor": " "}, "actor"),
        ({"reason": 3}, "reason"),
        ({"at": MON - H}, "at"),
    ]
    for kwargs, field in cases:
        args: dict[str, object] = {"kind": "manager", "actor": "ann", "at": MON, **kwargs}
        with pytest.raises(InvalidValueError) as caught:
            request_escalation(t, **args)  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(InvalidValueError):
        request_escalation("INC-1", kind="manager", actor="ann", at=MON)  # type: ignore[arg-type]
    desk.do(Transition(trigger="cancel", reason="dup"), "dana", MON)
    with pytest.raises(InvalidValueError, match="not final"):
        request_escalation(desk.ticket, kind="manager", actor="ann", at=MON)


def test_actions_describe_themselves() -> None:
    assert [
        a.describe()
        for a in (
            Action.reassign_next_line(),
            Action.reassign_to_group("experts"),
            Action.reassign_to_supervisor(),
            Action.raise_priority(),
            Action.raise_priority_to("P1"),
            Action.add_watcher(people="x"),
            Action.flag_major_candidate(),
            Action.notify(roles="assignee", groups="admins", people="x"),
        )
    ] == [
        "reassign to the next line",
        "reassign to group experts",
        "reassign to the supervisor",
        "raise priority by 1 level",
        "raise priority to P1",
        "add watcher x",
        "flag as a major-incident candidate",
        "notify assignee, admins, x",
    ]
    assert {k.value for k in ActionKind} == {
        "notify",
        "reassign",
        "raise_priority",
        "add_watcher",
        "flag_major_candidate",
    }


# -------------------------------------------------------------------------- properties

CALENDARS = (
    WALL,
    BusinessCalendar.eight_by_five("Europe/Moscow"),
    BusinessCalendar.twelve_by_five("America/New_York"),
)
START_US = st.integers(
    to_us(datetime(2026, 1, 1, tzinfo=UTC)), to_us(datetime(2026, 12, 1, tzinfo=UTC))
)


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


@memoized
@st.composite
def rule_sets(draw: st.DrawFn) -> list[EscalationRule]:
    count = draw(st.integers(1, 3))
    return [draw(escalation_rules(name=f"rule-{i}")) for i in range(count)]


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[SlaPolicy, SupportStructure, list[EscalationRule], list[Event]]:
    return (
        draw(policies()),
        STRUCTURE,
        draw(rule_sets()),
        draw(escalation_histories(start_us=START_US)),
    )


def _at(us: int) -> datetime:
    return from_us(us, "UTC")


def _keys(due: tuple[DueEscalation, ...]) -> list[tuple[str, int, int]]:
    return [d.key for d in due]


@given(
    scenario=scenarios(),
    offsets=st.lists(st.integers(0, 4 * 24 * 60), min_size=1, max_size=6),
)
def test_each_due_level_is_produced_exactly_once_whatever_the_evaluation_instants(
    scenario: tuple[SlaPolicy, SupportStructure, list[EscalationRule], list[Event]],
    offsets: list[int],
) -> None:
    policy, structure, rules, base = scenario
    start = to_us(base[0].at)
    instants = sorted({start + minutes * 60_000_000 for minutes in offsets})
    stored: list[Event] = []
    pending = list(base)
    produced: list[DueEscalation] = []
    previous: int | None = None
    for t in instants:
        while pending and to_us(pending[0].at) <= t:
            stored.append(pending.pop(0))
        now = _at(t)
        due = due_escalations(stored, rules, now, policy=policy, structure=structure)
        assert [d.due_us for d in due] == sorted(d.due_us for d in due)  # in trigger order
        for d in due:
            assert d.due_us <= t  # never before its trigger
            assert previous is None or d.due_us > previous  # at the first evaluation after it
        produced += due
        _, events = apply_escalations(stored, due, lifecycle=DESK, at=now, structure=structure)
        stored += events
        previous = t
    keys = _keys(tuple(produced))
    assert len(keys) == len(set(keys))  # at most once
    once = due_escalations(base, rules, _at(instants[-1]), policy=policy, structure=structure)
    assert sorted(keys) == sorted(_keys(once))  # and every one of them


@given(scenario=scenarios(), offset=st.integers(0, 4 * 24 * 60))
def test_a_level_is_due_exactly_from_the_instant_it_is_reached(
    scenario: tuple[SlaPolicy, SupportStructure, list[EscalationRule], list[Event]],
    offset: int,
) -> None:
    policy, structure, rules, history = scenario
    now = _at(to_us(history[0].at) + offset * 60_000_000)
    by_name = {r.name: r for r in rules}
    for d in due_escalations(history, rules, now, policy=policy, structure=structure):
        at = _keys(due_escalations(history, rules, d.due_at, policy=policy, structure=structure))
        before = due_escalations(
            history, rules, _at(d.due_us - 1), policy=policy, structure=structure
        )
        assert d.key in at
        assert d.key not in _keys(before)
        rule = by_name[d.rule]
        level = rule.levels[d.level - 1]
        if rule.trigger.kind is TriggerKind.SLA_PERCENT:
            # the reference: the SLA fold itself says the share was reached at that instant
            metric = str(rule.trigger.metric)
            cycle = evaluate(history, policy, d.due_at).clock(metric).cycles[d.cycle - 1]
            needed = -(-cycle.target_us * int(level.percent or 0) // 100)
            assert cycle.elapsed_us >= needed
            earlier = evaluate(history, policy, _at(d.due_us - 1)).clock(metric)
            assert len(earlier.cycles) < d.cycle or earlier.cycles[d.cycle - 1].elapsed_us < needed


@given(
    scenario=scenarios(),
    offset=st.integers(0, 4 * 24 * 60),
    extra=st.integers(0, 10 * 24 * 60),
)
def test_results_depend_only_on_the_inputs(
    scenario: tuple[SlaPolicy, SupportStructure, list[EscalationRule], list[Event]],
    offset: int,
    extra: int,
) -> None:
    policy, structure, rules, history = scenario
    t = to_us(history[0].at) + offset * 60_000_000
    now = _at(t)
    first = due_escalations(history, rules, now, policy=policy, structure=structure)
    again = due_escalations(list(history), list(rules), now, policy=policy, structure=structure)
    past = [e for e in history if to_us(e.at) <= t]
    assert first == again == due_escalations(past, rules, now, policy=policy, structure=structure)
    assert next_wakeup(history, rules, now, policy=policy, structure=structure) == next_wakeup(
        past, rules, now, policy=policy, structure=structure
    )


@given(scenario=scenarios(), offset=st.integers(0, 4 * 24 * 60))
def test_next_wakeup_is_the_first_instant_something_new_becomes_due(
    scenario: tuple[SlaPolicy, SupportStructure, list[EscalationRule], list[Event]],
    offset: int,
) -> None:
    policy, structure, rules, history = scenario
    t = to_us(history[0].at) + offset * 60_000_000
    past = [e for e in history if to_us(e.at) <= t]

    def keys(us: int) -> set[tuple[str, int, int]]:
        due = due_escalations(past, rules, _at(us), policy=policy, structure=structure)
        return set(_keys(due))

    now_keys = keys(t)
    wake = next_wakeup(past, rules, _at(t), policy=policy, structure=structure)
    if wake is None:
        assert keys(t + 30 * 24 * 3600 * 1_000_000) == now_keys
    else:
        w = to_us(wake)
        assert w > t
        assert keys(w - 1) == now_keys
        assert keys(w) > now_keys


@given(structure=support_structures(), category=st.sampled_from(("access", "network", None)))
def test_functional_escalation_always_climbs_to_a_higher_line(
    structure: SupportStructure, category: str | None
) -> None:
    for group in structure.groups:
        above = structure.next_line(group.name, category=category)
        if above is None:
            assert all(g.line <= group.line for g in structure.groups) or all(
                not g.covers(category=category) for g in structure.groups if g.line > group.line
            )
        else:
            assert above.line > group.line
            assert above.covers(category=category)


def test_a_history_must_open_the_ticket() -> None:
    opened = TicketOpened(
        ticket_id="X",
        actor="a",
        at=MON,
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="a",
    )
    assert due_escalations((e for e in [opened]), [NO_REPLY], MON) == ()
    assert isinstance(fold_events([opened]), Ticket)
    assert EscalationRequested.__name__ == "EscalationRequested"
    assert MajorCandidateFlagged.__name__ == "MajorCandidateFlagged"


def test_a_customer_calendar_and_a_calendar_that_never_opens() -> None:
    closed = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule())
    policy = SlaPolicy(
        name="customer hours",
        calendar=WALL,
        metrics=(Metric.resolution({"P3": 8 * H}),),
        use_customer_calendar=True,
    )
    desk = Desk()
    office = BusinessCalendar.eight_by_five("UTC")
    due = due_escalations(
        desk.history,
        [RESOLUTION_PERCENT, NO_REPLY],
        MON + 30 * H,
        policy=policy,
        customer_calendar=office,
    )
    assert [(d.rule, str(d.due_at)) for d in due][:2] == [
        ("unanswered", "2026-03-02 11:00:00+00:00"),
        ("resolution warnings", "2026-03-02 13:00:00+00:00"),
    ]
    assert (
        due_escalations(
            desk.history,
            [RESOLUTION_PERCENT, NO_REPLY],
            MON + 30 * H,
            policy=policy,
            customer_calendar=closed,
        )
        == ()
    )
    assert next_wakeup(desk.history, [NO_REPLY], MON, calendar=closed) is None


def test_a_fired_level_is_not_expected_again_when_its_target_grows() -> None:
    desk = Desk(impact="high", urgency="medium")
    assert desk.ticket.effective_priority == "P2"  # a 4 hour resolution target
    assert [d.level for d in desk.run([RESOLUTION_PERCENT], MON + 2 * H)] == [1]
    desk.do(Classify(impact="medium", reason="one user only"), "dana", MON + 2 * H)
    assert desk.ticket.effective_priority == "P3"  # now 8 hours: 50% lies ahead again
    wake = next_wakeup(desk.history, [RESOLUTION_PERCENT], MON + 2 * H, policy=POLICY)
    assert str(wake) == "2026-03-02 15:00:00+00:00"  # 75%, not the 50% already fired
    assert desk.run([RESOLUTION_PERCENT], MON + 5 * H) == ()


def test_the_group_role_names_the_members_of_the_ticket_group() -> None:
    desk = Desk()
    _, events = apply_escalations(
        desk.history, [_due(notify("group"))], lifecycle=DESK, at=MON, structure=STRUCTURE
    )
    assert events[1].recipients == ("dana", "eli")  # type: ignore[attr-defined]


@given(
    rule=escalation_rules(metrics=()),
    history=escalation_histories(start_us=START_US),
    offset=st.integers(0, 4 * 24 * 60),
)
def test_rules_without_sla_triggers_need_no_policy(
    rule: EscalationRule, history: list[Event], offset: int
) -> None:
    assert rule.trigger.metric is None
    now = _at(to_us(history[0].at) + offset * 60_000_000)
    for d in due_escalations(history, [rule], now, structure=STRUCTURE):
        assert d.due_us <= to_us(now)
        assert d.due_us >= to_us(history[0].at)


class _DenyReassign:
    """Lets the escalation principal do anything but reassign."""

    def check(self, actor: str, action: str, ticket: Ticket | None, command: object) -> None:
        if action == "reassign":
            raise PermissionDenied(principal=actor, action=action, reasons=("not allowed",))


def test_actions_run_through_the_authorizer_and_a_refusal_is_recorded_not_lost() -> None:
    desk = Desk()
    desk.do(Transition(trigger="start"), "dana", MON)
    ticket, events = apply_escalations(
        desk.history,
        [_due(notify("manager"), Action.reassign_next_line())],
        lifecycle=DESK,
        at=MON,
        structure=STRUCTURE,
        actor="escalation-bot",
        authorizer=_DenyReassign(),
    )
    assert [type(e).__name__ for e in events] == ["Escalated", "NotificationRequested"]
    escalated = events[0]
    assert isinstance(escalated, Escalated)
    assert len(escalated.skipped) == 1
    assert "refused" in escalated.skipped[0]
    assert ticket.group == fold_events(desk.history).group
    ticket, events = apply_escalations(
        desk.history,
        [_due(Action.raise_priority())],
        lifecycle=DESK,
        at=MON,
        authorizer=_DenyReassign(),
        actor="escalation-bot",
    )
    assert {e.actor for e in events} == {"escalation-bot"}
    assert ticket.effective_priority == "P2"


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(timedelta, lambda d: d.total_seconds())
    converter.register_structure_hook(timedelta, lambda v, _: timedelta(seconds=v))
    # A level's offset is business time or business days (GLPI's levels in days).
    converter.register_structure_hook(
        timedelta | BusinessDays | None,
        lambda v, _: (
            None
            if v is None
            else converter.structure(v, BusinessDays)
            if isinstance(v, dict)
            else timedelta(seconds=v)
        ),
    )
    return converter


CONVERTER = _converter()


@given(rule=escalation_rules(), structure=support_structures())
def test_rules_and_structures_round_trip_through_plain_data(
    rule: EscalationRule, structure: SupportStructure
) -> None:
    converter = CONVERTER
    assert converter.structure(converter.unstructure(rule), EscalationRule) == rule
    data = converter.unstructure(structure)
    assert "_by_name" not in data
    assert converter.structure(data, SupportStructure) == structure


def test_a_request_is_dropped_once_the_ticket_is_resolved() -> None:
    rule = EscalationRule(
        name="manager within the hour",
        trigger=Trigger.request(),
        levels=EscalationLevel(after=H, actions=notify("manager")),
    )
    desk = Desk()
    desk.add(request_escalation(desk.ticket, kind="manager", actor="ann", at=MON))
    desk.do(
        Transition(trigger="resolve", resolution_code="fixed", reason="ok"), "dana", MON + H / 2
    )
    assert desk.due([rule], MON + 5 * H) == ()
    assert next_wakeup(desk.history, [rule], MON + H / 2) is None


def test_a_cancelled_ticket_escalates_no_more_even_when_a_custom_clock_runs_on() -> None:
    endless = SlaPolicy(
        name="endless",
        calendar=WALL,
        metrics=(
            Metric(
                name="age",
                targets={"P3": 4 * H},
                start=Condition(event="ticket_opened"),
                stop=Condition(event="state_changed", category="resolved"),
            ),
        ),
    )
    rule = EscalationRule(
        name="old",
        trigger=Trigger.sla_percent("age"),
        levels=EscalationLevel(percent=100, actions=notify("manager")),
    )
    desk = Desk()
    desk.do(Transition(trigger="cancel", reason="duplicate"), "dana", MON + H)
    assert evaluate(desk.history, endless, MON + 5 * H).clock("age").running
    assert due_escalations(desk.history, [rule], MON + 5 * H, policy=endless) == ()
    assert next_wakeup(desk.history, [rule], MON + 2 * H, policy=endless) is None


def test_an_sla_trigger_may_name_its_policy_when_an_sla_and_an_ola_share_a_metric() -> None:
    ola = SlaPolicy(
        name="desk OLA",
        calendar=WALL,
        metrics=(Metric.resolution({"P3": 2 * H}),),
    )
    default = EscalationRule(
        name="sla",
        trigger=Trigger.sla_percent("resolution"),
        levels=EscalationLevel(percent=100, actions=notify("manager")),
    )
    internal = EscalationRule(
        name="ola",
        trigger=Trigger.sla_percent("resolution", policy="desk OLA"),
        levels=EscalationLevel(percent=100, actions=notify("supervisor")),
    )
    desk = Desk()
    due = due_escalations(desk.history, [default, internal], MON + 9 * H, policy=(POLICY, ola))
    assert [(d.rule, str(d.due_at)) for d in due] == [
        ("ola", "2026-03-02 11:00:00+00:00"),
        ("sla", "2026-03-02 17:00:00+00:00"),
    ]
    unknown = attrs.evolve(internal, trigger=Trigger.sla_percent("resolution", policy="nope"))
    with pytest.raises(InvalidValueError) as caught:
        due_escalations(desk.history, [unknown], MON, policy=(POLICY, ola))
    assert caught.value.field == "rules[0].trigger.policy"
