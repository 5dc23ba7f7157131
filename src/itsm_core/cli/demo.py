"""``itsm-core demo``: a week of the kiosk desk, driven through the desk's verbs as a host would.

The desk is the packaged document ``desk.toml`` (the same as
``docs/examples/desk.toml``): 8x5 in Moscow, incidents and requests with their
own SLA policies, three support lines and a vendor, escalation rules and
permissions. The simulated host stores each ticket's history, applies its
agents' commands with :meth:`~itsm_core.desk.Desk.apply`, and wakes only when
:meth:`~itsm_core.desk.Desk.next_wakeup` tells it to, calling
:meth:`~itsm_core.desk.Desk.advance`.
"""

from __future__ import annotations

import argparse
import random
import tomllib
from datetime import date, datetime, timedelta
from importlib.resources import files
from typing import Any, TextIO

import attrs
import pendulum

from itsm_core._version import __version__
from itsm_core.cli._common import EXIT_OK
from itsm_core.desk import Desk, SlaThresholdReached
from itsm_core.errors import InvalidTransition, InvalidValueError, PermissionDenied
from itsm_core.escalation import Escalated, NotificationRequested
from itsm_core.lifecycle import History
from itsm_core.metrics import Compliance, service_credit
from itsm_core.serialization import load_desk
from itsm_core.sla import SlaStatus
from itsm_core.ticket import (
    AddComment,
    Assign,
    OpenTicket,
    Reassigned,
    StateChanged,
    Ticket,
    TicketCommand,
    Transition,
)

__all__ = [
    "DemoTicket",
    "add_parser",
    "demo_desk",
    "demo_document",
    "run",
    "run_demo",
    "simulate_week",
]

DEMO_TZ = "Europe/Moscow"
DEMO_WEEK = date(2026, 3, 9)  # Monday; a public holiday (March 8 fell on a Sunday)
KIOSKS = 100
FEE_PER_KIOSK = 120
#: Who works the tickets of each support group in the demo.
AGENTS = {"service-desk": "dana", "field-engineers": "pavel", "platform": "arseny"}


def demo_document() -> str:
    """The packaged desk document (TOML): the kiosk desk of ``docs/examples/desk.toml``."""
    return files("itsm_core.cli").joinpath("desk.toml").read_text(encoding="utf-8")


def demo_desk() -> Desk:
    """The kiosk desk, loaded from the packaged document."""
    return load_desk(tomllib.loads(demo_document()))


@attrs.frozen(kw_only=True)
class DemoTicket:
    """One simulated ticket: its history (every event, the desk's own included)."""

    history: History

    @property
    def ticket(self) -> Ticket:
        """The ticket at the end of the week."""
        return self.history.ticket


