"""SLA policies and clocks: response, update and resolution targets over business calendars.

A :class:`SlaPolicy` is data: metrics with targets per priority and declarative
start, stop, pause, resume, cancel and reset conditions, a business calendar
and the tickets it applies to. :func:`evaluate` folds a ticket's events into
the clocks of every metric as of ``now``; :func:`next_deadline` says when to
look again.
"""

from itsm_core.sla._batch import (
    MISSING_US,
    STAGES,
    MissingExtraError,
    SlaBatch,
    SlaColumns,
    evaluate_batch,
)
from itsm_core.sla._clock import (
    Cycle,
    MetricClock,
    SlaStatus,
    Stage,
    TimelineEntry,
    clock_calendar,
    evaluate_reference,
    event_kind,
    reach_us,
)
from itsm_core.sla._durations import (
    BusinessDays,
    BusinessDuration,
    SlaDuration,
    WallDuration,
    as_sla_duration,
)
from itsm_core.sla._fold import evaluate, evaluate_many, next_deadline, select_policy_for_history
from itsm_core.sla._manual import SET_DUE_ACTION, DueDateSet, set_due_date
from itsm_core.sla._policy import (
    EVENT_KINDS,
    Applicability,
    ClassifiedStart,
    Condition,
    Metric,
    MissingTarget,
    OnPriorityChange,
    SlaKind,
    SlaPolicy,
    StartAt,
    select_policy,
)

__all__ = [
    "EVENT_KINDS",
    "MISSING_US",
    "SET_DUE_ACTION",
    "STAGES",
    "Applicability",
    "BusinessDays",
    "BusinessDuration",
    "ClassifiedStart",
    "Condition",
    "Cycle",
    "DueDateSet",
    "Metric",
    "MetricClock",
    "MissingExtraError",
    "MissingTarget",
    "OnPriorityChange",
    "SlaBatch",
    "SlaColumns",
    "SlaDuration",
    "SlaKind",
    "SlaPolicy",
    "SlaStatus",
    "Stage",
    "StartAt",
    "TimelineEntry",
    "WallDuration",
    "as_sla_duration",
    "clock_calendar",
    "evaluate",
    "evaluate_batch",
    "evaluate_many",
    "evaluate_reference",
    "event_kind",
    "next_deadline",
    "reach_us",
    "select_policy",
    "select_policy_for_history",
    "set_due_date",
]
