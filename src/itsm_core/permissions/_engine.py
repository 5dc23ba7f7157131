"""The decision engine: facts about a ticket, compiled grants, and the conditions they test.

Everything here is computed once per policy (:class:`CompiledPolicy`) or once per
question (:class:`DecisionContext`); :class:`~itsm_core.permissions.Policy` is the only
caller.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import attrs

from itsm_core.errors import InvalidValueError, Problem
from itsm_core.permissions._model import (
    ANYONE,
    Directory,
    Grant,
    Permission,
    Principal,
    Role,
    state_matches,
)
from itsm_core.ticket import OpenTicket, Ticket

_CACHE_LIMIT = 4096

#: Destinations of a transition: (state, category or None when unknown); None: unknown.
Destinations = tuple[tuple[str, str | None], ...] | None


# ---------------------------------------------------------------------------- facts


@attrs.frozen
class Facts:
    type: str
    requester: str
    assignee: str | None
    group: str | None
    watchers: tuple[str, ...]
    customer: str | None
    approvers: tuple[str, ...]
    state: str | None
    state_category: str | None


def facts_of(ticket: Ticket | OpenTicket | None) -> Facts | Ticket | None:
    # A ticket has every fact a decision reads; a ticket being opened has some.
    if ticket is None or isinstance(ticket, Ticket):
        return ticket
    if isinstance(ticket, OpenTicket):
        return Facts(
            ticket.type,
            ticket.requester,
            None,
            None,
            (),
            ticket.customer,
            (),
            None,
            None,
        )
    raise InvalidValueError("ticket", ticket, "a Ticket, an OpenTicket (for 'create') or None")


class DecisionContext:
    """One question: who, on which ticket, with which facts about the requester."""

    __slots__ = ("_requester", "directory", "facts", "memberships", "principal")

    def __init__(
        self,
        principal: Principal,
        memberships: frozenset[str],
        facts: Facts | Ticket | None,
        directory: Directory,
    ) -> None:
        self.principal = principal
        self.memberships = memberships
        self.facts = facts
        self.directory = directory
        self._requester: Principal | None = None

    def requester(self) -> Principal:
        if self._requester is None:
            assert self.facts is not None
            self._requester = self.directory.get(self.facts.requester)
        return self._requester

    def tenant(self) -> str | None:
        assert self.facts is not None
        if self.facts.customer is not None:
            return self.facts.customer
        return self.requester().organization

    def relation_holds(self, relation: str) -> bool:
        if relation == ANYONE:
            return True
        facts = self.facts
        if facts is None:
            return False
        me = self.principal
        if relation == "requester":
            return facts.requester == me.id
        if relation == "assignee":
            return facts.assignee == me.id
        if relation == "watcher":
            return me.id in facts.watchers
        if relation == "assignee_group":
            return facts.group is not None and facts.group in self.memberships
        if relation == "approver":
            return me.id in facts.approvers
        if relation == "same_organization":
            return me.organization is not None and self.tenant() == me.organization
        # same_department
        return me.department is not None and self.requester().department == me.department


class CompiledGrant:
    """A grant compiled: its role's flattened permissions and its scope expanded."""

    __slots__ = (
        "deny",
        "departments",
        "grant",
        "groups",
        "index",
        "permissions",
        "relations",
        "tenants",
        "types",
    )

    def __init__(
        self,
        index: int,
        grant: Grant,
        permissions: tuple[Permission, ...],
        expand: Any,
    ) -> None:
        self.index = index
        self.grant = grant
        self.deny = grant.deny
        self.permissions = permissions
        scope = grant.scope
        self.groups: frozenset[str] | None = expand(scope.groups, scope.recursive)
        self.departments: frozenset[str] | None = expand(scope.departments, scope.recursive)
        self.tenants: frozenset[str] | None = expand(scope.tenants, scope.recursive)
        self.types: frozenset[str] | None = frozenset(scope.types) if scope.types else None
        self.relations: tuple[str, ...] | None = (
            None if grant.relations == (ANYONE,) else grant.relations
        )

    def label(self) -> str:
        return f"grant #{self.index} ({self.grant.describe()})"

    def scope_failure(self, ctx: DecisionContext) -> str | None:
        facts = ctx.facts
        if facts is None:
            if self.groups or self.departments or self.tenants or self.types:
                return "it is scoped and there is no ticket"
            return None
        if self.types is not None and facts.type not in self.types:
            return f"ticket type {facts.type!r} is outside its scope"
        if self.groups is not None and facts.group not in self.groups:
            return f"ticket group {facts.group!r} is outside its scope"
        if self.departments is not None:
            department = ctx.requester().department
            if department not in self.departments:
                return f"requester's department {department!r} is outside its scope"
        if self.tenants is not None:
            tenant = ctx.tenant()
            if tenant not in self.tenants:
                return f"ticket's organization {tenant!r} is outside its scope"
        return None


