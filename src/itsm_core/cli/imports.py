"""``itsm-core import``: a ticket system's export -> events as JSON Lines, through a profile.

The command reads the export (CSV, JSON Lines of rows, or the JSON of Jira's
``expand=changelog`` and Zammad's ticket history) and the profile (a built-in
name or a TOML file), lets :mod:`itsm_core.imports` build the histories, and
writes their events, one JSON object a line. Refused tickets and skipped rows
are reported on stderr; any refusal makes the exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import marshal
import operator
import os
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TextIO

import attrs

from itsm_core.cli._common import (
    EXIT_INVALID,
    EXIT_OK,
    InputError,
    OutOfOrder,
    csv_rows,
    sorted_by_ticket,
    sorted_entries,
)
from itsm_core.errors import ConfigurationError
from itsm_core.imports import (
    PROFILES,
    ImportCounts,
    Profile,
    RefusedTicket,
    import_stream,
    jira_changelog_rows,
    profile_from_dict,
    zammad_history_rows,
)
from itsm_core.lifecycle import History
from itsm_core.serialization import encode_event

__all__ = ["add_parser", "read_profile", "read_rows", "sorted_cells", "sorted_rows"]


def read_profile(name: str, timezone: str | None = None) -> Profile:
    """A built-in profile by name, or the profile a TOML (or JSON) file describes."""
    if name in PROFILES:
        profile = PROFILES[name]
    else:
        path = Path(name)
        if not path.exists():
            raise InputError(
                name, f"expected a built-in profile ({', '.join(PROFILES)}) or a TOML file"
            )
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise InputError(name, f"not a TOML or JSON document: {exc}") from None
        try:
            profile = profile_from_dict(data)
        except ConfigurationError as exc:
            raise InputError(name, str(exc)) from None
    if timezone is not None:
        stamps = attrs.evolve(profile.timestamps, timezone=timezone)
        profile = attrs.evolve(profile, timestamps=stamps)
    return profile


def _json_rows(data: Any, profile: Profile, where: str) -> Iterable[Mapping[str, Any]]:
    if profile.name == "jira_changelog" or (isinstance(data, Mapping) and "issues" in data):
        return jira_changelog_rows(data)
    tickets = data if isinstance(data, list) else [data]
    if tickets and all(isinstance(t, Mapping) and "history" in t for t in tickets):
        return (row for t in tickets for row in zammad_history_rows(t["ticket"], t["history"]))
    if all(isinstance(t, Mapping) for t in tickets):
        return tickets
    raise InputError(where, "expected rows (objects), Jira issues or Zammad histories")


def read_rows(path: str, profile: Profile) -> Iterable[Mapping[str, Any]]:
    """The rows of an export file: CSV (with a header), JSON Lines of rows, or JSON."""
    file = Path(path)
    if file.suffix.lower() not in (".json", ".jsonl", ".ndjson"):
        return _CsvRows(file)
    return _json_file_rows(file, path, profile)


def _json_file_rows(file: Path, path: str, profile: Profile) -> Iterator[Mapping[str, Any]]:
    suffix = file.suffix.lower()
    if suffix in (".json",):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}", f"not JSON: {exc.msg}") from None
        yield from _json_rows(data, profile, path)
        return
    with file.open(newline="", encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{number}", f"not JSON: {exc.msg}") from None
                if not isinstance(row, dict):
                    raise InputError(f"{path}:{number}", "expected a JSON object (a row)")
                yield row


class _CsvRows:
    """The rows of a CSV export as ``csv.DictReader`` reads them; :func:`sorted_rows` reads
    the file itself, faster."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with self.file.open(newline="", encoding="utf-8-sig") as handle:
            yield from csv.DictReader(handle)


def sorted_rows(
    rows: Iterable[Mapping[str, Any]], profile: Profile, *, chunk: int = 50_000
) -> Iterator[dict[str, Any]]:
    """An export's rows grouped by ticket (stable), in bounded memory, for ``import_stream``.

    The external sort (:func:`~itsm_core.cli._common.sorted_by_ticket`) holds
    only the values of the columns the profile reads; a row that lacks one of
    them is held whole, so the import names the missing column among the
    export's own.

    >>> from itsm_core.imports import PROFILES
    >>> rows = [{"number": "B", "x": "1"}, {"number": "A", "x": "2"}, {"number": "B"}]
    >>> [row["number"] for row in sorted_rows(rows, PROFILES["servicenow_snapshot"], chunk=2)]
    ['A', 'B', 'B']
    """
    return _sorted_dicts(rows, profile, chunk, False)


