"""Hypothesis strategies for permission policies, principals and the tickets they judge.

Everything is drawn from small pools of names (:data:`PERMISSION_PEOPLE`,
:data:`PERMISSION_GROUPS`...) so that relations such as "requester" or
"member of the assignee group" hold often enough to matter. Policies are
valid by construction: a role includes only roles defined before it (no
cycles), grants name defined roles, the hierarchy gives each unit at most one
parent defined before it. Shrinking goes towards fewer roles, grants and
permissions, the first names of each pool, and no conditions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from itertools import permutations
from typing import Any

import attrs
from hypothesis import strategies as st

from itsm_core.lifecycle import default_lifecycles
from itsm_core.permissions import (
    RELATIONS,
    Directory,
    Grant,
    Permission,
    Policy,
    Principal,
    Role,
    Scope,
)
from itsm_core.ticket import AddComment, Assign, Event, OpenTicket, Ticket

__all__ = [
    "PERMISSION_ACTIONS",
    "PERMISSION_DEPARTMENTS",
    "PERMISSION_GROUPS",
    "PERMISSION_ORGANIZATIONS",
    "PERMISSION_PEOPLE",
    "action_patterns",
    "directories",
    "example_history",
    "example_ticket",
    "grants",
    "permission_policies",
    "permission_tickets",
    "permissions",
    "principals",
    "register_permission_strategies",
    "roles",
]

#: Principal ids the strategies draw from.
PERMISSION_PEOPLE: tuple[str, ...] = ("ann", "bob", "cy", "dee")
#: Groups (and units of the hierarchy): ``network.lan`` may be a sub-unit of ``network``.
PERMISSION_GROUPS: tuple[str, ...] = ("desk", "network", "network.lan", "apps")
#: Departments.
PERMISSION_DEPARTMENTS: tuple[str, ...] = ("it", "sales")
#: Organizations (tenants, customers).
PERMISSION_ORGANIZATIONS: tuple[str, ...] = ("acme", "globex")
#: Concrete actions the strategies ask about.
PERMISSION_ACTIONS: tuple[str, ...] = (
    "view",
    "view.internal",
    "view.field:support_line",
    "view.field:approvers",
    "create",
    "comment.public",
    "comment.internal",
    "update:title",
    "assign",
    "take",
    "reassign",
    "priority.override",
    "priority.set_major",
    "transition:start",
    "transition:resolve",
    "transition:close",
    "approval.give",
    "sla.override",
    "spend",
)
_PATTERNS: tuple[str, ...] = (
    "*",
    "view*",
    "comment.*",
    "update:*",
    "transition:*",
    "priority.*",
    "view.field:*",
)
_STATES: tuple[tuple[str, str], ...] = (
    ("new", "new"),
    ("assigned", "active"),
    ("in_progress", "active"),
    ("on_hold.awaiting_vendor", "on_hold"),
    ("resolved", "resolved"),
)
_STATE_PATTERNS: tuple[str, ...] = (
    "*",
    "new",
    "resolved",
    "on_hold.*",
    "category:active",
    "category:resolved",
    "category:closed",
)
_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def action_patterns() -> st.SearchStrategy[str]:
    """Action names and patterns (``"view"``, ``"transition:*"``, ``"*"``...).

    >>> from hypothesis import given
    >>> @given(action_patterns())
    ... def test(pattern):
    ...     assert Permission(action=pattern).action == pattern
    >>> test()
    """
    return _ACTION_PATTERNS


_ACTION_PATTERNS = st.sampled_from((*PERMISSION_ACTIONS, *_PATTERNS))
_TRANSITION_PATTERNS = frozenset(
    p for p in (*PERMISSION_ACTIONS, *_PATTERNS) if Permission(action=p).may_be_transition
)


@cache
def _subset(names: tuple[str, ...], max_size: int = 2) -> st.SearchStrategy[tuple[str, ...]]:
    """Distinct names of the pool in any order, at most ``max_size``: two draws at most.

    A size (each equally likely), then one of the tuples of that size, listed in the
    pool's order: shrinks towards the empty tuple and the first names, as a list
    of unique names would. Built once per pool: building strategies inside draws
    costs more than drawing.
    """
    return st.one_of(
        *(
            st.sampled_from(tuple(permutations(names, size)))
            for size in range(min(max_size, len(names)) + 1)
        )
    )


_BOOLEANS = st.booleans()
_AMOUNT_LIMITS = st.none() | st.integers(0, 1000)
_RELATIONS = _subset(tuple(RELATIONS), 2)


@st.composite
def permissions(draw: st.DrawFn) -> Permission:
    """Permissions with random relations, state conditions (transitions) and amount limits.

    >>> from hypothesis import given
    >>> @given(permissions())
    ... def test(permission):
    ...     assert permission.relations
    >>> test()
    """
    action = draw(_ACTION_PATTERNS)
    relations = draw(_RELATIONS) or ("anyone",)
    kwargs: dict[str, Any] = {"action": action, "relations": relations}
    if action in _TRANSITION_PATTERNS and draw(_BOOLEANS):
        kwargs["from_states"] = draw(_subset(_STATE_PATTERNS))
        kwargs["to_states"] = draw(_subset(_STATE_PATTERNS))
    if action in ("spend", "*") and draw(_BOOLEANS):
        kwargs["limit"] = draw(_AMOUNT_LIMITS)
        kwargs["report_above"] = draw(_AMOUNT_LIMITS)
    return Permission(**kwargs)


_PERMISSION_LISTS = st.lists(permissions(), max_size=3)


@st.composite
def roles(draw: st.DrawFn, max_roles: int = 4) -> tuple[Role, ...]:
    """A tuple of roles ``r0``, ``r1``..., each including only earlier ones (no cycles).

    >>> from hypothesis import given
    >>> @given(roles())
    ... def test(found):
    ...     assert Policy(roles=found).roles == found
    >>> test()
    """
    count = draw(st.integers(1, max_roles))
    out: list[Role] = []
    for index in range(count):
        earlier = tuple(r.name for r in out)
        out.append(
            Role(
                name=f"r{index}",
                permissions=tuple(draw(_PERMISSION_LISTS)),
                includes=draw(_subset(earlier)) if earlier else (),
            )
        )
    return tuple(out)


@st.composite
def _draw_scope(draw: st.DrawFn) -> Scope:
    if draw(_BOOLEANS):
        return Scope()
    return Scope(
        groups=draw(_subset(PERMISSION_GROUPS)),
        departments=draw(_subset(PERMISSION_DEPARTMENTS, 1)),
        tenants=draw(_subset(PERMISSION_ORGANIZATIONS, 1)),
        types=draw(_subset(("incident", "problem"), 1)),
        recursive=draw(_BOOLEANS),
    )


_SCOPES = _draw_scope()
_WHO = st.sampled_from(("principal", "everyone", "group"))
_PEOPLE = st.sampled_from(PERMISSION_PEOPLE)
_GROUPS = st.sampled_from(PERMISSION_GROUPS)
_FOURTH = st.integers(0, 3)


@st.composite
def grants(draw: st.DrawFn, role_names: tuple[str, ...], *, deny: bool = True) -> Grant:
    """A grant of one of ``role_names`` to a person, everyone or a group (maybe a deny).

    >>> from hypothesis import given
    >>> @given(grants(("r0",)))
    ... def test(grant):
    ...     assert grant.role == "r0"
    >>> test()
    """
    who = draw(_WHO)
    kwargs: dict[str, Any] = {"role": role_names[draw(st.integers(0, len(role_names) - 1))]}
    if who == "principal":
        kwargs["principal"] = draw(_PEOPLE)
    elif who == "everyone":
        kwargs["principal"] = "*"
    else:
        kwargs["group"] = draw(_GROUPS)
    kwargs["scope"] = draw(_SCOPES)
    kwargs["relations"] = draw(_RELATIONS) or ("anyone",)
    if deny and draw(_FOURTH) == 0:
        kwargs["effect"] = "deny"
    return Grant(**kwargs)


@st.composite
def permission_policies(draw: st.DrawFn, *, max_grants: int = 5, deny: bool = True) -> Policy:
    """Valid policies: :func:`roles`, :func:`grants` of them, maybe a hierarchy.

    ``deny=False`` leaves out explicit deny grants.

    >>> from hypothesis import given
    >>> @given(permission_policies())
    ... def test(policy):
    ...     assert Policy.from_dict(policy.to_dict()) == policy
    >>> test()
    """
    found = draw(_ROLES)
    names = tuple(r.name for r in found)
    count = draw(st.integers(0, max_grants))
    chosen = tuple(draw(_grants(names, deny)) for _ in range(count))
    hierarchy: list[tuple[str, str]] = []
    if draw(_BOOLEANS):
        hierarchy.append(("network.lan", "network"))
    if draw(_BOOLEANS):
        hierarchy.append(("sales", "it"))
    restricted = draw(_RESTRICTED)
    return Policy(
        roles=found, grants=chosen, hierarchy=tuple(hierarchy), restricted_fields=restricted
    )


_ROLES = roles()
_RESTRICTED = st.sampled_from(
    (
        ("support_line", "derived_priority", "priority_override", "reassignments", "approvers"),
        ("support_line", "custom:*"),
        (),
    )
)


@cache
def _grants(names: tuple[str, ...], deny: bool) -> st.SearchStrategy[Grant]:
    return grants(names, deny=deny)


_DEPARTMENTS = st.none() | st.sampled_from(PERMISSION_DEPARTMENTS)
_ORGANIZATIONS = st.none() | st.sampled_from(PERMISSION_ORGANIZATIONS)


def _draw_principal(draw: st.DrawFn, principal_id: str) -> Principal:
    return Principal(
        id=principal_id,
        groups=draw(_subset(PERMISSION_GROUPS)),
        department=draw(_DEPARTMENTS),
        organization=draw(_ORGANIZATIONS),
    )


@st.composite
def principals(draw: st.DrawFn, principal_id: str | None = None) -> Principal:
    """A principal from the pools (groups, department, organization), maybe with no facts.

    >>> from hypothesis import given
    >>> @given(principals("ann"))
    ... def test(p):
    ...     assert p.id == "ann"
    >>> test()
    """
    return _draw_principal(draw, principal_id if principal_id is not None else draw(_PEOPLE))


@st.composite
def directories(draw: st.DrawFn) -> Directory:
    """A directory that knows some of :data:`PERMISSION_PEOPLE`.

    >>> from hypothesis import given
    >>> @given(directories())
    ... def test(d):
    ...     assert len(d) <= len(PERMISSION_PEOPLE)
    >>> test()
    """
    known = draw(_subset(PERMISSION_PEOPLE, len(PERMISSION_PEOPLE)))
    return Directory([_draw_principal(draw, pid) for pid in sorted(known)])


@st.composite
def permission_tickets(draw: st.DrawFn, ticket_id: str = "T-1") -> Ticket:
    """Tickets whose people, group and state come from the pools (not a real history).

    Only the facts a policy reads vary (people, group, state, watchers,
    customer, approvers, a custom field).

    >>> from hypothesis import given
    >>> @given(permission_tickets())
    ... def test(t):
    ...     assert t.requester in PERMISSION_PEOPLE
    >>> test()
    """
    state, category = draw(_TICKET_STATES)
    return Ticket(
        id=ticket_id,
        type=draw(_TICKET_TYPES),
        state=state,
        state_category=category,
        title="generated",
        requester=draw(_PEOPLE),
        opened_at=_AT,
        updated_at=_AT,
        assignee=draw(_MAYBE_PERSON),
        group=draw(_MAYBE_GROUP),
        support_line=draw(_LINES),
        approvers=draw(_subset(PERMISSION_PEOPLE)),
        custom_fields=draw(_CUSTOM),
        watchers=draw(_subset(PERMISSION_PEOPLE)),
        customer=draw(_ORGANIZATIONS),
    )


_TICKET_STATES = st.sampled_from(_STATES)
_TICKET_TYPES = st.sampled_from(("incident", "problem"))
_MAYBE_PERSON = st.none() | _PEOPLE
_MAYBE_GROUP = st.none() | _GROUPS
_LINES = st.none() | st.integers(1, 3)
_CUSTOM = st.sampled_from(((), (("root_cause", "disk"),)))


def example_ticket(ticket_id: str = "I-1", *, requester: str = "alice", **fields: Any) -> Ticket:
    """A new incident ``"Printer jammed"`` for examples, with any fields changed.

    >>> example_ticket("I-9", requester="ann", group="desk").group
    'desk'
    """
    ticket = Ticket(
        id=ticket_id,
        type="incident",
        state="new",
        state_category="new",
        title="Printer jammed",
        requester=requester,
        opened_at=_AT,
        updated_at=_AT,
    )
    return attrs.evolve(ticket, **fields) if fields else ticket


def example_history() -> tuple[Ticket, tuple[Event, ...]]:
    """An incident by ``alice`` assigned to ``dana`` with a public and an internal comment.

    >>> ticket, events = example_history()
    >>> ticket.state, len(events)
    ('assigned', 5)
    """
    desk = default_lifecycles()
    ticket, history = desk.apply(
        None,
        OpenTicket(ticket_id="I-1", type="incident", title="Printer jammed", requester="alice"),
        actor="alice",
        at=_AT,
    )
    commands = (
        Assign(assignee="dana", group="desk", support_line=1),
        AddComment(body="On my way.", public=True),
        AddComment(body="Third jam this week: replace the fuser.", public=False),
    )
    for command in commands:
        ticket, events = desk.apply(ticket, command, actor="dana", at=_AT)
        history += events
    return ticket, history


def register_permission_strategies() -> None:
    """Make ``st.from_type`` draw the permission types from the strategies above.

    ``Permission``, ``Role``, ``Scope``, ``Grant``, ``Policy``, ``Principal``
    and ``Directory``; meant for the ``hypothesis`` entry point.

    >>> from hypothesis import given, strategies as st
    >>> register_permission_strategies()
    >>> @given(st.from_type(Policy))
    ... def test(policy):
    ...     assert Policy.from_dict(policy.to_dict()) == policy
    >>> test()
    """
    st.register_type_strategy(Permission, permissions())
    st.register_type_strategy(Role, _ROLES.map(lambda found: found[-1]))
    st.register_type_strategy(Scope, _SCOPES)
    st.register_type_strategy(Grant, grants(("r0", "r1")))
    st.register_type_strategy(Policy, permission_policies())
    st.register_type_strategy(Principal, principals())
    st.register_type_strategy(Directory, directories())
