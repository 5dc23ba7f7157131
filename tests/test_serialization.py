"""Converters: exact plain forms of every public type, durations, datetimes, tagged events."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import itsm_core
from itsm_core.calendar import BusinessCalendar, MonthDay, Window
from itsm_core.errors import ConfigurationError, InvalidValueError, ItsmError, Problem
from itsm_core.escalation import Escalated, TriggerKind
from itsm_core.lifecycle import default_definitions
from itsm_core.metrics import CreditRule
from itsm_core.priority import PriorityMatrix
from itsm_core.serialization import (
    configure_converter,
    decode_event,
    decode_event_row,
    encode_event,
    encode_event_row,
    event_columns,
    event_types,
    format_duration,
    make_converter,
    parse_duration,
    problems_of,
    structure_checked,
)
from itsm_core.sla import Metric, SlaKind, SlaPolicy, Stage, event_kind
from itsm_core.testing import ticket_histories
from itsm_core.testing._entry import _family, _public_types, events
from itsm_core.ticket import (
    CommentAdded,
    Event,
    FieldChanged,
    OpenTicket,
    StateChanged,
    Ticket,
    TicketCommand,
    TicketOpened,
    Transition,
    Watched,
)

CONV = make_converter()
AT = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)


def round_trip(value: Any, cls: Any) -> Any:
    """Through the plain form and JSON text, as a file would carry it."""
    text = json.dumps(CONV.unstructure(value, cls))
    return CONV.structure(json.loads(text), cls)


# ---------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8h", timedelta(hours=8)),
        ("1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("250ms", timedelta(milliseconds=250)),
        ("3us", timedelta(microseconds=3)),
        ("1d 2h", timedelta(days=1, hours=2)),
        ("-1h", timedelta(hours=-1)),
        ("0s", timedelta(0)),
        ("PT8H", timedelta(hours=8)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT1M30S", timedelta(seconds=90)),
        ("PT0.25S", timedelta(milliseconds=250)),
        ("P2W", timedelta(days=14)),
        ("-PT1S", timedelta(seconds=-1)),
    ],
)
def test_a_duration_is_read_in_the_compact_form_or_iso_8601(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "eight",
        "",
        "8",
        "h",
        "1h1h",
        "P",
        "PT",
        "P1Y",
        "P1M",
        "P1DT",
        "1x",
        "8 hours",
        "1" * 20 + "h",
    ],
)
def test_a_malformed_duration_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        parse_duration(text, "targets.P1")
    assert info.value.field == "targets.P1"
    assert '"8h"' in info.value.expected


@pytest.mark.parametrize("value", [8, 8.0, None, True, ["8h"]])
def test_a_duration_must_be_text(value: object) -> None:
    with pytest.raises(InvalidValueError):
        parse_duration(value)


def test_a_duration_beyond_a_million_days_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="at most 999999 days"):
        parse_duration("1000000d")


def test_a_timedelta_passes_through_the_parser_unchanged() -> None:
    assert parse_duration(timedelta(minutes=5)) == timedelta(minutes=5)


@given(st.timedeltas(min_value=timedelta(days=-999_998), max_value=timedelta(days=999_998)))
def test_the_compact_form_of_any_duration_reads_back_exactly(value: timedelta) -> None:
    text = format_duration(value)
    assert parse_duration(text) == value
    assert " " not in text


@given(st.integers(0, 10**12))
def test_the_compact_form_lists_each_unit_once_largest_first(us: int) -> None:
    text = format_duration(timedelta(microseconds=us))
    units = [u for u in ("d", "h", "m", "s", "ms", "us") if _has_unit(text, u)]
    assert text == "0s" or "".join(units) == "".join(
        u for u in ("d", "h", "m", "s", "ms", "us") if u in units
    )


def _has_unit(text: str, unit: str) -> bool:
    import re

    return re.search(rf"\d{unit}(?![a-z])", text) is not None


# ---------------------------------------------------------------------------- datetimes


def test_a_datetime_keeps_its_microseconds_and_offset() -> None:
    at = datetime(2026, 3, 6, 16, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3)))
    assert CONV.unstructure(at, datetime) == "2026-03-06T16:00:00.123456+03:00"
    assert round_trip(at, datetime) == at


def test_a_zoned_datetime_names_its_zone_and_comes_back_in_it() -> None:
    at = datetime(2026, 3, 6, 16, tzinfo=ZoneInfo("Europe/Moscow"))
    text = CONV.unstructure(at, datetime)
    assert text == "2026-03-06T16:00:00+03:00"  # RFC 3339; a record names the zone beside it
    event = Watched(ticket_id="T", actor="a", watcher="b", at=at)
    data = CONV.unstructure(event, Event)
    assert (data["at"], data["at_zone"]) == (text, "Europe/Moscow")
    older = {k: v for k, v in data.items() if k != "at_zone"} | {"at": f"{text}[Europe/Moscow]"}
    for plain in (data, older, {**older, "at_zone": "Europe/Moscow"}):
        back = CONV.structure(plain, Event).at
        assert back == at
        assert back.tzinfo == ZoneInfo("Europe/Moscow")
    assert CONV.structure(f"{text}[Europe/Moscow]", datetime).tzinfo == ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize("fold", [0, 1])
def test_a_repeated_or_skipped_wall_time_keeps_its_fold(fold: int) -> None:
    london = ZoneInfo("Europe/London")
    for wall in (datetime(2026, 10, 25, 1, 30), datetime(2026, 3, 29, 1, 30)):
        at = wall.replace(tzinfo=london, fold=fold)
        back = round_trip(Watched(ticket_id="T", actor="a", watcher="b", at=at), Event).at
        assert back == at
        assert back.fold == fold
        assert back.utcoffset() == at.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-06T16:00:00",
        "2026-03-06",
        "yesterday",
        "2026-03-06T16:00:00+03:00[Mars/Olympus]",
        "2026-03-06T16:00:00+05:00[Europe/Moscow]",
        "2026-13-06T16:00:00+03:00",
        17,
    ],
)
def test_a_datetime_without_a_usable_offset_is_refused(text: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        structure_checked(CONV, text, datetime, "at")
    assert info.value.problems[0].path == "at"


def test_an_aware_datetime_object_is_accepted_and_a_naive_one_is_not() -> None:
    assert CONV.structure(AT, datetime) is AT
    with pytest.raises(InvalidValueError, match="offset is missing"):
        CONV.structure(datetime(2026, 1, 1), datetime)


def test_dates_are_iso_text_and_toml_dates_are_accepted() -> None:
    assert CONV.unstructure(date(2026, 1, 7), date) == "2026-01-07"
    assert CONV.structure("2026-01-07", date) == date(2026, 1, 7)
    assert CONV.structure(date(2026, 1, 7), date) == date(2026, 1, 7)
    for bad in ("2026-1-7", "07.01.2026", AT, 20260107):
        with pytest.raises(InvalidValueError):
            CONV.structure(bad, date)


# ---------------------------------------------------------------------------- primitives


@pytest.mark.parametrize(
    ("value", "cls"),
    [("3", int), (True, int), (3.5, int), (3, str), ("yes", bool), (1, bool), ("1.5", float)],
)
def test_primitives_are_never_coerced(value: object, cls: type) -> None:
    with pytest.raises(InvalidValueError):
        CONV.structure(value, cls)


def test_a_float_field_accepts_an_integer() -> None:
    assert CONV.structure(2, float) == 2.0


def test_enums_are_written_by_value_and_read_strictly() -> None:
    assert CONV.unstructure(SlaKind.OLA, SlaKind) == "ola"
    assert CONV.unstructure(TriggerKind.NO_REPLY, TriggerKind) == "no_reply"
    assert CONV.structure("met", Stage) is Stage.MET
    with pytest.raises(InvalidValueError, match="one of pending, running"):
        CONV.structure("MET", Stage)


def test_decimals_are_exact_text() -> None:
    rule = CreditRule(metric="resolution", below_percent="99.95", credit_percent=10)
    data = CONV.unstructure(rule, CreditRule)
    assert data["below_percent"] == "99.95"
    assert round_trip(rule, CreditRule) == rule
    for bad in ("NaN", "Infinity", "ninety", 1.5, True, "9" * 80):
        with pytest.raises(InvalidValueError):
            CONV.structure(bad, Decimal)


def test_a_window_is_written_as_text_and_read_as_text_or_a_table() -> None:
    window = Window(start="22:00", end="06:00")
    assert CONV.unstructure(window, Window) == "22:00-06:00"
    assert CONV.structure("22:00-06:00", Window) == window
    assert CONV.structure({"start": "22:00", "end": "06:00"}, Window) == window
    for bad in ("22:00", "09:00-09:00", "25:00-26:00", 9, {"start": "09:00"}):
        with pytest.raises(InvalidValueError):
            CONV.structure(bad, Window)


def test_custom_fields_are_a_table_or_a_list_of_pairs() -> None:
    opened = TicketOpened(
        ticket_id="T-1",
        actor="a",
        at=AT,
        type="incident",
        state="new",
        state_category="new",
        title="t",
        requester="a",
        custom_fields=(("kiosk", "K-17"), ("floor", 2)),
    )
    data = CONV.unstructure(opened, TicketOpened)
    assert data["custom_fields"] == {"kiosk": "K-17", "floor": 2}
    assert round_trip(opened, TicketOpened) == opened
    twice = attrs.evolve(opened, custom_fields=(("a", 1), ("a", 2)))
    assert CONV.unstructure(twice, TicketOpened)["custom_fields"] == [["a", 1], ["a", 2]]
    assert round_trip(twice, TicketOpened) == twice


def test_a_field_value_must_be_a_json_scalar() -> None:
    change = {"event": "field_changed", "ticket_id": "T", "actor": "a", "at": "2026-01-01T00:00Z"}
    with pytest.raises(ConfigurationError, match=r"new: expected a string, a number or true/false"):
        decode_event({**change, "field": "f", "old": None, "new": [1]})
    event = decode_event({**change, "field": "f", "old": None, "new": 1.5})
    assert isinstance(event, FieldChanged)
    assert event.new == 1.5


# ---------------------------------------------------------------------------- records


def test_defaults_are_left_out_of_the_plain_form() -> None:
    data = CONV.unstructure(MonthDay(month=12, day=25), MonthDay)
    assert data == {"month": 12, "day": 25}
    calendar = BusinessCalendar(timezone="UTC")
    assert CONV.unstructure(calendar, BusinessCalendar) == {"timezone": "UTC"}


def test_a_standard_metric_is_written_without_its_conditions() -> None:
    metric = Metric.resolution({"P1": timedelta(hours=4)}, default_target=timedelta(hours=8))
    assert CONV.unstructure(metric, Metric)["name"] == "resolution"
    policy = SlaPolicy(
        name="p",
        calendar=BusinessCalendar.eight_by_five("UTC"),
        metrics=(metric, Metric.first_response({"P1": timedelta(minutes=15)}, name="reply")),
    )
    data = CONV.unstructure(policy, SlaPolicy)
    assert data["metrics"] == {
        "resolution": {"targets": {"P1": "4h"}, "default_target": "8h"},
        "reply": {"preset": "first_response", "targets": {"P1": "15m"}},
    }
    assert round_trip(policy, SlaPolicy) == policy


def test_a_metric_table_may_override_the_conditions_of_its_preset() -> None:
    data = {
        "name": "p",
        "calendar": {"timezone": "UTC"},
        "metrics": {
            "resolution": {"targets": {"P1": "4h"}, "pause": [], "on_priority_change": "keep"},
            "custom": {
                "targets": {"P1": "1h"},
                "start": [{"event": "ticket_opened"}],
                "stop": [{"event": "state_changed", "category": ["resolved"]}],
            },
        },
    }
    policy = structure_checked(CONV, data, SlaPolicy)
    assert policy.metric("resolution").pause == ()
    assert policy.metric("resolution").cancel == Metric.resolution({"P": timedelta(1)}).cancel
    assert policy.metric("custom").stop[0].category == ("resolved",)
    assert round_trip(policy, SlaPolicy) == policy


@pytest.mark.parametrize(
    ("metric", "path", "message"),
    [
        ({"preset": "fastest", "targets": {}}, "metrics.m.preset", "expected one of first_"),
        ({"name": "other", "targets": {}}, "metrics.m.name", "the metric's key 'm'"),
        ({"targets": {"P1": "1h"}}, "metrics.m.start", "missing"),
        ([], "metrics.m", "a table of metric fields"),
        ({"targets": ["1h"]}, "metrics.m.targets", "a table of priority = duration"),
        ({"targets": {"P1": "-1h"}, "preset": "resolution"}, "metrics.m.targets.P1", "positive"),
    ],
)
def test_a_bad_metric_table_names_its_path(metric: object, path: str, message: str) -> None:
    data = {"name": "p", "calendar": {"timezone": "UTC"}, "metrics": {"m": metric}}
    with pytest.raises(ConfigurationError) as info:
        structure_checked(CONV, data, SlaPolicy)
    assert any(p.path == path and message in p.message for p in info.value.problems), info.value


def test_the_priority_matrix_uses_its_own_plain_form() -> None:
    matrix = PriorityMatrix.four_by_four()
    assert CONV.unstructure(matrix, PriorityMatrix) == matrix.to_dict()
    assert round_trip(matrix, PriorityMatrix) == matrix
    with pytest.raises(ConfigurationError) as info:
        structure_checked(CONV, {"sla": 1}, dict[str, PriorityMatrix], "desk")
    assert info.value.problems[0].path == "desk.sla"


def test_errors_in_a_constructor_are_reported_relative_to_the_record() -> None:
    data = {"name": "", "calendar": {"timezone": "UTC"}, "metrics": {}}
    with pytest.raises(ConfigurationError) as info:
        structure_checked(CONV, data, SlaPolicy, "sla.policies[0]")
    assert [str(p) for p in info.value.problems] == [
        'sla.policies[0].name: expected a non-empty name, got ""'
    ]


def test_problems_of_an_unexpected_error_keep_its_message() -> None:
    assert problems_of(KeyError("x"), "a.b") == [Problem("a.b", "missing")]
    assert problems_of(ValueError("odd"), "a") == [Problem("a", "odd")]
    assert problems_of(ValueError(), "a") == [Problem("a", "ValueError")]


def test_unknown_keys_are_named_with_what_is_allowed() -> None:
    with pytest.raises(ConfigurationError) as info:
        structure_checked(CONV, {"month": 1, "day": 1, "year": 2026, "two words": 1}, MonthDay)
    assert [str(p) for p in info.value.problems] == [
        '["two words"]: unknown key; expected one of month, day',
        "year: unknown key; expected one of month, day",
    ]


def test_a_list_field_accepts_a_single_name_and_refuses_other_scalars() -> None:
    condition = CONV.structure(
        {"event": "state_changed", "category": "resolved"}, itsm_core.Condition
    )
    assert condition.category == ("resolved",)
    with pytest.raises(ConfigurationError) as info:
        structure_checked(CONV, {"start": 1}, itsm_core.Condition)
    assert "start: unknown key" in str(info.value)
    with pytest.raises(ConfigurationError, match=r"holidays: expected a list, got 3"):
        structure_checked(CONV, {"timezone": "UTC", "holidays": 3}, BusinessCalendar)
    with pytest.raises(ConfigurationError, match=r"expected a list of 2 items"):
        structure_checked(CONV, [1, 2, 3], tuple[int, int])


def test_a_record_must_be_a_table() -> None:
    with pytest.raises(ConfigurationError, match=r"expected a table of MonthDay fields"):
        structure_checked(CONV, [12, 25], MonthDay)


def test_configure_converter_teaches_a_users_converter_without_touching_the_global_one() -> None:
    mine = configure_converter(cattrs.Converter())
    assert mine.unstructure(timedelta(hours=8)) == "8h"
    assert cattrs.unstructure(timedelta(hours=8)) == timedelta(hours=8)


def test_every_public_record_has_a_strategy_and_a_round_trip_below() -> None:
    public = {
        obj
        for name in itsm_core.__all__
        if isinstance(obj := getattr(itsm_core, name), type) and attrs.has(obj)
    }
    assert public <= set(_public_types())


# Drawing these takes tens of milliseconds (an SLA evaluation, a whole desk, a policy
# over composite calendars): they run a tenth or a quarter of the profile's examples,
# at least 50, so that the suite stays well inside the CI budget.
SLOW_TO_DRAW = {"Cycle": 10, "MetricClock": 10, "Desk": 10, "ServiceCredit": 10}
SLOW_TO_DRAW |= {"Compliance": 10, "SlaStatus": 10, "SlaPolicy": 4, "Condition": 4}
SLOW_TO_DRAW |= {"Metric": 4, "CompositeCalendar": 4, "Route": 4}
SLOW_TO_DRAW |= {"TicketStatus": 10, "Due": 10, "Outcome": 10}


#: An ``Outcome`` is what ``Desk.apply`` and ``advance`` answer: its history is the live,
#: validated one, and what a host stores of it is its events, which must round-trip.
STORED_AS_EVENTS = {"Outcome"}


# Hypothesis spends about half a millisecond on every example besides drawing it, so
# the types whose every example is cheap are drawn together, a few of one room in each
# example: every type still meets the profile's full count of its own values.
GROUP_SIZE = 8


def _round_trip_groups() -> list[tuple[type, ...]]:
    groups: list[tuple[type, ...]] = []
    cheap: dict[str, list[type]] = {}
    for cls in _public_types():
        if cls.__name__ in SLOW_TO_DRAW:
            groups.append((cls,))
        else:
            cheap.setdefault(cls.__module__.split(".")[1], []).append(cls)
    for room in cheap.values():
        count = -(-len(room) // GROUP_SIZE)
        groups += [tuple(room[i::count]) for i in range(count)]
    return groups


ROUND_TRIP_GROUPS = _round_trip_groups()


def test_the_round_trip_groups_cover_every_public_type_once() -> None:
    drawn = [cls for group in ROUND_TRIP_GROUPS for cls in group]
    assert sorted(drawn, key=repr) == sorted(_public_types(), key=repr)
    assert all(len(group) == 1 for group in ROUND_TRIP_GROUPS if group[0].__name__ in SLOW_TO_DRAW)


@pytest.mark.parametrize(
    "types", ROUND_TRIP_GROUPS, ids=lambda types: "-".join(cls.__name__ for cls in types)
)
def test_every_public_type_round_trips_exactly(types: tuple[type, ...]) -> None:
    examples = settings().max_examples
    divisor = SLOW_TO_DRAW.get(types[0].__name__, 1)

    @settings(deadline=None, max_examples=max(50, examples // divisor))
    @given(st.tuples(*(st.from_type(cls) for cls in types)))
    def check(values: tuple[Any, ...]) -> None:
        for cls, value in zip(types, values, strict=True):
            if cls.__name__ in STORED_AS_EVENTS:
                assert round_trip(value.events, tuple[Event, ...]) == value.events, cls
            else:
                assert round_trip(value, cls) == value, cls

    check()


# ---------------------------------------------------------------------------- events


def test_events_are_tagged_with_the_kind_conditions_name() -> None:
    # A kind is the class name in snake case: lower-case words joined by "_" that,
    # capitalized and joined, give the class name back.
    for kind, cls in event_types().items():
        words = kind.split("_")
        assert all(word.isalpha() and word.islower() for word in words), kind
        assert "".join(word.capitalize() for word in words) == cls.__name__
    change = StateChanged(
        ticket_id="T-1",
        actor="ann",
        at=AT,
        trigger="resolve",
        from_state="in_progress",
        to_state="resolved",
        from_category="active",
        to_category="resolved",
    )
    data = encode_event(change)
    assert data["event"] == event_kind(change) == "state_changed"
    assert decode_event(data) == change


def test_escalation_events_join_the_family() -> None:
    assert event_types()["escalated"] is Escalated
    assert set(_family(Event)) <= set(event_types().values())


@given(ticket_histories(max_steps=12))
def test_a_json_lines_history_of_mixed_events_decodes_to_the_same_ticket(history: Any) -> None:
    lines = [json.dumps(encode_event(e)) for e in history.events]
    decoded = [decode_event(json.loads(line), f"line {i}") for i, line in enumerate(lines, 1)]
    assert decoded == list(history.events)
    assert history.lifecycle.replay(decoded) == history.ticket
    assert round_trip(history.ticket, Ticket) == history.ticket


def test_an_event_without_a_known_kind_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r'line 2: expected a table with "event"'):
        decode_event({"ticket_id": "T"}, "line 2")
    with pytest.raises(ConfigurationError, match=r"line 2.event: expected one of ticket_opened"):
        decode_event({"event": "exploded"}, "line 2")
    with pytest.raises(ConfigurationError, match=r"line 2.event: expected one of"):
        decode_event({"event": ["state_changed"]}, "line 2")
    with pytest.raises(ConfigurationError):
        decode_event("state_changed")


def test_a_tag_that_contradicts_the_class_is_refused() -> None:
    data = encode_event(
        CommentAdded(ticket_id="T", actor="a", at=AT, body="b", public=True, by_requester=False)
    )
    with pytest.raises(ConfigurationError, match=r"event: expected 'comment_added'"):
        structure_checked(CONV, {**data, "event": "watched"}, CommentAdded)
    assert CONV.structure({k: v for k, v in data.items() if k != "event"}, CommentAdded)


def test_encode_event_wants_an_event() -> None:
    with pytest.raises(InvalidValueError):
        encode_event({"event": "watched"})  # type: ignore[arg-type]


def test_commands_are_tagged_too() -> None:
    commands: list[TicketCommand] = [
        OpenTicket(ticket_id="T-1", type="incident", title="t", requester="r"),
        Transition(trigger="hold", hold_reason="awaiting_vendor"),
    ]
    data = CONV.unstructure(commands, list[TicketCommand])
    assert [d["command"] for d in data] == ["open_ticket", "transition"]
    assert CONV.structure(data, list[TicketCommand]) == commands
    with pytest.raises(ConfigurationError, match=r"command: expected one of"):
        structure_checked(CONV, {"command": "explode"}, TicketCommand)


def test_lifecycle_definitions_round_trip() -> None:
    for definition in default_definitions():
        assert round_trip(definition, type(definition)) == definition


def test_an_itsm_error_from_a_hook_is_an_itsm_error_to_callers() -> None:
    with pytest.raises(ItsmError):
        structure_checked(CONV, {"timezone": "Mars/Olympus"}, BusinessCalendar)


# ---------------------------------------------------------------------------- CSV rows


def through_csv(row: dict[str, str]) -> dict[str, str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    return next(csv.DictReader(io.StringIO(buffer.getvalue())))


@given(events())
def test_any_event_survives_a_csv_row_exactly(event: Event) -> None:
    row = encode_event_row(event)
    assert all(isinstance(cell, str) for cell in row.values())
    assert set(row) <= set(event_columns())
    assert decode_event_row(through_csv(row)) == event


@pytest.mark.parametrize("name", ["{", "[x", " {a}", "{}"])
def test_a_list_of_names_starting_like_json_survives_a_csv_row(name: str) -> None:
    from itsm_core.escalation import NotificationRequested

    event = NotificationRequested(
        ticket_id="T-1", actor="escalation", at=datetime(2026, 1, 1, tzinfo=UTC), rule="r",
        level=1, recipients=(), reason="", roles=(), groups=(), unresolved=(name,), message="",
    )  # fmt: skip
    row = encode_event_row(event)
    assert json.loads(row["unresolved"]) == [name]
    assert decode_event_row(through_csv(row)) == event


@given(ticket_histories(max_steps=8))
def test_a_csv_history_replays_to_the_same_ticket(history: Any) -> None:
    rows = [through_csv(encode_event_row(e)) for e in history.events]
    decoded = [decode_event_row(row, f"events.csv:{i}") for i, row in enumerate(rows, 2)]
    assert history.lifecycle.replay(decoded) == history.ticket


def test_a_row_reads_booleans_numbers_and_empty_cells_kindly() -> None:
    base = {"ticket_id": "T", "actor": "a", "at": "2026-03-02T09:00:00+03:00"}
    comment = decode_event_row(
        {"event": "comment_added", **base, "body": "", "public": "Yes", "by_requester": "0"}
    )
    assert isinstance(comment, CommentAdded)
    assert (comment.body, comment.public, comment.by_requester) == ("", True, False)
    change = decode_event_row(
        {"event": "field_changed", **base, "field": "floor", "old": "", "new": "2", "custom": ""}
    )
    assert isinstance(change, FieldChanged)
    assert (change.old, change.new, change.custom) == (None, 2, False)
    quoted = decode_event_row(
        {"event": "field_changed", **base, "field": "f", "old": "", "new": '"2"'}
    )
    assert isinstance(quoted, FieldChanged)
    assert quoted.new == "2"
    approval = decode_event_row({"event": "approval_requested", **base, "approvers": "cab;ciso"})
    assert approval == decode_event(
        {"event": "approval_requested", **base, "approvers": ["cab", "ciso"]}
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"event": "comment_added", "public": "maybe"}, "x.public: expected true or false"),
        ({"event": "assigned", "support_line": "2nd"}, "x.support_line: expected a whole number"),
        ({"event": "ticket_opened", "links": "[oops"}, "x.links: expected JSON text"),
        ({"event": "exploded"}, "x.event: expected one of ticket_opened"),
        ({"ticket_id": "T"}, "x.event: expected one of"),
        ({"event": "watched", "colour": "red"}, "x.colour: unknown key"),
        ({"event": "watched", "watcher": 3}, "x.watcher: expected a string, got 3"),
    ],
)
def test_a_bad_row_names_its_column(row: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        decode_event_row(row, "x")
    assert any(str(p).startswith(message) for p in info.value.problems), info.value


def test_a_row_must_be_a_mapping_and_an_event_an_event() -> None:
    with pytest.raises(ConfigurationError, match="expected a row of cells"):
        decode_event_row(["watched"], "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        encode_event_row("watched")  # type: ignore[arg-type]


def test_the_columns_of_one_kind_and_of_all() -> None:
    assert event_columns("major_set") == ("event", "ticket_id", "actor", "at", "at_zone", "reason")
    columns = event_columns()
    assert len(columns) == len(set(columns))
    assert {"trigger", "watcher", "rule", "due_at"} <= set(columns)
