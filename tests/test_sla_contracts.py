"""SLA semantics of the established systems: durations, start rules, visibility, missing targets.

Each acceptance test cites the peer behaviour it reproduces (system, documented rule).
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core._time import from_us, to_us
from itsm_core.calendar import BusinessCalendar, WeeklySchedule
from itsm_core.desk import Desk, DueKind
from itsm_core.errors import (
    ConfigurationError,
    InvalidValueError,
    NeverOpenError,
    PermissionDenied,
)
from itsm_core.escalation import (
    Action,
    EscalationLevel,
    EscalationRule,
    Trigger,
    plan_escalations,
)
from itsm_core.permissions import Grant, PolicyAuthorizer, default_policy
from itsm_core.serialization import (
    decode_event,
    encode_event,
    format_sla_duration,
    json_schema,
    load_desk,
    make_converter,
    parse_sla_duration,
    structure_checked,
)
from itsm_core.sla import (
    BusinessDays,
    BusinessDuration,
    ClassifiedStart,
    Condition,
    Metric,
    MissingTarget,
    SlaPolicy,
    Stage,
    StartAt,
    WallDuration,
    evaluate,
    next_deadline,
    set_due_date,
)
from itsm_core.testing import business_calendars, instants
from itsm_core.ticket import (
    Assign,
    CommentAdded,
    DueDateSet,
    OpenTicket,
    OverridePriority,
    PriorityChanged,
    SetDueDate,
    StateChanged,
    TicketCommand,
    TicketOpened,
    Transition,
    fold_events,
)

UTC = "UTC"
H = timedelta(hours=1)
OFFICE = BusinessCalendar.eight_by_five(UTC)  # Monday to Friday, 09:00-17:00


def at(day: int, hour: int, minute: int = 0) -> pendulum.DateTime:
    """An instant in March 2026 (the 2nd is a Monday)."""
    return pendulum.datetime(2026, 3, day, hour, minute, tz=UTC)


def opened(when: datetime, priority: str | None = "P3") -> TicketOpened:
    return TicketOpened(
        ticket_id="T-1",
        actor="ann",
        at=when,
        type="incident",
        state="new",
        state_category="new",
        title="printer",
        requester="ann",
        effective_priority=priority,
    )


def comment(when: datetime, *, by_requester: bool) -> CommentAdded:
    return CommentAdded(
        ticket_id="T-1",
        actor="ann" if by_requester else "dana",
        at=when,
        body="...",
        public=True,
        by_requester=by_requester,
    )


def moved(when: datetime, to: str, category: str) -> StateChanged:
    return StateChanged(
        ticket_id="T-1",
        actor="dana",
        at=when,
        trigger=f"to_{to}",
        from_state="x",
        to_state=to,
        from_category="active",
        to_category=category,
    )


def reprioritized(when: datetime, priority: str) -> PriorityChanged:
    return PriorityChanged(
        ticket_id="T-1",
        actor="dana",
        at=when,
        impact=None,
        urgency=None,
        derived=priority,
        override=None,
        effective=priority,
        reason="triage",
    )


def policy(*metrics: Metric, calendar: BusinessCalendar = OFFICE) -> SlaPolicy:
    return SlaPolicy(name="contract", calendar=calendar, metrics=metrics)


# ------------------------------------------------------------------------ start rules


def test_rt_first_business_minute_start_begins_the_clock_at_the_next_opening() -> None:
    """Request Tracker, ``%ServiceAgreements`` ``Starts => { BusinessMinutes => 0 }``:
    the Starts date is the first business minute at or after creation."""
    metric = Metric.first_response({"P3": 2 * H}, start_at=StartAt.NEXT_OPENING)
    saturday = at(7, 10)
    clock = evaluate([opened(saturday)], policy(metric), at(7, 12)).clock("first_response")
    assert clock.stage is Stage.RUNNING
    assert clock.started_at == at(9, 9)
    assert clock.due_at == at(9, 11)
    assert clock.elapsed == timedelta(0)
    inside = evaluate([opened(at(9, 10))], policy(metric), at(9, 10, 30)).clock("first_response")
    assert inside.started_at == at(9, 10)


def test_rt_offset_start_delays_the_clock_by_business_time() -> None:
    """Request Tracker, ``Starts => { BusinessMinutes => 60 }``: the Starts date is
    set 60 business minutes after creation; the due date is counted from it."""
    metric = Metric.first_response({"P3": 2 * H}, start_offset=H)
    history = [opened(at(2, 16, 30))]  # Monday 16:30: the hour ends Tuesday 09:30
    before = evaluate(history, policy(metric), at(2, 17, 0)).clock("first_response")
    assert before.started_at == at(3, 9, 30)
    assert before.elapsed == timedelta(0)
    assert before.due_at == at(3, 11, 30)
    later = evaluate(history, policy(metric), at(3, 10, 30)).clock("first_response")
    assert later.elapsed == H
    replied = [*history, comment(at(3, 9), by_requester=False)]
    met = evaluate(replied, policy(metric), at(3, 12)).clock("first_response")
    assert met.stage is Stage.MET
    assert met.elapsed == timedelta(0)


def test_a_start_offset_must_be_business_time() -> None:
    with pytest.raises(InvalidValueError, match=r"metric\.start_offset"):
        Metric.first_response({"P3": H}, start_offset=BusinessDays(days=1))
    with pytest.raises(InvalidValueError, match=r"metric\.start_offset"):
        Metric.first_response({"P3": H}, start_offset=-H)


# ------------------------------------------------------------------------- visibility


def test_rt_ignore_but_count_hides_the_deadline_while_the_clock_keeps_counting() -> None:
    """Request Tracker, ``IgnoreOnStatuses`` without ``ExcludeTimeOnIgnoredStatuses``:
    in the ignored statuses the due date is not shown, but the time still counts."""
    metric = Metric.resolution({"P3": 8 * H}, hide_due_in="waiting_vendor")
    history = [opened(at(2, 9)), moved(at(2, 10), "waiting_vendor", "active")]
    hidden = evaluate(history, policy(metric), at(2, 12))
    clock = hidden.clock("resolution")
    assert clock.stage is Stage.RUNNING
    assert clock.due_at is None
    assert clock.elapsed == 3 * H
    assert next_deadline(history, policy(metric), at(2, 12)) is None
    back = [*history, moved(at(2, 13), "in_progress", "active")]
    shown = evaluate(back, policy(metric), at(2, 14)).clock("resolution")
    assert shown.elapsed == 5 * H
    assert shown.due_at == at(2, 17)
    assert next_deadline(back, policy(metric), at(2, 14)) is not None


# ---------------------------------------------------------------- durations as targets


def test_glpi_business_day_target_keeps_the_time_of_day() -> None:
    """GLPI, time to resolve in days: the deadline is the same time N working days
    later on the SLA's calendar, moved to the next working hour when the calendar
    is closed then ("the last day of the SLA should be a working day")."""
    metric = Metric.resolution({"P3": BusinessDays(days=5)})
    clock = evaluate([opened(at(3, 10))], policy(metric), at(3, 11)).clock("resolution")
    assert clock.due_at == at(10, 10)
    assert clock.current is not None
    assert clock.current.target == 5 * 8 * H  # the business time between start and due
    assert clock.percent == pytest.approx(100 / 40)
    evening = evaluate([opened(at(6, 18))], policy(metric), at(6, 19)).clock("resolution")
    # Friday 18:00 + 5bd is Friday 13th 18:00, rolled on to Monday 09:00; no open time
    # lies between that Friday's close and Monday's opening, so the business time runs
    # out at the close (one definition of breach: the instant the time is reached).
    assert evening.current is not None
    assert evening.current.target == 5 * 8 * H
    assert evening.due_at == at(13, 17)


def test_glpi_end_of_working_day_target() -> None:
    """GLPI, "end of working day" targets: the deadline is the end of the working
    day, that day or N working days later."""
    today = Metric.resolution({"P3": BusinessDays(days=0, end_of_day=True)})
    clock = evaluate([opened(at(3, 10))], policy(today), at(3, 11)).clock("resolution")
    assert clock.due_at == at(3, 17)
    later = Metric.resolution({"P3": parse_sla_duration("2bd eod")})
    clock = evaluate([opened(at(3, 10))], policy(later), at(3, 11)).clock("resolution")
    assert clock.due_at == at(5, 17)
    met = [opened(at(3, 10)), moved(at(5, 16), "resolved", "resolved")]
    assert evaluate(met, policy(later), at(6, 9)).clock("resolution").stage is Stage.MET


def test_a_wall_clock_target_counts_nights_as_its_deadline() -> None:
    metric = Metric.resolution({"P3": WallDuration(value=24 * H)})
    clock = evaluate([opened(at(2, 10))], policy(metric), at(2, 11)).clock("resolution")
    assert clock.due_at == at(3, 10)
    assert clock.current is not None
    assert clock.current.target == 8 * H


def test_a_plain_timedelta_target_still_means_business_time() -> None:
    metric = Metric.resolution({"P3": 4 * H})
    assert metric.target("P3") == BusinessDuration(value=4 * H)
    assert metric.target_us("P3") == to_us(at(2, 4)) - to_us(at(2, 0))
    with pytest.raises(InvalidValueError, match="calendar"):
        Metric.resolution({"P3": BusinessDays(days=1)}).target_us("P3")


# --------------------------------------------------------------- durations as text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("8h", BusinessDuration(value=8 * H)),
        ("1h30m", BusinessDuration(value=90 * timedelta(minutes=1))),
        ("PT8H", BusinessDuration(value=8 * H)),
        ("5bd", BusinessDays(days=5)),
        ("eod", BusinessDays(days=0, end_of_day=True)),
        ("2bd eod", BusinessDays(days=2, end_of_day=True)),
        ("-2bd", BusinessDays(days=-2)),
        ("24h wall", WallDuration(value=24 * H)),
        ("1d wall", WallDuration(value=24 * H)),
    ],
)
def test_sla_duration_texts_say_what_they_mean(text: str, value: object) -> None:
    assert parse_sla_duration(text) == value


@pytest.mark.parametrize("text", ["1d", "P1D", "30h 1d", "0bd", "-1bd eod", "wall", "", "5 days"])
def test_ambiguous_or_malformed_sla_durations_are_refused_naming_the_alternatives(
    text: str,
) -> None:
    with pytest.raises(InvalidValueError, match=r"targets\.P1"):
        parse_sla_duration(text, "targets.P1")


def test_one_day_on_a_business_calendar_names_the_alternatives() -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_sla_duration("1d", "targets.P1")
    for alternative in ('"24h"', '"1bd"', '"eod"', '"1d wall"'):
        assert alternative in str(caught.value)


_SLA_DURATIONS = st.one_of(
    st.integers(1, 10**12).map(lambda us: BusinessDuration(value=timedelta(microseconds=us))),
    st.builds(BusinessDays, days=st.integers(1, 400), end_of_day=st.booleans()),
    st.just(BusinessDays(days=0, end_of_day=True)),
    st.integers(1, 10**12).map(lambda us: WallDuration(value=timedelta(microseconds=us))),
)


@settings(max_examples=300)
@given(_SLA_DURATIONS)
def test_an_sla_duration_reads_back_from_its_text(value: object) -> None:
    assert parse_sla_duration(format_sla_duration(value)) == value  # type: ignore[arg-type]


def test_a_desk_metric_writes_back_the_durations_it_read() -> None:
    conv = make_converter()
    table = {
        "name": "resolution",
        "targets": {"P1": "8h", "P2": "30h", "P3": "5bd", "P4": "2bd eod", "P5": "24h wall"},
        "default_target": "eod",
        "start_offset": "1h",
        "start_at": "next_opening",
        "start": [{"event": ["ticket_opened"]}],
        "stop": [{"category": ["resolved"]}],
    }
    metric = structure_checked(conv, table, Metric, "metric")
    assert metric.target("P3") == BusinessDays(days=5)
    written = conv.unstructure(metric)
    assert written["targets"] == table["targets"]
    assert written["default_target"] == "eod"
    assert written["start_offset"] == "1h"
    with pytest.raises(ConfigurationError, match='"1bd"'):
        structure_checked(conv, {**table, "targets": {"P1": "1d"}}, Metric, "metric")


# ------------------------------------------------------------ update time (Zammad)


def test_zammad_update_time_clock_runs_from_each_customer_message_to_the_agent_reply() -> None:
    """Zammad, escalation "update time": the time between a customer's message and
    the agent's answer; each new customer message starts it again."""
    metric = Metric.next_response({"P3": 2 * H})
    history = [
        opened(at(2, 9)),
        comment(at(2, 10), by_requester=True),
        comment(at(2, 11), by_requester=False),
        comment(at(2, 13), by_requester=True),
    ]
    clock = evaluate(history, policy(metric), at(2, 16)).clock("next_response")
    assert [c.stage for c in clock.cycles] == [Stage.MET, Stage.BREACHED]
    assert clock.cycles[0].elapsed == H
    assert clock.breached_at == at(2, 15)


