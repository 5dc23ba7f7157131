"""Role permissions: who may do what to which ticket. Deny by default.

A :class:`Policy` is data: :class:`Role`\\ s (named sets of
:class:`Permission`\\ s that may include other roles) and :class:`Grant`\\ s
of roles to principals or principal groups, scoped by group, department,
tenant or ticket type, with relationship conditions and explicit denies. The
host supplies the facts about its principals in a :class:`Directory`; the
policy answers with :class:`Decision`\\ s that explain themselves, shows a
ticket and its history as a principal may see them, filters collections, and
turns the same rule into a query predicate. :meth:`Policy.authorizer` plugs
it into the lifecycle, so every command is decided before anything changes.

>>> from itsm_core.testing import example_ticket
>>> policy = default_policy([Grant(role="second_line", group="network")])
>>> directory = Directory([Principal(id="nina", groups=("network",))])
>>> ticket = example_ticket("INC-7", requester="ann", assignee="nina", group="network")
>>> policy.authorize("nina", "transition:resolve", ticket, directory=directory).allowed
True
>>> print(policy.authorize("ann", "comment.internal", ticket, directory=directory).explain())
DENIED: 'ann' may not 'comment.internal'
  - no grant gives 'ann' the action 'comment.internal'
"""

from itsm_core.permissions._defaults import (
    DEFAULT_ROLE_NAMES,
    TABLE_ACTIONS,
    default_policy,
    default_roles,
)
from itsm_core.permissions._model import (
    ACTIONS,
    EFFECTS,
    RELATIONS,
    Directory,
    Grant,
    Permission,
    Principal,
    Role,
    Scope,
    pattern_matches,
)
from itsm_core.permissions._policy import (
    DEFAULT_RESTRICTED_FIELDS,
    Decision,
    Policy,
    PolicyAuthorizer,
    TicketView,
)
from itsm_core.permissions._predicate import (
    FALSE,
    PREDICATE_FIELDS,
    TRUE,
    Predicate,
    evaluate_predicate,
)
from itsm_core.permissions._views import EVENT_FIELDS

__all__ = [
    "ACTIONS",
    "DEFAULT_RESTRICTED_FIELDS",
    "DEFAULT_ROLE_NAMES",
    "EFFECTS",
    "EVENT_FIELDS",
    "FALSE",
    "PREDICATE_FIELDS",
    "RELATIONS",
    "TABLE_ACTIONS",
    "TRUE",
    "Decision",
    "Directory",
    "Grant",
    "Permission",
    "Policy",
    "PolicyAuthorizer",
    "Predicate",
    "Principal",
    "Role",
    "Scope",
    "TicketView",
    "default_policy",
    "default_roles",
    "evaluate_predicate",
    "pattern_matches",
]
