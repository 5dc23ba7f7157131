"""Instants for other tools: what the library writes is RFC 3339, the zone's name beside it.

Every instant of an event, JSON or CSV, is read by ``datetime.fromisoformat``
and ``pandas.to_datetime`` as it is; an instant in a named zone (not UTC) has
the name in ``<field>_zone``. The older form, the name in brackets after the
offset, still decodes to the same event, on both decoding paths.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pendulum
import pytest
from hypothesis import given, settings

from itsm_core.errors import ConfigurationError, InvalidValueError, ItsmError
from itsm_core.serialization import (
    decode_event,
    decode_event_row,
    encode_event,
    encode_event_row,
    event_columns,
    event_json_schema,
    make_converter,
)
from itsm_core.serialization._converter import (
    IMPLIED_ZONES,
    event_decoder,
    shared_converter,
    structure_checked,
    zone_name,
)
from itsm_core.testing import events
from itsm_core.ticket import DueDateSet, Event, Ticket, Watched

DECODER = event_decoder()
SOME = settings(max_examples=max(50, settings().max_examples // 4))


def instants(event: Event) -> dict[str, datetime]:
    """The instant fields of an event that hold an instant, by name."""
    return {
        a.name: getattr(event, a.name)
        for a in attrs.fields(type(event))
        if isinstance(getattr(event, a.name), datetime)
    }


def through_json(data: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


def older_form(data: dict[str, Any], event: Event) -> dict[str, Any]:
    """The form written before: each zone's name in brackets after its instant, no ``_zone``."""
    old = {k: v for k, v in data.items() if not (k.endswith("_zone") and k[:-5] in data)}
    for name, moment in instants(event).items():
        found = zone_name(moment)
        if found is not None:
            old[name] = f"{data[name]}[{found}]"
    return old


def same_instant(a: datetime, b: datetime) -> bool:
    """The same instant and offset (``==`` across zones is false at a repeated wall time)."""
    return a.astimezone(UTC) == b.astimezone(UTC) and a.utcoffset() == b.utcoffset()


def zones_of(event: Event) -> list[tuple[str, str | None, int, timedelta | None]]:
    """What must survive beyond equality: each instant's zone name, offset and fold (where
    the fold changes the offset: a repeated or skipped wall time)."""
    return [(name, zone_name(m), fold_of(m), m.utcoffset()) for name, m in instants(event).items()]


def fold_of(moment: datetime) -> int:
    flipped = moment.replace(fold=1 - moment.fold)
    return moment.fold if flipped.utcoffset() != moment.utcoffset() else 0


def slow(data: object) -> Event:
    event: Event = structure_checked(shared_converter(), data, Event, "line 1")
    return event


def watched(at: datetime) -> Watched:
    return Watched(ticket_id="INC-1", actor="ann", watcher="bob", at=at)


# ---------------------------------------------------------------------------- writing


@SOME
@given(events())
def test_every_written_instant_is_read_by_fromisoformat_as_the_events_own_instant(
    event: Event,
) -> None:
    data = through_json(encode_event(event))
    row = encode_event_row(event)
    for name, moment in instants(event).items():
        for text in (data[name], row[name]):
            assert "[" not in text
            assert same_instant(datetime.fromisoformat(text), moment)
        expected = zone_name(moment)
        assert data.get(f"{name}_zone") == expected
        assert row[f"{name}_zone"] == (expected or "")


def test_the_zone_is_named_only_when_the_offset_does_not_imply_it() -> None:
    moscow = pendulum.datetime(2026, 1, 5, 9, tz="Europe/Moscow")
    assert encode_event(watched(moscow))["at_zone"] == "Europe/Moscow"
    implied = [
        pendulum.datetime(2026, 1, 5, 9),  # pendulum's UTC
        datetime(2026, 1, 5, 9, tzinfo=UTC),
        datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("Etc/UTC")),
        datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=3))),
        moscow.in_timezone("UTC"),
    ]
    for at in implied:
        data = encode_event(watched(at))
        assert "at_zone" not in data
        assert data["at"].endswith("+00:00") or data["at"].endswith("+03:00")
        assert decode_event(data) == watched(at)
    assert "UTC" in IMPLIED_ZONES
    # Europe/London is +00:00 in winter, but its offset changes: it is named.
    london = datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("Europe/London"))
    assert encode_event(watched(london))["at_zone"] == "Europe/London"