# ------------------------------------------------------- priorities without a target


def _changed_to_untargeted(choice: MissingTarget) -> list[object]:
    metric = Metric.resolution({"P1": 4 * H, "P2": 8 * H}, on_missing_target=choice)
    history = [opened(at(2, 9), "P1"), reprioritized(at(2, 10), "P4")]
    return [metric, history]


def test_a_priority_change_to_no_target_keeps_the_old_target_when_the_metric_says_keep() -> None:
    """ServiceNow keeps a running task SLA when its start condition stops matching
    unless a cancel condition says otherwise: the metric states ``keep``."""
    metric, history = _changed_to_untargeted(MissingTarget.KEEP)
    clock = evaluate(history, policy(metric), at(2, 12)).clock("resolution")  # type: ignore[arg-type]
    assert clock.stage is Stage.RUNNING
    assert clock.due_at == at(2, 13)


def test_a_priority_change_to_no_target_stops_the_clock_when_the_metric_says_stop() -> None:
    """Jira Service Management: an issue no longer matching any goal of the SLA has
    no target, and its cycle ends: the metric states ``stop`` (cancelled)."""
    metric, history = _changed_to_untargeted(MissingTarget.STOP)
    status = evaluate(history, policy(metric), at(2, 12))  # type: ignore[arg-type]
    clock = status.clock("resolution")
    assert clock.stage is Stage.CANCELLED
    assert clock.current is not None
    assert clock.current.ended_at == at(2, 10)
    assert status.timeline[-1].cause == "priority_changed"


