"""The policy: roles and grants compiled once, decisions, views and collection filters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from itsm_core.errors import ConfigurationError, InvalidValueError, PermissionDenied, Problem
from itsm_core.permissions._model import (
    ANYONE,
    Directory,
    Grant,
    Permission,
    Principal,
    Role,
    pattern_problem,
    state_matches,
)
from itsm_core.permissions._predicate import (
    FALSE,
    TRUE,
    Predicate,
    p_and,
    p_contains,
    p_eq,
    p_in,
    p_not,
    p_or,
    p_startswith,
)
from itsm_core.ticket import OpenTicket, Ticket

if TYPE_CHECKING:
    from itsm_core.lifecycle import Lifecycle
    from itsm_core.permissions._authorizer import PolicyAuthorizer
    from itsm_core.ticket import Event

__all__ = ["DEFAULT_RESTRICTED_FIELDS", "Decision", "Policy", "TicketView"]

#: Ticket fields a principal sees only with ``view.field:<field>``: the inner
#: workings of the desk, hidden from requesters by default.
DEFAULT_RESTRICTED_FIELDS: tuple[str, ...] = (
    "support_line",
    "derived_priority",
    "priority_override",
    "reassignments",
    "approvers",
)
_TICKET_FIELDS: tuple[str, ...] = tuple(a.name for a in attrs.fields(Ticket))
_UNRESTRICTABLE = frozenset({"id", "type", "state", "state_category", "version"})
_CACHE_LIMIT = 4096
_EMPTY_DIRECTORY = Directory(())

#: Destinations of a transition: (state, category or None when unknown); None: unknown.
Destinations = tuple[tuple[str, str | None], ...] | None


# ---------------------------------------------------------------------------- decisions


@attrs.frozen(kw_only=True)
class Decision:
    """The answer to "may this principal do this action on this ticket?", with its reasons.

    ``grant`` is the grant that decided (the allow grant that matched, or the
    deny grant that refused; ``None`` when nothing matched: deny by default),
    ``permission`` the permission of its role that matched, ``obligations``
    what the host must do when it goes ahead (``"report"`` for a spend above a
    report threshold) and ``reasons`` why, in words.

    >>> d = Decision(allowed=False, principal="ann", action="close",
    ...              reasons=("no grant gives 'ann' the action 'close'",))
    >>> print(d.explain())
    DENIED: 'ann' may not 'close'
      - no grant gives 'ann' the action 'close'
    >>> d.enforce()
    Traceback (most recent call last):
    ...
    itsm_core.errors.PermissionDenied: 'ann' may not 'close': no grant gives 'ann' the action \
'close'
    """

    allowed: bool
    principal: str
    action: str
    grant: Grant | None = None
    grant_index: int | None = None
    permission: Permission | None = None
    obligations: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    def explain(self) -> str:
        """The decision and its reasons as a few lines of text."""
        if self.allowed:
            head = f"ALLOWED: {self.principal!r} may {self.action!r}"
            if self.obligations:
                head += f" with obligations: {', '.join(self.obligations)}"
        else:
            head = f"DENIED: {self.principal!r} may not {self.action!r}"
        return "\n".join([head, *(f"  - {r}" for r in self.reasons)])

    def enforce(self) -> None:
        """Raise :class:`~itsm_core.errors.PermissionDenied` when the decision is a denial."""
        if not self.allowed:
            raise PermissionDenied(
                principal=self.principal, action=self.action, reasons=self.reasons
            )


@attrs.frozen(kw_only=True)
class TicketView:
    """A ticket as one principal may see it: the visible fields and the names of hidden ones.

    ``fields`` maps ticket field names to values, in the ticket's order; a
    hidden custom field is left out of ``custom_fields`` and named
    ``custom:<name>`` in ``hidden``. ``internal`` tells whether the principal
    also sees internal comments.

    >>> v = TicketView(ticket_id="I-1", fields=(("title", "VPN"),), hidden=("support_line",))
    >>> v.get("title"), v.get("support_line", "-"), v.is_hidden("support_line")
    ('VPN', '-', True)
    >>> v.value("support_line")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: field: expected a field visible in this view \
