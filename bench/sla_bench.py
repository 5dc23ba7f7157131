"""SLA clocks over many synthetic tickets: tickets per second and peak memory.

Each synthetic ticket has 8 to 15 events (opening, assignment, replies, a hold
awaiting the requester, requester replies, priority changes, resolution,
sometimes a reopening, closure) spread over business and closed hours. The
policy has three metrics (first response, next response, resolution) over an
8x5 Europe/Moscow calendar with the Russian public holidays. Tickets are
generated lazily and evaluated through ``evaluate_many`` into a ``Compliance``
accumulator, so memory should stay flat in the number of tickets.

Two references, on the same tickets in the same run:

* :func:`minimal_loop`, the floor: the three clocks written by hand for this one
  policy, as a user who needs nothing generic would write them over a
  ``History`` — a loop over the events with ``isinstance`` dispatch and the
  calendar's integer API (``elapsed_us``/``add_us``), giving each cycle's
  business time, met or breached and when it breached (one ``add_us`` per
  breached cycle: ``breached_us`` is what compliance and the desk read), and
  the running cycle's due instant. The bench checks it agrees with
  ``evaluate`` on every ticket (as of ``now`` and as of a day when many clocks
  run), then reports ``evaluate`` / minimal loop (goal: at most 1.5x), both
  fed the same ``History`` objects, timed round-robin. ``evaluate`` answers
  more (paused time, segments, the timeline, records built on first use); the
  loop without breach instants, the earlier reference, is shown beside it.
* ``itsm_core.testing.oracle_evaluate`` (explicit interval lists measured by the
  calendar oracle), run on a sample: the obviously correct slow fold.

Policy selection is measured as ``evaluate_many`` with a list of policies (a
request policy first, as a CLI desk would list them) over ``evaluate`` with
the right policy, and over ``evaluate_many`` with the right policy (the
selection alone, without the bench's call per ticket). The batch path
(``evaluate_batch`` over columnar arrays, numpy) is measured in tickets per
second, columns built beforehand.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import timedelta

import attrs
import pendulum

from bench._runner import BenchReport, Figure, measure
from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar, CalendarLike, country_holidays
from itsm_core.errors import ItsmError
from itsm_core.lifecycle import History
from itsm_core.metrics import Compliance
from itsm_core.sla import Applicability, Metric, SlaPolicy, SlaStatus, evaluate, evaluate_many
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
HOUR_US = 3_600_000_000
FIRST_US = {"P1": HOUR_US // 4, "P2": HOUR_US // 2, "P3": HOUR_US, "P4": 4 * HOUR_US}
NEXT_US = {"P1": HOUR_US, "P2": 2 * HOUR_US, "P3": 4 * HOUR_US, "P4": 8 * HOUR_US}
RESOLUTION_US = {"P1": 4 * HOUR_US, "P2": 8 * HOUR_US, "P3": 16 * HOUR_US, "P4": 40 * HOUR_US}


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


def request_policy(calendar: CalendarLike) -> SlaPolicy:
    """A policy for service requests, listed before the incident policy (it never applies)."""
    return SlaPolicy(
        name="requests",
        calendar=calendar,  # type: ignore[arg-type]
        metrics=(Metric.resolution({"P4": timedelta(hours=80)}),),
        applies_to=Applicability(types="request"),
    )


# One clock's answer: every cycle as (business time, met, breach instant or None), and the
# running cycle's due instant.
Clock = tuple[list[tuple[int, bool, int | None]], int | None]


def _breach(add_us: Callable[[int, int], int], segments: list[tuple[int, int]], target: int) -> int:
    """When the time counted over ``segments`` ((start, counted) pairs) reached ``target``."""
    total = 0
    for start, counted in segments:
        if total + counted >= target:
            return add_us(start, target - total)
        total += counted
    raise AssertionError("called for a cycle that reached its target")


def minimal_loop(history: History, calendar: CalendarLike, now_us: int) -> tuple[Clock, ...]:
    """The three clocks of :func:`make_policy`, written by hand for this policy only.

    First response: from opening to the first public agent reply or the
    resolution. Next response: from each public requester message to the next
    public agent reply or the resolution. Resolution: from opening (or a
    reopening) to resolved/closed, paused while on hold awaiting the requester.
    Targets follow the current priority. A cycle is met when its business
    time stays below the target; a breached cycle says when it reached the
    target (``evaluate``'s ``breached_us``, which compliance and the desk read).
    """
    elapsed = calendar.elapsed_us
    add = calendar.add_us
    priority = ""
    # per clock: counting since (None: not counting), closed cycles
    fr_since: int | None = None
    fr_cycles: list[tuple[int, bool, int | None]] = []
    fr_open = False
    nr_since: int | None = None
    nr_cycles: list[tuple[int, bool, int | None]] = []
    res_since: int | None = None
    res_count = 0
    res_segments: list[tuple[int, int]] = []  # the cycle's counted stretches
    res_cycles: list[tuple[int, bool, int | None]] = []
    res_open = False  # a resolution cycle is active (running or paused)
    for event, at in zip(history.events, history.instants_us, strict=True):
        if at > now_us:
            break
        if isinstance(event, TicketOpened):
            priority = event.effective_priority or ""
            fr_open, fr_since, res_open, res_since = True, at, True, at
        elif isinstance(event, CommentAdded):
            if not event.public:
                continue
            if event.by_requester:
                if nr_since is None:
                    nr_since = at
            else:
                if fr_open and fr_since is not None:
                    n, target = elapsed(fr_since, at), FIRST_US[priority]
                    met = n < target
                    fr_cycles.append((n, met, None if met else add(fr_since, target)))
                    fr_open, fr_since = False, None
                if nr_since is not None:
                    n, target = elapsed(nr_since, at), NEXT_US[priority]
                    met = n < target
                    nr_cycles.append((n, met, None if met else add(nr_since, target)))
                    nr_since = None
        elif isinstance(event, StateChanged):
            to = event.to_category
            if to in ("resolved", "closed"):
                if fr_open and fr_since is not None:
                    n, target = elapsed(fr_since, at), FIRST_US[priority]
                    met = n < target
                    fr_cycles.append((n, met, None if met else add(fr_since, target)))
                    fr_open, fr_since = False, None
                if nr_since is not None:
                    n, target = elapsed(nr_since, at), NEXT_US[priority]
                    met = n < target
                    nr_cycles.append((n, met, None if met else add(nr_since, target)))
                    nr_since = None
                if res_open:
                    if res_since is not None:
                        n = elapsed(res_since, at)
                        res_segments.append((res_since, n))
                        res_count += n
                    target = RESOLUTION_US[priority]
                    met = res_count < target
                    breach = None if met else _breach(add, res_segments, target)
                    res_cycles.append((res_count, met, breach))
                    res_open, res_since = False, None
            elif event.from_category == "resolved" and not res_open:
                res_open, res_since, res_count, res_segments = True, at, 0, []
            if res_open:
                hold = to == "on_hold" and event.hold_reason == "awaiting_requester"
                if hold and res_since is not None:
                    n = elapsed(res_since, at)
                    res_segments.append((res_since, n))
                    res_count += n
                    res_since = None
                elif not hold and res_since is None:
                    res_since = at
        elif isinstance(event, PriorityChanged):
            priority = event.effective or ""

    def running(
        cycles: list[tuple[int, bool, int | None]],
        segments: list[tuple[int, int]],
        since: int | None,
        count: int,
        target: int,
        active: bool,
    ) -> Clock:
        if not active:
            return cycles, None
        due = breach = None
        if since is not None:
            due = add(since, target - count) if count < target else None
            n = elapsed(since, max(since, now_us))
            segments = [*segments, (since, n)]
            count += n
            if due is not None and due <= now_us:
                breach, due = due, None  # breached while running: no due instant any more
        if breach is None and count >= target:
            breach = _breach(add, segments, target)
        return [*cycles, (count, count < target, breach)], due

    return (
        running(fr_cycles, [], fr_since, 0, FIRST_US[priority], fr_open),
        running(nr_cycles, [], nr_since, 0, NEXT_US[priority], nr_since is not None),
        running(res_cycles, res_segments, res_since, res_count, RESOLUTION_US[priority], res_open),
    )


def elapsed_only_loop(history: History, calendar: CalendarLike, now_us: int) -> object:
    """:func:`minimal_loop` without the breach instants: the reference before it said when a
    cycle breached (shown for comparison; it computes less than ``evaluate`` must)."""
    elapsed = calendar.elapsed_us
    priority = ""
    fr_since: int | None = None
    fr_count = 0
    fr_cycles: list[tuple[int, bool]] = []
    fr_open = False
    nr_since: int | None = None
    nr_count = 0
    nr_cycles: list[tuple[int, bool]] = []
    res_since: int | None = None
    res_count = 0
    res_cycles: list[tuple[int, bool]] = []
    res_open = False
    for event, at in zip(history.events, history.instants_us, strict=True):
        if at > now_us:
            break
        if isinstance(event, TicketOpened):
            priority = event.effective_priority or ""
            fr_open, fr_since, res_open, res_since = True, at, True, at
        elif isinstance(event, CommentAdded):
            if not event.public:
                continue
            if event.by_requester:
                if nr_since is None:
                    nr_since, nr_count = at, 0
            else:
                if fr_open and fr_since is not None:
                    fr_count += elapsed(fr_since, at)
                    fr_cycles.append((fr_count, fr_count < FIRST_US[priority]))
                    fr_open, fr_since = False, None
                if nr_since is not None:
                    nr_count += elapsed(nr_since, at)
                    nr_cycles.append((nr_count, nr_count < NEXT_US[priority]))
                    nr_since = None
        elif isinstance(event, StateChanged):
            to = event.to_category
            if to in ("resolved", "closed"):
                if fr_open and fr_since is not None:
                    fr_count += elapsed(fr_since, at)
                    fr_cycles.append((fr_count, fr_count < FIRST_US[priority]))
                    fr_open, fr_since = False, None
                if nr_since is not None:
                    nr_count += elapsed(nr_since, at)
                    nr_cycles.append((nr_count, nr_count < NEXT_US[priority]))
                    nr_since = None
                if res_open:
                    if res_since is not None:
                        res_count += elapsed(res_since, at)
                    res_cycles.append((res_count, res_count < RESOLUTION_US[priority]))
                    res_open, res_since = False, None
            elif event.from_category == "resolved" and not res_open:
                res_open, res_since, res_count = True, at, 0
            if res_open:
                hold = to == "on_hold" and event.hold_reason == "awaiting_requester"
                if hold and res_since is not None:
                    res_count += elapsed(res_since, at)
                    res_since = None
                elif not hold and res_since is None:
                    res_since = at
        elif isinstance(event, PriorityChanged):
            priority = event.effective or ""

    def running(
        cycles: list[tuple[int, bool]], since: int | None, count: int, target: int, active: bool
    ) -> tuple[list[tuple[int, bool]], int | None]:
        if not active:
            return cycles, None
        due = None
        if since is not None:
            due = calendar.add_us(since, target - count) if count < target else None
            count += elapsed(since, max(since, now_us))
            if due is not None and due <= now_us:
                due = None
        return [*cycles, (count, count < target)], due

    return (
        running(fr_cycles, fr_since, fr_count, FIRST_US[priority], fr_open),
        running(nr_cycles, nr_since, nr_count, NEXT_US[priority], nr_since is not None),
        running(res_cycles, res_since, res_count, RESOLUTION_US[priority], res_open),
    )


def clocks_of(status: SlaStatus) -> tuple[Clock, ...]:
    """What :func:`minimal_loop` answers, read from an ``evaluate`` status."""
    return tuple(
        (
            [(c.elapsed_us, c.elapsed_us < c.target_us, c.breached_us) for c in clock.cycles],
            clock.current.due_us if clock.current is not None and clock.running else None,
        )
        for clock in status.clocks
    )


def interleaved(
    batches: dict[str, Callable[[], object]], ops: int, rounds: int
) -> tuple[dict[str, Figure], dict[str, float], dict[str, list[float]]]:
    """Time several batches round-robin (medians), so a busy machine slows them alike.

    Returns the wall-clock figures, the median CPU time per operation (µs) of each (on a
    shared machine the process's CPU time is the steadier of the two) and every round's
    CPU time per operation, in order (for ratios taken round by round).
    """
    for fn in batches.values():
        fn()  # warm-up
    per_op: dict[str, list[float]] = {key: [] for key in batches}
    cpu: dict[str, list[float]] = {key: [] for key in batches}
    for _ in range(rounds):
        for key, fn in batches.items():
            start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
            fn()
            per_op[key].append((time.perf_counter_ns() - start) / 1000 / ops)
            cpu[key].append((time.process_time_ns() - cpu_start) / 1000 / ops)
    figures = {
        key: Figure(
            median_us=statistics.median(values),
            min_us=min(values),
            max_us=max(values),
            rounds=rounds,
            ops=ops,
        )
        for key, values in per_op.items()
    }
    return figures, {key: statistics.median(values) for key, values in cpu.items()}, cpu


def round_ratio(rounds: dict[str, list[float]], top: str, bottom: str) -> float:
    """The median over rounds of ``top`` / ``bottom`` measured in the same round: steadier
    than a ratio of medians while the machine's load drifts."""
    return statistics.median(a / b for a, b in zip(rounds[top], rounds[bottom], strict=True))


def _each(fn: Callable[[History], object], histories: list[History]) -> Callable[[], None]:
    """A batch calling ``fn`` on every history, keeping no result (as a streaming report)."""

    def batch() -> None:
        for h in histories:
            fn(h)

    return batch


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


def _batch(
    report: BenchReport,
    histories: list[History],
    policy: SlaPolicy,
    now: pendulum.DateTime,
    rounds: int,
    tickets: int,
) -> None:
    """The batch path over columnar arrays (numpy): ``tickets`` tickets (the sample, repeated)."""
    from itsm_core.sla import SlaColumns, evaluate_batch

    repeated = (histories * (tickets // len(histories) + 1))[:tickets]
    try:
        started = time.perf_counter()
        columns = SlaColumns.from_histories(repeated)
        built = time.perf_counter() - started
    except ItsmError as exc:  # numpy missing: say so instead of a figure
        report.notes.append(f"batch path skipped: {exc}")
        return
    wall: list[float] = []
    cpu: list[float] = []
    evaluate_batch(columns, policy, now)  # warm-up
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        batch = evaluate_batch(columns, policy, now)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    report.values["evaluate_batch tickets"] = tickets
    report.values["evaluate_batch tickets per second, wall (goal >= 200,000)"] = tickets / (
        statistics.median(wall)
    )
    report.values["evaluate_batch tickets per CPU second"] = tickets / statistics.median(cpu)
    report.values["evaluate_batch tickets answered by the scalar fold"] = int(batch.scalar.sum())
    report.values["SlaColumns.from_histories (µs per ticket)"] = built * 1e6 / tickets


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

    now_us = to_us(now)
    calendar = policy.calendar
    histories = [History(h) for h in sample]
    # the same answers, as of ``now`` (every ticket closed) and as of a day mid-way, when
    # many clocks run or are paused (due instants, breaches while running)
    for when in (now, pendulum.datetime(2026, 7, 1, 12, tz=TZ)):
        when_us = to_us(when)
        opened = [h for h in histories if h.instants_us[0] <= when_us]
        disagree = sum(
            1
            for h in opened
            if minimal_loop(h, calendar, when_us) != clocks_of(evaluate(h, policy, when))
        )
        report.notes.append(
            f"the minimal loop and evaluate disagree on {disagree} of {len(opened)} tickets"
            f" as of {when.to_date_string()}"
        )
    policies = [request_policy(calendar), policy]
    batches: dict[str, Callable[[], object]] = {
        "minimal loop (µs per ticket)": _each(
            lambda h: minimal_loop(h, calendar, now_us), histories
        ),
        "minimal loop without breach instants (µs per ticket)": _each(
            lambda h: elapsed_only_loop(h, calendar, now_us), histories
        ),
        "evaluate (µs per ticket)": _each(lambda h: evaluate(h, policy, now), histories),
        "evaluate_many, 2 policies (µs per ticket)": lambda: deque(
            evaluate_many(histories, policies, now), maxlen=0
        ),
        "evaluate_many, the right policy (µs per ticket)": lambda: deque(
            evaluate_many(histories, policy, now), maxlen=0
        ),
    }
    rounds = 15 if quick else 21  # medians of many short rounds: the machine may be busy
    figures, cpu, cpu_rounds = interleaved(batches, ops=len(histories), rounds=rounds)
    report.figures.update(figures)
    report.ratio(
        "minimal loop vs evaluate (goal >= 1/1.5)",
        "minimal loop (µs per ticket)",
        "evaluate (µs per ticket)",
    )
    report.values["evaluate / minimal loop, wall (goal <= 1.5)"] = (
        report.figures["evaluate (µs per ticket)"].median_us
        / report.figures["minimal loop (µs per ticket)"].median_us
    )
    report.values["evaluate / minimal loop without breach instants, wall (for comparison)"] = (
        report.figures["evaluate (µs per ticket)"].median_us
        / report.figures["minimal loop without breach instants (µs per ticket)"].median_us
    )
    report.values["evaluate_many with selection / evaluate, wall (goal <= 1.10)"] = (
        report.figures["evaluate_many, 2 policies (µs per ticket)"].median_us
        / report.figures["evaluate (µs per ticket)"].median_us
    )
    for key, value in cpu.items():
        report.values[f"CPU {key}"] = value
    report.values["evaluate / minimal loop, CPU (goal <= 1.5)"] = (
        cpu["evaluate (µs per ticket)"] / cpu["minimal loop (µs per ticket)"]
    )
    report.values["evaluate / minimal loop without breach instants, CPU (for comparison)"] = (
        cpu["evaluate (µs per ticket)"]
        / cpu["minimal loop without breach instants (µs per ticket)"]
    )
    report.values["evaluate_many with selection / evaluate, CPU (goal <= 1.10)"] = (
        cpu["evaluate_many, 2 policies (µs per ticket)"] / cpu["evaluate (µs per ticket)"]
    )
    report.values["evaluate / minimal loop, CPU, median of round ratios"] = round_ratio(
        cpu_rounds, "evaluate (µs per ticket)", "minimal loop (µs per ticket)"
    )
    report.values["evaluate_many with selection / evaluate, CPU, median of round ratios"] = (
        round_ratio(
            cpu_rounds, "evaluate_many, 2 policies (µs per ticket)", "evaluate (µs per ticket)"
        )
    )
    report.values["load average (1 min) after the rounds"] = os.getloadavg()[0]
    # the selection alone: both through evaluate_many (no call per ticket from the bench)
    report.values["evaluate_many with selection / evaluate_many with the right policy, CPU"] = (
        cpu["evaluate_many, 2 policies (µs per ticket)"]
        / cpu["evaluate_many, the right policy (µs per ticket)"]
    )
    _batch(report, histories, policy, now, rounds, 20_000 if quick else 100_000)

    def ours() -> None:
        for history in sample:
            evaluate(history, policy, now)

    oracle_sample = sample[:200]

    def reference() -> None:
        for history in oracle_sample:
            oracle_evaluate(history, policy, now_us)

    rounds = 3 if quick else 5
    report.figures["evaluate, raw event lists (µs per ticket)"] = measure(
        ours, ops=len(sample), rounds=rounds
    )
    report.figures["reference fold (µs per ticket)"] = measure(
        reference, ops=len(oracle_sample), rounds=rounds
    )
    report.ratio(
        "evaluate vs reference",
        "reference fold (µs per ticket)",
        "evaluate, raw event lists (µs per ticket)",
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