def test_a_priority_change_to_no_target_is_refused_when_the_metric_says_refuse() -> None:
    metric, history = _changed_to_untargeted(MissingTarget.REFUSE)
    with pytest.raises(InvalidValueError, match=r"events\[1\]\.effective.*resolution target"):
        evaluate(history, policy(metric), at(2, 12))  # type: ignore[arg-type]


# --------------------------------------------------------------- classified later


@pytest.mark.parametrize(
    ("choice", "started"),
    [(ClassifiedStart.CLASSIFICATION, at(2, 11)), (ClassifiedStart.OPENING, at(2, 9))],
)
def test_a_ticket_classified_later_starts_its_clock_as_the_policy_says(
    choice: ClassifiedStart, started: pendulum.DateTime
) -> None:
    metric = Metric.resolution({"P1": 4 * H}, classified_start=choice)
    history = [opened(at(2, 9), None)]
    assert evaluate(history, policy(metric), at(2, 10)).clock("resolution").stage is Stage.PENDING
    classified = [*history, reprioritized(at(2, 11), "P1")]
    clock = evaluate(classified, policy(metric), at(2, 12)).clock("resolution")
    assert clock.stage is Stage.RUNNING
    assert clock.started_at == started


def test_a_ticket_resolved_before_classification_never_starts_a_clock() -> None:
    metric = Metric.resolution({"P1": 4 * H})
    history = [
        opened(at(2, 9), None),
        moved(at(2, 10), "resolved", "resolved"),
        reprioritized(at(2, 11), "P1"),
    ]
    assert evaluate(history, policy(metric), at(2, 12)).clock("resolution").stage is Stage.PENDING


