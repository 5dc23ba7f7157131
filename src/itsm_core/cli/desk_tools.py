"""``itsm-core calendar``, ``lifecycle`` and ``check``: questions about a desk document."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from itsm_core._time import from_us, to_us
from itsm_core.calendar import MAX_INSTANT_US, MIN_INSTANT_US, CalendarLike
from itsm_core.cli._common import EXIT_OK, InputError, parse_instant, read_desk
from itsm_core.lifecycle import default_lifecycles
from itsm_core.serialization import Desk, format_business_duration, parse_sla_duration
from itsm_core.sla import BusinessDuration

__all__ = ["add_parsers"]


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
        start = parse_instant(args.add[0], "--add START")
        # what an SLA target says: business time, business days, the end of one, wall time
        duration = parse_sla_duration(args.add[1], "--add DURATION")
        if isinstance(duration, BusinessDuration):
            due = calendar.add(start, duration.value)
        else:
            due_us = duration.due_us(calendar, to_us(start))
            if not MIN_INSTANT_US <= due_us < MAX_INSTANT_US:
                raise InputError("--add", "expected an answer within 0002-01-01 to 9997-12-31 UTC")
            due = from_us(due_us, calendar.timezone)
        print(due.isoformat(), file=out)
    elif args.elapsed:
        a = parse_instant(args.elapsed[0], "--elapsed A")
        b = parse_instant(args.elapsed[1], "--elapsed B")
        print(format_business_duration(calendar.elapsed(a, b)), file=out)
    else:
        at = parse_instant(args.is_open, "--is-open")
        print("open" if calendar.is_open(at) else "closed", file=out)
    return EXIT_OK


def add_parsers(commands: Any) -> None:
    """Add ``calendar``, ``lifecycle`` and ``check`` to the sub-commands."""
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
