"""Escalation over synthetic tickets: the cost of an evaluation, and how often a host evaluates.

Each synthetic ticket has 6 to 14 events (opening, assignment, public and
internal comments, reassignments, a hold awaiting the requester, resolution)
over an 8x5 Europe/Moscow calendar. The rule book has five rules: ServiceNow's
50/75/100% warnings on resolution, GLPI-style offsets around the first-response
due instant, an unanswered-request rule, a time-in-new rule and the ping-pong
rule.

Figures: ``due_escalations`` and ``next_wakeup`` per ticket, against
``sla.evaluate`` of the same policy on the same ticket (the floor: every
evaluation folds the SLA clocks once). Values: how many evaluations a host
driven by ``next_wakeup`` makes over each ticket's life, against polling every
five minutes (what a host without wake-up instants would do to fire each level
within five minutes of its due instant).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bench._runner import BenchReport, measure
from itsm_core._time import from_us, to_us
from itsm_core.calendar import BusinessCalendar
from itsm_core.escalation import (
    Action,
    EscalationLevel,
    EscalationRule,
    Trigger,
    due_escalations,
    next_wakeup,
)
from itsm_core.sla import Metric, SlaPolicy, evaluate
from itsm_core.ticket import (
    Assigned,
    CommentAdded,
    Event,
    Reassigned,
    StateChanged,
    TicketOpened,
)

H = timedelta(hours=1)
GROUPS = (("help-desk", 1), ("admins", 2), ("experts", 3))


def make_policy() -> SlaPolicy:
    return SlaPolicy(
        name="8x5",
        calendar=BusinessCalendar.eight_by_five("Europe/Moscow"),
        metrics=(
            Metric.first_response({"P2": H / 2, "P3": H}),
            Metric.resolution({"P2": 8 * H, "P3": 16 * H}),
        ),
    )


def make_rules() -> list[EscalationRule]:
    notify = Action.notify(roles=("supervisor",))
    return [
        EscalationRule.sla_warnings("resolution"),
        EscalationRule(
            name="first response",
            trigger=Trigger.sla_due("first_response"),
            levels=(
                EscalationLevel(offset=-H / 4, actions=notify),
                EscalationLevel(offset=H / 2, actions=Action.notify(roles="manager")),
            ),
        ),
        EscalationRule(
            name="unanswered",
            trigger=Trigger.no_reply(),
            levels=EscalationLevel(after=4 * H, actions=Action.notify(roles="manager")),
        ),
        EscalationRule(
            name="still new",
            trigger=Trigger.time_in_state(categories="new"),
            levels=EscalationLevel(after=H, actions=notify),
        ),
        EscalationRule.ping_pong(3),
    ]


def make_ticket(rng: random.Random, index: int) -> list[Event]:
    at = datetime(2026, 3, 2, 6, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 5 * 24 * 60))
    tid = f"INC-{index}"
    events: list[Event] = [
        TicketOpened(
            ticket_id=tid,
            actor="req",
            at=at,
            type="incident",
            state="new",
            state_category="new",
            title="t",
            requester="req",
            effective_priority=rng.choice(("P2", "P3")),
        )
    ]
    group, line = GROUPS[0]
    at += timedelta(minutes=rng.randrange(1, 90))
    events.append(
        Assigned(ticket_id=tid, actor="d", at=at, assignee="a", group=group, support_line=line)
    )
    events.append(
        StateChanged(
            ticket_id=tid,
            actor="a",
            at=at,
            trigger="assign",
            from_state="new",
            to_state="assigned",
            from_category="new",
            to_category="active",
        )
    )
    for _ in range(rng.randrange(3, 11)):
        at += timedelta(minutes=rng.randrange(5, 300))
        roll = rng.random()
        if roll < 0.6:
            events.append(
                CommentAdded(
                    ticket_id=tid,
                    actor="x",
                    at=at,
                    body="...",
                    public=rng.random() < 0.7,
                    by_requester=rng.random() < 0.5,
                )
            )
        else:
            new_group, new_line = rng.choice([g for g in GROUPS if g[0] != group])
            events.append(
                Reassigned(
                    ticket_id=tid,
                    actor="x",
                    at=at,
                    assignee="b",
                    group=new_group,
                    support_line=new_line,
                    from_assignee="a",
                    from_group=group,
                    from_support_line=line,
                )
            )
            group, line = new_group, new_line
    at += timedelta(minutes=rng.randrange(5, 600))
    events.append(
        StateChanged(
            ticket_id=tid,
            actor="a",
            at=at,
            trigger="resolve",
            from_state="assigned",
            to_state="resolved",
            from_category="active",
            to_category="resolved",
        )
    )
    return events


def evaluations_with_wakeups(
    history: list[Event], rules: list[EscalationRule], policy: SlaPolicy
) -> int:
    """Evaluations a host makes: one after each event, one at each wake-up instant."""
    count = 0
    end = to_us(history[-1].at)
    for i, event in enumerate(history):
        now = event.at
        limit = to_us(history[i + 1].at) if i + 1 < len(history) else end + 1
        while True:
            count += 1
            wake = next_wakeup(history[: i + 1], rules, now, policy=policy)
            if wake is None or to_us(wake) >= limit:
                break
            now = wake
    return count


def run(quick: bool) -> BenchReport:
    rng = random.Random(7)
    policy = make_policy()
    rules = make_rules()
    tickets = [make_ticket(rng, i) for i in range(40 if quick else 200)]
    report = BenchReport(name="escalation")
    nows = [from_us(to_us(t[-1].at) - 30 * 60 * 1_000_000, "UTC") for t in tickets]
    pairs = list(zip(tickets, nows, strict=True))
    ops = len(pairs)
    rounds = 3 if quick else 5

    def run_due() -> None:
        for history, now in pairs:
            due_escalations(history, rules, now, policy=policy)

    def run_wakeup() -> None:
        for history, now in pairs:
            next_wakeup(history, rules, now, policy=policy)

    def run_sla() -> None:
        for history, now in pairs:
            evaluate(history, policy, now)

    report.figures["due_escalations per ticket (5 rules)"] = measure(
        run_due, ops=ops, rounds=rounds
    )
    report.figures["next_wakeup per ticket (5 rules)"] = measure(run_wakeup, ops=ops, rounds=rounds)
    report.figures["sla.evaluate per ticket (floor)"] = measure(run_sla, ops=ops, rounds=rounds)
    report.values["due_escalations / sla.evaluate"] = (
        report.figures["due_escalations per ticket (5 rules)"].median_us
        / report.figures["sla.evaluate per ticket (floor)"].median_us
    )
    sample = tickets[: 10 if quick else 40]
    driven = sum(evaluations_with_wakeups(t, rules, policy) for t in sample)
    polled = sum((to_us(t[-1].at) - to_us(t[0].at)) // (5 * 60 * 1_000_000) + 1 for t in sample)
    report.values["evaluations per ticket, events + wake-ups"] = driven / len(sample)
    report.values["evaluations per ticket, polling every 5 minutes"] = polled / len(sample)
    report.ratios["fewer evaluations with next_wakeup than 5-minute polling"] = polled / driven
    report.notes.append(
        "wake-up driven evaluations fire each level at its exact due instant; polling every "
        "5 minutes fires it up to 5 minutes late"
    )
    return report