def _sorted_dicts(
    rows: Iterable[Mapping[str, Any]], profile: Profile, chunk: int, numbered: bool
) -> Iterator[Any]:
    """:func:`sorted_rows`; with ``numbered``, each row as ``(row number, row)``."""
    column = profile.column("ticket_id") or ""
    wanted = tuple(dict.fromkeys(name for _, name in profile.columns))

    def ticket_of(row: Mapping[str, Any]) -> str:
        value = row.get(column)
        return value.strip() if isinstance(value, str) else ""

    def held(row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        try:
            return tuple([row[name] for name in wanted])
        except KeyError:
            return dict(row)

    def unheld(value: tuple[Any, ...] | dict[str, Any]) -> dict[str, Any]:
        return value if isinstance(value, dict) else dict(zip(wanted, value, strict=True))

    def generic() -> Iterator[Any]:
        if numbered:
            numbered_rows = sorted_by_ticket(
                rows, ticket_of, dump=held, load=unheld, chunk=chunk, numbered=True
            )
            return ((place + 1, row) for place, row in numbered_rows)
        return sorted_by_ticket(rows, ticket_of, dump=held, load=unheld, chunk=chunk)

    if isinstance(rows, _CsvRows):
        return _sorted_csv(rows.file, wanted, column, chunk, generic, numbered=numbered)
    return generic()


def sorted_cells(
    rows: Iterable[Mapping[str, Any]],
    profile: Profile,
    *,
    chunk: int = 50_000,
    stream: bool = False,
    numbered: bool = False,
) -> tuple[tuple[str, ...] | None, Iterator[Any]]:
    """:func:`sorted_rows` in the form ``import_stream(rows, profile, columns=...)`` reads fastest.

    ``(columns, rows)``: for a CSV file whose header names every column the
    profile reads, the rows come as sequences of those cells (no dict per
    row) with ``columns`` naming them; otherwise ``columns`` is ``None`` and
    the rows are :func:`sorted_rows`' dicts. Either way the import reads the
    same values. With ``stream``, the cells of a CSV file already in ticket
    order are handed on as they are read (``sorted_entries(..., stream=True)``:
    ``OutOfOrder`` if a row of an earlier ticket comes after the first chunk).
    With ``numbered``, each row comes as ``(row number, row)``, numbered as
    the export's rows are (blank lines not counted), for
    ``import_stream(..., numbered=True)``.

    >>> from itsm_core.imports import PROFILES
    >>> rows = [{"number": "B", "x": "1"}, {"number": "A", "x": "2"}]
    >>> columns, ordered = sorted_cells(rows, PROFILES["servicenow_snapshot"])
    >>> columns, [row["number"] for row in ordered]
    (None, ['A', 'B'])
    >>> _, ordered = sorted_cells(rows, PROFILES["servicenow_snapshot"], numbered=True)
    >>> [(number, row["number"]) for number, row in ordered]
    [(2, 'A'), (1, 'B')]
    """
    if isinstance(rows, _CsvRows):
        wanted = tuple(dict.fromkeys(name for _, name in profile.columns))
        try:
            with rows.file.open(newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), None)
        except (OSError, UnicodeDecodeError, csv.Error):
            header = None  # the reading itself reports it
        if header is not None and all(name in header for name in wanted):
            column = profile.column("ticket_id") or ""
            return wanted, _sorted_csv(rows.file, wanted, column, chunk, None, stream, numbered)
    return None, _sorted_dicts(rows, profile, chunk, numbered)


