"""What the desk's verbs return, and the events the desk records for itself."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs
import pendulum

from itsm_core.escalation import DueEscalation
from itsm_core.lifecycle import FollowUp, History
from itsm_core.routing import Notification
from itsm_core.sla import SlaStatus
from itsm_core.ticket import Event, Ticket, TicketCommand

__all__ = [
    "AutomationRefused",
    "Due",
    "DueKind",
    "Outcome",
    "ReopenWindowEnded",
    "SlaThresholdReached",
    "TicketStatus",
]


class DueKind(enum.StrEnum):
    """What kind of thing time has made due.

    * ``sla_threshold``: an SLA clock reached a warning percentage of its target;
    * ``sla_breach``: an SLA clock's business time reached its target;
    * ``escalation``: a level of an escalation rule
      (see :class:`~itsm_core.escalation.DueEscalation`);
    * ``transition``: a timed lifecycle transition (auto-close);
    * ``reopen_window_end``: a resolved ticket can no longer be reopened (a
      requester's reply now needs a follow-up ticket).

    >>> [k.value for k in DueKind]
    ['sla_threshold', 'sla_breach', 'escalation', 'transition', 'reopen_window_end']
    """

    SLA_THRESHOLD = "sla_threshold"
    SLA_BREACH = "sla_breach"
    ESCALATION = "escalation"
    TRANSITION = "transition"
    REOPEN_WINDOW_END = "reopen_window_end"


@attrs.frozen(kw_only=True)
class Due:
    """One thing due on a ticket: its kind, since when, and why.

    ``metric``, ``cycle`` and ``percent`` describe an SLA threshold or breach;
    ``escalation`` is the level of an escalation; ``command`` is the
    lifecycle command a timed transition applies.

    >>> import pendulum
    >>> d = Due(kind=DueKind.SLA_BREACH, at=pendulum.datetime(2026, 3, 2, 17),
    ...         reason="resolution reached its 8:00:00 target", metric="resolution",
    ...         cycle=1, percent=100)
    >>> d.key
    ('sla', 'resolution', 1, 100)
    """

    kind: DueKind
    at: pendulum.DateTime
    reason: str
    metric: str | None = None
    cycle: int | None = None
    percent: int | None = None
    escalation: DueEscalation | None = None
    command: TicketCommand | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        """What identifies it: once handled, the history records it and it is due no more."""
        if self.escalation is not None:
            return ("escalation", *self.escalation.key)
        if self.command is not None:
            return ("transition", self.command.action)
        if self.kind is DueKind.REOPEN_WINDOW_END:
            return ("reopen_window_end",)
        return ("sla", self.metric, self.cycle, self.percent)


@attrs.frozen(kw_only=True)
class TicketStatus:
    """Everything the desk knows about one ticket at ``now``.

    ``policy`` is the SLA policy chosen for the ticket (``None``: none applies)
    and ``policy_reason`` says why, by the desk's one rule; ``sla`` is its
    evaluation (every clock); ``due`` what is due at ``now``;
    ``next_wakeup`` the earliest instant at or after ``now`` at which
    something is due (``now`` itself when something is due already; ``None``:
    only a new event can make anything due).
    """

    ticket: Ticket
    now: pendulum.DateTime
    priority: str | None
    policy: str | None
    policy_reason: str
    sla: SlaStatus | None
    due: tuple[Due, ...]
    next_wakeup: pendulum.DateTime | None


@attrs.frozen(kw_only=True)
class Outcome:
    """What a verb changed: the new history and ticket, the events added, follow-ups.

    ``events`` are the events appended to the history (store them);
    ``follow_ups`` are commands for *other* tickets (mirrored links, children
    resolved with their parent...) for the host to apply with
    :meth:`~itsm_core.desk.Desk.apply`; ``notifications`` are the messages
    the desk's routing rules ask for on the new events (empty without
    routing), for the host to deliver: an ``internal`` one never names the
    requester.
    """

    history: History
    ticket: Ticket
    events: tuple[Event, ...]
    follow_ups: tuple[FollowUp, ...] = ()
    notifications: tuple[Notification, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything was added to the history."""
        return bool(self.events)


@attrs.frozen(kw_only=True)
class SlaThresholdReached(Event):
    """The desk saw an SLA clock reach a percentage of its target (100: the breach).

    ``policy``, ``metric``, ``cycle`` and ``percent`` say which;
    ``reached_at`` is when the clock reached it (``at`` is when the desk
    recorded it). Recording it is what makes it due no more; it changes
    nothing on the ticket but its version.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="ann").apply_to(None)
    >>> breach = SlaThresholdReached(ticket_id="I-1", actor="desk", at=at, policy="24x7",
    ...                              metric="resolution", cycle=1, percent=100, reached_at=at)
    >>> after = breach.apply_to(t)
    >>> breach.is_breach, after.version - t.version, after.state == t.state
    (True, 1, True)
    """

    policy: str
    metric: str
    cycle: int
    percent: int
    reached_at: datetime

    @property
    def is_breach(self) -> bool:
        """Whether this is the breach (100 % of the target)."""
        return self.percent == 100

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class AutomationRefused(Event):
    """An automated action the desk could not carry out, and why: never lost silently.

    ``action`` is the permission action (``transition:auto_close``...),
    ``reason`` the refusal (a permission decision or a lifecycle rule) and
    ``due_at`` when it became due. Once recorded, the same action is not due
    again until the ticket changes state.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="ann").apply_to(None)
    >>> refused = AutomationRefused(ticket_id="I-1", actor="desk", at=at,
    ...     action="transition:auto_close", reason="the ticket is not resolved", due_at=at)
    >>> after = refused.apply_to(t)
    >>> after.version - t.version, after.state == t.state
    (1, True)
    """

    action: str
    reason: str
    due_at: datetime

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class ReopenWindowEnded(Event):
    """The desk saw a resolved ticket's reopen window end (``ended_at``).

    After it a requester's reply opens a follow-up ticket instead of reopening
    this one. Recording it is what makes it due no more; it changes nothing on
    the ticket but its version.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 9, 9, 0, tzinfo=timezone.utc)
    >>> ReopenWindowEnded(ticket_id="INC-1", actor="automation", at=at,
    ...                   ended_at=at).ended_at == at
    True
    """

    ended_at: datetime

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}
