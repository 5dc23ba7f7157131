"""Business-time arithmetic pinned on small calendars whose answers are worked out by hand.

These examples pin the edges of the compiled timeline (``calendar/_timeline.py``):
window boundaries, weekends, holidays, the ends of the supported range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from itsm_core.calendar import BusinessCalendar

H = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


EIGHT_BY_FIVE = BusinessCalendar.eight_by_five("UTC")


def test_two_hours_from_friday_afternoon_end_on_monday_morning() -> None:
    # 2026-03-06 is a Friday: one hour until 17:00, the second from Monday 09:00.
    assert EIGHT_BY_FIVE.add(utc(2026, 3, 6, 16), 2 * H) == utc(2026, 3, 9, 10)
    assert EIGHT_BY_FIVE.elapsed(utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)) == 2 * H
