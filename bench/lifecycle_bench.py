"""Ticket lifecycles: one compiled machine per lifecycle, or a ``transitions`` machine per ticket.

Every ticket goes through the same working day of the default incident
lifecycle: open, assign, start, hold (awaiting a vendor), resume, resolve,
close (confirmed by the requester) -- seven commands.

* **ours**: frozen ``Ticket`` records and ``Lifecycle.apply`` (validation, the
  events, the new ticket), 100,000 tickets (5,000 with ``--quick``);
* **naive transitions**: the same states and transitions (the nested on-hold
  sub-states included) as a ``transitions`` ``HierarchicalMachine`` built for
  each ticket object, the way the library's documentation shows it; the ticket's
  fields are attributes of the model. It is timed on a subset (the sizes are in
  the JSON) because it is slow; the time is per command either way.

Memory is the traced size of resting (closed) tickets, measured with
``tracemalloc`` over the same number of tickets for both; for ours it is given
for the ticket alone and for the ticket plus its stored history (the events),
which the naive version does not keep at all.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from transitions.extensions.nesting import HierarchicalMachine, NestedState

from bench._runner import BenchReport, measure
from itsm_core.lifecycle import Lifecycle, LifecycleDef, StateDef, incident
from itsm_core.ticket import Assign, Event, OpenTicket, Ticket, Transition

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMMANDS_PER_TICKET = 7
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


def drive_naive(config: tuple[list[Any], list[list[Any]]], count: int) -> list[NaiveTicket]:
    """The same working day with one ``transitions`` machine per ticket object."""
    states, transitions = config
    tickets: list[NaiveTicket] = []
    for i in range(count):
        at = START + timedelta(seconds=i)
        ticket = NaiveTicket(f"INC-{i}", "Printer jam", "rita", at)
        _NaiveMachine(
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


def _without_gc(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` run with the cyclic garbage collector paused, as ``timeit`` does.

    Both ways allocate fresh objects for every command; with the collector on,
    its passes over every ticket kept alive dominate and depend on how many are
    kept (the naive way is timed on fewer tickets), which would not be a fair
    comparison of the commands themselves.
    """

    def run() -> object:
        gc.collect()
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()

    return run


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


def run(quick: bool) -> BenchReport:
    """Time both ways per command and measure resting tickets; report the ratios."""
    count = 5_000 if quick else 100_000
    naive_count = 300 if quick else 3_000
    memory_count = 1_000 if quick else 5_000
    rounds = 3
    report = BenchReport(name="lifecycle")
    definition = incident()
    lifecycle = Lifecycle(definition)
    config = _naive_config(definition)

    tickets, histories = drive_ours(lifecycle, 50)
    naive = drive_naive(config, 50)
    assert all(t.state == "closed" for t in tickets)
    assert all(t.state == "closed" for t in naive)  # type: ignore[attr-defined]
    assert all(lifecycle.replay(h) == t for t, h in zip(tickets, histories, strict=True))
    assert [len(h) for h in histories[:1]] == [8]  # opening, assign's two, then one each

    report.figures["ours: command"] = measure(
        _without_gc(lambda: drive_ours(lifecycle, count)),
        ops=count * COMMANDS_PER_TICKET,
        rounds=rounds,
    )
    report.figures["naive transitions: command"] = measure(
        _without_gc(lambda: drive_naive(config, naive_count)),
        ops=naive_count * COMMANDS_PER_TICKET,
        rounds=rounds,
    )
    _, replay_histories = drive_ours(lifecycle, min(count, 20_000))
    events = sum(len(h) for h in replay_histories)
    report.figures["ours: replay, per event"] = measure(
        _without_gc(lambda: [lifecycle.replay(h) for h in replay_histories]),
        ops=events,
        rounds=rounds,
    )
    report.ratio("time per command (naive / ours)", "naive transitions: command", "ours: command")

    ours_bytes = _bytes_per_item(lambda: drive_ours(lifecycle, memory_count)[0], memory_count)
    ours_with_history = _bytes_per_item(lambda: drive_ours(lifecycle, memory_count), memory_count)
    naive_bytes = _bytes_per_item(lambda: drive_naive(config, memory_count), memory_count)
    report.values["ours: bytes per resting ticket"] = round(ours_bytes, 1)
    report.values["ours: bytes per resting ticket with its events"] = round(ours_with_history, 1)
    report.values["naive transitions: bytes per resting ticket"] = round(naive_bytes, 1)
    report.ratios["memory per resting ticket (naive / ours)"] = naive_bytes / ours_bytes
    report.ratios["memory incl. our history (naive / ours)"] = naive_bytes / ours_with_history
    report.values["tickets (ours)"] = count
    report.values["tickets (naive, timed subset)"] = naive_count
    report.values["tickets (memory)"] = memory_count
    report.values["commands per ticket"] = COMMANDS_PER_TICKET
    time_ratio = report.ratios["time per command (naive / ours)"]
    memory_ratio = report.ratios["memory per resting ticket (naive / ours)"]
    report.notes.append(
        f"goal 50x less time per command: {'met' if time_ratio >= 50 else 'not met'} "
        f"({time_ratio:.1f}x); goal 20x less memory per resting ticket: "
        f"{'met' if memory_ratio >= 20 else 'not met'} ({memory_ratio:.1f}x)"
    )
    report.notes.append("timed with the cyclic garbage collector paused, as timeit does")
    report.notes.append(
        "ours validates every command and returns its events; the naive machines only move "
        "a state attribute (no guards, no required fields, no history)"
    )
    return report
