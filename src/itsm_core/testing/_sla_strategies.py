"""Hypothesis strategies for SLA policies, the event histories that exercise them, and statuses.

Statuses (:func:`sla_statuses`) are what :func:`itsm_core.sla.evaluate` answers for
a drawn policy and history over one of :data:`PRESET_CALENDARS`: realistic
business hours whose compiled timelines every draw shares, so a status costs
a fraction of a millisecond. Random calendars are for the properties of the
SLA engine itself (``sla_policies(calendars=calendars())``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar, CompositeCalendar
from itsm_core.sla import Metric, OnPriorityChange, SlaPolicy, SlaStatus, evaluate
from itsm_core.testing._calendar_strategies import instants
from itsm_core.testing._memo import memoized
from itsm_core.ticket import (
    CATEGORIES,
    FINAL_CATEGORIES,
    CommentAdded,
    Event,
    PriorityChanged,
    StateChanged,
    TicketOpened,
)

__all__ = [
    "PRESET_CALENDARS",
    "PRIORITIES",
    "event_histories",
    "preset_calendars",
    "sla_policies",
    "sla_statuses",
    "standard_policy",
]

#: The priority names the strategies use for targets and tickets.
PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")
_HOLD_REASONS = ("awaiting_requester", "awaiting_vendor", "awaiting_change")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US = 86_400_000_000
_STANDARD_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

#: The preset calendars the status strategies measure on (24x7, 8x5, 12x5, 12x7 in
#: four zones, two of them with DST). Shared by every draw: equal calendars share
#: their compiled timeline, so only the first draws compile anything.
PRESET_CALENDARS: tuple[BusinessCalendar, ...] = (
    BusinessCalendar.always_open("UTC"),
    BusinessCalendar.eight_by_five("Europe/Moscow"),
    BusinessCalendar.twelve_by_five("Europe/London"),
    BusinessCalendar.twelve_by_seven("America/New_York"),
)


@memoized
def preset_calendars() -> st.SearchStrategy[BusinessCalendar]:
    """One of :data:`PRESET_CALENDARS`; shrinks towards the 24x7 UTC calendar.

    >>> from hypothesis import find
    >>> find(preset_calendars(), lambda c: c.timezone != "UTC").name
    '8x5'
    """
    return st.sampled_from(PRESET_CALENDARS)


def _minutes(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


# Built once: making strategies inside a draw costs more than drawing from them.
_ON_CHANGE = st.sampled_from(list(OnPriorityChange))
_TARGET_MINUTES = st.integers(1, 60 * 60)
# Which priorities have a target, as a bit mask (bit i: PRIORITIES[i]); never none.
_TARGET_MASK = st.integers(1, 2 ** len(PRIORITIES) - 1)


@st.composite
def _target_maps(draw: st.DrawFn) -> dict[str, timedelta]:
    """Targets for a non-empty set of priorities, one to 3600 minutes each.

    One draw for the set, one per target (a dictionary strategy draws a key, a value
    and whether to go on per entry); shrinks towards ``P1`` alone and one minute.
    """
    mask = draw(_TARGET_MASK)
    return {
        priority: _minutes(draw(_TARGET_MINUTES))
        for index, priority in enumerate(PRIORITIES)
        if mask >> index & 1
    }


_TARGETS = _target_maps()
_PRIORITY = st.sampled_from(PRIORITIES)
# What an event after the opening is, in one draw after its kind (comments and state
# changes twice as likely as priority changes, as before): each kind's events listed
# with the simplest first (a private comment not by the requester, the first category).
_COMMENTS = st.sampled_from(
    tuple(
        ("comment", flags) for flags in ((False, False), (False, True), (True, False), (True, True))
    )
)
_MOVES = st.sampled_from(
    tuple(
        ("state", (to, hold))
        for to in CATEGORIES
        # Each category as likely as the others; on hold, each reason alike.
        for hold in (_HOLD_REASONS if to == "on_hold" else (None,) * len(_HOLD_REASONS))
    )
)
_EVENT_KINDS: st.SearchStrategy[tuple[str, Any]] = st.one_of(
    _COMMENTS,
    _COMMENTS,
    _MOVES,
    _MOVES,
    st.sampled_from(tuple(("priority", p) for p in PRIORITIES)),
)


@memoized
def sla_policies(
    *, calendars: st.SearchStrategy[BusinessCalendar | CompositeCalendar]
) -> st.SearchStrategy[SlaPolicy]:
    """Policies with the three standard metrics, random targets and priority options.

    Shrinks towards fewer priorities with targets and one-minute targets.

    >>> from hypothesis import find
    >>> policy = find(sla_policies(calendars=preset_calendars()), lambda p: True)
    >>> [(m.name, m.target_us("P1") // 60_000_000) for m in policy.metrics]
    [('first_response', 1), ('next_response', 1), ('resolution', 1)]
    """
    return st.builds(_policy, _ON_CHANGE, _TARGETS, _TARGETS, _TARGETS, calendars)


def _policy(
    on_change: OnPriorityChange,
    first: dict[str, timedelta],
    following: dict[str, timedelta],
    resolve: dict[str, timedelta],
    calendar: BusinessCalendar | CompositeCalendar,
) -> SlaPolicy:
    metrics = (
        Metric.first_response(first, on_priority_change=on_change),
        Metric.next_response(following, on_priority_change=on_change),
        Metric.resolution(resolve, on_priority_change=on_change),
    )
    return SlaPolicy(name="policy", calendar=calendar, metrics=metrics)


@memoized
def event_histories(
    *,
    start_us: st.SearchStrategy[int],
    max_events: int = 12,
    max_gap: timedelta = timedelta(days=3),
) -> st.SearchStrategy[list[Event]]:
    """A ticket's events in time order: opening, comments, state changes, priority changes.

    The states follow the categories loosely (any move between open categories,
    resolving, reopening, closing or cancelling ends the walk), which is all the
    SLA clocks read. Shrinks towards fewer events and shorter gaps.

    >>> from hypothesis import find
    >>> history = find(event_histories(start_us=instants()), lambda h: len(h) > 2)
    >>> type(history[0]).__name__, len(history)
    ('TicketOpened', 3)
    >>> all(a.at <= b.at for a, b in zip(history, history[1:]))
    True
    """
    gaps = st.integers(0, int(max_gap.total_seconds() * 1_000_000))
    return _histories(start_us, gaps, st.integers(0, max_events - 1))


@st.composite
def _histories(
    draw: st.DrawFn,
    start_us: st.SearchStrategy[int],
    gaps: st.SearchStrategy[int],
    counts: st.SearchStrategy[int],
) -> list[Event]:
    at = _EPOCH + timedelta(microseconds=draw(start_us))
    priority = draw(_PRIORITY)
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
    for _ in range(draw(counts)):
        at = at + timedelta(microseconds=draw(gaps))
        kind, what = draw(_EVENT_KINDS)
        if kind == "comment":
            public, by_requester = what
            events.append(
                CommentAdded(
                    ticket_id="T-1",
                    actor="someone",
                    at=at,
                    body="...",
                    public=public,
                    by_requester=by_requester,
                )
            )
        elif kind == "priority":
            new = what
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
            to, hold = what
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
            if category in FINAL_CATEGORIES:
                break
    return events


@memoized
def sla_statuses(
    *,
    calendars: st.SearchStrategy[BusinessCalendar | CompositeCalendar] | None = None,
    max_events: int = 6,
) -> st.SearchStrategy[SlaStatus]:
    """What ``evaluate`` answers for a drawn policy and history, up to 10 days after its end.

    The policies count on :func:`preset_calendars` unless you pass ``calendars``;
    the histories start between September 2011 and May 2012 (UTC). Shrinks towards
    a ticket just opened, evaluated at its opening, on the 24x7 calendar.

    >>> from hypothesis import find
    >>> status = find(sla_statuses(), lambda s: True)
    >>> [(clock.metric, clock.stage.value) for clock in status.clocks]
    [('first_response', 'running'), ('next_response', 'pending'), ('resolution', 'running')]
    """
    return st.builds(
        _evaluate,
        sla_policies(calendars=calendars or preset_calendars()),
        event_histories(start_us=instants(zones=("UTC",)), max_events=max_events),
        st.integers(0, 10 * _DAY_US),
    )


def _evaluate(policy: SlaPolicy, history: list[Event], later_us: int) -> SlaStatus:
    return evaluate(history, policy, history[-1].at + timedelta(microseconds=later_us))


def standard_policy(calendar: BusinessCalendar, *, name: str = "standard") -> SlaPolicy:
    """First response, next response and resolution, P1 to P5, over ``calendar``.

    Targets: first response 15 minutes to 8 hours, next response 1 to 16
    hours, resolution 4 hours to 5 business days of 8 hours (``"40h"``).

    >>> policy = standard_policy(BusinessCalendar.eight_by_five("UTC"))
    >>> [m.name for m in policy.metrics], policy.metric("resolution").target_us("P1")
    (['first_response', 'next_response', 'resolution'], 14400000000)
    """
    hours = timedelta(hours=1)
    first = (0.25, 1, 2, 4, 8)
    following = (1, 2, 4, 8, 16)
    resolve = (4, 8, 16, 24, 40)
    return SlaPolicy(
        name=name,
        calendar=calendar,
        metrics=(
            Metric.first_response(
                {p: hours * h for p, h in zip(_STANDARD_PRIORITIES, first, strict=True)}
            ),
            Metric.next_response(
                {p: hours * h for p, h in zip(_STANDARD_PRIORITIES, following, strict=True)}
            ),
            Metric.resolution(
                {p: hours * h for p, h in zip(_STANDARD_PRIORITIES, resolve, strict=True)}
            ),
        ),
    )
