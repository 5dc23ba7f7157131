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
    Ticket,
    TicketOpened,
    TicketSplit,
    Unlinked,
    Unwatched,
    Watched,
)

__all__ = ["EVENT_FIELDS", "hidden_people", "is_internal_event", "redact_events", "shown_state"]

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


#: Event attributes named after no ticket field that still carry one.
_ALIASES: dict[str, str] = {"watcher": "watchers", "approver": "approvers"}
#: Ticket fields naming people: when hidden, so is the actor of the events those people did.
_PEOPLE_FIELDS: tuple[str, ...] = ("assignee", "requester", "watchers", "approvers")
#: State attributes and the attribute that holds their category.
_STATE_CATEGORY: dict[str, str] = {
    "state": "state_category",
    "from_state": "from_category",
    "to_state": "to_category",
}
_TICKET_FIELD_SET = frozenset(a.name for a in attrs.fields(Ticket))
_OWN_EVENT_MODULE = Event.__module__


def _carried(attribute: str) -> str | None:
    """The ticket field an event attribute carries (``from_group`` carries ``group``)."""
    name = attribute[len("from_") :] if attribute.startswith("from_") else attribute
    name = _ALIASES.get(name, name)
    return name if name in _TICKET_FIELD_SET else None


def is_internal_event(event: Event) -> bool:
    """Whether an event records the desk's inner workings (escalations, notifications...).

    Every event outside the ticket's own vocabulary is internal (deny by
    default), except a request the requester made themselves.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> is_internal_event(Watched(ticket_id="I-1", actor="ann", at=at, watcher="ann"))
    False
    """
    if type(event).__module__ == _OWN_EVENT_MODULE:
        return False
    return getattr(event, "by_requester", False) is not True


def hidden_people(
    ticket: Ticket | None, events: tuple[Event, ...], hidden: frozenset[str]
) -> frozenset[str]:
    """The principals named by a hidden people field, in the ticket or anywhere in its history."""
    fields = {f for f in _PEOPLE_FIELDS if f in hidden}
    if not fields:
        return frozenset()
    out: set[str] = set()

    def add(value: object) -> None:
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, tuple):
            out.update(v for v in value if isinstance(v, str))

    for field in fields:
        if ticket is not None:
            add(getattr(ticket, field))
    for event in events:
        for attribute in attrs.fields(type(event)):
            if _carried(attribute.name) in fields:
                add(getattr(event, attribute.name))
    return frozenset(out)


def shown_state(state: str, category: str | None, hidden: frozenset[str]) -> str:
    """A state name as a principal may read it: an on-hold sub-state names its hold reason.

    >>> shown_state("on_hold.awaiting_vendor", "on_hold", frozenset({"hold_reason"}))
    'on_hold'
    >>> shown_state("on_hold.awaiting_vendor", "on_hold", frozenset())
    'on_hold.awaiting_vendor'
    """
    if category == "on_hold" and "hold_reason" in hidden:
        return "on_hold"
    return state


def redact_events(
    events: tuple[Event, ...],
    ticket_id: str,
    hidden: frozenset[str],
    internal: bool,
    *,
    ticket: Ticket | None = None,
) -> tuple[Event, ...]:
    """The events with internal ones and hidden fields removed or blanked.

    Without ``internal``, internal comments and internal events
    (:func:`is_internal_event`) are left out. A hidden field is hidden
    everywhere it appears: in the attributes that carry it (``from_group``
    for ``group``), in the state names (a hidden ``hold_reason`` reads
    ``on_hold``), and as the ``actor`` (blank) of events done by the people
    a hidden people field names (``assignee``...).

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
    people = hidden_people(ticket, events, hidden)
    for event in events:
        if not internal and is_internal_event(event):
            continue
        if isinstance(event, CommentAdded):
            if event.public or internal:
                out.append(_everywhere(event, hidden, people))
            continue
        if isinstance(event, FieldChanged):
            if _custom_name(event) not in hidden:
                out.append(_everywhere(event, hidden, people))
            continue
        shown = _blank(event, hidden)
        if shown is not None:
            out.append(_everywhere(shown, hidden, people))
    return tuple(out)


def _everywhere(event: Event, hidden: frozenset[str], people: frozenset[str]) -> Event:
    # What the table of EVENT_FIELDS does not name: any attribute carrying a hidden field,
    # on-hold state names, and the actor when a hidden people field names them.
    if not hidden:
        return event
    changes: dict[str, Any] = {}
    for attribute in attrs.fields(type(event)):
        name = attribute.name
        value = getattr(event, name)
        if name in _STATE_CATEGORY:
            category = getattr(event, _STATE_CATEGORY[name], None)
            state = shown_state(value, category, hidden)
            if state != value:
                changes[name] = state
            continue
        carried = _carried(name)
        if carried is None or carried not in hidden or value in (None, "", ()):
            continue
        if isinstance(value, tuple):
            changes[name] = ()
        elif isinstance(value, str) and attribute.default is attrs.NOTHING:
            changes[name] = ""
        else:
            changes[name] = None
    if event.actor in people:
        changes["actor"] = ""
    return attrs.evolve(event, **changes) if changes else event


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