# ------------------------------------------------------------ the desk, hidden deadlines


def test_rt_ignore_but_count_hides_the_deadline_from_the_desk_and_its_escalations() -> None:
    """Request Tracker, ``IgnoreOnStatuses`` without ``ExcludeTimeOnIgnoredStatuses``:
    no due date (so no wake-up, warning or escalation) while in an ignored status;
    the time spent there still counts once the status is left."""
    example = Path(__file__).parent.parent / "docs" / "examples" / "desk.toml"
    desk = load_desk(tomllib.loads(example.read_text(encoding="utf-8")))
    metric = Metric.resolution({}, default_target=8 * H, hide_due_in="in_progress")
    desk = attrs.evolve(desk, sla_policies=(policy(metric),))
    t0 = at(10, 9)
    command = OpenTicket(ticket_id="T", type="incident", title="t", requester="kiosk-007")
    h = desk.apply(None, command, actor="kiosk-007", at=t0).history
    assign = Assign(assignee="dana", group="service-desk", support_line=1)
    h = desk.apply(h, assign, actor="dana", at=t0.add(minutes=5)).history
    h = desk.apply(h, Transition(trigger="start"), actor="dana", at=t0.add(hours=1)).history
    late = t0.add(hours=9)
    sla_kinds = {DueKind.SLA_THRESHOLD, DueKind.SLA_BREACH}
    shown = [d for d in desk.due(h, late) if d.kind in sla_kinds or "resolution" in d.reason]
    assert shown == []
    assert evaluate(h, desk.sla_policies[0], late).clock("resolution").breached_at == at(10, 17)
    h = desk.apply(
        h,
        Transition(trigger="hold", hold_reason="awaiting_vendor", reason="parts"),
        actor="dana",
        at=late,
    ).history
    kinds = [d.kind for d in desk.due(h, late) if d.kind in sla_kinds]
    assert DueKind.SLA_BREACH in kinds


