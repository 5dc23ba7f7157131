"""What every command shares: exit codes, input errors, reading desks, events and instants."""

from __future__ import annotations

import argparse
import csv
import heapq
import io
import json
import marshal
import operator
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, BinaryIO, TextIO, TypeVar

import pendulum

from itsm_core.errors import ConfigurationError, ItsmError
from itsm_core.serialization import (
    Desk,
    decode_event,
    decode_event_row,
    load_desk,
    parse_document,
)
from itsm_core.ticket import Event

__all__ = [
    "EXIT_ERROR",
    "EXIT_INVALID",
    "EXIT_OK",
    "HISTORY_INDEX",
    "InputError",
    "OutOfOrder",
    "Progress",
    "add_event_input",
    "by_ticket",
    "column_map",
    "csv_rows",
    "group_by_ticket",
    "in_ticket_order",
    "in_time_order",
    "json_loads",
    "parse_instant",
    "progress_bar",
    "read_desk",
    "read_event_pairs",
    "read_events",
    "read_spilled",
    "sorted_by_ticket",
    "sorted_entries",
    "spill",
    "tell_skipped",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INVALID = 2

#: The start of the path a metric's error names (``histories[3][7].rating``): the place
#: of the history in the list the metric was given, for a command to name its ticket.
HISTORY_INDEX = re.compile(r"^histories\[(\d+)\]")

_orjson_loads: Callable[[str], Any] | None
try:  # the ``fast`` extra: orjson parses a line several times faster than the stdlib
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - the dev and CI environments install the extra
    _orjson_loads = None


def floatless(value: Any) -> bool:
    """Whether a parsed JSON value holds no float (orjson reads big integers as floats)."""
    kind = type(value)
    if kind is float:
        return False
    if kind is dict:
        value = value.values()
    elif kind is not list:
        return True
    for item in value:
        kind = type(item)
        if kind is float or ((kind is dict or kind is list) and not floatless(item)):
            return False
    return True


def _fast_json_loads(text: str) -> Any:
    """``json.loads``'s answer, through orjson where both parse the same.

    orjson reads integers beyond 64 bits as floats and refuses NaN, lone
    surrogates and deep nesting: a line whose value holds a float, and every
    line orjson refuses, is read again by the standard library, so values and
    error messages are exactly its own.
    """
    try:
        value = _orjson_loads(text)  # type: ignore[misc]
    except ValueError:
        return json.loads(text)
    return value if floatless(value) else json.loads(text)


#: How the commands read a JSON line: ``json.loads``, through orjson when installed.
json_loads: Callable[[str], Any] = json.loads if _orjson_loads is None else _fast_json_loads


class InputError(ItsmError, ValueError):
    """A problem with a file the command reads: printed as ``FILE:LINE: message``.

    ``status`` is the exit status: 2 (invalid input) by default, 1 for a file
    that cannot be read at all (missing, unreadable).
    """

    def __init__(self, where: str, message: str, *, status: int = EXIT_INVALID) -> None:
        self.status = status
        super().__init__(f"{where}: {message}")


def _unreadable(path: str, exc: OSError) -> InputError:
    return InputError(path, exc.strerror or str(exc), status=EXIT_ERROR)


def read_desk(path: str) -> Desk:
    """Load a desk document from TOML or JSON; problems name the file and the field path."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        document = parse_document(raw, format="json" if path.endswith(".json") else "toml")
        return load_desk(document)
    except ConfigurationError as exc:
        raise InputError(
            path,
            "\n".join([f"{len(exc.problems)} problem(s)"] + [f"{path}: {p}" for p in exc.problems]),
        ) from None


def column_map(pairs: Sequence[str]) -> dict[str, str]:
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
    pairs = read_event_pairs(
        path, fmt=fmt, columns=columns, skip_bad=skip_bad, counts=counts, progress=progress
    )
    return (event for event, _ in pairs)


def read_event_pairs(
    path: str,
    *,
    fmt: str,
    columns: Mapping[str, str],
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[Event, dict[str, Any]]]:
    """:func:`read_events`, each event with the plain data it was decoded from.

    The data is the line's JSON object or the CSV row, with ``columns``
    applied: what the external sort holds, decoded again (with
    ``decode_event`` or ``decode_event_row``) after it, instead of encoding
    every event anew.
    """
    try:
        # utf-8-sig: a byte-order mark (Excel's CSV) is skipped, not read into the first column
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by _events
    except OSError as exc:
        raise _unreadable(path, exc) from None
    return _events(handle, path, fmt, columns, skip_bad, counts, progress)


def decode_lines(
    lines: Iterable[str], where: str, *, skip_bad: bool, counts: dict[str, int]
) -> Iterator[Event]:
    """The events of JSON Lines already read (a Dask partition), with read_events' checks.

    ``where`` names the input in messages; bad lines are counted in ``counts`` as
    :func:`read_events` counts them.
    """
    text = "\n".join(line.rstrip("\n") for line in lines)
    pairs = _events(io.StringIO(text), where, "jsonl", {}, skip_bad, counts, None)
    return (event for event, _ in pairs)


#: The event fields every input must carry, and what each one holds.
REQUIRED_COLUMNS = {
    "event": "the kind of each event, such as ticket_opened or state_changed",
    "ticket_id": "the ticket each event belongs to",
    "at": "when each event happened, an instant with an offset",
}


def _missing_column(path: str, number: int, found: Iterable[str], field: str) -> InputError:
    """An input without one of the event fields: name it and the options that fix it."""
    seen = sorted(found)
    shown = ", ".join(seen[:12]) + (", ..." if len(seen) > 12 else "")
    return InputError(
        f"{path}:{number}",
        f"no {field!r} column ({REQUIRED_COLUMNS[field]}); found {shown or 'no columns'}. "
        f"Name the column that holds it with --map COLUMN={field}, or read a ticket "
        "system's own export with --profile (servicenow_snapshot, servicenow_audit, "
        "jira_changelog, zammad_history, glpi_history or a profile TOML file)",
    )


def _events(
    handle: TextIO,
    path: str,
    fmt: str,
    columns: Mapping[str, str],
    skip_bad: bool,
    counts: dict[str, int],
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[Event, dict[str, Any]]]:
    loads = json_loads
    with handle:
        rows: Iterator[tuple[int, str | dict[str, str] | csv.Error]]
        if fmt == "csv":
            rows = _csv_rows(csv.DictReader(handle), columns)
        else:
            rows = enumerate(handle, start=1)
        read = 0
        for number, item in _decoded(rows, path):
            if isinstance(item, csv.Error):
                if not skip_bad:
                    raise InputError(f"{path}:{number}", f"not a CSV row: {item}")
                counts["bad"] = counts.get("bad", 0) + 1
                counts.setdefault("first_bad", number)
                continue
            if progress is not None and isinstance(item, str):
                read += len(item.encode("utf-8"))
                progress(read)
            try:
                if isinstance(item, str):
                    if not item.strip():
                        continue
                    data = loads(item)
                    if isinstance(data, dict) and columns:
                        data = {columns.get(k, k): v for k, v in data.items()}
                    if isinstance(data, dict):
                        for field in REQUIRED_COLUMNS:
                            if field not in data:
                                raise _missing_column(path, number, data, field)
                    yield decode_event(data), data
                else:
                    for field in REQUIRED_COLUMNS:
                        if field not in item:
                            raise _missing_column(path, number, item, field)
                    yield decode_event_row(item), item
            except InputError:
                if not skip_bad:
                    raise
                counts["bad"] = counts.get("bad", 0) + 1
                counts.setdefault("first_bad", number)
            except (ValueError, ConfigurationError, RecursionError) as exc:
                message = (
                    "; ".join(str(p) for p in exc.problems)
                    if isinstance(exc, ConfigurationError)
                    else "not a JSON object: nested too deeply"
                    if isinstance(exc, RecursionError)
                    else f"not a JSON object: {exc}"
                )
                if not skip_bad:
                    raise InputError(f"{path}:{number}", message) from None
                counts["bad"] = counts.get("bad", 0) + 1
                counts.setdefault("first_bad", number)


def _csv_rows(
    reader: csv.DictReader[str], columns: Mapping[str, str]
) -> Iterator[tuple[int, dict[str, str] | csv.Error]]:
    # A row the csv module refuses (a cell over its field limit) is reported as a bad row
    # with its line; the reader goes on with the next one.
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num + 1, exc  # the refused line is not counted yet
            continue
        yield reader.line_num, {columns.get(k, k): v for k, v in row.items() if k is not None}


def _decoded(rows: Iterator[tuple[int, Any]], path: str) -> Iterator[tuple[int, Any]]:
    # Text that is not UTF-8 stops the run with the file named, never a traceback.
    try:
        yield from rows
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8",
        ) from None


def in_time_order(events: Iterable[Event]) -> list[Event]:
    """A ticket's events in time order; events at the same instant keep their input order.

    Every command that reads an export of events orders a ticket's events so.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.ticket import CommentAdded
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> def said(body, minutes):
    ...     return CommentAdded(ticket_id="T", actor="a", at=at + timedelta(minutes=minutes),
    ...                         body=body, public=True, by_requester=False)
    >>> [e.body for e in in_time_order([said("b", 5), said("a", 0), said("c", 5)])]
    ['a', 'b', 'c']
    """
    return sorted(events, key=_at)


def _at(event: Event) -> datetime:
    return event.at


def tell_skipped(
    where: str, counts: Mapping[str, int], skip_bad: bool, tickets: int, err: TextIO
) -> int:
    """Say on ``err`` how many bad lines were skipped (always, with ``--skip-bad``); the exit
    status: ``EXIT_INVALID`` when lines were bad and no ticket was read, else ``EXIT_OK``.

    ``counts`` holds ``bad`` and ``first_bad`` (the first bad line) as the readings fill it.

    >>> import sys
    >>> tell_skipped("x.jsonl", {"bad": 2, "first_bad": 7}, True, 3, sys.stdout)
    itsm-core: x.jsonl: skipped 2 bad line(s), the first at line 7
    0
    """
    bad = counts.get("bad", 0)
    if skip_bad or bad:
        first = f", the first at line {counts['first_bad']}" if "first_bad" in counts else ""
        print(f"itsm-core: {where}: skipped {bad} bad line(s){first}", file=err)
    if bad and not tickets:
        print(f"itsm-core: {where}: no good line, nothing to report", file=err)
        return EXIT_INVALID
    return EXIT_OK


def group_by_ticket(events: Iterable[Event]) -> Iterator[list[Event]]:
    """Consecutive events of one ticket as one history, holding one ticket at a time.

    Nothing remembers the tickets already seen, so memory stays flat; a ticket
    whose events come back later starts a history without its opening. The
    report therefore puts its input through :func:`sorted_by_ticket` first.
    """
    history: list[Event] = []
    for event in events:
        if history and event.ticket_id != history[-1].ticket_id:
            yield history
            history = []
        history.append(event)
    if history:
        yield history


def sorted_by_ticket(
    items: Iterable[Any],
    key: Callable[[Any], str],
    *,
    dump: Callable[[Any], Any],
    load: Callable[[Any], Any],
    chunk: int = 50_000,
    numbered: bool = False,
) -> Iterator[Any]:
    """``items`` ordered by ``key`` (the ticket id), stable, in bounded memory.

    An external sort: ``dump`` turns each item into plain data (text,
    numbers, booleans, ``None``, lists, tuples and dicts of them), held as
    compact bytes (:mod:`marshal`), up to ``chunk`` items at a time; ``load``
    turns the plain data back into the item. When the input is larger than
    one chunk, each sorted chunk is written to a temporary file in blocks and
    the files are merged with :func:`heapq.merge`. Items of one ticket keep
    their input order. The temporary files are removed when the iterator
    ends or is closed. With ``numbered``, each comes as ``(place, item)``: its
    place in the input, from 0.

    >>> rows = [{"id": "B", "n": 1}, {"id": "A", "n": 2}, {"id": "B", "n": 3}]
    >>> [row["n"] for row in sorted_by_ticket(
    ...     rows, lambda row: row["id"], dump=dict, load=dict, chunk=2)]
    [2, 1, 3]
    """
    dumps, loads = marshal.dumps, marshal.loads
    held = ((key(item), dumps(dump(item))) for item in items)
    if numbered:
        for place, data in sorted_entries(held, chunk, numbered=True):
            yield place, load(loads(data))
    else:
        for data in sorted_entries(held, chunk):
            yield load(loads(data))


#: The ticket of a held entry ``(ticket, sequence, ...)``: chunks sort on it alone (stable),
#: which keeps the input order the sequence numbers give, at a fraction of a tuple sort's cost.
by_ticket = operator.itemgetter(0)

#: Entries written to a temporary file per block (one ``marshal`` record each).
_SPILL_BLOCK = 512


def spill(entries: list[tuple[Any, ...]], block: int = _SPILL_BLOCK) -> BinaryIO:
    """One chunk of an external sort in a temporary file, sorted by ticket (stable).

    ``entries`` are ``(ticket, sequence, ...)`` of plain data (:mod:`marshal`),
    sorted in place on the ticket alone and written ``block`` at a time;
    :func:`read_spilled` reads them back in order. The caller closes the file.
    """
    entries.sort(key=by_ticket)  # by ticket, stable: input order within a ticket
    handle = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - closed by the caller
    for start in range(0, len(entries), block):
        data = marshal.dumps(entries[start : start + block])
        handle.write(len(data).to_bytes(8, "little"))
        handle.write(data)
    handle.seek(0, os.SEEK_SET)
    return handle


def read_spilled(handle: BinaryIO) -> Iterator[tuple[Any, ...]]:
    """The entries :func:`spill` wrote, in their order."""
    while True:
        head = handle.read(8)
        if not head:
            return
        yield from marshal.loads(handle.read(int.from_bytes(head, "little")))


def csv_rows(handle: Iterable[str]) -> Iterator[list[str]]:
    """The rows ``csv.reader(handle)`` gives (default dialect), splitting simple lines itself.

    ``handle`` is text read with ``newline=""``. A line with no quote, no NUL,
    no carriage return but its own line end, and no longer than the reader's
    field limit is split at its commas; any other line is handed to
    ``csv.reader``, with the lines that continue its record (a quoted field may
    hold line ends), so the rows and errors are the reader's.

    >>> list(csv_rows(["a,b\\r\\n", "\\r\\n", '"x\\n', 'y",z\\n', "c,\\n"]))
    [['a', 'b'], [], ['x\\ny', 'z'], ['c', '']]
    """
    lines = iter(handle)
    pending: list[str] = []

    def fed() -> Iterator[str]:  # a line handed back, then the rest of the record's lines
        while True:
            if pending:
                yield pending.pop()
            else:
                line = next(lines, None)
                if line is None:
                    return
                yield line

    reader = csv.reader(fed())
    limit = csv.field_size_limit()  # a longer line may hold a field the reader refuses
    for line in lines:
        if line.endswith("\r\n"):
            body = line[:-2]
        elif line.endswith(("\n", "\r")):
            body = line[:-1]
        else:
            body = line
        if '"' in body or "\r" in body or "\0" in body or "\n" in body or len(body) > limit:
            pending.append(line)
            row = next(reader, None)
            if row is not None:
                yield row
        else:
            yield body.split(",") if body else []  # a blank line: an empty row, as the reader's


class OutOfOrder(ItsmError, ValueError):
    """An entry of an earlier ticket came after :func:`sorted_entries` began handing the
    input on as it was read (``stream=True``): the caller reads the input again, sorted.

    >>> print(OutOfOrder("A", "C"))
    ticket 'A' came after ticket 'C': the input is not in ticket order
    """

    def __init__(self, ticket: str, after: str) -> None:
        super().__init__(
            f"ticket {ticket!r} came after ticket {after!r}: the input is not in ticket order"
        )


_Entry = TypeVar("_Entry", bound=tuple[Any, ...])


def in_ticket_order(entries: Iterable[_Entry], last: str) -> Iterator[_Entry]:
    """``(ticket, ...)`` entries as they come, while each one's ticket is at or after the
    one before (``last`` before the first); :class:`OutOfOrder` at the first that is not.

    >>> list(in_ticket_order([("B", 1), ("B", 2), ("C", 3)], "A"))
    [('B', 1), ('B', 2), ('C', 3)]
    """
    for entry in entries:
        ticket = entry[0]
        if ticket < last:
            raise OutOfOrder(ticket, last)
        last = ticket
        yield entry


def sorted_entries(
    entries: Iterable[tuple[str, Any]],
    chunk: int,
    block: int = _SPILL_BLOCK,
    *,
    stream: bool = False,
    numbered: bool = False,
) -> Iterator[Any]:
    """The data of ``(ticket, data)`` entries ordered by ticket, stable, in bounded memory.

    The external sort itself: ``chunk`` entries at a time are held, each full
    chunk sorted and spilled (:func:`spill`, ``block`` entries per record), and
    the files merged with :func:`heapq.merge`; an input of one chunk is sorted
    in memory. ``data`` must be plain (:mod:`marshal`). The temporary files are
    removed when the iterator ends or is closed.

    With ``stream``, an input whose first chunk is already in ticket order is
    not sorted: its data is handed on as it is read (nothing held, nothing
    spilled), and an entry of an earlier ticket after that chunk raises
    :class:`OutOfOrder`, for a caller that can take back what it was handed.
    With ``numbered``, each comes as ``(place, data)``: its entry's place in
    the input, from 0.

    >>> list(sorted_entries([("B", 1), ("A", 2), ("B", 3)], chunk=2))
    [2, 1, 3]
    >>> list(sorted_entries([("B", "x"), ("A", "y"), ("B", "z")], chunk=2, numbered=True))
    [(1, 'y'), (0, 'x'), (2, 'z')]
    >>> list(sorted_entries([("A", 1), ("B", 2), ("B", 3), ("C", 4)], chunk=2, stream=True))
    [1, 2, 3, 4]
    >>> list(sorted_entries([("A", 1), ("B", 2), ("C", 3), ("A", 4)], chunk=2, stream=True))
    Traceback (most recent call last):
    ...
    itsm_core.cli._common.OutOfOrder: ticket 'A' came after ticket 'C': the input is not in \
ticket order
    """
    if chunk < 1:
        raise InputError("--sort-chunk", f"expected a positive number of rows, got {chunk}")
    buffer: list[tuple[str, int, Any]] = []
    files: list[BinaryIO] = []
    try:
        source = iter(entries)
        places = enumerate(source)
        last = ""
        for seq, (ticket, data) in places if stream else ():
            if ticket < last:  # not in ticket order: sorted, as any input
                buffer.append((ticket, seq, data))
                break
            last = ticket
            if len(buffer) >= chunk:  # a whole chunk in ticket order: handed on as read
                if numbered:
                    yield from ((place, held) for _, place, held in buffer)
                    buffer = []
                    yield seq, data
                    read_on = enumerate(in_ticket_order(source, last), seq + 1)
                    yield from ((place, data) for place, (_, data) in read_on)
                    return
                yield from (held for _, _, held in buffer)
                buffer = []
                yield data
                for _, data in in_ticket_order(source, last):  # the same entries, read on
                    yield data
                return
            buffer.append((ticket, seq, data))
        for seq, (ticket, data) in places:
            buffer.append((ticket, seq, data))
            if len(buffer) >= chunk:
                files.append(spill(buffer, block))
                buffer = []
        if files and buffer:
            files.append(spill(buffer, block))
            buffer = []
        buffer.sort(key=by_ticket)  # by ticket, stable: input order within a ticket
        merged: Iterable[tuple[str, int, Any]] = (
            heapq.merge(*(read_spilled(handle) for handle in files)) if files else buffer
        )
        if numbered:
            for _, place, data in merged:
                yield place, data
        else:
            for _, _, data in merged:
                yield data
    finally:
        for handle in files:
            handle.close()


def parse_instant(text: str, field: str) -> pendulum.DateTime:
    """An aware instant from ISO 8601; a time without an offset is refused, never guessed."""
    expected = "expected an ISO 8601 instant with an offset, such as 2026-03-06T16:00+03:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{expected}, got {text!r}") from None
    if value.tzinfo is None:
        raise InputError(field, f"{expected}, got {text!r} (no offset)")
    return pendulum.instance(value)


def add_event_input(command: argparse.ArgumentParser) -> None:
    """The options of every command that reads an export of events."""
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


class Progress:
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


class _RichProgress:
    """The progress bar drawn by ``rich`` (the ``cli`` extra): bar, percent, rate, time left."""

    def __init__(self, total: int, err: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as Bar

        self.total = max(total, 1)
        self.bar = Bar(
            TextColumn("reading"),
            BarColumn(),
            TaskProgressColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=err),
        )
        self.task = self.bar.add_task("reading", total=self.total)
        self.bar.start()
        self.done = False
        # The bar moves in steps of a thousandth: updating it for every line read cost
        # about a third of what decoding the line costs.
        self.step = max(self.total // 1000, 1)
        self.next = 0

    def __call__(self, done: int) -> None:
        if done < self.next and done < self.total:
            return
        self.next = done + self.step
        self.bar.update(self.task, completed=min(done, self.total))
        if done >= self.total and not self.done:
            self.done = True
            self.bar.stop()


def progress_bar(total: int, err: TextIO) -> Callable[[int], None]:
    """A progress bar on ``err`` over ``total`` bytes: ``rich``'s when installed, else plain."""
    try:
        import rich.progress  # noqa: F401
    except ImportError:
        return Progress(total, err)
    return _RichProgress(total, err)
