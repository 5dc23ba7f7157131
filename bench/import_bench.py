"""The import path: a shuffled ServiceNow snapshot export to an SLA report, against ``csv``.

The input is the shared ServiceNow sample (``../shared/data/servicenow/``, one
full row per update) repeated under new incident numbers until it holds
1,000,000 rows (100,000 with ``--quick``), shuffled with a fixed seed: an
unsorted export, as ``itsm-core report --profile`` must take it. Timed over
the same rows, interleaved round by round:

* ``csv.DictReader`` over the file (the floor of reading it as rows a user
  would write);
* the import alone, rows -> histories: ``import_stream`` over the rows of the
  same export grouped by ticket (a copy written once, outside the timing),
  read with ``csv.DictReader``; and read with ``csv.reader`` and handed over
  as sequences with their header (``columns=``), the form the report uses;
* the same import over a copy whose timestamps are moved 1,009 minutes later
  per copy of the sample, so almost every timestamp is one the import has not
  met before, as in a real export (the repeated sample's few hundred
  timestamps flatter the import's timestamp cache);
* the whole ``itsm-core report EXPORT --profile servicenow_snapshot --format
  json`` in a fresh process on the shuffled file (reading, the external sort,
  the import, SLA evaluation, analytics, one JSON row per clock cycle): its
  CPU time (``os.wait4`` of that process) and peak resident memory (its own
  ``VmHWM``, read while it runs).

Ratios are costs in ``csv.DictReader`` units; the issue's targets for the
whole report: >= 50,000 rows per CPU-second with a peak RSS <= 150 MB.

The floor, timed in CPU in the same rounds: the least any report of the
shuffled export in bounded memory does before building an event. Its rows are
read (``csv_rows``, as the report reads them), the cells of the columns the
profile reads grouped by ticket with the external sort (``sorted_entries``,
chunks of 50,000 rows), and each row's cells compared one by one with the row
before of the same ticket. No timestamp is read, no event built, nothing
evaluated or written.
"""

from __future__ import annotations

import csv
import inspect
import operator
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bench._runner import BenchReport, Figure
from itsm_core.cli._common import csv_rows, sorted_entries
from itsm_core.imports import PROFILES, import_stream

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "servicenow" / "incident_event_log_sample.csv"
DESK = ROOT / "docs" / "examples" / "imports" / "servicenow_desk.json"
NOW = "2016-04-01T00:00:00+00:00"
PROFILE = "servicenow_snapshot"


