"""SLA clocks pinned on short histories whose answers are worked out by hand.

These examples pin the fold of ``sla/_clock.py``: starts, pauses, stops,
breaches and the due instants they imply on a business calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from itsm_core._time import td_to_us as to_us_td
from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar
from itsm_core.sla import Metric, SlaPolicy, Stage, evaluate
from itsm_core.sla._clock import Cycle, reach_us
from itsm_core.ticket import TicketOpened

H = timedelta(hours=1)


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