(hidden: support_line), got 'support_line'
    """

    ticket_id: str
    fields: tuple[tuple[str, Any], ...]
    hidden: tuple[str, ...] = ()
    internal: bool = False

    def get(self, name: str, default: Any = None) -> Any:
        """The value of a visible field, ``default`` when hidden or unknown."""
        for key, value in self.fields:
            if key == name:
                return value
        return default

    def value(self, name: str) -> Any:
        """The value of a visible field; a hidden or unknown one is an error."""
        for key, value in self.fields:
            if key == name:
                return value
        hidden = ", ".join(self.hidden) if self.hidden else "nothing"
        raise InvalidValueError("field", name, f"a field visible in this view (hidden: {hidden})")

    def is_hidden(self, name: str) -> bool:
        """Whether the field (or ``custom:<name>``) is hidden from this principal."""
        return name in self.hidden

    def as_dict(self) -> dict[str, Any]:
        """The visible fields as a plain dict."""
        return dict(self.fields)


# ---------------------------------------------------------------------------- facts


@attrs.frozen
class _Facts:
    type: str
    requester: str
    assignee: str | None
    group: str | None
    watchers: tuple[str, ...]
    customer: str | None
    approvers: tuple[str, ...]
    state: str | None
    state_category: str | None


def _facts(ticket: Ticket | OpenTicket | None) -> _Facts | Ticket | None:
    # A ticket has every fact a decision reads; a ticket being opened has some.
    if ticket is None or isinstance(ticket, Ticket):
        return ticket
    if isinstance(ticket, OpenTicket):
        return _Facts(
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


class _Ctx:
    """One question: who, on which ticket, with which facts about the requester."""

    __slots__ = ("_requester", "directory", "facts", "memberships", "principal")

    def __init__(
        self,
        principal: Principal,
        memberships: frozenset[str],
        facts: _Facts | Ticket | None,
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


class _CGrant:
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

    def scope_failure(self, ctx: _Ctx) -> str | None:
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


def _relations_hold(relations: tuple[str, ...], ctx: _Ctx) -> bool:
    return any(ctx.relation_holds(r) for r in relations)


def _states_verdict(
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


def _permission_failure(
    permission: Permission,
    ctx: _Ctx,
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
    if permission.relations != (ANYONE,) and not _relations_hold(permission.relations, ctx):
        return f"it requires the relation {' or '.join(permission.relations)}"
    if permission.from_states or permission.to_states:
        if not action.startswith("transition:"):
            return "its state conditions apply to transitions only"
        facts = ctx.facts
        if permission.from_states:
            if facts is None or facts.state is None:
                return "it requires a ticket in a given state"
            here = ((facts.state, facts.state_category),)
            if not _states_verdict(permission.from_states, here, every=True):
                return f"the ticket's state {facts.state!r} is not one of its from-states"
        if permission.to_states:
            if destinations is None:
                if deny:
                    return None
                return "the destination state is unknown (pass to_state or lifecycles)"
            verdict = _states_verdict(permission.to_states, destinations, every=not deny)
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


def _role_problems(roles: tuple[Role, ...]) -> tuple[list[Problem], dict[str, Role]]:
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
    # cycles: depth-first search in definition order, report each cycle once
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for j, included in enumerate(by_name[name].includes):
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
                visit(included, path)
        path.pop()
        state[name] = 2

    for name in by_name:
        if name not in state:
            visit(name, [])
    return problems, by_name


def _role_index(roles: tuple[Role, ...], name: str) -> int:
    return next(i for i, r in enumerate(roles) if isinstance(r, Role) and r.name == name)


def _flatten(by_name: dict[str, Role], name: str) -> tuple[Permission, ...]:
    seen: set[str] = set()
    out: list[Permission] = []
    stack = [name]
    order: list[str] = []
    while stack:
        current = stack.pop(0)
        if current in seen:
            continue
        seen.add(current)
        order.append(current)
        stack.extend(by_name[current].includes)
    for role_name in order:
        for permission in by_name[role_name].permissions:
            if permission not in out:
                out.append(permission)
    return tuple(out)


def _hierarchy_problems(hierarchy: tuple[tuple[str, str], ...]) -> list[Problem]:
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
    for child in parents:
        seen = [child]
        current = child
        while current in parents:
            current = parents[current]
            if current in seen:
                if current == child:
                    problems.append(Problem("hierarchy", "cycle: " + " -> ".join([*seen, current])))
                break
            seen.append(current)
    return problems


def _hierarchy_converter(value: object) -> object:
    # Canonical order (sorted), so equal hierarchies compare equal whatever their source order.
    if isinstance(value, Mapping):
        value = list(value.items())
    if isinstance(value, list | tuple):
        pairs = [tuple(p) if isinstance(p, list | tuple) else p for p in value]
        return tuple(sorted(pairs, key=repr))
    return value


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class _Compiled:
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

    def __init__(self, policy: Policy, by_name: dict[str, Role]) -> None:
        self.parents: dict[str, str] = dict(policy.hierarchy)
        children: dict[str, list[str]] = {}
        for child, parent in policy.hierarchy:
            children.setdefault(parent, []).append(child)
        self.children = children
        flat = {name: _flatten(by_name, name) for name in by_name}
        self.grants = tuple(
            _CGrant(i, g, flat[g.role], self.expand) for i, g in enumerate(policy.grants)
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
        self.restricted = frozenset(policy.restricted_fields)
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


@attrs.frozen(kw_only=True)
class Policy:
    """Roles and grants: who may do what to which ticket. Deny by default.

    A policy is data (``to_dict``/``from_dict`` round trip through plain,
    JSON-shaped dicts) checked once when built: unknown roles, inclusion
    cycles, bad hierarchies and restricted fields that do not exist are
    reported together in one :class:`~itsm_core.errors.ConfigurationError`.

    Deciding (:meth:`authorize`): the grants given to the principal (by id,
    to everyone, or to a group it belongs to, directly or through a
    sub-group) whose role has a permission covering the action are
    considered; a grant applies when the ticket is in its scope and its and
    the permission's relation and state conditions hold. Any applying deny
    grant refuses; otherwise the first applying allow grant allows (one
    without obligations preferred); otherwise the answer is no.

    >>> from itsm_core.permissions import Grant, Permission, Role
    >>> policy = Policy(
    ...     roles=(Role(name="reader", permissions=(Permission(action="view"),)),),
    ...     grants=(Grant(role="reader", principal="ann"),),
    ... )
    >>> policy.authorize("ann", "view").allowed, policy.authorize("bob", "view").allowed
    (True, False)
    >>> Policy(roles=(Role(name="a", includes=("b",)), Role(name="b", includes=("a",))))
    Traceback (most recent call last):
    ...
    itsm_core.errors.ConfigurationError: 1 problem in the configuration:
      roles[1].includes[0]: role inclusion cycle: a -> b -> a
    """

    roles: tuple[Role, ...] = attrs.field(default=(), converter=_tuple)
    grants: tuple[Grant, ...] = attrs.field(default=(), converter=_tuple)
    hierarchy: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_hierarchy_converter)
    restricted_fields: tuple[str, ...] = attrs.field(
        default=DEFAULT_RESTRICTED_FIELDS, converter=_tuple
    )
    _compiled: _Compiled = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        for field in ("roles", "grants", "hierarchy", "restricted_fields"):
            if not isinstance(getattr(self, field), tuple):
                problems.append(Problem(field, f"expected a list, got {getattr(self, field)!r}"))
        if problems:
            raise ConfigurationError(problems)
        role_problems, by_name = _role_problems(self.roles)
        problems += role_problems
        for index, grant in enumerate(self.grants):
            if not isinstance(grant, Grant):
                problems.append(Problem(f"grants[{index}]", f"expected a Grant, got {grant!r}"))
            elif grant.role not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                problems.append(
                    Problem(f"grants[{index}].role", f"unknown role {grant.role!r}; known: {known}")
                )
        problems += _hierarchy_problems(self.hierarchy)
        for index, name in enumerate(self.restricted_fields):
            if not isinstance(name, str) or not _restrictable(name):
                problems.append(
                    Problem(
                        f"restricted_fields[{index}]",
                        f"expected a ticket field (not id, type or state), 'custom:<name>' "
                        f"or 'custom:*', got {name!r}",
                    )
                )
        if problems:
            raise ConfigurationError(problems)
        object.__setattr__(self, "_compiled", _Compiled(self, by_name))

    # -- building ------------------------------------------------------------

    def role(self, name: str) -> Role:
        """The role called ``name``.

        >>> Policy().role("nobody")
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: role: expected one of the policy's roles (none), \
got 'nobody'
        """
        for role in self.roles:
            if role.name == name:
                return role
        known = ", ".join(r.name for r in self.roles) or "none"
        raise InvalidValueError("role", name, f"one of the policy's roles ({known})")

    def permissions_of(self, role: str) -> tuple[Permission, ...]:
        """Every permission of a role, its included roles' too, without duplicates."""
        self.role(role)
        for cg in self._compiled.grants:
            if cg.grant.role == role:
                return cg.permissions
        by_name = {r.name: r for r in self.roles}
        return _flatten(by_name, role)

    def with_grants(self, *grants: Grant) -> Policy:
        """A copy with more grants appended (checked like any policy).

        >>> Policy().with_grants(Grant(role="ghost", principal="ann"))
        Traceback (most recent call last):
        ...
        itsm_core.errors.ConfigurationError: 1 problem in the configuration:
          grants[0].role: unknown role 'ghost'; known: none
        """
        return attrs.evolve(self, grants=(*self.grants, *grants))

    def with_roles(self, *roles: Role) -> Policy:
        """A copy with more roles appended (checked like any policy)."""
        return attrs.evolve(self, roles=(*self.roles, *roles))

    # -- deciding ------------------------------------------------------------

    def authorize(
        self,
        principal: Principal | str,
        action: str,
        ticket: Ticket | OpenTicket | None = None,
        *,
        directory: Directory | None = None,
        amount: int | None = None,
        to_state: str | None = None,
        lifecycles: Mapping[str, Lifecycle] | None = None,
    ) -> Decision:
        """Decide whether ``principal`` may perform ``action`` on ``ticket``.

        ``principal`` is a :class:`Principal` or an id looked up in
        ``directory`` (which also supplies the requester's department and
        organization). ``ticket`` is the ticket acted on, an
        :class:`~itsm_core.ticket.OpenTicket` for ``create``, or ``None``
        when there is no ticket (then only unscoped grants without relation
        conditions count). ``amount`` is the amount of a ``spend``.
        For a ``transition:<trigger>``, the destination comes from
        ``to_state`` or, given ``lifecycles``, from the ticket's lifecycle
        (every candidate destination must be allowed; a deny needs only one).

        >>> from itsm_core.permissions import default_policy
        >>> from itsm_core.testing import example_ticket
        >>> policy = default_policy((Grant(role="service_engineer", principal="sam"),))
        >>> fix = example_ticket("I-3", assignee="sam")
        >>> policy.authorize("sam", "spend", fix, amount=300).obligations
        ()
        >>> d = policy.authorize("sam", "spend", fix, amount=800)
        >>> d.allowed, d.obligations
        (True, ('report',))
        >>> print(policy.authorize("sam", "priority.set_major").explain())
        DENIED: 'sam' may not 'priority.set_major'
          - no grant gives 'sam' the action 'priority.set_major'
        """
        directory = _directory(directory)
        who = _principal(principal, directory)
        _action(action)
        facts = _facts(ticket)
        if amount is not None and (
            not isinstance(amount, int) or isinstance(amount, bool) or amount < 0
        ):
            raise InvalidValueError("amount", amount, "a non-negative integer")
        destinations = _destinations(action, ticket, to_state, lifecycles)
        return self._decide(who, (action,), facts, directory, amount, destinations, explain=True)

    def check(
        self,
        principal: Principal | str,
        action: str,
        ticket: Ticket | OpenTicket | None = None,
        **options: Any,
    ) -> Decision:
        """:meth:`authorize`, raising :class:`~itsm_core.errors.PermissionDenied` on a denial.

        >>> Policy().check("ann", "view")
        Traceback (most recent call last):
        ...
        itsm_core.errors.PermissionDenied: 'ann' may not 'view': no grant gives 'ann' \
the action 'view'
        """
        decision = self.authorize(principal, action, ticket, **options)
        decision.enforce()
        return decision

    def _decide(
        self,
        who: Principal,
        actions: tuple[str, ...],
        facts: _Facts | Ticket | None,
        directory: Directory,
        amount: int | None,
        destinations: Destinations,
        *,
        explain: bool,
    ) -> Decision:
        """The decision for the first of ``actions`` that is allowed (the first one if none)."""
        compiled = self._compiled
        memberships, relevant = compiled.subject(who)
        ctx = _Ctx(who, memberships, facts, directory)
        misses: list[str] = []
        first_denial: Decision | None = None
        relevant_set = relevant
        for action in actions:
            rows = compiled.for_action(action) if relevant else ()
            best: tuple[_CGrant, Permission, tuple[str, ...]] | None = None
            denied: tuple[_CGrant, Permission] | None = None
            for index, permissions in rows:
                if index not in relevant_set:
                    continue
                cg = compiled.grants[index]
                if best is not None and not best[2] and not cg.deny:
                    continue
                failure = cg.scope_failure(ctx)
                if (
                    failure is None
                    and cg.relations is not None
                    and not _relations_hold(cg.relations, ctx)
                ):
                    failure = f"it requires the relation {' or '.join(cg.relations)}"
                if failure is not None:
                    if explain:
                        misses.append(f"{cg.label()} does not apply to {action!r}: {failure}")
                    continue
                for permission in permissions:
                    why = _permission_failure(
                        permission, ctx, action, amount, destinations, deny=cg.deny
                    )
                    if why is not None:
                        if explain:
                            misses.append(
                                f"{cg.label()} does not apply to {action!r}: "
                                f"{permission.describe()}: {why}"
                            )
                        continue
                    if cg.deny:
                        denied = (cg, permission)
                    else:
                        obligations = _obligations(permission, amount)
                        if best is None or (best[2] and not obligations):
                            best = (cg, permission, obligations)
                    break
                if denied is not None:
                    break
            if denied is not None:
                if first_denial is None:
                    cg, permission = denied
                    first_denial = Decision(
                        allowed=False,
                        principal=who.id,
                        action=action,
                        grant=cg.grant,
                        grant_index=cg.index,
                        permission=permission,
                        reasons=(f"explicitly denied by {cg.label()}: {permission.describe()}",),
                    )
                continue
            if best is not None:
                cg, permission, obligations = best
                reasons: list[str] = []
                if explain:
                    reasons.append(f"allowed by {cg.label()}: {permission.describe()}")
                if explain and obligations:
                    reasons.append(
                        f"the amount {amount} is above {permission.report_above}: a report "
                        "is required"
                        if amount is not None
                        else "no amount was given: a report is required"
                    )
                return Decision(
                    allowed=True,
                    principal=who.id,
                    action=action,
                    grant=cg.grant,
                    grant_index=cg.index,
                    permission=permission,
                    obligations=obligations,
                    reasons=tuple(reasons),
                )
        if first_denial is not None:
            return first_denial
        if not misses:
            wanted = " or ".join(repr(a) for a in actions)
            misses.append(f"no grant gives {who.id!r} the action {wanted}")
        return Decision(allowed=False, principal=who.id, action=actions[0], reasons=tuple(misses))

    def _allowed(self, who: Principal, action: str, ticket: Ticket, directory: Directory) -> bool:
        return self._decide(
            who, (action,), _facts(ticket), directory, None, None, explain=False
        ).allowed

    def authorizer(
        self,
        directory: Directory | None = None,
        *,
        lifecycles: Mapping[str, Lifecycle] | None = None,
    ) -> PolicyAuthorizer:
        """The lifecycle :class:`~itsm_core.lifecycle.Authorizer` that enforces this policy.

        >>> from itsm_core.lifecycle import Authorizer
        >>> isinstance(Policy().authorizer(), Authorizer)
        True
        """
        from itsm_core.permissions._authorizer import PolicyAuthorizer

        return PolicyAuthorizer(self, directory, lifecycles=lifecycles)

    # -- seeing --------------------------------------------------------------

    def visible(
        self,
        principal: Principal | str,
        tickets: Iterable[Ticket],
        *,
        directory: Directory | None = None,
        action: str = "view",
    ) -> tuple[Ticket, ...]:
        """The tickets ``principal`` may ``view`` (or another ``action``), in their order.

        The same rule as :meth:`predicate`, evaluated ticket by ticket.

        >>> from itsm_core.permissions import default_policy
        >>> from itsm_core.testing import example_ticket
        >>> mine, theirs = example_ticket("I-1", requester="ann"), example_ticket("I-2")
        >>> [t.id for t in default_policy().visible("ann", [mine, theirs])]
        ['I-1']
        """
        directory = _directory(directory)
        who = _principal(principal, directory)
        _action(action)
        out: list[Ticket] = []
        for index, ticket in enumerate(tickets):
            if not isinstance(ticket, Ticket):
                raise InvalidValueError(f"tickets[{index}]", ticket, "a Ticket")
            if self._allowed(who, action, ticket, directory):
                out.append(ticket)
        return tuple(out)

    def predicate(
        self,
        principal: Principal | str,
        *,
        directory: Directory | None = None,
        action: str = "view",
        amount: int | None = None,
        to_state: str | None = None,
    ) -> Predicate:
        """The rule of :meth:`visible` as plain data a host translates into its own query.

        The predicate (see :func:`evaluate_predicate` for its forms) holds for
        exactly the tickets the principal may ``action``: facts from the
        directory are folded in as lists of ids (``requester in [...]`` for a
        department scope), so the host's query needs no join with its
        directory. It is ``{"or": []}`` (nothing) for a principal without
        grants and ``{"and": []}`` (everything) for an unconditional one.

        >>> from itsm_core.permissions import default_policy
        >>> default_policy().predicate("ann")
        {'or': [{'field': 'requester', 'eq': 'ann'}, {'field': 'watchers', 'contains': 'ann'}]}
        """
        directory = _directory(directory)
        who = _principal(principal, directory)
        _action(action)
        compiled = self._compiled
        memberships, relevant = compiled.subject(who)
        relevant_set = relevant
        allow: list[Predicate] = []
        deny: list[Predicate] = []
        to_states: Destinations = None if to_state is None else ((to_state, None),)
        for index, permissions in compiled.for_action(action):
            if index not in relevant_set:
                continue
            cg = compiled.grants[index]
            alternatives = [
                _permission_predicate(
                    p, who, memberships, directory, action, amount, to_states, cg.deny
                )
                for p in permissions
            ]
            grant_part = p_and(
                _scope_predicate(cg, directory),
                _relations_predicate(cg.relations, who, memberships, directory),
                p_or(*alternatives),
            )
            (deny if cg.deny else allow).append(grant_part)
        return p_and(p_or(*allow), p_not(p_or(*deny)))

    def view(
        self,
        principal: Principal | str,
        ticket: Ticket,
        *,
        directory: Directory | None = None,
    ) -> TicketView:
        """The ticket as ``principal`` may see it; restricted fields they may not see are hidden.

        A field of :attr:`restricted_fields` is shown only with the action
        ``view.field:<field>`` (``view.field:custom:<name>`` for a custom
        field). Without ``view`` on the ticket this raises
        :class:`~itsm_core.errors.PermissionDenied`.

        >>> from itsm_core.permissions import default_policy
        >>> from itsm_core.testing import example_ticket
        >>> v = default_policy().view("ann", example_ticket("I-1", requester="ann"))
        >>> v.get("title"), v.hidden
        ('Printer jammed', ('support_line', 'derived_priority', 'priority_override', \
'reassignments', 'approvers'))
        """
        directory = _directory(directory)
        who = _principal(principal, directory)
        if not isinstance(ticket, Ticket):
            raise InvalidValueError("ticket", ticket, "a Ticket")
        self._decide(who, ("view",), _facts(ticket), directory, None, None, explain=True).enforce()
        hidden = self._hidden_fields(who, ticket, directory)
        fields: list[tuple[str, Any]] = []
        for name in _TICKET_FIELDS:
            if name in hidden:
                continue
            value = getattr(ticket, name)
            if name == "custom_fields":
                value = tuple((k, v) for k, v in value if f"custom:{k}" not in hidden)
            fields.append((name, value))
        return TicketView(
            ticket_id=ticket.id,
            fields=tuple(fields),
            hidden=tuple(h for h in self._hidden_order(ticket) if h in hidden),
            internal=self._allowed(who, "view.internal", ticket, directory),
        )

    def visible_events(
        self,
        principal: Principal | str,
        ticket: Ticket,
        events: Iterable[Event],
        *,
        directory: Directory | None = None,
    ) -> tuple[Event, ...]:
        """The ticket's history as ``principal`` may see it.

        Internal comments are left out without ``view.internal``; a change of a
        hidden field (a ``FieldChanged``) is left out; other events have their
        hidden attributes blanked (a hidden ``support_line`` reads ``None``, a
        hidden ``approvers`` list reads ``()``). Without ``view`` on the
        ticket this raises :class:`~itsm_core.errors.PermissionDenied`.

        >>> from itsm_core.permissions import default_policy
        >>> from itsm_core.testing import example_history
        >>> ticket, events = example_history()
        >>> [type(e).__name__ for e in events]
        ['TicketOpened', 'Assigned', 'StateChanged', 'CommentAdded', 'CommentAdded']
        >>> shown = default_policy().visible_events("alice", ticket, events)
        >>> [type(e).__name__ for e in shown], shown[1].support_line
        (['TicketOpened', 'Assigned', 'StateChanged', 'CommentAdded'], None)
        """
        from itsm_core.permissions._views import redact_events

        directory = _directory(directory)
        who = _principal(principal, directory)
        if not isinstance(ticket, Ticket):
            raise InvalidValueError("ticket", ticket, "a Ticket")
        self._decide(who, ("view",), _facts(ticket), directory, None, None, explain=True).enforce()
        hidden = self._hidden_fields(who, ticket, directory)
        internal = self._allowed(who, "view.internal", ticket, directory)
        return redact_events(tuple(events), ticket.id, hidden, internal)

    def _hidden_order(self, ticket: Ticket) -> list[str]:
        order = [f for f in _TICKET_FIELDS if f != "custom_fields"]
        order += [f"custom:{k}" for k, _ in ticket.custom_fields]
        ranked = {name: i for i, name in enumerate(self.restricted_fields)}
        return sorted(order, key=lambda f: (ranked.get(f, ranked.get("custom:*", len(ranked))), f))

    def _hidden_fields(
        self, who: Principal, ticket: Ticket, directory: Directory
    ) -> frozenset[str]:
        hidden: set[str] = set()
        restricted = self._compiled.restricted
        candidates = [f for f in _TICKET_FIELDS if f in restricted]
        for key, _ in ticket.custom_fields:
            name = f"custom:{key}"
            if name in restricted or "custom:*" in restricted:
                candidates.append(name)
        for name in candidates:
            if not self._allowed(who, f"view.field:{name}", ticket, directory):
                hidden.add(name)
        return frozenset(hidden)

    # -- presentation ---------------------------------------------------------

    def rights_table(
        self, actions: Iterable[str], roles: Iterable[str] | None = None
    ) -> list[list[str]]:
        """Rows for a table of roles against actions (used by the docs).

        The first row is the header (``role`` and the actions); each cell is
        ``yes``, blank, or the conditions under which the role's permission
        holds (``requester or watcher``, ``report above 500``...).

        >>> from itsm_core.permissions import default_policy
        >>> rows = default_policy().rights_table(["view", "comment.internal"], ["requester"])
        >>> rows
        [['role', 'view', 'comment.internal'], ['requester', 'if requester or watcher', '']]
        """
        wanted = list(actions)
        for action in wanted:
            _action(action)
        names = [r.name for r in self.roles] if roles is None else list(roles)
        rows = [["role", *wanted]]
        for name in names:
            permissions = self.permissions_of(name)
            row = [name]
            for action in wanted:
                found = [p for p in permissions if p.covers(action)]
                if not found:
                    row.append("")
                elif any(not p.conditional for p in found):
                    row.append("yes")
                else:
                    row.append("; ".join(_conditions(p) for p in found))
            rows.append(row)
        return rows

    # -- plain data ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The plain, JSON-shaped form of the policy (defaults left out).

        >>> from itsm_core.permissions import default_policy
        >>> policy = default_policy()
        >>> Policy.from_dict(policy.to_dict()) == policy
        True
        """
        from itsm_core.permissions._dicts import policy_to_dict

        return policy_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Build a policy from its plain form, reporting every problem with its path.

        A permission may be a bare action string; a grant's scope and
        relations may be left out.

        >>> Policy.from_dict({"roles": [{"name": "r", "permissions": ["view", {"act": 1}]}]})
        Traceback (most recent call last):
        ...
        itsm_core.errors.ConfigurationError: 2 problems in the configuration:
          roles[0].permissions[1]: unknown key 'act'; expected action, relations, \
from_states, to_states, limit, report_above
          roles[0].permissions[1].action: missing
        """
        from itsm_core.permissions._dicts import policy_from_dict

        return policy_from_dict(cls, data)


