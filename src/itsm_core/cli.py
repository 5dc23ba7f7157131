"""The ``itsm-core`` command: a demo on embedded defaults, SLA reports over exports, diagrams.

This is the one module of the project that reads files and prints. Every
command turns bad input into one clear line on stderr and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TextIO

import attrs
import pendulum

from itsm_core._time import from_us
from itsm_core._version import __version__
from itsm_core.calendar import BusinessCalendar, CalendarLike
from itsm_core.errors import ConfigurationError, ItsmError
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
from itsm_core.serialization import (
    Desk,
    decode_event,
    decode_event_row,
    format_duration,
    load_desk,
    parse_duration,
)
from itsm_core.sla import Metric, SlaPolicy, SlaStatus, evaluate, evaluate_many
from itsm_core.ticket import (
    AddComment,
    Event,
    OpenTicket,
    Reassigned,
    Ticket,
    TicketCommand,
    TicketOpened,
    Transition,
)

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INVALID = 2

# ----------------------------------------------------------------------------- the demo desk

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


# ------------------------------------------------------------------------------ file input


class InputError(Exception):
    """A problem with a file the command reads: printed as ``FILE:LINE: message``."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


def read_desk(path: str) -> Desk:
    """Load a desk document from TOML or JSON; problems name the file and the field path."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    try:
        is_json = path.endswith(".json")
        document = json.loads(raw) if is_json else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            path, f"not a valid {'JSON' if path.endswith('.json') else 'TOML'} document: {exc}"
        ) from None
    try:
        return load_desk(document)
    except ConfigurationError as exc:
        raise InputError(
            path,
            "\n".join([f"{len(exc.problems)} problem(s)"] + [f"{path}: {p}" for p in exc.problems]),
        ) from None


def _column_map(pairs: Sequence[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        source, sep, field = pair.partition("=")
        if not sep or not source or not field:
            raise InputError("--map", f"expected COLUMN=FIELD, got {pair!r}")
        mapping[source] = field
    return mapping


def read_events(
    path: str,
    *,
    fmt: str,
    columns: Mapping[str, str],
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None = None,
) -> Iterator[Event]:
    """Stream the events of a JSON Lines or CSV file, one at a time (constant memory).

    The file is opened at once, so a missing file fails before any output.
    """
    try:
        handle = open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed by _events
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    return _events(handle, path, fmt, columns, skip_bad, counts, progress)


def _events(
    handle: TextIO,
    path: str,
    fmt: str,
    columns: Mapping[str, str],
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None,
) -> Iterator[Event]:
    with handle:
        rows: Iterator[tuple[int, str | dict[str, str]]]
        if fmt == "csv":
            reader = csv.DictReader(handle)
            rows = (
                (reader.line_num, {columns.get(k, k): v for k, v in row.items() if k is not None})
                for row in reader
            )
        else:
            rows = enumerate(handle, start=1)
        read = 0
        for number, item in rows:
            if isinstance(item, str):
                read += len(item.encode("utf-8"))
                if progress is not None:
                    progress(read)
            try:
                if isinstance(item, str):
                    if not item.strip():
                        continue
                    data = json.loads(item)
                    if isinstance(data, dict) and columns:
                        data = {columns.get(k, k): v for k, v in data.items()}
                    yield decode_event(data)
                else:
                    yield decode_event_row(item)
            except (ValueError, ConfigurationError) as exc:
                message = (
                    "; ".join(str(p) for p in exc.problems)
                    if isinstance(exc, ConfigurationError)
                    else f"not a JSON object: {exc}"
                )
                if not skip_bad:
                    raise InputError(f"{path}:{number}", message) from None
                counts["bad"] = counts.get("bad", 0) + 1
                counts.setdefault("first_bad", number)


def group_by_ticket(events: Iterable[Event]) -> Iterator[list[Event]]:
    """Consecutive events of one ticket as one history, holding one ticket at a time.

    Nothing remembers the tickets already seen, so memory stays flat; a ticket
    whose events come back later starts a history without its opening, which the
    evaluation refuses (see :func:`_evaluate_all`).
    """
    history: list[Event] = []
    for event in events:
        if history and event.ticket_id != history[-1].ticket_id:
            yield history
            history = []
        history.append(event)
    if history:
        yield history


def _evaluate_all(
    histories: Iterable[list[Event]], policies: Sequence[SlaPolicy], now: datetime, path: str
) -> Iterator[SlaStatus]:
    for history in histories:
        try:
            yield from evaluate_many([history], policies, now)
        except ItsmError as exc:
            hint = (
                "; the events of each ticket must be together (sort the export by ticket, "
                "then time)"
                if not isinstance(history[0], TicketOpened)
                else ""
            )
            raise InputError(path, f"ticket {history[0].ticket_id!r}: {exc}{hint}") from None


def _parse_instant(text: str, field: str) -> pendulum.DateTime:
    """An aware instant from ISO 8601; a time without an offset is refused, never guessed."""
    expected = "expected an ISO 8601 instant with an offset, such as 2026-03-06T16:00+03:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{expected}, got {text!r}") from None
    if value.tzinfo is None:
        raise InputError(field, f"{expected}, got {text!r} (no offset)")
    return pendulum.instance(value)


# ------------------------------------------------------------------------------ the commands


def _cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    run_demo(out, count=args.tickets, seed=args.seed)
    return EXIT_OK


def _cmd_lifecycle(args: argparse.Namespace, out: TextIO) -> int:
    lifecycles = read_desk(args.config).lifecycles() if args.config else default_lifecycles()
    lifecycle = lifecycles[args.type]
    print(lifecycle.to_mermaid() if args.format == "mermaid" else lifecycle.to_dot(), file=out)
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    desk = read_desk(args.desk)
    print(
        f"{args.desk}: valid desk {desk.name or '(unnamed)'}: {len(desk.calendars)} "
        f"calendar(s), {len(desk.sla_policies)} SLA policies, "
        f"{len(desk.escalation_rules)} escalation rules, "
        f"{len(desk.lifecycle_definitions)} lifecycles",
        file=out,
    )
    return EXIT_OK


def _calendar_of(desk: Desk, name: str | None, where: str) -> CalendarLike:
    chosen = name or desk.calendar
    if chosen is None or chosen not in desk.calendars:
        names = ", ".join(desk.calendars) or "none declared"
        raise InputError(where, f"expected a calendar of the desk ({names}), got {chosen!r}")
    return desk.calendars[chosen]


def _cmd_calendar(args: argparse.Namespace, out: TextIO) -> int:
    desk = read_desk(args.desk)
    calendar = _calendar_of(desk, args.calendar, f"{args.desk}: --calendar")
    if args.add:
        start = _parse_instant(args.add[0], "--add START")
        duration = parse_duration(args.add[1], "--add DURATION")
        print(calendar.add(start, duration).isoformat(), file=out)
    elif args.elapsed:
        a = _parse_instant(args.elapsed[0], "--elapsed A")
        b = _parse_instant(args.elapsed[1], "--elapsed B")
        print(format_duration(calendar.elapsed(a, b)), file=out)
    else:
        at = _parse_instant(args.is_open, "--is-open")
        print("open" if calendar.is_open(at) else "closed", file=out)
    return EXIT_OK


REPORT_COLUMNS = (
    "ticket_id",
    "policy",
    "metric",
    "stage",
    "cycles",
    "started_at",
    "due_at",
    "elapsed",
    "paused",
    "remaining",
    "breached_at",
    "met_at",
)


def _rows(status: SlaStatus) -> Iterator[dict[str, str]]:
    for clock in status.clocks:
        cycle = clock.current
        if cycle is None:
            continue

        def iso(value: datetime | None) -> str:
            return "" if value is None else value.isoformat()

        yield {
            "ticket_id": status.ticket_id,
            "policy": status.policy,
            "metric": clock.metric,
            "stage": clock.stage.value,
            "cycles": str(len(clock.cycles)),
            "started_at": iso(cycle.started_at),
            "due_at": iso(cycle.due_at),
            "elapsed": format_duration(cycle.elapsed),
            "paused": format_duration(cycle.paused),
            "remaining": format_duration(cycle.remaining),
            "breached_at": iso(cycle.breached_at),
            "met_at": iso(cycle.met_at),
        }


class _Progress:
    """A progress bar on stderr for large inputs (by bytes read)."""

    def __init__(self, total: int, err: TextIO) -> None:
        self.total = max(total, 1)
        self.err = err
        self.shown = -1

    def __call__(self, done: int) -> None:
        percent = min(100, done * 100 // self.total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            end = "\n" if percent == 100 else ""
            print(f"\rreading {bar:<25} {percent:3d}%", end=end, file=self.err, flush=True)


def _cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    desk = read_desk(args.config)
    if not desk.sla_policies:
        raise InputError(args.config, "sla.policies: expected at least one SLA policy")
    now = _parse_instant(args.now, "--now") if args.now else pendulum.now("UTC")
    fmt = args.input_format or ("csv" if args.events.endswith(".csv") else "jsonl")
    counts: dict[str, int] = {}
    progress = None
    if fmt == "jsonl" and not args.no_progress:
        size = os.path.getsize(args.events) if os.path.exists(args.events) else 0
        if size >= args.progress_above:
            progress = _Progress(size, sys.stderr)
    events = read_events(
        args.events,
        fmt=fmt,
        columns=_column_map(args.map),
        skip_bad=args.skip_bad,
        counts=counts,
        progress=progress,
    )
    statuses = _evaluate_all(group_by_ticket(events), desk.sla_policies, now, args.events)
    writer: csv.DictWriter[str] | None = None
    if args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
    elif args.format == "table":
        print(
            f"{'ticket':<12} {'metric':<15} {'stage':<9} {'elapsed':>10} {'remaining':>10}  "
            "due / breached / met",
            file=out,
        )

    def counted() -> Iterator[SlaStatus]:
        for status in statuses:
            counts["tickets"] = counts.get("tickets", 0) + 1
            yield status
            for row in _rows(status):
                if writer is not None:
                    writer.writerow(row)
                elif args.format == "json":
                    print(json.dumps(row), file=out)
                else:
                    when = row["breached_at"] or row["met_at"] or row["due_at"] or "-"
                    print(
                        f"{row['ticket_id']:<12} {row['metric']:<15} {row['stage']:<9} "
                        f"{row['elapsed']:>10} {row['remaining']:>10}  {when}",
                        file=out,
                    )

    compliance = Compliance.of(counted())
    summary: dict[str, int] = {
        "tickets": counts.get("tickets", 0),
        "bad_lines": counts.get("bad", 0),
    }
    for metric in sorted({key.metric for key, _ in compliance.counts}):
        met, breached = compliance.totals(metric=metric)
        summary[f"{metric}_met"] = met
        summary[f"{metric}_breached"] = breached
    if args.format == "table":
        print(f"\n{summary['tickets']} tickets", file=out)
        for metric in sorted({key.metric for key, _ in compliance.counts}):
            met, breached = compliance.totals(metric=metric)
            percent = compliance.percent(metric=metric)
            print(
                f"  {metric:<15} met {met}, breached {breached}, compliance "
                f"{'n/a' if percent is None else f'{percent:.1f}%'}",
                file=out,
            )
    elif args.format == "json":
        print(json.dumps({"summary": summary}), file=out)
    if counts.get("bad"):
        print(
            f"itsm-core: {args.events}: skipped {counts['bad']} bad line(s), the first at line "
            f"{counts['first_bad']}",
            file=sys.stderr,
        )
    return EXIT_OK


def _segments(status: SlaStatus, metric: str) -> list[tuple[int, int, str]]:
    """Running and paused stretches of a clock, from its stage changes."""
    segments: list[tuple[int, int, str]] = []
    open_at: int | None = None
    kind = ""
    for at, name, _cycle, stage, _cause, _index in status.stage_changes:
        if name != metric:
            continue
        if open_at is not None and stage != "breached":
            segments.append((open_at, at, kind))
            open_at = None
        if stage in ("running", "paused"):
            open_at, kind = at, stage
    if open_at is not None:
        segments.append((open_at, status.now_us, kind))
    return segments


def _cmd_timeline(args: argparse.Namespace, out: TextIO) -> int:
    desk = read_desk(args.config)
    now = _parse_instant(args.now, "--now") if args.now else pendulum.now("UTC")
    fmt = args.input_format or ("csv" if args.events.endswith(".csv") else "jsonl")
    counts: dict[str, int] = {}
    history = [
        e
        for e in read_events(
            args.events,
            fmt=fmt,
            columns=_column_map(args.map),
            skip_bad=args.skip_bad,
            counts=counts,
        )
        if e.ticket_id == args.ticket_id
    ]
    if not history:
        raise InputError(args.events, f"no events of ticket {args.ticket_id!r}")
    found = list(evaluate_many([history], desk.sla_policies, now))
    if not found:
        raise InputError(args.config, f"no SLA policy applies to ticket {args.ticket_id!r}")
    status = found[0]
    first = min(at for at, *_ in status.stage_changes) if status.stage_changes else status.now_us
    span = max(status.now_us - first, 1)
    width = 50
    if args.format in ("bars", "both"):
        print(
            f"{status.ticket_id} under {status.policy!r}, as of {status.now.isoformat()}", file=out
        )
        for clock in status.clocks:
            line = [" "] * width
            for start, end, kind in _segments(status, clock.metric):
                a = (start - first) * width // span
                b = max(a + 1, (end - first) * width // span)
                for i in range(a, min(b, width)):
                    line[i] = "#" if kind == "running" else "."
            print(f"  {clock.metric:<15} |{''.join(line)}| {clock.stage.value}", file=out)
        print("  (# running, . paused; the bar spans the first stage change to now)", file=out)
    if args.format in ("mermaid", "both"):
        print("gantt", file=out)
        print(f"    title {status.ticket_id} SLA clocks ({status.policy})", file=out)
        print("    dateFormat YYYY-MM-DDTHH:mm:ssZ", file=out)
        print("    axisFormat %d %b %H:%M", file=out)
        for clock in status.clocks:
            print(f"    section {clock.metric}", file=out)
            for n, (start, end, kind) in enumerate(_segments(status, clock.metric), start=1):
                tag = "active, " if kind == "running" else ""
                begin = from_us(start, status.timezone).isoformat()
                finish = from_us(end, status.timezone).isoformat()
                print(f"    {kind} {n} :{tag}{clock.metric}{n}, {begin}, {finish}", file=out)
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="itsm-core",
        description="itsm_core from the command line: demo, SLA reports, calendars, diagrams.",
    )
    parser.add_argument("--version", action="version", version=f"itsm-core {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the built-in kiosk desk for a week and report")
    demo.add_argument("--tickets", type=int, default=24, help="how many tickets (default 24)")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the week (default 7)")
    demo.set_defaults(run=_cmd_demo)

    def event_input(command: argparse.ArgumentParser) -> None:
        command.add_argument("--config", required=True, help="the desk document (TOML or JSON)")
        command.add_argument("--now", help="evaluate as of this instant (default: the clock)")
        command.add_argument(
            "--input-format",
            choices=["jsonl", "csv"],
            help="default: by the file's extension (.csv, else JSON Lines)",
        )
        command.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="read COLUMN as the event field FIELD (repeatable)",
        )
        command.add_argument(
            "--skip-bad",
            action="store_true",
            help="skip malformed lines, count them and report the count",
        )

    report = commands.add_parser("report", help="evaluate every SLA over an export of events")
    report.add_argument("events", help="events as JSON Lines or CSV, grouped by ticket")
    event_input(report)
    report.add_argument("--format", choices=["table", "json", "csv"], default="table")
    report.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    report.add_argument(
        "--progress-above",
        type=int,
        default=5_000_000,
        metavar="BYTES",
        help="show the progress bar for inputs of this size or more",
    )
    report.set_defaults(run=_cmd_report)

    timeline = commands.add_parser("timeline", help="one ticket's SLA clocks as a chart")
    timeline.add_argument("ticket_id")
    timeline.add_argument("--events", required=True, help="events as JSON Lines or CSV")
    event_input(timeline)
    timeline.add_argument("--format", choices=["bars", "mermaid", "both"], default="both")
    timeline.set_defaults(run=_cmd_timeline)

    calendar = commands.add_parser("calendar", help="what-if questions on a desk's calendar")
    calendar.add_argument("desk", help="the desk document (TOML or JSON)")
    calendar.add_argument("--calendar", help="the calendar's name (default: the desk's)")
    question = calendar.add_mutually_exclusive_group(required=True)
    question.add_argument(
        "--add",
        nargs=2,
        metavar=("START", "DURATION"),
        help="when DURATION of business time has passed after START",
    )
    question.add_argument(
        "--elapsed", nargs=2, metavar=("A", "B"), help="the business time between A and B"
    )
    question.add_argument("--is-open", metavar="AT", help="whether the calendar is open at AT")
    calendar.set_defaults(run=_cmd_calendar)

    lifecycle = commands.add_parser("lifecycle", help="a lifecycle as a diagram")
    lifecycle.add_argument("type", help="the ticket type, e.g. incident")
    lifecycle.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    lifecycle.add_argument("--config", help="a desk document with its own lifecycles")
    lifecycle.set_defaults(run=_cmd_lifecycle)

    check = commands.add_parser("check", help="validate a desk document; exit 2 when invalid")
    check.add_argument("desk", help="the desk document (TOML or JSON)")
    check.set_defaults(run=_cmd_check)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 unreadable input, 2 invalid)."""
    stdout = out or sys.stdout
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, stdout)
    except InputError as exc:
        print(f"itsm-core: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except (
        BrokenPipeError
    ):  # pragma: no cover - the reader went away (``| head``): a subprocess test
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ItsmError as exc:
        print(f"itsm-core: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"itsm-core: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
