"""Service desk analytics: SLA compliance, credits and KPIs, satisfaction, FCR and statistics.

Every accumulator here is a frozen value built from ticket histories (one
sequence of events per ticket, or a validated ``History``) and merges with
``+``: computing over any split of the tickets, in any order, and adding the
parts gives the same value as computing over all of them, so the same code
runs per partition on a distributed engine.

- :class:`Compliance` — SLA cycles met and breached per period and key;
  :func:`service_credit` and :class:`CreditRule` turn it into an invoice
  reduction; :class:`Kpi` and :func:`kpi_report` set targets beside it.
- :class:`Satisfaction` — surveys requested and answered on a
  :class:`RatingScale`, CSAT, response rate, call-backs.
- :class:`FirstContact` — first-contact resolution by an
  :class:`FcrDefinition`.
- :class:`Stats` — handled, resolved, reopened, reassigned away, and exact
  multisets of first-response, resolution and hold business times.
- :class:`ServiceFigures` — satisfaction, first contact and statistics of the
  same tickets from one walk per history (what a report wants).
- :class:`Arrivals` and :class:`Backlog` — volume by month, weekday and
  hour; the open tickets and their ages at an instant.

>>> from datetime import datetime, timezone
>>> from itsm_core.calendar import BusinessCalendar
>>> from itsm_core.ticket import SurveyAnswered, TicketOpened
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> history = [
...     TicketOpened(ticket_id="I-1", actor="r", at=at, type="incident", state="new",
...                  state_category="new", title="t", requester="r"),
...     SurveyAnswered(ticket_id="I-1", actor="r", at=at, rating=4),
... ]
>>> calendar = BusinessCalendar.always_open("UTC")
>>> Satisfaction.of([history], scale=RatingScale.five_point(), calendar=calendar).csat()
100.0
>>> Stats.of([history], calendar=calendar).tally().arrived
1
"""

from itsm_core.metrics._compliance import PERIODS, Compliance, ComplianceKey, period_of
from itsm_core.metrics._credits import (
    CreditRule,
    Kpi,
    KpiResult,
    ServiceCredit,
    kpi_report,
    service_credit,
)
from itsm_core.metrics._figures import ServiceFigures
from itsm_core.metrics._first_contact import FcrDefinition, FirstContact, FirstContactKey
from itsm_core.metrics._satisfaction import (
    RatingScale,
    Satisfaction,
    SatisfactionKey,
    SatisfactionTally,
)
from itsm_core.metrics._stats import COUNTS, TIMES, Stats, StatsKey, Tally
from itsm_core.metrics._volume import AXES, DEFAULT_AGE_EDGES, Arrivals, Backlog
from itsm_core.metrics._walk import DIMENSIONS

__all__ = [
    "AXES",
    "COUNTS",
    "DEFAULT_AGE_EDGES",
    "DIMENSIONS",
    "PERIODS",
    "TIMES",
    "Arrivals",
    "Backlog",
    "Compliance",
    "ComplianceKey",
    "CreditRule",
    "FcrDefinition",
    "FirstContact",
    "FirstContactKey",
    "Kpi",
    "KpiResult",
    "RatingScale",
    "Satisfaction",
    "SatisfactionKey",
    "SatisfactionTally",
    "ServiceCredit",
    "ServiceFigures",
    "Stats",
    "StatsKey",
    "Tally",
    "kpi_report",
    "period_of",
    "service_credit",
]