def _restrictable(name: str) -> bool:
    if name.startswith("custom:"):
        rest = name[len("custom:") :]
        return bool(rest) and pattern_problem(rest) is None and ("*" not in rest or rest == "*")
    return name in _TICKET_FIELDS and name not in _UNRESTRICTABLE and name != "custom_fields"


def _conditions(permission: Permission) -> str:
    text = permission.describe()
    start = text.find(" (")
    return text[start + 2 : -1] if start >= 0 else "yes"


def _obligations(permission: Permission, amount: int | None) -> tuple[str, ...]:
    if permission.report_above is None:
        return ()
    if amount is None or amount > permission.report_above:
        return ("report",)
    return ()


def _directory(directory: Directory | None) -> Directory:
    if directory is None:
        return _EMPTY_DIRECTORY
    if not isinstance(directory, Directory):
        raise InvalidValueError("directory", directory, "a Directory or None")
    return directory


def _principal(principal: Principal | str, directory: Directory) -> Principal:
    if isinstance(principal, Principal):
        return principal
    if isinstance(principal, str) and principal.strip():
        return directory.get(principal)
    raise InvalidValueError("principal", principal, "a Principal or a principal id")


def _action(action: object) -> str:
    if not isinstance(action, str) or not action or "*" in action or action != action.strip():
        raise InvalidValueError("action", action, "an action name such as 'view' or 'assign'")
    return action


