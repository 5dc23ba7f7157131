"""The plain, JSON-shaped form of a policy: ``to_dict`` and ``from_dict``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from itsm_core.errors import ConfigurationError, InvalidValueError, Problem
from itsm_core.permissions._model import (
    ANYONE,
    DEFAULT_RESTRICTED_FIELDS,
    Grant,
    Permission,
    Role,
    Scope,
)

if TYPE_CHECKING:
    from itsm_core.permissions._policy import Policy

__all__ = ["policy_from_dict", "policy_to_dict"]

T = TypeVar("T")

_POLICY_KEYS = ("roles", "grants", "hierarchy", "restricted_fields")
_ROLE_KEYS = ("name", "permissions", "includes", "description")
_PERMISSION_KEYS = ("action", "relations", "from_states", "to_states", "limit", "report_above")
_GRANT_KEYS = ("role", "principal", "group", "scope", "relations", "effect", "note")
_SCOPE_KEYS = ("groups", "departments", "tenants", "types", "recursive")
_LISTS = frozenset({"relations", "from_states", "to_states", "includes", "groups"}) | frozenset(
    {"departments", "tenants", "types"}
)


def _permission_to_data(permission: Permission) -> str | dict[str, Any]:
    if not permission.conditional:
        return permission.action
    data: dict[str, Any] = {"action": permission.action}
    if permission.relations != (ANYONE,):
        data["relations"] = list(permission.relations)
    for key in ("from_states", "to_states"):
        if getattr(permission, key):
            data[key] = list(getattr(permission, key))
    for key in ("limit", "report_above"):
        if getattr(permission, key) is not None:
            data[key] = getattr(permission, key)
    return data


def _role_to_data(role: Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": role.name,
        "permissions": [_permission_to_data(p) for p in role.permissions],
    }
    if role.includes:
        data["includes"] = list(role.includes)
    if role.description:
        data["description"] = role.description
    return data


def _grant_to_data(grant: Grant) -> dict[str, Any]:
    data: dict[str, Any] = {"role": grant.role}
    if grant.principal is not None:
        data["principal"] = grant.principal
    else:
        data["group"] = grant.group
    scope = grant.scope
    if not scope.is_everywhere or scope.recursive:
        scope_data: dict[str, Any] = {
            key: list(getattr(scope, key))
            for key in ("groups", "departments", "tenants", "types")
            if getattr(scope, key)
        }
        if scope.recursive:
            scope_data["recursive"] = True
        data["scope"] = scope_data
    if grant.relations != (ANYONE,):
        data["relations"] = list(grant.relations)
    if grant.effect != "allow":
        data["effect"] = grant.effect
    if grant.note:
        data["note"] = grant.note
    return data


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """The plain form of ``policy`` (defaults left out)."""
    data: dict[str, Any] = {
        "roles": [_role_to_data(r) for r in policy.roles],
        "grants": [_grant_to_data(g) for g in policy.grants],
    }
    if policy.hierarchy:
        data["hierarchy"] = dict(policy.hierarchy)
    if policy.restricted_fields != DEFAULT_RESTRICTED_FIELDS:
        data["restricted_fields"] = list(policy.restricted_fields)
    return data


# ---------------------------------------------------------------------------- parsing


def _mapping(data: object, path: str, keys: tuple[str, ...], problems: list[Problem]) -> bool:
    if not isinstance(data, Mapping):
        problems.append(
            Problem(path, f"expected a mapping with keys {', '.join(keys)}, got {data!r}")
        )
        return False
    for key in data:
        if key not in keys:
            problems.append(Problem(path, f"unknown key {key!r}; expected {', '.join(keys)}"))
    return True


def _list(data: object, path: str, problems: list[Problem]) -> list[Any] | None:
    if isinstance(data, str | bytes | Mapping) or not isinstance(data, list | tuple):
        problems.append(Problem(path, f"expected a list, got {data!r}"))
        return None
    return list(data)


def _sub(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _build(
    factory: type[T], kwargs: dict[str, Any], path: str, prefix: str, problems: list[Problem]
) -> T | None:
    # Unknown keys are reported by the caller's key check; they are never passed on.
    known = {a.alias for a in attrs.fields(factory)}  # type: ignore[arg-type]
    kwargs = {key: value for key, value in kwargs.items() if key in known}
    for key in list(kwargs):
        if key in _LISTS:
            value = _list(kwargs[key], _sub(path, key), problems)
            if value is None:
                return None
            kwargs[key] = tuple(value)
    try:
        return factory(**kwargs)
    except InvalidValueError as exc:
        field = exc.field
        suffix = field[len(prefix) :] if field.startswith(prefix) else f".{field}"
        problems.append(Problem(f"{path}{suffix}", f"expected {exc.expected}, got {exc.value!r}"))
        return None


def _missing(
    data: Mapping[str, Any], path: str, keys: tuple[str, ...], problems: list[Problem]
) -> bool:
    absent = [k for k in keys if k not in data]
    for key in absent:
        problems.append(Problem(_sub(path, key), "missing"))
    return not absent


def _permission(data: object, path: str, problems: list[Problem]) -> Permission | None:
    if isinstance(data, str):
        return _build(Permission, {"action": data}, path, "permission.action", problems)
    if not _mapping(data, path, _PERMISSION_KEYS, problems):
        return None
    assert isinstance(data, Mapping)
    if not _missing(data, path, ("action",), problems):
        return None
    return _build(Permission, dict(data), path, "permission", problems)


def _role(data: object, path: str, problems: list[Problem]) -> Role | None:
    if isinstance(data, Role):  # already built and checked (a desk's default roles)
        return data
    if not _mapping(data, path, _ROLE_KEYS, problems):
        return None
    assert isinstance(data, Mapping)
    if not _missing(data, path, ("name",), problems):
        return None
    kwargs = dict(data)
    before = len(problems)
    items = _list(kwargs.get("permissions", []), f"{path}.permissions", problems)
    permissions = [
        _permission(item, f"{path}.permissions[{i}]", problems)
        for i, item in enumerate(items or [])
    ]
    if len(problems) > before:
        return None
    kwargs["permissions"] = tuple(p for p in permissions if p is not None)
    return _build(Role, kwargs, path, "role", problems)


def _grant(data: object, path: str, problems: list[Problem]) -> Grant | None:
    if isinstance(data, Grant):  # already built and checked (the default baseline grant)
        return data
    if not _mapping(data, path, _GRANT_KEYS, problems):
        return None
    assert isinstance(data, Mapping)
    if not _missing(data, path, ("role",), problems):
        return None
    kwargs = dict(data)
    if "scope" in kwargs:
        scope_data = kwargs["scope"]
        if not _mapping(scope_data, f"{path}.scope", _SCOPE_KEYS, problems):
            return None
        scope = _build(Scope, dict(scope_data), f"{path}.scope", "scope", problems)
        if scope is None:
            return None
        kwargs["scope"] = scope
    return _build(Grant, kwargs, path, "grant", problems)


def policy_from_dict(cls: type[Policy], data: Mapping[str, Any]) -> Policy:
    """Parse the plain form; every problem is reported with its path."""
    problems: list[Problem] = []
    if not _mapping(data, "", _POLICY_KEYS, problems):
        raise ConfigurationError(problems)
    roles = [
        _role(item, f"roles[{i}]", problems)
        for i, item in enumerate(_list(data.get("roles", []), "roles", problems) or [])
    ]
    grants = [
        _grant(item, f"grants[{i}]", problems)
        for i, item in enumerate(_list(data.get("grants", []), "grants", problems) or [])
    ]
    kwargs: dict[str, Any] = {}
    hierarchy = data.get("hierarchy", {})
    if not isinstance(hierarchy, Mapping):
        problems.append(
            Problem("hierarchy", f"expected a mapping child -> parent, got {hierarchy!r}")
        )
    else:
        kwargs["hierarchy"] = hierarchy
    if "restricted_fields" in data:
        fields = _list(data["restricted_fields"], "restricted_fields", problems)
        if fields is not None:
            kwargs["restricted_fields"] = tuple(fields)
    if problems:
        raise ConfigurationError(problems)
    return cls(
        roles=tuple(r for r in roles if r is not None),
        grants=tuple(g for g in grants if g is not None),
        **kwargs,
    )
