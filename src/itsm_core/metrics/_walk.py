"""The one walk over a ticket's events that every analytics accumulator reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from itsm_core._time import to_us, zone
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError
from itsm_core.ticket import (
    CallbackRecorded,
    CommentAdded,
    Event,
    FieldChanged,
    StateChanged,
    SurveyAnswered,
    SurveyRequested,
    Ticket,
    TicketOpened,
)

__all__ = [
    "DIMENSIONS",
    "Observation",
    "TicketWalk",
    "check_dimensions",
    "check_inputs",
    "dims_of",
    "walk",
]

#: What accumulators group by: ``all`` (one bucket), the people, and the ticket's classification.
DIMENSIONS: tuple[str, ...] = (
    "all",
    "agent",
    "group",
    "type",
    "service",
    "category",
    "channel",
    "priority",
)
_TICKET_DIMS: tuple[str, ...] = ("type", "service", "category", "channel", "priority")


def check_dimensions(by: object) -> tuple[str, ...]:
    """The dimensions ``by`` names, checked (``InvalidValueError`` naming ``by`` otherwise)."""
    if isinstance(by, str) or not isinstance(by, Iterable):
        raise InvalidValueError("by", by, f"a sequence of dimensions: {', '.join(DIMENSIONS)}")
    found = tuple(by)
    for index, name in enumerate(found):
        if name not in DIMENSIONS:
            raise InvalidValueError(f"by[{index}]", name, f"one of {', '.join(DIMENSIONS)}")
    return found


def check_inputs(
    histories: object, calendar: object, timezone: str | None
) -> tuple[Iterable[Sequence[Event]], str]:
    """The histories and the timezone of periods, checked (``InvalidValueError`` naming them)."""
    if not isinstance(calendar, CalendarLike):
        raise InvalidValueError("calendar", calendar, "a business calendar (CalendarLike)")
    if isinstance(histories, str | bytes | Mapping) or not isinstance(histories, Iterable):
        raise InvalidValueError("histories", histories, "a sequence of histories (event lists)")
    name = calendar.timezone if timezone is None else timezone
    zone(name, "timezone")
    return histories, name


def _ticket_dims(ticket: Ticket) -> dict[str, str]:
    return {
        "all": "",
        "type": ticket.type,
        "service": ticket.service or "",
        "category": ticket.category or "",
        "channel": getattr(ticket, "channel", None) or "",
        "priority": ticket.effective_priority or "",
    }


@attrs.frozen(kw_only=True)
class Observation:
    """One fact of a ticket: a ``measure`` at instant ``at_us`` for some dimension values.

    ``value_us`` is the business duration of a timed measure (``None`` for a
    count); ``dims`` maps each dimension the fact counts in to its value.
    """

    measure: str
    at_us: int
    dims: tuple[tuple[str, str], ...]
    value_us: int | None = None


@attrs.frozen(kw_only=True)
class TicketWalk:
    """What one walk over a ticket's events found (see :func:`walk`)."""

    ticket_id: str
    opened_us: int
    observations: tuple[Observation, ...]
    #: Per survey: ``(name, first request or answer us, dims then, last rating or None,
    #: index of the event that set the rating)``.
    surveys: tuple[tuple[str, int, tuple[tuple[str, str], ...], int | None, int], ...]
    #: Per call-back: ``(at_us, dims then, reached, confirmed)``.
    callbacks: tuple[tuple[int, tuple[tuple[str, str], ...], bool, bool | None], ...]
    #: First resolution: ``(at_us, dims, support line, business us since opening)`` or None.
    first_resolution: tuple[int, tuple[tuple[str, str], ...], int | None, int] | None
    reassigned_before_resolution: bool
    reopened: bool
    #: ``(at_us, ticket)`` after each event, for the backlog (see :func:`dims_of`).
    states: tuple[tuple[int, Ticket], ...]


def _dims(ticket: Ticket, agent: str | None, group: str | None) -> tuple[tuple[str, str], ...]:
    values = _ticket_dims(ticket)
    values["agent"] = agent or ""
    values["group"] = group or ""
    return tuple((d, values[d]) for d in DIMENSIONS)


def dims_of(ticket: Ticket) -> tuple[tuple[str, str], ...]:
    """Every dimension's value for ``ticket`` as it is (its assignee and group included)."""
    return _dims(ticket, ticket.assignee, ticket.group)


def _only(ticket: Ticket, **people: str) -> tuple[tuple[str, str], ...]:
    # The ticket dimensions plus the named people dimensions.
    values = _ticket_dims(ticket)
    return (*((d, values[d]) for d in ("all", *_TICKET_DIMS)), *people.items())


