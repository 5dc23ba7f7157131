"""itsm_core: a sans-I/O IT service management domain library.

Tickets as state machines, priority matrices, business-hours calendars, SLA
clocks, escalation rules and role permissions, as immutable values with no I/O.

This package exports the host-facing API only: the :class:`Desk` and its
records, loading and dumping desk documents, the records users build, the
commands, the events a host meets and the errors. Everything else lives in its
room (``itsm_core.calendar``, ``itsm_core.sla``, ``itsm_core.escalation``...).

>>> import itsm_core
>>> isinstance(itsm_core.__version__, str), "Desk" in itsm_core.__all__
(True, True)
"""

import importlib
import warnings

from itsm_core._version import __version__

# ``typing`` itself is not imported at run time (it costs more than this whole module);
# type checkers read every name below as ``if TYPE_CHECKING``.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from itsm_core.calendar import (
        BusinessCalendar,
    )
    from itsm_core.desk import (
        Desk,
        Due,
        DueKind,
        Outcome,
        SlaThresholdReached,
        TicketStatus,
    )
    from itsm_core.errors import (
        ConfigurationError,
        InvalidTransition,
        InvalidValueError,
        ItsmError,
        NaiveDatetimeError,
        PermissionDenied,
    )
    from itsm_core.escalation import (
        Action,
        Escalated,
        EscalationLevel,
        EscalationRule,
        NotificationRequested,
        SupportGroup,
        SupportStructure,
        Trigger,
    )
    from itsm_core.lifecycle import (
        History,
    )
    from itsm_core.permissions import (
        Directory,
        Grant,
        Policy,
        Principal,
    )
    from itsm_core.priority import (
        PriorityMatrix,
    )
    from itsm_core.serialization import (
        dump_desk,
        load_desk,
    )
    from itsm_core.sla import (
        Applicability,
        Condition,
        Metric,
        SlaPolicy,
    )
    from itsm_core.ticket import (
        AddComment,
        AddLink,
        Approve,
        Assign,
        Classify,
        ClearMajor,
        CommentAdded,
        Event,
        Merge,
        OpenTicket,
        OverridePriority,
        Reassign,
        Refuse,
        RemoveLink,
        RequestApproval,
        SetMajor,
        Split,
        StateChanged,
        Ticket,
        TicketCommand,
        TicketOpened,
        Transition,
        Unwatch,
        UpdateField,
        Watch,
    )

del TYPE_CHECKING

__all__ = [
    "Action",
    "AddComment",
    "AddLink",
    "Applicability",
    "Approve",
    "Assign",
    "BusinessCalendar",
    "Classify",
    "ClearMajor",
    "CommentAdded",
    "Condition",
    "ConfigurationError",
    "Desk",
    "Directory",
    "Due",
    "DueKind",
    "Escalated",
    "EscalationLevel",
    "EscalationRule",
    "Event",
    "Grant",
    "History",
    "InvalidTransition",
    "InvalidValueError",
    "ItsmError",
    "Merge",
    "Metric",
    "NaiveDatetimeError",
    "NotificationRequested",
    "OpenTicket",
    "Outcome",
    "OverridePriority",
    "PermissionDenied",
    "Policy",
    "Principal",
    "PriorityMatrix",
    "Reassign",
    "Refuse",
    "RemoveLink",
    "RequestApproval",
    "SetMajor",
    "SlaPolicy",
    "SlaThresholdReached",
    "Split",
    "StateChanged",
    "SupportGroup",
    "SupportStructure",
    "Ticket",
    "TicketCommand",
    "TicketOpened",
    "TicketStatus",
    "Transition",
    "Trigger",
    "Unwatch",
    "UpdateField",
    "Watch",
    "__version__",
    "dump_desk",
    "load_desk",
]