@settings(max_examples=200)
@given(
    business_calendars(),
    instants(),
    st.builds(BusinessDays, days=st.integers(1, 20), end_of_day=st.booleans()),
)
def test_a_business_days_clock_is_due_where_its_days_end_in_business_time(
    calendar: BusinessCalendar, start_us: int, days: BusinessDays
) -> None:
    start = from_us(start_us, calendar.timezone)
    try:
        designated = days.due_us(calendar, start_us)
    except (NeverOpenError, InvalidValueError):
        return
    metric = Metric.resolution({"P3": days})
    status = evaluate([opened(start)], policy(metric, calendar=calendar), start)
    cycle = status.clock("resolution").current
    assert cycle is not None
    assert cycle.target_us == max(1, calendar.elapsed_us(start_us, designated))
    if cycle.due_us is not None:
        # The clock is due at the designated instant, or at the last close before it
        # when no open time lies between (the same business time).
        assert cycle.due_us <= designated or cycle.target_us == 1
        assert calendar.elapsed_us(min(cycle.due_us, designated), designated) == 0


def test_durations_before_an_instant_count_backwards() -> None:
    """GLPI escalation levels sit before the due instant: a negative business offset
    and negative business days designate instants before it."""
    due = to_us(at(4, 10))  # Wednesday 10:00
    assert BusinessDuration(value=-3 * H).due_us(OFFICE, due) == to_us(at(3, 15))
    two_days_before = BusinessDays(days=-2)
    assert two_days_before.due_us(OFFICE, due) == to_us(at(2, 10))
    assert two_days_before.business_us(OFFICE, due) == -16 * 3_600_000_000


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: BusinessDays(days=True), "business_days.days"),
        (lambda: BusinessDays(days=0), "business_days.days"),
        (lambda: BusinessDays(days=-1, end_of_day=True), "business_days.days"),
        (lambda: Metric.resolution({"P1": BusinessDays(days=-1)}), "metric.targets.P1"),
        (lambda: Metric.resolution({"P1": WallDuration(value=-H)}), "metric.targets.P1"),
        (lambda: Metric.resolution({}, default_target=timedelta(0)), "metric.default_target"),
        (lambda: parse_sla_duration(8, "targets.P1"), "targets.P1"),
        (lambda: BusinessDuration(value="8h"), "duration.value"),  # type: ignore[arg-type]
    ],
)
def test_bad_sla_durations_are_refused_naming_the_field(make: object, field: str) -> None:
    with pytest.raises(InvalidValueError, match=field.replace(".", r"\.")):
        make()  # type: ignore[operator]


