"""Declarative ticket predicates: plain data a host can translate into its own query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import attrs

from itsm_core.errors import InvalidValueError
from itsm_core.ticket import Ticket

__all__ = [
    "FALSE",
    "PREDICATE_FIELDS",
    "TRUE",
    "Predicate",
    "evaluate_predicate",
    "p_and",
    "p_contains",
    "p_eq",
    "p_in",
    "p_not",
    "p_or",
    "p_startswith",
]

#: A predicate: a JSON-shaped dict (see :func:`evaluate_predicate`).
Predicate: TypeAlias = dict[str, Any]

#: The predicate that holds for every ticket (an empty conjunction).
TRUE: Predicate = {"and": []}
#: The predicate that holds for no ticket (an empty disjunction).
FALSE: Predicate = {"or": []}

#: Fields a predicate may test: the ticket's own.
PREDICATE_FIELDS: tuple[str, ...] = tuple(a.name for a in attrs.fields(Ticket))
_FIELD_SET = frozenset(PREDICATE_FIELDS)
_OPERATORS = ("eq", "in", "contains", "startswith")


def p_eq(field: str, value: object) -> Predicate:
    """``field == value``.

    >>> p_eq("requester", "ann")
    {'field': 'requester', 'eq': 'ann'}
    """
    return {"field": field, "eq": value}


def p_in(field: str, values: Sequence[object]) -> Predicate:
    """``field in values`` (no values: :data:`FALSE`; one value: an ``eq``).

    >>> p_in("group", ["b", "a"]), p_in("group", [])
    ({'field': 'group', 'in': ['a', 'b']}, {'or': []})
    """
    unique = sorted(set(values), key=repr)
    if not unique:
        return {"or": []}
    if len(unique) == 1:
        return p_eq(field, unique[0])
    return {"field": field, "in": unique}


def p_contains(field: str, value: object) -> Predicate:
    """``value in field`` for a list field such as ``watchers``.

    >>> p_contains("watchers", "ann")
    {'field': 'watchers', 'contains': 'ann'}
    """
    return {"field": field, "contains": value}


def p_startswith(field: str, prefix: str) -> Predicate:
    """``field`` starts with ``prefix`` (SQL ``LIKE 'prefix%'``), for state patterns.

    >>> p_startswith("state", "on_hold.")
    {'field': 'state', 'startswith': 'on_hold.'}
    """
    return {"field": field, "startswith": prefix}


def _is_true(p: Predicate) -> bool:
    return p.get("and") == [] and len(p) == 1


def _is_false(p: Predicate) -> bool:
    return p.get("or") == [] and len(p) == 1


def p_and(*parts: Predicate) -> Predicate:
    """The conjunction, flattened and simplified.

    >>> p_and(TRUE, p_eq("type", "incident"))
    {'field': 'type', 'eq': 'incident'}
    >>> p_and(FALSE, p_eq("type", "incident"))
    {'or': []}
    """
    items: list[Predicate] = []
    for part in parts:
        if _is_false(part):
            return {"or": []}
        if "and" in part:
            items.extend(part["and"])
        else:
            items.append(part)
    if len(items) == 1:
        return items[0]
    return {"and": items}


def p_or(*parts: Predicate) -> Predicate:
    """The disjunction, flattened and simplified.

    >>> p_or(FALSE, p_eq("type", "incident"))
    {'field': 'type', 'eq': 'incident'}
    >>> p_or(TRUE, p_eq("type", "incident"))
    {'and': []}
    """
    items: list[Predicate] = []
    for part in parts:
        if _is_true(part):
            return {"and": []}
        if "or" in part:
            items.extend(part["or"])
        else:
            items.append(part)
    if len(items) == 1:
        return items[0]
    return {"or": items}


def p_not(part: Predicate) -> Predicate:
    """The negation, simplified.

    >>> p_not(TRUE), p_not(p_not(p_eq("state", "new")))
    ({'or': []}, {'field': 'state', 'eq': 'new'})
    """
    if _is_true(part):
        return {"or": []}
    if _is_false(part):
        return {"and": []}
    if "not" in part:
        inner: Predicate = part["not"]
        return inner
    return {"not": part}


def evaluate_predicate(
    predicate: Mapping[str, Any], ticket: Ticket, path: str = "predicate"
) -> bool:
    """Whether ``ticket`` satisfies a predicate: the reference meaning of the plain form.

    The forms are ``{"and": [p, ...]}``, ``{"or": [p, ...]}``, ``{"not": p}``,
    ``{"field": f, "eq": v}``, ``{"field": f, "in": [v, ...]}`` and
    ``{"field": f, "contains": v}`` (``v`` is an element of the list field
    ``f``, such as ``watchers``) and ``{"field": f, "startswith": s}`` (a
    text field that begins with ``s``). ``{"and": []}`` is true, ``{"or": []}``
    false. ``f`` is one of :data:`PREDICATE_FIELDS`.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> t = Ticket(id="I-1", type="incident", state="new", state_category="new",
    ...            title="t", requester="ann", opened_at=at, updated_at=at)
    >>> evaluate_predicate({"or": [{"field": "requester", "eq": "ann"},
    ...                            {"field": "group", "in": ["desk"]}]}, t)
    True
    >>> evaluate_predicate({"field": "colour", "eq": "red"}, t)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: predicate.field: expected a ticket field such as \
'requester', 'group' or 'state', got 'colour'
    """
    if not isinstance(predicate, Mapping):
        raise InvalidValueError(path, predicate, "a mapping such as {'field': ..., 'eq': ...}")
    if "field" in predicate:
        field = predicate["field"]
        if field not in _FIELD_SET:
            raise InvalidValueError(
                f"{path}.field", field, "a ticket field such as 'requester', 'group' or 'state'"
            )
        ops = [k for k in predicate if k != "field"]
        if len(ops) != 1 or ops[0] not in _OPERATORS:
            raise InvalidValueError(
                path, dict(predicate), "one operator of eq, in, contains, startswith"
            )
        value = getattr(ticket, field)
        op = ops[0]
        operand = predicate[op]
        if op == "eq":
            return bool(value == operand)
        if op == "in":
            if isinstance(operand, str | bytes) or not isinstance(operand, Sequence):
                raise InvalidValueError(f"{path}.in", operand, "a list of values")
            return value in operand
        if op == "startswith":
            return isinstance(value, str) and isinstance(operand, str) and value.startswith(operand)
        if not isinstance(value, tuple):
            raise InvalidValueError(f"{path}.field", field, "a list field for 'contains'")
        return operand in value
    if len(predicate) != 1:
        raise InvalidValueError(path, dict(predicate), "exactly one of and, or, not, field")
    (key, operand), *_ = predicate.items()
    if key == "not":
        return not evaluate_predicate(operand, ticket, f"{path}.not")
    if key not in ("and", "or") or isinstance(operand, str) or not isinstance(operand, Sequence):
        raise InvalidValueError(path, dict(predicate), "'and'/'or' with a list, or 'not'")
    results = (
        evaluate_predicate(part, ticket, f"{path}.{key}[{i}]") for i, part in enumerate(operand)
    )
    return all(results) if key == "and" else any(results)
