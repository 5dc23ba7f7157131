"""The policy: roles and grants compiled once, decisions, views and collection filters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from itsm_core.errors import ConfigurationError, InvalidValueError, PermissionDenied, Problem
from itsm_core.permissions._engine import (
    CompiledGrant,
    CompiledPolicy,
    DecisionContext,
    Destinations,
    Facts,
    check_hierarchy,
    check_roles,
    facts_of,
    flatten_role,
    permission_failure,
    relations_hold,
)
from itsm_core.permissions._model import (
    DEFAULT_RESTRICTED_FIELDS,
    Directory,
    Grant,
    Permission,
    Principal,
    Role,
    directory_or_empty,
    pattern_problem,
)
from itsm_core.permissions._predicate import Predicate, p_and, p_not, p_or
from itsm_core.permissions._query import (
    permission_predicate,
    relations_predicate,
    scope_predicate,
)
from itsm_core.permissions._views import shown_state
from itsm_core.ticket import Assign, OpenTicket, Reassign, Ticket, Transition, Unwatch, Watch

if TYPE_CHECKING:
    from itsm_core.lifecycle import Lifecycle
    from itsm_core.ticket import Event

__all__ = ["DEFAULT_RESTRICTED_FIELDS", "Decision", "Policy", "PolicyAuthorizer", "TicketView"]

_TICKET_FIELDS: tuple[str, ...] = tuple(a.name for a in attrs.fields(Ticket))
_UNRESTRICTABLE = frozenset({"id", "type", "state", "state_category", "version"})


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
    _compiled: CompiledPolicy = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        for field in ("roles", "grants", "hierarchy", "restricted_fields"):
            if not isinstance(getattr(self, field), tuple):
                problems.append(Problem(field, f"expected a list, got {getattr(self, field)!r}"))
        if problems:
            raise ConfigurationError(problems)
        role_problems, by_name = check_roles(self.roles)
        problems += role_problems
        for index, grant in enumerate(self.grants):
            if not isinstance(grant, Grant):
                problems.append(Problem(f"grants[{index}]", f"expected a Grant, got {grant!r}"))
            elif grant.role not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                problems.append(
                    Problem(f"grants[{index}].role", f"unknown role {grant.role!r}; known: {known}")
                )
        problems += check_hierarchy(self.hierarchy)
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
        object.__setattr__(
            self,
            "_compiled",
            CompiledPolicy(self.grants, self.hierarchy, self.restricted_fields, by_name),
        )

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
        return flatten_role(by_name, role)

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
        directory = directory_or_empty(directory)
        who = _principal(principal, directory)
        _action(action)
        facts = facts_of(ticket)
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
        facts: Facts | Ticket | None,
        directory: Directory,
        amount: int | None,
        destinations: Destinations,
        *,
        explain: bool,
        every_deny: bool = False,
    ) -> Decision:
        """The decision for the first of ``actions`` that is allowed (the first one if none).

        ``actions[0]`` is the action itself, the others narrower alternatives
        (``take`` for ``assign``): an explicit deny of the action itself wins
        over every allow of an alternative; with ``every_deny`` (the command
        is one each alternative names), an explicit deny of any of them does.
        """
        compiled = self._compiled
        memberships, relevant = compiled.subject(who)
        ctx = DecisionContext(who, memberships, facts, directory)
        misses: list[str] = []
        first_denial: Decision | None = None
        relevant_set = relevant
        granted: Decision | None = None
        for position, action in enumerate(actions):
            rows = compiled.for_action(action) if relevant else ()
            best: tuple[CompiledGrant, Permission, tuple[str, ...]] | None = None
            denied: tuple[CompiledGrant, Permission] | None = None
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
                    and not relations_hold(cg.relations, ctx)
                ):
                    failure = f"it requires the relation {' or '.join(cg.relations)}"
                if failure is not None:
                    if explain:
                        misses.append(f"{cg.label()} does not apply to {action!r}: {failure}")
                    continue
                for permission in permissions:
                    why = permission_failure(
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
                if position == 0 or every_deny:
                    return first_denial
                continue
            if best is not None and granted is None:
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
                granted = Decision(
                    allowed=True,
                    principal=who.id,
                    action=action,
                    grant=cg.grant,
                    grant_index=cg.index,
                    permission=permission,
                    obligations=obligations,
                    reasons=tuple(reasons),
                )
                if not every_deny:
                    return granted
        if granted is not None:
            return granted
        if first_denial is not None:
            return first_denial
        if not misses:
            wanted = " or ".join(repr(a) for a in actions)
            misses.append(f"no grant gives {who.id!r} the action {wanted}")
        return Decision(allowed=False, principal=who.id, action=actions[0], reasons=tuple(misses))

    def _allowed(self, who: Principal, action: str, ticket: Ticket, directory: Directory) -> bool:
        return self._decide(
            who, (action,), facts_of(ticket), directory, None, None, explain=False
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
        directory = directory_or_empty(directory)
        who = _principal(principal, directory)
        _action(action)
        out: list[Ticket] = []
        for index, ticket in enumerate(_iterable(tickets, "tickets")):
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
        directory = directory_or_empty(directory)
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
                permission_predicate(
                    p, who, memberships, directory, action, amount, to_states, cg.deny
                )
                for p in permissions
            ]
            grant_part = p_and(
                scope_predicate(cg, directory),
                relations_predicate(cg.relations, who, memberships, directory),
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
        field); a hidden ``hold_reason`` also turns an on-hold sub-state into
        ``on_hold``. Without ``view`` on the ticket this raises
        :class:`~itsm_core.errors.PermissionDenied`.

        >>> from itsm_core.permissions import default_policy
        >>> from itsm_core.testing import example_ticket
        >>> v = default_policy().view("ann", example_ticket("I-1", requester="ann"))
        >>> v.get("title"), v.hidden
        ('Printer jammed', ('support_line', 'derived_priority', 'priority_override', \
'reassignments', 'approvers'))
        """
        directory = directory_or_empty(directory)
        who = _principal(principal, directory)
        if not isinstance(ticket, Ticket):
            raise InvalidValueError("ticket", ticket, "a Ticket")
        self._decide(
            who, ("view",), facts_of(ticket), directory, None, None, explain=True
        ).enforce()
        hidden = self._hidden_fields(who, ticket, directory)
        fields: list[tuple[str, Any]] = []
        for name in _TICKET_FIELDS:
            if name in hidden:
                continue
            value = getattr(ticket, name)
            if name == "custom_fields":
                value = tuple((k, v) for k, v in value if f"custom:{k}" not in hidden)
            elif name == "state":
                value = shown_state(value, ticket.state_category, hidden)
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

        Internal comments and internal events (escalations, notifications,
        major-incident flags: everything outside the ticket's own events but
        a request the requester made) are left out without ``view.internal``;
        a change of a hidden field (a ``FieldChanged``) is left out; other
        events have their hidden attributes blanked (a hidden ``support_line``
        reads ``None``, a hidden ``approvers`` list reads ``()``), an on-hold
        state reads ``on_hold`` when the ``hold_reason`` is hidden, and the
        ``actor`` reads ``""`` when a hidden people field (``assignee``...)
        names them. Without ``view`` on the
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

        directory = directory_or_empty(directory)
        who = _principal(principal, directory)
        if not isinstance(ticket, Ticket):
            raise InvalidValueError("ticket", ticket, "a Ticket")
        self._decide(
            who, ("view",), facts_of(ticket), directory, None, None, explain=True
        ).enforce()
        hidden = self._hidden_fields(who, ticket, directory)
        internal = self._allowed(who, "view.internal", ticket, directory)
        return redact_events(
            tuple(_iterable(events, "events")), ticket.id, hidden, internal, ticket=ticket
        )

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
        wanted = list(_iterable(actions, "actions"))
        for action in wanted:
            _action(action)
        names = [r.name for r in self.roles] if roles is None else list(_iterable(roles, "roles"))
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


