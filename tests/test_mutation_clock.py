"""SLA clocks pinned on short histories whose answers are worked out by hand.

These examples pin the fold of ``sla/_clock.py``: starts, pauses, stops,
breaches and the due instants they imply on a business calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from itsm_core.calendar import BusinessCalendar
from itsm_core.sla import Metric, SlaPolicy, Stage, evaluate
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