def relations_hold(relations: tuple[str, ...], ctx: DecisionContext) -> bool:
    return any(ctx.relation_holds(r) for r in relations)


def states_verdict(
    patterns: tuple[str, ...], states: Iterable[tuple[str, str | None]], *, every: bool
) -> bool | None:
    """Whether every (or some) state matches one of the patterns; None when unknown."""
    results: list[bool | None] = []
    for state, category in states:
        found: bool | None = False
        for pattern in patterns:
            hit = state_matches(pattern, state, category)
            if hit:
                found = True
                break
            if hit is None:
                found = None
        results.append(found)
    if not results:
        return False
    if every:
        if all(r is True for r in results):
            return True
        return False if any(r is False for r in results) else None
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


def permission_failure(
    permission: Permission,
    ctx: DecisionContext,
    action: str,
    amount: int | None,
    destinations: Destinations,
    *,
    deny: bool,
) -> str | None:
    """Why ``permission`` does not apply (``None``: it applies).

    Allow permissions apply only when every condition is known to hold; deny
    permissions also apply when a destination state is unknown (the cautious
    reading), and ignore amounts (a deny refuses any amount).
    """
    if permission.relations != (ANYONE,) and not relations_hold(permission.relations, ctx):
        return f"it requires the relation {' or '.join(permission.relations)}"
    if permission.from_states or permission.to_states:
        if not action.startswith("transition:"):
            return "its state conditions apply to transitions only"
        facts = ctx.facts
        if permission.from_states:
            if facts is None or facts.state is None:
                return "it requires a ticket in a given state"
            here = ((facts.state, facts.state_category),)
            if not states_verdict(permission.from_states, here, every=True):
                return f"the ticket's state {facts.state!r} is not one of its from-states"
        if permission.to_states:
            if destinations is None:
                if deny:
                    return None
                return "the destination state is unknown (pass to_state or lifecycles)"
            verdict = states_verdict(permission.to_states, destinations, every=not deny)
            if verdict is None and deny:
                return None
            if not verdict:
                reached = ", ".join(s for s, _ in destinations) or "nothing"
                return f"the transition reaches {reached}, not one of its to-states"
    if not deny and permission.limit is not None:
        if amount is None:
            return f"it covers amounts up to {permission.limit} and no amount was given"
        if amount > permission.limit:
            return f"the amount {amount} is above its limit {permission.limit}"
    return None


# ---------------------------------------------------------------------------- policy


def check_roles(roles: tuple[Role, ...]) -> tuple[list[Problem], dict[str, Role]]:
    problems: list[Problem] = []
    by_name: dict[str, Role] = {}
    for index, role in enumerate(roles):
        if not isinstance(role, Role):
            problems.append(Problem(f"roles[{index}]", f"expected a Role, got {role!r}"))
            continue
        if role.name in by_name:
            problems.append(Problem(f"roles[{index}].name", f"duplicate role {role.name!r}"))
            continue
        by_name[role.name] = role
    for index, role in enumerate(roles):
        if not isinstance(role, Role):
            continue
        for j, included in enumerate(role.includes):
            if included not in by_name:
                problems.append(
                    Problem(
                        f"roles[{index}].includes[{j}]",
                        f"unknown role {included!r}; known: {', '.join(sorted(by_name))}",
                    )
                )
    # cycles: depth-first search in definition order, report each cycle once; iterative, so
    # an inclusion chain thousands deep is no RecursionError
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()
    for root in by_name:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            name, j = stack[-1]
            includes = by_name[name].includes
            if j == len(includes):
                stack.pop()
                path.pop()
                state[name] = 2
                continue
            stack[-1] = (name, j + 1)
            included = includes[j]
            if included not in by_name:
                continue
            if state.get(included) == 1:
                cycle = [*path[path.index(included) :], included]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    problems.append(
                        Problem(
                            f"roles[{_role_index(roles, name)}].includes[{j}]",
                            "role inclusion cycle: " + " -> ".join(cycle),
                        )
                    )
            elif included not in state:
                state[included] = 1
                path.append(included)
                stack.append((included, 0))
    return problems, by_name


def _role_index(roles: tuple[Role, ...], name: str) -> int:
    return next(i for i, r in enumerate(roles) if isinstance(r, Role) and r.name == name)


def flatten_role(by_name: dict[str, Role], name: str) -> tuple[Permission, ...]:
    """The permissions of a role and of every role it includes, breadth first, each once."""
    seen: set[str] = set()
    queue = deque([name])
    out: dict[Permission, None] = {}
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        queue.extend(by_name[current].includes)
        out.update(dict.fromkeys(by_name[current].permissions))
    return tuple(out)


