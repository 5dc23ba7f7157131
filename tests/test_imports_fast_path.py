"""The fast path of snapshot imports agrees with the general path, row for row.

``import_snapshot`` and ``import_stream`` read a snapshot export through a fast
path (rows projected to tuples of the mapped cells, cells converted once, the
diff on the ticket's facts without folding a ticket per event).
``_import_snapshot_reference`` and ``_import_stream_reference`` are the general
path alone: rows as dicts, a ticket folded event by event. On random snapshot
exports -- unknown states, bad and missing timestamps and sequences, rows out
of order or back in time, tickets whose rows are not together, skipped rows,
cells that are not text, rows given as sequences with their header (short
rows and blank rows included) -- both give identical histories, identical
refusals (reason, row, event, the events built before it) and identical
counts. The report's external sort of a CSV file agrees with the sort of the
rows ``csv.DictReader`` reads.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.cli.imports import read_rows, sorted_rows
from itsm_core.errors import InvalidValueError
from itsm_core.imports import PROFILE_DATA, PROFILES, import_snapshot, import_stream
from itsm_core.imports import profile_from_dict as from_dict
from itsm_core.imports._core import (
    _import_snapshot_reference,
    _import_stream_reference,
    _Rules,
    profile_lifecycle,
)
from itsm_core.imports._profile import _strptime
from itsm_core.testing._memo import memoized, sampled
from itsm_core.ticket import StateChanged

SNOW = PROFILES["servicenow_snapshot"]
HEADER = [
    "number",
    "incident_state",
    "sys_updated_at",
    "sys_updated_by",
    "sys_mod_count",
    "opened_at",
    "opened_by",
    "caller_id",
    "assignment_group",
    "assigned_to",
    "impact",
    "urgency",
    "priority",
    "category",
    "cmdb_ci",
    "closed_code",
    "u_symptom",
    "hold",
]


def _variant(**changes: Any) -> Any:
    data = dict(PROFILE_DATA["servicenow_snapshot"])
    data.update(changes)
    return from_dict(data)


_COLUMNS = dict(PROFILE_DATA["servicenow_snapshot"]["columns"])
#: Profiles the exports are read with: the built-in one, one counting every move, one
#: without a sequence column (rows ordered by their instant), one with constants for facts
#: it has no column for, and one reading the title (a free-text column).
PROFILE_CHOICES = (
    SNOW,
    attrs.evolve(SNOW, reassignments="any"),
    _variant(columns={k: v for k, v in _COLUMNS.items() if k != "sequence"}),
    _variant(
        columns={k: v for k, v in _COLUMNS.items() if k not in ("category", "actor")},
        constants={"category": "Network", "actor": "importer"},
    ),
    _variant(columns={**_COLUMNS, "title": "u_symptom"}),
    _variant(columns={k: v for k, v in _COLUMNS.items() if k != "priority"}),
    _variant(
        columns={**_COLUMNS, "hold_reason": "hold"},
        values={
            **PROFILE_DATA["servicenow_snapshot"]["values"],
            "state": {
                **PROFILE_DATA["servicenow_snapshot"]["values"]["state"],
                "On Hold": "on_hold",
            },
            "hold_reason": {"Caller": "awaiting_caller", "Vendor": "awaiting_vendor", "-": ""},
        },
    ),
)

CELLS: dict[str, tuple[Any, ...]] = {
    "number": ("INC1", "INC2", "INC3", " INC1 ", "", "?"),
    "incident_state": (
        "New",
        "Active",
        "In Progress",
        "Awaiting User Info",
        "Awaiting Vendor",
        "Resolved",
        "Closed",
        "Canceled",
        "On Hold",
        "Parked",
        "?",
    ),
    "sys_updated_at": (
        "1/3/2016 09:00",
        "1/3/2016 10:30",
        "2/3/2016 08:00",
        "29/2/2016 23:59",
        "2016-03-03 12:00:00",
        "yesterday",
        "",
        " 1/3/2016 09:00 ",
    ),
    "sys_updated_by": ("ann", "dan", "carl", "?", ""),
    "sys_mod_count": ("0", "1", "2", "3", "-1", " 4 ", "x", "--1", "", 2),
    "opened_at": ("1/3/2016 08:55", "2/3/2016 09:00", "?", "bad"),
    "opened_by": ("ann", "dan", "?"),
    "caller_id": ("carl", "ann", "?"),
    "assignment_group": ("Desk", "Net", "?", ""),
    "assigned_to": ("ann", "dan", "?"),
    "impact": ("1 - High", "2 - Medium", "3 - Low", "?", "9 - Odd", None),
    "urgency": ("1 - High", "2 - Medium", "3 - Low", "?"),
    "priority": ("1 - Critical", "2 - High", "3 - Moderate", "4 - Low", "?"),
    "category": ("Network", "Mail", "?"),
    "cmdb_ci": ("?", "mail-01"),
    "closed_code": ("code 1", "code 2", "?"),
    "u_symptom": ("No mail", "Slow", "?", ""),
    "hold": ("Caller", "Vendor", "-", "?", "Other"),
}
_TEXT_ONLY = {
    name: tuple(v for v in values if isinstance(v, str)) for name, values in CELLS.items()
}
_IN_ORDER = ("1/3/2016 09:00", "1/3/2016 10:30", "2/3/2016 08:00", "2016-03-03 12:00:00")
#: Values that refuse a ticket (or hand it to the general path): rarer than the others.
_ODD = {"Parked", "yesterday", "", "x", "--1", 2, "bad", "9 - Odd", None, "Other"}
_GOOD = {
    name: tuple(v for v in values if v not in _ODD or name in ("number", "sys_updated_by"))
    for name, values in CELLS.items()
}


_HEADERS = st.permutations(HEADER)


@memoized
@st.composite
def snapshot_rows(draw: st.DrawFn, *, text_only: bool = False) -> list[dict[str, Any]]:
    """A random snapshot export: a few tickets' rows, each cell from a small vocabulary.

    A row mostly repeats the one before with a few cells changed (as real
    exports do), so histories are often valid and rows often unchanged; odd
    values (unknown states, bad times and sequences, JSON numbers) come too.
    """
    cells = _TEXT_ONLY if text_only else CELLS if draw(st.integers(0, 2)) == 0 else _GOOD
    rows: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 10))):
        repeat: bool = draw(st.booleans())
        if rows and repeat:
            row = dict(rows[-1])
            for name in draw(st.lists(sampled(tuple(HEADER)), max_size=3)):
                row[name] = draw(sampled(cells[name]))
        else:
            row = {name: draw(sampled(values)) for name, values in cells.items()}
        rows.append(row)
    if cells is _GOOD and draw(st.booleans()):
        # Updates numbered and timed in order, per ticket: mostly valid histories.
        seen: dict[str, int] = {}
        for row in rows:
            n = seen[row["number"]] = seen.get(row["number"], -1) + 1
            row["sys_mod_count"] = str(n)
            row["sys_updated_at"] = _IN_ORDER[min(n, len(_IN_ORDER) - 1)]
            row["opened_at"] = "1/3/2016 08:55"
    return rows


def _same(fast: Any, reference: Any) -> None:
    assert fast == reference
    if hasattr(fast, "histories"):
        assert [h.events for h in fast.histories] == [h.events for h in reference.histories]


#: Each example imports a small export two to four times (about 10 ms): the properties run
#: a fixed number of examples, not the profile's (1,000 under ``ci``).
EXAMPLES = settings(max_examples=300)


@EXAMPLES
@given(sampled(PROFILE_CHOICES), snapshot_rows())
def test_the_fast_path_gives_the_histories_refusals_and_counts_of_the_general_path(
    profile: Any, rows: list[dict[str, Any]]
) -> None:
    _same(import_snapshot(rows, profile), _import_snapshot_reference(rows, profile))


@EXAMPLES
@given(sampled(PROFILE_CHOICES), snapshot_rows())
def test_streamed_imports_agree_including_tickets_whose_rows_are_not_together(
    profile: Any, rows: list[dict[str, Any]]
) -> None:
    fast = list(import_stream(rows, profile))
    reference = list(_import_stream_reference(rows, profile))
    assert fast == reference
    assert [getattr(h, "events", None) for h in fast] == [
        getattr(h, "events", None) for h in reference
    ]


@st.composite
def sequence_rows(draw: st.DrawFn) -> tuple[list[str], list[list[Any]]]:
    """Rows as cell lists with their header: columns shuffled, rows short, blank or long."""
    header = draw(_HEADERS)
    rows = []
    for row in draw(snapshot_rows()):
        cells = [row[name] for name in header]
        cut = draw(st.sampled_from((len(cells), len(cells), len(cells) - 3, 0, len(cells) + 1)))
        rows.append(cells[:cut] if cut <= len(cells) else [*cells, "extra"])
    return list(header), rows


@settings(max_examples=200)
@given(sampled(PROFILE_CHOICES), sequence_rows())
def test_rows_given_as_sequences_with_their_header_read_as_csv_dictreader_reads_them(
    profile: Any, export: tuple[list[str], list[list[Any]]]
) -> None:
    header, rows = export
    as_dicts = []
    for row in rows:
        if row:
            found = dict(zip(header, row, strict=False))
            found.update(dict.fromkeys(header[len(row) :]))
            as_dicts.append(found)
    expected = _import_snapshot_reference(as_dicts, profile)
    _same(import_snapshot(rows, profile, columns=header), expected)
    _same(_import_snapshot_reference(rows, profile, columns=header), expected)
    streamed = list(import_stream(rows, profile, columns=header))
    assert streamed == list(_import_stream_reference(as_dicts, profile))


def test_columns_that_are_not_names_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="columns"):
        import_snapshot([], SNOW, columns="number")
    with pytest.raises(InvalidValueError, match="columns"):
        list(import_stream([], SNOW, columns=[1, 2]))  # type: ignore[list-item]


def test_a_cell_that_is_not_text_hands_its_ticket_to_the_general_path() -> None:
    row = {name: _TEXT_ONLY[name][0] for name in HEADER}
    second: dict[str, Any] = {**row, "sys_mod_count": 1, "incident_state": "Resolved"}
    result = import_snapshot([row, second], SNOW)
    assert result == _import_snapshot_reference([row, second], SNOW)
    assert result.histories[0][-1].to_state == "resolved"  # type: ignore[attr-defined]


def test_a_sequence_that_is_no_whole_number_refuses_the_ticket_on_both_paths() -> None:
    row = {name: _TEXT_ONLY[name][0] for name in HEADER}
    for bad in ("--1", "²", "1_0", "-"):
        odd = {**row, "sys_mod_count": bad}
        (refused,) = import_snapshot([odd], SNOW).refused
        assert refused.reason.startswith(f"sequence {bad!r} in column 'sys_mod_count'")
        assert _import_snapshot_reference([odd], SNOW).refused == (refused,)


def test_the_import_rules_refuse_what_their_reference_refuses() -> None:
    rules = _Rules(profile_lifecycle(SNOW))
    (history,) = import_snapshot(
        [
            {name: _TEXT_ONLY[name][0] for name in HEADER},
            {**{name: _TEXT_ONLY[name][0] for name in HEADER}, "incident_state": "Resolved"},
        ],
        SNOW,
    ).histories
    change = history[-1]
    assert isinstance(change, StateChanged)
    rules.check_event(1, "new", change)
    for state, event in (
        ("closed", change),
        ("new", attrs.evolve(change, to_category="closed")),
        ("new", attrs.evolve(change, from_state="resolved")),
    ):
        with pytest.raises(InvalidValueError) as fast:
            rules.check_event(1, state, event)
        with pytest.raises(InvalidValueError) as reference:
            rules.check_event_reference(1, state, event)
        assert str(fast.value) == str(reference.value)


# ---------------------------------------------------------------------------- the CLI's sort


@st.composite
def csv_exports(draw: st.DrawFn) -> str:
    """CSV text of a random export: repeated or missing columns, the sort's separator in a
    cell, short, long and blank lines."""
    header = list(draw(_HEADERS))
    if draw(st.booleans()):
        header.append(draw(sampled(("number", "priority", "notes"))))  # a repeated name
    if draw(st.integers(0, 5)) == 0:
        header.remove(draw(sampled(tuple(HEADER))))  # a column the profile reads is missing
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in draw(snapshot_rows(text_only=True)):
        cells = [row.get(name, "note, with a comma") for name in header]
        kind = draw(st.integers(0, 9))
        if kind == 0:
            cells = cells[: draw(st.integers(1, len(cells)))]
        elif kind == 1:
            cells.append("extra")
        elif kind == 2:
            cells[draw(st.integers(0, len(cells) - 1))] = "a\x1fb"
        elif kind == 3:
            out.write("\r\n")  # a blank line
        writer.writerow(cells)
    return out.getvalue()


@settings(max_examples=200)
@given(csv_exports(), st.integers(1, 6))
def test_the_reports_sort_of_a_csv_file_gives_the_rows_csv_dictreader_gives_sorted(
    text: str, chunk: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_text(text, encoding="utf-8", newline="")
        fast = list(sorted_rows(read_rows(str(path), SNOW), SNOW, chunk=chunk))
        with path.open(newline="", encoding="utf-8") as handle:
            plain = list(csv.DictReader(handle))
        general = list(sorted_rows(plain, SNOW, chunk=chunk))
    assert fast == general


# ---------------------------------------------------------------------------- timestamps

FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y%m%d %H%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H.%M %%",
    "%Y-%m-%d %I:%M %p",  # not compiled: strptime itself
    "%d/%m/%y",  # not compiled: strptime itself
)


_NAIVE_TIMES = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31))


@st.composite
def timestamps(draw: st.DrawFn) -> tuple[str, str]:
    """A format and a text: the date written in it, then maybe damaged, or any text."""
    fmt = draw(sampled(FORMATS))
    when = draw(_NAIVE_TIMES)
    text = when.strftime(fmt.replace("%I", "%H").replace("%p", "AM"))
    kind = draw(st.integers(0, 4))
    if kind == 1:  # without zero padding, or with other spaces
        text = (
            text.replace("/0", "/")
            .replace(" 0", " ")
            .replace(" ", draw(sampled((" ", "  ", "\t"))))
        )
    elif kind == 2:  # a character replaced
        at = draw(st.integers(0, max(0, len(text) - 1)))
        text = text[:at] + draw(sampled(tuple("0129/:-. TxZ%"))) + text[at + 1 :]
    elif kind == 3:
        text = draw(st.text(alphabet="0123456789/:-. T", max_size=22))
    return fmt, text


@settings(max_examples=500)
@given(timestamps())
def test_a_compiled_timestamp_format_reads_exactly_what_strptime_reads(
    stamp: tuple[str, str],
) -> None:
    fmt, text = stamp
    try:
        expected: datetime | None = datetime.strptime(text, fmt)  # noqa: DTZ007
    except ValueError:
        expected = None
    try:
        found: datetime | None = _strptime(text, fmt)
    except ValueError:
        found = None
    assert found == expected


STATES = ("New", "Active", "Resolved", "Closed")


def test_a_full_timestamp_cache_starts_again_and_reads_the_same_instants(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        {name: _TEXT_ONLY[name][0] for name in HEADER}
        | {"sys_mod_count": str(n), "sys_updated_at": at, "incident_state": state}
        for n, (at, state) in enumerate(zip(_IN_ORDER, STATES, strict=True))
    ]
    expected = import_snapshot(rows, SNOW)
    monkeypatch.setattr("itsm_core.imports._core._INSTANT_CACHE", 2)
    assert import_snapshot(rows, SNOW) == expected
    assert [e.at for e in expected.histories[0]][-1] == datetime(2016, 3, 3, 12, tzinfo=UTC)