def _destinations(
    action: str,
    ticket: Ticket | OpenTicket | None,
    to_state: str | None,
    lifecycles: Mapping[str, Lifecycle] | None,
) -> Destinations:
    lifecycle = None
    if lifecycles is not None:
        if not isinstance(lifecycles, Mapping):
            raise InvalidValueError("lifecycles", lifecycles, "a mapping of type -> Lifecycle")
        if isinstance(ticket, Ticket):
            lifecycle = lifecycles.get(ticket.type)
    if to_state is not None:
        if not isinstance(to_state, str) or not to_state:
            raise InvalidValueError("to_state", to_state, "a state name")
        category = lifecycle.category_of(to_state) if lifecycle is not None else None
        return ((to_state, category),)
    if lifecycle is None or not isinstance(ticket, Ticket) or not action.startswith("transition:"):
        return None
    trigger = action[len("transition:") :]
    return tuple(
        (c.dest, c.dest_category) for c in lifecycle.transitions_from(ticket.state, trigger)
    )


# ---------------------------------------------------------------------------- predicates


def _ids_predicate(directory: Directory, field: str, values: Iterable[str]) -> Predicate:
    return p_in("requester", directory.ids_where(field, values))


def _tenant_predicate(tenants: Iterable[str], directory: Directory) -> Predicate:
    wanted = sorted(set(tenants))
    return p_or(
        p_in("customer", wanted),
        p_and(p_eq("customer", None), _ids_predicate(directory, "organization", wanted)),
    )


