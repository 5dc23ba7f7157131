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

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import EscalationLevel, EscalationRule, Trigger, due_escalations
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> opened = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident",
    ...                       state="new", state_category="new", title="t", requester="ann")
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(), levels=(
    ...     EscalationLevel(after=timedelta(hours=1), actions=Action.notify(people="sam"))))
    >>> later = at + timedelta(hours=2)
    >>> [d.key for d in due_escalations([opened], [rule], later)]
    [('unanswered', 1, 1)]
    >>> fired = Escalated(ticket_id="I-1", actor="escalation", at=later, rule="unanswered",
    ...                   level=1, cycle=1, due_at=at + timedelta(hours=1), reason="no reply")
    >>> due_escalations([opened, fired], [rule], later)
    ()
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

    >>> from datetime import datetime, timezone
    >>> from itsm_core.escalation import DueEscalation, apply_escalations
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.ticket import OpenTicket
    >>> desk = default_lifecycles()
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> _, history = desk.apply(None, OpenTicket(ticket_id="I-1", type="incident", title="t",
    ...                         requester="ann"), actor="ann", at=at)
    >>> due = DueEscalation(rule="slow", level=1, cycle=1, due_us=0, reason="too slow",
    ...     actions=(Action.notify(roles=("requester", "assignee"), people="sam"),),
    ...     timezone="UTC")
    >>> _, (escalated, note) = apply_escalations(history, [due], lifecycle=desk, at=at)
    >>> note.recipients, note.unresolved
    (('ann', 'sam'), ('assignee',))
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

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import EscalationLevel, EscalationRule, Trigger, due_escalations
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> opened = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident",
    ...                       state="new", state_category="new", title="t", requester="ann")
    >>> asked = EscalationRequested(ticket_id="I-1", actor="ann", at=at + timedelta(hours=1),
    ...                             kind="manager", by_requester=True)
    >>> rule = EscalationRule(name="to the manager", trigger=Trigger.request("manager"),
    ...     levels=EscalationLevel(after=timedelta(0), actions=Action.notify(roles="manager")))
    >>> [d.reason for d in due_escalations([opened, asked], [rule], asked.at)]
    ['the requester asked for the manager']
    """

    kind: str
    by_requester: bool
    reason: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class MajorCandidateFlagged(Event):
    """The ticket was flagged for the major-incident manager to consider.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.escalation import DueEscalation, apply_escalations
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.ticket import OpenTicket
    >>> desk = default_lifecycles()
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> _, history = desk.apply(None, OpenTicket(ticket_id="I-1", type="incident", title="t",
    ...                         requester="ann"), actor="ann", at=at)
    >>> flag = DueEscalation(rule="many callers", level=1, cycle=1, due_us=0, reason="10 calls",
    ...                      actions=(Action.flag_major_candidate(),), timezone="UTC")
    >>> _, events = apply_escalations(history, [flag], lifecycle=desk, at=at)
    >>> [type(e).__name__ for e in events]
    ['Escalated', 'MajorCandidateFlagged']
    >>> _, again = apply_escalations([*history, *events], [flag], lifecycle=desk, at=at)
    >>> again[0].skipped
    ('flag as a major-incident candidate: already flagged or major',)
    """

    reason: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}
