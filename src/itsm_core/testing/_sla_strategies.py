"""Hypothesis strategies for SLA policies and event histories that exercise them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar, CompositeCalendar
from itsm_core.sla import Metric, OnPriorityChange, SlaPolicy
from itsm_core.ticket import (
    CATEGORIES,
    CommentAdded,
    Event,
    PriorityChanged,
    StateChanged,
    TicketOpened,
)

__all__ = ["PRIORITIES", "event_histories", "sla_policies"]

#: The priority names the strategies use for targets and tickets.
PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")
_HOLD_REASONS = ("awaiting_requester", "awaiting_vendor", "awaiting_change")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _targets() -> st.SearchStrategy[dict[str, timedelta]]:
    duration = st.integers(1, 60 * 60).map(lambda minutes: timedelta(minutes=minutes))
    return st.dictionaries(st.sampled_from(PRIORITIES), duration, min_size=1)


@st.composite
def sla_policies(
    draw: st.DrawFn, *, calendars: st.SearchStrategy[BusinessCalendar | CompositeCalendar]
) -> SlaPolicy:
    """Policies with the three standard metrics, random targets and priority options.

    Shrinks towards fewer priorities with targets and one-minute targets.
    """
    on_change = draw(st.sampled_from(list(OnPriorityChange)))
    metrics = (
        Metric.first_response(draw(_targets()), on_priority_change=on_change),
        Metric.next_response(draw(_targets()), on_priority_change=on_change),
        Metric.resolution(draw(_targets()), on_priority_change=on_change),
    )
    return SlaPolicy(name="policy", calendar=draw(calendars), metrics=metrics)


@st.composite
def event_histories(
    draw: st.DrawFn,
    *,
    start_us: st.SearchStrategy[int],
    max_events: int = 12,
    max_gap: timedelta = timedelta(days=3),
) -> list[Event]:
    """A ticket's events in time order: opening, comments, state changes, priority changes.

    The states follow the categories loosely (any move between open categories,
    resolving, reopening, closing or cancelling ends the walk), which is all the
    SLA clocks read. Shrinks towards fewer events and shorter gaps.
    """
    at = _EPOCH + timedelta(microseconds=draw(start_us))
    gap_us = st.integers(0, int(max_gap.total_seconds() * 1_000_000))
    priority = draw(st.sampled_from(PRIORITIES))
    events: list[Event] = [
        TicketOpened(
            ticket_id="T-1",
            actor="requester",
            at=at,
            type="incident",
            state="new",
            state_category="new",
            title="t",
            requester="requester",
            effective_priority=priority,
        )
    ]
    category = "new"
    for _ in range(draw(st.integers(0, max_events - 1))):
        at = at + timedelta(microseconds=draw(gap_us))
        kind = draw(st.sampled_from(["comment", "comment", "state", "state", "priority"]))
        if kind == "comment":
            events.append(
                CommentAdded(
                    ticket_id="T-1",
                    actor="someone",
                    at=at,
                    body="...",
                    public=draw(st.booleans()),
                    by_requester=draw(st.booleans()),
                )
            )
        elif kind == "priority":
            new = draw(st.sampled_from(PRIORITIES))
            events.append(
                PriorityChanged(
                    ticket_id="T-1",
                    actor="agent",
                    at=at,
                    impact=None,
                    urgency=None,
                    derived=new,
                    override=None,
                    effective=new,
                )
            )
        else:
            to = draw(st.sampled_from(CATEGORIES))
            hold = draw(st.sampled_from(_HOLD_REASONS)) if to == "on_hold" else None
            events.append(
                StateChanged(
                    ticket_id="T-1",
                    actor="agent",
                    at=at,
                    trigger=f"to_{to}",
                    from_state=category,
                    to_state=to,
                    from_category=category,
                    to_category=to,
                    hold_reason=hold,
                )
            )
            category = to
            if category in ("closed", "cancelled"):
                break
    return events