def _scope_predicate(cg: _CGrant, directory: Directory) -> Predicate:
    parts: list[Predicate] = []
    if cg.types is not None:
        parts.append(p_in("type", sorted(cg.types)))
    if cg.groups is not None:
        parts.append(p_in("group", sorted(cg.groups)))
    if cg.departments is not None:
        parts.append(_ids_predicate(directory, "department", cg.departments))
    if cg.tenants is not None:
        parts.append(_tenant_predicate(cg.tenants, directory))
    return p_and(*parts)


def _relation_predicate(
    relation: str, who: Principal, memberships: frozenset[str], directory: Directory
) -> Predicate:
    if relation == ANYONE:
        return TRUE
    if relation == "requester":
        return p_eq("requester", who.id)
    if relation == "assignee":
        return p_eq("assignee", who.id)
    if relation == "watcher":
        return p_contains("watchers", who.id)
    if relation == "approver":
        return p_contains("approvers", who.id)
    if relation == "assignee_group":
        return p_in("group", sorted(memberships))
    if relation == "same_organization":
        if who.organization is None:
            return FALSE
        return _tenant_predicate((who.organization,), directory)
    if who.department is None:
        return FALSE
    return _ids_predicate(directory, "department", (who.department,))


def _relations_predicate(
    relations: tuple[str, ...] | None,
    who: Principal,
    memberships: frozenset[str],
    directory: Directory,
) -> Predicate:
    if relations is None:
        return TRUE
    return p_or(*(_relation_predicate(r, who, memberships, directory) for r in relations))


