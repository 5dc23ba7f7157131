"""Who gets a ticket and who is told: staff availability, assignment, notifications, catalog.

Everything here is data plus pure functions of ``now``: an :class:`Agent` has
their own working calendar, absences and capacity; a :class:`GroupRouting`
says how a group assigns (fixed, round robin, least loaded, skills) and what
happens when nobody is available; :class:`NotificationRule` values say which
events tell whom; a :class:`ServiceCatalog` and a channel vocabulary check
what tickets say. :class:`RoutingConfig` holds it all.

>>> import pendulum
>>> from itsm_core.ticket import Ticket
>>> config = RoutingConfig(
...     staff=(Agent(name="olga"), Agent(name="pavel")),
...     groups=(GroupRouting(group="desk", members=("olga", "pavel"), support_line=1),),
... )
>>> at = pendulum.datetime(2026, 3, 2, 9)
>>> ticket = Ticket(id="I-1", type="incident", state="new", state_category="new",
...                 title="Kiosk jammed", requester="rita", opened_at=at, updated_at=at,
...                 group="desk")
>>> first = config.route(ticket, at=at)
>>> second = config.route(ticket, at=at, state=first.state)
>>> first.assignee, second.assignee
('olga', 'pavel')
>>> first.command(ticket)
Assign(assignee='olga', group='desk', support_line=1)
"""

from itsm_core.routing._assignment import (
    FALLBACKS,
    OUTCOMES,
    STRATEGIES,
    Candidate,
    GroupRouting,
    RoutingDecision,
    RoutingState,
    choose,
)
from itsm_core.routing._catalog import DEFAULT_CHANNELS, Service, ServiceCatalog, check_channel
from itsm_core.routing._config import RoutingConfig
from itsm_core.routing._notifications import (
    EVENT_KINDS,
    RECIPIENTS,
    VISIBILITIES,
    Notification,
    NotificationRule,
    default_notification_rules,
    event_kind,
    notifications_for,
)
from itsm_core.routing._staff import ABSENCE_KINDS, Absence, Agent, DutyRole

__all__ = [
    "ABSENCE_KINDS",
    "DEFAULT_CHANNELS",
    "EVENT_KINDS",
    "FALLBACKS",
    "OUTCOMES",
    "RECIPIENTS",
    "STRATEGIES",
    "VISIBILITIES",
    "Absence",
    "Agent",
    "Candidate",
    "DutyRole",
    "GroupRouting",
    "Notification",
    "NotificationRule",
    "RoutingConfig",
    "RoutingDecision",
    "RoutingState",
    "Service",
    "ServiceCatalog",
    "check_channel",
    "choose",
    "default_notification_rules",
    "event_kind",
    "notifications_for",
]
