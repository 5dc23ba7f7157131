"""SLA clocks over many synthetic tickets: tickets per second and peak memory.

Each synthetic ticket has 8 to 15 events (opening, assignment, replies, a hold
awaiting the requester, requester replies, priority changes, resolution,
sometimes a reopening, closure) spread over business and closed hours. The
policy has three metrics (first response, next response, resolution) over an
8x5 Europe/Moscow calendar with the Russian public holidays. Tickets are
generated lazily and evaluated through ``evaluate_many`` into a ``Compliance``
accumulator, so memory should stay flat in the number of tickets.

The baseline is the straightforward implementation in
``itsm_core.testing.oracle_evaluate`` (explicit interval lists measured by the
calendar oracle), run on a sample of the same tickets: what a user writing the
obvious code would get.
"""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Iterator
from datetime import timedelta

import attrs
import pendulum

from bench._runner import BenchReport, measure
from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar, country_holidays
from itsm_core.metrics import Compliance
from itsm_core.sla import Metric, SlaPolicy, evaluate, evaluate_many
from itsm_core.testing import oracle_evaluate
from itsm_core.ticket import (
    Assigned,
    CommentAdded,
    Event,
    PriorityChanged,
    StateChanged,
    TicketOpened,
)

TZ = "Europe/Moscow"
PRIORITIES = ("P1", "P2", "P3", "P4")


def make_policy() -> SlaPolicy:
    calendar = attrs.evolve(
        BusinessCalendar.eight_by_five(TZ),
        holidays=tuple(sorted(country_holidays("RU", range(2024, 2029)))),
    )
    hours = timedelta(hours=1)
    return SlaPolicy(
        name="kiosks 8x5",
        calendar=calendar,
        metrics=(
            Metric.first_response({"P1": hours / 4, "P2": hours / 2, "P3": hours, "P4": 4 * hours}),
            Metric.next_response({"P1": hours, "P2": 2 * hours, "P3": 4 * hours, "P4": 8 * hours}),
            Metric.resolution(
                {"P1": 4 * hours, "P2": 8 * hours, "P3": 16 * hours, "P4": 40 * hours}
            ),
        ),
    )