#: Names this package exported before 0.2, now read from their room (deprecated for
#: one release): ``from itsm_core import evaluate`` still works, with a warning.
_MOVED: dict[str, str] = {
    "ApprovalGiven": "itsm_core.ticket",
    "ApprovalRefused": "itsm_core.ticket",
    "ApprovalRequested": "itsm_core.ticket",
    "Assigned": "itsm_core.ticket",
    "Authorizer": "itsm_core.lifecycle",
    "CalendarLike": "itsm_core.calendar",
    "Cell": "itsm_core.priority",
    "Closure": "itsm_core.calendar",
    "Compliance": "itsm_core.metrics",
    "ComplianceKey": "itsm_core.metrics",
    "CompositeCalendar": "itsm_core.calendar",
    "CreditRule": "itsm_core.metrics",
    "Cycle": "itsm_core.sla",
    "DateOverride": "itsm_core.calendar",
    "DateRange": "itsm_core.calendar",
    "Decision": "itsm_core.permissions",
    "DueEscalation": "itsm_core.escalation",
    "DueTransition": "itsm_core.lifecycle",
    "EVENT_KINDS": "itsm_core.sla",
    "EscalationConditions": "itsm_core.escalation",
    "EscalationRequested": "itsm_core.escalation",
    "FieldChanged": "itsm_core.ticket",
    "FieldDef": "itsm_core.lifecycle",
    "FollowUp": "itsm_core.lifecycle",
    "Guard": "itsm_core.lifecycle",
    "Level": "itsm_core.priority",
    "Lifecycle": "itsm_core.lifecycle",
    "LifecycleDef": "itsm_core.lifecycle",
    "Lifecycles": "itsm_core.lifecycle",
    "Link": "itsm_core.ticket",
    "Linked": "itsm_core.ticket",
    "MAJOR": "itsm_core.priority",
    "MajorCandidateFlagged": "itsm_core.escalation",
    "MajorCleared": "itsm_core.ticket",
    "MajorSet": "itsm_core.ticket",
    "Merged": "itsm_core.ticket",
    "MetricClock": "itsm_core.sla",
    "MonthDay": "itsm_core.calendar",
    "NeverOpenError": "itsm_core.errors",
    "OnPriorityChange": "itsm_core.sla",
    "PERIODS": "itsm_core.metrics",
    "Permission": "itsm_core.permissions",
    "Policies": "itsm_core.lifecycle",
    "PolicyAuthorizer": "itsm_core.permissions",
    "PriorityChanged": "itsm_core.ticket",
    "PriorityLevel": "itsm_core.priority",
    "Problem": "itsm_core.errors",
    "Reassigned": "itsm_core.ticket",
    "RequesterMask": "itsm_core.priority",
    "Role": "itsm_core.permissions",
    "Scale": "itsm_core.priority",
    "Scope": "itsm_core.permissions",
    "ServiceCredit": "itsm_core.metrics",
    "SlaKind": "itsm_core.sla",
    "SlaStatus": "itsm_core.sla",
    "Stage": "itsm_core.sla",
    "StateDef": "itsm_core.lifecycle",
    "TicketSplit": "itsm_core.ticket",
    "TicketView": "itsm_core.permissions",
    "TimelineEntry": "itsm_core.sla",
    "TransitionDef": "itsm_core.lifecycle",
    "Unlinked": "itsm_core.ticket",
    "Unwatched": "itsm_core.ticket",
    "Watched": "itsm_core.ticket",
    "WeeklySchedule": "itsm_core.calendar",
    "Window": "itsm_core.calendar",
    "apply_escalations": "itsm_core.escalation",
    "configure_converter": "itsm_core.serialization",
    "decode_event": "itsm_core.serialization",
    "default_lifecycles": "itsm_core.lifecycle",
    "default_policy": "itsm_core.permissions",
    "default_roles": "itsm_core.permissions",
    "desk_json_schema": "itsm_core.serialization",
    "due_escalations": "itsm_core.escalation",
    "effective_priority": "itsm_core.priority",
    "encode_event": "itsm_core.serialization",
    "escalate": "itsm_core.escalation",
    "evaluate": "itsm_core.sla",
    "evaluate_many": "itsm_core.sla",
    "evaluate_predicate": "itsm_core.permissions",
    "event_kind": "itsm_core.sla",
    "fold_events": "itsm_core.ticket",
    "follow_ups": "itsm_core.lifecycle",
    "format_duration": "itsm_core.serialization",
    "make_converter": "itsm_core.serialization",
    "next_deadline": "itsm_core.sla",
    "next_wakeup": "itsm_core.escalation",
    "parse_duration": "itsm_core.serialization",
    "request_escalation": "itsm_core.escalation",
    "select_policy": "itsm_core.sla",
    "service_credit": "itsm_core.metrics",
    "sort_key": "itsm_core.priority",
    "validate_definition": "itsm_core.lifecycle",
}