def test_a_zone_field_follows_its_instant_and_a_null_instant_has_none() -> None:
    due = pendulum.datetime(2026, 3, 2, 18, tz="America/New_York")
    at = pendulum.datetime(2026, 3, 2, 9, tz="Europe/Moscow")
    event = DueDateSet(ticket_id="INC-1", actor="lena", at=at, metric="resolution", due=due,
                       reason="vendor")  # fmt: skip
    data = encode_event(event)
    assert list(data)[3:8] == ["at", "at_zone", "metric", "due", "due_zone"]
    assert (data["due"], data["due_zone"]) == ("2026-03-02T18:00:00-05:00", "America/New_York")
    cleared = encode_event(attrs.evolve(event, due=None))
    assert cleared["due"] is None
    assert "due_zone" not in cleared
    back = decode_event(data)
    assert isinstance(back, DueDateSet)
    assert back == event
    assert back.due is not None
    assert back.due.tzinfo == ZoneInfo("America/New_York")


def test_a_ticket_record_names_the_zones_of_its_instants_too() -> None:
    at = pendulum.datetime(2026, 3, 2, 9, tz="Europe/Moscow")
    conv = make_converter()
    opened = decode_event(
        {"event": "ticket_opened", "ticket_id": "SR-1", "actor": "ann", "at": at.isoformat(),
         "at_zone": "Europe/Moscow", "type": "service_request", "state": "new",
         "state_category": "new", "title": "Laptop", "requester": "ann"}
    )  # fmt: skip
    ticket = opened.apply_to(None)
    data = conv.unstructure(ticket, Ticket)
    assert (data["opened_at"], data["opened_at_zone"]) == (
        "2026-03-02T09:00:00+03:00",
        "Europe/Moscow",
    )
    back = conv.structure(data, Ticket)
    assert back == ticket
    assert back.opened_at.tzinfo == ZoneInfo("Europe/Moscow")


def test_the_event_schema_describes_the_zone_fields() -> None:
    schema = event_json_schema()
    escalated = schema["$defs"]["Escalated"]["properties"]
    assert escalated["at_zone"]["type"] == "string"
    assert escalated["due_at_zone"]["type"] == "string"
    assert "at_zone" not in schema["$defs"]["Escalated"]["required"]
    assert "RFC 3339" in escalated["at"]["description"]


def test_new_and_old_event_lines_are_valid_for_the_event_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    validator = jsonschema.Draft202012Validator(event_json_schema())
    new = encode_event(watched(pendulum.datetime(2026, 1, 5, 9, tz="Europe/Moscow")))
    old = {**BASE, "at": "2026-01-05T09:00:00+03:00[Europe/Moscow]"}
    assert list(validator.iter_errors(new)) == []
    assert list(validator.iter_errors(old)) == []
    assert list(validator.iter_errors({**new, "at_zone": 3})) != []
    assert list(validator.iter_errors({**new, "when_zone": "Europe/Moscow"})) != []


# ---------------------------------------------------------------------------- reading


@SOME
@given(events())
def test_the_older_and_the_new_form_decode_to_the_same_event_on_both_paths(event: Event) -> None:
    new = through_json(encode_event(event))
    old = through_json(older_form(new, event))
    for data in (new, old):
        fast = DECODER(data)
        reference = slow(data)
        assert fast is not None
        for decoded in (fast, reference, decode_event(data)):
            assert decoded == event
            assert zones_of(decoded) == zones_of(event)


@SOME
@given(events())
def test_the_older_and_the_new_form_of_a_csv_row_decode_to_the_same_event(event: Event) -> None:
    new = encode_event_row(event)
    old = {k: v for k, v in new.items() if not (k.endswith("_zone") and k[:-5] in new)}
    for name, moment in instants(event).items():
        if zone_name(moment) is not None:
            old[name] = f"{new[name]}[{zone_name(moment)}]"
    for row in (new, old):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
        decoded = decode_event_row(next(csv.DictReader(io.StringIO(buffer.getvalue()))))
        assert decoded == event
        assert zones_of(decoded) == zones_of(event)


