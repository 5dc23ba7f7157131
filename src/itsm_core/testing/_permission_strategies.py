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
from itsm_core.testing._fields import Fields
from itsm_core.testing._memo import memoized
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

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(action_patterns())
    ... def test(pattern):
    ...     assert Permission(action=pattern).action == pattern
    >>> test()
    """
    return _ACTION_PATTERNS


_ACTION_PATTERNS = st.sampled_from((*PERMISSION_ACTIONS, *_PATTERNS))
_TRANSITION_PATTERNS = frozenset(
    p for p in (*PERMISSION_ACTIONS, *_PATTERNS) if Permission(action=p).may_be_transition
)


# Every value is built from small numbers read from a few drawn bytes (:class:`Fields`):
# a policy in a handful of draws instead of about a hundred, which is most of what a
# permission property costs. Field 0 always means the first item of a pool, nothing
# optional and no condition, so values shrink as the module docstring says.


@cache
def _tuples(names: tuple[str, ...], max_size: int) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """For each size up to ``max_size``: every tuple of distinct ``names`` of that size."""
    return tuple(tuple(permutations(names, size)) for size in range(min(max_size, len(names)) + 1))


def _subset(fields: Fields, names: tuple[str, ...], max_size: int = 2) -> tuple[str, ...]:
    """Distinct names of the pool in any order, at most ``max_size``.

    A size (each equally likely), then one of the tuples of that size, listed in
    the pool's order: field 0 is the empty tuple, then the first names.
    """
    by_size = _tuples(names, max_size)
    return fields.choice(fields.choice(by_size))


_ALL_ACTION_PATTERNS = (*PERMISSION_ACTIONS, *_PATTERNS)
_RELATION_NAMES = tuple(RELATIONS)


def _permission(fields: Fields) -> Permission:
    action = fields.choice(_ALL_ACTION_PATTERNS)
    relations = _subset(fields, _RELATION_NAMES) or ("anyone",)
    kwargs: dict[str, Any] = {"action": action, "relations": relations}
    if action in _TRANSITION_PATTERNS and fields.flag():
        kwargs["from_states"] = _subset(fields, _STATE_PATTERNS)
        kwargs["to_states"] = _subset(fields, _STATE_PATTERNS)
    if action in ("spend", "*") and fields.flag():
        kwargs["limit"] = _amount_limit(fields)
        kwargs["report_above"] = _amount_limit(fields)
    return Permission(**kwargs)


def _amount_limit(fields: Fields) -> int | None:
    value = fields.take(1002)
    return value - 1 if value else None


@memoized
@st.composite
def permissions(draw: st.DrawFn) -> Permission:
    """Permissions with random relations, state conditions (transitions) and amount limits.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(permissions())
    ... def test(permission):
    ...     assert permission.relations
    >>> test()
    """
    return _permission(Fields(draw))


@memoized
@st.composite
def roles(draw: st.DrawFn, max_roles: int = 4) -> tuple[Role, ...]:
    """A tuple of roles ``r0``, ``r1``..., each including only earlier ones (no cycles).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(roles())
    ... def test(found):
    ...     assert Policy(roles=found).roles == found
    >>> test()
    """
    return _roles(Fields(draw), max_roles)


def _roles(fields: Fields, max_roles: int) -> tuple[Role, ...]:
    count = 1 + fields.take(max_roles)
    out: list[Role] = []
    for index in range(count):
        earlier = tuple(r.name for r in out)
        out.append(
            Role(
                name=f"r{index}",
                permissions=tuple(_permission(fields) for _ in range(fields.take(4))),
                includes=_subset(fields, earlier) if earlier else (),
            )
        )
    return tuple(out)


def _scope(fields: Fields) -> Scope:
    if not fields.flag():
        return Scope()
    return Scope(
        groups=_subset(fields, PERMISSION_GROUPS),
        departments=_subset(fields, PERMISSION_DEPARTMENTS, 1),
        tenants=_subset(fields, PERMISSION_ORGANIZATIONS, 1),
        types=_subset(fields, ("incident", "problem"), 1),
        recursive=fields.flag(),
    )


@memoized
@st.composite
def _scopes(draw: st.DrawFn) -> Scope:
    return _scope(Fields(draw))


_SCOPES = _scopes()


def _grant(fields: Fields, role_names: tuple[str, ...], deny: bool) -> Grant:
    who = fields.take(3)
    kwargs: dict[str, Any] = {"role": fields.choice(role_names)}
    if who == 0:
        kwargs["principal"] = fields.choice(PERMISSION_PEOPLE)
    elif who == 1:
        kwargs["principal"] = "*"
    else:
        kwargs["group"] = fields.choice(PERMISSION_GROUPS)
    kwargs["scope"] = _scope(fields)
    kwargs["relations"] = _subset(fields, _RELATION_NAMES) or ("anyone",)
    if deny and fields.take(4) == 3:
        kwargs["effect"] = "deny"
    return Grant(**kwargs)


@memoized
@st.composite
def grants(draw: st.DrawFn, role_names: tuple[str, ...], *, deny: bool = True) -> Grant:
    """A grant of one of ``role_names`` to a person, everyone or a group (maybe a deny).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(grants(("r0",)))
    ... def test(grant):
    ...     assert grant.role == "r0"
    >>> test()
    """
    return _grant(Fields(draw), role_names, deny)


@memoized
@st.composite
def permission_policies(draw: st.DrawFn, *, max_grants: int = 5, deny: bool = True) -> Policy:
    """Valid policies: :func:`roles`, :func:`grants` of them, maybe a hierarchy.

    ``deny=False`` leaves out explicit deny grants.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(permission_policies())
    ... def test(policy):
    ...     assert Policy.from_dict(policy.to_dict()) == policy
    >>> test()
    """
    fields = Fields(draw)
    found = _roles(fields, 4)
    names = tuple(r.name for r in found)
    count = fields.take(max_grants + 1)
    chosen = tuple(_grant(fields, names, deny) for _ in range(count))
    hierarchy: list[tuple[str, str]] = []
    if fields.flag():
        hierarchy.append(("network.lan", "network"))
    if fields.flag():
        hierarchy.append(("sales", "it"))
    restricted = fields.choice(_RESTRICTED)
    return Policy(
        roles=found, grants=chosen, hierarchy=tuple(hierarchy), restricted_fields=restricted
    )


_RESTRICTED: tuple[tuple[str, ...], ...] = (
    ("support_line", "derived_priority", "priority_override", "reassignments", "approvers"),
    ("support_line", "custom:*"),
    (),
)


def _principal(fields: Fields, principal_id: str) -> Principal:
    return Principal(
        id=principal_id,
        groups=_subset(fields, PERMISSION_GROUPS),
        department=fields.maybe(PERMISSION_DEPARTMENTS),
        organization=fields.maybe(PERMISSION_ORGANIZATIONS),
    )


@memoized
@st.composite
def principals(draw: st.DrawFn, principal_id: str | None = None) -> Principal:
    """A principal from the pools (groups, department, organization), maybe with no facts.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(principals("ann"))
    ... def test(p):
    ...     assert p.id == "ann"
    >>> test()
    """
    fields = Fields(draw)
    if principal_id is None:
        principal_id = fields.choice(PERMISSION_PEOPLE)
    return _principal(fields, principal_id)


@memoized
@st.composite
def directories(draw: st.DrawFn) -> Directory:
    """A directory that knows some of :data:`PERMISSION_PEOPLE`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(directories())
    ... def test(d):
    ...     assert len(d) <= len(PERMISSION_PEOPLE)
    >>> test()
    """
    fields = Fields(draw)
    known = _subset(fields, PERMISSION_PEOPLE, len(PERMISSION_PEOPLE))
    return Directory([_principal(fields, pid) for pid in sorted(known)])


@memoized
@st.composite
def permission_tickets(draw: st.DrawFn, ticket_id: str = "T-1") -> Ticket:
    """Tickets whose people, group and state come from the pools (not a real history).

    Only the facts a policy reads vary (people, group, state, watchers,
    customer, approvers, a custom field).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(permission_tickets())
    ... def test(t):
    ...     assert t.requester in PERMISSION_PEOPLE
    >>> test()
    """
    fields = Fields(draw)
    state, category = fields.choice(_STATES)
    return Ticket(
        id=ticket_id,
        type=fields.choice(("incident", "problem")),
        state=state,
        state_category=category,
        title="generated",
        requester=fields.choice(PERMISSION_PEOPLE),
        opened_at=_AT,
        updated_at=_AT,
        assignee=fields.maybe(PERMISSION_PEOPLE),
        group=fields.maybe(PERMISSION_GROUPS),
        support_line=fields.maybe((1, 2, 3)),
        approvers=_subset(fields, PERMISSION_PEOPLE),
        custom_fields=fields.choice(_CUSTOM),
        watchers=_subset(fields, PERMISSION_PEOPLE),
        customer=fields.maybe(PERMISSION_ORGANIZATIONS),
    )


_CUSTOM: tuple[tuple[tuple[str, str], ...], ...] = ((), (("root_cause", "disk"),))


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

    >>> from hypothesis import given, settings, strategies as st
    >>> register_permission_strategies()
    >>> @settings(max_examples=20)
    ... @given(st.from_type(Policy))
    ... def test(policy):
    ...     assert Policy.from_dict(policy.to_dict()) == policy
    >>> test()
    """
    for cls, strategy in strategies_by_type().items():
        st.register_type_strategy(cls, strategy)


@cache
def strategies_by_type() -> dict[type, st.SearchStrategy[Any]]:
    """The strategy ``st.from_type`` draws each permission type from, once built."""
    return {
        Permission: permissions(),
        Role: roles().map(lambda found: found[-1]),
        Scope: _SCOPES,
        Grant: grants(("r0", "r1")),
        Policy: permission_policies(),
        Principal: principals(),
        Directory: directories(),
    }
