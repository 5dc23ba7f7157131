"""``itsm-core report``: every SLA clock of an export of events, with compliance.

After the compliance summary the local engine adds the service-desk figures of
the same tickets, gathered in the same single pass over their histories:
satisfaction (CSAT and response rate), first-contact resolution (with the
definition used) and the workload per agent and per group.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import heapq
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, BinaryIO, TextIO

import attrs
import pendulum

from itsm_core._time import iso_in
from itsm_core.calendar import CalendarLike
from itsm_core.cli._common import (
    HISTORY_INDEX,
    InputError,
    OutOfOrder,
    add_event_input,
    by_ticket,
    column_map,
    decode_lines,
    floatless,
    group_by_ticket,
    in_ticket_order,
    in_time_order,
    json_loads,
    parse_instant,
    progress_bar,
    read_desk,
    read_event_pairs,
    read_spilled,
    sorted_by_ticket,
    spill,
    tell_skipped,
)
from itsm_core.cli.html import Analytics, TicketFacts, facts_of, render_html
from itsm_core.cli.imports import read_profile, read_rows, sorted_cells
from itsm_core.desk import Desk
from itsm_core.errors import InvalidValueError, ItsmError
from itsm_core.imports import PROFILES, ImportCounts, RefusedTicket, import_stream
from itsm_core.lifecycle import History
from itsm_core.metrics import (
    Compliance,
    FcrDefinition,
    FirstContact,
    RatingScale,
    Satisfaction,
    ServiceFigures,
    Stats,
)
from itsm_core.serialization import (
    EVENT_TAG,
    decode_event,
    decode_event_row,
    format_business_duration,
)
from itsm_core.serialization._converter import event_decoder
from itsm_core.sla import SlaStatus
from itsm_core.ticket import Event

__all__ = [
    "NOT_STARTED",
    "NO_POLICY",
    "NO_TARGET",
    "REFUSED",
    "REPORT_COLUMNS",
    "AnalyticsFold",
    "Verdict",
    "add_parser",
    "analytics_json",
    "evaluate_all",
    "json_rows_of",
    "rows_of",
    "run",
    "ticket_histories",
]

Row = dict[str, Any]

_orjson_loads: Callable[[bytes], Any] | None
try:  # the ``fast`` extra: the JSON Lines fast path parses each line's bytes with orjson
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - the dev and CI environments install the extra
    _orjson_loads = None


#: What became of a ticket that has no cycle to show.
NO_POLICY = "no policy applies"
NO_TARGET = "no target for this priority"
NOT_STARTED = "not started"
REFUSED = "history refused"


@attrs.frozen(kw_only=True)
class Verdict:
    """One ticket of the input, evaluated or not: every ticket gets at least one row.

    ``status`` is the SLA status when a policy applies; otherwise ``verdict``
    says why there is none (:data:`NO_POLICY`, or ``"history refused: why"``)
    and ``note`` gives the details.
    """

    ticket_id: str
    history: History | None = None
    status: SlaStatus | None = None
    verdict: str = ""
    note: str = ""


def evaluate_all(
    histories: Iterable[list[Event] | History | RefusedTicket], desk: Desk, now: datetime
) -> Iterator[Verdict]:
    """Each ticket with its clocks under the policy the desk chooses, or why it has none.

    Nothing is left out: a ticket no policy covers and a history the desk
    refuses each come out as a :class:`Verdict` saying so.
    """
    for item in histories:
        if isinstance(item, RefusedTicket):
            where = f" (row {item.row})" if item.row is not None else ""
            yield Verdict(
                ticket_id=item.ticket_id,
                verdict=f"{REFUSED}: {item.reason}{where}",
                note=item.reason,
            )
            continue
        ticket_id = next(iter(item)).ticket_id
        try:
            history = desk.history(item)
            status = desk.clocks(history, now)
            if status is None:
                _, why = desk.choose_policy(history.until(now).ticket)
                yield Verdict(ticket_id=ticket_id, history=history, verdict=NO_POLICY, note=why)
                continue
        except ItsmError as exc:
            yield Verdict(ticket_id=ticket_id, verdict=f"{REFUSED}: {exc}", note=str(exc))
            continue
        yield Verdict(ticket_id=ticket_id, history=history, status=status)


REPORT_COLUMNS = (
    "ticket_id",
    "policy",
    "metric",
    "cycle",
    "cycles",
    "verdict",
    "started_at",
    "due_at",
    "target",
    "target_seconds",
    "elapsed",
    "elapsed_seconds",
    "paused",
    "paused_seconds",
    "remaining",
    "remaining_seconds",
    "percent_of_target",
    "breached_at",
    "met_at",
    "note",
)


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


_US_PER_SECOND = 1_000_000
# The text of each business duration seen (microseconds -> "2h30m"), bounded.
_DURATION_TEXTS: dict[int, str] = {}


def _duration_text(us: int) -> str:
    """``format_business_duration`` of ``us`` microseconds, remembered per value."""
    text = _DURATION_TEXTS.get(us)
    if text is None:
        if len(_DURATION_TEXTS) >= 65_536:
            _DURATION_TEXTS.clear()
        text = _DURATION_TEXTS[us] = format_business_duration(timedelta(microseconds=us))
    return text


def _empty_row(ticket_id: str, policy: str, metric: str, verdict: str, note: str) -> Row:
    row: Row = dict.fromkeys(REPORT_COLUMNS)
    row.update(ticket_id=ticket_id, policy=policy, metric=metric, verdict=verdict, note=note)
    row["cycle"] = 0
    row["cycles"] = 0
    return row


def _no_cycle(desk: Desk, status: SlaStatus, metric: str) -> tuple[str, str]:
    """Why a clock of ``status`` has no cycle: no target for the priority, or not started."""
    for policy in desk.sla_policies:
        if policy.name == status.policy:
            if policy.metric(metric).target(status.priority) is None:
                return NO_TARGET, f"no {metric} target for priority {status.priority}"
            break
    return NOT_STARTED, "no start condition of the metric has matched"


def rows_of(verdict: Verdict, desk: Desk) -> Iterator[Row]:
    """The rows of one ticket: one per cycle of every metric, or one saying why there is none.

    Durations come as text (``elapsed``) and as seconds (``elapsed_seconds``);
    ``percent_of_target`` is the business time counted as a share of the target.
    """
    status = verdict.status
    if status is None:
        yield _empty_row(verdict.ticket_id, "", "", verdict.verdict, verdict.note)
        return
    for metric, _, cycle_rows in status.clock_rows:  # the compact rows: no Cycle record built
        if not cycle_rows:
            why, note = _no_cycle(desk, status, metric)
            yield _empty_row(status.ticket_id, status.policy, metric, why, note)
            continue
        cycles = len(cycle_rows)
        iso = iso_in(status.timezone)  # ``from_us(us, zone).isoformat()``, written directly
        for cycle in cycle_rows:
            # CycleRow: (number, stage, running, started, ended, target, elapsed, paused, due,
            # breached, met, segments, hidden); durations from its integers: the text of each
            # distinct value is remembered, and seconds are microseconds / 10**6
            # (timedelta.total_seconds)
            number, stage, _, started_us, _, target_us, elapsed_us, paused_us = cycle[:8]
            due_us, breached_us, met_us = cycle[8], cycle[9], cycle[10]
            remaining_us = target_us - elapsed_us
            yield {
                "ticket_id": status.ticket_id,
                "policy": status.policy,
                "metric": metric,
                "cycle": number,
                "cycles": cycles,
                "verdict": stage.value,
                "started_at": iso(started_us),
                "due_at": None if due_us is None else iso(due_us),
                "target": _duration_text(target_us),
                "target_seconds": target_us / _US_PER_SECOND,
                "elapsed": _duration_text(elapsed_us),
                "elapsed_seconds": elapsed_us / _US_PER_SECOND,
                "paused": _duration_text(paused_us),
                "paused_seconds": paused_us / _US_PER_SECOND,
                "remaining": _duration_text(remaining_us),
                "remaining_seconds": remaining_us / _US_PER_SECOND,
                # Cycle.percent, rounded
                "percent_of_target": (
                    round(elapsed_us * 100 / target_us, 1) if target_us > 0 else None
                ),
                "breached_at": None if breached_us is None else iso(breached_us),
                "met_at": None if met_us is None else iso(met_us),
                "note": "",
            }


def json_rows_of(verdict: Verdict, desk: Desk) -> Iterator[tuple[str, str, str]]:
    """``(metric, verdict, text)`` of each row of :func:`rows_of`, the text ``json.dumps(row)``.

    A cycle's line is written straight from the status's compact rows (no
    row dict, no encoder call per row): texts the report writes itself (the
    instants, the durations) go in as they are, names through the JSON
    encoder's own string escaping, numbers as ``json`` writes them (a
    Hypothesis property compares every line with ``json.dumps``). A ticket
    or metric without a cycle is written by ``json.dumps`` of its row.
    """
    status = verdict.status
    if status is None:
        for row in rows_of(verdict, desk):
            yield row["metric"], row["verdict"], json.dumps(row)
        return
    quote = _json_string
    iso = iso_in(status.timezone)
    head = f'{{"ticket_id": {quote(status.ticket_id)}, "policy": {quote(status.policy)}, "metric": '
    for metric, _, cycle_rows in status.clock_rows:
        if not cycle_rows:
            why, note = _no_cycle(desk, status, metric)
            row = _empty_row(status.ticket_id, status.policy, metric, why, note)
            yield metric, why, json.dumps(row)
            continue
        cycles = len(cycle_rows)
        start = f"{head}{quote(metric)}, "
        for cycle in cycle_rows:
            number, stage, _, started_us, _, target_us, elapsed_us, paused_us = cycle[:8]
            due_us, breached_us, met_us = cycle[8], cycle[9], cycle[10]
            remaining_us = target_us - elapsed_us
            verdict_text = stage.value
            percent = repr(round(elapsed_us * 100 / target_us, 1)) if target_us > 0 else "null"
            due = "null" if due_us is None else f'"{iso(due_us)}"'
            breached = "null" if breached_us is None else f'"{iso(breached_us)}"'
            met = "null" if met_us is None else f'"{iso(met_us)}"'
            yield (
                metric,
                verdict_text,
                f'{start}"cycle": {number:d}, "cycles": {cycles:d}, "verdict": '
                f'{quote(verdict_text)}, "started_at": "{iso(started_us)}", "due_at": {due}, '
                f'"target": "{_duration_text(target_us)}", '
                f'"target_seconds": {target_us / _US_PER_SECOND!r}, '
                f'"elapsed": "{_duration_text(elapsed_us)}", '
                f'"elapsed_seconds": {elapsed_us / _US_PER_SECOND!r}, '
                f'"paused": "{_duration_text(paused_us)}", '
                f'"paused_seconds": {paused_us / _US_PER_SECOND!r}, '
                f'"remaining": "{_duration_text(remaining_us)}", '
                f'"remaining_seconds": {remaining_us / _US_PER_SECOND!r}, '
                f'"percent_of_target": {percent}, "breached_at": {breached}, '
                f'"met_at": {met}, "note": ""}}',
            )


#: A string as ``json.dumps`` writes it (ASCII, escaped, quoted): the encoder's own function.
_json_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _summary(
    compliance: Compliance,
    tickets: int,
    bad: int,
    fmt: str,
    out: TextIO,
    verdicts: Mapping[str, int] | None = None,
    analytics: Analytics | None = None,
) -> None:
    """The totals after the rows: the same for one process and for every engine.

    ``verdicts`` (the local engine) counts the rows by verdict, metric first:
    exactly the rows printed above, every cycle of every metric and every
    ticket without one. ``analytics`` (the local engine) adds the
    satisfaction, first-contact resolution and workload sections.
    """
    metrics = sorted({key.metric for key, _ in compliance.counts})
    summary: dict[str, int] = {"tickets": tickets, "bad_lines": bad}
    for metric in metrics:
        met, breached = compliance.totals(metric=metric)
        summary[f"{metric}_met"] = met
        summary[f"{metric}_breached"] = breached
    if fmt == "table":
        print(f"\n{tickets} tickets", file=out)
        if verdicts is not None:
            print(f"{sum(verdicts.values())} rows (every cycle of every metric):", file=out)
            for name, count in sorted(verdicts.items()):
                print(f"  {name:<40} {count}", file=out)
        table = [
            (metric, *compliance.totals(metric=metric), compliance.percent(metric=metric))
            for metric in metrics
        ]
        _compliance_table(table, out)
        if analytics is not None:
            _analytics_tables(analytics, out)
    elif fmt == "json":
        line: dict[str, Any] = {"summary": summary}
        if verdicts is not None:
            line["rows"] = {"total": sum(verdicts.values()), "by_verdict": dict(verdicts)}
        if analytics is not None:
            line.update(analytics_json(analytics))
        print(json.dumps(line), file=out)


def _compliance_table(table: list[tuple[str, int, int, float | None]], out: TextIO) -> None:
    """Compliance per metric: a ``rich`` table when the ``cli`` extra is installed, else text."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print("compliance (cycles met / breached):", file=out)
        for metric, met, breached, percent in table:
            print(
                f"  {metric:<15} met {met}, breached {breached}, compliance "
                f"{'n/a' if percent is None else f'{percent:.1f}%'}",
                file=out,
            )
        return
    view = Table(title="compliance (cycles met / breached)", title_justify="left")
    for name in ("metric", "met", "breached", "compliance"):
        view.add_column(name, justify="left" if name == "metric" else "right")
    for metric, met, breached, percent in table:
        view.add_row(
            metric, str(met), str(breached), "n/a" if percent is None else f"{percent:.1f}%"
        )
    Console(file=out, width=80).print(view)