@pytest.mark.parametrize(
    ("text", "fold"),
    [("2026-11-01T01:30:00-04:00", 0), ("2026-11-01T01:30:00-05:00", 1)],
)
def test_a_repeated_wall_time_keeps_its_own_instant_with_the_zone_in_its_field(
    text: str, fold: int
) -> None:
    data = {"event": "watched", "ticket_id": "T-1", "actor": "ann", "watcher": "bob",
            "at": text, "at_zone": "America/New_York"}  # fmt: skip
    for decoded in (DECODER(data), slow(data), decode_event(data)):
        assert decoded is not None
        assert same_instant(decoded.at, datetime.fromisoformat(text))
        assert (decoded.at.fold, decoded.at.tzinfo) == (fold, ZoneInfo("America/New_York"))
        assert encode_event(decoded)["at"] == text


BASE = {"event": "watched", "ticket_id": "T-1", "actor": "ann", "watcher": "bob"}


@pytest.mark.parametrize(
    ("at", "zone", "message"),
    [
        # the offset Moscow does not have
        ("2026-01-05T09:00:00+05:00", "Europe/Moscow", r"offset of at, \+05:00.*\+03:00 then"),
        # London is +01:00 from 29 March at 01:00 UTC: not an hour before
        ("2026-03-29T00:30:00+01:00", "Europe/London", r"offset of at, \+01:00.*\+00:00 then"),
        ("2026-01-05T09:00:00+03:00", "Mars/Olympus", "an IANA timezone name"),
        ("2026-01-05T09:00:00+03:00", "localtime", "an IANA timezone name"),
        ("2026-01-05T09:00:00+03:00", 3, "an IANA timezone name"),
        ("2026-01-05T09:00:00+03:00", None, "an IANA timezone name"),
        # both forms at once, naming two zones
        ("2026-01-05T09:00:00+03:00[Europe/Istanbul]", "Europe/Moscow", "Europe/Istanbul"),
    ],
)
def test_a_zone_that_is_not_the_instants_is_refused_naming_its_field(
    at: str, zone: object, message: str
) -> None:
    data = {**BASE, "at": at, "at_zone": zone}
    assert DECODER(data) is None  # the fast path steps aside; the converter explains
    with pytest.raises(ConfigurationError, match=message) as info:
        decode_event(data, "line 1")
    assert isinstance(info.value, ItsmError)
    assert [p.path for p in info.value.problems] == ["line 1.at_zone"]


def test_a_zone_beside_no_instant_or_a_broken_one_is_reported_with_the_other_problems() -> None:
    due = {"event": "due_date_set", "ticket_id": "T-1", "actor": "ann", "reason": "",
           "at": "2026-01-05T09:00:00+03:00", "metric": "resolution"}  # fmt: skip
    with pytest.raises(ConfigurationError, match="nothing, since due is null") as info:
        decode_event({**due, "due": None, "due_zone": "Europe/Moscow"}, "line 1")
    assert [p.path for p in info.value.problems] == ["line 1.due_zone"]
    with pytest.raises(ConfigurationError) as info:
        decode_event({**BASE, "at": "Friday", "at_zone": "Europe/Moscow"}, "line 1")
    assert [p.path for p in info.value.problems] == ["line 1.at"]
    with pytest.raises(ConfigurationError) as info:
        decode_event({"event": "watched", "at_zone": "Nowhere/Zone"}, "line 1")
    paths = [p.path for p in info.value.problems]
    assert paths == ["line 1.ticket_id", "line 1.actor", "line 1.at", "line 1.watcher",
                     "line 1.at_zone"]  # fmt: skip
    with pytest.raises(ConfigurationError) as info:
        decode_event({**BASE, "watcher": 7, "at": "2026-01-05T09:00:00+05:00",
                      "at_zone": "Europe/Moscow"}, "line 1")  # fmt: skip
    assert [p.path for p in info.value.problems] == ["line 1.watcher", "line 1.at_zone"]