#: Where each top-level name lives. ``import itsm_core`` imports none of the rooms: a name
#: is imported from its room when first read (then kept in this module), so a host pays
#: only for what it uses.
_ROOMS: dict[str, tuple[str, ...]] = {
    "itsm_core.calendar": ("BusinessCalendar",),
    "itsm_core.desk": (
        "Desk",
        "Due",
        "DueKind",
        "Outcome",
        "SlaThresholdReached",
        "TicketStatus",
    ),
    "itsm_core.errors": (
        "ConfigurationError",
        "InvalidTransition",
        "InvalidValueError",
        "ItsmError",
        "NaiveDatetimeError",
        "PermissionDenied",
    ),
    "itsm_core.escalation": (
        "Action",
        "Escalated",
        "EscalationLevel",
        "EscalationRule",
        "NotificationRequested",
        "SupportGroup",
        "SupportStructure",
        "Trigger",
    ),
    "itsm_core.lifecycle": ("History",),
    "itsm_core.permissions": (
        "Directory",
        "Grant",
        "Policy",
        "Principal",
    ),
    "itsm_core.priority": ("PriorityMatrix",),
    "itsm_core.serialization": (
        "dump_desk",
        "load_desk",
    ),
    "itsm_core.sla": (
        "Applicability",
        "Condition",
        "Metric",
        "SlaPolicy",
    ),
    "itsm_core.ticket": (
        "AddComment",
        "AddLink",
        "Approve",
        "Assign",
        "Classify",
        "ClearMajor",
        "CommentAdded",
        "Event",
        "Merge",
        "OpenTicket",
        "OverridePriority",
        "Reassign",
        "Refuse",
        "RemoveLink",
        "RequestApproval",
        "SetMajor",
        "Split",
        "StateChanged",
        "Ticket",
        "TicketCommand",
        "TicketOpened",
        "Transition",
        "Unwatch",
        "UpdateField",
        "Watch",
    ),
}
#: The rooms, imported when first read as attributes of the package.
_ROOM_MODULES = frozenset(
    {
        "calendar",
        "cli",
        "desk",
        "errors",
        "escalation",
        "imports",
        "lifecycle",
        "metrics",
        "permissions",
        "priority",
        "routing",
        "serialization",
        "sla",
        "testing",
        "ticket",
    }
)
_LAZY: dict[str, str] = {name: room for room, names in _ROOMS.items() for name in names}


def __getattr__(name: str) -> "Any":
    room = _LAZY.get(name)
    if room is not None:
        value = getattr(importlib.import_module(room), name)
        globals()[name] = value
        return value
    if name in _ROOM_MODULES:  # ``import itsm_core`` then ``itsm_core.sla.evaluate``
        return importlib.import_module(f"itsm_core.{name}")
    room = _MOVED.get(name)
    if room is None:
        raise AttributeError(f"module 'itsm_core' has no attribute {name!r}")
    warnings.warn(
        f"itsm_core.{name} moved: import it from {room} (the top-level name goes in 0.3)",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(room), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
