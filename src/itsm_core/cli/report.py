"""``itsm-core report``: every SLA clock of an export of events, with compliance."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

import pendulum

from itsm_core.cli._common import (
    EXIT_OK,
    InputError,
    Progress,
    add_event_input,
    column_map,
    group_by_ticket,
    parse_instant,
    read_desk,
    read_events,
)
from itsm_core.cli.html import TicketFacts, facts_of, render_html
from itsm_core.desk import Desk
from itsm_core.errors import ItsmError
from itsm_core.lifecycle import History
from itsm_core.metrics import Compliance
from itsm_core.serialization import format_duration
from itsm_core.sla import SlaStatus
from itsm_core.ticket import Event, TicketOpened

__all__ = ["REPORT_COLUMNS", "add_parser", "evaluate_all", "run"]


def evaluate_all(
    histories: Iterable[list[Event]], desk: Desk, now: datetime, path: str
) -> Iterator[tuple[History, SlaStatus]]:
    """Each history with its clocks under the policy the desk chooses (none: left out)."""
    for events in histories:
        try:
            history = History(events)
            status = desk.clocks(history, now)
        except ItsmError as exc:
            hint = (
                "; the events of each ticket must be together (sort the export by ticket, "
                "then time)"
                if not isinstance(events[0], TicketOpened)
                else ""
            )
            raise InputError(path, f"ticket {events[0].ticket_id!r}: {exc}{hint}") from None
        if status is not None:
            yield history, status


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


def _summary(compliance: Compliance, tickets: int, bad: int, fmt: str, out: TextIO) -> None:
    """The totals after the rows: the same for one process and for every engine."""
    metrics = sorted({key.metric for key, _ in compliance.counts})
    summary: dict[str, int] = {"tickets": tickets, "bad_lines": bad}
    for metric in metrics:
        met, breached = compliance.totals(metric=metric)
        summary[f"{metric}_met"] = met
        summary[f"{metric}_breached"] = breached
    if fmt == "table":
        print(f"\n{tickets} tickets", file=out)
        for metric in metrics:
            met, breached = compliance.totals(metric=metric)
            percent = compliance.percent(metric=metric)
            print(
                f"  {metric:<15} met {met}, breached {breached}, compliance "
                f"{'n/a' if percent is None else f'{percent:.1f}%'}",
                file=out,
            )
    elif fmt == "json":
        print(json.dumps({"summary": summary}), file=out)


def _run_dask(args: argparse.Namespace, desk: Desk, now: datetime, out: TextIO) -> int:
    from itsm_core.cli.scale import run_dask

    if os.path.isdir(args.events):
        paths = sorted(
            os.path.join(args.events, name)
            for name in os.listdir(args.events)
            if name.endswith(".jsonl")
        )
        if not paths:
            raise InputError(args.events, "expected a directory of .jsonl shards, found none")
    else:
        paths = [args.events]
    if args.format not in ("table", "json"):
        raise InputError("--format", "the dask engine writes the summary: table or json")
    total = run_dask(
        paths,
        desk,
        now,
        workers=args.workers,
        scheduler=args.scheduler,
        skip_bad=args.skip_bad,
    )
    _summary(total.compliance, total.tickets, total.bad_lines, args.format, out)
    if total.bad_lines:
        print(f"itsm-core: {args.events}: skipped {total.bad_lines} bad line(s)", file=sys.stderr)
    return EXIT_OK


def run(args: argparse.Namespace, out: TextIO) -> int:
    desk = read_desk(args.config)
    if not desk.sla_policies:
        raise InputError(args.config, "sla.policies: expected at least one SLA policy")
    now = parse_instant(args.now, "--now") if args.now else pendulum.now("UTC")
    if args.engine == "dask":
        return _run_dask(args, desk, now, out)
    fmt = args.input_format or ("csv" if args.events.endswith(".csv") else "jsonl")
    counts: dict[str, int] = {}
    progress = None
    if fmt == "jsonl" and not args.no_progress:
        size = os.path.getsize(args.events) if os.path.exists(args.events) else 0
        if size >= args.progress_above:
            progress = Progress(size, sys.stderr)
    events = read_events(
        args.events,
        fmt=fmt,
        columns=column_map(args.map),
        skip_bad=args.skip_bad,
        counts=counts,
        progress=progress,
    )
    statuses = evaluate_all(group_by_ticket(events), desk, now, args.events)
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

    facts: list[TicketFacts] = []

    def counted() -> Iterator[SlaStatus]:
        for history, status in statuses:
            counts["tickets"] = counts.get("tickets", 0) + 1
            yield status
            if args.format == "html":
                facts.append(facts_of(history, status))
                continue
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
    if args.format == "html":
        title = f"SLA report: {os.path.basename(args.events)}"
        out.write(render_html(facts, compliance, title=title, now=now))
    else:
        _summary(compliance, counts.get("tickets", 0), counts.get("bad", 0), args.format, out)
    if counts.get("bad"):
        print(
            f"itsm-core: {args.events}: skipped {counts['bad']} bad line(s), the first at line "
            f"{counts['first_bad']}",
            file=sys.stderr,
        )
    return EXIT_OK


def add_parser(commands: Any) -> None:
    """Add ``report`` to the sub-commands."""
    report = commands.add_parser("report", help="evaluate every SLA over an export of events")
    report.add_argument("events", help="events as JSON Lines or CSV, grouped by ticket")
    add_event_input(report)
    report.add_argument(
        "--format",
        choices=["table", "json", "csv", "html"],
        default="table",
        help="html: one self-contained page of charts (needs the cli extra)",
    )
    report.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    report.add_argument(
        "--progress-above",
        type=int,
        default=5_000_000,
        metavar="BYTES",
        help="show the progress bar for inputs of this size or more",
    )
    report.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="dask: evaluate partitions on a Dask cluster and print the summary "
        "(EVENTS may be a directory of .jsonl shards, each holding whole tickets)",
    )
    report.add_argument(
        "--workers", type=int, default=2, help="local Dask worker processes (default 2)"
    )
    report.add_argument("--scheduler", help="address of a running Dask scheduler")
    report.set_defaults(run=run)
