"""``itsm-core stats``: one service-desk figure at a time, by agent, group, type... and period.

Reads an export of events (JSON Lines or CSV, in any order: grouped by ticket
as the report groups them) and a desk document (its calendar measures business
time; its lifecycles check each ticket's history, as the report checks them)
and prints one metric:

* counts: ``arrived``, ``handled``, ``resolved``, ``reopened``, ``reassigned_away``;
* business times: ``first_response``, ``resolution``, ``on_hold`` (count,
  nearest-rank median, mean, p90, total);
* ``csat`` (surveys, answers, CSAT, response rate), ``fcr`` (first-contact
  resolution), ``arrivals`` (by ``--axis``) and ``backlog`` (open tickets by
  age at ``--now``).

A ticket whose history its lifecycle refuses is left out of the figures and
named on stderr; with ``--skip-bad`` the bad lines skipped are counted there.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, TextIO

import pendulum

from itsm_core._time import td_to_us
from itsm_core.calendar import CalendarLike
from itsm_core.cli._common import (
    HISTORY_INDEX,
    InputError,
    add_event_input,
    column_map,
    parse_instant,
    read_desk,
    tell_skipped,
)
from itsm_core.cli.report import ticket_histories
from itsm_core.errors import InvalidValueError, ItsmError
from itsm_core.lifecycle import History
from itsm_core.metrics import (
    AXES,
    COUNTS,
    DIMENSIONS,
    PERIODS,
    TIMES,
    Arrivals,
    Backlog,
    FcrDefinition,
    FirstContact,
    RatingScale,
    Satisfaction,
    Stats,
)
from itsm_core.serialization import format_business_duration, parse_duration
from itsm_core.ticket import Event

__all__ = ["STATS_METRICS", "add_parser", "run"]

#: What ``--metric`` may name.
STATS_METRICS: tuple[str, ...] = (*COUNTS, *TIMES, "csat", "fcr", "arrivals", "backlog")
_SCALES = {
    "five_point": RatingScale.five_point,
    "good_bad": RatingScale.good_bad,
    "nps": RatingScale.nps,
}


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _duration(value: timedelta | None) -> str:
    return "" if value is None else format_business_duration(value)


def _to_the_second(value: timedelta | None) -> timedelta | None:
    """A mean as people read it: to the nearest second (half up)."""
    if value is None:
        return None
    return timedelta(seconds=(td_to_us(value) + 500_000) // 1_000_000)


def _rows(
    args: argparse.Namespace, histories: Sequence[Sequence[Event]], calendar: CalendarLike
) -> Iterator[dict[str, Any]]:
    by, metric, period = args.by, args.metric, args.period
    if metric in COUNTS or metric in TIMES:
        stats = Stats.of(histories, calendar=calendar, period=period, by=(by,))
        for key, tally in stats.entries:
            if metric in COUNTS:
                if not getattr(tally, metric):
                    continue  # the bucket holds other measures only
                yield {"period": key.period, by: key.value, metric: getattr(tally, metric)}
            elif tally.count(metric):
                yield {
                    "period": key.period,
                    by: key.value,
                    "count": tally.count(metric),
                    "median": _duration(tally.median(metric)),
                    "mean": _duration(_to_the_second(tally.mean(metric))),
                    "p90": _duration(tally.p90(metric)),
                    "total": _duration(tally.total(metric)),
                }
    elif metric == "csat":
        scale = _SCALES[args.scale]()
        threshold = scale.satisfied_from if args.threshold is None else args.threshold
        if not scale.contains(threshold):
            raise InputError(
                "--threshold", f"expected a point from {scale.low} to {scale.high}, got {threshold}"
            )
        result = Satisfaction.of(
            histories,
            scale=scale,
            calendar=calendar,
            survey=args.survey,
            period=period,
            by=(by,),
        )
        for skey, answers in result.entries:
            yield {
                "period": skey.period,
                by: skey.value,
                "requested": answers.requested,
                "answered": answers.answered,
                "satisfied": answers.satisfied(threshold),
                "csat": _percent(answers.csat(threshold)),
                "response_rate": _percent(answers.response_rate()),
                "callbacks": answers.callbacks,
                "confirmed": answers.confirmed,
            }
    elif metric == "fcr":
        within = None if args.fcr_within is None else parse_duration(args.fcr_within)
        fcr = FirstContact.of(
            histories,
            calendar=calendar,
            definition=FcrDefinition(within=within),
            period=period,
            by=(by,),
        )
        for fkey, (resolved, first) in fcr.entries:
            yield {
                "period": fkey.period,
                by: fkey.value,
                "resolved": resolved,
                "first_contact": first,
                "rate": _percent(first * 100 / resolved if resolved else None),
            }
    elif metric == "arrivals":
        arrivals = Arrivals.of(histories, calendar=calendar, by=(by,))
        for value in sorted({k[1] for k, _ in arrivals.counts}):
            for bucket, count in arrivals.get(by, value, args.axis):
                yield {by: value, args.axis: bucket, "arrived": count}
    else:
        now = parse_instant(args.now, "--now") if args.now else pendulum.now("UTC")
        backlog = Backlog.of(histories, now, calendar=calendar, by=(by,))
        for value in sorted({k[1] for k, _ in backlog.counts}):
            yield {by: value, **dict(backlog.ages(by, value)), "open": backlog.count(by, value)}


def run(args: argparse.Namespace, out: TextIO) -> int:
    desk = read_desk(args.config)
    calendar = desk.default_calendar
    if calendar is None:
        raise InputError(
            args.config, "calendar: expected the desk's calendar (business times use it)"
        )
    fmt = args.input_format or ("csv" if args.events.endswith(".csv") else "jsonl")
    counts: dict[str, int] = {}
    histories: list[History] = []
    for events in ticket_histories(
        args.events, fmt=fmt, columns=column_map(args.map), skip_bad=args.skip_bad, counts=counts
    ):
        try:
            histories.append(desk.history(events))
        except ItsmError as exc:  # as the report refuses it: named, left out of the figures
            print(
                f"itsm-core: {args.events}: left out of the figures: ticket "
                f"{events[0].ticket_id}: {exc}",
                file=sys.stderr,
            )
    try:
        rows = list(_rows(args, histories, calendar))
    except InvalidValueError as exc:  # a fact the metric refuses: named by its ticket
        found = HISTORY_INDEX.match(str(exc))
        if found is None:  # pragma: no cover - the metrics name the history of every fact
            raise
        ticket = histories[int(found[1])].ticket_id
        raise InputError(
            f"{args.events}: ticket {ticket}", HISTORY_INDEX.sub("events", str(exc), count=1)
        ) from None
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    if args.format == "json":
        for row in rows:
            print(json.dumps(row), file=out)
    elif args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    elif not rows:
        print(f"no {args.metric} figures in {len(histories)} tickets", file=out)
    else:
        widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
        print("  ".join(c.ljust(widths[c]) for c in columns).rstrip(), file=out)
        for row in rows:
            cells = (str(row.get(c, "")).ljust(widths[c]) for c in columns)
            print("  ".join(cells).rstrip(), file=out)
    return tell_skipped(args.events, counts, args.skip_bad, len(histories), sys.stderr)


def add_parser(commands: Any) -> None:
    """Add ``stats`` to the sub-commands."""
    stats = commands.add_parser(
        "stats", help="one figure of an export of events, by agent, group, type... and period"
    )
    stats.add_argument("events", help="events as JSON Lines or CSV, in any order")
    add_event_input(stats)
    stats.add_argument("--metric", choices=STATS_METRICS, default="resolution")
    stats.add_argument("--by", choices=DIMENSIONS, default="all")
    stats.add_argument("--period", choices=PERIODS, default="month")
    stats.add_argument("--axis", choices=AXES, default="weekday", help="for --metric arrivals")
    stats.add_argument("--scale", choices=sorted(_SCALES), default="five_point")
    stats.add_argument("--survey", default="", help="the survey's name (default: the usual one)")
    stats.add_argument("--threshold", type=int, help="satisfied from this point (csat)")
    stats.add_argument(
        "--fcr-within", metavar="DURATION", help="first contact only within this business time"
    )
    stats.add_argument("--format", choices=["table", "json", "csv"], default="table")
    stats.set_defaults(run=run)
