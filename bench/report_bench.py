"""The report path: ``itsm-core report`` on a JSON Lines file of events, against ``json.loads``.

The input is a week of simulated kiosk tickets on the demo desk, repeated under
fresh ticket ids until the file holds 1,000,000 events (100,000 with
``--quick``), in the ``encode_event`` form the library writes. Three things
are timed over the same file, interleaved round by round:

* ``json.loads`` of every line (the floor any JSON Lines reader pays; with
  ``orjson`` installed its ``loads`` too, which the report then uses);
* our decoding of every line (``json.loads`` and ``decode_event``): what the
  report pays per event before evaluating anything;
* the whole ``itsm-core report --format json`` in a fresh process (reading,
  the external sort, evaluation, analytics, one JSON row per clock cycle),
  with its CPU time and its peak resident memory; and, in CPU time, the same
  report on the same events under ids that put the file in ticket order (as
  ``itsm-core import`` writes events: read without the external sort).

Ratios are costs in ``json.loads`` units (the issue's target: the whole report
at most 3x) and the report's events per second (target: 100,000).

The floor, timed in CPU in the same rounds: the least any report of this file
in bounded memory does before evaluating anything. Each line's ticket is read
from its text, the lines are grouped by ticket with the external sort
(``sorted_entries``, chunks of 50,000 lines), each is parsed (orjson when
installed, and stdlib ``json``) and its instant read (``datetime.fromisoformat``).
No event is built, no history checked, nothing evaluated or written.

``json.loads`` is also timed in CPU time, for a CPU-to-CPU ratio that a busy
machine does not skew.

After those rounds, over the tickets of the first 100,000 events (checked
into histories as the report does), the report's analytics are timed both
ways, interleaved, in CPU time: one walk per
history for the three (``ServiceFigures.of``, what the report uses) and the
three walks of ``Satisfaction.of``, ``FirstContact.of`` and ``Stats.of`` one
by one.

Last, the report's first stage, reading every line and
ordering the events by ticket (the external sort, with the default chunk of
50,000 lines), is timed in CPU time both ways, interleaved: the reference
reading (every line decoded, its plain data spilled and decoded again) and
the JSON Lines fast path the report uses (bytes parsed by orjson, lines only
checked before the sort and decoded once after it, or decoded once and
sorted in memory when the input fits in one chunk).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench._runner import BenchReport, Figure, interleaved
from itsm_core.cli import simulate_week
from itsm_core.cli._common import json_loads, read_desk, sorted_entries
from itsm_core.cli.report import ordered_events, reference_ordered_events
from itsm_core.lifecycle import History
from itsm_core.metrics import (
    FcrDefinition,
    FirstContact,
    RatingScale,
    Satisfaction,
    ServiceFigures,
    Stats,
)
from itsm_core.serialization import decode_event, encode_event
from itsm_core.ticket import Event

DESK = Path(__file__).resolve().parents[1] / "src" / "itsm_core" / "cli" / "desk.toml"


def write_events(path: Path, count: int, *, ordered: bool = False) -> tuple[int, str]:
    """At least ``count`` events of repeated simulated weeks; returns (events, the week's end).

    Copy ``c`` of ticket ``T`` is ``T-c``: each ticket's events are together, the
    tickets not in order. With ``ordered`` it is ``c-T`` (``c`` six digits wide),
    and the file is in ticket order, as ``itsm-core import`` writes events.
    """
    tickets, end = simulate_week(count=60, seed=5)
    if ordered:
        tickets = sorted(tickets, key=lambda ticket: ticket.ticket.id)
    written = 0
    copy = 0
    with path.open("w", encoding="utf-8") as out:
        while written < count:
            for ticket in tickets:
                for event in ticket.history:
                    data = encode_event(event)
                    tid = data["ticket_id"]
                    data["ticket_id"] = f"{copy:06d}-{tid}" if ordered else f"{tid}-{copy}"
                    out.write(json.dumps(data) + "\n")
                    written += 1
            copy += 1
    return written, end.isoformat()


def _child_cpu(command: list[str]) -> float:
    """The CPU seconds of ``command`` run to its end in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _over_lines(path: Path, per_line: Callable[[str], object]) -> Callable[[], None]:
    def run() -> None:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                per_line(line)

    return run


STDLIB = "json.loads (stdlib), per event"
READ_REFERENCE = "read + sort by ticket: reference reading (CPU), per event"
READ_FAST = "read + sort by ticket: JSON Lines fast path (CPU), per event"
IN_ORDER = "whole report, the same events in ticket order (CPU), per event"


def _ordered(path: Path, fast: bool) -> Callable[[], None]:
    """The report's first stage over ``path``: every event, ordered by ticket."""
    read = ordered_events if fast else reference_ordered_events

    def run() -> None:
        for _ in read(str(path), skip_bad=False, counts={}):
            pass

    return run


FLOOR = "floor: group by ticket + parse + read the instant, {} (CPU), per event"


def _floor(path: Path, loads: Callable[[Any], Any]) -> Callable[[], None]:
    """The floor over ``path`` (see the module's text), parsing with ``loads``."""
    fromisoformat = datetime.fromisoformat
    key = b'"ticket_id": "'

    def ticket(line: bytes) -> str:
        start = line.index(key) + len(key)
        return line[start : line.index(b'"', start)].decode()

    def run() -> None:
        with path.open("rb") as lines:
            for line in sorted_entries(((ticket(line), line) for line in lines), 50_000):
                fromisoformat(loads(line)["at"])

    return run


ONE_WALK = "analytics: one walk for the three (ServiceFigures, CPU), per event"
THREE_WALKS = "analytics: three walks (Satisfaction, FirstContact, Stats; CPU), per event"


def _histories(path: Path, limit: int) -> tuple[list[History], int]:
    """The tickets of the first ``limit`` events, checked by the desk; and their event count."""
    desk = read_desk(str(DESK))
    tickets: dict[str, list[Event]] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= limit:
                break
            event = decode_event(json_loads(line))
            tickets.setdefault(event.ticket_id, []).append(event)
    histories = [desk.history(events) for events in tickets.values()]
    return histories, sum(len(h) for h in histories)


def _analytics(histories: list[History], one_walk: bool) -> Callable[[], None]:
    """The report's analytics over ``histories``: one walk for the three, or three walks."""
    calendar = read_desk(str(DESK)).default_calendar
    assert calendar is not None
    by, stats_by = ("all", "agent", "group"), ("agent", "group")
    scale, rule = RatingScale.five_point(), FcrDefinition()

    def shared() -> None:
        ServiceFigures.of(histories, calendar=calendar, scale=scale, definition=rule, by=by,
                          stats_by=stats_by)  # fmt: skip

    def separate() -> None:
        Satisfaction.of(histories, scale=scale, calendar=calendar, by=by)
        FirstContact.of(histories, calendar=calendar, definition=rule, by=by)
        Stats.of(histories, calendar=calendar, by=stats_by)

    return shared if one_walk else separate


def _figure(samples: list[float], ops: int) -> Figure:
    per_op = [s * 1e6 / ops for s in samples]
    return Figure(
        median_us=statistics.median(per_op),
        min_us=min(per_op),
        max_us=max(per_op),
        rounds=len(per_op),
        ops=ops,
    )


def run(quick: bool) -> BenchReport:
    report = BenchReport("report")
    count = 100_000 if quick else 1_000_000
    rounds = 3 if quick else 2
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        events, end = write_events(path, count)
        in_order = Path(tmp) / "ordered.jsonl"
        write_events(in_order, count, ordered=True)
        command = [
            sys.executable,
            "-m",
            "itsm_core",
            "report",
            str(path),
            "--config",
            str(DESK),
            "--now",
            end,
            "--format",
            "json",
            "--no-progress",
        ]
        timed: dict[str, Callable[[], None]] = {
            STDLIB: _over_lines(path, json.loads),
            "decode: json + decode_event, per event": _over_lines(
                path, lambda line: decode_event(json_loads(line))
            ),
        }
        if json_loads is not json.loads:
            timed["json loads (orjson, what the report uses), per event"] = _over_lines(
                path, json_loads
            )
        floors = {FLOOR.format("json"): _floor(path, json.loads)}
        if json_loads is not json.loads:
            floors[FLOOR.format("orjson")] = _floor(path, json_loads)
        floor_cpu: dict[str, list[float]] = {name: [] for name in floors}
        samples: dict[str, list[float]] = {name: [] for name in timed}
        cpu_loads: list[float] = []
        whole: list[float] = []
        cpu: list[float] = []
        cpu_in_order: list[float] = []
        for fn in timed.values():
            fn()  # warm the file cache and the decoders
        for _ in range(rounds):
            for name, fn in timed.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                samples[name].append(time.perf_counter() - start)
                if name == STDLIB:
                    cpu_loads.append(time.process_time() - start_cpu)
            start = time.perf_counter()
            cpu.append(_child_cpu(command))
            whole.append(time.perf_counter() - start)
            cpu_in_order.append(_child_cpu([*command[:4], str(in_order), *command[5:]]))
            for name, fn in floors.items():
                start_cpu = time.process_time()
                fn()
                floor_cpu[name].append(time.process_time() - start_cpu)
        # the children's peak memory before this process holds any history
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        for name in timed:
            report.figures[name] = _figure(samples[name], events)
        report.figures[f"{STDLIB} (CPU)"] = _figure(cpu_loads, events)
        report.figures["whole report (wall), per event"] = _figure(whole, events)
        report.figures["whole report (CPU), per event"] = _figure(cpu, events)
        report.figures[IN_ORDER] = _figure(cpu_in_order, events)
        for name, samples_of in floor_cpu.items():
            report.figures[name] = _figure(samples_of, events)
        # the analytics both ways, interleaved, in CPU time
        histories, walked = _histories(path, 100_000)
        walks = {
            ONE_WALK: _analytics(histories, one_walk=True),
            THREE_WALKS: _analytics(histories, one_walk=False),
        }
        for fn in walks.values():
            fn()  # warm-up
        for name, samples_of in interleaved(walks, max(rounds, 3)).items():
            report.figures[name] = _figure(samples_of, walked)
        # the first stage both ways, interleaved, in CPU time
        reads = {READ_REFERENCE: _ordered(path, fast=False), READ_FAST: _ordered(path, fast=True)}
        for name, samples_of in interleaved(reads, max(rounds, 3)).items():
            report.figures[name] = _figure(samples_of, events)
    report.values["events"] = events
    report.values["report events/s (wall, median)"] = round(
        1e6 / report.figures["whole report (wall), per event"].median_us
    )
    report.values["report events/s (CPU, median)"] = round(
        1e6 / report.figures["whole report (CPU), per event"].median_us
    )
    report.values["report peak RSS MB"] = round(peak, 1)
    decode = "decode: json + decode_event, per event"
    report.ratio("decode cost in json.loads units", decode, STDLIB)
    report.ratio("report cost in json.loads units (wall)", "whole report (wall), per event", STDLIB)
    report.ratio("report cost in json.loads units (CPU)", "whole report (CPU), per event", STDLIB)
    report.ratio(
        "report cost in json.loads CPU units (CPU / CPU)",
        "whole report (CPU), per event",
        f"{STDLIB} (CPU)",
    )
    report.ratio(
        "report: input in ticket order vs not (speed-up, CPU)",
        "whole report (CPU), per event",
        IN_ORDER,
    )
    for name in (FLOOR.format("json"), FLOOR.format("orjson")):
        if name in report.figures:
            report.values[f"{name.split(' (CPU)')[0]}: events per CPU-second"] = round(
                1e6 / report.figures[name].median_us
            )
            report.ratio(f"report cost in {name.split(' (CPU)')[0]} units (CPU)",
                         "whole report (CPU), per event", name)  # fmt: skip
            report.ratio(f"{name.split(' (CPU)')[0]} in json.loads CPU units", name,
                         f"{STDLIB} (CPU)")  # fmt: skip
    report.ratio("analytics: one walk vs three walks (speed-up)", THREE_WALKS, ONE_WALK)
    report.ratio("read + sort: fast path vs reference (speed-up)", READ_REFERENCE, READ_FAST)
    report.ratio("read + sort (fast path) in json.loads CPU units", READ_FAST, f"{STDLIB} (CPU)")
    report.notes.append(
        "ratios here are costs (x the time of stdlib json.loads on the same lines); "
        "targets: report <= 3x, >= 100,000 events/s, flat memory"
    )
    report.notes.append(f"rounds interleaved: {rounds}; load {os.getloadavg()[0]:.1f}")
    return report
