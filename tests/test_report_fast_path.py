"""The report's JSON Lines fast path agrees with the reference reading, line for line.

``ordered_events`` (bytes parsed by orjson, each line decoded once where the
input fits in one chunk, checked only and decoded after the merge where it
does not) must give exactly what ``reference_ordered_events`` gives: the same
events in the same order, the same bad-line counts, the same error word for
word.
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar
from itsm_core.cli import main, report
from itsm_core.cli._common import InputError, OutOfOrder
from itsm_core.cli.report import (
    REFUSED,
    Verdict,
    _Restart,
    json_rows_of,
    ordered_events,
    reference_ordered_events,
    rows_of,
)
from itsm_core.desk import Desk
from itsm_core.serialization import encode_event
from itsm_core.serialization._converter import event_decoder
from itsm_core.sla import SlaStatus
from itsm_core.testing import events, sla_statuses, standard_policy
from itsm_core.ticket import Event

Outcome = tuple[Any, ...]

#: A policy of the name drawn statuses have (``policy``): rows without a cycle look it up.
_POLICY = standard_policy(BusinessCalendar.always_open("UTC"), name="policy")

#: A few ticket ids, so that tickets come back later in the input and the sort matters.
TICKETS = st.sampled_from(["T-2", "T-1", "T-10", "A"])

AT = "2026-03-13T10:47:00+03:00"

#: Lines the direct path does not take, good or bad (the reference reads each one).
ODD_LINES = st.sampled_from(
    [
        "",
        "   ",
        "not json",
        "[1, 2]",
        '{"event": "watched"}',
        '{"ticket_id": "T-1", "at": "' + AT + '"}',
        '{"event": "watched", "ticket_id": "T-1", "actor": "a", "at": "yesterday", "watcher": "b"}',
        '{"event": "no_such_kind", "ticket_id": "T-1", "actor": "a", "at": "' + AT + '"}',
        '{"event": "watched", "ticket_id": "T-1", "actor": "a", "at": "' + AT + '", '
        '"watcher": "b", "extra": NaN}',
        '{"event": "field_changed", "ticket_id": "T-1", "actor": "a", "at": "' + AT + '", '
        '"field": "seats", "old": 123456789012345678901234567890, "new": 1.5}',
        '{"event": "field_changed", "ticket_id": "T-2", "actor": "a", "at": "' + AT + '", '
        '"field": "seats", "old": 1, "new": 2.5}',
        '{"event": "watched", "ticket_id": "T-2", "actor": "a", "at": "' + AT + '", '
        '"watcher": 12345678901234567890123}',
        # the library's own start (sorted unparsed when deferred), then not what it seems
        '{"event": "watched", "ticket_id": "T-1", "actor": "a", "at": "' + AT + '", "watcher"',
        '{"event": "watched", "ticket_id": "T-1", "actor": "a", "at": "' + AT + '", '
        '"watcher": "b", "ticket_id": "T-2"}',
        '{"event": "watched", "ticket_id": "T-1", "actor": "a", "at": "' + AT + '", '
        '"event": "field_changed", "field": "seats", "old": 1, "new": 2.5}',
        '{"event": "watched", "ticket_id": "T-1", "actor": "a", "at": "' + AT + '", '
        '"watcher": "b\u0001", "note": "\t"}',
    ]
)


@st.composite
def event_lines(draw: st.DrawFn) -> str:
    """One line: an event of the library under one of a few tickets, or an odd line."""
    if draw(st.integers(0, 3)) == 0:
        return draw(ODD_LINES)
    data = encode_event(draw(events()))
    data["ticket_id"] = draw(TICKETS)
    return json.dumps(data, ensure_ascii=draw(st.booleans()))


MAX_LINES = 8
LINES = st.lists(event_lines(), max_size=MAX_LINES)
#: The line ends of ``n`` lines, for every ``n`` a file may have.
ENDS = [
    st.lists(st.sampled_from(["\n", "\r\n"]), min_size=n, max_size=n) for n in range(MAX_LINES + 1)
]


def _ticket_of(line: str) -> str:
    """The ticket a line names, as the report sorts it (``""`` for a line without one)."""
    try:
        data = json.loads(line)
    except ValueError:
        return ""
    ticket = data.get("ticket_id") if isinstance(data, dict) else None
    return ticket if isinstance(ticket, str) else ""


@st.composite
def ordered_lines(draw: st.DrawFn) -> list[str]:
    """Lines in ticket order (as the library's import writes them), maybe one moved out of it."""
    lines = sorted(draw(LINES), key=_ticket_of)
    if len(lines) > 1 and draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop())
    return lines