def _sorted_csv(
    file: Path,
    wanted: tuple[str, ...],
    column: str,
    chunk: int,
    generic: Callable[[], Iterator[Any]] | None,
    stream: bool = False,
    numbered: bool = False,
) -> Iterator[Any]:
    """:func:`sorted_rows` of a CSV file, read as ``csv.reader`` reads it (``csv_rows``) when
    its header names every column the profile reads (else the rows ``csv.DictReader``
    reads, sorted as any rows).

    Each row is held as the text of those cells only, joined by a control
    character (a row with that character in a cell, or with too few cells,
    as :mod:`marshal` bytes of its cells), so the sort encodes nothing per
    row; the rows come back as the dicts ``csv.DictReader`` would have given.
    Without ``generic`` (:func:`sorted_cells`) they come back as the cells
    of the ``wanted`` columns, in that order. With ``numbered``, each as
    ``(number, row)``: its number among the export's rows, from 1.
    """
    if chunk < 1:
        raise InputError("--sort-chunk", f"expected a positive number of rows, got {chunk}")
    with file.open(newline="", encoding="utf-8-sig") as handle:
        lines = csv_rows(handle)  # csv.reader's rows; a line without quotes split directly
        header = next(lines, None)
        if header is not None and all(name in header for name in wanted):
            split, loads = _SEPARATOR, marshal.loads
            held_rows = _held_rows(lines, header, wanted, column)
            # the place of a held row is its number among the export's rows, from 0
            for place, held in sorted_entries(
                held_rows, chunk, _SPILL_BLOCK, stream=stream, numbered=True
            ):
                cells = held.split(split) if isinstance(held, str) else loads(held)
                row = cells if generic is None else dict(zip(wanted, cells))  # noqa: B905
                yield (place + 1, row) if numbered else row
            return
    if generic is None:  # pragma: no cover - sorted_cells read this header a moment before
        raise InputError(str(file), "the header changed while the export was read")
    yield from generic()


#: Joins the cells of a held CSV row (a row with this character in a cell is held as marshal).
_SEPARATOR = "\x1f"


def _held_rows(
    lines: Iterable[list[str]], header: list[str], wanted: tuple[str, ...], id_column: str
) -> Iterator[tuple[str, str | bytes]]:
    """(ticket id, held cells) of each CSV row, its cells as ``csv.DictReader`` reads them."""
    where = {name: i for i, name in enumerate(header)}  # the last of a repeated name
    places = [where[name] for name in wanted]
    get = operator.itemgetter(*places)
    need = max(places) + 1
    id_at = where.get(id_column)
    join, dumps, separator = _SEPARATOR.join, marshal.dumps, _SEPARATOR
    gaps = len(wanted) - 1  # the profile reads at least the ticket id, its time and its state
    for row in lines:
        if not row:
            continue  # a blank line, as csv.DictReader skips it
        size = len(row)
        raw = row[id_at] if id_at is not None and id_at < size else None
        ticket_id = raw.strip() if isinstance(raw, str) else ""
        if size >= need:
            cells = get(row)
            text = join(cells)
            yield ticket_id, text if text.count(separator) == gaps else dumps(cells)
        else:
            yield ticket_id, dumps(tuple([row[i] if i < size else None for i in places]))


#: Rows written to a temporary file per block (one ``marshal`` record each).
_SPILL_BLOCK = 1024


