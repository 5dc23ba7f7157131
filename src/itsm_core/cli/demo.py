"""``itsm-core demo``: a week of the kiosk desk, driven as a host drives a desk."""

from __future__ import annotations

import argparse
import random
from datetime import date, datetime, timedelta
from typing import Any, TextIO

import attrs
import pendulum

from itsm_core._version import __version__
from itsm_core.calendar import BusinessCalendar
from itsm_core.cli._common import EXIT_OK
from itsm_core.escalation import (
    Action,
    DueEscalation,
    Escalated,
    EscalationLevel,
    EscalationRule,
    NotificationRequested,
    Route,
    SupportGroup,
    SupportStructure,
    Trigger,
    apply_escalations,
    due_escalations,
    next_wakeup,
)
from itsm_core.lifecycle import Lifecycles, default_lifecycles
from itsm_core.metrics import Compliance, CreditRule, service_credit
from itsm_core.sla import Metric, SlaPolicy, SlaStatus, evaluate
from itsm_core.ticket import (
    AddComment,
    Event,
    OpenTicket,
    Reassigned,
    Ticket,
    TicketCommand,
    Transition,
)

__all__ = ["DemoTicket", "add_parser", "demo_policy", "run", "run_demo", "simulate_week"]


DEMO_TZ = "Europe/Moscow"
#: Russian public holidays of 2026 (non-working days), embedded so the demo needs no extra.
DEMO_HOLIDAYS = (
    *(date(2026, 1, d) for d in range(1, 9)),
    date(2026, 2, 23),
    date(2026, 3, 9),
    date(2026, 5, 1),
    date(2026, 5, 11),
    date(2026, 6, 12),
    date(2026, 11, 4),
    date(2026, 12, 31),
)
DEMO_WEEK = date(2026, 3, 9)  # Monday; a public holiday (March 8 fell on a Sunday)
KIOSKS = 100
FEE_PER_KIOSK = 120


def demo_calendar() -> BusinessCalendar:
    """8x5 in Moscow with the public holidays."""
    return attrs.evolve(BusinessCalendar.eight_by_five(DEMO_TZ), holidays=DEMO_HOLIDAYS)


def demo_structure() -> SupportStructure:
    """Three support lines and an external contractor, with their supervisors."""
    return SupportStructure(
        groups=(
            SupportGroup(
                name="help-desk",
                line=1,
                members=("dana", "oleg"),
                supervisor="sveta",
                description="first line: registers and solves typical requests",
            ),
            SupportGroup(
                name="admins",
                line=2,
                members=("ari", "boris"),
                supervisor="sveta",
                description="second line: access, configuration, monitoring",
            ),
            SupportGroup(
                name="experts",
                line=3,
                members=("yuri",),
                supervisor="mona",
                description="third line: the system's internals, code changes",
            ),
            SupportGroup(
                name="kiosk-vendor",
                line=4,
                members=("vendor",),
                external=True,
                description="external contractor: hardware repairs",
            ),
        ),
        routes=(Route(group="help-desk"),),
        default_group="help-desk",
        manager="mona",
    )


def demo_policy() -> SlaPolicy:
    """The seed contract: incidents resolved within 8 business hours, 8x5."""
    hour = timedelta(hours=1)
    return SlaPolicy(
        name="kiosks 8x5",
        calendar=demo_calendar(),
        metrics=(
            Metric.first_response({"P1": hour / 4, "P2": hour / 2, "P3": hour / 2, "P4": hour}),
            Metric.resolution({"P1": 4 * hour, "P2": 8 * hour, "P3": 8 * hour, "P4": 16 * hour}),
        ),
    )


def demo_rules() -> tuple[EscalationRule, ...]:
    """Unanswered requests reach the supervisor, then the manager; late ones go up a line."""
    return (
        EscalationRule(
            name="unanswered",
            trigger=Trigger.no_reply(),
            levels=(
                EscalationLevel(
                    after=timedelta(minutes=30), actions=Action.notify(roles="supervisor")
                ),
                EscalationLevel(after=timedelta(hours=2), actions=Action.notify(roles="manager")),
            ),
        ),
        EscalationRule(
            name="resolution at risk",
            trigger=Trigger.sla_percent("resolution"),
            levels=(
                EscalationLevel(percent=75, actions=Action.reassign_next_line()),
                EscalationLevel(percent=100, actions=Action.notify(roles="manager")),
            ),
        ),
    )


