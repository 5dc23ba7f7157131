"""Ticket lifecycles: one compiled machine per lifecycle against ``transitions`` machines.

Every ticket goes through the same working day of the default incident
lifecycle: open, assign, start, hold (awaiting a vendor), resume, resolve,
close (confirmed by the requester) -- seven commands. Two comparisons, each
timed round-robin in one run (the medians of interleaved rounds, so a busy
machine slows every side alike):

* **a command against a bare trigger**: ``Lifecycle.apply`` for the six commands
  after the opening (validation, permissions hook, the events, the new frozen
  ticket), per command, against firing the same six triggers on models already
  attached to one ``transitions`` machine, per trigger. The machine is built
  once from the lifecycle's *definition* (not from our compiled table), with no
  conditions and no callbacks: a bare trigger. The reference for the target is
  the plain ``Machine`` over the resting states (the nested on-hold sub-states
  flattened to their dotted names), the cheapest way ``transitions`` moves a
  model; the ``HierarchicalMachine`` with the nested states is timed beside it.
* **a ticket's whole life against a machine per ticket**: opening plus the six
  commands (ours), against a ``HierarchicalMachine`` built for each ticket
  object, the way the library's documentation shows it, firing the same
  triggers with the ticket's fields as attributes of the model (the
  ``Machine``-per-ticket variant with the flattened states is timed too). Per
  ticket; the naive ways run on a subset of tickets because they are slow.

Memory is the traced size of resting (closed) tickets, measured with
``tracemalloc`` over the same number of tickets for both; for ours it is given
for the ticket alone and for the ticket plus its stored history (the events),
which the naive version does not keep at all.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from transitions import Machine
from transitions.extensions.nesting import HierarchicalMachine, NestedState

from bench._runner import BenchReport, Figure
from itsm_core.lifecycle import Lifecycle, LifecycleDef, StateDef, incident
from itsm_core.ticket import Assign, Event, OpenTicket, Ticket, Transition

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMMANDS_PER_TICKET = 7
#: The triggers of the working day after the opening, in order (the commands' triggers).
DAY_TRIGGERS = ("assign", "start", "hold", "resume", "resolve", "close")
_STEP = timedelta(minutes=7)


class _NaiveState(NestedState):
    separator = "."


class _NaiveMachine(HierarchicalMachine):
    state_cls = _NaiveState


def _state_config(state: StateDef) -> Any:
    if not state.children:
        return state.name
    return {"name": state.name, "children": [_state_config(c) for c in state.children]}


def _naive_config(definition: LifecycleDef) -> tuple[list[Any], list[list[Any]]]:
    states = [_state_config(s) for s in definition.states]
    transitions = [[t.trigger, list(t.source), t.dest] for t in definition.transitions]
    return states, transitions


def _leaves(state: StateDef, prefix: str = "") -> list[str]:
    name = f"{prefix}{state.name}"
    if not state.children:
        return [name]
    return [leaf for child in state.children for leaf in _leaves(child, f"{name}.")]


def _flat_config(definition: LifecycleDef) -> tuple[list[str], list[list[str]]]:
    """The definition for a plain ``Machine``: resting states, compound sources expanded."""
    states = [leaf for s in definition.states for leaf in _leaves(s)]
    transitions = [
        [t.trigger, leaf, t.dest]
        for t in definition.transitions
        for source in t.source
        for leaf in states
        if leaf == source or leaf.startswith(f"{source}.")
    ]
    return states, transitions


def attached_models(machine: Machine, count: int) -> list[NaiveTicket]:
    """``count`` ticket objects attached to one machine (for bare triggers)."""
    models = [NaiveTicket(f"INC-{i}", "Printer jam", "rita", START) for i in range(count)]
    machine.add_model(models, initial="new")
    return models


def fire_day(models: list[NaiveTicket]) -> None:
    """Fire the six triggers of the working day on every model: bare triggers, nothing else."""
    for ticket in models:
        model: Any = ticket
        model.assign()
        model.start()
        model.hold()
        model.resume()
        model.resolve()
        model.close()


def open_tickets(lifecycle: Lifecycle, count: int) -> list[Ticket]:
    """``count`` freshly opened tickets (frozen values: every round starts from them)."""
    return [
        lifecycle.apply(
            None,
            OpenTicket(
                ticket_id=f"INC-{i}", type="incident", title="Printer jam", requester="rita"
            ),
            actor="rita",
            at=START + timedelta(seconds=i),
        )[0]
        for i in range(count)
    ]


def drive_commands(lifecycle: Lifecycle, opened: list[Ticket]) -> list[Ticket]:
    """The six commands after the opening on each opened ticket; the resting tickets."""
    apply = lifecycle.apply
    day = (
        (Assign(assignee="dana", group="service-desk", support_line=1), "dispatcher"),
        (Transition(trigger="start"), "dana"),
        (Transition(trigger="hold", hold_reason="awaiting_vendor", reason="spare part"), "dana"),
        (Transition(trigger="resume"), "dana"),
        (Transition(trigger="resolve", resolution_code="fixed", reason="part replaced"), "dana"),
        (Transition(trigger="close"), "rita"),
    )
    done: list[Ticket] = []
    for ticket in opened:
        at = ticket.updated_at
        for command, actor in day:
            at += _STEP
            ticket = apply(ticket, command, actor=actor, at=at)[0]
        done.append(ticket)
    return done


class NaiveTicket:
    """A mutable ticket: the model a ``transitions`` machine is attached to."""

    def __init__(self, ticket_id: str, title: str, requester: str, opened_at: datetime) -> None:
        self.id = ticket_id
        self.type = "incident"
        self.title = title
        self.requester = requester
        self.opened_at = opened_at
        self.updated_at = opened_at
        self.assignee: str | None = None
        self.group: str | None = None
        self.support_line: int | None = None
        self.hold_reason: str | None = None
        self.resolution_code: str | None = None
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None


def drive_ours(lifecycle: Lifecycle, count: int) -> tuple[list[Ticket], list[list[Event]]]:
    """Open ``count`` tickets and drive each through the working day; keep tickets and events."""
    apply = lifecycle.apply
    assign = Assign(assignee="dana", group="service-desk", support_line=1)
    start = Transition(trigger="start")
    hold = Transition(trigger="hold", hold_reason="awaiting_vendor", reason="spare part")
    resume = Transition(trigger="resume")
    resolve = Transition(trigger="resolve", resolution_code="fixed", reason="part replaced")
    close = Transition(trigger="close")
    tickets: list[Ticket] = []
    histories: list[list[Event]] = []
    for i in range(count):
        at = START + timedelta(seconds=i)
        ticket, events = apply(
            None,
            OpenTicket(
                ticket_id=f"INC-{i}", type="incident", title="Printer jam", requester="rita"
            ),
            actor="rita",
            at=at,
        )
        history = list(events)
        for command, actor in (
            (assign, "dispatcher"),
            (start, "dana"),
            (hold, "dana"),
            (resume, "dana"),
            (resolve, "dana"),
            (close, "rita"),
        ):
            at += _STEP
            ticket, events = apply(ticket, command, actor=actor, at=at)
            history += events
        tickets.append(ticket)
        histories.append(history)
    return tickets, histories


def drive_naive(
    config: tuple[list[Any], list[list[Any]]], count: int, machine_class: Any = None
) -> list[NaiveTicket]:
    """The same working day with one ``transitions`` machine per ticket object."""
    states, transitions = config
    build = _NaiveMachine if machine_class is None else machine_class
    tickets: list[NaiveTicket] = []
    for i in range(count):
        at = START + timedelta(seconds=i)
        ticket = NaiveTicket(f"INC-{i}", "Printer jam", "rita", at)
        build(
            model=ticket,
            states=states,
            transitions=transitions,
            initial="new",
            auto_transitions=False,
        )
        model: Any = ticket
        at += _STEP
        ticket.assignee, ticket.group, ticket.support_line = "dana", "service-desk", 1
        model.assign()
        model.start()
        ticket.hold_reason = "awaiting_vendor"
        model.trigger("hold")
        model.resume()
        ticket.hold_reason = None
        ticket.resolution_code, ticket.resolved_at = "fixed", at
        model.resolve()
        ticket.closed_at = at
        model.close()
        ticket.updated_at = at
        tickets.append(ticket)
    return tickets


class _Batch:
    """A timed batch: ``run`` performs ``ops`` operations; ``prepare`` runs untimed before it."""

    def __init__(
        self, run: Callable[[], object], ops: int, prepare: Callable[[], object] | None = None
    ) -> None:
        self.run, self.ops, self.prepare = run, ops, prepare


def interleaved(batches: dict[str, _Batch], rounds: int) -> dict[str, Figure]:
    """Time the batches round-robin (after one warm-up each), with the cyclic GC paused.

    Every side allocates fresh objects; with the collector on, its passes over
    everything kept alive would dominate and depend on how many objects a side
    keeps, which is no comparison of the commands themselves (``timeit`` pauses
    it too). Round-robin rounds let a busy machine slow every side alike.
    """
    per_op: dict[str, list[float]] = {key: [] for key in batches}
    for warm in (True, *([False] * rounds)):
        for key, batch in batches.items():
            if batch.prepare is not None:
                batch.prepare()
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter_ns()
                batch.run()
                elapsed = time.perf_counter_ns() - start
            finally:
                gc.enable()
            if not warm:
                per_op[key].append(elapsed / 1000 / batch.ops)
    return {
        key: Figure(
            median_us=statistics.median(values),
            min_us=min(values),
            max_us=max(values),
            rounds=rounds,
            ops=batches[key].ops,
        )
        for key, values in per_op.items()
    }


def _bytes_per_item(build: Callable[[], object], count: int) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return (after - before) / count


def _reset(machine: Machine, models: list[NaiveTicket]) -> Callable[[], None]:
    def reset() -> None:
        for model in models:
            machine.set_state("new", model=model)

    return reset


def run(quick: bool) -> BenchReport:
    """Time both comparisons round-robin and measure resting tickets; report the ratios."""
    count = 2_000 if quick else 10_000
    naive_count = 60 if quick else 300
    memory_count = 1_000 if quick else 5_000
    rounds = 7 if quick else 11
    steps = len(DAY_TRIGGERS)
    report = BenchReport(name="lifecycle")
    definition = incident()
    lifecycle = Lifecycle(definition)
    config = _naive_config(definition)
    flat = _flat_config(definition)

    # The working day means the same on every side.
    tickets, histories = drive_ours(lifecycle, 50)
    naive = drive_naive(config, 50)
    assert all(t.state == "closed" for t in tickets)
    assert all(t.state == "closed" for t in naive)  # type: ignore[attr-defined]
    assert all(lifecycle.replay(h) == t for t, h in zip(tickets, histories, strict=True))
    assert [len(h) for h in histories[:1]] == [8]  # opening, assign's two, then one each
    opened = open_tickets(lifecycle, count)
    assert drive_commands(lifecycle, opened[:50]) == tickets
    flat_machine = Machine(
        model=None, states=flat[0], transitions=flat[1], initial="new", auto_transitions=False
    )
    nested_machine = _NaiveMachine(
        model=None, states=config[0], transitions=config[1], initial="new", auto_transitions=False
    )
    flat_models = attached_models(flat_machine, count)
    nested_models = attached_models(nested_machine, count)
    fire_day(flat_models[:1])
    fire_day(nested_models[:1])
    assert [m.state for m in (flat_models[0], nested_models[0])] == ["closed", "closed"]  # type: ignore[attr-defined]

    figures = interleaved(
        {
            "ours: command (apply)": _Batch(
                lambda: drive_commands(lifecycle, opened), count * steps
            ),
            "transitions Machine: bare trigger": _Batch(
                lambda: fire_day(flat_models),
                count * steps,
                _reset(flat_machine, flat_models),
            ),
            "transitions HierarchicalMachine: bare trigger": _Batch(
                lambda: fire_day(nested_models),
                count * steps,
                _reset(nested_machine, nested_models),
            ),
            "ours: ticket (open + 6 commands)": _Batch(lambda: drive_ours(lifecycle, count), count),
            "HierarchicalMachine per ticket: ticket": _Batch(
                lambda: drive_naive(config, naive_count), naive_count
            ),
            "Machine per ticket: ticket": _Batch(
                lambda: drive_naive(flat, naive_count, Machine), naive_count
            ),
        },
        rounds,
    )
    report.figures.update(figures)
    _, replay_histories = drive_ours(lifecycle, min(count, 5_000))
    events = sum(len(h) for h in replay_histories)
    report.figures.update(
        interleaved(
            {
                "ours: replay, per event": _Batch(
                    lambda: [lifecycle.replay(h) for h in replay_histories], events
                )
            },
            rounds,
        )
    )
    command_ratio = (
        report.figures["ours: command (apply)"].median_us
        / report.figures["transitions Machine: bare trigger"].median_us
    )
    report.ratios["command cost / bare Machine trigger (lower is better)"] = command_ratio
    report.ratios["command cost / bare HierarchicalMachine trigger (lower is better)"] = (
        report.figures["ours: command (apply)"].median_us
        / report.figures["transitions HierarchicalMachine: bare trigger"].median_us
    )
    ticket_ratio = report.ratio(
        "time per ticket (HierarchicalMachine per ticket / ours)",
        "HierarchicalMachine per ticket: ticket",
        "ours: ticket (open + 6 commands)",
    )
    flat_ticket_ratio = report.ratio(
        "time per ticket (Machine per ticket / ours)",
        "Machine per ticket: ticket",
        "ours: ticket (open + 6 commands)",
    )

    ours_bytes = _bytes_per_item(lambda: drive_ours(lifecycle, memory_count)[0], memory_count)
    ours_with_history = _bytes_per_item(lambda: drive_ours(lifecycle, memory_count), memory_count)
    naive_bytes = _bytes_per_item(lambda: drive_naive(config, memory_count), memory_count)
    report.values["ours: bytes per resting ticket"] = round(ours_bytes, 1)
    report.values["ours: bytes per resting ticket with its events"] = round(ours_with_history, 1)
    report.values["naive transitions: bytes per resting ticket"] = round(naive_bytes, 1)
    report.ratios["memory per resting ticket (naive / ours)"] = naive_bytes / ours_bytes
    report.ratios["memory incl. our history (naive / ours)"] = naive_bytes / ours_with_history
    report.values["tickets (ours)"] = count
    report.values["tickets (naive per ticket, timed subset)"] = naive_count
    report.values["tickets (memory)"] = memory_count
    report.values["commands per ticket"] = COMMANDS_PER_TICKET
    memory_ratio = report.ratios["memory per resting ticket (naive / ours)"]
    memory_all = report.ratios["memory incl. our history (naive / ours)"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "not met"

    report.notes.append(
        f"target: a command <= 0.5x a bare Machine trigger: {verdict(command_ratio <= 0.5)} "
        f"({command_ratio:.2f}x)"
    )
    report.notes.append(
        f"target: >= 15x less time per ticket than a machine per ticket: "
        f"{verdict(ticket_ratio >= 15)} against a HierarchicalMachine per ticket, the nested "
        f"states as defined ({ticket_ratio:.1f}x); {verdict(flat_ticket_ratio >= 15)} against "
        f"a plain Machine per ticket over the states flattened by hand ({flat_ticket_ratio:.1f}x)"
    )
    report.notes.append(
        f"target: memory >= 20x smaller: {verdict(min(memory_ratio, memory_all) >= 20)} "
        f"({memory_ratio:.1f}x the ticket, {memory_all:.1f}x with its events)"
    )
    report.notes.append("timed round-robin with the cyclic garbage collector paused")
    report.notes.append(
        "ours validates every command and returns its events; the naive machines only move "
        "a state attribute (no guards, no required fields, no history)"
    )
    return report
