"""``itsm-core timeline``: one ticket's SLA clocks as bars or a Mermaid Gantt chart."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

import pendulum

from itsm_core._time import from_us
from itsm_core.cli._common import (
    EXIT_OK,
    InputError,
    add_event_input,
    column_map,
    in_time_order,
    parse_instant,
    read_desk,
    read_events,
    tell_skipped,
)
from itsm_core.sla import SlaStatus

__all__ = ["add_parser", "run"]


def _segments(status: SlaStatus, metric: str) -> list[tuple[int, int, str]]:
    """Running and paused stretches of a clock, from its cycles' running segments."""
    stretches: list[tuple[int, int, str]] = []
    for cycle in status.clock(metric).cycles:
        previous: int | None = None
        for start, end in cycle.segments_us:
            if previous is not None and start > previous:
                stretches.append((previous, start, "paused"))
            stretches.append((start, end, "running"))
            previous = end
        if cycle.ended_us is None and not cycle.running and previous is not None:
            stretches.append((previous, status.now_us, "paused"))
    return stretches


def run(args: argparse.Namespace, out: TextIO) -> int:
    desk = read_desk(args.config)
    now = parse_instant(args.now, "--now") if args.now else pendulum.now("UTC")
    fmt = args.input_format or ("csv" if args.events.endswith(".csv") else "jsonl")
    counts: dict[str, int] = {}
    events = in_time_order(
        e
        for e in read_events(
            args.events,
            fmt=fmt,
            columns=column_map(args.map),
            skip_bad=args.skip_bad,
            counts=counts,
        )
        if e.ticket_id == args.ticket_id
    )
    # one ticket asked: an input without its events is the error below, not "no good line"
    tell_skipped(args.events, counts, args.skip_bad, 1, sys.stderr)
    if not events:
        raise InputError(args.events, f"no events of ticket {args.ticket_id!r}")
    desk_status = desk.status(desk.history(events), now)  # checked as the report checks it
    if desk_status.sla is None:
        raise InputError(args.config, f"no SLA policy applies to ticket {args.ticket_id!r}")
    status = desk_status.sla
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
        print(f"  policy: {desk_status.policy_reason}", file=out)
        wake = desk_status.next_wakeup
        print(f"  next wake-up: {'-' if wake is None else wake.isoformat()}", file=out)
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


def add_parser(commands: Any) -> None:
    """Add ``timeline`` to the sub-commands."""
    timeline = commands.add_parser("timeline", help="one ticket's SLA clocks as a chart")
    timeline.add_argument("ticket_id")
    timeline.add_argument("--events", required=True, help="events as JSON Lines or CSV")
    add_event_input(timeline)
    timeline.add_argument("--format", choices=["bars", "mermaid", "both"], default="both")
    timeline.set_defaults(run=run)
