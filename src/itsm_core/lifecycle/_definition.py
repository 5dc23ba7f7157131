"""Lifecycles as data: states, transitions, guards, required fields, policies; validation."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import attrs

from itsm_core.errors import ConfigurationError, Problem
from itsm_core.ticket import CATEGORIES, FINAL_CATEGORIES, FieldValue, Ticket

__all__ = [
    "COMMAND_TRIGGERS",
    "FIELD_TYPES",
    "GUARD_KINDS",
    "RELATIONS",
    "TRANSITION_FIELDS",
    "FieldDef",
    "Guard",
    "LifecycleDef",
    "Policies",
    "StateDef",
    "TransitionDef",
    "validate_definition",
]

#: The declarative guard vocabulary: kind -> what it checks.
GUARD_KINDS: dict[str, str] = {
    "assigned": "the ticket has an assignee",
    "unassigned": "the ticket has no assignee",
    "actor_is": "the actor has one of the relations in values (requester, assignee, anyone)",
    "actor_is_not": "the actor has none of the relations in values (requester, assignee)",
    "hold_reason": "the command's hold_reason is one of values",
    "approved": "the ticket's approval was given",
    "not_major": "the ticket is not major",
    "fields_set": "the custom fields named in values are set on the ticket",
}
#: Relations of an actor to a ticket that guards and policies may name.
RELATIONS: tuple[str, ...] = ("requester", "assignee", "anyone")
#: Command fields a transition may require (besides declared custom fields).
TRANSITION_FIELDS: tuple[str, ...] = ("reason", "resolution_code", "hold_reason")
#: Types a custom field may have.
FIELD_TYPES: tuple[str, ...] = ("str", "int", "float", "bool")
#: Triggers fired by a dedicated command rather than by ``Transition``: trigger -> command.
COMMAND_TRIGGERS: dict[str, str] = {
    "assign": "Assign",
    "reassign": "Reassign",
    "requester_reply": "AddComment (a public comment by the requester)",
    "request_approval": "RequestApproval",
    "approve": "Approve",
    "refuse": "Refuse",
    "merge": "Merge",
}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TICKET_FIELDS = frozenset(a.name for a in attrs.fields(Ticket))


@attrs.frozen(kw_only=True)
class StateDef:
    """A state: a name, a category and optional sub-states (a compound state).

    A compound state (with ``children``) is never a resting state: tickets rest
    in its sub-states, named ``parent.child``; a transition whose source is the
    compound state leaves from every sub-state. Sub-states share the parent's
    category.

    >>> hold = StateDef(name="on_hold", category="on_hold",
    ...                 children=(StateDef(name="awaiting_requester", category="on_hold"),))
    >>> [c.name for c in hold.children]
    ['awaiting_requester']
    """

    name: str
    category: str
    children: tuple[StateDef, ...] = ()
    description: str = ""


@attrs.frozen(kw_only=True)
class Guard:
    """A condition from the declarative vocabulary :data:`GUARD_KINDS`.

    >>> Guard(kind="hold_reason", values=("awaiting_vendor",))
    Guard(kind='hold_reason', values=('awaiting_vendor',))
    """

    kind: str
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        """A short label for diagrams: ``kind`` or ``kind=value|value``.

        >>> Guard(kind="actor_is", values=("requester", "assignee")).describe()
        'actor_is=requester|assignee'
        """
        return f"{self.kind}={'|'.join(self.values)}" if self.values else self.kind


@attrs.frozen(kw_only=True)
class TransitionDef:
    """A transition: ``trigger`` moves a ticket from any of ``source`` to ``dest``.

    All ``guards`` must hold; ``requires`` names command fields
    (:data:`TRANSITION_FIELDS`) or declared custom fields that must be set.
    Several transitions may share a trigger and a source: the first whose
    guards hold is taken.

    >>> TransitionDef(trigger="resolve", source=("in_progress",), dest="resolved",
    ...               requires=("resolution_code",)).requires
    ('resolution_code',)
    """

    trigger: str
    source: tuple[str, ...]
    dest: str
    guards: tuple[Guard, ...] = ()
    requires: tuple[str, ...] = ()
    description: str = ""


@attrs.frozen(kw_only=True)
class FieldDef:
    """A typed custom field of the tickets of a lifecycle; ``choices`` restricts the values.

    >>> FieldDef(name="workaround", type="str").type
    'str'
    """

    name: str
    type: str
    choices: tuple[FieldValue, ...] = ()
    description: str = ""


@attrs.frozen(kw_only=True)
class Policies:
    """Policies that the lifecycle applies to its well-known triggers.

    * ``reopen``: only actors with a relation in ``reopen_by`` (``requester``,
      ``assignee``, ``anyone``) and only within ``reopen_window_days`` business
      days of the resolution (``None``: no limit); afterwards the answer is a
      new ticket linked ``follow_up_of`` the old one.
    * ``close``: with ``closure_confirmed_by_requester`` only the requester
      confirms closure (others wait for ``auto_close``).
    * ``auto_close``: allowed, and reported by ``due_transitions``, once the
      ticket has been resolved for ``auto_close_after_days`` business days
      (``None``: never); a major ticket is exempt.
    * ``requester_reply``: with ``requester_reply_resumes`` a public comment by
      the requester fires it.
    * ``major_allowed``: whether tickets of this lifecycle may be declared major.

    >>> Policies().reopen_window_days, Policies().auto_close_after_days
    (10, 5)
    """

    reopen_window_days: int | None = 10
    reopen_by: tuple[str, ...] = ("requester",)
    closure_confirmed_by_requester: bool = True
    auto_close_after_days: int | None = 5
    requester_reply_resumes: bool = True
    major_allowed: bool = False


@attrs.frozen(kw_only=True)
class LifecycleDef:
    """A whole lifecycle as data (cattrs turns it to and from a plain dict).

    ``name`` is the ticket type it serves. Validation (:func:`validate_definition`,
    run when a :class:`~itsm_core.lifecycle.Lifecycle` is built) reports every
    problem at once.

    >>> d = LifecycleDef(
    ...     name="chore", initial="todo",
    ...     states=(StateDef(name="todo", category="new"),
    ...             StateDef(name="done", category="closed")),
    ...     transitions=(TransitionDef(trigger="finish", source=("todo",), dest="done"),),
    ... )
    >>> validate_definition(d)
    []
    """

    name: str
    initial: str
    states: tuple[StateDef, ...]
    transitions: tuple[TransitionDef, ...]
    fields: tuple[FieldDef, ...] = ()
    policies: Policies = Policies()
    description: str = ""


@attrs.frozen(kw_only=True)
class _FlatState:
    name: str
    category: str
    parent: str | None
    leaf: bool
    path: str


def _flatten(
    states: tuple[StateDef, ...], prefix: str, parent: str | None, path: str
) -> Iterator[_FlatState]:
    for i, state in enumerate(states):
        full = f"{prefix}{state.name}"
        here = f"{path}[{i}]"
        yield _FlatState(
            name=full, category=state.category, parent=parent, leaf=not state.children, path=here
        )
        yield from _flatten(state.children, f"{full}.", full, f"{here}.children")


def flat_states(definition: LifecycleDef) -> tuple[_FlatState, ...]:
    """Every state of a definition with its full dotted name (compound states first)."""
    return tuple(_flatten(definition.states, "", None, "lifecycle.states"))


def leaves_under(name: str, flat: tuple[_FlatState, ...]) -> tuple[str, ...]:
    """The resting (leaf) states at or below ``name``."""
    return tuple(
        s.name for s in flat if s.leaf and (s.name == name or s.name.startswith(name + "."))
    )


def _check_name(value: object, path: str, what: str) -> list[Problem]:
    if not isinstance(value, str) or not _NAME.match(value):
        return [
            Problem(
                path,
                f"expected {what}: lower-case letters, digits and '_', starting with a letter; "
                f"got {value!r}",
            )
        ]
    return []


def _check_states(definition: LifecycleDef, flat: tuple[_FlatState, ...]) -> list[Problem]:
    problems: list[Problem] = []
    if not definition.states:
        problems.append(Problem("lifecycle.states", "expected at least one state, got none"))
    seen: set[str] = set()
    by_name = {s.name: s for s in flat}
    for state in flat:
        short = state.name.rsplit(".", 1)[-1]
        problems += _check_name(short, f"{state.path}.name", "a state name")
        if state.name in seen:
            problems.append(Problem(f"{state.path}.name", f"duplicate state {state.name!r}"))
        seen.add(state.name)
        if state.category not in CATEGORIES:
            problems.append(
                Problem(
                    f"{state.path}.category",
                    f"expected one of {', '.join(CATEGORIES)}, got {state.category!r}",
                )
            )
        elif state.parent is not None and by_name[state.parent].category != state.category:
            problems.append(
                Problem(
                    f"{state.path}.category",
                    f"a sub-state shares its parent's category "
                    f"{by_name[state.parent].category!r}, got {state.category!r}",
                )
            )
    return problems


def _check_guard(guard: Guard, path: str) -> list[Problem]:
    if guard.kind not in GUARD_KINDS:
        return [
            Problem(
                f"{path}.kind",
                f"unknown guard {guard.kind!r}; expected one of {', '.join(GUARD_KINDS)}",
            )
        ]
    if guard.kind in ("actor_is", "actor_is_not"):
        allowed = RELATIONS if guard.kind == "actor_is" else RELATIONS[:2]
        bad = [v for v in guard.values if v not in allowed]
        if bad or not guard.values:
            return [
                Problem(
                    f"{path}.values",
                    f"expected one or more of {', '.join(allowed)}, got {guard.values!r}",
                )
            ]
    elif guard.kind in ("hold_reason", "fields_set"):
        if not guard.values:
            return [Problem(f"{path}.values", f"guard {guard.kind!r} needs at least one value")]
    elif guard.values:
        return [Problem(f"{path}.values", f"guard {guard.kind!r} takes no values")]
    return []


def _check_transitions(
    definition: LifecycleDef, flat: tuple[_FlatState, ...], field_names: set[str]
) -> list[Problem]:
    problems: list[Problem] = []
    by_name = {s.name: s for s in flat}
    for i, tr in enumerate(definition.transitions):
        path = f"lifecycle.transitions[{i}]"
        problems += _check_name(tr.trigger, f"{path}.trigger", "a trigger name")
        if not tr.source:
            problems.append(Problem(f"{path}.source", "expected at least one source state"))
        for j, src in enumerate(tr.source):
            if src not in by_name:
                problems.append(Problem(f"{path}.source[{j}]", f"unknown state {src!r}"))
        if tr.dest not in by_name:
            problems.append(Problem(f"{path}.dest", f"unknown state {tr.dest!r}"))
        elif not by_name[tr.dest].leaf:
            children = ", ".join(leaves_under(tr.dest, flat))
            problems.append(
                Problem(
                    f"{path}.dest",
                    f"{tr.dest!r} is a compound state; name one of its sub-states: {children}",
                )
            )
        for j, guard in enumerate(tr.guards):
            problems += _check_guard(guard, f"{path}.guards[{j}]")
            if guard.kind == "fields_set":
                for name in guard.values:
                    if name not in field_names:
                        problems.append(
                            Problem(f"{path}.guards[{j}].values", f"unknown custom field {name!r}")
                        )
        for j, name in enumerate(tr.requires):
            if name not in TRANSITION_FIELDS and name not in field_names:
                problems.append(
                    Problem(
                        f"{path}.requires[{j}]",
                        f"expected one of {', '.join(TRANSITION_FIELDS)} or a declared custom "
                        f"field, got {name!r}",
                    )
                )
    return problems


def _check_graph(definition: LifecycleDef, flat: tuple[_FlatState, ...]) -> list[Problem]:
    problems: list[Problem] = []
    by_name = {s.name: s for s in flat}
    exits: dict[str, set[str]] = {s.name: set() for s in flat if s.leaf}
    for i, tr in enumerate(definition.transitions):
        if tr.dest not in by_name or not by_name[tr.dest].leaf:
            continue
        for j, src in enumerate(tr.source):
            for leaf in leaves_under(src, flat) if src in by_name else ():
                exits[leaf].add(tr.dest)
                if by_name[leaf].category in FINAL_CATEGORIES:
                    problems.append(
                        Problem(
                            f"lifecycle.transitions[{i}].source[{j}]",
                            f"final state {leaf!r} (category {by_name[leaf].category}) "
                            f"has an exit {tr.trigger!r}; final states have none",
                        )
                    )
    for state in flat:
        if state.leaf and state.category not in FINAL_CATEGORIES and not exits[state.name]:
            problems.append(
                Problem(
                    state.path,
                    f"state {state.name!r} is a dead end: it has no exit but its category "
                    f"{state.category!r} is not final (closed or cancelled)",
                )
            )
    initial = by_name.get(definition.initial)
    if initial is None:
        problems.append(Problem("lifecycle.initial", f"unknown state {definition.initial!r}"))
        return problems
    if not initial.leaf:
        problems.append(Problem("lifecycle.initial", f"{definition.initial!r} is a compound state"))
        return problems
    if initial.category in FINAL_CATEGORIES:
        problems.append(Problem("lifecycle.initial", f"{definition.initial!r} is a final state"))
    reached = {definition.initial}
    todo = [definition.initial]
    while todo:
        for dest in exits[todo.pop()]:
            if dest not in reached:
                reached.add(dest)
                todo.append(dest)
    for state in flat:
        if state.leaf and state.name not in reached:
            problems.append(
                Problem(
                    state.path,
                    f"state {state.name!r} is unreachable from the initial state "
                    f"{definition.initial!r}",
                )
            )
    return problems


def _check_fields(definition: LifecycleDef) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, field in enumerate(definition.fields):
        path = f"lifecycle.fields[{i}]"
        problems += _check_name(field.name, f"{path}.name", "a field name")
        if field.name in _TICKET_FIELDS:
            problems.append(Problem(f"{path}.name", f"{field.name!r} is a built-in ticket field"))
        if field.name in seen:
            problems.append(Problem(f"{path}.name", f"duplicate field {field.name!r}"))
        seen.add(field.name)
        if field.type not in FIELD_TYPES:
            problems.append(
                Problem(
                    f"{path}.type", f"expected one of {', '.join(FIELD_TYPES)}, got {field.type!r}"
                )
            )
        else:
            for j, choice in enumerate(field.choices):
                if not value_has_type(choice, field.type):
                    problems.append(
                        Problem(f"{path}.choices[{j}]", f"expected a {field.type}, got {choice!r}")
                    )
    return problems


def _check_policies(policies: Policies) -> list[Problem]:
    problems: list[Problem] = []
    for name in ("reopen_window_days", "auto_close_after_days"):
        value = getattr(policies, name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            problems.append(
                Problem(
                    f"lifecycle.policies.{name}",
                    f"expected a whole number of business days >= 0 or None, got {value!r}",
                )
            )
    bad = [r for r in policies.reopen_by if r not in RELATIONS]
    if bad:
        problems.append(
            Problem(
                "lifecycle.policies.reopen_by",
                f"expected relations among {', '.join(RELATIONS)}, got {bad!r}",
            )
        )
    return problems


def value_has_type(value: object, type_name: str) -> bool:
    """Whether ``value`` is of custom field type ``type_name`` (``bool`` is not an ``int``)."""
    if type_name == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if type_name == "int":
        return isinstance(value, int)
    if type_name == "float":
        # NaN and infinities are refused: JSON cannot hold them and NaN equals nothing.
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    return isinstance(value, str)


def validate_definition(definition: LifecycleDef) -> list[Problem]:
    """Every problem of a lifecycle definition (empty when it is valid).

    Checked: names; categories; unknown states in transitions; a compound
    destination; guards and required fields from the vocabulary; final states
    with exits; dead ends that are not final; states unreachable from the
    initial state; custom fields; policy values.

    >>> bad = LifecycleDef(
    ...     name="chore", initial="todo",
    ...     states=(StateDef(name="todo", category="new"), StateDef(name="done", category="closed"),
    ...             StateDef(name="limbo", category="active")),
    ...     transitions=(TransitionDef(trigger="finish", source=("todo",), dest="done"),
    ...                  TransitionDef(trigger="undo", source=("done",), dest="todo")),
    ... )
    >>> for problem in validate_definition(bad):
    ...     print(problem)
    lifecycle.transitions[1].source[0]: final state 'done' (category closed) has an exit 'undo'; \
final states have none
    lifecycle.states[2]: state 'limbo' is a dead end: it has no exit but its category 'active' \
is not final (closed or cancelled)
    lifecycle.states[2]: state 'limbo' is unreachable from the initial state 'todo'
    """
    problems = _check_name(definition.name, "lifecycle.name", "a lifecycle name")
    flat = flat_states(definition)
    field_names = {f.name for f in definition.fields}
    problems += _check_states(definition, flat)
    problems += _check_fields(definition)
    problems += _check_transitions(definition, flat, field_names)
    problems += _check_policies(definition.policies)
    if not any(p.path.startswith("lifecycle.states") for p in problems):
        problems += _check_graph(definition, flat)
    return problems


def check_definition(definition: LifecycleDef) -> None:
    """Raise :class:`~itsm_core.errors.ConfigurationError` listing every problem, if any."""
    if not isinstance(definition, LifecycleDef):
        raise ConfigurationError(
            [Problem("lifecycle", f"expected a LifecycleDef, got {type(definition).__name__}")]
        )
    problems = validate_definition(definition)
    if problems:
        raise ConfigurationError(problems)