@attrs.frozen(kw_only=True)
class DemoTicket:
    """One simulated ticket: its final state, its events and what escalation fired."""

    ticket: Ticket
    history: tuple[Event, ...]


class _Desk:
    """Drives tickets through the real lifecycles, firing escalations as a host would."""

    def __init__(self) -> None:
        self.lifecycles: Lifecycles = default_lifecycles()
        self.structure = demo_structure()
        self.policy = demo_policy()
        self.rules = demo_rules()

    def escalate(self, ticket: Ticket, history: list[Event], until: datetime) -> Ticket:
        """Wake up at every instant escalation asks for, up to ``until``, as a host would."""
        cursor: datetime = history[-1].at
        while True:
            wake = next_wakeup(
                history, self.rules, cursor, policy=self.policy, structure=self.structure
            )
            if wake is None or wake > until:
                return ticket
            due: tuple[DueEscalation, ...] = due_escalations(
                history, self.rules, wake, policy=self.policy, structure=self.structure
            )
            if due:
                ticket, events = apply_escalations(
                    history, due, lifecycle=self.lifecycles, at=wake, structure=self.structure
                )
                history.extend(events)
            cursor = wake

    def act(
        self,
        ticket: Ticket,
        history: list[Event],
        command: TicketCommand,
        actor: str,
        at: datetime,
    ) -> Ticket:
        ticket = self.escalate(ticket, history, at)
        if not self.lifecycles[ticket.type].may(ticket, command, actor=actor, at=at):
            return ticket
        ticket, events = self.lifecycles.apply(ticket, command, actor=actor, at=at)
        history.extend(events)
        return ticket


def simulate_week(count: int = 24, seed: int = 7) -> tuple[list[DemoTicket], pendulum.DateTime]:
    """A reproducible week of kiosk tickets on the demo desk, and the instant it ends.

    Kiosks report at any hour; the desk works its business hours, so every agent
    action falls a random amount of *business* time after the previous one.
    """
    rng = random.Random(seed)
    desk = _Desk()
    calendar = desk.policy.calendar
    monday = pendulum.datetime(DEMO_WEEK.year, DEMO_WEEK.month, DEMO_WEEK.day, tz=DEMO_TZ)
    end = monday.add(days=4, hours=18)

    def work(after: datetime, low: int, high: int) -> pendulum.DateTime:
        return calendar.add(after, timedelta(minutes=rng.randrange(low, high)))

    tickets = []
    for n in range(1, count + 1):
        opened = monday.add(
            days=rng.randrange(5), hours=rng.randrange(6, 20), minutes=rng.randrange(60)
        )
        kiosk = f"kiosk-{rng.randrange(1, KIOSKS + 1):03d}"
        kind = rng.choice(["incident"] * 3 + ["service_request"])
        what = rng.choice(
            [
                "does not print receipts",
                "touch screen frozen",
                "no network",
                "card reader fails",
                "needs a paper roll",
                "software update",
            ]
        )
        ticket, opening = desk.lifecycles.apply(
            None,
            OpenTicket(
                ticket_id=f"K-{n:03d}",
                type=kind,
                title=f"{kiosk}: {what}",
                requester=kiosk,
                impact=rng.choice(["low", "medium", "high"]),
                urgency=rng.choice(["low", "medium", "high"]),
            ),
            actor=kiosk,
            at=opened,
        )
        history: list[Event] = list(opening)
        at = work(opened, 1, 15)
        assign = desk.structure.assignment(ticket)
        if assign is not None:
            ticket = desk.act(ticket, history, assign, "dispatcher", at)
        at = work(at, 3, 30)
        agent = ticket.assignee or "dana"
        ticket = desk.act(ticket, history, AddComment(body="We are on it."), agent, at)
        ticket = desk.act(ticket, history, Transition(trigger="start"), agent, at)
        if rng.random() < 0.3:
            at = work(at, 10, 120)
            ticket = desk.act(
                ticket,
                history,
                Transition(trigger="hold", hold_reason="awaiting_requester", reason="need details"),
                ticket.assignee or agent,
                at,
            )
            at = at.add(hours=rng.randrange(1, 20))
            ticket = desk.act(ticket, history, AddComment(body="Details attached."), kiosk, at)
        at = work(at, 30, 11 * 60)
        if at < end:
            ticket = desk.act(
                ticket,
                history,
                Transition(trigger="resolve", resolution_code="fixed", reason="repaired"),
                ticket.assignee or agent,
                at,
            )
            at = at.add(hours=rng.randrange(1, 6))
            if at < end and rng.random() < 0.7:
                ticket = desk.act(ticket, history, Transition(trigger="close"), kiosk, at)
        ticket = desk.escalate(ticket, history, end)
        tickets.append(DemoTicket(ticket=ticket, history=tuple(history)))
    return tickets, end