def test_a_business_days_target_on_a_calendar_without_business_days_starts_no_clock() -> None:
    never = BusinessCalendar(timezone=UTC, weekly=WeeklySchedule())
    metric = Metric.resolution({"P3": BusinessDays(days=1)})
    clock = evaluate([opened(at(2, 9))], policy(metric, calendar=never), at(2, 10))
    assert clock.clock("resolution").stage is Stage.PENDING


def test_a_reset_to_a_priority_without_a_target_waits_for_one() -> None:
    metric = Metric(
        name="own",
        targets={"P1": H},
        start=Condition(event="ticket_opened"),
        stop=Condition(category="resolved"),
        reset=Condition(event="priority_changed"),
    )
    history = [opened(at(2, 9), "P1"), reprioritized(at(2, 10), "P9")]
    clock = evaluate(history, policy(metric), at(2, 11)).clock("own")
    assert [c.stage for c in clock.cycles] == [Stage.CANCELLED]
    back = [*history, reprioritized(at(2, 12), "P1")]
    again = evaluate(back, policy(metric), at(2, 12, 30)).clock("own")
    assert again.stage is Stage.RUNNING
    assert again.started_at == at(2, 12)


def test_a_classified_ticket_keeps_waiting_while_priorities_have_no_target() -> None:
    metric = Metric.resolution({"P1": H})
    history = [opened(at(2, 9), None), reprioritized(at(2, 10), "P7")]
    assert evaluate(history, policy(metric), at(2, 11)).clock("resolution").stage is Stage.PENDING
    comment_only = [*history, comment(at(2, 11), by_requester=True)]
    clock = evaluate(comment_only, policy(metric), at(2, 12)).clock("resolution")
    assert clock.stage is Stage.PENDING


def test_a_pause_before_a_delayed_start_counts_nothing_before_it() -> None:
    metric = Metric.resolution({"P3": 2 * H}, start_offset=H, pause=Condition(category="on_hold"))
    history = [
        opened(at(2, 9)),
        moved(at(2, 9, 30), "waiting", "on_hold"),
        moved(at(2, 11), "in_progress", "active"),
    ]
    clock = evaluate(history, policy(metric), at(2, 12)).clock("resolution")
    assert clock.started_at == at(2, 10)
    assert clock.elapsed == H


# ------------------------------------------------------- escalation levels in days (GLPI)


def test_glpi_escalation_levels_at_negative_offsets_in_business_days() -> None:
    """GLPI, SLA escalation levels: each level's execution time is relative to the
    SLA's due date ("before", "after" or at it), and on an SLA in days it is set in
    days, counted on the SLA's calendar."""
    metric = Metric.resolution({"P3": BusinessDays(days=5)})
    glpi = policy(metric)
    rule = EscalationRule(
        name="resolution in days",
        trigger=Trigger.sla_due("resolution"),
        levels=(
            EscalationLevel(offset=BusinessDays(days=-2), actions=Action.notify(roles="group")),
            EscalationLevel(offset=BusinessDays(days=-1), actions=Action.notify(roles="manager")),
        ),
    )
    history = [opened(at(2, 10))]  # Monday 10:00: due Monday the 9th, 10:00
    plan = plan_escalations(history, [rule], at(5, 10, 30), policy=glpi)
    assert [(d.level, d.due_at) for d in plan.due] == [(1, at(5, 10))]  # Thursday: 2bd before
    assert plan.wakeup == at(6, 10)
    later = plan_escalations(history, [rule], at(6, 10), policy=glpi).due
    assert [(d.level, d.due_at) for d in later] == [(1, at(5, 10)), (2, at(6, 10))]
    assert "2 business days before its due instant" in later[0].reason
    conv = make_converter()
    written = conv.unstructure(rule)
    assert [level["offset"] for level in written["levels"]] == ["-2bd", "-1bd"]
    assert structure_checked(conv, written, EscalationRule) == rule


