"""A slow, obviously correct reference for SLA clocks.

It reads the rules of :mod:`itsm_core.sla` literally: walk the events, keep for
every cycle the explicit lists of its running and paused intervals, and only at
the end measure them with the calendar oracle (no running sums, no compiled
conditions, no bisection). Property tests check that
:func:`itsm_core.sla.evaluate` gives exactly the same cycles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar, CompositeCalendar
from itsm_core.errors import NeverOpenError
from itsm_core.sla import (
    ClassifiedStart,
    Condition,
    Metric,
    OnPriorityChange,
    SlaPolicy,
    event_kind,
)
from itsm_core.testing._calendar_oracle import oracle_add, oracle_elapsed
from itsm_core.ticket import CommentAdded, Event, PriorityChanged, StateChanged, TicketOpened

__all__ = ["OracleCycle", "oracle_evaluate"]

#: A cycle as the oracle sees it: a plain dict with the fields of ``itsm_core.sla.Cycle``.
OracleCycle = dict[str, Any]


def _matches(condition: Condition, facts: dict[str, Any]) -> bool:
    for name in ("event", "state", "category", "from_category", "hold_reason", "trigger"):
        allowed = getattr(condition, name)
        if allowed and facts[name] not in allowed:
            return False
    for name in ("public", "by_requester"):
        wanted = getattr(condition, name)
        if wanted is not None and facts[name] is not wanted:
            return False
    return True


def _any(conditions: Sequence[Condition], facts: dict[str, Any]) -> bool:
    return any(_matches(c, facts) for c in conditions)


def _measure(
    calendar: BusinessCalendar | CompositeCalendar, cycle: dict[str, Any], now: int
) -> OracleCycle:
    running = [(a, now if b is None else b) for a, b in cycle["running"]]
    paused = [(a, now if b is None else b) for a, b in cycle["paused"]]
    target = cycle["target"]
    elapsed = sum(oracle_elapsed(calendar, a, b) for a, b in running)
    breached = None
    total = 0
    for a, b in running:
        length = oracle_elapsed(calendar, a, b)
        if total + length >= target:
            breached = oracle_add(calendar, a, target - total)
            break
        total += length
    ended = cycle["ended"]
    active = ended is None
    if cycle["cancelled"]:
        stage = "cancelled"
    elif breached is not None:
        stage = "breached"
    elif active:
        stage = cycle["status"]
    else:
        stage = "met"
    due = None
    if active and cycle["status"] == "running" and breached is None:
        start, _ = running[-1]
        before = sum(oracle_elapsed(calendar, a, b) for a, b in running[:-1])
        try:
            due = oracle_add(calendar, start, target - before)
        except NeverOpenError:
            due = None
    return {
        "stage": stage,
        "running": active and cycle["status"] == "running",
        "started_us": cycle["started"],
        "ended_us": ended,
        "target_us": target,
        "elapsed_us": elapsed,
        "paused_us": sum(oracle_elapsed(calendar, a, b) for a, b in paused),
        "due_us": due,
        "breached_us": breached,
        "met_us": ended if stage == "met" else None,
    }


def oracle_evaluate(
    history: Sequence[Event], policy: SlaPolicy, now_us: int
) -> dict[str, list[OracleCycle]]:
    """Every metric's cycles as plain dicts, following the rules of ``itsm_core.sla``."""
    calendar = policy.calendar
    facts: dict[str, Any] = {"state": "", "category": "", "hold_reason": None}
    priority = None
    cycles: dict[str, list[dict[str, Any]]] = {m.name: [] for m in policy.metrics}

    def active(metric: Metric) -> dict[str, Any] | None:
        found = cycles[metric.name]
        return found[-1] if found and found[-1]["ended"] is None else None

    def close(cycle: dict[str, Any], at: int, *, cancelled: bool) -> None:
        for intervals in (cycle["running"], cycle["paused"]):
            if intervals and intervals[-1][1] is None:
                intervals[-1] = (intervals[-1][0], at)
        cycle["ended"] = at
        cycle["cancelled"] = cancelled

    # A start event that found no target waits for a priority change that gives one.
    deferred: dict[str, int | None] = {m.name: None for m in policy.metrics}

    def start(metric: Metric, at: int) -> None:
        target = metric.target_us(priority)
        if target is None:
            if deferred[metric.name] is None:
                deferred[metric.name] = at
        else:
            deferred[metric.name] = None
            cycles[metric.name].append(
                {
                    "started": at,
                    "ended": None,
                    "cancelled": False,
                    "target": target,
                    "status": "running",
                    "running": [(at, None)],
                    "paused": [],
                }
            )

    for event in history:
        at = to_us(event.at)
        if at > now_us:
            break
        facts["from_category"] = facts["category"]
        facts.update(event=event_kind(event), trigger=None, public=None, by_requester=None)
        if isinstance(event, TicketOpened):
            facts.update(state=event.state, category=event.state_category, hold_reason=None)
            priority = event.effective_priority
        elif isinstance(event, StateChanged):
            facts.update(state=event.to_state, category=event.to_category, trigger=event.trigger)
            facts["hold_reason"] = event.hold_reason if event.to_category == "on_hold" else None
        elif isinstance(event, CommentAdded):
            facts.update(public=event.public, by_requester=event.by_requester)
        elif isinstance(event, PriorityChanged):
            priority = event.effective
        for metric in policy.metrics:
            cycle = active(metric)
            if cycle is not None:
                if _any(metric.cancel, facts):
                    close(cycle, at, cancelled=True)
                    continue
                if _any(metric.stop, facts):
                    close(cycle, at, cancelled=False)
                    continue
                if _any(metric.reset, facts):
                    close(cycle, at, cancelled=True)
                    start(metric, at)
                    continue
                new_target = metric.target_us(priority)
                if (
                    isinstance(event, PriorityChanged)
                    and metric.on_priority_change is OnPriorityChange.RECOMPUTE
                    and new_target is not None
                ):
                    cycle["target"] = new_target
            elif _any(metric.start, facts):
                if not _any(metric.stop, facts):
                    start(metric, at)
            elif deferred[metric.name] is not None:
                if _any(metric.stop, facts) or _any(metric.cancel, facts):
                    deferred[metric.name] = None
                elif isinstance(event, PriorityChanged) and metric.target_us(priority):
                    opening = metric.classified_start is ClassifiedStart.OPENING
                    start(metric, deferred[metric.name] if opening else at)  # type: ignore[arg-type]
            cycle = active(metric)
            if cycle is None:
                continue
            if cycle["status"] == "running":
                if _any(metric.pause, facts):
                    cycle["running"][-1] = (cycle["running"][-1][0], at)
                    cycle["paused"].append((at, None))
                    cycle["status"] = "paused"
            else:
                resume = (
                    _any(metric.resume, facts) if metric.resume else not _any(metric.pause, facts)
                )
                if resume:
                    cycle["paused"][-1] = (cycle["paused"][-1][0], at)
                    cycle["running"].append((at, None))
                    cycle["status"] = "running"
    return {
        name: [dict(_measure(calendar, c, now_us), number=i + 1) for i, c in enumerate(found)]
        for name, found in cycles.items()
    }
