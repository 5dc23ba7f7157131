"""The report's external sort: spilled to temporary files, it gives what sorting in memory gives."""

from __future__ import annotations

import csv
import functools
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.cli._common import OutOfOrder, csv_rows, sorted_by_ticket, sorted_entries
from itsm_core.cli.imports import read_rows, sorted_cells, sorted_rows
from itsm_core.imports import PROFILES, ImportCounts, RefusedTicket, import_rows, import_stream
from itsm_core.lifecycle import History

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "servicenow" / "incident_event_log_sample.csv"
SNOW = PROFILES["servicenow_snapshot"]

#: Plain values of every kind, flat (a recursive strategy costs more than the test).
PLAIN = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.lists(st.integers() | st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers() | st.none(), max_size=2),
)


@given(
    st.lists(st.tuples(st.sampled_from("ABCDE"), PLAIN), max_size=16),
    st.integers(min_value=3, max_value=20),
)
def test_the_spilled_sort_equals_a_stable_sort_in_memory(
    items: list[tuple[str, Any]], chunk: int
) -> None:
    spilled = list(
        sorted_by_ticket(items, lambda item: item[0], dump=list, load=tuple, chunk=chunk)
    )
    assert spilled == sorted(items, key=lambda item: item[0])


@given(
    st.lists(st.tuples(st.sampled_from("ABCDE"), st.integers()), max_size=16),
    st.integers(min_value=1, max_value=5),
    st.data(),
)
def test_streaming_an_input_in_ticket_order_gives_the_sort_or_says_it_was_not(
    items: list[tuple[str, int]], chunk: int, data: st.DataObject
) -> None:
    # In ticket order (a report of the import's output, an export sorted by number), maybe
    # with one entry moved out of it: handed on as read, or OutOfOrder after the first chunk.
    entries = sorted(items, key=lambda item: item[0])
    if len(entries) > 1 and data.draw(st.booleans()):
        entries.insert(data.draw(st.integers(0, len(entries) - 1)), entries.pop())
    expected = list(sorted_entries(entries, chunk))
    assert expected == [n for _, n in sorted(entries, key=lambda item: item[0])]
    places = sorted(enumerate(entries), key=lambda item: item[1][0])
    numbered_expected = [(i, n) for i, (_, n) in places]
    assert list(sorted_entries(entries, chunk, numbered=True)) == numbered_expected
    for numbered in (False, True):
        handed: list[Any] = []
        try:
            for found in sorted_entries(entries, chunk, stream=True, numbered=numbered):
                handed.append(found)
        except OutOfOrder:
            assert entries != sorted(entries, key=lambda item: item[0])
            assert len(handed) >= chunk  # only once the first chunk was handed on
            as_read = list(enumerate(n for _, n in entries))[: len(handed)]
            assert handed == (as_read if numbered else [n for _, n in as_read])
        else:
            assert handed == (numbered_expected if numbered else expected)


@functools.cache
def _tickets() -> dict[str, list[dict[str, str]]]:
    if not SAMPLE.exists():  # pragma: no cover - the shared sample sits beside the repo
        pytest.skip(f"the shared ServiceNow sample is not at {SAMPLE}")
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_ticket: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_ticket.setdefault(row["number"], []).append(row)
    return by_ticket