def _iterable(values: Any, field: str) -> Iterable[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise InvalidValueError(field, values, "a list")
    return values


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


# ------------------------------------------------------------------ the lifecycle's authorizer


class PolicyAuthorizer:
    """Decides every lifecycle command with a :class:`Policy` before anything changes.

    Pass it as ``authorizer=`` to :meth:`~itsm_core.lifecycle.Lifecycle.apply`,
    ``may`` and ``available_commands``. The actor's facts come from
    ``directory``; with ``lifecycles``, transition permissions with to-states
    are decided against the states the trigger can reach (a hold goes to the
    sub-state its ``hold_reason`` names).

    Some actions have a narrower alternative for acting on oneself: an
    ``Assign`` to oneself is allowed by ``assign`` or ``take``, a ``Reassign``
    to oneself by ``reassign`` or ``steal``, a ``Watch`` (``Unwatch``) of
    oneself by ``watch`` or ``watch.self`` (``unwatch`` or ``unwatch.self``).
    When only listing (``command=None``), either alternative makes the action
    available. An explicit deny of the action itself wins over every allow of
    its alternative, and a command on oneself is refused by a deny of either.
    A ``ticket`` that is neither a :class:`~itsm_core.ticket.Ticket` nor
    ``None`` is an :class:`~itsm_core.errors.InvalidValueError`, never "no ticket".

    >>> from datetime import datetime, timezone
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.permissions import Grant, default_policy
    >>> from itsm_core.ticket import OpenTicket, SetMajor
    >>> desk = default_lifecycles()
    >>> policy = default_policy([Grant(role="dispatcher", principal="dana")])
    >>> guard = policy.authorizer(lifecycles=desk)
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t, _ = desk.apply(None, OpenTicket(ticket_id="I-1", type="incident", title="VPN",
    ...                   requester="ann"), actor="ann", at=at, authorizer=guard)
    >>> desk.apply(t, SetMajor(reason="all sites"), actor="dana", at=at, authorizer=guard)
    Traceback (most recent call last):
    ...
    itsm_core.errors.PermissionDenied: 'dana' may not 'priority.set_major': no grant gives \
'dana' the action 'priority.set_major'
    """

    __slots__ = ("directory", "lifecycles", "policy")

    def __init__(
        self,
        policy: Policy,
        directory: Directory | None = None,
        *,
        lifecycles: Mapping[str, Lifecycle] | None = None,
    ) -> None:
        if not isinstance(policy, Policy):
            raise InvalidValueError("policy", policy, "a Policy")
        if lifecycles is not None and not isinstance(lifecycles, Mapping):
            raise InvalidValueError("lifecycles", lifecycles, "a mapping of type -> Lifecycle")
        self.policy = policy
        self.directory = directory_or_empty(directory)
        self.lifecycles = lifecycles

    def __repr__(self) -> str:
        return (
            f"PolicyAuthorizer(grants={len(self.policy.grants)}, principals={len(self.directory)})"
        )

    def decide(self, actor: str, action: str, ticket: Ticket | None, command: object) -> Decision:
        """The decision for one command (``command=None``: only asking about ``action``)."""
        if not isinstance(actor, str) or not actor.strip():
            raise InvalidValueError("actor", actor, "a non-empty principal id")
        if not isinstance(action, str) or not action:
            raise InvalidValueError("action", action, "an action name")
        if ticket is not None and not isinstance(ticket, Ticket):
            # Never "no ticket": a scoped deny would be skipped and the request allowed.
            raise InvalidValueError("ticket", ticket, "a Ticket, or None when opening one")
        who = self.directory.get(actor)
        subject = ticket if ticket is not None else command
        facts = facts_of(subject if isinstance(subject, Ticket | OpenTicket) else None)
        actions: tuple[str, ...] = (action,)
        on_oneself = False
        if action == "assign" and (
            command is None or (isinstance(command, Assign) and command.assignee == actor)
        ):
            actions = ("assign", "take")
            on_oneself = command is not None
        elif action == "reassign" and (
            command is None or (isinstance(command, Reassign) and command.assignee == actor)
        ):
            actions = ("reassign", "steal")
            on_oneself = command is not None
        elif action in ("watch", "unwatch") and (
            command is None or (isinstance(command, Watch | Unwatch) and command.watcher == actor)
        ):
            actions = (action, f"{action}.self")
            on_oneself = command is not None
        destinations = self._destinations(action, ticket, command)
        return self.policy._decide(
            who,
            actions,
            facts,
            self.directory,
            None,
            destinations,
            explain=True,
            every_deny=on_oneself,
        )

    def check(self, actor: str, action: str, ticket: Ticket | None, command: object) -> None:
        """Return when allowed; raise :class:`~itsm_core.errors.PermissionDenied` otherwise."""
        decision = self.decide(actor, action, ticket, command)
        if not decision.allowed:
            raise PermissionDenied(principal=actor, action=action, reasons=decision.reasons)

    def _destinations(self, action: str, ticket: Ticket | None, command: object) -> Destinations:
        if self.lifecycles is None or ticket is None or not action.startswith("transition:"):
            return None
        lifecycle = self.lifecycles.get(ticket.type)
        if lifecycle is None:
            return None
        trigger = action[len("transition:") :]
        candidates = lifecycle.transitions_from(ticket.state, trigger)
        hold = command.hold_reason if isinstance(command, Transition) else None
        if hold is not None:
            candidates = tuple(
                c
                for c in candidates
                if all(hold in g.values for g in c.guards if g.kind == "hold_reason")
            )
        return tuple((c.dest, c.dest_category) for c in candidates)
