"""One definition of breach: breached from the instant the business time reaches the target.

For every ``now``, a clock's stage is ``breached`` exactly when ``breached_at <= now``,
and ``breached_at`` does not depend on when the clock is read (targets ending exactly
at closing times and across DST nights included). Runs with the profile's example
count (1,000 under ``ci``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar
from itsm_core.desk import Desk
from itsm_core.sla import Metric, SlaPolicy, Stage, evaluate
from itsm_core.testing._memo import sampled
from itsm_core.ticket import CommentAdded, OpenTicket, TicketOpened

ZONES = ("Europe/Moscow", "America/New_York", "Europe/London", "Australia/Sydney")
CALENDARS = {
    **{f"8x5 {z}": BusinessCalendar.eight_by_five(z) for z in ZONES},
    "24x7 New York": BusinessCalendar.always_open("America/New_York"),
}


@st.composite
def cases(draw: st.DrawFn) -> tuple[SlaPolicy, list[object], datetime, datetime]:
    name = draw(sampled(tuple(sorted(CALENDARS))))
    calendar = CALENDARS[name]
    # Around the DST changes of 2026 (March and November) and ordinary weeks.
    day: tuple[int, int] = draw(sampled(((3, 6), (3, 26), (10, 23), (10, 30), (6, 1))))
    opened = pendulum.datetime(2026, *day, tz=calendar.timezone).add(
        minutes=draw(sampled((9 * 60, 9 * 60 + 1, 12 * 60))) + draw(st.integers(0, 3)) * 60
    )
    # Whole business days end exactly at a closing time when opened at 09:00.
    target = timedelta(
        minutes=draw(st.one_of(st.sampled_from([480, 960, 2400]), st.integers(1, 3000)))
    )
    policy = SlaPolicy(
        name="p", calendar=calendar, metrics=(Metric.first_response({}, default_target=target),)
    )
    history: list[object] = [
        TicketOpened(
            ticket_id="T",
            actor="r",
            at=opened,
            type="incident",
            state="new",
            state_category="new",
            title="t",
            requester="r",
        )
    ]
    if draw(st.booleans()):  # an answer some time later stops the clock
        answered = opened.add(minutes=draw(st.integers(0, 6 * 24 * 60)))
        history.append(
            CommentAdded(
                ticket_id="T", actor="a", at=answered, body="hi", public=True, by_requester=False
            )
        )
    first = opened.add(minutes=draw(st.integers(0, 8 * 24 * 60)))
    second = opened.add(minutes=draw(st.integers(0, 8 * 24 * 60)))
    return policy, history, first, second


@given(cases())
def test_a_clock_is_breached_exactly_from_the_instant_it_reaches_its_target(
    case: tuple[SlaPolicy, list[object], datetime, datetime],
) -> None:
    policy, history, first, second = case
    a = evaluate(history, policy, first).clock("first_response")  # type: ignore[arg-type]
    b = evaluate(history, policy, second).clock("first_response")  # type: ignore[arg-type]
    for clock, now in ((a, first), (b, second)):
        breached_at = clock.breached_at
        assert (clock.stage is Stage.BREACHED) == (breached_at is not None and breached_at <= now)
    # Read at two instants, a breach both have seen happened at the same instant.
    if a.breached_at is not None and b.breached_at is not None:
        assert a.breached_at == b.breached_at
    # The breach is the target's end: what the running clock said was due.
    later = a if first >= second else b
    earlier = b if later is a else a
    if later.breached_at is not None and earlier.due_at is not None:
        assert earlier.due_at == later.breached_at


def test_the_desk_wakes_a_host_at_a_breach_on_a_closing_time() -> None:
    calendar = BusinessCalendar.eight_by_five("Europe/Moscow")
    policy = SlaPolicy(
        name="p",
        calendar=calendar,
        metrics=(Metric.first_response({}, default_target=timedelta(hours=8)),),
        thresholds=(50,),
    )
    desk = Desk(sla_policies=(policy,))
    opened = pendulum.datetime(2026, 3, 10, 9, 0, tz="Europe/Moscow")
    command = OpenTicket(ticket_id="T", type="incident", title="t", requester="r")
    history = desk.apply(None, command, actor="r", at=opened).history
    closing = opened.replace(hour=17)
    history = desk.advance(history, opened.replace(hour=13)).history  # the 50 % warning
    assert desk.next_wakeup(history, opened.replace(hour=13)) == closing
    assert [d.kind.value for d in desk.due(history, closing)] == ["sla_breach"]