def test_a_rule_does_not_mix_business_days_and_business_time_offsets() -> None:
    with pytest.raises(InvalidValueError, match="offsets of one kind"):
        EscalationRule(
            name="mixed",
            trigger=Trigger.sla_due("resolution"),
            levels=(
                EscalationLevel(offset=-H, actions=Action.notify(roles="group")),
                EscalationLevel(offset=BusinessDays(days=1), actions=Action.notify(roles="group")),
            ),
        )


# ------------------------------------------------------------ manual due date (GLPI)


def test_glpi_manual_due_date_is_honoured_and_clearing_restores_the_policy() -> None:
    """GLPI, ticket "Time to resolve" set by hand: a technician with the right may
    type the due date instead of the SLA's; the SLA's computed date returns when the
    manual date is removed. Recorded with a reason, checked by its own permission."""
    metric = Metric.resolution({"P3": 8 * H})
    sla = policy(metric)
    history = [opened(at(2, 9))]
    ticket = fold_events(history)
    lead = PolicyAuthorizer(default_policy([Grant(role="shift_lead", principal="lena")]))
    with pytest.raises(PermissionDenied):
        set_due_date(
            ticket,
            metric="resolution",
            due=at(4, 12),
            reason="vendor part",
            actor="dana",
            at=at(2, 10),
            authorizer=lead,
        )
    manual = set_due_date(
        ticket,
        metric="resolution",
        due=at(4, 12),
        reason="vendor part",
        actor="lena",
        at=at(2, 10),
        authorizer=lead,
    )
    moved_due = [*history, manual]
    clock = evaluate(moved_due, sla, at(2, 11)).clock("resolution")
    assert clock.due_at == at(4, 12)
    assert clock.current is not None
    assert clock.current.target == 19 * H  # Monday 8h, Tuesday 8h, Wednesday 3h
    late = evaluate(moved_due, sla, at(4, 13)).clock("resolution")
    assert late.breached_at == at(4, 12)
    rule = EscalationRule(
        name="at the due instant",
        trigger=Trigger.sla_due("resolution"),
        levels=EscalationLevel(offset=timedelta(0), actions=Action.notify(roles="manager")),
    )
    plan = plan_escalations(moved_due, [rule], at(3, 9), policy=sla)
    assert plan.due == ()
    assert plan.wakeup == at(4, 12)
    cleared = [
        *moved_due,
        set_due_date(
            fold_events(moved_due),
            metric="resolution",
            due=None,
            reason="part arrived",
            actor="lena",
            at=at(2, 12),
            authorizer=lead,
        ),
    ]
    restored = evaluate(cleared, sla, at(2, 13)).clock("resolution")
    assert restored.due_at == at(2, 17)
    conv = make_converter()
    assert decode_event(encode_event(manual)) == manual
    assert conv.unstructure(manual)["due"].startswith("2026-03-04T12:00:00")


def test_a_due_instant_set_by_hand_is_refused_without_a_ticket_metric_or_order() -> None:
    ticket = fold_events([opened(at(2, 9))])
    fields = {"metric": "resolution", "due": at(4, 12), "reason": "part", "actor": "lena"}
    with pytest.raises(InvalidValueError, match="ticket"):
        set_due_date("T-1", at=at(2, 10), **fields)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"due_date_set\.metric"):
        set_due_date(ticket, at=at(2, 10), **{**fields, "metric": ""})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="at"):
        set_due_date(ticket, at=at(2, 8), **fields)  # type: ignore[arg-type]


def _example_desk(*metrics: Metric) -> Desk:
    example = Path(__file__).parent.parent / "docs" / "examples" / "desk.toml"
    desk = load_desk(tomllib.loads(example.read_text(encoding="utf-8")))
    return attrs.evolve(desk, sla_policies=(policy(*metrics),))


