"""A metric's due instant set by hand, with a reason and its own permission (GLPI)."""

from __future__ import annotations

from datetime import datetime

from itsm_core._time import to_us
from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle import Authorizer
from itsm_core.ticket import DueDateSet, Ticket

__all__ = ["SET_DUE_ACTION", "DueDateSet", "set_due_date"]

#: The permission action of setting or clearing a due instant by hand.
SET_DUE_ACTION = "sla.set_due"


def set_due_date(
    ticket: Ticket,
    *,
    metric: str,
    due: datetime | None,
    reason: str,
    actor: str,
    at: datetime,
    authorizer: Authorizer | None = None,
) -> DueDateSet:
    """The event setting ``metric``'s due instant by hand (``None`` clears it), if allowed.

    ``actor`` needs the ``sla.set_due`` permission (checked by ``authorizer``
    when given); the reason is required. The host appends the event. Through a
    lifecycle or a desk, the :class:`~itsm_core.ticket.SetDueDate` command does
    the same. :class:`~itsm_core.ticket.DueDateSet` (re-exported here) is
    defined with the other ticket events.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t = Ticket(id="INC-1", type="incident", state="new", state_category="new",
    ...            title="t", requester="ann", opened_at=at, updated_at=at)
    >>> e = set_due_date(t, metric="resolution", due=at.replace(day=4), reason="vendor part",
    ...                  actor="lena", at=at)
    >>> e.metric, str(e.due)
    ('resolution', '2026-03-04 09:00:00+00:00')
    >>> set_due_date(t, metric="resolution", due=None, reason=" ", actor="lena", at=at)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: due_date_set.reason: expected a non-blank reason, got ' '
    """
    if not isinstance(ticket, Ticket):
        raise InvalidValueError("ticket", ticket, "a Ticket")
    if not isinstance(metric, str) or not metric.strip():
        raise InvalidValueError("due_date_set.metric", metric, "a metric name")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidValueError("due_date_set.reason", reason, "a non-blank reason")
    if due is not None:
        to_us(due, "due_date_set.due")
    if to_us(at, "at") < to_us(ticket.updated_at, "ticket.updated_at"):
        raise InvalidValueError(
            "at", at, f"an instant at or after the ticket's last change {ticket.updated_at}"
        )
    event = DueDateSet(
        ticket_id=ticket.id, actor=actor, at=at, metric=metric, due=due, reason=reason
    )
    if authorizer is not None:
        authorizer.check(actor, SET_DUE_ACTION, ticket, event)
    return event