def _report(refused: Iterable[RefusedTicket], counts: ImportCounts, err: TextIO) -> None:
    for ticket in refused:
        where = f" row {ticket.row}" if ticket.row is not None else ""
        print(f"itsm-core: refused ticket {ticket.ticket_id}{where}: {ticket.reason}", file=err)
    for reason, count in counts.skipped:
        print(f"itsm-core: skipped {count} row(s): {reason}", file=err)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``itsm-core import``.

    The rows are grouped by ticket in bounded memory (the external sort the
    report uses; an export already in ticket order is read once, unsorted) and
    the histories written in ticket order. The events go to a temporary file
    beside the output (replacing it only when the import ends) or, for
    standard output, to a temporary file copied out at the end. With
    ``--sorted`` the rows are taken as grouped and streamed straight out.
    """
    if args.sort_chunk < 1:
        raise InputError(
            "--sort-chunk", f"expected a positive number of rows, got {args.sort_chunk}"
        )
    profile = read_profile(args.profile, args.timezone)

    def items(stream: bool) -> Iterator[History | RefusedTicket | ImportCounts]:
        rows = read_rows(args.export, profile)  # read anew for each pass
        if args.sorted:
            return import_stream(rows, profile)
        columns, ordered = sorted_cells(
            rows, profile, chunk=args.sort_chunk, stream=stream, numbered=True
        )
        return import_stream(ordered, profile, columns=columns, numbered=True)

    if args.sorted and not args.output:
        histories, refused, counts = _written(items(False), out)
    else:
        final = Path(args.output).resolve() if args.output else None
        if final is not None and not final.parent.is_dir():
            raise InputError("-o", f"no such directory: {final.parent}")
        if final is not None and final == Path(args.export).resolve():
            raise InputError("-o", "expected another file than the export itself")
        # a regular file (or a new one) is replaced whole; a device or a pipe is written to
        replaced = final if final is not None and (final.is_file() or not final.exists()) else None
        spool = tempfile.NamedTemporaryFile(  # noqa: SIM115 - replaced or removed below
            "w+",
            encoding="utf-8",
            dir=None if replaced is None else replaced.parent,
            prefix=".itsm-import-",
            delete=False,
        )
        try:
            with spool:
                try:
                    histories, refused, counts = _written(items(not args.sorted), spool)
                except OutOfOrder:  # not in ticket order after all: sorted, from the start
                    spool.seek(0)
                    spool.truncate()
                    histories, refused, counts = _written(items(False), spool)
                if replaced is None:
                    spool.seek(0)
                    if final is None:
                        shutil.copyfileobj(spool, out)
                    else:
                        with final.open("w", encoding="utf-8") as sink:
                            shutil.copyfileobj(spool, sink)
            if replaced is not None:
                os.chmod(spool.name, _mode_of(replaced))
                os.replace(spool.name, replaced)
        finally:
            Path(spool.name).unlink(missing_ok=True)
    err = sys.stderr
    _report(refused, counts, err)
    print(
        f"itsm-core: {counts.rows} rows, {histories} tickets imported, {len(refused)} refused, "
        f"{counts.skipped_rows} rows skipped, {counts.unchanged_rows} unchanged, "
        f"{counts.priority_mismatches} priorities the matrix does not derive",
        file=err,
    )
    return EXIT_INVALID if refused or (not histories and counts.rows) else EXIT_OK


def _mode_of(path: Path) -> int:
    """The permissions ``path`` has, or those ``open(path, "w")`` would give a new file."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _written(
    items: Iterable[History | RefusedTicket | ImportCounts], target: IO[str]
) -> tuple[int, list[RefusedTicket], ImportCounts]:
    """Write each history's events to ``target``: (histories, refused tickets, counts)."""
    histories = 0
    refused: list[RefusedTicket] = []
    counts: ImportCounts | None = None
    for item in items:
        if isinstance(item, History):
            histories += 1
            _write(item, target)
        elif isinstance(item, RefusedTicket):
            refused.append(item)
        else:
            counts = item
    assert counts is not None  # import_stream ends with its counts
    return histories, refused, counts


def _write(history: History, target: IO[str]) -> None:
    for event in history:
        target.write(json.dumps(encode_event(event), ensure_ascii=False) + "\n")


def add_parser(commands: Any) -> None:
    """Add ``import`` to the sub-commands."""
    command = commands.add_parser(
        "import", help="turn a ticket system's export into events (JSON Lines) through a profile"
    )
    command.add_argument(
        "profile", help=f"a built-in profile ({', '.join(PROFILES)}) or a profile TOML file"
    )
    command.add_argument("export", help="the export: CSV, JSON Lines of rows, Jira or Zammad JSON")
    command.add_argument("-o", "--output", help="where to write the events (default: stdout)")
    command.add_argument(
        "--timezone", metavar="ZONE", help="the IANA zone of the export's naive timestamps"
    )
    command.add_argument(
        "--sorted",
        action="store_true",
        help="the export's rows are grouped by ticket: stream them out as read, unsorted",
    )
    command.add_argument(
        "--sort-chunk",
        type=int,
        default=50_000,
        metavar="N",
        help="group tickets by sorting N rows at a time in temporary files (default 50000)",
    )
    command.set_defaults(run=run)
