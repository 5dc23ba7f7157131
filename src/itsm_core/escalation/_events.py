"""The events escalation adds to a ticket's history.

They subclass :class:`itsm_core.ticket.Event`, so they live in the same stream
as the lifecycle's events: folding and :meth:`Lifecycle.replay
<itsm_core.lifecycle.Lifecycle.replay>` accept them (they change nothing on
the ticket but its ``version`` and ``updated_at``), and SLA conditions ignore
them unless a condition matches any event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from itsm_core.escalation._rules import Action
from itsm_core.ticket import Event, Ticket

__all__ = [
    "Escalated",
    "EscalationRequested",
    "MajorCandidateFlagged",
    "NotificationRequested",
]


@attrs.frozen(kw_only=True)
class Escalated(Event):
    """A level of a rule fired: the record that makes it fire at most once per cycle.

    ``at`` is when it fired (the evaluation instant), ``due_at`` when it
    became due; ``cycle`` is the ordinal of the trigger's clock (the SLA cycle,
    the wait, the visit of a state, the request). ``actions`` are the level's
    actions and ``skipped`` explains those that did nothing (the ticket was
    already at the most urgent priority, no line above...).

    >>> Escalated.__name__
    'Escalated'
    """

    rule: str
    level: int
    cycle: int
    due_at: datetime
    reason: str
    actions: tuple[Action, ...] = ()
    skipped: tuple[str, ...] = ()

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class NotificationRequested(Event):
    """The host should notify ``recipients`` (already resolved from roles and groups).

    ``roles`` and ``groups`` say whom the action named; ``unresolved`` lists
    the roles that named nobody (a group without a supervisor...).

    >>> NotificationRequested.__name__
    'NotificationRequested'
    """

    rule: str
    level: int
    recipients: tuple[str, ...]
    reason: str
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    message: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class EscalationRequested(Event):
    """Someone asked for an escalation: ``kind`` names what ("manager", "supervisor"...).

    ``by_requester`` tells whether the requester asked (the customer asking to
    be put through to a manager). Record it with
    :func:`~itsm_core.escalation.request_escalation`.

    >>> EscalationRequested.__name__
    'EscalationRequested'
    """

    kind: str
    by_requester: bool
    reason: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class MajorCandidateFlagged(Event):
    """The ticket was flagged for the major-incident manager to consider.

    >>> MajorCandidateFlagged.__name__
    'MajorCandidateFlagged'
    """

    reason: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}
