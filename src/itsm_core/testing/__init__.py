"""Public testing toolkit: Hypothesis strategies and slow reference oracles.

Install with ``pip install itsm-core[testing]``. The strategies generate valid
values of the library's public types for users' own property-based tests; the
oracles are deliberately slow, obviously-correct implementations that the fast
algorithms are checked against.
"""

from itsm_core.lifecycle._machine import MachineProbe, machine_dest
from itsm_core.testing._calendar_oracle import (
    oracle_add,
    oracle_elapsed,
    oracle_is_open,
    oracle_local_open,
    oracle_next_close,
    oracle_next_open,
    oracle_open_intervals,
    oracle_subtract,
)
from itsm_core.testing._calendar_strategies import (
    DST_TEST_ZONES,
    Resolution,
    business_calendars,
    calendars,
    instants,
    windows,
)
from itsm_core.testing._entry import (
    aware_datetimes,
    desks,
    events,
    register_strategies,
    ticket_commands_any,
)
from itsm_core.testing._escalation_oracle import (
    OracleDue,
    oracle_due_escalations,
    oracle_escalations,
    oracle_next_wakeup,
)
from itsm_core.testing._escalation_strategies import (
    REQUEST_KINDS,
    SUPPORT_GROUP_NAMES,
    escalation_histories,
    escalation_rules,
    support_structures,
)
from itsm_core.testing._permission_strategies import (
    PERMISSION_ACTIONS,
    PERMISSION_DEPARTMENTS,
    PERMISSION_GROUPS,
    PERMISSION_ORGANIZATIONS,
    PERMISSION_PEOPLE,
    action_patterns,
    directories,
    example_history,
    example_ticket,
    grants,
    permission_policies,
    permission_tickets,
    permissions,
    principals,
    register_permission_strategies,
    roles,
)
from itsm_core.testing._priority_strategies import (
    level_names,
    priority_levels,
    priority_matrices,
    requester_masks,
    scales,
)
from itsm_core.testing._sla_oracle import OracleCycle, oracle_evaluate
from itsm_core.testing._sla_strategies import (
    PRESET_CALENDARS,
    PRIORITIES,
    event_histories,
    preset_calendars,
    sla_policies,
    sla_statuses,
    standard_policy,
)
from itsm_core.testing._ticket_strategies import (
    TICKET_ACTORS,
    TicketHistory,
    register_ticket_strategies,
    ticket_commands,
    ticket_histories,
    tickets,
)

__all__ = [
    "DST_TEST_ZONES",
    "PERMISSION_ACTIONS",
    "PERMISSION_DEPARTMENTS",
    "PERMISSION_GROUPS",
    "PERMISSION_ORGANIZATIONS",
    "PERMISSION_PEOPLE",
    "PRESET_CALENDARS",
    "PRIORITIES",
    "REQUEST_KINDS",
    "SUPPORT_GROUP_NAMES",
    "TICKET_ACTORS",
    "MachineProbe",
    "OracleCycle",
    "OracleDue",
    "Resolution",
    "TicketHistory",
    "action_patterns",
    "aware_datetimes",
    "business_calendars",
    "calendars",
    "desks",
    "directories",
    "escalation_histories",
    "escalation_rules",
    "event_histories",
    "events",
    "example_history",
    "example_ticket",
    "grants",
    "instants",
    "level_names",
    "machine_dest",
    "oracle_add",
    "oracle_due_escalations",
    "oracle_elapsed",
    "oracle_escalations",
    "oracle_evaluate",
    "oracle_is_open",
    "oracle_local_open",
    "oracle_next_close",
    "oracle_next_open",
    "oracle_next_wakeup",
    "oracle_open_intervals",
    "oracle_subtract",
    "permission_policies",
    "permission_tickets",
    "permissions",
    "preset_calendars",
    "principals",
    "priority_levels",
    "priority_matrices",
    "register_permission_strategies",
    "register_strategies",
    "register_ticket_strategies",
    "requester_masks",
    "roles",
    "scales",
    "sla_policies",
    "sla_statuses",
    "standard_policy",
    "support_structures",
    "ticket_commands",
    "ticket_commands_any",
    "ticket_histories",
    "tickets",
    "windows",
]