#: The groupings the report's analytics keep: everything, per agent, per group.
_DIMENSIONS = ("all", "agent", "group")


class AnalyticsFold:
    """Satisfaction, first-contact resolution and workload, folded one history at a time.

    Every ``chunk`` histories are folded into the accumulators of
    :mod:`itsm_core.metrics` and forgotten, so the report never holds more
    than one chunk of histories. The workload statistics keep exact
    multisets of business times; their chunk results are merged like a
    merge sort (two parts of the same size at a time), never re-copying a
    large multiset per chunk. The accumulators merge, so the result equals
    computing over every history at once.

    >>> from itsm_core.calendar import BusinessCalendar
    >>> fold = AnalyticsFold(BusinessCalendar.always_open("UTC"))
    >>> fold.result().satisfaction.csat() is None
    True
    """

    def __init__(
        self,
        calendar: CalendarLike,
        *,
        scale: RatingScale | None = None,
        definition: FcrDefinition | None = None,
        chunk: int = 1000,
    ) -> None:
        if chunk < 1:
            raise InputError("chunk", f"expected a positive number of histories, got {chunk}")
        self.calendar = calendar
        self.chunk = chunk
        self._pending: list[Sequence[Event]] = []
        self._satisfaction = Satisfaction(
            scale=RatingScale.five_point() if scale is None else scale, by=_DIMENSIONS
        )
        self._first_contact = FirstContact(
            definition=FcrDefinition() if definition is None else definition, by=_DIMENSIONS
        )
        self._stats: list[tuple[int, Stats]] = []
        self._left_out: list[tuple[str, str]] = []

    def add(self, history: Sequence[Event]) -> None:
        """Count one ticket's history (folded with the next ones of its chunk)."""
        self._pending.append(history)
        if len(self._pending) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        part, self._pending = self._pending, []
        try:
            figures = self._figures(part)
        except InvalidValueError:  # a history the figures cannot count: found, and left out
            counted = []
            for history in part:
                try:
                    self._figures([history])
                except InvalidValueError as exc:
                    reason = HISTORY_INDEX.sub("events", str(exc), count=1)
                    self._left_out.append((history[0].ticket_id, reason))
                else:
                    counted.append(history)
            figures = self._figures(counted)
        self._satisfaction = self._satisfaction + figures.satisfaction
        self._first_contact = self._first_contact + figures.first_contact
        stats, size = figures.stats, 1
        while self._stats and self._stats[-1][0] == size:
            other_size, other = self._stats.pop()
            stats, size = other + stats, size + other_size
        self._stats.append((size, stats))

    def _figures(self, histories: list[Sequence[Event]]) -> ServiceFigures:
        """One walk per history for the three (the same answers as each one's own ``of``)."""
        return ServiceFigures.of(
            histories,
            calendar=self.calendar,
            scale=self._satisfaction.scale,
            definition=self._first_contact.definition,
            by=_DIMENSIONS,
            stats_by=_DIMENSIONS[1:],
        )

    def result(self) -> Analytics:
        """Everything added so far, merged; a history the figures refuse is left out, named.

        >>> from datetime import datetime, timezone
        >>> from itsm_core.calendar import BusinessCalendar
        >>> from itsm_core.ticket import SurveyAnswered, TicketOpened
        >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        >>> fold = AnalyticsFold(BusinessCalendar.always_open("UTC"))
        >>> fold.add([TicketOpened(ticket_id="I-1", actor="r", at=at, type="incident",
        ...     state="new", state_category="new", title="t", requester="r"),
        ...     SurveyAnswered(ticket_id="I-1", actor="r", at=at, rating=9)])
        >>> fold.result().left_out
        (('I-1', "events[1].rating: expected a point of scale 'five_point' from 1 to 5, got 9"),)
        """
        self._flush()
        stats = Stats(by=_DIMENSIONS[1:])
        for _, part in self._stats:
            stats = stats + part
        return Analytics(
            satisfaction=self._satisfaction,
            first_contact=self._first_contact,
            stats=stats,
            left_out=tuple(self._left_out),
        )