def _fmt(value: datetime | None) -> str:
    return (
        "-"
        if value is None
        else pendulum.instance(value).in_timezone(DEMO_TZ).format("ddd DD MMM HH:mm")
    )


def _hours(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    minutes = abs(int(value.total_seconds())) // 60
    return f"{sign}{minutes // 60}h{minutes % 60:02d}m"


def run_demo(out: TextIO, *, count: int = 24, seed: int = 7) -> None:
    """Print the demo report: timelines, SLA outcomes, escalations, compliance, credit."""
    tickets, end = simulate_week(count, seed)
    policy = demo_policy()
    statuses: list[SlaStatus] = []
    print(f"itsm-core {__version__} demo: {KIOSKS} kiosks supported 8x5 in {DEMO_TZ}", file=out)
    print(
        "week of Monday 9 March 2026 (a public holiday), evaluated at "
        f"{_fmt(end)}; incidents resolved within 8 business hours\n",
        file=out,
    )
    for item in tickets:
        ticket = item.ticket
        status = evaluate(item.history, policy, end)
        statuses.append(status)
        print(
            f"{ticket.id} {ticket.type:<15} {ticket.effective_priority or '-':<3} "
            f"{ticket.state:<28} {ticket.title}",
            file=out,
        )
        lines: list[tuple[datetime, str]] = [
            (c.at, f"{c.metric:<15} {c.stage.value} ({c.cause.replace('_', ' ')})")
            for c in status.timeline
        ]
        for event in item.history:
            if isinstance(event, Escalated):
                lines.append(
                    (event.at, f"escalation      {event.rule}, level {event.level}: {event.reason}")
                )
            elif isinstance(event, Reassigned):
                lines.append((event.at, f"reassigned      to {event.group} ({event.assignee})"))
            elif isinstance(event, NotificationRequested):
                lines.append((event.at, f"notification    to {', '.join(event.recipients)}"))
        for at, text in sorted(lines, key=lambda line: line[0]):
            print(f"    {_fmt(at)}  {text}", file=out)
        for clock in status.clocks:
            if clock.current is not None:
                print(
                    f"    -> {clock.metric}: {clock.stage.value}, elapsed "
                    f"{_hours(clock.current.elapsed)}, remaining "
                    f"{_hours(clock.current.remaining)}",
                    file=out,
                )
    compliance = Compliance.of(statuses)
    print("\nCompliance (cycles met / breached):", file=out)
    for metric in (m.name for m in policy.metrics):
        met, breached = compliance.totals(metric=metric)
        percent = compliance.percent(metric=metric)
        shown = "n/a" if percent is None else f"{percent:.1f}%"
        print(f"    {metric:<15} {met:>3} / {breached:<3} {shown}", file=out)
    rules = [
        CreditRule(metric="resolution", below_percent=95, credit_percent=10),
        CreditRule(metric="resolution", below_percent=85, credit_percent=25),
    ]
    fee = KIOSKS * FEE_PER_KIOSK
    credit = service_credit(compliance, period="2026-03", fee=f"{fee}.00", rules=rules)
    print(
        f"\nService credit for 2026-03 (fee {credit.fee}; below 95% resolution compliance "
        f"credit 10%, below 85% credit 25%): {credit.credit_percent}% = {credit.amount}",
        file=out,
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    run_demo(out, count=args.tickets, seed=args.seed)
    return EXIT_OK


def add_parser(commands: Any) -> None:
    """Add ``demo`` to the sub-commands."""
    demo = commands.add_parser("demo", help="run the built-in kiosk desk for a week and report")
    demo.add_argument("--tickets", type=int, default=24, help="how many tickets (default 24)")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the week (default 7)")
    demo.set_defaults(run=run)
