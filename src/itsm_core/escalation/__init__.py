"""Escalation: functional (to the next support line) and hierarchical (up the management), as data.

The support structure (:class:`SupportStructure`: groups on lines 1, 2, 3 and
external contractors, routes from categories and services to groups) says
where tickets go. Rules (:class:`EscalationRule`: a :class:`Trigger`,
:class:`EscalationConditions` and ordered :class:`EscalationLevel` values of
:class:`Action` records) say when and what. :func:`due_escalations` is a pure
function of the history, the rules and ``now``; :func:`apply_escalations`
turns what is due into events (an :class:`Escalated` record per level, so a
level fires at most once per cycle); :func:`next_wakeup` says when to look
again.

>>> from datetime import datetime, timedelta, timezone
>>> from itsm_core.lifecycle import default_lifecycles
>>> from itsm_core.ticket import Assign, OpenTicket
>>> desk = default_lifecycles()
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> t, history = desk.apply(None, OpenTicket(ticket_id="INC-1", type="incident",
...                         title="No mail", requester="ann"), actor="ann", at=at)
>>> structure = SupportStructure(groups=(
...     SupportGroup(name="help-desk", line=1, members=("dana",), supervisor="sam"),
...     SupportGroup(name="admins", line=2, members=("ari",)),
... ), default_group="help-desk", manager="mona")
>>> t, events = desk.apply(t, structure.assignment(t), actor="dispatcher", at=at)
>>> history += events
>>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(), levels=(
...     EscalationLevel(after=timedelta(hours=1), actions=Action.reassign_next_line()),
...     EscalationLevel(after=timedelta(hours=4), actions=Action.notify(roles="manager")),
... ))
>>> later = at + timedelta(hours=5)
>>> due = due_escalations(history, [rule], later, structure=structure)
>>> [(d.level, str(d.due_at)) for d in due]
[(1, '2026-03-02 10:00:00+00:00'), (2, '2026-03-02 13:00:00+00:00')]
>>> t, events = apply_escalations(history, due, lifecycle=desk, at=later, structure=structure)
>>> t.group, [type(e).__name__ for e in events]
('admins', ['Escalated', 'Reassigned', 'Escalated', 'NotificationRequested'])
>>> due_escalations(history + events, [rule], later, structure=structure)
()
"""

from itsm_core.escalation._apply import apply_escalations, escalate, request_escalation
from itsm_core.escalation._engine import (
    DueEscalation,
    EscalationPlan,
    due_escalations,
    next_wakeup,
    plan_escalations,
)
from itsm_core.escalation._events import (
    Escalated,
    EscalationRequested,
    MajorCandidateFlagged,
    NotificationRequested,
)
from itsm_core.escalation._rules import (
    REASSIGN_TARGETS,
    ROLES,
    Action,
    ActionKind,
    EscalationConditions,
    EscalationLevel,
    EscalationRule,
    Trigger,
    TriggerKind,
)
from itsm_core.escalation._structure import (
    EXTERNAL_LINE,
    LINE_NAMES,
    Route,
    SupportGroup,
    SupportStructure,
)

__all__ = [
    "EXTERNAL_LINE",
    "LINE_NAMES",
    "REASSIGN_TARGETS",
    "ROLES",
    "Action",
    "ActionKind",
    "DueEscalation",
    "Escalated",
    "EscalationConditions",
    "EscalationLevel",
    "EscalationPlan",
    "EscalationRequested",
    "EscalationRule",
    "MajorCandidateFlagged",
    "NotificationRequested",
    "Route",
    "SupportGroup",
    "SupportStructure",
    "Trigger",
    "TriggerKind",
    "apply_escalations",
    "due_escalations",
    "escalate",
    "next_wakeup",
    "plan_escalations",
    "request_escalation",
]