@st.composite
def inputs(draw: st.DrawFn, drawn: st.SearchStrategy[list[str]] = LINES) -> bytes:
    """A JSON Lines file: lines ending in LF or CRLF, maybe a byte-order mark, maybe no last end."""
    lines = draw(drawn)
    ends = draw(ENDS[len(lines)])
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    unended = draw(st.booleans())
    if lines and unended:
        text = text.rstrip("\r\n")
    raw = text.encode("utf-8")
    return b"\xef\xbb\xbf" + raw if draw(st.booleans()) else raw


def outcome(read: Callable[..., Iterator[Event]], path: str, **options: Any) -> Outcome:
    """What a reading gives: every event in its plain form (zones included) and the counts,
    or the error it stops with."""
    counts: dict[str, int] = {}
    try:
        found = [encode_event(event) for event in read(path, counts=counts, **options)]
    except InputError as exc:
        return ("error", str(exc), exc.status)
    return ("events", found, counts)


def deferred(path: str, **options: Any) -> Outcome:
    """:func:`outcome` of the reading with its checks deferred, as the report uses it: a line
    found bad only after the merge, or one out of ticket order in an input handed on as
    read, has the input read again without deferring."""
    try:
        return outcome(ordered_events, path, defer_checks=True, **options)
    except (_Restart, OutOfOrder):
        return outcome(ordered_events, path, **options)


def both(raw: bytes, **options: Any) -> tuple[Outcome, Outcome]:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "events.jsonl")
        Path(path).write_bytes(raw)
        return (
            outcome(ordered_events, path, **options),
            outcome(reference_ordered_events, path, **options),
        )