class _Host:
    """Stores histories, applies agents' commands and wakes when the desk says so."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def wake_until(self, history: History, until: datetime) -> History:
        """Advance at every instant the desk asks for, up to ``until``."""
        cursor: datetime = history[-1].at
        while True:
            wake = self.desk.next_wakeup(history, cursor)
            if wake is None or wake > until:
                return history
            history = self.desk.advance(history, wake).history
            cursor = wake

    def act(self, history: History, command: TicketCommand, actor: str, at: datetime) -> History:
        """Wake up to ``at``, then apply the command if the desk accepts it."""
        history = self.wake_until(history, at)
        try:
            return self.desk.apply(history, command, actor=actor, at=at).history
        except (InvalidTransition, InvalidValueError, PermissionDenied):
            return history  # the agent's action does not apply any more (e.g. escalated)


def simulate_week(count: int = 24, seed: int = 7) -> tuple[list[DemoTicket], pendulum.DateTime]:
    """A reproducible week of kiosk tickets on the demo desk, and the instant it ends.

    Kiosks report at any hour; the desk works its business hours, so every agent
    action falls a random amount of *business* time after the previous one.
    """
    rng = random.Random(seed)
    desk = demo_desk()
    host = _Host(desk)
    calendar = desk.default_calendar
    assert calendar is not None  # the packaged desk declares its calendar
    monday = pendulum.datetime(DEMO_WEEK.year, DEMO_WEEK.month, DEMO_WEEK.day, tz=DEMO_TZ)
    end = monday.add(days=4, hours=18)

    def work(after: datetime, low: int, high: int) -> pendulum.DateTime:
        return calendar.add(after, timedelta(minutes=rng.randrange(low, high)))

    def agent(history: History) -> str:
        return AGENTS.get(str(history.ticket.group), "dana")

    tickets = []
    for n in range(1, count + 1):
        opened = monday.add(
            days=rng.randrange(5), hours=rng.randrange(6, 20), minutes=rng.randrange(60)
        )
        if opened >= end:  # after the week: the next week's business
            opened = end.subtract(minutes=rng.randrange(1, 60))
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
        command = OpenTicket(
            ticket_id=f"K-{n:03d}",
            type=kind,
            title=f"{kiosk}: {what}",
            requester=kiosk,
            impact=rng.choice(["low", "medium", "high"]),
            urgency=rng.choice(["low", "medium", "high"]),
        )
        history = desk.apply(None, command, actor=kiosk, at=opened).history
        at = work(opened, 1, 15)
        history = host.act(
            history, Assign(assignee="dana", group="service-desk", support_line=1), "dana", at
        )
        at = work(at, 3, 30)
        history = host.act(history, AddComment(body="We are on it."), agent(history), at)
        history = host.act(history, Transition(trigger="start"), agent(history), at)
        if rng.random() < 0.3:
            at = work(at, 10, 120)
            hold = Transition(
                trigger="hold", hold_reason="awaiting_requester", reason="need details"
            )
            history = host.act(history, hold, agent(history), at)
            at = at.add(hours=rng.randrange(1, 20))
            history = host.act(history, AddComment(body="Details attached."), kiosk, at)
        at = work(at, 30, 11 * 60)
        if at < end:
            resolve = Transition(trigger="resolve", resolution_code="fixed", reason="repaired")
            history = host.act(history, resolve, agent(history), at)
            at = at.add(hours=rng.randrange(1, 6))
            if at < end and rng.random() < 0.7:
                history = host.act(history, Transition(trigger="close"), kiosk, at)
        history = host.wake_until(history, end)
        tickets.append(DemoTicket(history=history))
    return tickets, end


def _fmt(value: datetime | None) -> str:
    if value is None:
        return "-"
    return pendulum.instance(value).in_timezone(DEMO_TZ).format("ddd DD MMM HH:mm")


def _hours(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    minutes = abs(int(value.total_seconds())) // 60
    return f"{sign}{minutes // 60}h{minutes % 60:02d}m"


def _lines(history: History, status: SlaStatus | None) -> list[tuple[datetime, str]]:
    lines: list[tuple[datetime, str]] = []
    if status is not None:
        lines += [
            (c.at, f"{c.metric:<15} {c.stage.value} ({c.cause.replace('_', ' ')})")
            for c in status.timeline
        ]
    for event in history:
        if isinstance(event, Escalated):
            text = f"escalation      {event.rule}, level {event.level}: {event.reason}"
            lines.append((event.at, text))
        elif isinstance(event, Reassigned):
            lines.append((event.at, f"reassigned      to {event.group} ({event.assignee})"))
        elif isinstance(event, NotificationRequested):
            lines.append((event.at, f"notification    to {', '.join(event.recipients)}"))
        elif isinstance(event, SlaThresholdReached) and not event.is_breach:
            lines.append((event.at, f"{event.metric:<15} {event.percent}% of the target"))
        elif isinstance(event, StateChanged) and event.actor == "automation":
            lines.append((event.at, f"{event.trigger:<15} by the desk"))
    return sorted(lines, key=lambda line: line[0])


def run_demo(out: TextIO, *, count: int = 24, seed: int = 7) -> None:
    """Print the demo report: timelines, SLA outcomes, escalations, compliance, credit."""
    tickets, end = simulate_week(count, seed)
    desk = demo_desk()
    statuses: list[SlaStatus] = []
    print(f"itsm-core {__version__} demo: {KIOSKS} kiosks supported 8x5 in {DEMO_TZ}", file=out)
    print(
        f"desk {desk.name!r}, week of Monday 9 March 2026 (a public holiday), evaluated at "
        f"{_fmt(end)}\n",
        file=out,
    )
    for item in tickets:
        status = desk.status(item.history, end)
        ticket = status.ticket
        if status.sla is not None:
            statuses.append(status.sla)
        print(
            f"{ticket.id} {ticket.type:<15} {ticket.effective_priority or '-':<3} "
            f"{ticket.state:<28} {ticket.title}",
            file=out,
        )
        print(f"    policy: {status.policy_reason}", file=out)
        for at, text in _lines(item.history, status.sla):
            print(f"    {_fmt(at)}  {text}", file=out)
        for clock in status.sla.clocks if status.sla is not None else ():
            if clock.current is not None:
                print(
                    f"    -> {clock.metric}: {clock.stage.value}, elapsed "
                    f"{_hours(clock.current.elapsed)}, remaining "
                    f"{_hours(clock.current.remaining)}",
                    file=out,
                )
        print(f"    next wake-up: {_fmt(status.next_wakeup)}", file=out)
    compliance = Compliance.of(statuses)
    print("\nCompliance (cycles met / breached):", file=out)
    for metric in sorted({key.metric for key, _ in compliance.counts}):
        met, breached = compliance.totals(metric=metric)
        percent = compliance.percent(metric=metric)
        shown = "n/a" if percent is None else f"{percent:.1f}%"
        print(f"    {metric:<15} {met:>3} / {breached:<3} {shown}", file=out)
    fee = KIOSKS * FEE_PER_KIOSK
    credit = service_credit(compliance, period="2026-03", fee=f"{fee}.00", rules=desk.credit_rules)
    tiers = ", ".join(
        f"below {r.below_percent}% {r.metric} compliance credit {r.credit_percent}%"
        for r in desk.credit_rules
    )
    print(
        f"\nService credit for 2026-03 (fee {credit.fee}; {tiers}): "
        f"{credit.credit_percent}% = {credit.amount}",
        file=out,
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``itsm-core demo``."""
    run_demo(out, count=args.tickets, seed=args.seed)
    return EXIT_OK


def add_parser(commands: Any) -> None:
    """Add ``demo`` to the sub-commands."""
    demo = commands.add_parser("demo", help="run the packaged kiosk desk for a week and report")
    demo.add_argument("--tickets", type=int, default=24, help="how many tickets (default 24)")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the week (default 7)")
    demo.set_defaults(run=run)