def _state_predicate(patterns: tuple[str, ...]) -> Predicate:
    parts: list[Predicate] = []
    for pattern in patterns:
        if pattern.startswith("category:"):
            parts.append(p_eq("state_category", pattern[len("category:") :]))
        elif pattern == "*":
            return TRUE
        elif pattern.endswith("*"):
            parts.append(p_startswith("state", pattern[:-1]))
        else:
            parts.append(p_eq("state", pattern))
    return p_or(*parts)


def _permission_predicate(
    permission: Permission,
    who: Principal,
    memberships: frozenset[str],
    directory: Directory,
    action: str,
    amount: int | None,
    destinations: Destinations,
    deny: bool,
) -> Predicate:
    parts = [
        _relations_predicate(
            None if permission.relations == (ANYONE,) else permission.relations,
            who,
            memberships,
            directory,
        )
    ]
    if permission.from_states or permission.to_states:
        if not action.startswith("transition:"):
            return FALSE
        if permission.from_states:
            parts.append(_state_predicate(permission.from_states))
        if permission.to_states:
            if destinations is None:
                if not deny:
                    return FALSE
            else:
                verdict = _states_verdict(permission.to_states, destinations, every=not deny)
                if not (verdict or (verdict is None and deny)):
                    return FALSE
    if not deny and permission.limit is not None and (amount is None or amount > permission.limit):
        return FALSE
    return p_and(*parts)
