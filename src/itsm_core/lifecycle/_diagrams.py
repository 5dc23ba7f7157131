"""Diagrams of a lifecycle, generated from its ``transitions`` machine: Mermaid and Graphviz dot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from itsm_core.ticket import CATEGORIES, FINAL_CATEGORIES

if TYPE_CHECKING:
    from itsm_core.lifecycle._engine import Lifecycle

__all__ = ["CATEGORY_COLOURS", "to_dot", "to_markdown", "to_mermaid"]

#: Fill colour of each state category in the diagrams.
CATEGORY_COLOURS: dict[str, str] = {
    "new": "#e3f2fd",
    "active": "#fff9c4",
    "on_hold": "#ffe0b2",
    "resolved": "#c8e6c9",
    "closed": "#cfd8dc",
    "cancelled": "#f8bbd0",
}


def _edges(machine: Any) -> Iterator[tuple[str, str, str]]:
    """``(source, dest, label)`` of every transition of the machine, in definition order."""
    found: list[tuple[int, str, str, str]] = []
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for tr in transitions:
                check = tr.conditions[0].func
                guards = check.transition.guards
                label = trigger
                if guards:
                    label += " [" + ", ".join(g.describe() for g in guards) + "]"
                found.append((check.index, source, tr.dest, label))
    for _, source, dest, label in sorted(found, key=lambda e: e[0]):
        yield source, dest, label


def _mermaid_id(name: str) -> str:
    return name.replace(".", "__")


def _mermaid_states(states: Any, prefix: str, indent: str, lines: list[str]) -> None:
    for name, state in states.items():
        full = f"{prefix}{name}"
        if state.states:
            lines.append(f"{indent}state {_mermaid_id(full)} {{")
            _mermaid_states(state.states, f"{full}.", indent + "    ", lines)
            lines.append(f"{indent}}}")
        elif prefix:
            lines.append(f"{indent}{_mermaid_id(full)}: {name}")
        else:
            lines.append(f"{indent}{full}")


def to_mermaid(lifecycle: Lifecycle) -> str:
    """A Mermaid ``stateDiagram-v2`` of the lifecycle; sub-states are drawn inside their parent.

    >>> from itsm_core.lifecycle import Lifecycle, incident
    >>> text = to_mermaid(Lifecycle(incident()))
    >>> print(text.splitlines()[0])
    stateDiagram-v2
    >>> "    new --> assigned: assign" in text.splitlines()
    True
    """
    machine = lifecycle.machine
    lines = ["stateDiagram-v2", f"    [*] --> {_mermaid_id(lifecycle.definition.initial)}"]
    _mermaid_states(machine.states, "", "    ", lines)
    for source, dest, label in _edges(machine):
        lines.append(f"    {_mermaid_id(source)} --> {_mermaid_id(dest)}: {label}")
    for state in lifecycle.states:
        if lifecycle.category_of(state) in FINAL_CATEGORIES:
            lines.append(f"    {_mermaid_id(state)} --> [*]")
    for category in CATEGORIES:
        lines.append(f"    classDef cat_{category} fill:{CATEGORY_COLOURS[category]}")
    for category in CATEGORIES:
        members = [_mermaid_id(s) for s in lifecycle.states if lifecycle.category_of(s) == category]
        if members:
            lines.append(f"    class {','.join(members)} cat_{category}")
    return "\n".join(lines) + "\n"


def _dot_states(
    lifecycle: Lifecycle, states: Any, prefix: str, indent: str, lines: list[str]
) -> None:
    for name, state in states.items():
        full = f"{prefix}{name}"
        if state.states:
            lines.append(f'{indent}subgraph "cluster_{full}" {{')
            lines.append(f'{indent}    label="{name}";')
            _dot_states(lifecycle, state.states, f"{full}.", indent + "    ", lines)
            lines.append(f"{indent}}}")
        else:
            category = lifecycle.category_of(full)
            shape = ", peripheries=2" if category in FINAL_CATEGORIES else ""
            lines.append(
                f'{indent}"{full}" [label="{name}\\n({category})", '
                f'fillcolor="{CATEGORY_COLOURS[category]}"{shape}];'
            )


def to_dot(lifecycle: Lifecycle) -> str:
    """A Graphviz ``digraph`` of the lifecycle; sub-states are clustered inside their parent.

    A transition leaving a compound state is drawn from its first sub-state
    with ``ltail`` pointing at the cluster.

    >>> from itsm_core.lifecycle import Lifecycle, incident
    >>> text = to_dot(Lifecycle(incident()))
    >>> print(text.splitlines()[0])
    digraph "incident" {
    >>> '    "new" -> "assigned" [label="assign"];' in text.splitlines()
    True
    """
    machine = lifecycle.machine
    lines = [
        f'digraph "{lifecycle.name}" {{',
        "    rankdir=LR;",
        "    compound=true;",
        '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    "__start__" [shape=point, label=""];',
    ]
    _dot_states(lifecycle, machine.states, "", "    ", lines)
    lines.append(f'    "__start__" -> "{lifecycle.definition.initial}";')
    leaves = lifecycle.states
    for source, dest, label in _edges(machine):
        if source in leaves:
            lines.append(f'    "{source}" -> "{dest}" [label="{label}"];')
        else:
            first = next(s for s in leaves if s.startswith(source + "."))
            lines.append(f'    "{first}" -> "{dest}" [label="{label}", ltail="cluster_{source}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else "—"


def to_markdown(lifecycle: Lifecycle) -> str:
    """Markdown tables of the lifecycle: its states, its transitions, its fields and policies.

    Generated from the definition (the docs print it at build time).

    >>> from itsm_core.lifecycle import Lifecycle, emergency_change
    >>> print(to_markdown(Lifecycle(emergency_change())).splitlines()[0])
    | State | Category | Final | Meaning |
    """
    definition = lifecycle.definition
    descriptions = {s.name: s.description for s in definition.states}
    for parent in definition.states:
        for child in parent.children:
            descriptions[f"{parent.name}.{child.name}"] = child.description
    lines = ["| State | Category | Final | Meaning |", "|---|---|---|---|"]
    for state in lifecycle.states:
        category = lifecycle.category_of(state)
        final = "yes" if category in FINAL_CATEGORIES else ""
        lines.append(f"| `{state}` | {category} | {final} | {_cell(descriptions.get(state, ''))} |")
    lines += ["", "| Trigger | From | To | Guards | Requires |", "|---|---|---|---|---|"]
    for tr in definition.transitions:
        sources = ", ".join(f"`{src}`" for src in tr.source)
        guards = ", ".join(g.describe() for g in tr.guards)
        requires = ", ".join(tr.requires)
        lines.append(
            f"| `{tr.trigger}` | {sources} | `{tr.dest}` | {_cell(guards)} | {_cell(requires)} |"
        )
    if definition.fields:
        lines += ["", "| Custom field | Type | Choices | Meaning |", "|---|---|---|---|"]
        for field in definition.fields:
            choices = ", ".join(map(str, field.choices))
            lines.append(
                f"| `{field.name}` | {field.type} | {_cell(choices)} | {_cell(field.description)} |"
            )
    policies = definition.policies
    window = policies.reopen_window_days
    auto = policies.auto_close_after_days
    lines += [
        "",
        "| Policy | Value |",
        "|---|---|",
        f"| reopen window | {'no limit' if window is None else f'{window} business days'} |",
        f"| who may reopen | {', '.join(policies.reopen_by)} |",
        f"| closure confirmed by the requester | "
        f"{'yes' if policies.closure_confirmed_by_requester else 'no'} |",
        f"| auto-close | {'never' if auto is None else f'after {auto} business days resolved'} |",
        f"| a requester's reply resumes | {'yes' if policies.requester_reply_resumes else 'no'} |",
        f"| may be declared major | {'yes' if policies.major_allowed else 'no'} |",
    ]
    return "\n".join(lines) + "\n"