def test_a_zone_field_agreeing_with_the_older_bracketed_form_is_accepted() -> None:
    data = {**BASE, "at": "2026-01-05T09:00:00+03:00[Europe/Moscow]", "at_zone": "Europe/Moscow"}
    event = decode_event(data)
    assert event.at.tzinfo == ZoneInfo("Europe/Moscow")
    assert event == slow({**BASE, "at": "2026-01-05T09:00:00+03:00", "at_zone": "Europe/Moscow"})
    # an aware datetime given directly (a host's own dict) is placed in the zone as well
    aware = datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=3)))
    assert slow({**BASE, "at": aware, "at_zone": "Europe/Moscow"}).at.tzinfo.key == "Europe/Moscow"  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError, match="at_zone"):
        slow({**BASE, "at": aware.astimezone(UTC), "at_zone": "Europe/Moscow"})


def test_the_example_events_file_is_in_the_new_form() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs/examples/events.jsonl").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert all("[" not in line["at"] for line in lines)
    assert {line.get("at_zone") for line in lines} == {"Europe/Moscow"}
    for line in lines:
        assert decode_event(line).at == datetime.fromisoformat(line["at"])


# ---------------------------------------------------------------------------- other tools


def test_pandas_reads_a_written_column_of_instants() -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is not installed: nothing to check")
    moments = [
        pendulum.datetime(2026, 3, 28, 23, 30, tz="Europe/London"),
        pendulum.datetime(2026, 3, 29, 2, 30, tz="Europe/London"),  # after the change
        pendulum.datetime(2026, 1, 5, 9, tz="Europe/Moscow"),
        pendulum.datetime(2026, 1, 5, 9, 0, 1),  # UTC
        datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=-4, minutes=-30))),
    ]
    lines = [json.dumps(encode_event(watched(at))) for at in moments]
    frame = pandas.DataFrame([json.loads(line) for line in lines])
    read = pandas.to_datetime(frame["at"], utc=True)
    assert [ts.to_pydatetime() for ts in read] == moments
    # one zone, one offset: pandas keeps it without being asked for UTC
    same_offset = pandas.to_datetime(pandas.Series([frame["at"][2]] * 2))
    assert same_offset[0].to_pydatetime() == moments[2]
    # whole seconds and fractions mixed: pandas is told the column is ISO 8601 (it
    # otherwise guesses one exact format from the first value)
    fine = pendulum.datetime(2026, 1, 5, 9, 0, 0, 250)
    column = pandas.Series([encode_event(watched(fine))["at"], frame["at"][0]])
    mixed = pandas.to_datetime(column, utc=True, format="ISO8601")
    assert [ts.to_pydatetime() for ts in mixed] == [fine, moments[0]]
    # the zone's own column puts the instants back in their zone
    local = [
        ts.tz_convert(zone) if isinstance(zone, str) else ts
        for ts, zone in zip(read, frame["at_zone"], strict=True)
    ]
    assert [ts.hour for ts in local[:3]] == [23, 2, 9]
    # and a CSV written by encode_event_row is read the same way
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=event_columns("watched"))
    writer.writeheader()
    writer.writerows(encode_event_row(watched(at)) for at in moments)
    table = pandas.read_csv(io.StringIO(buffer.getvalue()))
    assert list(pandas.to_datetime(table["at"], utc=True)) == list(read)


def test_the_fast_path_steps_aside_for_a_zone_it_cannot_read_and_the_converter_explains() -> None:
    new = {**BASE, "at": "2026-01-05T09:00:00+03:00", "at_zone": "Europe/Moscow"}
    assert DECODER(new) == DECODER(new)  # the second read comes from the cache
    for at, zone in [(["x"], "Europe/Moscow"), (new["at"], ["Europe/Moscow"]), (17, "UTC")]:
        data = {**new, "at": at, "at_zone": zone}
        assert DECODER(data) is None
        with pytest.raises(ConfigurationError) as info:
            decode_event(data, "line 1")
        assert {p.path for p in info.value.problems} <= {"line 1.at", "line 1.at_zone"}


@attrs.frozen(kw_only=True)
class Reminded(Event):
    """A host's own event with an optional instant that has a default."""

    until: datetime | None = None

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