def _fcr_terms(definition: FcrDefinition) -> list[str]:
    terms = []
    if definition.first_line:
        lines = ", ".join(str(line) for line in definition.first_lines)
        terms.append(f"resolved by support line {lines}")
    if definition.no_reassignment:
        terms.append("without reassignment")
    if definition.no_reopen:
        terms.append("never reopened")
    if definition.within is not None:
        within = format_business_duration(definition.within)
        terms.append(f"within {within} business time of opening")
    return terms or ["every resolved ticket"]


def _workload(stats: Stats, by: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for value in stats.values(by):
        tally = stats.tally(by, value)
        median = tally.median("resolution")
        found[value or "(none)"] = {
            "handled": tally.handled,
            "resolved": tally.resolved,
            "reopened": tally.reopened,
            "median_resolution": None if median is None else format_business_duration(median),
            "median_resolution_seconds": None if median is None else _seconds(median),
        }
    return found


def analytics_json(analytics: Analytics) -> dict[str, Any]:
    """The report's analytics as JSON-ready sections: numbers as numbers, ``None`` for n/a.

    >>> from itsm_core.calendar import BusinessCalendar
    >>> empty = AnalyticsFold(BusinessCalendar.always_open("UTC")).result()
    >>> sections = analytics_json(empty)
    >>> sections["satisfaction"]["answered"], sections["satisfaction"]["csat"]
    (0, None)
    >>> sections["first_contact"]["definition"]["terms"]
    ['resolved by support line 1', 'without reassignment', 'never reopened']
    """
    survey = analytics.satisfaction
    scale = survey.scale
    whole = survey.tally()
    resolved, first = analytics.first_contact.counts()
    definition = analytics.first_contact.definition
    within = definition.within
    return {
        "satisfaction": {
            "scale": scale.name,
            "satisfied_from": scale.satisfied_from,
            "requested": whole.requested,
            "answered": whole.answered,
            "satisfied": whole.satisfied(scale.satisfied_from),
            "csat": whole.csat(scale.satisfied_from),
            "response_rate": whole.response_rate(),
        },
        "first_contact": {
            "definition": {
                "name": definition.name,
                "terms": _fcr_terms(definition),
                "first_line": definition.first_line,
                "first_lines": list(definition.first_lines),
                "no_reassignment": definition.no_reassignment,
                "no_reopen": definition.no_reopen,
                "within_seconds": None if within is None else _seconds(within),
            },
            "resolved": resolved,
            "first_contact": first,
            "rate": analytics.first_contact.rate(),
        },
        "workload": {
            "agent": _workload(analytics.stats, "agent"),
            "group": _workload(analytics.stats, "group"),
        },
        "left_out_of_analytics": [
            {"ticket_id": ticket_id, "reason": reason} for ticket_id, reason in analytics.left_out
        ],
    }


def _percent_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    out: TextIO,
    *,
    labelled: bool = False,
) -> None:
    """A ``rich`` table when the ``cli`` extra is installed, else aligned text.

    Numbers are right-aligned; with ``labelled`` the first column holds names
    (left-aligned). ``title`` ``None``: the line before the table says what it is.
    """
    left = 1 if labelled else 0
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        if title is not None:
            print(f"{title}:", file=out)
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
        for row in (columns, *rows):
            cells = [
                cell.ljust(width) if i < left else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            print("  " + "  ".join(cells).rstrip(), file=out)
        return
    view = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        view.add_column(name, justify="left" if i < left else "right")
    for row in rows:
        view.add_row(*row)
    Console(file=out, width=80).print(view)


def _analytics_tables(analytics: Analytics, out: TextIO) -> None:
    """The analytics sections of the table format, after the compliance table."""
    sections = analytics_json(analytics)
    survey = sections["satisfaction"]
    print(file=out)
    if not survey["answered"]:
        print(
            f"satisfaction: no survey answers ({survey['requested']} requested): CSAT n/a",
            file=out,
        )
    else:
        _table(
            f"satisfaction (scale {survey['scale']}, satisfied from {survey['satisfied_from']})",
            ("surveys", "answered", "satisfied", "CSAT", "response rate"),
            [
                (
                    str(survey["requested"]),
                    str(survey["answered"]),
                    str(survey["satisfied"]),
                    _percent_text(survey["csat"]),
                    _percent_text(survey["response_rate"]),
                )
            ],
            out,
        )
    fcr = sections["first_contact"]
    print(f"first-contact resolution: {', '.join(fcr['definition']['terms'])}", file=out)
    if not fcr["resolved"]:
        print("  no resolved ticket: rate n/a", file=out)
    else:
        _table(
            None,
            ("resolved", "first contact", "rate"),
            [(str(fcr["resolved"]), str(fcr["first_contact"]), _percent_text(fcr["rate"]))],
            out,
        )
    for ticket_id, reason in analytics.left_out:
        print(f"left out of the analytics: ticket {ticket_id}: {reason}", file=out)
    for by in ("agent", "group"):
        rows = [
            (
                name,
                str(figures["handled"]),
                str(figures["resolved"]),
                str(figures["reopened"]),
                figures["median_resolution"] or "n/a",
            )
            for name, figures in sections["workload"][by].items()
        ]
        if not rows:
            print(f"workload per {by}: no ticket assigned to one", file=out)
            continue
        _table(
            f"workload per {by}",
            (by, "handled", "resolved", "reopened", "median resolution"),
            rows,
            out,
            labelled=True,
        )


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
    bad = {"bad": total.bad_lines}
    return tell_skipped(args.events, bad, args.skip_bad, total.tickets, sys.stderr)


def _format_of(args: argparse.Namespace) -> str:
    return str(args.input_format or ("csv" if args.events.endswith(".csv") else "jsonl"))


def _fast_reading(args: argparse.Namespace) -> bool:
    """Whether the input is read by :func:`ordered_events` (JSON Lines, orjson, no ``--map``)."""
    return not args.profile and _reads_fast(_format_of(args), column_map(args.map))


def _reads_fast(fmt: str, columns: Mapping[str, str] | None) -> bool:
    return fmt == "jsonl" and not columns and _orjson_loads is not None


def _histories(
    args: argparse.Namespace, counts: dict[str, int], defer_checks: bool = False
) -> Iterator[Any]:
    """The input's tickets, grouped by the report itself (any input order)."""
    if args.profile:
        return _imported(args, counts, stream=defer_checks)
    fmt = _format_of(args)
    progress = None
    if fmt == "jsonl" and not args.no_progress:
        size = os.path.getsize(args.events) if os.path.exists(args.events) else 0
        if size >= args.progress_above:
            progress = progress_bar(size, sys.stderr)
    return ticket_histories(
        args.events,
        fmt=fmt,
        columns=column_map(args.map),
        skip_bad=args.skip_bad,
        counts=counts,
        progress=progress,
        chunk=args.sort_chunk,
        defer_checks=defer_checks,
    )


def ticket_histories(
    path: str,
    *,
    fmt: str = "jsonl",
    columns: Mapping[str, str] | None = None,
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None = None,
    chunk: int = 50_000,
    defer_checks: bool = False,
) -> Iterator[list[Event]]:
    """Each ticket's events of an export of events in any order, as every command reads them.

    The events are grouped by ticket in bounded memory (the external sort,
    ``chunk`` lines at a time: :func:`ordered_events` for JSON Lines read by
    orjson without a column map, else :func:`reference_ordered_events`) and
    put in time order within a ticket (``in_time_order``). Bad lines raise
    an ``InputError`` naming the line, or with ``skip_bad`` are counted in
    ``counts`` (``bad``, ``first_bad``). ``defer_checks``: see
    :func:`ordered_events`.
    """
    if _reads_fast(fmt, columns):
        ordered = ordered_events(
            path,
            skip_bad=skip_bad,
            counts=counts,
            progress=progress,
            chunk=chunk,
            defer_checks=defer_checks,
        )
    else:
        ordered = reference_ordered_events(
            path,
            fmt=fmt,
            columns=columns,
            skip_bad=skip_bad,
            counts=counts,
            progress=progress,
            chunk=chunk,
        )
    return map(in_time_order, group_by_ticket(ordered))


def reference_ordered_events(
    path: str,
    *,
    fmt: str = "jsonl",
    columns: Mapping[str, str] | None = None,
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None = None,
    chunk: int = 50_000,
) -> Iterator[Event]:
    """The events of a file ordered by ticket, stable: the straightforward reading.

    Every line is read and checked (decoded) by
    :func:`~itsm_core.cli._common.read_event_pairs`; the external sort holds
    its plain data and decodes it again after the sort. :func:`ordered_events`
    gives the same events, bad-line counts and errors for JSON Lines.
    """
    pairs = read_event_pairs(
        path,
        fmt=fmt,
        columns=columns or {},
        skip_bad=skip_bad,
        counts=counts,
        progress=progress,
    )
    return sorted_by_ticket(
        pairs,
        _ticket_of_pair,
        dump=_data_of_pair,
        load=decode_event_row if fmt == "csv" else decode_event,
        chunk=chunk,
    )


class _Restart(Exception):
    """The input needs the reference reading from its start (a fault it alone words)."""


_BOM = b"\xef\xbb\xbf"


def ordered_events(
    path: str,
    *,
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None = None,
    chunk: int = 50_000,
    defer_checks: bool = False,
) -> Iterator[Event]:
    """:func:`reference_ordered_events` of a JSON Lines file, decoding each line once where it can.

    The file is read as bytes and each line parsed by orjson and read by the
    direct event decoder. The events are held, decoded, up to ``chunk`` at a
    time: an input that fits is sorted in memory and never decoded again.
    A larger one spills each sorted chunk to a temporary file as the lines'
    own bytes, parsed and decoded again after the merge; the last chunk
    stays in memory. A line the direct path does not take (a kind or shape
    it leaves to cattrs, a float, a bad line) is read by the reference for
    that one line; a bad line without ``skip_bad``, text that is not UTF-8
    or a carriage return inside a line make the reference read the whole
    input from its start, so every error is its own, word for word.

    With ``defer_checks``, a line of a spilled input whose kind the direct
    decoder reads and whose ticket is text is not checked before the sort:
    it is judged once, when it is decoded after the merge (a bad one there is
    counted with ``skip_bad``; the first bad line counted is still the
    earliest). A line found bad after the merge without ``skip_bad`` raises
    ``_Restart`` after events were handed on: a caller that defers (the
    report, which holds its output back) reads the input again without it.
    Deferring, an input whose first chunk is already in ticket order is not
    sorted: its events are handed on as they are read, and a line of an
    earlier ticket after that chunk raises ``OutOfOrder``, taken alike.
    """
    if chunk < 1:
        raise InputError("--sort-chunk", f"expected a positive number of rows, got {chunk}")
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by _ordered
    except OSError:
        return reference_ordered_events(
            path, skip_bad=skip_bad, counts=counts, progress=progress, chunk=chunk
        )
    return _ordered(handle, path, skip_bad, counts, progress, chunk, defer_checks)


def _ordered(
    handle: BinaryIO,
    path: str,
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None,
    chunk: int,
    defer: bool,
) -> Iterator[Event]:
    files: list[BinaryIO] = []
    try:
        # The events held before the sort live long: the collector's older generations,
        # examined every 10 young collections by default, would walk all of them again
        # and again (measured: about as long as building them). Young ones still run.
        reading = _Reading(defer)
        try:
            with _fewer_collections(middle=1000, old=100):
                entries = _line_entries(handle, path, skip_bad, counts, progress, chunk, reading)
                buffer, rest = _read_chunks(entries, chunk, files, reading)
        except _Restart:
            buffer, rest = None, None
        if buffer is None:
            handle.close()
            for spilled in files:
                spilled.close()
            files.clear()
            counts.pop("bad", None)
            counts.pop("first_bad", None)
            yield from reference_ordered_events(
                path, skip_bad=skip_bad, counts=counts, progress=progress, chunk=chunk
            )
        elif rest is not None:  # ordered by ticket so far: handed on as it is read
            yield from _events_of(itertools.chain(_handed_on(buffer), rest), path, skip_bad, counts)
        else:
            handle.close()
            merged = (
                heapq.merge(*(read_spilled(spilled) for spilled in files), buffer)
                if files
                else _handed_on(buffer)
            )
            yield from _events_of(merged, path, skip_bad, counts)
    finally:
        handle.close()
        for spilled in files:
            spilled.close()


#: After this many lines (or a chunk) the reading guesses from the file's size
#: whether the input fits in one chunk; if not, it builds no event before the sort.
_GUESS_AFTER = 1024


class _Reading:
    """How :func:`_line_entries` reads the next line: ``held`` (build its event now) and
    ``defer`` (see :func:`ordered_events`); the chunking turns ``held`` off at its spill."""

    __slots__ = ("defer", "held")

    def __init__(self, defer: bool) -> None:
        self.defer = defer
        self.held = True


#: An entry of the sort: ``(ticket, line number, event or None, source)``.
_Entry = tuple[str, int, Event | None, bytes | str]


def _line_entries(
    handle: BinaryIO,
    path: str,
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None,
    chunk: int,
    reading: _Reading,
) -> Iterator[_Entry]:
    """The entry of each line, as :func:`_read_chunks` sorts them.

    The source is the line's bytes (read again by the direct path) or its text
    (by the reference). While ``reading.held`` every event is built; after it,
    a line is only checked (its event is built once, after the sort); with
    ``reading.defer``, only its kind and ticket are (see :func:`ordered_events`).
    """
    loads = _orjson_loads
    assert loads is not None
    decoder = event_decoder()
    reads = decoder.reads
    direct = decoder.direct_kinds()
    floating = decoder.float_kinds()
    prefixed = frozenset(kind.encode() for kind in direct - floating)
    tag = EVENT_TAG
    defer = reading.defer
    size = os.fstat(handle.fileno()).st_size
    read = 0
    number = 0
    guess = min(chunk, _GUESS_AFTER)
    for line in handle:
        number += 1
        if number == 1 and line.startswith(_BOM):
            line = line[3:]  # utf-8-sig: the reference skips a byte-order mark
        read += len(line)
        if progress is not None:
            progress(read)
        held = reading.held
        if number == guess and held and size > read * chunk // number:
            held = reading.held = False  # by the lines so far, the input will not fit
        if b"\r" in line and line.find(b"\r") != len(line) - 2:
            raise _Restart  # the reference also ends a line at a lone carriage return
        start = _PREFIX(line) if defer and not held else None
        if start is not None and start[1] in prefixed:
            # The library's own form starts with the kind and the ticket: read them without
            # parsing the line (it is parsed once, after the sort, and checked there).
            yield (_utf8(start[2]), number, None, line)
            continue
        try:
            data = loads(line)
        except ValueError:
            data = None
        event = None
        if held:
            good = (event := decoder(data)) is not None
        elif defer:  # judged when decoded after the sort: a kind read directly, a text ticket
            kind = data.get(tag) if type(data) is dict else None
            good = type(kind) is str and kind in direct and type(data.get("ticket_id")) is str
        else:
            good = reads(data)
        if good and (data[tag] not in floating or floatless(data)):
            yield (data["ticket_id"], number, event, line)
            continue
        text = _utf8(line)
        found = _reference_line(text, number, path, skip_bad, counts)
        if found is not None:
            yield (found.ticket_id, number, found if held else None, text)


def _read_chunks(
    entries: Iterator[_Entry], chunk: int, files: list[BinaryIO], reading: _Reading
) -> tuple[list[tuple[str, int, Event | bytes | str]], Iterator[Any] | None]:
    """Sort the entries, spilling each full chunk to ``files``: the last chunk, sorted.

    Until the first spill every event is built and held; after it, a line is
    only checked (see :func:`_line_entries`). An input whose first chunk is
    already ordered by ticket, read with ``reading.defer``, is not sorted: that
    chunk comes back with the rest of the entries, handed on as they are read
    (none held, nothing spilled), until an entry of an earlier ticket raises
    ``OutOfOrder`` (see :func:`ordered_events`).
    """
    buffer: list[_Entry] = []
    append = buffer.append
    last = ""
    ordered = True
    for entry in entries:
        if len(buffer) >= chunk:
            if ordered and reading.defer and not files and entry[0] >= last:
                reading.held = False
                return _kept(buffer), _in_ticket_order(entry, entries)
            files.append(_spill(buffer))
            buffer.clear()
            reading.held = False
        if ordered:
            ticket = entry[0]
            ordered = ticket >= last
            last = ticket
        append(entry)
    buffer.sort(key=by_ticket)  # stable: a ticket's lines keep their input order
    return _kept(buffer), None


def _kept(buffer: list[_Entry]) -> list[tuple[str, int, Event | bytes | str]]:
    """``(ticket, line number, event or source)`` of each entry."""
    return [
        (ticket, place, source if event is None else event)
        for ticket, place, event, source in buffer
    ]


def _in_ticket_order(first: _Entry, entries: Iterator[_Entry]) -> Iterator[Any]:
    """``first`` and the entries after it as :func:`_kept` gives them, while each one's
    ticket is at or after the one before (``OutOfOrder`` at the first that is not)."""
    ordered = in_ticket_order(itertools.chain((first,), entries), first[0])
    for ticket, place, event, source in ordered:
        yield ticket, place, source if event is None else event


#: The start of a line in the library's own form (``encode_event`` as JSON): its kind and
#: a ticket without escapes. Where it matches, the report sorts the line unparsed.
_PREFIX = re.compile(
    rb'\{"' + EVENT_TAG.encode() + rb'": "([a-z_]+)", "ticket_id": "([^"\\]*)"'
).match


def _utf8(raw: bytes) -> str:
    """The text of a line's bytes; bytes that are not UTF-8 are the reference's to word."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Restart from None


def _reference_line(
    text: str, number: int, path: str, skip_bad: bool, counts: dict[str, int]
) -> Event | None:
    """What the reference reading makes of line ``number``: its event, or ``None``.

    ``None`` for a blank line and for a bad line skipped (and counted); a bad
    line without ``skip_bad`` has the reference read the input from its start.
    """
    found: dict[str, int] = {}
    try:
        events = list(decode_lines([text], path, skip_bad=skip_bad, counts=found))
    except InputError:
        raise _Restart from None
    if found.get("bad"):
        counts["bad"] = counts.get("bad", 0) + 1
        counts["first_bad"] = min(counts.get("first_bad", number), number)  # lines judged late
    return events[0] if events else None


def _spill(buffer: list[tuple[str, int, Event | None, bytes | str]]) -> BinaryIO:
    """One chunk in a temporary file: ``(ticket, line number, source)`` (the events let go)."""
    return spill([(ticket, place, source) for ticket, place, _, source in buffer])


def _handed_on(entries: list[tuple[str, int, Event | bytes | str]]) -> Iterator[Any]:
    """The entries in order, each one let go as it is handed on."""
    entries.reverse()
    while entries:
        yield entries.pop()


def _events_of(
    entries: Iterable[tuple[str, int, Event | bytes | str]],
    path: str,
    skip_bad: bool,
    counts: dict[str, int],
) -> Iterator[Event]:
    """The event of each entry: held, or read again from its source (bytes or text).

    Bytes the direct decoder does not take (lines whose checks were deferred)
    are judged by the reference, as the first reading would have judged them;
    a line whose event is not of the ticket it was sorted under (read from the
    line's start, which a repeated key contradicts) raises ``_Restart``.
    """
    loads = _orjson_loads
    assert loads is not None
    decoder = event_decoder()
    floating = decoder.float_kinds()
    for ticket, number, item in entries:
        if type(item) is bytes:
            try:
                data = loads(item)
            except ValueError:  # a line sorted by its start alone: the reference judges it
                data = None
            # the direct path, as the first reading took (a float: the reference's reading)
            event = (
                decoder(data)
                if type(data) is not dict or data.get(EVENT_TAG) not in floating or floatless(data)
                else None
            )
            if event is None:
                event = _reference_line(_utf8(item), number, path, skip_bad, counts)
                if event is None:
                    continue  # a bad line, skipped and counted
            if event.ticket_id != ticket:  # sorted under another ticket (a repeated key)
                raise _Restart
            yield event
        elif type(item) is str:
            yield decode_event(json_loads(item))  # the reference, as the first reading took
        else:
            yield item  # type: ignore[misc]


def _ticket_of_pair(pair: tuple[Event, dict[str, Any]]) -> str:
    return pair[0].ticket_id


def _data_of_pair(pair: tuple[Event, dict[str, Any]]) -> dict[str, Any]:
    return pair[1]


def _imported(args: argparse.Namespace, counts: dict[str, int], stream: bool) -> Iterator[Any]:
    """Histories of a ticket system's export, read through an import profile.

    With ``stream``, a CSV export already in ticket order is not sorted (see
    :func:`~itsm_core.cli.imports.sorted_cells`): ``OutOfOrder`` if it was not.
    """
    if args.map:
        raise InputError("--map", "a profile names the export's columns; use one or the other")
    profile = read_profile(args.profile, args.timezone)
    rows = read_rows(args.events, profile)
    columns, ordered = sorted_cells(
        rows, profile, chunk=args.sort_chunk, stream=stream, numbered=True
    )
    for item in import_stream(ordered, profile, columns=columns, numbered=True):
        if isinstance(item, ImportCounts):
            counts["bad"] = counts.get("bad", 0) + item.skipped_rows
            for reason, count in item.skipped:
                print(
                    f"itsm-core: {args.events}: skipped {count} row(s): {reason}", file=sys.stderr
                )
            continue
        yield item  # a History, checked by the import: not checked again


def _kind(verdict: str) -> str:
    return REFUSED if verdict.startswith(REFUSED) else verdict


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@contextlib.contextmanager
def _fewer_collections(young: int = 0, middle: int = 0, old: int = 0) -> Iterator[None]:
    """The cyclic collector's thresholds raised to at least these, restored after."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], young), max(thresholds[1], middle), max(thresholds[2], old))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``itsm-core report``."""
    desk = read_desk(args.config)
    if not desk.sla_policies:
        raise InputError(args.config, "sla.policies: expected at least one SLA policy")
    now = parse_instant(args.now, "--now") if args.now else pendulum.now("UTC")
    if args.engine == "dask":
        if args.profile:
            raise InputError("--profile", "the dask engine reads events; import the export first")
        return _run_dask(args, desk, now, out)
    if args.sort_chunk < 1:
        raise InputError(
            "--sort-chunk", f"expected a positive number of rows, got {args.sort_chunk}"
        )
    counts: dict[str, int] = {}
    if not _fast_reading(args) and not args.profile:
        _evaluate(args, desk, now, out, counts)
    else:
        # The fast reading judges a spilled input's lines when it decodes them after the
        # sort (one check instead of two), and it hands on an input already in ticket
        # order as it reads it, as the reading of an export does: the output is held
        # back until the end, and a line found bad then without --skip-bad, or a line
        # of an earlier ticket, has the input read again, every line checked and
        # sorted before anything is written.
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as held:
            try:
                _evaluate(args, desk, now, held, counts, defer_checks=True)
            except (_Restart, OutOfOrder):
                counts = {}
                _evaluate(args, desk, now, out, counts)
            else:
                held.seek(0)
                shutil.copyfileobj(held, out)
    return tell_skipped(args.events, counts, args.skip_bad, counts.get("tickets", 0), sys.stderr)


def _evaluate(
    args: argparse.Namespace,
    desk: Desk,
    now: datetime,
    out: TextIO,
    counts: dict[str, int],
    defer_checks: bool = False,
) -> None:
    """The local engine's rows and summary, written to ``out``; ``counts`` filled as read."""
    verdicts = evaluate_all(_histories(args, counts, defer_checks), desk, now)
    writer: csv.DictWriter[str] | None = None
    if args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
    elif args.format == "table":
        print(
            f"{'ticket':<12} {'metric':<15} {'cycle':>5} {'verdict':<9} {'elapsed':>10} "
            f"{'remaining':>10} {'%target':>8}  due / breached / met",
            file=out,
        )

    facts: list[TicketFacts] = []
    by_verdict: dict[str, int] = {}
    calendar = desk.default_calendar
    if calendar is None:  # pragma: no cover - a desk document with calendars names one
        raise InputError(args.config, "calendar: expected the desk's calendar (analytics use it)")
    fold = AnalyticsFold(calendar)

    def counted() -> Iterator[SlaStatus]:
        for verdict in verdicts:
            counts["tickets"] = counts.get("tickets", 0) + 1
            if verdict.history is not None:
                fold.add(verdict.history)
            if verdict.status is not None:
                yield verdict.status
                if args.format == "html":
                    assert verdict.history is not None
                    facts.append(facts_of(verdict.history, verdict.status))
            if args.format == "json":
                for metric, verdict_text, text in json_rows_of(verdict, desk):
                    name = f"{metric or '-'}: {_kind(verdict_text)}"
                    by_verdict[name] = by_verdict.get(name, 0) + 1
                    out.write(text + "\n")
                continue
            for row in rows_of(verdict, desk):
                name = f"{row['metric'] or '-'}: {_kind(str(row['verdict']))}"
                by_verdict[name] = by_verdict.get(name, 0) + 1
                if writer is not None:
                    writer.writerow({key: _text(value) for key, value in row.items()})
                elif args.format == "table":
                    _print_row(row, out)

    # The report allocates several short-lived objects per event and keeps a chunk of
    # histories for the analytics: with the default thresholds the collector ran 550
    # times per 100,000 events, walking the live histories each time (0.3-0.45 s of
    # CPU); with a young generation of 10,000 objects it runs 32 times (0.18-0.21 s),
    # every cycle still collected.
    with _fewer_collections(young=10_000, middle=50, old=100):
        compliance = Compliance.of(counted())
        analytics = fold.result()
    tickets, bad = counts.get("tickets", 0), counts.get("bad", 0)
    if args.format == "html":
        title = f"SLA report: {os.path.basename(args.events)}"
        out.write(render_html(facts, compliance, title=title, now=now, analytics=analytics))
    else:
        _summary(
            compliance,
            tickets,
            bad,
            args.format,
            out,
            by_verdict,
            analytics=analytics,
        )


def _print_row(row: Row, out: TextIO) -> None:
    percent = row["percent_of_target"]
    if row["cycle"]:
        when = row["breached_at"] or row["met_at"] or row["due_at"] or "-"
        print(
            f"{row['ticket_id']:<12} {row['metric']:<15} {row['cycle']:>5} {row['verdict']:<9} "
            f"{row['elapsed']:>10} {row['remaining']:>10} "
            f"{'' if percent is None else f'{percent:.1f}%':>8}  {when}",
            file=out,
        )
    else:
        print(
            f"{row['ticket_id']:<12} {row['metric'] or '-':<15} {'-':>5} {row['verdict']}",
            file=out,
        )


def add_parser(commands: Any) -> None:
    """Add ``report`` to the sub-commands."""
    report = commands.add_parser("report", help="evaluate every SLA over an export of events")
    report.add_argument(
        "events",
        help="events as JSON Lines or CSV, in any order; with --profile, a ticket "
        "system's export (CSV, JSON Lines of rows, Jira or Zammad JSON)",
    )
    add_event_input(report)
    report.add_argument(
        "--profile",
        help=f"read EVENTS as an export through an import profile ({', '.join(PROFILES)} "
        "or a profile TOML file)",
    )
    report.add_argument(
        "--timezone", metavar="ZONE", help="with --profile: the IANA zone of naive timestamps"
    )
    report.add_argument(
        "--sort-chunk",
        type=int,
        default=50_000,
        metavar="N",
        help="group tickets by sorting N lines at a time in temporary files (default 50000)",
    )
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