def test_glpi_manual_due_date_through_the_desk_needs_its_permission_and_clears() -> None:
    """GLPI, "Time to resolve" typed by hand on the ticket: the SetDueDate command goes
    through the desk like any other (authorized as ``sla.set_due``, granted to the
    shift lead), records a DueDateSet event the clocks honour, and due=None brings
    back the SLA's own date."""
    targets = {"P1": 4 * H, "P2": 8 * H, "P3": 8 * H, "P4": 16 * H}
    sla = policy(Metric.resolution(targets))
    desk = _example_desk(*sla.metrics)
    command = OpenTicket(
        ticket_id="T",
        type="incident",
        title="t",
        requester="kiosk-007",
        impact="high",
        urgency="high",
    )
    h = desk.apply(None, command, actor="kiosk-007", at=at(10, 9)).history
    policy_due = evaluate(list(h), sla, at(10, 10)).clock("resolution").due_at
    set_due = SetDueDate(metric="resolution", due=at(12, 12), reason="vendor part")
    with pytest.raises(PermissionDenied):
        desk.apply(h, set_due, actor="kiosk-007", at=at(10, 10))
    done = desk.apply(h, set_due, actor="sveta", at=at(10, 10))
    (event,) = done.events
    assert isinstance(event, DueDateSet)
    assert (event.metric, event.due, event.reason, event.actor) == (
        "resolution",
        at(12, 12),
        "vendor part",
        "sveta",
    )
    assert evaluate(list(done.history), sla, at(10, 11)).clock("resolution").due_at == at(12, 12)
    clear = SetDueDate(metric="resolution", due=None, reason="part arrived")
    cleared = desk.apply(done.history, clear, actor="sveta", at=at(10, 12))
    back = evaluate(list(cleared.history), sla, at(10, 12, 30)).clock("resolution")
    assert back.due_at == policy_due


def test_a_set_due_date_command_is_refused_without_a_metric_reason_or_aware_due() -> None:
    desk = _example_desk(Metric.resolution({"P2": 8 * H}))
    command = OpenTicket(ticket_id="T", type="incident", title="t", requester="kiosk-007")
    h = desk.apply(None, command, actor="kiosk-007", at=at(10, 9)).history
    bad = [
        (SetDueDate(metric=" ", due=at(12, 12), reason="x"), r"command\.metric"),
        (SetDueDate(metric="resolution", due=at(12, 12), reason=""), r"command\.reason"),
        (
            SetDueDate(metric="resolution", due=datetime(2026, 3, 12, 12), reason="x"),
            r"command\.due",
        ),
    ]
    for command_, field in bad:
        with pytest.raises(InvalidValueError, match=field):
            desk.apply(h, command_, actor="sveta", at=at(10, 10))
    assert len(h) == 1


@pytest.mark.parametrize("due", [at(12, 12), None])
def test_a_set_due_date_command_round_trips_and_has_a_json_schema(due: datetime | None) -> None:
    command = SetDueDate(metric="resolution", due=due, reason="vendor part")
    conv = make_converter()
    plain = conv.unstructure(command)
    assert plain["command"] == "set_due_date"
    assert structure_checked(conv, plain, TicketCommand) == command
    schema = json_schema(SetDueDate)
    assert set(schema["$defs"]["SetDueDate"]["required"]) >= {"metric", "due", "reason"}


def test_the_desk_refuses_a_priority_change_its_metric_refuses() -> None:
    example = Path(__file__).parent.parent / "docs" / "examples" / "desk.toml"
    desk = load_desk(tomllib.loads(example.read_text(encoding="utf-8")))
    targets = {"P1": 4 * H, "P2": 8 * H, "P3": 8 * H}
    metric = Metric.resolution(targets, on_missing_target=MissingTarget.REFUSE)
    desk = attrs.evolve(desk, sla_policies=(policy(metric),))
    command = OpenTicket(
        ticket_id="T",
        type="incident",
        title="t",
        requester="kiosk-007",
        impact="high",
        urgency="high",
    )
    h = desk.apply(None, command, actor="kiosk-007", at=at(10, 9)).history
    with pytest.raises(InvalidValueError, match="resolution target"):
        desk.apply(h, OverridePriority(priority="P4", reason="x"), actor="sveta", at=at(10, 10))
    kept = desk.apply(h, OverridePriority(priority="P2", reason="x"), actor="sveta", at=at(10, 10))
    assert kept.ticket.effective_priority == "P2"
