"""Turning a policy's rule for one principal into a declarative ticket predicate."""

from __future__ import annotations

from collections.abc import Iterable

from itsm_core.permissions._engine import CompiledGrant, Destinations, states_verdict
from itsm_core.permissions._model import ANYONE, Directory, Permission, Principal
from itsm_core.permissions._predicate import (
    FALSE,
    TRUE,
    Predicate,
    p_and,
    p_contains,
    p_eq,
    p_in,
    p_or,
    p_startswith,
)


def _ids_predicate(directory: Directory, field: str, values: Iterable[str]) -> Predicate:
    return p_in("requester", directory.ids_where(field, values))


def _tenant_predicate(tenants: Iterable[str], directory: Directory) -> Predicate:
    wanted = sorted(set(tenants))
    return p_or(
        p_in("customer", wanted),
        p_and(p_eq("customer", None), _ids_predicate(directory, "organization", wanted)),
    )


def scope_predicate(cg: CompiledGrant, directory: Directory) -> Predicate:
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


def relations_predicate(
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


def permission_predicate(
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
        relations_predicate(
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
                verdict = states_verdict(permission.to_states, destinations, every=not deny)
                if not (verdict or (verdict is None and deny)):
                    return FALSE
    if not deny and permission.limit is not None and (amount is None or amount > permission.limit):
        return FALSE
    return p_and(*parts)
