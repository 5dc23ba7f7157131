"""SLA clocks pinned on short histories whose answers are worked out by hand.

These examples pin the fold of ``sla/_clock.py``: starts, pauses, stops,
breaches and the due instants they imply on a business calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from itsm_core._time import td_to_us as to_us_td
from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar
from itsm_core.sla import (
    Condition,
    Metric,
    SlaPolicy,
    SlaStatus,
    Stage,
    evaluate,
    evaluate_reference,
)
from itsm_core.sla._clock import Cycle, reach_us
from itsm_core.ticket import (
    CommentAdded,
    DueDateSet,
    Event,
    PriorityChanged,
    StateChanged,
    TicketOpened,
)

H = timedelta(hours=1)
Fold = Callable[[Sequence[Event], SlaPolicy, datetime], SlaStatus]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def opened(at: datetime, priority: str = "P3") -> TicketOpened:
    return TicketOpened(
        ticket_id="INC-1",
        actor="kiosk-17",
        at=at,
        type="incident",
        state="new",
        state_category="new",
        title="Kiosk does not print",
        requester="kiosk-17",
        effective_priority=priority,
    )


def resolution_policy() -> SlaPolicy:
    """Eight business hours to resolve a P3, on an 8x5 calendar in UTC.

    Built inside each test: compiled tables and calendars are cached per object,
    so a policy shared between tests would hide the code that compiled it.
    """
    return SlaPolicy(
        name="8x5 resolution",
        calendar=BusinessCalendar.eight_by_five("UTC"),
        metrics=(Metric.resolution({"P3": 8 * H}),),
    )


def test_a_ticket_opened_on_monday_morning_is_half_way_at_one_in_the_afternoon() -> None:
    # 2026-03-02 is a Monday; 09:00-13:00 is four of the eight business hours.
    clock = evaluate([opened(utc(2026, 3, 2, 9))], resolution_policy(), utc(2026, 3, 2, 13)).clock(
        "resolution"
    )
    assert clock.stage is Stage.RUNNING
    assert clock.elapsed == 4 * H
    assert clock.remaining == 4 * H
    assert clock.due_at == utc(2026, 3, 2, 17)
    assert clock.percent == 50.0


# ---------------------------------------------------------------------------
# reach_us: when N business time runs out over the stretches a clock ran
# ---------------------------------------------------------------------------


def test_business_time_runs_out_within_the_stretch_that_holds_it() -> None:
    always = BusinessCalendar.always_open("UTC")
    # 10 us in the first stretch, the other 5 in the second.
    assert reach_us(always, [(0, 10), (20, 30)], 15) == 25
    # Nothing ran: never; nothing needed: at once.
    assert reach_us(always, [], 5) is None
    assert reach_us(always, [(7, 9)], 0) == 7
    assert reach_us(always, [(7, 9)], -3) == 7
    # More than all the stretches hold: never, unless the last one goes on.
    assert reach_us(always, [(0, 10), (20, 30)], 25) is None
    assert reach_us(always, [(0, 10), (20, 30)], 25, open_end=True) == 35


def test_a_need_met_exactly_at_the_end_of_a_stretch_counts_only_for_a_breach() -> None:
    always = BusinessCalendar.always_open("UTC")
    assert reach_us(always, [(0, 10), (20, 30)], 10) == 10
    # An escalation fires only while its clock runs: the 10th us is reached as
    # the clock stops, so the level waits for the next stretch.
    assert reach_us(always, [(0, 10), (20, 30)], 10, while_running=True) == 20
    assert reach_us(always, [(0, 10), (20, 30)], 20, while_running=True) is None


def test_business_time_counts_only_open_hours_across_stretches() -> None:
    eight_by_five = BusinessCalendar.eight_by_five("UTC")
    monday_9 = to_us(utc(2026, 3, 2, 9))
    monday_12 = to_us(utc(2026, 3, 2, 12))
    tuesday_9 = to_us(utc(2026, 3, 3, 9))
    tuesday_17 = to_us(utc(2026, 3, 3, 17))
    # Three hours on Monday morning, then five more from Tuesday 09:00: 14:00.
    segments = [(monday_9, monday_12), (tuesday_9, tuesday_17)]
    assert reach_us(eight_by_five, segments, to_us_td(8 * H)) == to_us(utc(2026, 3, 3, 14))


def test_a_cycle_reports_its_share_of_the_target_and_projects_only_while_running() -> None:
    running = Cycle(
        number=1,
        stage=Stage.RUNNING,
        running=True,
        started_us=0,
        ended_us=None,
        target_us=100,
        elapsed_us=25,
        paused_us=5,
        due_us=75,
        breached_us=None,
        met_us=None,
        timezone="UTC",
        segments_us=((0, 10), (20, 35)),
    )
    assert running.percent == 25.0
    assert running.remaining == timedelta(microseconds=75)
    assert running.paused == timedelta(microseconds=5)
    always = BusinessCalendar.always_open("UTC")
    # 10 us in the first stretch, 20 more from 20: 40, past the evaluation instant.
    assert running.reaches_us(always, 30) == 40
    stopped = attrs.evolve(running, running=False, stage=Stage.MET, ended_us=35, met_us=35)
    assert stopped.reaches_us(always, 30) is None
    assert stopped.reaches_us(always, 20) == 30


# ---------------------------------------------------------------------------
# Both folds on short histories: evaluate (compiled) and evaluate_reference (plain)
# ---------------------------------------------------------------------------

FOLDS = pytest.mark.parametrize(
    "fold", [evaluate, evaluate_reference], ids=["evaluate", "evaluate_reference"]
)
MONDAY_9 = utc(2026, 3, 2, 9)


def desk_policy() -> SlaPolicy:
    """A first response in 30 minutes, a next response in 4 hours, resolution in 8 (P1: 4)."""
    return SlaPolicy(
        name="desk 8x5",
        calendar=BusinessCalendar.eight_by_five("UTC"),
        metrics=(
            Metric.first_response({"P3": timedelta(minutes=30)}),
            Metric.next_response({"P3": 4 * H}),
            Metric.resolution({"P3": 8 * H, "P1": 4 * H}),
        ),
    )


def moved(
    at: datetime, to: str, category: str, hold: str | None = None, trigger: str | None = None
) -> StateChanged:
    return StateChanged(
        ticket_id="INC-1",
        actor="dispatcher",
        at=at,
        trigger=trigger or f"to_{to}",
        from_state="x",
        to_state=to,
        from_category="active",
        to_category=category,
        hold_reason=hold,
    )


def reprioritised(at: datetime, priority: str) -> PriorityChanged:
    return PriorityChanged(
        ticket_id="INC-1",
        actor="dispatcher",
        at=at,
        impact=None,
        urgency=None,
        derived=priority,
        override=None,
        effective=priority,
        reason="re-triage",
    )


def comment(at: datetime, *, by_requester: bool, public: bool = True) -> CommentAdded:
    return CommentAdded(
        ticket_id="INC-1",
        actor="kiosk-17" if by_requester else "dispatcher",
        at=at,
        body="...",
        public=public,
        by_requester=by_requester,
    )


@FOLDS
def test_an_unanswered_ticket_breaches_at_its_due_instant_and_keeps_counting(fold: Fold) -> None:
    # Friday 16:00: one business hour on Friday, seven on Monday: due Monday 16:00.
    status = fold([opened(utc(2026, 3, 6, 16))], desk_policy(), utc(2026, 3, 10, 10))
    clock = status.clock("resolution")
    assert clock.stage is Stage.BREACHED
    assert clock.running
    assert clock.breached_at == utc(2026, 3, 9, 16)
    # Friday 1 h + Monday 8 h + Tuesday 1 h.
    assert clock.elapsed == 10 * H
    assert clock.remaining == -2 * H
    assert clock.percent == 125.0
    assert [(e.stage, e.cause) for e in status.timeline if e.metric == "resolution"] == [
        (Stage.RUNNING, "ticket_opened"),
        (Stage.BREACHED, "deadline"),
    ]


@FOLDS
def test_resolving_within_the_target_meets_the_clock_where_it_stopped(fold: Fold) -> None:
    history = [opened(MONDAY_9), moved(utc(2026, 3, 2, 15, 30), "resolved", "resolved")]
    clock = fold(history, desk_policy(), utc(2026, 3, 3, 9)).clock("resolution")
    assert clock.stage is Stage.MET
    assert not clock.running
    assert clock.met_at == utc(2026, 3, 2, 15, 30)
    assert clock.elapsed == timedelta(hours=6, minutes=30)
    assert clock.remaining == timedelta(hours=1, minutes=30)
    assert clock.percent == 81.25
    assert clock.breached_at is None


@FOLDS
def test_waiting_for_the_requester_pauses_resolution_and_pushes_the_deadline(fold: Fold) -> None:
    history = [
        opened(MONDAY_9),
        moved(utc(2026, 3, 2, 11), "awaiting", "on_hold", "awaiting_requester"),
        moved(utc(2026, 3, 2, 14), "work", "active"),
    ]
    clock = fold(history, desk_policy(), utc(2026, 3, 2, 15)).clock("resolution")
    assert clock.stage is Stage.RUNNING
    assert clock.elapsed == 3 * H  # 09-11 and 14-15
    assert clock.paused == 3 * H  # 11-14
    # Five hours left at 15:00: two on Monday, three on Tuesday.
    assert clock.due_at == utc(2026, 3, 3, 12)
    paused = fold(history[:2], desk_policy(), utc(2026, 3, 2, 13)).clock("resolution")
    assert paused.stage is Stage.PAUSED
    assert not paused.running
    assert paused.elapsed == 2 * H
    assert paused.paused == 2 * H
    assert paused.due_at is None


@FOLDS
def test_only_a_public_agent_reply_answers_the_first_response(fold: Fold) -> None:
    history = [
        opened(MONDAY_9),
        comment(utc(2026, 3, 2, 9, 5), by_requester=True),
        comment(utc(2026, 3, 2, 9, 10), by_requester=False, public=False),
        comment(utc(2026, 3, 2, 9, 20), by_requester=False),
    ]
    clock = fold(history, desk_policy(), utc(2026, 3, 2, 10)).clock("first_response")
    assert clock.stage is Stage.MET
    assert clock.met_at == utc(2026, 3, 2, 9, 20)
    assert clock.elapsed == timedelta(minutes=20)


@FOLDS
def test_a_reopening_starts_a_second_resolution_cycle(fold: Fold) -> None:
    history = [
        opened(MONDAY_9),
        moved(utc(2026, 3, 2, 11), "resolved", "resolved"),
        StateChanged(
            ticket_id="INC-1",
            actor="kiosk-17",
            at=utc(2026, 3, 2, 12),
            trigger="reopen",
            from_state="resolved",
            to_state="work",
            from_category="resolved",
            to_category="active",
        ),
    ]
    clock = fold(history, desk_policy(), utc(2026, 3, 2, 13)).clock("resolution")
    assert [c.stage for c in clock.cycles] == [Stage.MET, Stage.RUNNING]
    assert [c.number for c in clock.cycles] == [1, 2]
    assert clock.cycles[0].elapsed == 2 * H
    assert clock.started_at == utc(2026, 3, 2, 12)
    assert clock.elapsed == H


@FOLDS
def test_cancelling_cancels_the_running_clocks_and_leaves_the_others_pending(fold: Fold) -> None:
    history = [opened(MONDAY_9), moved(utc(2026, 3, 2, 10), "cancelled", "cancelled")]
    status = fold(history, desk_policy(), utc(2026, 3, 2, 11))
    assert {c.metric: c.stage for c in status.clocks} == {
        "first_response": Stage.CANCELLED,
        "next_response": Stage.PENDING,
        "resolution": Stage.CANCELLED,
    }
    resolution = status.clock("resolution")
    assert resolution.current is not None
    assert resolution.current.ended_at == utc(2026, 3, 2, 10)
    assert resolution.elapsed == H


@FOLDS
def test_a_priority_raise_breaches_from_the_start_and_a_drop_lifts_it(fold: Fold) -> None:
    raised = fold(
        [opened(MONDAY_9), reprioritised(utc(2026, 3, 2, 14), "P1")],
        desk_policy(),
        utc(2026, 3, 2, 15),
    ).clock("resolution")
    assert raised.current is not None
    assert raised.current.target == 4 * H
    assert raised.stage is Stage.BREACHED
    assert raised.breached_at == utc(2026, 3, 2, 13)
    dropped = fold(
        [opened(MONDAY_9, "P1"), reprioritised(utc(2026, 3, 2, 14), "P3")],
        desk_policy(),
        utc(2026, 3, 2, 15),
    )
    clock = dropped.clock("resolution")
    assert clock.stage is Stage.RUNNING
    assert clock.breached_at is None
    assert clock.due_at == utc(2026, 3, 2, 17)
    assert [(e.stage, e.cause) for e in dropped.timeline if e.metric == "resolution"] == [
        (Stage.RUNNING, "ticket_opened"),
        (Stage.BREACHED, "deadline"),
        (Stage.RUNNING, "priority_changed"),
    ]


def due_set(at: datetime, due: datetime | None, metric: str = "resolution") -> DueDateSet:
    return DueDateSet(
        ticket_id="INC-1", actor="lena", at=at, metric=metric, due=due, reason="agreed by phone"
    )


@FOLDS
def test_a_due_instant_set_by_hand_becomes_the_target_of_the_running_cycle(fold: Fold) -> None:
    # Opened at 09:00, due by hand at 12:00: three business hours instead of eight.
    history = [opened(MONDAY_9), due_set(utc(2026, 3, 2, 10), utc(2026, 3, 2, 12))]
    running = fold(history, desk_policy(), utc(2026, 3, 2, 11)).clock("resolution")
    assert running.stage is Stage.RUNNING
    assert running.current is not None
    assert running.current.target == 3 * H
    assert running.due_at == utc(2026, 3, 2, 12)
    assert running.remaining == H
    late = fold(history, desk_policy(), utc(2026, 3, 2, 13)).clock("resolution")
    assert late.stage is Stage.BREACHED
    assert late.breached_at == utc(2026, 3, 2, 12)
    assert late.remaining == -H


@FOLDS
def test_clearing_a_due_instant_set_by_hand_restores_the_policy_target(fold: Fold) -> None:
    history = [
        opened(MONDAY_9),
        due_set(utc(2026, 3, 2, 10), utc(2026, 3, 2, 12)),
        due_set(utc(2026, 3, 2, 11), None),
    ]
    clock = fold(history, desk_policy(), utc(2026, 3, 2, 13)).clock("resolution")
    assert clock.stage is Stage.RUNNING
    assert clock.current is not None
    assert clock.current.target == 8 * H
    assert clock.due_at == utc(2026, 3, 2, 17)
    assert clock.breached_at is None


@FOLDS
def test_a_due_instant_set_after_the_clock_stopped_changes_nothing(fold: Fold) -> None:
    # Resolved at 11:00; at 12:00 someone sets the due instant to 10:00, which the
    # stopped cycle would have missed: it stays met, with no breach in its timeline.
    history = [
        opened(MONDAY_9),
        moved(utc(2026, 3, 2, 11), "resolved", "resolved"),
        due_set(utc(2026, 3, 2, 12), utc(2026, 3, 2, 10)),
    ]
    status = fold(history, desk_policy(), utc(2026, 3, 2, 13))
    clock = status.clock("resolution")
    assert clock.stage is Stage.MET
    assert clock.current is not None
    assert clock.current.target == 8 * H
    assert clock.elapsed == 2 * H
    assert clock.met_at == utc(2026, 3, 2, 11)
    assert [e.stage for e in status.timeline if e.metric == "resolution"] == [
        Stage.RUNNING,
        Stage.MET,
    ]


def resolution_changes(status: SlaStatus) -> list[tuple[Stage, str, datetime, int | None]]:
    return [
        (e.stage, e.cause, e.at, e.event_index) for e in status.timeline if e.metric == "resolution"
    ]


@FOLDS
def test_a_raise_past_the_new_target_is_a_breach_caused_by_the_priority_change(
    fold: Fold,
) -> None:
    # Five business hours by 14:00; P1 allows four: breached since 13:00, noted at 14:00.
    history = [opened(MONDAY_9), reprioritised(utc(2026, 3, 2, 14), "P1")]
    status = fold(history, desk_policy(), utc(2026, 3, 2, 15))
    assert status.clock("resolution").breached_at == utc(2026, 3, 2, 13)
    assert resolution_changes(status) == [
        (Stage.RUNNING, "ticket_opened", MONDAY_9, 0),
        (Stage.BREACHED, "priority_changed", utc(2026, 3, 2, 14), 1),
    ]


@FOLDS
def test_a_raise_to_a_target_reached_that_very_instant_is_a_breach_at_once(fold: Fold) -> None:
    # Four business hours by 13:00, and P1 allows four: breached at 13:00.
    history = [opened(MONDAY_9), reprioritised(utc(2026, 3, 2, 13), "P1")]
    status = fold(history, desk_policy(), utc(2026, 3, 2, 15))
    assert status.clock("resolution").breached_at == utc(2026, 3, 2, 13)
    assert resolution_changes(status)[1:] == [
        (Stage.BREACHED, "priority_changed", utc(2026, 3, 2, 13), 1),
    ]


@FOLDS
def test_resolving_after_the_target_ends_the_cycle_breached(fold: Fold) -> None:
    # P1, four hours: one before the hold (09-10), three after it (11-14): due at 14:00.
    history = [
        opened(MONDAY_9, "P1"),
        moved(utc(2026, 3, 2, 10), "awaiting", "on_hold", "awaiting_requester"),
        moved(utc(2026, 3, 2, 11), "work", "active"),
        moved(utc(2026, 3, 2, 15), "resolved", "resolved"),
    ]
    clock = fold(history, desk_policy(), utc(2026, 3, 2, 16)).clock("resolution")
    assert clock.stage is Stage.BREACHED
    assert not clock.running
    assert clock.breached_at == utc(2026, 3, 2, 14)
    assert clock.elapsed == 5 * H
    assert clock.paused == H


@FOLDS
def test_resolving_exactly_at_the_target_is_a_breach(fold: Fold) -> None:
    history = [opened(MONDAY_9, "P1"), moved(utc(2026, 3, 2, 13), "resolved", "resolved")]
    clock = fold(history, desk_policy(), utc(2026, 3, 2, 16)).clock("resolution")
    assert clock.stage is Stage.BREACHED
    assert clock.breached_at == utc(2026, 3, 2, 13)
    assert clock.elapsed == 4 * H


@FOLDS
def test_resolving_while_on_hold_counts_the_hold_as_paused_time(fold: Fold) -> None:
    history = [
        opened(MONDAY_9),
        moved(utc(2026, 3, 2, 10), "awaiting", "on_hold", "awaiting_requester"),
        moved(utc(2026, 3, 2, 12), "resolved", "resolved"),
    ]
    clock = fold(history, desk_policy(), utc(2026, 3, 2, 16)).clock("resolution")
    assert clock.stage is Stage.MET
    assert clock.elapsed == H
    assert clock.paused == 2 * H
    assert clock.met_at == utc(2026, 3, 2, 12)


def custom_policy() -> SlaPolicy:
    """Stops on the state 'closed_ok', a cancelled category or a private agent note while
    active; parks and unparks by trigger."""
    metric = Metric(
        name="custom",
        targets={"P3": 8 * H},
        start=Condition(event="ticket_opened"),
        stop=(
            Condition(event="state_changed", state=("closed_ok",)),
            Condition(event="state_changed", category=("cancelled",)),
            Condition(
                event="comment_added", category=("active",), public=False, by_requester=False
            ),
        ),
        pause=Condition(event="state_changed", trigger=("park",)),
        resume=Condition(event="state_changed", trigger=("unpark",), category=("active",)),
    )
    return SlaPolicy(
        name="custom", calendar=BusinessCalendar.eight_by_five("UTC"), metrics=(metric,)
    )


@FOLDS
def test_each_condition_of_a_list_reads_its_own_field_of_the_event(fold: Fold) -> None:
    # Parked 10-11 by trigger; a public reply does not stop it, a private note does.
    history = [
        opened(MONDAY_9),
        moved(utc(2026, 3, 2, 10), "parked", "on_hold", trigger="park"),
        moved(utc(2026, 3, 2, 11), "work", "active", trigger="unpark"),
        comment(utc(2026, 3, 2, 12), by_requester=False),
        comment(utc(2026, 3, 2, 13), by_requester=False, public=False),
    ]
    clock = fold(history, custom_policy(), utc(2026, 3, 2, 16)).clock("custom")
    assert clock.stage is Stage.MET
    assert clock.met_at == utc(2026, 3, 2, 13)
    assert clock.elapsed == 3 * H
    assert clock.paused == H
    # The first condition of the stop list: the state, not the category, is 'closed_ok'.
    closed = [opened(MONDAY_9), moved(utc(2026, 3, 2, 12), "closed_ok", "resolved")]
    clock = fold(closed, custom_policy(), utc(2026, 3, 2, 16)).clock("custom")
    assert clock.stage is Stage.MET
    assert clock.met_at == utc(2026, 3, 2, 12)
    # The second condition: any state of the cancelled category.
    scrapped = [opened(MONDAY_9), moved(utc(2026, 3, 2, 14), "scrapped", "cancelled")]
    clock = fold(scrapped, custom_policy(), utc(2026, 3, 2, 16)).clock("custom")
    assert clock.stage is Stage.MET
    assert clock.met_at == utc(2026, 3, 2, 14)


@FOLDS
def test_a_running_clock_that_reaches_its_target_exactly_now_is_breached(fold: Fold) -> None:
    clock = fold([opened(MONDAY_9, "P1")], desk_policy(), utc(2026, 3, 2, 13)).clock("resolution")
    assert clock.stage is Stage.BREACHED
    assert clock.breached_at == utc(2026, 3, 2, 13)


@FOLDS
def test_every_hold_adds_to_the_paused_time(fold: Fold) -> None:
    history = [
        opened(MONDAY_9),
        moved(utc(2026, 3, 2, 10), "awaiting", "on_hold", "awaiting_requester"),
        moved(utc(2026, 3, 2, 11), "work", "active"),
        moved(utc(2026, 3, 2, 12), "awaiting", "on_hold", "awaiting_requester"),
    ]
    clock = fold(history, desk_policy(), utc(2026, 3, 2, 13)).clock("resolution")
    assert clock.stage is Stage.PAUSED
    assert clock.elapsed == 2 * H
    assert clock.paused == 2 * H
