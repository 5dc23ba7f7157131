"""Ticket lifecycles as state machines: definitions as data, one ``transitions`` machine each.

A lifecycle is defined as data (:class:`LifecycleDef`: states with a
category, transitions with declarative guards and required fields, policies),
validated when a :class:`Lifecycle` is built, and turned into a single
hierarchical ``transitions`` machine whose table is compiled for the hot path.
Tickets stay frozen values: :meth:`Lifecycle.apply` returns the new ticket and
the events, and :meth:`Lifecycle.replay` rebuilds the ticket from them.

>>> from datetime import datetime, timezone
>>> from itsm_core.ticket import Assign, OpenTicket, Transition
>>> desk = default_lifecycles()
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> t, history = desk.apply(None, OpenTicket(ticket_id="INC-1", type="incident",
...                         title="Printer jammed", requester="alice"), actor="alice", at=at)
>>> for command in (Assign(assignee="dana", group="desk", support_line=1),
...                 Transition(trigger="start"),
...                 Transition(trigger="hold", hold_reason="awaiting_vendor", reason="spare part")):
...     t, events = desk.apply(t, command, actor="dana", at=at)
...     history += events
>>> t.state, t.state_category, t.hold_reason
('on_hold.awaiting_vendor', 'on_hold', 'awaiting_vendor')
>>> desk.replay(history) == t
True
"""

import typing
import warnings

from itsm_core.lifecycle._defaults import (
    HOLD_REASONS,
    default_definitions,
    default_lifecycles,
    documentation_request,
    emergency_change,
    incident,
    information_request,
    normal_change,
    problem,
    service_request,
    standard_change,
)
from itsm_core.lifecycle._definition import (
    COMMAND_TRIGGERS,
    FIELD_TYPES,
    GUARD_KINDS,
    RELATIONS,
    TRANSITION_FIELDS,
    FieldDef,
    Guard,
    LifecycleDef,
    Policies,
    StateDef,
    TransitionDef,
    validate_definition,
)
from itsm_core.lifecycle._diagrams import CATEGORY_COLOURS, to_dot, to_markdown, to_mermaid
from itsm_core.lifecycle._engine import (
    Authorizer,
    DueTransition,
    Lifecycle,
    Lifecycles,
    replay,
)
from itsm_core.lifecycle._history import EventRules, History
from itsm_core.lifecycle._links import FollowUp, follow_up_ticket, follow_ups
from itsm_core.lifecycle._machine import CompiledTransition
from itsm_core.lifecycle._machine import MachineProbe as _MachineProbe
from itsm_core.lifecycle._machine import machine_dest as _machine_dest

__all__ = [
    "CATEGORY_COLOURS",
    "COMMAND_TRIGGERS",
    "FIELD_TYPES",
    "GUARD_KINDS",
    "HOLD_REASONS",
    "RELATIONS",
    "TRANSITION_FIELDS",
    "Authorizer",
    "CompiledTransition",
    "DueTransition",
    "EventRules",
    "FieldDef",
    "FollowUp",
    "Guard",
    "History",
    "Lifecycle",
    "LifecycleDef",
    "Lifecycles",
    "Policies",
    "StateDef",
    "TransitionDef",
    "default_definitions",
    "default_lifecycles",
    "documentation_request",
    "emergency_change",
    "follow_up_ticket",
    "follow_ups",
    "incident",
    "information_request",
    "normal_change",
    "problem",
    "replay",
    "service_request",
    "standard_change",
    "to_dot",
    "to_markdown",
    "to_mermaid",
    "validate_definition",
]

#: Test machinery that moved to :mod:`itsm_core.testing` (deprecated here for one release).
_MOVED: dict[str, object] = {"MachineProbe": _MachineProbe, "machine_dest": _machine_dest}


def __getattr__(name: str) -> typing.Any:
    if name not in _MOVED:
        raise AttributeError(f"module 'itsm_core.lifecycle' has no attribute {name!r}")
    warnings.warn(
        f"itsm_core.lifecycle.{name} moved: import it from itsm_core.testing",
        DeprecationWarning,
        stacklevel=2,
    )
    return _MOVED[name]
