"""What the hot path of :meth:`Lifecycle.apply` prepares once per lifecycle.

A lifecycle is built once and applies any number of commands, so everything
that depends only on its definition is worked out when it is built: for each
resting state and trigger, the candidate transitions (:class:`Step`) with their
guards compiled to direct checks and their required fields sorted into command
values and custom fields. Events are built by :func:`trusted_builder`: the
engine builds them from values it has just checked, so the positional builder
skips what the keyword constructor repeats (argument matching, the
post-init pass that turns lists into tuples). A state change that touches only
the state slots (and an assignment with the change it fires) writes the new
ticket in one pass (:func:`ticket_writer`), as its fold would. Builders and
writers fill a mutable draft of the record's layout with plain slot stores and
then make it the frozen record (``__class__`` assignment, checked by the
interpreter): a third of the cost of one descriptor call per slot.

The reference path (the handlers and the generic guard evaluation of the
engine) stays the definition of what is right; a property test checks that
both agree on random command sequences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from itsm_core._drafts import record_writer
from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle._definition import Guard
from itsm_core.lifecycle._machine import CompiledTransition
from itsm_core.ticket import Ticket

__all__ = [
    "COMMAND_VALUES",
    "GuardFn",
    "Step",
    "compile_guard",
    "ticket_writer",
    "trusted_builder",
    "write_assigned_move",
    "write_move",
]

#: Transition requirements a command carries (the others are custom fields of the ticket).
COMMAND_VALUES = frozenset({"reason", "resolution_code", "hold_reason"})

#: A compiled guard: does it hold for (ticket, actor, chosen hold reason)?
GuardFn = Callable[[Ticket, str, "str | None"], bool]


def _is_set(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _relation(relation: str) -> Callable[[Ticket, str], bool]:
    if relation == "anyone":
        return lambda ticket, actor: True
    if relation == "requester":
        return lambda ticket, actor: actor == ticket.requester
    return lambda ticket, actor: actor == ticket.assignee


def compile_guard(guard: Guard) -> GuardFn:
    """``guard`` as a direct check, with the meaning of the engine's guard evaluation.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> t = Ticket(id="I-1", type="incident", state="new", state_category="new",
    ...            title="t", requester="rita", opened_at=at, updated_at=at)
    >>> check = compile_guard(Guard(kind="actor_is", values=("requester",)))
    >>> check(t, "rita", None), check(t, "dana", None)
    (True, False)
    """
    kind = guard.kind
    values = guard.values
    if kind == "assigned":
        return lambda ticket, actor, hold: ticket.assignee is not None
    if kind == "unassigned":
        return lambda ticket, actor, hold: ticket.assignee is None
    if kind in ("actor_is", "actor_is_not"):
        relations = tuple(_relation(r) for r in values)
        if kind == "actor_is":
            return lambda ticket, actor, hold: any(r(ticket, actor) for r in relations)
        return lambda ticket, actor, hold: not any(r(ticket, actor) for r in relations)
    if kind == "hold_reason":
        return lambda ticket, actor, hold: hold in values
    if kind == "approved":
        return lambda ticket, actor, hold: ticket.approval == "approved"
    if kind == "not_major":
        return lambda ticket, actor, hold: not ticket.major
    # fields_set
    return lambda ticket, actor, hold: all(_is_set(ticket.custom(name)) for name in values)


class Step:
    """One candidate transition of a state and trigger, prepared for the hot path.

    ``to`` is the compiled transition (``dest`` and ``dest_category`` its
    destination); ``checks`` its guards as direct checks; ``hold_leaf`` the
    sub-state's name when the destination is a nested on-hold state;
    ``requires_command`` and ``requires_custom`` its required fields, split by
    where their values come from.
    """

    __slots__ = (
        "checks",
        "dest",
        "dest_category",
        "hold_leaf",
        "on_hold",
        "requires_command",
        "requires_custom",
        "to",
    )

    def __init__(self, candidate: CompiledTransition) -> None:
        self.to = candidate
        self.checks: tuple[GuardFn, ...] = tuple(compile_guard(g) for g in candidate.guards)
        self.on_hold = candidate.dest_category == "on_hold"
        dest = self.dest = candidate.dest
        self.dest_category = candidate.dest_category
        self.hold_leaf = dest.rsplit(".", 1)[-1] if "." in dest else None
        self.requires_command = tuple(n for n in candidate.requires if n in COMMAND_VALUES)
        self.requires_custom = tuple(n for n in candidate.requires if n not in COMMAND_VALUES)


def trusted_builder(cls: type) -> Callable[..., Any]:
    """A positional constructor of the attrs record ``cls`` for values already checked.

    It takes every field in ``attrs.fields(cls)`` order and writes each slot
    directly: no keyword matching, no validators or converters, no post-init
    pass. Give it only values the keyword constructor would keep as they are
    (tuples, never lists); the record it returns is equal to the keyword-built one.
    The slots are written on a draft of the same layout, then the draft becomes
    the record (or, where the interpreter refuses that, through each slot's descriptor).

    >>> from itsm_core.ticket import Link
    >>> build = trusted_builder(Link)
    >>> build("parent", "INC-7") == Link(kind="parent", ticket_id="INC-7")
    True
    """
    names = [a.name for a in attrs.fields(cls)]
    return record_writer(cls, names, {n: n for n in names}, label="trusted builder")


def ticket_writer(names: tuple[str, ...]) -> Callable[..., Ticket]:
    """A function ``(old, *values)``: a new :class:`Ticket` with ``names`` set to ``values``.

    Every other field is copied from ``old``. Like :func:`trusted_builder`, it
    checks nothing: give it values the fold of the events would write.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> t = Ticket(id="I-1", type="incident", state="new", state_category="new",
    ...            title="t", requester="rita", opened_at=at, updated_at=at)
    >>> moved = ticket_writer(("state", "version"))(t, "assigned", 2)
    >>> moved == attrs.evolve(t, state="assigned", version=2), t.state
    (True, 'new')
    """
    fields = [a.name for a in attrs.fields(Ticket)]
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise InvalidValueError("names", unknown, f"fields of Ticket: {', '.join(fields)}")
    values = {n: n if n in names else f"old.{n}" for n in fields}
    write: Callable[..., Ticket] = record_writer(Ticket, ("old", *names), values, label="writer")
    return write


#: An assignment and the state change that follows it in one write: what folding both events
#: writes when the change neither leaves nor enters ``resolved`` nor enters a final category.
write_assigned_move = ticket_writer(
    (
        "assignee",
        "group",
        "support_line",
        "state",
        "state_category",
        "hold_reason",
        "updated_at",
        "version",
    )
)

#: A state change in one write, for a change that neither leaves nor enters ``resolved`` nor
#: enters a final category (it writes only the state slots).
write_move = ticket_writer(("state", "state_category", "hold_reason", "updated_at", "version"))