def test_an_optional_instant_with_a_default_is_read_in_its_zone_on_both_paths() -> None:
    from itsm_core.serialization._fast_events import EventDecoder

    decoder = EventDecoder({"reminded": Reminded}, "event")
    until = datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=ZoneInfo("Europe/London"))
    event = Reminded(ticket_id="T-1", actor="ann", at=datetime(2026, 1, 5, tzinfo=UTC), until=until)
    data = through_json(encode_event(event))
    assert (data["until"], data["until_zone"]) == ("2026-10-25T01:30:00+00:00", "Europe/London")
    fast = decoder(data)
    assert fast is not None
    for decoded in (fast, slow(data)):
        assert isinstance(decoded, Reminded)
        assert decoded == event
        assert decoded.until is not None
        assert (decoded.until.fold, decoded.until.tzinfo) == (1, ZoneInfo("Europe/London"))
    bare = {k: v for k, v in data.items() if not k.startswith("until")}
    assert decoder(bare) == slow(bare) == attrs.evolve(event, until=None)
    assert decoder({**bare, "until_zone": "Europe/London"}) is None  # a zone and no instant
    with pytest.raises(ConfigurationError, match="nothing, since until is absent"):
        slow({**bare, "until_zone": "Europe/London"})
    with pytest.raises(ConfigurationError, match="until_zone"):
        slow({**data, "until_zone": "Europe/Moscow"})


def test_the_reports_instants_are_read_by_fromisoformat_and_pandas() -> None:
    from itsm_core.cli import main

    examples = Path(__file__).resolve().parents[1] / "docs" / "examples"
    rows: list[dict[str, Any]] = []
    for fmt in ("json", "csv"):
        out = io.StringIO()
        args = [str(examples / "events.jsonl"), "--config", str(examples / "desk.toml")]
        args += ["--now", "2026-03-20T12:00+03:00", "--format", fmt, "--no-progress"]
        code = main(["report", *args], out=out)
        assert code == 0
        text = out.getvalue()
        if fmt == "json":
            rows = [json.loads(line) for line in text.splitlines()]
        else:
            first = next(csv.DictReader(io.StringIO(text)))
            assert first["started_at"] == rows[0]["started_at"]
    written = [v for row in rows for k, v in row.items() if k.endswith("_at") and v]
    assert written
    for text in written:
        assert "[" not in text
        assert datetime.fromisoformat(text).utcoffset() is not None
    pandas = pytest.importorskip("pandas", reason="pandas is not installed: nothing to check")
    read = pandas.to_datetime(pandas.Series(written), utc=True, format="ISO8601")
    assert [ts.to_pydatetime() for ts in read] == [datetime.fromisoformat(t) for t in written]


@attrs.frozen(kw_only=True)
class Checked(Event):
    """A host's own event whose own checks refuse some notes."""

    note: str = ""

    def __attrs_post_init__(self) -> None:
        Event.__attrs_post_init__(self)
        if self.note == "refused":
            raise InvalidValueError("note", self.note, "anything but 'refused'")
        if self.note == "odd":
            raise ValueError("an odd note")

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@pytest.mark.parametrize(("note", "first"), [("refused", "line 1.note"), ("odd", "line 1")])
def test_a_bad_zone_is_reported_beside_the_records_own_refusal(note: str, first: str) -> None:
    data = {"event": "checked", "ticket_id": "T-1", "actor": "ann", "note": note,
            "at": "2026-01-05T09:00:00+05:00", "at_zone": "Europe/Moscow"}  # fmt: skip
    with pytest.raises(ConfigurationError) as info:
        decode_event(data, "line 1")
    assert [p.path for p in info.value.problems] == [first, "line 1.at_zone"]
    with pytest.raises(ConfigurationError) as info:
        decode_event({**data, "at": "2026-01-05T09:00:00+03:00"}, "line 1")
    assert [p.path for p in info.value.problems] == [first]


def test_the_fast_paths_cache_of_zoned_instants_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from itsm_core.serialization import _fast_events

    monkeypatch.setattr(_fast_events, "_INSTANTS_HELD", 2)
    moments = [f"2026-01-0{day}T09:00:00+03:00" for day in range(1, 6)]
    for text in moments * 2:
        read = _fast_events._zoned(text, "Europe/Moscow")
        assert read == datetime.fromisoformat(text)
        assert read.tzinfo == ZoneInfo("Europe/Moscow")
        assert len(_fast_events._ZONED) <= 2
    assert _fast_events._zoned(moments[-1], "Europe/Moscow") is _fast_events._zoned(
        moments[-1], "Europe/Moscow"
    )