def _read_as_the_reference_reads(raw: bytes, chunk: int, skip_bad: bool) -> None:
    """Both fast readings (checks deferred or not) give the reference's outcome of ``raw``."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "events.jsonl")
        Path(path).write_bytes(raw)
        reference = outcome(reference_ordered_events, path, chunk=chunk, skip_bad=skip_bad)
        assert outcome(ordered_events, path, chunk=chunk, skip_bad=skip_bad) == reference
        assert deferred(path, chunk=chunk, skip_bad=skip_bad) == reference


@given(inputs(), st.integers(1, 5), st.booleans())
def test_the_fast_reading_gives_the_references_events_counts_and_errors(
    raw: bytes, chunk: int, skip_bad: bool
) -> None:
    _read_as_the_reference_reads(raw, chunk, skip_bad)


# A narrower family than the property above (which draws such inputs too): a quarter of
# the profile's examples (250 under ci).
@settings(max_examples=max(50, settings().max_examples // 4))
@given(inputs(ordered_lines()), st.integers(1, 5), st.booleans())
def test_an_input_in_ticket_order_is_read_as_the_reference_reads_it(
    raw: bytes, chunk: int, skip_bad: bool
) -> None:
    # Read with deferred checks, a spilled input whose first chunk is in ticket order is
    # handed on as it is read, until a line of an earlier ticket has it read again, sorted.
    _read_as_the_reference_reads(raw, chunk, skip_bad)


def test_an_input_in_ticket_order_is_handed_on_as_read_and_nothing_is_spilled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def line(ticket: str, n: int) -> str:
        data = {"event": "watched", "ticket_id": ticket, "actor": f"a{n}", "at": AT}
        return json.dumps({**data, "watcher": "w"}) + "\n"

    ordered = tmp_path / "ordered.jsonl"
    ordered.write_text("".join(line(t, n) for n, t in enumerate("AABBBCDD")))
    spilled: list[int] = []
    spill = report._spill

    def counted(buffer: list[Any]) -> Any:
        spilled.append(len(buffer))
        return spill(buffer)

    monkeypatch.setattr(report, "_spill", counted)
    reference = outcome(reference_ordered_events, str(ordered), chunk=2, skip_bad=False)
    found = outcome(ordered_events, str(ordered), chunk=2, skip_bad=False, defer_checks=True)
    assert found == reference
    assert spilled == []
    # One ticket out of order after the first chunk: the events handed on so far are taken
    # back (OutOfOrder: the report reads the input again); read before, it would be spilled.
    late = tmp_path / "late.jsonl"
    late.write_text("".join(line(t, n) for n, t in enumerate("AABBBCDA")))
    reading = ordered_events(str(late), skip_bad=False, counts={}, chunk=2, defer_checks=True)
    assert [event.ticket_id for event in itertools.islice(reading, 6)] == list("AABBBC")
    with pytest.raises(OutOfOrder, match="ticket 'A' came after ticket 'D'"):
        list(reading)
    assert spilled == []
    early = tmp_path / "early.jsonl"
    early.write_text("".join(line(t, n) for n, t in enumerate("BAABBCDD")))
    reference = outcome(reference_ordered_events, str(early), chunk=2, skip_bad=False)
    found = outcome(ordered_events, str(early), chunk=2, skip_bad=False, defer_checks=True)
    assert found == reference
    assert spilled == [2, 2, 2]


@pytest.mark.parametrize("chunk", [1, 2, 3, 100])
def test_tickets_come_out_grouped_in_ticket_order_keeping_their_input_order(chunk: int) -> None:
    lines = []
    for n, ticket in enumerate(["T-2", "T-1", "T-2", "A", "T-1", "T-2"]):
        data = {"event": "watched", "ticket_id": ticket, "actor": f"a{n}", "at": AT}
        lines.append(json.dumps({**data, "watcher": "w"}))
    fast, reference = both(("\n".join(lines) + "\n").encode(), chunk=chunk, skip_bad=False)
    assert fast == reference
    found = [(e["ticket_id"], e["actor"]) for e in fast[1]]
    assert found == [
        ("A", "a3"),
        ("T-1", "a1"),
        ("T-1", "a4"),
        *[("T-2", f"a{n}") for n in (0, 2, 5)],
    ]


def test_a_bad_line_is_counted_with_its_number_and_without_skip_bad_stops_the_reading() -> None:
    good = json.dumps(
        {"event": "watched", "ticket_id": "T", "actor": "a", "at": AT, "watcher": "w"}
    )
    raw = f"{good}\n\n{{oops\n{good}\n[1]\n".encode()
    fast, reference = both(raw, chunk=2, skip_bad=True)
    assert fast == reference
    assert fast[2] == {"bad": 2, "first_bad": 3}
    fast, reference = both(raw, chunk=2, skip_bad=False)
    assert fast == reference
    assert fast[0] == "error"
    assert ":3: not a JSON object" in fast[1]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"event": "watched"}\n\xff\xfe\n',
        b'{"a": 1}\rnot a line\n',
        b"\xef\xbb\xbf" + b'{"a": 1}\r\r\n',
    ],
    ids=["not UTF-8", "a lone carriage return", "two carriage returns"],
)
@pytest.mark.parametrize("skip_bad", [False, True])
def test_text_the_reference_splits_or_refuses_otherwise_is_read_by_the_reference(
    raw: bytes, skip_bad: bool
) -> None:
    fast, reference = both(raw, chunk=1, skip_bad=skip_bad)
    assert fast == reference


def test_a_missing_file_fails_before_anything_is_read_as_the_reference_fails() -> None:
    with pytest.raises(InputError, match="No such file") as fast:
        ordered_events("/no/such/events.jsonl", skip_bad=False, counts={})
    with pytest.raises(InputError) as reference:
        reference_ordered_events("/no/such/events.jsonl", skip_bad=False, counts={})
    assert str(fast.value) == str(reference.value)
    assert fast.value.status == reference.value.status


def test_a_chunk_below_one_line_is_refused() -> None:
    with pytest.raises(InputError, match="--sort-chunk: expected a positive number"):
        ordered_events("/no/such/events.jsonl", skip_bad=False, counts={}, chunk=0)


def _watched(count: int) -> bytes:
    return "".join(
        json.dumps(
            {"event": "watched", "ticket_id": f"T-{n % 7}", "actor": "a", "at": AT, "watcher": "w"}
        )
        + "\n"
        for n in range(count)
    ).encode()


def test_an_input_that_fits_in_one_chunk_is_sorted_in_memory_without_a_temporary_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spilled: list[Any] = []
    temporary_file = tempfile.TemporaryFile

    def counted(*args: Any, **kwargs: Any) -> Any:
        spilled.append(args)
        return temporary_file(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", counted)
    path = tmp_path / "events.jsonl"
    path.write_bytes(_watched(2000))
    assert len(list(ordered_events(str(path), skip_bad=False, counts={}, chunk=2000))) == 2000
    assert spilled == []
    path.write_bytes(_watched(2001))
    assert len(list(ordered_events(str(path), skip_bad=False, counts={}, chunk=2000))) == 2001
    assert len(spilled) == 1


@pytest.mark.parametrize("count", [1500, 2500, 6000])
def test_inputs_larger_than_a_chunk_spill_and_merge_to_the_references_order(count: int) -> None:
    # 1500 and 2500 lines: the size-based guess comes after 1024 lines (built, then
    # spilled, or checked only); 6000: three chunks spilled, the last one held.
    fast, reference = both(_watched(count), chunk=2000, skip_bad=False)
    assert fast == reference
    assert len(fast[1]) == count


def test_the_progress_callback_sees_the_references_byte_counts() -> None:
    good = json.dumps(
        {"event": "watched", "ticket_id": "T", "actor": "a", "at": AT, "watcher": "w"}
    )
    raw = b"\xef\xbb\xbf" + f"{good}\r\n\n{good}".encode()
    seen: dict[str, list[int]] = {"fast": [], "reference": []}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "events.jsonl")
        Path(path).write_bytes(raw)
        for name, read in (("fast", ordered_events), ("reference", reference_ordered_events)):
            list(read(path, skip_bad=False, counts={}, progress=seen[name].append))
    assert seen["fast"] == seen["reference"]
    assert seen["fast"][-1] == len(raw) - 3


@settings(max_examples=max(50, settings().max_examples // 4))
@given(events(), st.data())
def test_checking_a_line_answers_whether_the_direct_decoder_builds_its_event(
    event: Event, data: st.DataObject
) -> None:
    decoder = event_decoder()
    plain = json.loads(json.dumps(encode_event(event)))
    assert decoder.reads(plain)
    key = data.draw(st.sampled_from([*plain, "unknown"]), label="key")
    if data.draw(st.booleans(), label="remove") and key in plain:
        del plain[key]
    else:
        plain[key] = data.draw(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
            label="value",
        )
    assert decoder.reads(plain) == (decoder(plain) is not None)
    assert not decoder.reads([plain])
    assert not decoder.reads({**plain, "event": "no_such_kind"})


def test_a_line_holding_a_float_is_read_by_the_standard_library_before_and_after_the_sort() -> None:
    changed = {"event": "field_changed", "ticket_id": "T-2", "actor": "a", "at": AT}
    lines = [
        json.dumps({**changed, "field": "seats", "old": 1, "new": 2.5}),
        json.dumps({**changed, "ticket_id": "T-1", "field": "seats", "old": 1, "new": [1.5]}),
        json.dumps({**changed, "field": "seats", "old": 1, "new": 2}),
    ]
    raw = ("\n".join(lines) + "\n").encode()
    for chunk in (1, 2, 3):
        fast, reference = both(raw, chunk=chunk, skip_bad=True)
        assert fast == reference
        assert [e["new"] for e in fast[1]] == [2.5, 2]
        assert fast[2] == {"bad": 1, "first_bad": 2}


EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


def _report(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["report", *args], out=out)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("chunk", ["1", "7", "50000"])
@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_the_report_prints_the_same_bytes_through_the_fast_path_and_the_reference(
    chunk: str, fmt: str, tmp_path: Path
) -> None:
    events = (EXAMPLES / "events.jsonl").read_text(encoding="utf-8").splitlines()
    # the example's events shuffled by a fixed rule, with a bad line and a blank one
    lines = [*events[1::2], "{oops", "", *events[0::2]]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    common = [str(path), "--config", str(EXAMPLES / "desk.toml"), "--now", "2026-03-14T00:00+03:00"]
    common += ["--format", fmt, "--sort-chunk", chunk, "--skip-bad"]
    thresholds = gc.get_threshold()
    fast = _report(*common)
    assert gc.get_threshold() == thresholds
    # a --map (even one that renames nothing) takes the reference reading
    reference = _report(*common, "--map", "ticket_id=ticket_id")
    assert fast == reference
    assert fast[0] == 0
    assert f"skipped 1 bad line(s), the first at line {len(events[1::2]) + 1}" in fast[2]


@pytest.mark.parametrize("chunk", ["1", "3", "50000"])
@pytest.mark.parametrize("skip_bad", [False, True])
def test_a_line_found_bad_only_after_the_sort_leaves_the_report_as_the_reference_writes_it(
    chunk: str, skip_bad: bool, tmp_path: Path
) -> None:
    events = (EXAMPLES / "events.jsonl").read_text(encoding="utf-8").splitlines()
    # a line of a kind read directly whose instant is bad: the deferred reading judges it
    # after the merge, among a later ticket's events
    late = json.loads(events[-1])
    late["at"] = "yesterday"
    lines = [*events[1::2], json.dumps(late), *events[0::2]]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    common = [str(path), "--config", str(EXAMPLES / "desk.toml"), "--now", "2026-03-14T00:00+03:00"]
    common += ["--format", "json", "--sort-chunk", chunk]
    if skip_bad:
        common.append("--skip-bad")
    fast = _report(*common)
    assert fast == _report(*common, "--map", "ticket_id=ticket_id")
    where = len(events[1::2]) + 1
    if skip_bad:
        assert fast[0] == 0
        assert f"skipped 1 bad line(s), the first at line {where}" in fast[2]
    else:
        assert fast[0] != 0
        assert fast[1] == ""  # nothing written before the error
        assert f":{where}:" in fast[2]


_HEAD = b'{"event": "watched", "ticket_id": "T-1", "actor": "a", "at": "' + AT.encode() + b'", '


@pytest.mark.parametrize(
    "line",
    [
        _HEAD + b'"watcher": "b\xff"}',
        _HEAD + b'"watcher": "b\x01"}',
        _HEAD + b'"watcher": "b"} trailing',
        _HEAD.replace(b"T-1", b"T-\xff") + b'"watcher": "b"}',
    ],
)
def test_a_line_sorted_by_its_start_alone_is_judged_as_the_reference_judges_it(
    line: bytes,
) -> None:
    # Bytes that are not UTF-8 (in the ticket or past it), a raw control character in a
    # string, text after the object. Deferred, the line is sorted by its start, unparsed,
    # and judged after the merge; every outcome is the reference's.
    good = {"event": "watched", "ticket_id": "T-2", "actor": "a", "at": AT, "watcher": "w"}
    raw = json.dumps(good).encode() + b"\n" + line + b"\n"
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "events.jsonl")
        Path(path).write_bytes(raw)
        for skip_bad in (False, True):
            reference = outcome(reference_ordered_events, path, chunk=1, skip_bad=skip_bad)
            assert deferred(path, chunk=1, skip_bad=skip_bad) == reference


def test_a_deferred_line_the_direct_decoder_leaves_to_the_reference_is_read_by_it() -> None:
    # both zone forms at once: the direct decoder leaves it to cattrs, which checks they agree
    data = {"event": "watched", "ticket_id": "T-2", "actor": "a", "watcher": "w"}
    both_forms = {**data, "at": AT + "[Europe/Moscow]", "at_zone": "Europe/Moscow"}
    plain = {**data, "ticket_id": "T-1", "at": AT, "at_zone": "Europe/Moscow"}
    raw = "".join(json.dumps(line) + "\n" for line in (both_forms, plain, both_forms)).encode()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "events.jsonl")
        Path(path).write_bytes(raw)
        reference = outcome(reference_ordered_events, path, chunk=1, skip_bad=False)
        assert reference[0] == "events"
        assert len(reference[1]) == 3
        assert outcome(ordered_events, path, chunk=1, skip_bad=False, defer_checks=True) == (
            reference
        )


@settings(max_examples=max(50, settings().max_examples // 2), deadline=None)
@given(sla_statuses(), st.text(max_size=8), st.text(max_size=8), st.booleans())
def test_json_rows_of_writes_the_text_json_dumps_writes_of_each_row(
    status: SlaStatus, ticket_id: str, policy: str, keep_policy: bool
) -> None:
    # names with quotes, escapes and non-ASCII; a desk that has the status's policy or not
    renamed = attrs.evolve(status, ticket_id=ticket_id, policy=policy)
    desk = Desk(sla_policies=(_POLICY,)) if keep_policy else Desk()
    for verdict in (
        Verdict(ticket_id=ticket_id, status=renamed),
        Verdict(ticket_id=ticket_id, status=status),
        Verdict(ticket_id=ticket_id, verdict=f"{REFUSED}: {policy}", note=policy),
    ):
        expected = [
            (row["metric"], row["verdict"], json.dumps(row)) for row in rows_of(verdict, desk)
        ]
        assert list(json_rows_of(verdict, desk)) == expected
