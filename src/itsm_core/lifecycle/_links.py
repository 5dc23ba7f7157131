"""Links between tickets: what a change to one ticket asks of the others.

A lifecycle changes one ticket at a time. :func:`follow_ups` reads the events
of a change and returns the commands the host should apply to *other*
tickets: the mirror of every link, the opening of a split-off ticket, and the
resolution of children and duplicates when their parent or original is
resolved. Closing a parent does not close its children.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from itsm_core.errors import InvalidValueError
from itsm_core.ticket import (
    AddLink,
    Event,
    Link,
    Linked,
    Merged,
    OpenTicket,
    RemoveLink,
    StateChanged,
    Ticket,
    TicketCommand,
    TicketOpened,
    TicketSplit,
    Transition,
    Unlinked,
    inverse_link_kind,
)

__all__ = ["FollowUp", "follow_up_ticket", "follow_ups"]


@attrs.frozen(kw_only=True)
class FollowUp:
    """A command for another ticket, and why.

    >>> FollowUp(ticket_id="INC-2", command=AddLink(kind="child", target="INC-1",
    ...          reciprocal=True), because="INC-1 linked parent INC-2").ticket_id
    'INC-2'
    """

    ticket_id: str
    command: TicketCommand
    because: str


def follow_ups(ticket: Ticket, events: Iterable[Event]) -> tuple[FollowUp, ...]:
    """The commands other tickets need after ``events`` happened to ``ticket`` (its new value).

    * a link (not itself a mirror) is mirrored on the other ticket;
    * a merge links the surviving ticket back (``merged_from``);
    * a split opens the new ticket, linked ``split_from`` this one;
    * resolving a ticket resolves its children and its duplicates with the
      same resolution (the host checks each with ``may`` and applies it; a
      child that cannot be resolved yet stays as it is).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> t = Ticket(id="INC-1", type="incident", state="new", state_category="new",
    ...            title="t", requester="r", opened_at=at, updated_at=at)
    >>> [f.command for f in follow_ups(t, [Linked(ticket_id="INC-1", actor="a", at=at,
    ...                                           kind="parent", target="INC-9")])]
    [AddLink(kind='child', target='INC-1', reciprocal=True)]
    """
    result: list[FollowUp] = []
    for event in events:
        if isinstance(event, Linked | Unlinked) and not event.reciprocal:
            mirror: type[AddLink | RemoveLink] = (
                AddLink if isinstance(event, Linked) else RemoveLink
            )
            verb = "linked" if isinstance(event, Linked) else "unlinked"
            result.append(
                FollowUp(
                    ticket_id=event.target,
                    command=mirror(
                        kind=inverse_link_kind(event.kind), target=ticket.id, reciprocal=True
                    ),
                    because=f"{ticket.id} {verb} {event.kind} {event.target}",
                )
            )
        elif isinstance(event, TicketOpened):
            result += [
                FollowUp(
                    ticket_id=link.ticket_id,
                    command=AddLink(
                        kind=inverse_link_kind(link.kind), target=ticket.id, reciprocal=True
                    ),
                    because=f"{ticket.id} opened with link {link.kind} {link.ticket_id}",
                )
                for link in event.links
            ]
        elif isinstance(event, Merged):
            result.append(
                FollowUp(
                    ticket_id=event.into,
                    command=AddLink(kind="merged_from", target=ticket.id, reciprocal=True),
                    because=f"{ticket.id} merged into {event.into}",
                )
            )
        elif isinstance(event, TicketSplit):
            result.append(
                FollowUp(
                    ticket_id=event.new_ticket_id,
                    command=OpenTicket(
                        ticket_id=event.new_ticket_id,
                        type=ticket.type,
                        title=event.title,
                        description=event.description,
                        requester=ticket.requester,
                        impact=ticket.impact,
                        urgency=ticket.urgency,
                        category=ticket.category,
                        service=ticket.service,
                        customer=ticket.customer,
                        links=(Link(kind="split_from", ticket_id=ticket.id),),
                    ),
                    because=f"{ticket.id} split off {event.new_ticket_id}",
                )
            )
        elif (
            isinstance(event, StateChanged)
            and event.to_category == "resolved"
            and event.from_category != "resolved"
        ):
            for kind, role in (("child", "parent"), ("duplicate", "original")):
                result += [
                    FollowUp(
                        ticket_id=other,
                        command=Transition(
                            trigger="resolve",
                            reason=event.reason or f"{role} {ticket.id} resolved",
                            resolution_code=event.resolution_code,
                        ),
                        because=f"{role} {ticket.id} resolved",
                    )
                    for other in ticket.link_targets(kind)
                ]
    return tuple(result)


def follow_up_ticket(
    old: Ticket, new_ticket_id: str, *, title: str | None = None, description: str = ""
) -> OpenTicket:
    """The command opening a new ticket for an old one that may no longer be reopened.

    The new ticket keeps the old one's type, requester, classification and
    links ``follow_up_of`` it (the old ticket is linked back as a follow-up).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> old = Ticket(id="INC-1", type="incident", state="closed", state_category="closed",
    ...              title="VPN", requester="r", opened_at=at, updated_at=at)
    >>> follow_up_ticket(old, "INC-2").links
    (Link(kind='follow_up_of', ticket_id='INC-1'),)
    """
    if not isinstance(new_ticket_id, str) or not new_ticket_id.strip() or new_ticket_id == old.id:
        raise InvalidValueError("new_ticket_id", new_ticket_id, "a new, non-empty ticket id")
    return OpenTicket(
        ticket_id=new_ticket_id,
        type=old.type,
        title=title if title is not None else old.title,
        description=description,
        requester=old.requester,
        impact=old.impact,
        urgency=old.urgency,
        category=old.category,
        service=old.service,
        customer=old.customer,
        links=(Link(kind="follow_up_of", ticket_id=old.id),),
    )
