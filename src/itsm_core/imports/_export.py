"""Histories -> rows of an export shape: the inverse of the imports, for tests and for users.

Importing what these functions write gives the same histories back, for
histories whose every event changes a fact the profile exports (a history
made of the events the imports build always is one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from itsm_core.errors import InvalidValueError
from itsm_core.imports._core import DIFFED_FACTS
from itsm_core.imports._profile import Profile, format_instant
from itsm_core.ticket import Event, Ticket, TicketOpened

__all__ = ["to_audit_rows", "to_snapshot_rows"]


def _facts(ticket: Ticket) -> dict[str, Any]:
    return {
        "state": ticket.state,
        "hold_reason": ticket.hold_reason,
        "group": ticket.group,
        "assignee": ticket.assignee,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "priority": ticket.effective_priority,
        "title": ticket.title or None,
        "requester": ticket.requester,
        "category": ticket.category,
        "service": ticket.service,
        "resolution_code": ticket.resolution_code,
    }


class _Writer:
    def __init__(self, profile: Profile, tracked: Iterable[str]) -> None:
        self.profile = profile
        self.blank = profile.missing[0] if profile.missing else ""
        self.tracked = tuple(tracked)
        self.reverse: dict[str, dict[str, str]] = {}
        for fact, pairs in profile.values:
            back: dict[str, str] = {}
            for source, ours in pairs:
                back.setdefault(ours, source)
            self.reverse[fact] = back

    def source(self, ticket: Ticket, where: str) -> dict[str, str]:
        """The exported (source) value of every tracked fact of ``ticket``."""
        facts = _facts(ticket)
        state = facts["state"]
        states = self.reverse.get("state", {})
        if states and state not in states:
            parent = state.rsplit(".", 1)[0]
            if parent in states and "hold_reason" in self.tracked:
                facts["state"] = parent
            else:
                raise InvalidValueError(
                    where, state, f"a state the profile's values.state names: {', '.join(states)}"
                )
        else:
            facts["hold_reason"] = (
                None if "hold_reason" not in self.tracked else facts["hold_reason"]
            )
        out: dict[str, str] = {}
        for fact in self.tracked:
            value = facts[fact]
            if value is None:
                out[fact] = self.blank
                continue
            table = self.reverse.get(fact)
            if table:
                if value not in table:
                    raise InvalidValueError(
                        where,
                        value,
                        f"a {fact} the profile's values.{fact} names: {', '.join(table)}",
                    )
                value = table[value]
            out[fact] = str(value)
        return out


def _tickets(
    histories: Iterable[Sequence[Event]],
) -> Iterable[tuple[int, list[Ticket], Sequence[Event]]]:
    for h, events in enumerate(histories):
        if not events or not isinstance(events[0], TicketOpened):
            raise InvalidValueError(
                f"histories[{h}][0]", events[0] if events else None, "a TicketOpened event first"
            )
        tickets: list[Ticket] = []
        ticket: Ticket | None = None
        for event in events:
            ticket = event.apply_to(ticket)
            tickets.append(ticket)
        yield h, tickets, events


def to_snapshot_rows(
    histories: Iterable[Sequence[Event]], profile: Profile
) -> list[dict[str, str]]:
    """One full row per event, in the columns and values of a snapshot ``profile``.

    An event that changes no fact the profile exports raises
    :class:`~itsm_core.errors.InvalidValueError` naming it (importing the rows
    could not give it back).

    >>> from datetime import datetime, timezone
    >>> from itsm_core.imports import PROFILES, import_snapshot
    >>> from itsm_core.ticket import GroupAssigned
    >>> at = datetime(2016, 3, 1, 9, 0, tzinfo=timezone.utc)
    >>> history = (TicketOpened(ticket_id="INC1", actor="ann", at=at,
    ...     type="servicenow_incident", state="new", state_category="new", title="",
    ...     requester="ann"), GroupAssigned(ticket_id="INC1", actor="ann", at=at, group="Desk"))
    >>> rows = to_snapshot_rows([history], PROFILES["servicenow_snapshot"])
    >>> rows[1]["assignment_group"], rows[1]["incident_state"], rows[1]["sys_updated_at"]
    ('Desk', 'New', '01/03/2016 09:00')
    >>> import_snapshot(rows, PROFILES["servicenow_snapshot"]).histories[0].events == history
    True
    """
    tracked = [f for f in DIFFED_FACTS if profile.column(f) is not None]
    writer = _Writer(profile, tracked)
    stamps = profile.timestamps
    rows: list[dict[str, str]] = []
    for h, tickets, events in _tickets(histories):
        opened = events[0]
        previous: dict[str, str] | None = None
        for i, (event, ticket) in enumerate(zip(events, tickets, strict=True)):
            values = writer.source(ticket, f"histories[{h}][{i}].state")
            if values == previous:
                raise InvalidValueError(
                    f"histories[{h}][{i}]",
                    type(event).__name__,
                    f"an event that changes one of the exported facts {', '.join(tracked)}",
                )
            previous = values
            row = {
                "ticket_id": ticket.id,
                "at": format_instant(event.at, stamps),
                "actor": event.actor,
                "sequence": str(i),
                "opened_at": format_instant(opened.at, stamps),
                "opened_by": opened.actor,
                **values,
            }
            rows.append({column: row[fact] for fact, column in profile.columns if fact in row})
    return rows


def to_audit_rows(histories: Iterable[Sequence[Event]], profile: Profile) -> list[dict[str, str]]:
    """One row per changed field, in the columns and values of an audit ``profile``.

    The opening writes one row per field that has a value (empty ``old``);
    each later event writes a row per field it changed, numbered in the
    ``sequence`` column.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.imports import PROFILES, import_audit
    >>> at = datetime(2016, 3, 1, 9, 0, tzinfo=timezone.utc)
    >>> history = (TicketOpened(ticket_id="INC1", actor="ann", at=at,
    ...     type="servicenow_incident", state="new", state_category="new", title="VPN",
    ...     requester="ann"),)
    >>> rows = to_audit_rows([history], PROFILES["servicenow_audit"])
    >>> sorted((r["fieldname"], r["newvalue"]) for r in rows)
    [('caller_id', 'ann'), ('incident_state', '1'), ('short_description', 'VPN')]
    >>> import_audit(rows, PROFILES["servicenow_audit"]).histories[0].events == history
    True
    """
    names: dict[str, str] = {}
    for source, fact in profile.fields:
        names.setdefault(fact, source)
    tracked = [f for f in DIFFED_FACTS if f in names]
    writer = _Writer(profile, tracked)
    stamps = profile.timestamps
    columns = dict(profile.columns)
    blank = writer.blank
    rows: list[dict[str, str]] = []
    for h, tickets, events in _tickets(histories):
        before = dict.fromkeys(tracked, blank)
        for i, (event, ticket) in enumerate(zip(events, tickets, strict=True)):
            after = writer.source(ticket, f"histories[{h}][{i}].state")
            changed = [f for f in tracked if after[f] != before[f]]
            if not changed:
                raise InvalidValueError(
                    f"histories[{h}][{i}]",
                    type(event).__name__,
                    f"an event that changes one of the exported fields {', '.join(tracked)}",
                )
            for fact in changed:
                row = {
                    "ticket_id": ticket.id,
                    "at": format_instant(event.at, stamps),
                    "actor": event.actor,
                    "sequence": str(i),
                    "field": names[fact],
                    "old": before[fact],
                    "new": after[fact],
                }
                rows.append({columns[k]: v for k, v in row.items() if k in columns})
            before = after
    return rows