def check_hierarchy(hierarchy: tuple[tuple[str, str], ...]) -> list[Problem]:
    problems: list[Problem] = []
    parents: dict[str, str] = {}
    for index, pair in enumerate(hierarchy):
        ok = (
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(x, str) and x and not x.isspace() for x in pair)
        )
        if not ok:
            problems.append(
                Problem(f"hierarchy[{index}]", f"expected a (child, parent) pair, got {pair!r}")
            )
            continue
        child, parent = pair
        if child == parent:
            problems.append(Problem(f"hierarchy[{index}]", f"{child!r} is its own parent"))
        elif child in parents:
            problems.append(
                Problem(
                    f"hierarchy[{index}]",
                    f"{child!r} already has the parent {parents[child]!r}",
                )
            )
        else:
            parents[child] = parent
    # Each unit is walked once (linear, whatever the depth): a walk stops at a unit already
    # known to reach the top, and a cycle is reported once, from its first unit in order.
    done: set[str] = set()
    for child in parents:
        if child in done:
            continue
        walk = [child]
        on_walk = {child: 0}
        current = child
        while current in parents and current not in done:
            current = parents[current]
            if current in on_walk:
                cycle = walk[on_walk[current] :]
                problems.append(Problem("hierarchy", "cycle: " + " -> ".join([*cycle, current])))
                break
            on_walk[current] = len(walk)
            walk.append(current)
        done.update(walk)
    return problems


class CompiledPolicy:
    """Everything a policy precomputes once: flattened roles, indexes, caches."""

    __slots__ = (
        "action_cache",
        "by_group",
        "by_principal",
        "children",
        "everyone",
        "grants",
        "parents",
        "restricted",
        "subject_cache",
    )

    def __init__(
        self,
        grants: tuple[Grant, ...],
        hierarchy: tuple[tuple[str, str], ...],
        restricted_fields: tuple[str, ...],
        by_name: dict[str, Role],
    ) -> None:
        self.parents: dict[str, str] = dict(hierarchy)
        children: dict[str, list[str]] = {}
        for child, parent in hierarchy:
            children.setdefault(parent, []).append(child)
        self.children = children
        # Only the granted roles are flattened: a role nobody holds costs nothing, and a
        # chain of roles thousands deep is walked once per grant, not once per role.
        flat: dict[str, tuple[Permission, ...]] = {}
        for grant in grants:
            if grant.role not in flat:
                flat[grant.role] = flatten_role(by_name, grant.role)
        self.grants = tuple(
            CompiledGrant(i, g, flat[g.role], self.expand) for i, g in enumerate(grants)
        )
        self.by_principal: dict[str, list[int]] = {}
        self.by_group: dict[str, list[int]] = {}
        self.everyone: list[int] = []
        for cg in self.grants:
            g = cg.grant
            if g.group is not None:
                self.by_group.setdefault(g.group, []).append(cg.index)
            elif g.principal == "*":
                self.everyone.append(cg.index)
            else:
                assert g.principal is not None
                self.by_principal.setdefault(g.principal, []).append(cg.index)
        self.restricted = frozenset(restricted_fields)
        self.action_cache: dict[str, tuple[tuple[int, tuple[Permission, ...]], ...]] = {}
        self.subject_cache: dict[tuple[str, tuple[str, ...]], tuple[frozenset[str], frozenset[int]]]
        self.subject_cache = {}

    def expand(self, names: tuple[str, ...], recursive: bool) -> frozenset[str] | None:
        if not names:
            return None
        out = set(names)
        if recursive:
            todo = list(names)
            while todo:
                for child in self.children.get(todo.pop(), ()):
                    if child not in out:
                        out.add(child)
                        todo.append(child)
        return frozenset(out)

    def memberships(self, groups: tuple[str, ...]) -> frozenset[str]:
        out = set(groups)
        for group in groups:
            current = group
            while current in self.parents and self.parents[current] not in out:
                current = self.parents[current]
                out.add(current)
        return frozenset(out)

    def subject(self, principal: Principal) -> tuple[frozenset[str], frozenset[int]]:
        key = (principal.id, principal.groups)
        found = self.subject_cache.get(key)
        if found is not None:
            return found
        memberships = self.memberships(principal.groups)
        indexes = set(self.everyone)
        indexes.update(self.by_principal.get(principal.id, ()))
        for group in memberships:
            indexes.update(self.by_group.get(group, ()))
        found = (memberships, frozenset(indexes))
        if len(self.subject_cache) >= _CACHE_LIMIT:
            self.subject_cache.clear()
        self.subject_cache[key] = found
        return found

    def for_action(self, action: str) -> tuple[tuple[int, tuple[Permission, ...]], ...]:
        found = self.action_cache.get(action)
        if found is not None:
            return found
        rows: list[tuple[int, tuple[Permission, ...]]] = []
        for cg in self.grants:
            matching = tuple(p for p in cg.permissions if p.covers(action))
            if matching:
                rows.append((cg.index, matching))
        found = tuple(rows)
        if len(self.action_cache) >= _CACHE_LIMIT:
            self.action_cache.clear()
        self.action_cache[action] = found
        return found