def synthetic_tickets(count: int, seed: int = 20261122) -> Iterator[list[Event]]:
    """``count`` plausible histories of 8 to 15 events, generated lazily."""
    rng = random.Random(seed)
    base = pendulum.datetime(2026, 1, 12, tz=TZ)
    for n in range(count):
        tid = f"INC-{n}"
        at = base.add(minutes=rng.randrange(0, 60 * 24 * 300))
        priority = rng.choice(PRIORITIES)
        requester = f"kiosk-{rng.randrange(100)}"

        def later(at: pendulum.DateTime, most_minutes: int) -> pendulum.DateTime:
            return at.add(minutes=rng.randrange(1, most_minutes), seconds=rng.randrange(60))

        events: list[Event] = [
            TicketOpened(
                ticket_id=tid,
                actor=requester,
                at=at,
                type="incident",
                state="new",
                state_category="new",
                title="kiosk fault",
                requester=requester,
                effective_priority=priority,
            ),
        ]
        at = later(at, 90)
        events.append(
            Assigned(
                ticket_id=tid,
                actor="dispatcher",
                at=at,
                assignee="dana",
                group=rng.choice(["line-1", "line-2"]),
                support_line=1,
            )
        )
        at = later(at, 120)
        events.append(
            CommentAdded(
                ticket_id=tid, actor="dana", at=at, body="on it", public=True, by_requester=False
            )
        )
        events.append(
            StateChanged(
                ticket_id=tid,
                actor="dana",
                at=at,
                trigger="start",
                from_state="new",
                to_state="in_progress",
                from_category="new",
                to_category="active",
            )
        )
        target = rng.randrange(8, 16)
        state = "in_progress"
        while len(events) < target - 2:
            at = later(at, 600)
            step = rng.random()
            if step < 0.3 and state == "in_progress":
                events.append(
                    StateChanged(
                        ticket_id=tid,
                        actor="dana",
                        at=at,
                        trigger="hold",
                        from_state=state,
                        to_state="on_hold.awaiting_requester",
                        from_category="active",
                        to_category="on_hold",
                        hold_reason="awaiting_requester",
                    )
                )
                state = "on_hold.awaiting_requester"
            elif step < 0.55:
                events.append(
                    CommentAdded(
                        ticket_id=tid,
                        actor=requester,
                        at=at,
                        body="?",
                        public=True,
                        by_requester=True,
                    )
                )
                if state != "in_progress":
                    events.append(
                        StateChanged(
                            ticket_id=tid,
                            actor=requester,
                            at=at,
                            trigger="resume",
                            from_state=state,
                            to_state="in_progress",
                            from_category="on_hold",
                            to_category="active",
                        )
                    )
                    state = "in_progress"
            elif step < 0.8:
                events.append(
                    CommentAdded(
                        ticket_id=tid,
                        actor="dana",
                        at=at,
                        body="...",
                        public=rng.random() < 0.7,
                        by_requester=False,
                    )
                )
            else:
                priority = rng.choice(PRIORITIES)
                events.append(
                    PriorityChanged(
                        ticket_id=tid,
                        actor="dana",
                        at=at,
                        impact=None,
                        urgency=None,
                        derived=priority,
                        override=None,
                        effective=priority,
                        reason="re-triage",
                    )
                )
        at = later(at, 900)
        events.append(
            StateChanged(
                ticket_id=tid,
                actor="dana",
                at=at,
                trigger="resolve",
                from_state=state,
                to_state="resolved",
                from_category=events[-1].to_category
                if isinstance(events[-1], StateChanged)
                else "active",
                to_category="resolved",
            )
        )
        at = later(at, 3000)
        events.append(
            StateChanged(
                ticket_id=tid,
                actor=requester,
                at=at,
                trigger="close",
                from_state="resolved",
                to_state="closed",
                from_category="resolved",
                to_category="closed",
            )
        )
        yield events


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(quick: bool) -> BenchReport:
    report = BenchReport("sla")
    policy = make_policy()
    now = pendulum.datetime(2027, 1, 1, tz=TZ)
    total = 20_000 if quick else 1_000_000
    sample = list(synthetic_tickets(2_000 if quick else 10_000))
    events = sum(len(h) for h in sample)
    report.values["events_per_ticket_mean"] = events / len(sample)

    def ours() -> None:
        for history in sample:
            evaluate(history, policy, now)

    now_us = to_us(now)
    oracle_sample = sample[:200]

    def reference() -> None:
        for history in oracle_sample:
            oracle_evaluate(history, policy, now_us)

    rounds = 3 if quick else 5
    report.figures["evaluate (µs per ticket)"] = measure(ours, ops=len(sample), rounds=rounds)
    report.figures["reference fold (µs per ticket)"] = measure(
        reference, ops=len(oracle_sample), rounds=rounds
    )
    report.ratio(
        "evaluate vs reference", "reference fold (µs per ticket)", "evaluate (µs per ticket)"
    )
    mismatches = sum(
        1
        for history in oracle_sample
        for clock in evaluate(history, policy, now).clocks
        if [c.elapsed_us for c in clock.cycles]
        != [c["elapsed_us"] for c in oracle_evaluate(history, policy, now_us)[clock.metric]]
    )
    report.notes.append(
        f"evaluate and the reference disagree on {mismatches} clocks of {len(oracle_sample) * 3}"
    )

    # The whole stream: generation, evaluation and compliance, in constant memory.
    generation_started = time.perf_counter()
    generated = sum(1 for _ in synthetic_tickets(total // 10))
    generation_per_ticket = (time.perf_counter() - generation_started) / generated
    rss_start = peak_rss_mib()
    started = time.perf_counter()
    compliance = Compliance()
    chunk = total // 10
    rss_marks = []
    stream = evaluate_many(synthetic_tickets(total), policy, now)
    for _ in range(10):
        part = Compliance.of(s for _, s in zip(range(chunk), stream, strict=False))
        compliance = compliance + part
        rss_marks.append(peak_rss_mib())
    elapsed = time.perf_counter() - started
    evaluation_only = elapsed - generation_per_ticket * total
    report.values["stream tickets"] = total
    report.values["stream seconds (generate + evaluate + compliance)"] = elapsed
    report.values["stream tickets per second (all included)"] = total / elapsed
    report.values["tickets per second (evaluation, generation subtracted)"] = (
        total / evaluation_only
    )
    report.values["tickets per second (evaluate, from the timed sample)"] = (
        1e6 / report.figures["evaluate (µs per ticket)"].median_us
    )
    report.values["peak RSS MiB before the stream"] = rss_start
    report.values["peak RSS MiB after 10% of the stream"] = rss_marks[0]
    report.values["peak RSS MiB after 100% of the stream"] = rss_marks[-1]
    met, breached = compliance.totals()
    report.values["cycles met / breached"] = f"{met} / {breached}"
    report.notes.append("goal: at least 50,000 tickets per second on one core, flat memory")
    return report