def walk(
    events: Sequence[Event] | Iterable[Event], index: int, calendar: CalendarLike
) -> TicketWalk:
    """Fold one ticket's events once and note every fact the accumulators count.

    ``index`` is the history's position, used to name a bad event
    (``histories[i][j].field``). Business durations use ``calendar``.
    """
    ticket: Ticket | None = None
    opened_us = 0
    observations: list[Observation] = []
    seen_agents: set[str] = set()
    seen_groups: set[str] = set()
    assigned_once = False
    resolved_once: tuple[int, tuple[tuple[str, str], ...], int | None, int] | None = None
    resolver: tuple[str | None, str | None] = (None, None)
    hold_since: int | None = None
    reassigned_before = False
    reopened = False
    surveys: dict[str, list[Any]] = {}
    callbacks: list[tuple[int, tuple[tuple[str, str], ...], bool, bool | None]] = []
    states: list[tuple[int, Ticket]] = []
    if isinstance(events, str | bytes | Mapping) or not isinstance(events, Iterable):
        raise InvalidValueError(f"histories[{index}]", events, "a sequence of events")
    for j, event in enumerate(events):
        path = f"histories[{index}][{j}]"
        if not isinstance(event, Event):
            raise InvalidValueError(path, event, "an Event")
        if j == 0:
            if not isinstance(event, TicketOpened):
                raise InvalidValueError(path, type(event).__name__, "a TicketOpened event first")
        elif ticket is not None and event.ticket_id != ticket.id:
            raise InvalidValueError(
                f"{path}.ticket_id", event.ticket_id, f"the history's ticket {ticket.id!r}"
            )
        elif isinstance(event, FieldChanged):
            event.check(path)
        at = to_us(event.at, f"{path}.at")
        before = ticket
        ticket = event.apply_to(ticket)
        if before is None:
            opened_us = at
            observations.append(Observation(measure="arrived", at_us=at, dims=_only(ticket)))
            states.append((at, ticket))
            if ticket.state_category == "on_hold":  # opened on hold: held from its opening
                hold_since = at
            continue
        agent, group = ticket.assignee, ticket.group
        if agent is not None and agent not in seen_agents:
            seen_agents.add(agent)
            observations.append(Observation(measure="handled", at_us=at, dims=(("agent", agent),)))
            if not assigned_once:
                assigned_once = True
                observations.append(Observation(measure="handled", at_us=at, dims=_only(ticket)))
        if group is not None and group not in seen_groups:
            seen_groups.add(group)
            observations.append(Observation(measure="handled", at_us=at, dims=(("group", group),)))
        away: list[tuple[str, str]] = []
        if before.assignee is not None and agent != before.assignee:
            away.append(("agent", before.assignee))
        if before.group is not None and group != before.group:
            away.append(("group", before.group))
        if away:
            observations.append(
                Observation(measure="reassigned_away", at_us=at, dims=(*_only(ticket), *away))
            )
            if resolved_once is None:
                reassigned_before = True
        if before.first_response_at is None and ticket.first_response_at is not None:
            replier = event.actor if isinstance(event, CommentAdded) else agent
            observations.append(
                Observation(
                    measure="first_response",
                    at_us=at,
                    dims=_dims(ticket, replier, group),
                    value_us=calendar.elapsed_us(opened_us, at),
                )
            )
        if isinstance(event, StateChanged):
            if before.state_category == "on_hold" and ticket.state_category != "on_hold":
                assert hold_since is not None
                observations.append(
                    Observation(
                        measure="on_hold",
                        at_us=at,
                        dims=_dims(ticket, agent, group),
                        value_us=calendar.elapsed_us(hold_since, at),
                    )
                )
                hold_since = None
            if ticket.state_category == "on_hold" and before.state_category != "on_hold":
                hold_since = at
            if ticket.state_category == "resolved" and before.state_category != "resolved":
                resolver = (agent or event.actor, group)
                if resolved_once is None:
                    dims = _dims(ticket, *resolver)
                    elapsed = calendar.elapsed_us(opened_us, at)
                    resolved_once = (at, dims, ticket.support_line, elapsed)
                    observations.append(Observation(measure="resolved", at_us=at, dims=dims))
                    observations.append(
                        Observation(measure="resolution", at_us=at, dims=dims, value_us=elapsed)
                    )
            if event.is_reopening:
                reopened = True
                observations.append(
                    Observation(measure="reopened", at_us=at, dims=_dims(ticket, *resolver))
                )
        elif isinstance(event, SurveyRequested | SurveyAnswered):
            entry = surveys.get(event.survey)
            if entry is None:
                entry = surveys[event.survey] = [at, _dims(ticket, agent, group), None, j]
            if isinstance(event, SurveyAnswered):
                entry[2] = event.rating
                entry[3] = j
        elif isinstance(event, CallbackRecorded):
            callbacks.append((at, _dims(ticket, agent, group), event.reached, event.confirmed))
        states.append((at, ticket))
    if ticket is None:
        raise InvalidValueError(f"histories[{index}]", [], "at least one event")
    return TicketWalk(
        ticket_id=ticket.id,
        opened_us=opened_us,
        observations=tuple(observations),
        surveys=tuple((name, *entry) for name, entry in sorted(surveys.items())),
        callbacks=tuple(callbacks),
        first_resolution=resolved_once,
        reassigned_before_resolution=reassigned_before,
        reopened=reopened,
        states=tuple(states),
    )
