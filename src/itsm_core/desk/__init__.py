"""The Desk: one front door that composes every room.

A :class:`Desk` is one frozen value holding a whole service desk (lifecycles,
priority matrix, calendars, SLA policies, escalation, permissions). A host
stores each ticket's events and calls five pure verbs with them:

* :meth:`Desk.apply` a command (authorized first) -> :class:`Outcome`;
* :meth:`Desk.status` -> :class:`TicketStatus` (policy and why, clocks, due);
* :meth:`Desk.due` -> :class:`Due` records, everything due at ``now``;
* :meth:`Desk.next_wakeup` -> when to call again;
* :meth:`Desk.advance` -> carry out what is due, as the automation actor.

>>> from datetime import datetime, timedelta, timezone
>>> from itsm_core.ticket import OpenTicket
>>> desk = Desk()
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> opened = desk.apply(None, OpenTicket(ticket_id="INC-1", type="incident",
...     title="No mail", requester="ann"), actor="ann", at=at)
>>> opened.ticket.state, len(opened.history)
('new', 1)
>>> desk.status(opened.history, at + timedelta(hours=1)).policy_reason
'no SLA policy of the desk applies to this incident (priority None, group None)'
"""

from itsm_core.desk._desk import Calendar, Desk
from itsm_core.desk._records import (
    AutomationRefused,
    Due,
    DueKind,
    Outcome,
    ReopenWindowEnded,
    SlaThresholdReached,
    TicketStatus,
)

__all__ = [
    "AutomationRefused",
    "Calendar",
    "Desk",
    "Due",
    "DueKind",
    "Outcome",
    "ReopenWindowEnded",
    "SlaThresholdReached",
    "TicketStatus",
]