def write_exports(
    shuffled: Path, grouped: Path, count: int, *, seed: int = 1, shifted: Path | None = None
) -> int:
    """The sample repeated to ``count`` rows under new numbers: shuffled, and grouped by ticket.

    Row ``i`` is sample row ``i % len(sample)`` of copy ``i // len(sample)``, its
    number suffixed ``-<copy>``; the shuffled file is their order after
    ``random.Random(seed).shuffle``, the grouped one the same rows sorted by
    ticket (stable), as the report's external sort hands them to the import.
    ``shifted`` (if given) gets the grouped rows with every timestamp of copy
    ``c`` moved ``1009 * c`` minutes later.
    """
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        sample = list(reader)
    order = list(range(count))
    random.Random(seed).shuffle(order)
    size = len(sample)

    def row(i: int) -> list[str]:
        cells = list(sample[i % size])
        cells[0] = f"{cells[0]}-{i // size:06d}"
        return cells

    with shuffled.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(row(i) for i in order)
    by_ticket = sorted(order, key=lambda i: f"{sample[i % size][0]}-{i // size:06d}")
    with grouped.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(row(i) for i in by_ticket)
    if shifted is not None:
        with shifted.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(_shifted(row(i), 1009 * (i // size)) for i in by_ticket)
    return count


def _shifted(cells: list[str], minutes: int) -> list[str]:
    """The cells with every ``d/m/Y H:M`` timestamp ``minutes`` later (written the same way)."""
    out = []
    for cell in cells:
        try:
            at = datetime.strptime(cell, "%d/%m/%Y %H:%M") + timedelta(minutes=minutes)  # noqa: DTZ007
        except ValueError:
            out.append(cell)
            continue
        out.append(f"{at.day}/{at.month}/{at.year} {at:%H:%M}")
    return out


def _dict_rows(path: Path) -> Callable[[], None]:
    def run() -> None:
        with path.open(newline="", encoding="utf-8") as handle:
            for _ in csv.DictReader(handle):
                pass

    return run


def _import_dicts(path: Path) -> Callable[[], None]:
    profile = PROFILES[PROFILE]

    def run() -> None:
        with path.open(newline="", encoding="utf-8") as handle:
            for _ in import_stream(csv.DictReader(handle), profile):
                pass

    return run


def _import_sequences(path: Path) -> Callable[[], None]:
    profile = PROFILES[PROFILE]

    def run() -> None:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            header = next(rows)
            for _ in import_stream(rows, profile, columns=header):
                pass

    return run


def _floor(path: Path, changed: list[int]) -> Callable[[], None]:
    """The floor over the export at ``path`` (see the module's text); each run appends to
    ``changed`` how many cells differed from the row before of their ticket."""
    profile = PROFILES[PROFILE]
    wanted = list(dict.fromkeys(name for _, name in profile.columns))

    def run() -> None:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = csv_rows(handle)
            header = next(rows)
            names = [name for name in wanted if name in header]
            get = operator.itemgetter(*[header.index(name) for name in names])
            at = header.index(profile.column("ticket_id") or "")
            width = len(header)
            held = ((row[at], "\x1f".join(get(row))) for row in rows if len(row) == width)
            ticket = names.index(profile.column("ticket_id") or "")
            previous: list[str] = []
            differ = 0
            for text in sorted_entries(held, 50_000):
                cells = text.split("\x1f")
                if previous and previous[ticket] == cells[ticket]:
                    for before, now in zip(previous, cells, strict=True):
                        differ += before != now
                previous = cells
        changed.append(differ)

    return run


def _report(path: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of one whole report in a fresh process."""
    command = [
        sys.executable,
        "-m",
        "itsm_core",
        "report",
        str(path),
        "--profile",
        PROFILE,
        "--config",
        str(DESK),
        "--now",
        NOW,
        "--format",
        "json",
        "--no-progress",
    ]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=dict(os.environ))
    # The peak is the report's own high-water mark (VmHWM), read every 20 ms while it
    # runs: the ``ru_maxrss`` of a child also counts the pages of this process it was
    # forked from, which holds the generated export for a while.
    status_file = Path(f"/proc/{process.pid}/status")
    high = 0.0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        high = max(high, _high_water_mb(status_file))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"the report failed with status {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, high or usage.ru_maxrss / 1024


def _high_water_mb(status_file: Path) -> float:
    """VmHWM of a running process in MB (0 where /proc does not tell)."""
    try:
        for line in status_file.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _figure(samples: list[float], ops: int) -> Figure:
    per_op = [s * 1e6 / ops for s in samples]
    return Figure(
        median_us=statistics.median(per_op),
        min_us=min(per_op),
        max_us=max(per_op),
        rounds=len(per_op),
        ops=ops,
    )


def _cpu(fn: Callable[[], None]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def run(quick: bool) -> BenchReport:
    report = BenchReport("import")
    if not SAMPLE.exists():
        report.notes.append(f"skipped: the shared ServiceNow sample is not at {SAMPLE}")
        return report
    count = 100_000 if quick else 1_000_000
    rounds = 3 if quick else 2
    with tempfile.TemporaryDirectory() as tmp:
        shuffled, grouped = Path(tmp) / "export.csv", Path(tmp) / "grouped.csv"
        shifted = Path(tmp) / "shifted.csv"
        rows = write_exports(shuffled, grouped, count, shifted=shifted)
        reader = "csv.DictReader over the export (CPU), per row"
        dicts = "import alone: DictReader rows -> histories (CPU), per row"
        sequences = "import alone: csv.reader rows + header -> histories (CPU), per row"
        floor = "floor: rows grouped by ticket + cells compared (CPU), per row"
        changed: list[int] = []
        timed: dict[str, Callable[[], None]] = {
            reader: _dict_rows(shuffled),
            dicts: _import_dicts(grouped),
            floor: _floor(shuffled, changed),
        }
        fresh = "import alone: csv.reader rows, timestamps not met before (CPU), per row"
        if "columns" in inspect.signature(import_stream).parameters:
            timed[sequences] = _import_sequences(grouped)
            timed[fresh] = _import_sequences(shifted)
        samples: dict[str, list[float]] = {name: [] for name in timed}
        wall: list[float] = []
        cpu: list[float] = []
        peak: list[float] = []
        _dict_rows(shuffled)()  # the file cache
        for _ in range(rounds):
            for name, fn in timed.items():
                samples[name].append(_cpu(fn))
            seconds, used, rss = _report(shuffled)
            wall.append(seconds)
            cpu.append(used)
            peak.append(rss)
        for name in timed:
            report.figures[name] = _figure(samples[name], rows)
        whole_cpu = "whole report (CPU), per row"
        report.figures[whole_cpu] = _figure(cpu, rows)
        report.figures["whole report (wall), per row"] = _figure(wall, rows)
    report.values["rows"] = rows
    report.values["report rows per CPU-second (median)"] = round(
        1e6 / report.figures[whole_cpu].median_us
    )
    report.values["import alone rows per CPU-second (median, DictReader rows)"] = round(
        1e6 / report.figures[dicts].median_us
    )
    if sequences in report.figures:
        report.values["import alone rows per CPU-second (median, csv.reader rows)"] = round(
            1e6 / report.figures[sequences].median_us
        )
        report.values["import alone rows per CPU-second (median, timestamps not met before)"] = (
            round(1e6 / report.figures[fresh].median_us)
        )
    report.values["floor rows per CPU-second (median)"] = round(
        1e6 / report.figures[floor].median_us
    )
    assert len(set(changed)) == 1, changed  # the same rows every round
    report.values["floor: cells that differ from the row before"] = changed[0]
    report.values["report peak RSS MB (max of rounds)"] = round(max(peak), 1)
    report.ratio("import alone (DictReader rows) in DictReader units", dicts, reader)
    if sequences in report.figures:
        report.ratio("import alone (csv.reader rows) in DictReader units", sequences, reader)
    report.ratio("whole report in DictReader units (CPU)", whole_cpu, reader)
    report.ratio("whole report in floor units (CPU)", whole_cpu, floor)
    report.notes.append(
        "ratios here are costs (x the CPU time of csv.DictReader over the same rows); "
        "targets: the report >= 50,000 rows per CPU-second, peak RSS <= 150 MB"
    )
    report.notes.append(f"rounds interleaved: {rounds}; load {os.getloadavg()[0]:.1f}")
    return report
