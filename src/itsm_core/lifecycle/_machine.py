"""The ``transitions`` machine of a lifecycle and its compiled transition table.

One hierarchical machine is built per lifecycle, with no model attached: it
defines the states (``on_hold`` sub-states nested with ``.`` as separator),
the triggers, and one condition per transition that evaluates the
declarative guards. The hot path never fires the machine: the machine's own
transition table is compiled into a dict ``(state, trigger) -> candidates``.
A throwaway probe model can still fire the machine, which the tests use as
the reference the compiled table must agree with.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import attrs

from itsm_core.lifecycle._definition import Guard, LifecycleDef, StateDef, TransitionDef

__all__ = [
    "CompiledTransition",
    "GuardCheck",
    "MachineProbe",
    "build_machine",
    "compile_table",
    "machine_dest",
]


@cache
def _machine_class() -> Any:
    """The hierarchical machine class, imported when the first machine is built.

    ``transitions.extensions.nesting`` pulls in ``asyncio`` and ``ssl``: importing
    the package must not pay for them.
    """
    from transitions.extensions.nesting import HierarchicalMachine, NestedState

    class _State(NestedState):
        separator = "."

    class _Machine(HierarchicalMachine):
        state_cls = _State

    return _Machine


@attrs.frozen(kw_only=True)
class CompiledTransition:
    """One candidate of the compiled table: where a trigger leads and on what conditions."""

    trigger: str
    source: str
    dest: str
    dest_category: str
    guards: tuple[Guard, ...]
    requires: tuple[str, ...]
    index: int


class GuardCheck:
    """The condition attached to a machine transition: it carries the transition's definition.

    When the machine is fired (by a probe), the event's ``ctx`` keyword is passed
    to ``evaluate`` (a function of the guards and the context).
    """

    __slots__ = ("evaluate", "index", "transition")

    def __init__(
        self,
        index: int,
        transition: TransitionDef,
        evaluate: Callable[[tuple[Guard, ...], Any], bool],
    ) -> None:
        self.index = index
        self.transition = transition
        self.evaluate = evaluate

    def __call__(self, event_data: Any) -> bool:
        return self.evaluate(self.transition.guards, event_data.kwargs["ctx"])


def _state_spec(state: StateDef) -> str | dict[str, Any]:
    if not state.children:
        return state.name
    return {"name": state.name, "children": [_state_spec(c) for c in state.children]}


def build_machine(
    definition: LifecycleDef, evaluate: Callable[[tuple[Guard, ...], Any], bool]
) -> Any:
    """The ``transitions`` hierarchical machine of a (validated) definition, with no model."""
    machine = _machine_class()(
        model=None,
        states=[_state_spec(s) for s in definition.states],
        initial=definition.initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    for index, tr in enumerate(definition.transitions):
        machine.add_transition(
            tr.trigger,
            list(tr.source),
            tr.dest,
            conditions=[GuardCheck(index, tr, evaluate)],
        )
    return machine


def compile_table(
    machine: Any, categories: dict[str, str], leaves: tuple[str, ...]
) -> dict[tuple[str, str], tuple[CompiledTransition, ...]]:
    """Compile the machine's transition table: for each resting state and trigger, the
    candidate transitions in the order the machine tries them (the state's own first,
    then its parents', each in definition order)."""
    table: dict[tuple[str, str], tuple[CompiledTransition, ...]] = {}
    # Read through transitions' public API (get_triggers, get_transitions), never its internals.
    for leaf in leaves:
        parts = leaf.split(".")
        for trigger in machine.get_triggers(leaf):
            candidates: list[CompiledTransition] = []
            for depth in range(len(parts), 0, -1):
                source = ".".join(parts[:depth])
                for tr in machine.get_transitions(trigger=trigger, source=source):
                    check: GuardCheck = tr.conditions[0].func
                    candidates.append(
                        CompiledTransition(
                            trigger=trigger,
                            source=source,
                            dest=tr.dest,
                            dest_category=categories[tr.dest],
                            guards=check.transition.guards,
                            requires=check.transition.requires,
                            index=check.index,
                        )
                    )
            if candidates:
                table[(leaf, trigger)] = tuple(candidates)
    return table


class MachineProbe:
    """Fires a lifecycle's ``transitions`` machine with one throwaway model: the slow reference.

    The hot path never fires the machine; tests use a probe to check that the
    compiled table agrees with what ``transitions`` itself does. The probe
    attaches one model to the machine until :meth:`close`.

    >>> from itsm_core.lifecycle import Lifecycle, incident
    >>> lifecycle = Lifecycle(incident())
    >>> probe = MachineProbe(lifecycle.machine)
    >>> probe.dest("resolved", "reopen", None), probe.dest("closed", "reopen", None)
    ('in_progress', None)
    >>> probe.close()
    """

    __slots__ = ("machine", "model", "triggers")

    def __init__(self, machine: Any) -> None:
        self.machine = machine
        self.model = _Model()
        # The triggers of each state, asked once: the machine does not change while probed.
        self.triggers: dict[str, frozenset[str]] = {}
        machine.add_model(self.model, initial=machine.initial)

    def dest(self, state: str, trigger: str, ctx: Any) -> str | None:
        """The state ``trigger`` reaches from ``state`` (``None``: refused or guarded off)."""
        machine = self.machine
        known = self.triggers.get(state)
        if known is None:
            known = self.triggers[state] = frozenset(machine.get_triggers(state))
        if trigger not in known:
            return None
        machine.set_state(state, model=self.model)
        done = self.model.trigger(trigger, ctx=ctx)  # type: ignore[attr-defined]
        return self.model.state if done else None

    def close(self) -> None:
        """Detach the probe's model from the machine."""
        self.machine.remove_model(self.model)


class _Model:
    state: str


def machine_dest(machine: Any, state: str, trigger: str, ctx: Any) -> str | None:
    """Fire ``trigger`` once from ``state`` with a fresh :class:`MachineProbe` (slow).

    ``ctx`` is what the guards see (a ticket, an actor, an instant and a hold
    reason). Returns the state reached, or ``None`` when the machine refuses.
    """
    probe = MachineProbe(machine)
    try:
        return probe.dest(state, trigger, ctx)
    finally:
        probe.close()
