"""Field-level visibility of events: what a principal may see of a ticket's history."""

from __future__ import annotations

from typing import Any

import attrs

from itsm_core.errors import InvalidValueError
from itsm_core.ticket import (
    ApprovalGiven,
    ApprovalRefused,
    ApprovalRequested,
    Assigned,
    CommentAdded,
    Event,
    FieldChanged,
    Linked,
    MajorCleared,
    MajorSet,
    Merged,
    PriorityChanged,
    Reassigned,
    StateChanged,
    TicketOpened,
    TicketSplit,
    Unlinked,
    Unwatched,
    Watched,
)

__all__ = ["EVENT_FIELDS", "redact_events"]

_DROP = None

#: For each event type, the ticket fields it reveals: the event attributes that
#: carry them and the value they read as when hidden (``None``: the whole event
#: is left out, because it exists only to change that field).
EVENT_FIELDS: dict[type[Event], dict[str, tuple[tuple[str, Any], ...] | None]] = {
    TicketOpened: {
        "title": (("title", ""),),
        "description": (("description", ""),),
        "impact": (("impact", None),),
        "urgency": (("urgency", None),),
        "derived_priority": (("derived_priority", None),),
        "effective_priority": (("effective_priority", None),),
        "category": (("category", None),),
        "service": (("service", None),),
        "customer": (("customer", None),),
        "links": (("links", ()),),
    },
    Assigned: {
        "assignee": _DROP,
        "group": (("group", None),),
        "support_line": (("support_line", None),),
    },
    Reassigned: {
        "assignee": _DROP,
        "group": (("group", None), ("from_group", None)),
        "support_line": (("support_line", None), ("from_support_line", None)),
    },
    StateChanged: {
        "hold_reason": (("hold_reason", None),),
        "resolution_code": (("resolution_code", None),),
        "resolution": (("reason", ""),),
    },
    PriorityChanged: {
        "impact": (("impact", None),),
        "urgency": (("urgency", None),),
        "derived_priority": (("derived", None),),
        "priority_override": (("override", None),),
        "effective_priority": (("effective", None),),
    },
    MajorSet: {"major": _DROP},
    MajorCleared: {"major": _DROP},
    Linked: {"links": _DROP},
    Unlinked: {"links": _DROP},
    Merged: {"links": _DROP},
    TicketSplit: {"links": _DROP},
    ApprovalRequested: {"approval": _DROP, "approvers": (("approvers", ()),)},
    Watched: {"watchers": _DROP},
    Unwatched: {"watchers": _DROP},
    ApprovalGiven: {"approval": _DROP},
    ApprovalRefused: {"approval": _DROP},
}


def _custom_name(event: FieldChanged) -> str:
    return f"custom:{event.field}" if event.custom else event.field


def redact_events(
    events: tuple[Event, ...], ticket_id: str, hidden: frozenset[str], internal: bool
) -> tuple[Event, ...]:
    """The events with internal comments and hidden fields removed or blanked.

    >>> redact_events((), "I-1", frozenset(), False)
    ()
    """
    out: list[Event] = []
    for index, event in enumerate(events):
        if not isinstance(event, Event):
            raise InvalidValueError(f"events[{index}]", event, "a ticket event")
        if event.ticket_id != ticket_id:
            raise InvalidValueError(
                f"events[{index}].ticket_id", event.ticket_id, f"the ticket's id {ticket_id!r}"
            )
        if isinstance(event, CommentAdded):
            if event.public or internal:
                out.append(event)
            continue
        if isinstance(event, FieldChanged):
            if _custom_name(event) not in hidden:
                out.append(event)
            continue
        shown = _blank(event, hidden)
        if shown is not None:
            out.append(shown)
    return tuple(out)


def _blank(event: Event, hidden: frozenset[str]) -> Event | None:
    fields = EVENT_FIELDS.get(type(event))
    if not fields or not hidden:
        return event
    changes: dict[str, Any] = {}
    for field, blanks in fields.items():
        if field not in hidden:
            continue
        if blanks is None:
            return None
        changes.update(blanks)
    if isinstance(event, TicketOpened) and event.custom_fields:
        kept = tuple((k, v) for k, v in event.custom_fields if f"custom:{k}" not in hidden)
        if kept != event.custom_fields:
            changes["custom_fields"] = kept
    return attrs.evolve(event, **changes) if changes else event
