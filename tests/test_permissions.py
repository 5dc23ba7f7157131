"""Role permissions: records, decisions, views, filters, predicates, the lifecycle wiring."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.errors import (
    ConfigurationError,
    InvalidTransition,
    InvalidValueError,
    ItsmError,
    PermissionDenied,
)
from itsm_core.lifecycle import Lifecycle, default_lifecycles, incident
from itsm_core.permissions import (
    ACTIONS,
    DEFAULT_ROLE_NAMES,
    FALSE,
    RELATIONS,
    TABLE_ACTIONS,
    TRUE,
    Decision,
    Directory,
    Grant,
    Permission,
    Policy,
    PolicyAuthorizer,
    Principal,
    Role,
    Scope,
    TicketView,
    default_policy,
    default_roles,
    evaluate_predicate,
    pattern_matches,
)
from itsm_core.testing import (
    PERMISSION_ACTIONS,
    PERMISSION_PEOPLE,
    TICKET_ACTORS,
    directories,
    example_history,
    example_ticket,
    grants,
    permission_policies,
    permission_tickets,
    principals,
    roles,
    ticket_commands,
    ticket_histories,
)
from itsm_core.testing._memo import memoized, sampled
from itsm_core.ticket import (
    AddComment,
    Assign,
    ClearMajor,
    CommentAdded,
    Event,
    FieldChanged,
    OpenTicket,
    OverridePriority,
    PriorityChanged,
    Reassign,
    SetMajor,
    Ticket,
    TicketOpened,
    Transition,
    Unwatch,
    UpdateField,
    Watch,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DESK = default_lifecycles()
STATES = ("new", "assigned", "in_progress", "on_hold.awaiting_vendor", "resolved", "closed")

DIRECTORY = Directory(
    [
        Principal(id="ann", department="sales", organization="acme"),
        Principal(id="bob", department="sales", organization="globex"),
        Principal(id="dana", groups=("service-desk",), department="it"),
        Principal(id="nina", groups=("network.lan",), department="it"),
        Principal(id="omar", groups=("network",), department="it"),
        Principal(id="cato", groups=("contractors",), organization="fixit"),
        Principal(id="sam", groups=("field",), department="it"),
        Principal(id="lea", groups=("leads",), department="it"),
        Principal(id="quinn", department="qa"),
        Principal(id="root", groups=("admins",)),
    ]
)
POLICY = default_policy(
    [
        Grant(role="dispatcher", group="service-desk"),
        Grant(
            role="second_line", group="network", scope=Scope(groups=("network",), recursive=True)
        ),
        Grant(role="contractor", group="contractors"),
        Grant(role="service_engineer", group="field"),
        Grant(role="shift_lead", group="leads"),
        Grant(role="quality_control", principal="quinn"),
        Grant(role="administrator", group="admins"),
    ],
    hierarchy={"network.lan": "network"},
)
GUARD = POLICY.authorizer(DIRECTORY, lifecycles=DESK)


def allowed(
    principal: str, action: str, ticket: Ticket | OpenTicket | None = None, **kw: Any
) -> bool:
    return POLICY.authorize(principal, action, ticket, directory=DIRECTORY, **kw).allowed


def open_incident(requester: str = "ann") -> Ticket:
    ticket, _ = DESK.apply(
        None,
        OpenTicket(ticket_id="INC-1", type="incident", title="VPN down", requester=requester),
        actor=requester,
        at=AT,
        authorizer=GUARD,
    )
    return ticket


def one_role_policy(*permissions: Permission, **grant: Any) -> Policy:
    role = Role(name="r", permissions=permissions)
    return Policy(roles=(role,), grants=(Grant(role="r", **grant),))


# ---------------------------------------------------------------------------
# A slow, obviously-correct reference of the decision rule
# ---------------------------------------------------------------------------


def reference_allowed(
    policy: Policy,
    principal: Principal,
    action: str,
    ticket: Ticket | None,
    directory: Directory,
    amount: int | None = None,
    to_state: str | None = None,
) -> bool:
    """The rule of the guide, read literally: no index, no cache, recursion over roles."""
    roles_by_name = {r.name: r for r in policy.roles}
    parents = dict(policy.hierarchy)

    def role_permissions(name: str, seen: frozenset[str] = frozenset()) -> list[Permission]:
        if name in seen:
            return []
        role = roles_by_name[name]
        found = list(role.permissions)
        for included in role.includes:
            found += role_permissions(included, seen | {name})
        return found

    def ancestors(unit: str) -> set[str]:
        out: set[str] = set()
        while unit in parents and parents[unit] not in out:
            unit = parents[unit]
            out.add(unit)
        return out

    def within(unit: str | None, names: tuple[str, ...], recursive: bool) -> bool:
        if unit is None:
            return False
        return unit in names or (recursive and bool(ancestors(unit) & set(names)))

    member_of = set(principal.groups)
    for group in principal.groups:
        member_of |= ancestors(group)

    def requester() -> Principal:
        assert ticket is not None
        return directory.get(ticket.requester)

    def tenant() -> str | None:
        assert ticket is not None
        customer: str | None = getattr(ticket, "customer", None)
        return customer if customer is not None else requester().organization

    def relation(name: str) -> bool:
        if name == "anyone":
            return True
        if ticket is None:
            return False
        return {
            "requester": ticket.requester == principal.id,
            "watcher": principal.id in getattr(ticket, "watchers", ()),
            "assignee": ticket.assignee == principal.id,
            "assignee_group": ticket.group in member_of,
            "approver": principal.id in ticket.approvers,
            "same_organization": principal.organization is not None
            and tenant() == principal.organization,
            "same_department": principal.department is not None
            and requester().department == principal.department,
        }[name]

    def in_scope(scope: Scope) -> bool:
        if ticket is None:
            return scope == Scope(recursive=scope.recursive)
        return (
            (not scope.types or ticket.type in scope.types)
            and (not scope.groups or within(ticket.group, scope.groups, scope.recursive))
            and (
                not scope.departments
                or within(requester().department, scope.departments, scope.recursive)
            )
            and (not scope.tenants or within(tenant(), scope.tenants, scope.recursive))
        )

    def state_hit(pattern: str, state: str, category: str | None) -> bool | None:
        if pattern.startswith("category:"):
            return None if category is None else category == pattern[9:]
        if pattern.endswith("*"):
            return state.startswith(pattern[:-1])
        return state == pattern

    def applies(p: Permission, deny: bool) -> bool:
        if not pattern_matches(p.action, action):
            return False
        if not any(relation(r) for r in p.relations):
            return False
        if p.from_states or p.to_states:
            if not action.startswith("transition:"):
                return False
            if p.from_states and (
                ticket is None
                or not any(state_hit(s, ticket.state, ticket.state_category) for s in p.from_states)
            ):
                return False
            if p.to_states:
                if to_state is None:
                    if not deny:
                        return False
                else:
                    hits = [state_hit(s, to_state, None) for s in p.to_states]
                    if deny and not any(h is None or h for h in hits):
                        return False
                    if not deny and not any(hits):
                        return False
        return not (not deny and p.limit is not None and (amount is None or amount > p.limit))

    verdict = {"allow": False, "deny": False}
    for grant in policy.grants:
        gets_it = (
            grant.principal in ("*", principal.id)
            if grant.group is None
            else grant.group in member_of
        )
        if not gets_it or not in_scope(grant.scope):
            continue
        if not any(relation(r) for r in grant.relations):
            continue
        if any(applies(p, grant.deny) for p in role_permissions(grant.role)):
            verdict[grant.effect] = True
    return verdict["allow"] and not verdict["deny"]


# ---------------------------------------------------------------------------
# Records and their validation
# ---------------------------------------------------------------------------


def test_every_default_role_action_is_a_documented_action_or_pattern() -> None:
    documented = {a.split("<")[0] for a in ACTIONS}
    for role in default_roles():
        for permission in role.permissions:
            stem = permission.action.rstrip("*")
            assert permission.action == "*" or any(
                d.startswith(stem) or stem.startswith(d) for d in documented
            ), permission


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": ""}, "permission.action"),
        ({"action": "a*b"}, "permission.action"),
        ({"action": "view all"}, "permission.action"),
        ({"action": 3}, "permission.action"),
        ({"action": "view", "relations": ()}, "permission.relations"),
        ({"action": "view", "relations": ("friend",)}, "permission.relations[0]"),
        ({"action": "view", "relations": "requester"}, "permission.relations"),
        ({"action": "view", "from_states": ("new",)}, "permission.from_states"),
        ({"action": "transition:*", "to_states": ("a b",)}, "permission.to_states"),
        ({"action": "transition:*", "to_states": ("",)}, "permission.to_states[0]"),
        ({"action": "transition:*", "to_states": "new"}, "permission.to_states"),
        ({"action": "spend", "limit": -1}, "permission.limit"),
        ({"action": "spend", "report_above": True}, "permission.report_above"),
        ({"action": "spend", "limit": 2.5}, "permission.limit"),
    ],
)
def test_a_bad_permission_is_an_error_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        Permission(**kwargs)
    assert caught.value.field == field
    assert isinstance(caught.value, ItsmError)


def test_state_conditions_are_allowed_on_every_pattern_that_may_be_a_transition() -> None:
    for action in ("*", "transition:*", "transition:resolve", "trans*"):
        assert Permission(action=action, to_states=("resolved",)).may_be_transition
    assert not Permission(action="view").may_be_transition


@pytest.mark.parametrize(
    ("factory", "kwargs", "field"),
    [
        (Role, {"name": "a b"}, "role.name"),
        (Role, {"name": "r", "permissions": ("view",)}, "role.permissions[0]"),
        (Role, {"name": "r", "permissions": 3}, "role.permissions"),
        (Role, {"name": "r", "includes": ("x y",)}, "role.includes[0]"),
        (Role, {"name": "r", "includes": "other"}, "role.includes"),
        (Role, {"name": "r", "description": 3}, "role.description"),
        (Scope, {"groups": (1,)}, "scope.groups[0]"),
        (Scope, {"recursive": "yes"}, "scope.recursive"),
        (Grant, {"role": "r"}, "grant"),
        (Grant, {"role": "r", "principal": ""}, "grant.principal"),
        (Grant, {"role": "r", "group": "a b"}, "grant.group"),
        (Grant, {"role": "", "principal": "ann"}, "grant.role"),
        (Grant, {"role": "r", "principal": "ann", "scope": "desk"}, "grant.scope"),
        (Grant, {"role": "r", "principal": "ann", "relations": ("boss",)}, "grant.relations[0]"),
        (Grant, {"role": "r", "principal": "ann", "effect": "maybe"}, "grant.effect"),
        (Grant, {"role": "r", "principal": "ann", "note": 1}, "grant.note"),
        (Principal, {"id": ""}, "principal.id"),
        (Principal, {"id": "a", "groups": ("",)}, "principal.groups[0]"),
        (Principal, {"id": "a", "department": " "}, "principal.department"),
        (Principal, {"id": "a", "organization": 3}, "principal.organization"),
    ],
)
def test_a_bad_record_is_an_error_naming_the_field(
    factory: Any, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        factory(**kwargs)
    assert caught.value.field == field


def test_a_directory_rejects_duplicates_and_strangers_and_knows_its_members() -> None:
    with pytest.raises(InvalidValueError, match=r"directory.principals\[1\].id"):
        Directory([Principal(id="a"), Principal(id="a")])
    with pytest.raises(InvalidValueError, match=r"directory.principals\[0\]"):
        Directory(["a"])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match=r"directory\.principals"):
        Directory("ann")  # type: ignore[arg-type]
    assert "ann" in DIRECTORY
    assert "zed" not in DIRECTORY
    assert DIRECTORY.get("zed") == Principal(id="zed")
    assert DIRECTORY.ids_where("organization", ["acme", "globex"]) == ("ann", "bob")
    with pytest.raises(InvalidValueError, match="'department' or 'organization'"):
        DIRECTORY.ids_where("groups", ["x"])


def test_a_directory_from_plain_records_reports_the_bad_record() -> None:
    d = Directory.from_records([{"id": "ann", "groups": ["a"], "organization": "acme"}])
    assert d.get("ann") == Principal(id="ann", groups=("a",), organization="acme")
    with pytest.raises(InvalidValueError, match=r"directory\[0\]"):
        Directory.from_records(["ann"])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match="only the keys"):
        Directory.from_records([{"id": "ann", "team": "x"}])


def test_descriptions_read_as_sentences() -> None:
    grant = Grant(
        role="r",
        group="g",
        scope=Scope(departments=("it",), tenants=("acme",), types=("incident",)),
        relations=("requester",),
        effect="deny",
        note="audit",
    )
    assert grant.describe() == (
        "deny role 'r' to group g in departments it and in tenants acme and in types incident"
        " if requester (audit)"
    )
    assert grant.subject == "group g"
    assert Grant(role="r", principal="ann").subject == "principal ann"
    permission = Permission(
        action="transition:*", from_states=("new",), to_states=("resolved",), limit=5
    )
    assert permission.describe() == "transition:* (from new; to resolved; up to 5)"


# ---------------------------------------------------------------------------
# Building a policy
# ---------------------------------------------------------------------------


def problems_of(**kwargs: Any) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        Policy(**kwargs)
    return [str(p) for p in caught.value.problems]


def test_a_policy_reports_every_problem_at_once() -> None:
    found = problems_of(
        roles=(
            Role(name="a", includes=("ghost",)),
            Role(name="a"),
            "b",
        ),
        grants=(Grant(role="nobody", principal="x"), "g"),
        hierarchy=(("x", "x"), ("y", "p"), ("y", "q"), ("bad",)),
        restricted_fields=("id", "custom:", "custom:a*", "colour", "custom_fields"),
    )
    assert found == [
        "roles[1].name: duplicate role 'a'",
        "roles[2]: expected a Role, got 'b'",
        "roles[0].includes[0]: unknown role 'ghost'; known: a",
        "grants[0].role: unknown role 'nobody'; known: a",
        "grants[1]: expected a Grant, got 'g'",
        "hierarchy[0]: expected a (child, parent) pair, got ('bad',)",
        "hierarchy[1]: 'x' is its own parent",
        "hierarchy[3]: 'y' already has the parent 'p'",
        *(
            f"restricted_fields[{i}]: expected a ticket field (not id, type or state), "
            f"'custom:<name>' or 'custom:*', got {name!r}"
            for i, name in enumerate(("id", "custom:", "custom:a*", "colour", "custom_fields"))
        ),
    ]


def test_role_inclusion_cycles_and_hierarchy_cycles_are_named() -> None:
    assert problems_of(roles=(Role(name="a", includes=("a",)),)) == [
        "roles[0].includes[0]: role inclusion cycle: a -> a"
    ]
    assert problems_of(
        roles=(
            Role(name="a", includes=("b",)),
            Role(name="b", includes=("c",)),
            Role(name="c", includes=("a",)),
        )
    ) == ["roles[2].includes[0]: role inclusion cycle: a -> b -> c -> a"]
    assert problems_of(hierarchy={"a": "b", "b": "a"}) == ["hierarchy: cycle: a -> b -> a"]
    assert problems_of(hierarchy={"x": "a", "a": "b", "b": "a", "c": "c2", "c2": "c"}) == [
        "hierarchy: cycle: a -> b -> a",
        "hierarchy: cycle: c -> c2 -> c",
    ]


def test_a_bad_role_entry_hides_none_of_the_roles_after_it() -> None:
    assert problems_of(
        roles=(
            "junk",
            Role(name="a"),
            Role(name="a"),
            Role(name="b"),
            Role(name="c", includes=("a", "b", "ghost")),
        )
    ) == [
        "roles[0]: expected a Role, got 'junk'",
        "roles[2].name: duplicate role 'a'",
        "roles[4].includes[2]: unknown role 'ghost'; known: a, b, c",
    ]


def test_an_unknown_included_role_hides_no_cycle_and_names_every_known_role() -> None:
    assert problems_of(
        roles=(Role(name="a", includes=("ghost", "b")), Role(name="b", includes=("a",)))
    ) == [
        "roles[0].includes[0]: unknown role 'ghost'; known: a, b",
        "roles[1].includes[0]: role inclusion cycle: a -> b -> a",
    ]


def test_each_role_inclusion_cycle_is_reported_once() -> None:
    assert problems_of(
        roles=(
            Role(name="a", includes=("b",)),
            Role(name="b", includes=("a",)),
            Role(name="c", includes=("c", "c")),
        )
    ) == [
        "roles[1].includes[0]: role inclusion cycle: a -> b -> a",
        "roles[2].includes[0]: role inclusion cycle: c -> c",
    ]


def test_a_hierarchy_pair_with_an_empty_name_is_refused() -> None:
    assert problems_of(hierarchy=(("", "network"),)) == [
        "hierarchy[0]: expected a (child, parent) pair, got ('', 'network')"
    ]


def test_a_role_included_twice_hides_none_of_the_roles_after_it() -> None:
    policy = Policy(
        roles=(
            Role(name="a"),
            Role(name="b", permissions=(Permission(action="view"),)),
            Role(name="top", includes=("a", "a", "b")),
        ),
        grants=(Grant(role="top", principal="ann"),),
    )
    assert policy.authorize("ann", "view", example_ticket()).allowed


def test_a_recursive_scope_reaches_every_level_below_its_unit() -> None:
    policy = Policy(
        roles=(Role(name="r", permissions=(Permission(action="view"),)),),
        grants=(
            Grant(role="r", principal="ann", scope=Scope(groups=("network",), recursive=True)),
        ),
        hierarchy={"network.lan.floor1": "network.lan", "network.lan": "network"},
    )
    deep = example_ticket(group="network.lan.floor1")
    assert policy.authorize("ann", "view", deep).allowed
    assert not policy.authorize("ann", "view", example_ticket(group="sales")).allowed


def test_a_ticket_being_opened_offers_its_type_customer_and_no_watchers() -> None:
    opening = OpenTicket(
        ticket_id="I-1", type="incident", title="t", requester="ann", customer="acme"
    )
    role = Role(name="r", permissions=(Permission(action="create"),))

    def may_create(**grant: Any) -> bool:
        policy = Policy(roles=(role,), grants=(Grant(role="r", principal="bob", **grant),))
        return policy.authorize("bob", "create", opening).allowed

    assert may_create(scope=Scope(types=("incident",)))
    assert not may_create(scope=Scope(types=("problem",)))
    assert may_create(scope=Scope(tenants=("acme",)))
    assert not may_create(relations=("watcher",))
    assert not may_create(relations=("approver",))
    with pytest.raises(InvalidValueError) as caught:
        default_policy().authorize("bob", "view", "INC-1")  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.value, caught.value.expected) == (
        "ticket",
        "INC-1",
        "a Ticket, an OpenTicket (for 'create') or None",
    )


def test_state_conditions_say_why_they_do_not_apply() -> None:
    def reasons(permission: Permission, ticket: Ticket | None, **kwargs: Any) -> str:
        policy = Policy(
            roles=(Role(name="t", permissions=(permission,)),),
            grants=(Grant(role="t", principal="bob"),),
        )
        decision = policy.authorize("bob", "transition:resolve", ticket, **kwargs)
        assert not decision.allowed
        return " ".join(decision.reasons)

    from_new = Permission(action="transition:*", from_states=("new",))
    assert reasons(from_new, None).endswith(": it requires a ticket in a given state")
    to_closed = Permission(action="transition:*", to_states=("closed",))
    assert reasons(to_closed, example_ticket()).endswith(
        ": the destination state is unknown (pass to_state or lifecycles)"
    )
    assert reasons(to_closed, example_ticket(), to_state="resolved").endswith(
        ": the transition reaches resolved, not one of its to-states"
    )


def test_a_policy_needs_lists() -> None:
    assert problems_of(roles="admin") == ["roles: expected a list, got 'admin'"]


def test_roles_include_roles_transitively_without_duplicates() -> None:
    permissions = POLICY.permissions_of("support_manager")
    actions = [p.action for p in permissions]
    assert len(actions) == len(set(permissions))
    for action in ("approval.give", "priority.set_major", "assign", "steal", "take"):
        assert action in actions
    unused = Policy(roles=(Role(name="x", permissions=(Permission(action="view"),)),))
    assert unused.permissions_of("x") == (Permission(action="view"),)
    with pytest.raises(InvalidValueError, match="one of the policy's roles"):
        POLICY.permissions_of("ghost")


def test_with_grants_and_with_roles_build_new_checked_policies() -> None:
    base = Policy(roles=(Role(name="r", permissions=(Permission(action="view"),)),))
    grown = base.with_roles(Role(name="s")).with_grants(Grant(role="s", principal="ann"))
    assert [r.name for r in grown.roles] == ["r", "s"]
    assert base.grants == ()


# ---------------------------------------------------------------------------
# Deciding
# ---------------------------------------------------------------------------


def test_deny_by_default_explains_itself() -> None:
    decision = Policy().authorize("ann", "view", example_ticket())
    assert not decision.allowed
    assert decision.grant is None
    assert decision.reasons == ("no grant gives 'ann' the action 'view'",)
    with pytest.raises(PermissionDenied) as caught:
        decision.enforce()
    assert isinstance(caught.value, PermissionError)
    assert (caught.value.principal, caught.value.action) == ("ann", "view")


def test_an_allowed_decision_names_its_grant_and_permission() -> None:
    ticket = example_ticket(requester="ann")
    decision = POLICY.authorize("ann", "view", ticket, directory=DIRECTORY)
    assert decision.allowed
    assert decision.grant_index == 0
    assert decision.grant == POLICY.grants[0]
    assert decision.permission == Permission(action="view", relations=("requester", "watcher"))
    assert decision.explain().startswith("ALLOWED: 'ann' may 'view'\n  - allowed by grant #0")
    decision.enforce()
    assert POLICY.check("ann", "view", ticket, directory=DIRECTORY) == decision
    with pytest.raises(PermissionDenied, match="requires the relation requester or watcher"):
        POLICY.check("bob", "view", ticket, directory=DIRECTORY)


def test_an_explicit_deny_overrides_every_allow() -> None:
    ticket = example_ticket(requester="ann", group="network")
    policy = POLICY.with_roles(
        Role(name="no_close", permissions=(Permission(action="transition:close"),))
    )
    policy = policy.with_grants(
        Grant(role="no_close", principal="root", effect="deny", note="audit")
    )
    assert allowed("root", "transition:close", ticket)
    decision = policy.authorize("root", "transition:close", ticket, directory=DIRECTORY)
    assert not decision.allowed
    assert decision.grant_index == len(policy.grants) - 1
    assert (
        "explicitly denied by grant #8 (deny role 'no_close' to principal root (audit))"
        in (decision.reasons[0])
    )
    assert policy.authorize("root", "transition:resolve", ticket, directory=DIRECTORY).allowed


def test_wildcards_match_prefixes_only() -> None:
    assert pattern_matches("*", "anything")
    assert pattern_matches("update:*", "update:title")
    assert not pattern_matches("update:*", "update")
    assert not pattern_matches("view", "view.internal")
    policy = one_role_policy(Permission(action="view*"), principal="ann")
    assert policy.authorize("ann", "view.internal").allowed
    assert not policy.authorize("ann", "comment.public").allowed


@pytest.mark.parametrize("action", ["", "view*", " view", 3, None])
def test_an_action_asked_about_must_be_a_name(action: Any) -> None:
    with pytest.raises(InvalidValueError, match="action"):
        POLICY.authorize("ann", action)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"principal": ""}, "principal"),
        ({"principal": 3}, "principal"),
        ({"ticket": "INC-1"}, "ticket"),
        ({"directory": {"ann": {}}}, "directory"),
        ({"amount": -5}, "amount"),
        ({"amount": True}, "amount"),
        ({"to_state": ""}, "to_state"),
        ({"lifecycles": [1]}, "lifecycles"),
    ],
)
def test_bad_questions_are_errors_naming_the_argument(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"principal": "ann", "action": "transition:close"}
    args.update(kwargs)
    principal, action = args.pop("principal"), args.pop("action")
    ticket = args.pop("ticket", example_ticket())
    with pytest.raises(InvalidValueError) as caught:
        POLICY.authorize(principal, action, ticket, **args)
    assert caught.value.field == field


def test_relations_decide_who_may_act_on_which_ticket() -> None:
    ticket = example_ticket(requester="ann", assignee="cato", group="network.lan")
    assert allowed("ann", "view", ticket)
    assert not allowed("bob", "view", ticket)
    assert allowed("cato", "transition:resolve", ticket)
    assert not allowed("cato", "transition:close", ticket)
    assert not allowed("cato", "view", attrs.evolve(ticket, assignee="nina"))
    assert allowed("nina", "transition:resolve", ticket)  # member of the assignee group


def test_every_relation_holds_exactly_when_its_fact_does() -> None:
    people = Directory(
        [
            Principal(id="ann", department="sales", organization="acme"),
            Principal(id="bob", department="sales", organization="acme"),
            Principal(id="cy", department="it", organization="globex", groups=("desk",)),
        ]
    )
    ticket = example_ticket(requester="ann", assignee="cy", group="desk", approvers=("bob",))
    expected = {
        "requester": {"ann"},
        "assignee": {"cy"},
        "assignee_group": {"cy"},
        "approver": {"bob"},
        "same_organization": {"ann", "bob"},
        "same_department": {"ann", "bob"},
        "watcher": set(),
        "anyone": {"ann", "bob", "cy", "zed"},
    }
    assert set(expected) == set(RELATIONS)
    for relation, who in expected.items():
        policy = one_role_policy(Permission(action="view", relations=(relation,)), principal="*")
        holders = {
            p
            for p in ("ann", "bob", "cy", "zed")
            if policy.authorize(p, "view", ticket, directory=people).allowed
        }
        assert holders == who, relation
        by_grant = Policy(
            roles=(Role(name="r", permissions=(Permission(action="view"),)),),
            grants=(Grant(role="r", principal="*", relations=(relation,)),),
        )
        assert {
            p
            for p in ("ann", "bob", "cy", "zed")
            if by_grant.authorize(p, "view", ticket, directory=people).allowed
        } == who


def test_scopes_limit_a_grant_to_groups_departments_tenants_and_types() -> None:
    role = Role(name="r", permissions=(Permission(action="view"),))
    people = Directory(
        [
            Principal(id="ann", department="sales.emea", organization="acme.fr"),
            Principal(id="agent", groups=("desk",)),
        ]
    )
    ticket = example_ticket(requester="ann", group="network.lan")
    hierarchy = {"network.lan": "network", "sales.emea": "sales", "acme.fr": "acme"}

    def sees(scope: Scope) -> bool:
        policy = Policy(
            roles=(role,), grants=(Grant(role="r", group="desk", scope=scope),), hierarchy=hierarchy
        )
        decided = policy.authorize("agent", "view", ticket, directory=people).allowed
        rule = policy.predicate("agent", directory=people)
        assert evaluate_predicate(rule, ticket) == decided
        return decided

    assert sees(Scope(groups=("network.lan",)))
    assert not sees(Scope(groups=("network",)))
    assert sees(Scope(groups=("network",), recursive=True))
    assert sees(Scope(departments=("sales",), recursive=True))
    assert not sees(Scope(departments=("sales",)))
    assert sees(Scope(tenants=("acme.fr",)))
    assert sees(Scope(tenants=("acme",), recursive=True))
    assert sees(Scope(types=("incident",)))
    assert not sees(Scope(types=("problem",)))
    assert not sees(Scope(groups=("network.lan",), types=("problem",)))


def test_members_of_a_sub_group_receive_the_grants_of_its_parent() -> None:
    role = Role(name="r", permissions=(Permission(action="view"),))
    policy = Policy(
        roles=(role,),
        grants=(Grant(role="r", group="network"),),
        hierarchy=(("network.lan", "network"), ("network", "it")),
    )
    ticket = example_ticket()
    assert policy.authorize(Principal(id="n", groups=("network.lan",)), "view", ticket).allowed
    assert not policy.authorize(Principal(id="i", groups=("it",)), "view", ticket).allowed


def test_a_scoped_grant_explains_why_it_did_not_apply() -> None:
    ticket = example_ticket(requester="ann", group="desk", assignee="dana")
    decision = POLICY.authorize("nina", "transition:resolve", ticket, directory=DIRECTORY)
    assert not decision.allowed
    assert any(
        "grant #2 (allow role 'second_line' to group network in groups network (and sub-units))"
        " does not apply to 'transition:resolve': ticket group 'desk' is outside its scope" in r
        for r in decision.reasons
    )
    people = Directory([Principal(id="x", department="it", organization="o")])
    for scope, why in [
        (Scope(departments=("hr",)), "requester's department None is outside its scope"),
        (Scope(tenants=("t",)), "ticket's organization None is outside its scope"),
        (Scope(types=("problem",)), "ticket type 'incident' is outside its scope"),
    ]:
        policy = Policy(
            roles=(Role(name="r", permissions=(Permission(action="view"),)),),
            grants=(Grant(role="r", principal="x", scope=scope),),
        )
        reasons = policy.authorize("x", "view", ticket, directory=people).reasons
        assert reasons[0].endswith(why)
        assert (
            policy.authorize("x", "view").reasons[0].endswith("it is scoped and there is no ticket")
        )


def test_without_a_ticket_only_unconditional_unscoped_grants_count() -> None:
    assert allowed("root", "sla.override")
    assert not allowed("ann", "view")
    assert not allowed("cato", "view")
    deny = POLICY.with_roles(Role(name="x", permissions=(Permission(action="*"),))).with_grants(
        Grant(role="x", group="admins", effect="deny", scope=Scope(groups=("finance",))),
        Grant(role="x", group="admins", effect="deny", relations=("requester",)),
    )
    assert deny.authorize("root", "sla.override", directory=DIRECTORY).allowed


def test_creating_a_ticket_is_judged_on_the_command() -> None:
    own = OpenTicket(ticket_id="I-9", type="incident", title="t", requester="ann")
    for_someone = attrs.evolve(own, requester="bob")
    assert allowed("ann", "create", own)
    assert not allowed("ann", "create", for_someone)
    assert allowed("dana", "create", for_someone)


# ---------------------------------------------------------------------------
# Amounts: a spend up to a limit, a report above a threshold
# ---------------------------------------------------------------------------


def test_a_service_engineer_spends_freely_up_to_500_and_with_a_report_above() -> None:
    fix = example_ticket(assignee="sam")
    small = POLICY.authorize("sam", "spend", fix, directory=DIRECTORY, amount=500)
    assert small.allowed
    assert small.obligations == ()
    large = POLICY.authorize("sam", "spend", fix, directory=DIRECTORY, amount=501)
    assert large.allowed
    assert large.obligations == ("report",)
    assert "the amount 501 is above 500: a report is required" in large.reasons
    assert "ALLOWED: 'sam' may 'spend' with obligations: report" in large.explain()
    unknown = POLICY.authorize("sam", "spend", fix, directory=DIRECTORY)
    assert unknown.obligations == ("report",)
    assert "no amount was given" in unknown.reasons[1]
    assert not allowed("sam", "spend", attrs.evolve(fix, assignee="nina"), amount=10)


def test_a_limit_caps_what_a_permission_covers_and_another_grant_may_cover_more() -> None:
    capped = Role(name="capped", permissions=(Permission(action="spend", limit=100),))
    free = Role(name="free", permissions=(Permission(action="spend", report_above=1000),))
    policy = Policy(
        roles=(capped, free),
        grants=(Grant(role="capped", principal="ann"), Grant(role="free", group="managers")),
    )
    assert policy.authorize("ann", "spend", amount=100).allowed
    over = policy.authorize("ann", "spend", amount=101)
    assert not over.allowed
    assert over.reasons[0].endswith("the amount 101 is above its limit 100")
    missing = policy.authorize("ann", "spend")
    assert missing.reasons[0].endswith("it covers amounts up to 100 and no amount was given")
    manager = Principal(id="mo", groups=("managers",))
    assert policy.authorize(manager, "spend", amount=5000).obligations == ("report",)


def test_the_grant_without_obligations_wins_over_one_with() -> None:
    reporting = Role(name="reporting", permissions=(Permission(action="spend", report_above=0),))
    free = Role(name="free", permissions=(Permission(action="spend"),))
    policy = Policy(
        roles=(reporting, free),
        grants=(Grant(role="reporting", principal="ann"), Grant(role="free", principal="ann")),
    )
    decision = policy.authorize("ann", "spend", amount=10)
    assert decision.obligations == ()
    assert decision.grant_index == 1


def test_a_deny_refuses_any_amount() -> None:
    spend = Role(name="spend", permissions=(Permission(action="spend", limit=10),))
    policy = Policy(
        roles=(spend,),
        grants=(
            Grant(role="spend", principal="ann"),
            Grant(role="spend", principal="ann", effect="deny"),
        ),
    )
    assert not policy.authorize("ann", "spend", amount=50).allowed
    assert policy.authorize("ann", "spend", amount=5).grant_index == 1


# ---------------------------------------------------------------------------
# Transitions with from/to states (Request Tracker's lifecycle rights)
# ---------------------------------------------------------------------------


def transition_policy(*permissions: Permission, deny: tuple[Permission, ...] = ()) -> Policy:
    roles = [Role(name="allow", permissions=permissions)]
    grants = [Grant(role="allow", principal="ann")]
    if deny:
        roles.append(Role(name="deny", permissions=deny))
        grants.append(Grant(role="deny", principal="ann", effect="deny"))
    return Policy(roles=tuple(roles), grants=tuple(grants))


def test_from_and_to_states_restrict_transitions() -> None:
    working = example_ticket(state="in_progress", state_category="active", assignee="ann")
    resolved = attrs.evolve(working, state="resolved", state_category="resolved")
    policy = transition_policy(
        Permission(action="transition:*", from_states=("in_progress", "on_hold.*")),
        Permission(action="transition:*", to_states=("category:closed",)),
    )
    assert policy.authorize("ann", "transition:hold", working).allowed
    assert policy.authorize(
        "ann", "transition:resume", attrs.evolve(working, state="on_hold.awaiting_vendor")
    ).allowed
    decision = policy.authorize("ann", "transition:reopen", resolved, lifecycles=DESK)
    assert not decision.allowed
    assert any("reaches in_progress, not one of its to-states" in r for r in decision.reasons)
    assert policy.authorize("ann", "transition:close", resolved, lifecycles=DESK).allowed
    assert policy.authorize(
        "ann", "transition:close", resolved, to_state="closed", lifecycles=DESK
    ).allowed
    unknown = policy.authorize("ann", "transition:close", resolved)
    assert any("destination state is unknown" in r for r in unknown.reasons)
    assert not policy.authorize("ann", "transition:close", None).allowed
    assert any(
        "requires a ticket in a given state" in r
        for r in policy.authorize("ann", "transition:hold", None).reasons
    )


def test_state_conditions_never_cover_other_actions() -> None:
    policy = transition_policy(Permission(action="*", from_states=("new",)))
    decision = policy.authorize("ann", "view", example_ticket())
    assert not decision.allowed
    assert decision.reasons[0].endswith("its state conditions apply to transitions only")


def test_a_deny_with_to_states_refuses_when_any_destination_matches_or_is_unknown() -> None:
    resolved = example_ticket(state="resolved", state_category="resolved")
    policy = transition_policy(
        Permission(action="transition:*"),
        deny=(Permission(action="transition:*", to_states=("category:closed",)),),
    )
    assert not policy.authorize("ann", "transition:close", resolved, lifecycles=DESK).allowed
    assert policy.authorize("ann", "transition:reopen", resolved, lifecycles=DESK).allowed
    assert not policy.authorize("ann", "transition:reopen", resolved).allowed  # unknown: cautious
    assert not policy.authorize("ann", "transition:reopen", resolved, to_state="closed").allowed
    assert policy.authorize("ann", "transition:nothing", resolved, lifecycles=DESK).allowed


def test_an_allow_with_to_states_needs_every_destination_and_a_known_category() -> None:
    working = example_ticket(state="in_progress", state_category="active")
    policy = transition_policy(
        Permission(action="transition:*", to_states=("on_hold.awaiting_vendor",))
    )
    assert not policy.authorize("ann", "transition:hold", working, lifecycles=DESK).allowed
    guard = policy.authorizer(lifecycles=DESK)
    vendor = Transition(trigger="hold", hold_reason="awaiting_vendor", reason="RMA")
    guard.check("ann", vendor.action, working, vendor)
    with pytest.raises(PermissionDenied):
        guard.check(
            "ann",
            "transition:hold",
            working,
            attrs.evolve(vendor, hold_reason="awaiting_requester"),
        )
    by_category = transition_policy(
        Permission(action="transition:*", to_states=("category:on_hold",))
    )
    assert not by_category.authorize(
        "ann", "transition:hold", working, to_state="on_hold.x"
    ).allowed
    assert by_category.authorize("ann", "transition:hold", working, lifecycles=DESK).allowed
    assert not by_category.authorize("ann", "transition:nothing", working, lifecycles=DESK).allowed


# ---------------------------------------------------------------------------
# Field-level visibility
# ---------------------------------------------------------------------------


def test_a_requester_sees_their_ticket_without_the_restricted_fields() -> None:
    ticket = example_ticket(requester="ann", support_line=2, approvers=("lea",), group="desk")
    view = POLICY.view("ann", ticket, directory=DIRECTORY)
    assert isinstance(view, TicketView)
    assert view.ticket_id == ticket.id
    assert view.hidden == (
        "support_line",
        "derived_priority",
        "priority_override",
        "reassignments",
        "approvers",
    )
    assert not view.internal
    assert view.value("group") == "desk"
    assert "support_line" not in view.as_dict()
    assert view.is_hidden("approvers")
    staff = POLICY.view("dana", ticket, directory=DIRECTORY)
    assert staff.hidden == ()
    assert staff.internal
    assert staff.value("support_line") == 2
    assert staff.as_dict() == attrs.asdict(ticket, recurse=False)
    with pytest.raises(PermissionDenied):
        POLICY.view("bob", ticket, directory=DIRECTORY)
    with pytest.raises(InvalidValueError, match="field"):
        view.value("support_line")
    with pytest.raises(InvalidValueError, match="hidden: nothing"):
        staff.value("colour")
    with pytest.raises(InvalidValueError, match="ticket"):
        POLICY.view("ann", "INC-1")  # type: ignore[arg-type]


def test_custom_fields_can_be_restricted_one_by_one_or_all_together() -> None:
    ticket = example_ticket(
        requester="ann", custom_fields=(("asset", "PC-7"), ("root_cause", "fuser"))
    )
    for restricted, hidden in [
        (("custom:root_cause",), ("custom:root_cause",)),
        (("custom:*",), ("custom:asset", "custom:root_cause")),
        ((), ()),
    ]:
        policy = attrs.evolve(POLICY, restricted_fields=restricted)
        view = policy.view("ann", ticket, directory=DIRECTORY)
        assert view.hidden == hidden
        shown = dict(view.value("custom_fields"))
        assert set(shown) == {"asset", "root_cause"} - {h[7:] for h in hidden}


def test_a_requester_never_sees_internal_comments_nor_hidden_field_values_in_the_history() -> None:
    ticket, events = example_history()
    shown = default_policy().visible_events("alice", ticket, events)
    assert [type(e).__name__ for e in shown] == [
        "TicketOpened",
        "Assigned",
        "StateChanged",
        "CommentAdded",
    ]
    assert all(e.public for e in shown if isinstance(e, CommentAdded))
    staff = POLICY.with_grants(Grant(role="dispatcher", principal="alice"))
    assert staff.visible_events("alice", ticket, events) == events
    with pytest.raises(PermissionDenied):
        default_policy().visible_events("bob", ticket, events)


def test_events_that_only_change_a_hidden_field_are_left_out_and_others_are_blanked() -> None:
    ticket = example_ticket(requester="ann", custom_fields=(("root_cause", "fuser"),))
    common: dict[str, Any] = {"ticket_id": ticket.id, "actor": "dana", "at": AT}
    events: tuple[Event, ...] = (
        FieldChanged(field="root_cause", old=None, new="fuser", custom=True, **common),
        FieldChanged(field="title", old="a", new="b", **common),
        PriorityChanged(
            impact="high", urgency="high", derived="P1", override="P2", effective="P2", **common
        ),
    )
    policy = attrs.evolve(
        POLICY,
        restricted_fields=("custom:root_cause", "derived_priority", "priority_override", "title"),
    )
    shown = policy.visible_events("ann", ticket, events, directory=DIRECTORY)
    assert len(shown) == 1
    priority = shown[0]
    assert isinstance(priority, PriorityChanged)
    assert (priority.derived, priority.override, priority.effective) == (None, None, "P2")


def test_the_blanking_table_covers_majors_links_and_openings() -> None:
    desk_ticket, history = example_history()
    major, _ = DESK.apply(desk_ticket, SetMajor(reason="all sites"), actor="lea", at=AT)
    _, events = DESK.apply(major, ClearMajor(reason="one site"), actor="lea", at=AT)
    _, set_events = DESK.apply(desk_ticket, SetMajor(reason="all sites"), actor="lea", at=AT)
    policy = attrs.evolve(default_policy(), restricted_fields=("major", "title"))
    shown = policy.visible_events("alice", desk_ticket, (*history, *set_events, *events))
    names = [type(e).__name__ for e in shown]
    assert "MajorSet" not in names
    assert "MajorCleared" not in names
    opened = shown[0]
    assert isinstance(opened, TicketOpened)
    assert opened.title == ""


def test_bad_event_lists_are_errors() -> None:
    ticket, events = example_history()
    with pytest.raises(InvalidValueError, match=r"events\[0\]"):
        POLICY.visible_events("alice", ticket, ["opened"], directory=DIRECTORY)  # type: ignore[list-item]
    other = attrs.evolve(ticket, id="I-2", requester="alice")
    with pytest.raises(InvalidValueError, match=r"events\[0\].ticket_id"):
        default_policy().visible_events("alice", other, events)
    with pytest.raises(InvalidValueError, match="ticket"):
        POLICY.visible_events("alice", None, events)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Collection filtering and the declarative predicate
# ---------------------------------------------------------------------------


def test_visible_keeps_the_order_and_only_what_the_principal_may_see() -> None:
    tickets = [
        example_ticket("I-1", requester="ann"),
        example_ticket("I-2", requester="bob", assignee="cato"),
        example_ticket("I-3", requester="ann", group="network"),
    ]
    ids = {
        p: [t.id for t in POLICY.visible(p, tickets, directory=DIRECTORY)]
        for p in ("ann", "bob", "cato", "dana")
    }
    assert ids == {
        "ann": ["I-1", "I-3"],
        "bob": ["I-2"],
        "cato": ["I-2"],
        "dana": ["I-1", "I-2", "I-3"],
    }
    with pytest.raises(InvalidValueError, match=r"tickets\[0\]"):
        POLICY.visible("ann", ["I-1"])  # type: ignore[list-item]


def test_the_predicate_folds_directory_facts_into_lists_of_ids() -> None:
    role = Role(name="r", permissions=(Permission(action="view"),))
    policy = Policy(
        roles=(role,),
        grants=(
            Grant(role="r", principal="*", relations=("same_department",)),
            Grant(role="r", principal="*", scope=Scope(tenants=("acme",))),
        ),
    )
    predicate = policy.predicate("dana", directory=DIRECTORY)
    assert predicate == {
        "or": [
            {"field": "requester", "in": ["dana", "lea", "nina", "omar", "sam"]},
            {"field": "customer", "eq": "acme"},
            {"and": [{"field": "customer", "eq": None}, {"field": "requester", "eq": "ann"}]},
        ]
    }
    assert json.loads(json.dumps(predicate)) == predicate
    assert POLICY.predicate("root", directory=DIRECTORY) == TRUE
    assert Policy().predicate("ann") == FALSE
    # with an empty directory no requester is in a department or organization
    assert policy.predicate(Principal(id="nobody")) == {"field": "customer", "eq": "acme"}


def test_predicates_express_relations_states_and_denies() -> None:
    allow = Role(
        name="allow",
        permissions=(
            Permission(action="transition:*", from_states=("new", "on_hold.*", "category:active")),
        ),
    )
    deny = Role(
        name="deny", permissions=(Permission(action="transition:*", relations=("approver",)),)
    )
    policy = Policy(
        roles=(allow, deny),
        grants=(
            Grant(
                role="allow",
                principal="ann",
                relations=("assignee", "watcher", "same_organization"),
            ),
            Grant(role="deny", principal="ann", effect="deny"),
        ),
    )
    predicate = policy.predicate("ann", action="transition:start")
    assert predicate == {
        "and": [
            {"or": [{"field": "assignee", "eq": "ann"}, {"field": "watchers", "contains": "ann"}]},
            {
                "or": [
                    {"field": "state", "eq": "new"},
                    {"field": "state", "startswith": "on_hold."},
                    {"field": "state_category", "eq": "active"},
                ]
            },
            {"not": {"field": "approvers", "contains": "ann"}},
        ]
    }
    ticket = example_ticket(
        assignee="ann", state="on_hold.awaiting_vendor", state_category="on_hold"
    )
    assert evaluate_predicate(predicate, ticket)
    assert not evaluate_predicate(predicate, attrs.evolve(ticket, approvers=("ann",)))


@pytest.mark.parametrize(
    ("predicate", "path"),
    [
        ("requester", "predicate"),
        ({"field": "requester"}, "predicate"),
        ({"field": "requester", "eq": 1, "in": []}, "predicate"),
        ({"field": "requester", "like": "a"}, "predicate"),
        ({"field": "requester", "in": "ann"}, "predicate.in"),
        ({"field": "requester", "contains": "a"}, "predicate.field"),
        ({"and": [{"or": [{"field": "x", "eq": 1}]}]}, "predicate.and[0].or[0].field"),
        ({"and": "x"}, "predicate"),
        ({"xor": []}, "predicate"),
        ({"and": [], "or": []}, "predicate"),
        ({"not": 3}, "predicate.not"),
    ],
)
def test_a_bad_predicate_is_an_error_naming_its_path(predicate: Any, path: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        evaluate_predicate(predicate, example_ticket())
    assert caught.value.field == path


def test_predicate_operators_mean_what_they_say() -> None:
    ticket = example_ticket(requester="ann", state="on_hold.awaiting_vendor", approvers=("bob",))
    assert evaluate_predicate({"field": "state", "startswith": "on_hold."}, ticket)
    assert not evaluate_predicate({"field": "assignee", "startswith": "a"}, ticket)
    assert evaluate_predicate({"field": "approvers", "contains": "bob"}, ticket)
    assert evaluate_predicate({"field": "requester", "in": ["ann", "bob"]}, ticket)
    assert evaluate_predicate({"not": {"field": "watchers", "contains": "ann"}}, ticket)
    assert evaluate_predicate(TRUE, ticket)
    assert not evaluate_predicate(FALSE, ticket)


# ---------------------------------------------------------------------------
# Wired into the lifecycle
# ---------------------------------------------------------------------------


def test_a_denied_command_raises_and_changes_nothing() -> None:
    ticket = open_incident("ann")
    before = attrs.evolve(ticket)
    for actor, command in [
        ("bob", AddComment(body="me too", public=True)),
        ("ann", AddComment(body="psst", public=False)),
        ("ann", Assign(assignee="ann")),
        ("cato", Transition(trigger="cancel", reason="not mine")),
    ]:
        with pytest.raises(PermissionDenied) as caught:
            DESK.apply(ticket, command, actor=actor, at=AT, authorizer=GUARD)
        assert caught.value.principal == actor
        assert caught.value.action == command.action
        assert not DESK["incident"].may(ticket, command, actor=actor, at=AT, authorizer=GUARD)
        assert ticket == before
    with pytest.raises(PermissionDenied):
        DESK.apply(
            None,
            OpenTicket(ticket_id="I-2", type="incident", title="t", requester="ann"),
            actor="bob",
            at=AT,
            authorizer=GUARD,
        )


def test_the_priority_override_and_the_major_tier_need_their_permissions() -> None:
    ticket = open_incident("ann")
    override = OverridePriority(priority="P1", reason="CEO's laptop")
    major = SetMajor(reason="whole site offline")
    for actor in ("ann", "nina", "cato", "sam", "quinn"):
        for command in (override, major):
            with pytest.raises(PermissionDenied):
                DESK.apply(ticket, command, actor=actor, at=AT, authorizer=GUARD)
    overridden, _ = DESK.apply(ticket, override, actor="dana", at=AT, authorizer=GUARD)
    assert overridden.effective_priority == "P1"
    with pytest.raises(PermissionDenied, match=r"priority\.set_major"):
        DESK.apply(ticket, major, actor="dana", at=AT, authorizer=GUARD)
    declared, _ = DESK.apply(ticket, major, actor="lea", at=AT, authorizer=GUARD)
    assert declared.major
    with pytest.raises(PermissionDenied, match=r"priority\.clear_major"):
        DESK.apply(declared, ClearMajor(reason="one floor"), actor="dana", at=AT, authorizer=GUARD)


def test_a_ticket_goes_through_its_life_with_each_role_doing_its_part() -> None:
    ticket = open_incident("ann")
    steps: list[tuple[str, Any]] = [
        ("dana", Assign(assignee="nina", group="network.lan", support_line=2)),
        ("nina", Transition(trigger="start")),
        ("nina", AddComment(body="router swapped", public=False)),
        ("ann", AddComment(body="thanks", public=True)),
        ("nina", Transition(trigger="resolve", resolution_code="fixed")),
        ("quinn", AddComment(body="the fix is not documented", public=False)),
        ("ann", Transition(trigger="reopen")),
        ("nina", Transition(trigger="resolve", resolution_code="fixed")),
        ("ann", Transition(trigger="close")),
    ]
    at = AT
    for actor, command in steps:
        at += timedelta(minutes=5)
        ticket, _ = DESK.apply(ticket, command, actor=actor, at=at, authorizer=GUARD)
    assert ticket.state == "closed"
    assert ticket.reopenings == 1


def test_taking_is_assigning_to_oneself_and_stealing_is_taking_from_someone_else() -> None:
    ticket = open_incident("ann")
    with pytest.raises(PermissionDenied, match="'sam' may not 'assign'"):
        DESK.apply(ticket, Assign(assignee="nina"), actor="sam", at=AT, authorizer=GUARD)
    taken, _ = DESK.apply(ticket, Assign(assignee="sam"), actor="sam", at=AT, authorizer=GUARD)
    working, _ = DESK.apply(
        taken, Transition(trigger="start"), actor="sam", at=AT, authorizer=GUARD
    )
    with pytest.raises(PermissionDenied, match="'cato' may not 'reassign'"):
        DESK.apply(working, Reassign(assignee="cato"), actor="cato", at=AT, authorizer=GUARD)
    stolen, _ = DESK.apply(working, Reassign(assignee="lea"), actor="lea", at=AT, authorizer=GUARD)
    assert stolen.assignee == "lea"
    assert "assign" in DESK["incident"].available_commands(ticket, "sam", authorizer=GUARD)
    assert "assign" not in DESK["incident"].available_commands(ticket, "cato", authorizer=GUARD)
    # a scoped grant reaches only tickets already in its group: the queue is the dispatcher's
    with pytest.raises(PermissionDenied, match="ticket group None is outside its scope"):
        DESK.apply(ticket, Assign(assignee="nina"), actor="nina", at=AT, authorizer=GUARD)


def test_watching_oneself_is_narrower_than_adding_watchers() -> None:
    ticket = open_incident("ann")
    with pytest.raises(PermissionDenied, match="'ann' may not 'watch'"):
        DESK.apply(ticket, Watch(watcher="bob"), actor="ann", at=AT, authorizer=GUARD)
    watched, _ = DESK.apply(ticket, Watch(watcher="bob"), actor="dana", at=AT, authorizer=GUARD)
    assert allowed("bob", "view", watched)
    assert allowed("bob", "comment.public", watched)
    with pytest.raises(PermissionDenied, match="'bob' may not 'unwatch'"):
        DESK.apply(watched, Unwatch(watcher="quinn"), actor="bob", at=AT, authorizer=GUARD)
    left, _ = DESK.apply(watched, Unwatch(watcher="bob"), actor="bob", at=AT, authorizer=GUARD)
    assert not allowed("bob", "view", left)
    followed, _ = DESK.apply(left, Watch(watcher="quinn"), actor="quinn", at=AT, authorizer=GUARD)
    assert followed.watchers == ("quinn",)


def test_available_commands_list_only_what_the_role_allows() -> None:
    ticket = open_incident("ann")
    available = DESK["incident"].available_commands(ticket, "ann", authorizer=GUARD)
    assert available == ("comment.public", "transition:cancel", "update:description")
    assert "priority.set_major" in DESK["incident"].available_commands(
        ticket, "lea", authorizer=GUARD
    )


def test_the_automation_role_covers_auto_close_and_escalations() -> None:
    policy = default_policy([Grant(role="automation", principal="system")])
    guard = policy.authorizer(lifecycles=DESK)
    ticket = open_incident("ann")
    for command in (
        Assign(assignee="dana"),
        AddComment(body="x", public=False),
        SetMajor(reason="x"),
    ):
        assert not guard.decide("system", command.action, ticket, command).allowed
    assigned, _ = DESK.apply(ticket, Assign(assignee="dana"), actor="dana", at=AT)
    moved, _ = DESK.apply(
        assigned,
        Reassign(assignee="lea", reason="escalated"),
        actor="system",
        at=AT,
        authorizer=guard,
    )
    raised, _ = DESK.apply(
        moved,
        OverridePriority(priority="P1", reason="SLA breach"),
        actor="system",
        at=AT,
        authorizer=guard,
    )
    watched, _ = DESK.apply(raised, Watch(watcher="lea"), actor="system", at=AT, authorizer=guard)
    assert (watched.assignee, watched.effective_priority, watched.watchers) == (
        "lea",
        "P1",
        ("lea",),
    )
    resolved = attrs.evolve(watched, state="resolved", state_category="resolved")
    assert guard.decide("system", "transition:auto_close", resolved, None).allowed


def test_policies_convert_with_a_plain_cattrs_converter() -> None:
    converter = cattrs.Converter()
    data = converter.unstructure(POLICY)
    assert converter.structure(json.loads(json.dumps(data)), Policy) == POLICY
    assert converter.structure(converter.unstructure(DIRECTORY), Directory) == DIRECTORY


def test_the_authorizer_checks_its_arguments() -> None:
    assert isinstance(GUARD, PolicyAuthorizer)
    assert repr(GUARD) == "PolicyAuthorizer(grants=8, principals=10)"
    with pytest.raises(InvalidValueError, match="policy"):
        PolicyAuthorizer("policy")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="lifecycles"):
        PolicyAuthorizer(POLICY, lifecycles=[incident()])  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="actor"):
        GUARD.check("", "view", None, None)
    with pytest.raises(InvalidValueError, match="action"):
        GUARD.check("ann", "", None, None)
    lone = POLICY.authorizer(DIRECTORY, lifecycles={"incident": Lifecycle(incident())})
    problem = example_ticket(requester="ann").__class__(
        **{**attrs.asdict(example_ticket(requester="ann"), recurse=False), "type": "problem"}
    )
    assert lone.decide("ann", "transition:close", problem, None).allowed
    assert GUARD.decide("dana", "transition:close", example_ticket(), None).allowed


# ---------------------------------------------------------------------------
# The default role set and the plain dict form
# ---------------------------------------------------------------------------


def test_the_default_roles_match_the_seed_documents() -> None:
    assert DEFAULT_ROLE_NAMES == (
        "requester",
        "dispatcher",
        "second_line",
        "third_line",
        "contractor",
        "shift_lead",
        "support_manager",
        "quality_control",
        "administrator",
        "service_engineer",
        "automation",
    )
    rows = POLICY.rights_table(TABLE_ACTIONS)
    assert rows[0] == ["role", *TABLE_ACTIONS]
    table = {row[0]: dict(zip(rows[0][1:], row[1:], strict=True)) for row in rows[1:]}
    assert table["requester"]["view"] == "if requester or watcher"
    assert table["requester"]["comment.internal"] == ""
    assert table["service_engineer"]["spend"] == "if assignee; report above 500"
    assert table["support_manager"]["spend"] == "yes"
    assert all(cell == "yes" for cell in table["administrator"].values())
    assert table["shift_lead"]["priority.set_major"] == "yes"
    assert table["dispatcher"]["priority.set_major"] == ""
    with pytest.raises(InvalidValueError):
        POLICY.rights_table(["view*"])


def test_the_dict_form_is_plain_json_and_round_trips() -> None:
    policy = POLICY.with_roles(
        Role(
            name="odd",
            description="every optional field",
            includes=("requester",),
            permissions=(
                Permission(
                    action="transition:*", from_states=("new",), to_states=("category:closed",)
                ),
                Permission(action="spend", limit=10, report_above=5),
            ),
        )
    ).with_grants(
        Grant(
            role="odd",
            group="x",
            scope=Scope(
                groups=("g",),
                departments=("d",),
                tenants=("t",),
                types=("incident",),
                recursive=True,
            ),
            relations=("requester",),
            effect="deny",
            note="n",
        ),
        Grant(role="odd", principal="y", scope=Scope(recursive=True)),
    )
    policy = attrs.evolve(policy, hierarchy={"g.1": "g"}, restricted_fields=("support_line",))
    data = policy.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert Policy.from_dict(data) == policy
    assert Policy.from_dict(json.loads(json.dumps(data))) == policy
    assert data["grants"][-1] == {"role": "odd", "principal": "y", "scope": {"recursive": True}}
    assert data["roles"][0]["permissions"][0] == {
        "action": "view",
        "relations": ["requester", "watcher"],
    }


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        (
            "policy",
            [
                "expected a mapping with keys roles, grants, hierarchy, restricted_fields, "
                "got 'policy'"
            ],
        ),
        (
            {"rules": []},
            ["unknown key 'rules'; expected roles, grants, hierarchy, restricted_fields"],
        ),
        ({"roles": "admin"}, ["roles: expected a list, got 'admin'"]),
        ({"roles": [{"permissions": []}]}, ["roles[0].name: missing"]),
        (
            {"roles": ["admin"]},
            [
                "roles[0]: expected a mapping with keys name, permissions, includes, "
                "description, got 'admin'"
            ],
        ),
        (
            {"roles": [{"name": "r", "permissions": [""]}]},
            ["roles[0].permissions[0]: expected an action name or pattern, got ''"],
        ),
        (
            {"roles": [{"name": "r", "permissions": [3]}]},
            [
                "roles[0].permissions[0]: expected a mapping with keys action, relations, "
                "from_states, to_states, limit, report_above, got 3"
            ],
        ),
        (
            {
                "roles": [
                    {"name": "r", "permissions": [{"action": "view", "relations": "requester"}]}
                ]
            },
            ["roles[0].permissions[0].relations: expected a list, got 'requester'"],
        ),
        (
            {"roles": [{"name": "r", "permissions": [{"action": "spend", "limit": "lots"}]}]},
            ["roles[0].permissions[0].limit: expected a non-negative integer, got 'lots'"],
        ),
        (
            {"roles": [{"name": "r", "includes": "x"}]},
            ["roles[0].includes: expected a list, got 'x'"],
        ),
        (
            {"roles": [{"name": "r b"}]},
            ["roles[0].name: expected a non-empty name without whitespace, got 'r b'"],
        ),
        ({"grants": [{"principal": "a"}]}, ["grants[0].role: missing"]),
        (
            {"grants": ["a"]},
            [
                "grants[0]: expected a mapping with keys role, principal, group, scope, "
                "relations, effect, note, got 'a'"
            ],
        ),
        (
            {"grants": [{"role": "r", "principal": "a", "scope": "desk"}]},
            [
                "grants[0].scope: expected a mapping with keys groups, departments, tenants, "
                "types, recursive, got 'desk'"
            ],
        ),
        (
            {"grants": [{"role": "r", "principal": "a", "scope": {"recursive": 1}}]},
            ["grants[0].scope.recursive: expected true or false, got 1"],
        ),
        (
            {"grants": [{"role": "r", "principal": "a", "effect": "no"}]},
            ["grants[0].effect: expected 'allow' or 'deny', got 'no'"],
        ),
        (
            {"grants": [{"role": "r"}]},
            [
                "grants[0]: expected exactly one of principal and group, got {'principal': None, "
                "'group': None}"
            ],
        ),
        ({"hierarchy": ["a"]}, ["hierarchy: expected a mapping child -> parent, got ['a']"]),
        ({"restricted_fields": "title"}, ["restricted_fields: expected a list, got 'title'"]),
        (
            {"grants": [{"role": "ghost", "principal": "a"}]},
            ["grants[0].role: unknown role 'ghost'; known: none"],
        ),
    ],
)
def test_from_dict_reports_every_problem_with_its_path(data: Any, problems: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Policy.from_dict(data)
    assert [str(p) for p in caught.value.problems] == problems


def test_from_dict_accepts_the_short_forms() -> None:
    policy = Policy.from_dict(
        {
            "roles": [{"name": "reader", "permissions": ["view", {"action": "spend", "limit": 5}]}],
            "grants": [{"role": "reader", "group": "desk"}],
            "hierarchy": {"desk.night": "desk"},
        }
    )
    assert policy.authorize(Principal(id="x", groups=("desk.night",)), "view").allowed
    assert policy.restricted_fields == (
        "support_line",
        "derived_priority",
        "priority_override",
        "reassignments",
        "approvers",
    )


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

ACTION_STRATEGY = st.sampled_from(PERMISSION_ACTIONS)
AMOUNTS = st.none() | st.integers(0, 1200)
TO_STATES = st.none() | st.sampled_from(STATES)


@given(roles(), principals(), ACTION_STRATEGY, permission_tickets(), directories(), AMOUNTS)
def test_with_no_grants_nothing_is_allowed(
    found: tuple[Role, ...],
    principal: Principal,
    action: str,
    ticket: Ticket,
    directory: Directory,
    amount: int | None,
) -> None:
    policy = Policy(roles=found)
    assert not policy.authorize(
        principal, action, ticket, directory=directory, amount=amount
    ).allowed
    assert not policy.authorize(principal, action, None, directory=directory).allowed
    assert policy.visible(principal, [ticket], directory=directory) == ()
    assert policy.predicate(principal, directory=directory) == FALSE


@given(
    st.data(),
    permission_policies(),
    principals(),
    ACTION_STRATEGY,
    permission_tickets(),
    directories(),
    AMOUNTS,
    TO_STATES,
)
def test_adding_an_allow_grant_never_removes_a_permission_and_a_deny_never_adds_one(
    data: st.DataObject,
    policy: Policy,
    principal: Principal,
    action: str,
    ticket: Ticket,
    directory: Directory,
    amount: int | None,
    to_state: str | None,
) -> None:
    names = tuple(r.name for r in policy.roles)
    extra = data.draw(grants(names))
    options: dict[str, Any] = {"directory": directory, "amount": amount, "to_state": to_state}
    before = policy.authorize(principal, action, ticket, **options).allowed
    after = policy.with_grants(extra).authorize(principal, action, ticket, **options).allowed
    if extra.deny:
        assert not after or before
    else:
        assert after or not before


@given(
    permission_policies(),
    principals(),
    ACTION_STRATEGY,
    permission_tickets(),
    directories(),
    AMOUNTS,
    TO_STATES,
)
def test_the_decision_follows_the_reference_rule(
    policy: Policy,
    principal: Principal,
    action: str,
    ticket: Ticket,
    directory: Directory,
    amount: int | None,
    to_state: str | None,
) -> None:
    decision = policy.authorize(
        principal, action, ticket, directory=directory, amount=amount, to_state=to_state
    )
    assert decision.allowed == reference_allowed(
        policy, principal, action, ticket, directory, amount, to_state
    )
    assert decision.allowed == (decision.grant is not None and not decision.grant.deny)


@given(
    permission_policies(),
    principals(),
    ACTION_STRATEGY,
    st.lists(permission_tickets(), max_size=4),
    directories(),
    AMOUNTS,
    TO_STATES,
)
def test_decisions_are_deterministic_whatever_was_asked_before(
    policy: Policy,
    principal: Principal,
    action: str,
    tickets: list[Ticket],
    directory: Directory,
    amount: int | None,
    to_state: str | None,
) -> None:
    fresh = Policy.from_dict(policy.to_dict())
    options: dict[str, Any] = {"directory": directory, "amount": amount, "to_state": to_state}
    first = [policy.authorize(principal, action, t, **options) for t in tickets]
    for other in PERMISSION_ACTIONS:
        policy.authorize(principal, other, None, directory=directory)
    again = [policy.authorize(principal, action, t, **options) for t in tickets]
    anew = [fresh.authorize(principal, action, t, **options) for t in reversed(tickets)][::-1]
    assert first == again == anew


@given(
    permission_policies(),
    principals(),
    ACTION_STRATEGY,
    st.lists(permission_tickets(), max_size=5),
    directories(),
    AMOUNTS,
    TO_STATES,
)
def test_the_predicate_and_the_filter_agree(
    policy: Policy,
    principal: Principal,
    action: str,
    tickets: list[Ticket],
    directory: Directory,
    amount: int | None,
    to_state: str | None,
) -> None:
    predicate = policy.predicate(
        principal, directory=directory, action=action, amount=amount, to_state=to_state
    )
    assert json.loads(json.dumps(predicate)) == predicate
    for ticket in tickets:
        decided = policy.authorize(
            principal, action, ticket, directory=directory, amount=amount, to_state=to_state
        ).allowed
        assert evaluate_predicate(predicate, ticket) == decided
    filtered = policy.visible(principal, tickets, directory=directory, action=action)
    view_predicate = policy.predicate(principal, directory=directory, action=action)
    assert list(filtered) == [t for t in tickets if evaluate_predicate(view_predicate, t)]


@given(principals(), st.lists(permission_tickets(), max_size=6), directories())
def test_a_requester_never_sees_another_requesters_ticket_nor_an_internal_comment(
    principal: Principal, tickets: list[Ticket], directory: Directory
) -> None:
    policy = default_policy([Grant(role="requester", group="desk")])
    seen = policy.visible(principal, tickets, directory=directory)
    assert all(
        t.requester == principal.id or principal.id in getattr(t, "watchers", ()) for t in seen
    )
    for ticket in seen:
        common: dict[str, Any] = {"ticket_id": ticket.id, "at": AT}
        events = (
            CommentAdded(actor="dana", body="a", public=False, by_requester=False, **common),
            CommentAdded(actor="dana", body="b", public=True, by_requester=False, **common),
            CommentAdded(
                actor=ticket.requester, body="c", public=True, by_requester=True, **common
            ),
        )
        shown = policy.visible_events(principal, ticket, events, directory=directory)
        assert [e.body for e in shown if isinstance(e, CommentAdded)] == ["b", "c"]
        view = policy.view(principal, ticket, directory=directory)
        assert not view.internal
        assert view.is_hidden("support_line")


@given(permission_policies())
def test_every_policy_round_trips_through_json(policy: Policy) -> None:
    data = policy.to_dict()
    assert Policy.from_dict(json.loads(json.dumps(data))) == policy
    assert Policy.from_dict(data).to_dict() == data


@given(ticket_histories(DESK, max_steps=6), st.data())
def test_the_lifecycle_applies_exactly_what_the_authorizer_allows(
    history: Any, data: st.DataObject
) -> None:
    ticket: Ticket = history.ticket
    command = data.draw(ticket_commands(history.lifecycle))
    actor = data.draw(sampled((*PERMISSION_PEOPLE, "dana", "nina", "lea", "cato", "sam")))
    decision = GUARD.decide(actor, command.action, ticket, command)
    at = ticket.updated_at
    if not decision.allowed:
        with pytest.raises(PermissionDenied) as caught:
            history.lifecycle.apply(ticket, command, actor=actor, at=at, authorizer=GUARD)
        assert caught.value.reasons == decision.reasons
        return
    try:
        new, events = history.lifecycle.apply(ticket, command, actor=actor, at=at, authorizer=GUARD)
    except (InvalidTransition, InvalidValueError):
        return  # allowed, but not legal now: the lifecycle's own refusal
    assert new.version == ticket.version + len(events)


@given(permission_tickets(), directories())
def test_explain_always_has_a_reason(ticket: Ticket, directory: Directory) -> None:
    for principal in PERMISSION_PEOPLE:
        for action in PERMISSION_ACTIONS:
            decision: Decision = POLICY.authorize(principal, action, ticket, directory=directory)
            assert decision.reasons
            assert decision.explain().count("\n") == len(decision.reasons)


def test_updating_a_field_needs_the_update_permission_of_that_field() -> None:
    ticket = open_incident("ann")
    renamed, _ = DESK.apply(
        ticket, UpdateField(field="description", value="x"), actor="ann", at=AT, authorizer=GUARD
    )
    assert renamed.description == "x"
    with pytest.raises(PermissionDenied, match="update:title"):
        DESK.apply(
            ticket, UpdateField(field="title", value="x"), actor="ann", at=AT, authorizer=GUARD
        )


def test_predicates_decide_amounts_destinations_and_state_conditions_up_front() -> None:
    roles = (
        Role(name="spend", permissions=(Permission(action="spend", limit=100),)),
        Role(name="close", permissions=(Permission(action="*", to_states=("closed",)),)),
        Role(name="deny", permissions=(Permission(action="transition:*", to_states=("closed",)),)),
    )
    grants_ = (
        Grant(role="spend", principal="ann"),
        Grant(role="close", principal="ann"),
        Grant(role="deny", principal="ann", effect="deny", relations=("approver",)),
    )
    policy = Policy(roles=roles, grants=grants_)
    assert policy.predicate("ann", action="spend", amount=50) == TRUE
    assert policy.predicate("ann", action="spend", amount=500) == FALSE
    assert policy.predicate("ann", action="spend") == FALSE
    assert policy.predicate("ann", action="view") == FALSE  # state conditions: transitions only
    assert policy.predicate("ann", action="transition:close", to_state="closed") == {
        "not": {"field": "approvers", "contains": "ann"}
    }
    assert policy.predicate("ann", action="transition:close", to_state="merged") == FALSE
    unknown = policy.predicate("ann", action="transition:close")
    assert unknown == FALSE  # an allow needs a known destination


def test_a_hierarchy_must_be_pairs_and_scopes_describe_themselves() -> None:
    assert problems_of(hierarchy="network") == ["hierarchy: expected a list, got 'network'"]
    assert Scope().describe() == "everywhere"
    assert Policy(hierarchy=[["b", "a"]]).hierarchy == (("b", "a"),)


def test_lifecycles_without_a_ticket_leave_the_destination_unknown() -> None:
    policy = transition_policy(Permission(action="transition:*", to_states=("closed",)))
    opening = OpenTicket(ticket_id="I-1", type="incident", title="t", requester="ann")
    decision = policy.authorize("ann", "transition:close", opening, lifecycles=DESK)
    assert any("destination state is unknown" in r for r in decision.reasons)


def test_a_hidden_custom_field_is_left_out_of_the_opening_event() -> None:
    ticket, history = DESK.apply(
        None,
        OpenTicket(
            ticket_id="P-1",
            type="problem",
            title="disks",
            requester="ann",
            custom_fields=(("workaround", "reboot"),),
        ),
        actor="ann",
        at=AT,
    )
    policy = attrs.evolve(POLICY, restricted_fields=("custom:workaround",))
    opened = policy.visible_events("ann", ticket, history, directory=DIRECTORY)[0]
    assert isinstance(opened, TicketOpened)
    assert opened.custom_fields == ()
    assert policy.visible_events("dana", ticket, history, directory=DIRECTORY) == history


def test_every_relation_becomes_a_predicate_that_agrees_with_the_decision() -> None:
    people = Directory(
        [
            Principal(id="ann", department="sales", organization="acme"),
            Principal(id="bob", department="sales", organization="acme", groups=("desk",)),
            Principal(id="cy", groups=("desk",)),
        ]
    )
    tickets = [
        example_ticket("I-1", requester="ann", assignee="bob", group="desk", approvers=("cy",)),
        example_ticket("I-2", requester="cy", watchers=("ann",), customer="acme"),
        example_ticket("I-3", requester="bob", group="apps", customer="globex"),
    ]
    for relation in RELATIONS:
        policy = one_role_policy(
            Permission(
                action="view",
                relations=("requester", "anyone") if relation == "anyone" else (relation,),
            ),
            principal="*",
        )
        for who in ("ann", "bob", "cy", "zed"):
            rule = policy.predicate(who, directory=people)
            for ticket in tickets:
                decided = policy.authorize(who, "view", ticket, directory=people).allowed
                assert evaluate_predicate(rule, ticket) == decided, (relation, who, ticket.id)


def test_the_caches_forget_when_full_and_answers_do_not_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import itsm_core.permissions._engine as engine

    ticket = example_ticket(requester="ann", assignee="nina", group="network.lan")
    expected = {
        (who, action): allowed(who, action, ticket)
        for who in ("ann", "bob", "nina", "dana")
        for action in PERMISSION_ACTIONS
    }
    monkeypatch.setattr(engine, "_CACHE_LIMIT", 2)
    fresh = Policy.from_dict(POLICY.to_dict())
    for (who, action), answer in expected.items():
        assert fresh.authorize(who, action, ticket, directory=DIRECTORY).allowed == answer


def test_unknown_keys_in_a_policy_document_are_reported_never_raised_as_type_errors() -> None:
    from itsm_core.errors import ConfigurationError
    from itsm_core.permissions import Policy

    with pytest.raises(ConfigurationError) as caught:
        Policy.from_dict(
            {
                "roles": [{"name": "r", "permissions": [{"action": "view", "colour": "red"}]}],
                "grants": [{"role": "r", "principal": "ann", "bogus": 1}],
            }
        )
    paths = [str(p) for p in caught.value.problems]
    assert any(p.startswith("roles[0].permissions[0]: unknown key 'colour'") for p in paths)
    assert any(p.startswith("grants[0]: unknown key 'bogus'") for p in paths)


# ---------------------------------------------------------------------------- security regressions


def _deny_own_action_policy(action: str, narrower: str) -> Policy:
    return Policy(
        roles=(
            Role(name="worker", permissions=(Permission(action="*"),)),
            Role(name="no_" + action, permissions=(Permission(action=action),)),
        ),
        grants=(
            Grant(role="worker", principal="ann"),
            Grant(role="no_" + action, principal="ann", effect="deny"),
        ),
    )


@pytest.mark.parametrize(
    ("action", "narrower", "command", "prepare"),
    [
        ("assign", "take", Assign(assignee="ann"), None),
        ("reassign", "steal", Reassign(assignee="ann", reason="x"), Assign(assignee="bob")),
        ("watch", "watch.self", Watch(watcher="ann"), None),
    ],
)
def test_an_explicit_deny_of_a_commands_own_action_wins_over_its_narrower_permission(
    action: str, narrower: str, command: Any, prepare: Any
) -> None:
    policy = _deny_own_action_policy(action, narrower)
    guard = policy.authorizer(lifecycles=DESK)
    ticket = open_incident("bob")
    if prepare is not None:
        ticket, _ = DESK.apply(ticket, prepare, actor="bob", at=AT)
    assert not policy.authorize("ann", action, ticket).allowed
    assert policy.authorize("ann", narrower, ticket).allowed
    assert not guard.decide("ann", action, ticket, command).allowed
    with pytest.raises(PermissionDenied):
        DESK.apply(ticket, command, actor="ann", at=AT, authorizer=guard)
    assert action not in DESK[ticket.type].available_commands(ticket, "ann", authorizer=guard)


def test_a_deny_of_the_narrower_permission_refuses_acting_on_oneself() -> None:
    policy = Policy(
        roles=(
            Role(name="worker", permissions=(Permission(action="*"),)),
            Role(name="no_take", permissions=(Permission(action="take"),)),
        ),
        grants=(
            Grant(role="worker", principal="ann"),
            Grant(role="no_take", principal="ann", effect="deny"),
        ),
    )
    guard = policy.authorizer(lifecycles=DESK)
    ticket = open_incident("bob")
    with pytest.raises(PermissionDenied):
        DESK.apply(ticket, Assign(assignee="ann"), actor="ann", at=AT, authorizer=guard)
    assigned, _ = DESK.apply(ticket, Assign(assignee="bob"), actor="ann", at=AT, authorizer=guard)
    assert assigned.assignee == "bob"
    assert "assign" in DESK[ticket.type].available_commands(ticket, "ann", authorizer=guard)


def _escalation_events(ticket_id: str) -> tuple[Event, ...]:
    from itsm_core.escalation import (
        Escalated,
        EscalationRequested,
        MajorCandidateFlagged,
        NotificationRequested,
    )

    common: dict[str, Any] = {"ticket_id": ticket_id, "actor": "automation", "at": AT}
    return (
        Escalated(rule="p1", level=1, cycle=1, due_at=AT, reason="internal: boss told", **common),
        NotificationRequested(
            rule="p1", level=1, recipients=("manager-mia",), reason="r", message="secret", **common
        ),
        MajorCandidateFlagged(reason="internal: looks major", **common),
        EscalationRequested(kind="manager", by_requester=False, reason="internal", **common),
    )


def test_escalation_and_notification_events_are_withheld_without_the_internal_view() -> None:
    ticket, events = example_history()
    internal = _escalation_events(ticket.id)
    shown = default_policy().visible_events("alice", ticket, (*events, *internal))
    assert not any(e in shown for e in internal)
    staff = default_policy([Grant(role="dispatcher", principal="dana")])
    assert set(internal) <= set(staff.visible_events("dana", ticket, (*events, *internal)))


def test_a_requesters_own_escalation_request_stays_visible_to_them() -> None:
    from itsm_core.escalation import EscalationRequested

    ticket, events = example_history()
    asked = EscalationRequested(
        ticket_id=ticket.id, actor="alice", at=AT, kind="manager", by_requester=True, reason="!"
    )
    assert asked in default_policy().visible_events("alice", ticket, (*events, asked))


def test_a_hidden_hold_reason_is_not_readable_in_the_state_name() -> None:
    policy = attrs.evolve(default_policy(), restricted_fields=("hold_reason",))
    ticket = open_incident("ann")
    staff: dict[str, Any] = {"actor": "dana", "at": AT, "authorizer": None}
    ticket, e1 = DESK.apply(ticket, Assign(assignee="dana", group="desk"), **staff)
    ticket, e2 = DESK.apply(ticket, Transition(trigger="start"), **staff)
    ticket, e3 = DESK.apply(
        ticket, Transition(trigger="hold", hold_reason="awaiting_vendor", reason="vendor"), **staff
    )
    assert ticket.state == "on_hold.awaiting_vendor"
    view = policy.view("ann", ticket)
    assert view.is_hidden("hold_reason")
    assert "awaiting_vendor" not in repr(view)
    shown = policy.visible_events("ann", ticket, (*e1, *e2, *e3))
    assert "awaiting_vendor" not in repr(shown)


def test_a_hidden_assignee_is_not_readable_as_the_actor_of_their_events() -> None:
    policy = attrs.evolve(default_policy(), restricted_fields=("assignee",))
    ticket, events = example_history()
    assert ticket.assignee == "dana"
    view = policy.view("alice", ticket)
    assert view.is_hidden("assignee")
    assert "dana" not in repr(view)
    shown = policy.visible_events("alice", ticket, events)
    assert shown
    assert all(e.actor != "dana" for e in shown)
    assert "dana" not in repr(shown)


@pytest.mark.parametrize(
    "bad",
    [
        {"requester": "ann"},
        "I-1",
        3,
        OpenTicket(ticket_id="I-9", type="incident", title="t", requester="ann"),
    ],
)
def test_the_authorizer_refuses_a_ticket_that_is_not_a_ticket_and_never_allows(bad: Any) -> None:
    policy = Policy(
        roles=(Role(name="all", permissions=(Permission(action="*"),)),),
        grants=(
            Grant(role="all", principal="ann"),
            Grant(role="all", principal="ann", effect="deny", scope=Scope(types=("incident",))),
        ),
    )
    guard = policy.authorizer()
    with pytest.raises(InvalidValueError) as caught:
        guard.check("ann", "transition:resolve", bad, Transition(trigger="resolve"))
    assert caught.value.field == "ticket"
    with pytest.raises(InvalidValueError):
        guard.decide("ann", "view", bad, None)


# ---------------------------------------------------------------------------- the security property


_RESTRICTABLE = (
    "assignee",
    "group",
    "support_line",
    "hold_reason",
    "requester",
    "watchers",
    "approvers",
    "title",
    "customer",
    "custom:*",
)
_NARROWER = {
    "assign": "take",
    "reassign": "steal",
    "watch": "watch.self",
    "unwatch": "unwatch.self",
}


_GROUPS = st.lists(st.sampled_from(("desk", "network")), unique=True)
_DEPARTMENTS = st.none() | st.sampled_from(("it", "sales"))
_RESTRICTED = st.lists(st.sampled_from(_RESTRICTABLE), unique=True, max_size=4)


@memoized
@st.composite
def _actors_directory(draw: st.DrawFn) -> Directory:
    return Directory(
        [
            Principal(
                id=pid,
                groups=tuple(draw(_GROUPS)),
                department=draw(_DEPARTMENTS),
            )
            for pid in TICKET_ACTORS
        ]
    )


@st.composite
def _secured(draw: st.DrawFn) -> tuple[Policy, Directory]:
    policy = draw(permission_policies())
    if draw(st.booleans()):
        # An allow-all next to a deny of one action: where a narrower permission could sneak in.
        denied = draw(sampled((*_NARROWER, *_NARROWER.values(), *PERMISSION_ACTIONS)))
        policy = policy.with_roles(
            Role(name="all", permissions=(Permission(action="*"),)),
            Role(name="refused", permissions=(Permission(action=denied),)),
        ).with_grants(
            Grant(role="all", principal="*"),
            Grant(
                role="refused",
                principal=draw(sampled((*TICKET_ACTORS, "*"))),
                effect="deny",
            ),
        )
    restricted = draw(_RESTRICTED)
    return attrs.evolve(policy, restricted_fields=tuple(restricted)), draw(_actors_directory())


def _internal_events(ticket: Ticket) -> tuple[Event, ...]:
    from itsm_core.escalation import Escalated, MajorCandidateFlagged, NotificationRequested

    common: dict[str, Any] = {
        "ticket_id": ticket.id,
        "actor": "automation",
        "at": ticket.updated_at,
    }
    return (
        Escalated(rule="r", level=1, cycle=1, due_at=ticket.updated_at, reason="x", **common),
        NotificationRequested(rule="r", level=1, recipients=("boss",), reason="x", **common),
        MajorCandidateFlagged(reason="x", **common),
    )


def _atoms(value: Any) -> set[Any]:
    if isinstance(value, tuple | list):
        return set().union(*(_atoms(v) for v in value)) if value else set()
    if attrs.has(type(value)):
        return _atoms(tuple(getattr(value, a.name) for a in attrs.fields(type(value))))
    return {value}


@settings(max_examples=150, deadline=None)
@given(_secured(), ticket_histories(DESK, max_steps=8), st.data())
def test_no_path_lets_a_principal_do_what_the_policy_refuses(
    secured: tuple[Policy, Directory], history: Any, data: st.DataObject
) -> None:
    policy, directory = secured
    guard = policy.authorizer(directory, lifecycles=DESK)
    ticket: Ticket = history.ticket
    actor = data.draw(sampled(tuple(TICKET_ACTORS)))
    lifecycle = history.lifecycle

    def decided(action: str) -> Decision:
        return policy.authorize(actor, action, ticket, directory=directory, lifecycles=DESK)

    def explicitly_denied(action: str) -> bool:
        d = decided(action)
        return d.grant is not None and d.grant.deny

    listed = lifecycle.available_commands(ticket, actor, authorizer=guard)
    for action in listed:
        narrower = _NARROWER.get(action)
        assert not explicitly_denied(action)
        assert decided(action).allowed or (narrower is not None and decided(narrower).allowed)
    command = data.draw(ticket_commands(lifecycle))
    if isinstance(command, Transition) and command.hold_reason is not None:
        return  # the hold narrows the destinations to the one its reason names
    action = command.action
    target = getattr(command, "assignee", getattr(command, "watcher", None))
    narrower = _NARROWER.get(action) if target == actor else None
    may = not explicitly_denied(action) and (
        decided(action).allowed
        if narrower is None
        else (decided(action).allowed or decided(narrower).allowed)
        and not explicitly_denied(narrower)
    )
    if not may:
        with pytest.raises(PermissionDenied):
            lifecycle.apply(ticket, command, actor=actor, at=ticket.updated_at, authorizer=guard)


@settings(max_examples=150, deadline=None)
@given(_secured(), ticket_histories(DESK, max_steps=8), st.sampled_from(TICKET_ACTORS))
def test_no_path_lets_a_principal_see_what_the_policy_hides(
    secured: tuple[Policy, Directory], history: Any, principal: str
) -> None:
    policy, directory = secured
    ticket: Ticket = history.ticket
    events = (*history.events, *_internal_events(ticket))
    may_view = policy.authorize(principal, "view", ticket, directory=directory).allowed
    assert policy.visible(principal, [ticket], directory=directory) == (
        (ticket,) if may_view else ()
    )
    assert evaluate_predicate(policy.predicate(principal, directory=directory), ticket) == may_view
    if not may_view:
        with pytest.raises(PermissionDenied):
            policy.view(principal, ticket, directory=directory)
        with pytest.raises(PermissionDenied):
            policy.visible_events(principal, ticket, events, directory=directory)
        return
    view = policy.view(principal, ticket, directory=directory)
    shown = policy.visible_events(principal, ticket, events, directory=directory)
    internal = policy.authorize(principal, "view.internal", ticket, directory=directory).allowed
    assert view.internal == internal
    if not internal:
        assert all(type(e).__module__ == Event.__module__ for e in shown)
        assert all(e.public for e in shown if isinstance(e, CommentAdded))
    visible_atoms = _atoms(tuple(v for _, v in view.fields)) | {principal, None, "", ()}
    for name in view.hidden:
        assert name not in dict(view.fields)
        if name.startswith("custom:"):
            key = name[len("custom:") :]
            assert key not in dict(view.get("custom_fields", ()))
            continue
        secrets = {a for a in _atoms(getattr(ticket, name)) if isinstance(a, str)} - visible_atoms
        for secret in secrets:
            assert secret not in repr(view.fields), (name, secret)
            assert not any(secret in _atoms(e) for e in shown), (name, secret)
            if name == "hold_reason":
                assert not any(secret in str(a) for e in shown for a in _atoms(e)), secret


@pytest.mark.parametrize("junk", [3, "I-1", {"id": "I-1"}, None])
def test_collections_of_the_wrong_type_are_errors_naming_the_argument(junk: Any) -> None:
    ticket, _ = example_history()
    with pytest.raises(InvalidValueError) as caught:
        default_policy().visible("alice", junk)
    assert caught.value.field == "tickets"
    with pytest.raises(InvalidValueError) as caught:
        default_policy().visible_events("alice", ticket, junk)
    assert caught.value.field == "events"


def test_a_role_inclusion_chain_thousands_deep_is_checked_without_recursion() -> None:
    depth = 3000
    chain = tuple(
        Role(name=f"r{i}", includes=(f"r{i + 1}",) if i + 1 < depth else ()) for i in range(depth)
    )
    chain = (*chain[:-1], Role(name=f"r{depth - 1}", permissions=(Permission(action="view"),)))
    policy = Policy(roles=chain, grants=(Grant(role="r0", principal="ann"),))
    assert policy.authorize("ann", "view").allowed
    looped = (*chain[:-1], Role(name=f"r{depth - 1}", includes=("r0",)))
    with pytest.raises(ConfigurationError) as caught:
        Policy(roles=looped)
    assert [p.message.split(":")[0] for p in caught.value.problems] == ["role inclusion cycle"]


def test_a_group_hierarchy_thousands_deep_is_validated_in_one_walk() -> None:
    depth = 3000  # each unit walked to the top was cubic: minutes at this depth
    hierarchy = tuple((f"g{i}", f"g{i + 1}") for i in range(depth))
    policy = Policy(hierarchy=hierarchy)
    assert len(policy.hierarchy) == depth
    with pytest.raises(ConfigurationError):
        Policy(hierarchy=(*hierarchy, (f"g{depth}", "g0")))


@pytest.mark.parametrize("junk", [3, None, {"a": 1}, ["view"], b"view"])
def test_permission_helpers_name_an_argument_of_the_wrong_type(junk: Any) -> None:
    policy = default_policy()
    with pytest.raises(InvalidValueError):
        pattern_matches(junk, "view")
    with pytest.raises(InvalidValueError):
        pattern_matches("view", junk)
    with pytest.raises(InvalidValueError) as caught:
        Directory([]).get(junk)
    assert caught.value.field == "principal"
    if not isinstance(junk, list):
        with pytest.raises(InvalidValueError) as caught:
            policy.rights_table(junk)
        assert caught.value.field == "actions"
    if junk is not None and not isinstance(junk, list):  # None: every role
        with pytest.raises(InvalidValueError) as caught:
            policy.rights_table(["view"], junk)
        assert caught.value.field in ("roles", "role")