def _outcome(items: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """Histories and refusals by ticket, and the counts (the order of tickets aside)."""
    found: dict[str, Any] = {}
    counts: tuple[Any, ...] = ()
    for item in items:
        if isinstance(item, History):
            found[item.ticket.id] = tuple(item)
        elif isinstance(item, RefusedTicket):
            found[item.ticket_id] = (item.reason, item.events)
        else:
            assert isinstance(item, ImportCounts)
            counts = (item.rows, item.skipped, item.unchanged_rows, item.priority_mismatches)
    return found, counts


def _drawn_rows(data: st.DataObject) -> tuple[list[str], list[dict[str, str]]]:
    """One to three tickets of the shared sample, and their rows in a drawn order."""
    by_ticket = _tickets()
    chosen = data.draw(
        st.lists(st.sampled_from(sorted(by_ticket)), min_size=1, max_size=3, unique=True),
        label="tickets",
    )
    rows = data.draw(st.permutations([row for t in chosen for row in by_ticket[t]]), label="order")
    return chosen, rows


#: Each example imports a few tickets twice: a tenth of the profile's examples.
@settings(max_examples=max(10, settings().max_examples // 10))
@given(st.data())
def test_an_export_sorted_through_temporary_files_imports_as_the_whole_export_in_memory(
    data: st.DataObject,
) -> None:
    chosen, rows = _drawn_rows(data)
    if data.draw(st.booleans(), label="a row without a ticket id"):
        rows.insert(0, {**rows[0], "number": "?"})
    chunk = data.draw(st.integers(min_value=1, max_value=8), label="chunk")
    spilled, spilled_counts = _outcome(import_stream(sorted_rows(rows, SNOW, chunk=chunk), SNOW))
    result = import_rows(rows, SNOW)
    whole, _ = _outcome([*result.histories, *result.refused])
    assert spilled == whole
    assert set(spilled) == set(chosen)
    assert spilled_counts == (
        result.rows,
        result.skipped,
        result.unchanged_rows,
        result.priority_mismatches,
    )


def _refusals(items: Iterable[Any]) -> dict[str, tuple[int | None, str]]:
    return {r.ticket_id: (r.row, r.reason) for r in items if isinstance(r, RefusedTicket)}


#: Each example imports a few tickets three times: a tenth of the profile's examples.
@settings(max_examples=max(10, settings().max_examples // 10))
@given(st.data())
def test_numbered_rows_sorted_through_temporary_files_keep_the_export_row_numbers(
    data: st.DataObject,
) -> None:
    # A refused ticket names the row of the export where it broke, however the sort
    # moved the rows: CSV cells and rows as dicts, numbered, import as the export whole.
    _, rows = _drawn_rows(data)
    for place in data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=2), label="bad"):
        rows[place] = {**rows[place], "incident_state": "Parked"}  # no state of the profile
    if data.draw(st.booleans(), label="a row without a ticket id"):
        rows.insert(data.draw(st.integers(0, len(rows))), {**rows[0], "number": "?"})
    chunk = data.draw(st.integers(min_value=1, max_value=8), label="chunk")
    stream = data.draw(st.booleans(), label="stream")
    result = import_rows(rows, SNOW)
    whole, _ = _outcome([*result.histories, *result.refused])
    expected = _refusals(result.refused)
    assert all(row is not None for row, _ in expected.values())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        for source in (read_rows(str(path), SNOW), rows):
            try:
                columns, ordered = sorted_cells(
                    source, SNOW, chunk=chunk, stream=stream, numbered=True
                )
                items = list(import_stream(ordered, SNOW, columns=columns, numbered=True))
            except OutOfOrder:
                assert stream
                continue
            assert _outcome(items)[0] == whole
            assert _refusals(items) == expected


@settings(max_examples=20)
@given(st.integers(min_value=1, max_value=5))
def test_a_row_without_a_column_of_the_profile_is_held_whole_so_the_import_names_it(
    chunk: int,
) -> None:
    row = dict(next(iter(_tickets().values()))[0])
    del row["incident_state"]
    (held,) = sorted_rows([row], SNOW, chunk=chunk)
    assert held == row
    with pytest.raises(Exception, match="incident_state"):
        list(import_stream([held], SNOW))


#: CSV text of the characters that matter to the reader (quotes, line ends, NUL, commas).
CSV_TEXT = st.text(alphabet=st.sampled_from(["a", "b", " ", ",", '"', "\r", "\n", "\0"]))


def _rows(read: Callable[[Iterable[str]], Iterator[list[str]]], text: str) -> Any:
    """The rows ``read`` gives of ``text`` as a file opened with ``newline=""``, or its error."""
    try:
        return ("rows", list(read(io.StringIO(text, newline=""))))
    except csv.Error as exc:
        return ("error", str(exc))


@settings(max_examples=max(500, settings().max_examples))
@given(CSV_TEXT)
def test_csv_rows_gives_the_rows_and_errors_of_csv_reader(text: str) -> None:
    assert _rows(csv_rows, text) == _rows(csv.reader, text)


@pytest.mark.parametrize("text", ["abcdefgh,a\n", "a,b\nabc,abcdefgh\r\n", "a\n\n" + "b" * 9])
def test_csv_rows_leaves_a_line_longer_than_the_field_limit_to_the_reader(text: str) -> None:
    before = csv.field_size_limit(5)
    try:
        expected = _rows(csv.reader, text)
        assert expected[0] == "error"
        assert _rows(csv_rows, text) == expected
    finally:
        csv.field_size_limit(before)
