"""The report's event decoding: the direct decoder agrees with the cattrs converter."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.cli._common import json_loads
from itsm_core.errors import ConfigurationError
from itsm_core.serialization import decode_event, encode_event
from itsm_core.serialization._converter import event_decoder, shared_converter, structure_checked
from itsm_core.testing import events
from itsm_core.ticket import Event, TicketOpened

#: The decoder ``decode_event`` tries first (nested records included).
DECODER = event_decoder()


def slow(data: object) -> Event:
    """The reference: the cattrs converter, every problem explained."""
    event: Event = structure_checked(shared_converter(), data, Event, "")
    return event


def same(a: Event, b: Event) -> bool:
    """Equal records whose instants also carry the same kind of zone (name or offset)."""
    zones = [
        (type(x.tzinfo), getattr(x.tzinfo, "key", None))
        for e in (a, b)
        for x in attrs_values(e)
        if isinstance(x, datetime)
    ]
    half = len(zones) // 2
    return a == b and zones[:half] == zones[half:]


def attrs_values(event: Event) -> list[Any]:
    return [getattr(event, a.name) for a in attrs.fields(type(event))]


#: Plain values of every kind, flat (a recursive strategy costs more than the test).
JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.lists(st.integers() | st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers() | st.none(), max_size=2),
)


@given(events())
def test_every_event_of_the_library_is_read_directly_and_equals_the_converters_answer(
    event: Event,
) -> None:
    data = json.loads(json.dumps(encode_event(event)))
    fast = DECODER(data)
    assert fast is not None, f"{type(event).__name__} took the slow path"
    assert same(fast, slow(data))
    assert same(decode_event(data), fast)
    # written without __init__: the same class, hashable (no list left inside), same hash
    assert type(fast) is type(event)
    assert hash(fast) == hash(slow(data))


@settings(max_examples=max(50, settings().max_examples // 4))
@given(events(), st.data())
def test_a_damaged_event_is_read_directly_only_when_the_converter_reads_it_the_same(
    event: Event, data: st.DataObject
) -> None:
    plain = json.loads(json.dumps(encode_event(event)))
    key = data.draw(st.sampled_from([*plain, "unknown"]), label="key")
    if data.draw(st.booleans(), label="remove") and key in plain:
        del plain[key]
    else:
        plain[key] = data.draw(JSON, label="value")
    fast = DECODER(plain)
    try:
        reference = slow(plain)
    except ConfigurationError:
        assert fast is None
        return
    assert fast is None or same(fast, reference)
    assert same(decode_event(plain), reference)


def test_an_instant_is_read_with_its_zone_name_when_the_offset_fits_and_refused_otherwise() -> None:
    base = {"event": "watched", "ticket_id": "T-1", "actor": "ann", "watcher": "bob"}
    moscow = DECODER({**base, "at": "2026-03-13T10:47:00+03:00[Europe/Moscow]"})
    assert moscow is not None
    assert moscow.at.tzinfo.key == "Europe/Moscow"  # type: ignore[union-attr]
    # The offset Moscow does not have: the converter explains, the fast path steps aside.
    wrong = {**base, "at": "2026-03-13T10:47:00+05:00[Europe/Moscow]"}
    assert DECODER(wrong) is None
    for bad in (
        "2026-03-13T10:47:00",  # no offset
        "2026-03-13T10:47:00+03:00[Nowhere/Zone]",
        "2026-03-13T10:47:00+03:00[a[b]",
        "2026-03-13T10:47:00+03:00]",
        "2026-03-13",
        "x" * 120,
        20260313,
    ):
        assert DECODER({**base, "at": bad}) is None, bad
        with pytest.raises(ConfigurationError, match=r"line 1\.at: expected an"):
            decode_event({**base, "at": bad}, "line 1")


def test_an_instant_on_both_sides_of_a_repeated_wall_time_keeps_its_own_offset() -> None:
    base = {"event": "watched", "ticket_id": "T-1", "actor": "ann", "watcher": "bob"}
    first = DECODER({**base, "at": "2026-11-01T01:30:00-04:00[America/New_York]"})
    second = DECODER({**base, "at": "2026-11-01T01:30:00-05:00[America/New_York]"})
    assert first is not None
    assert second is not None
    assert (first.at.fold, second.at.fold) == (0, 1)
    assert second.at.utcoffset() != first.at.utcoffset()


def test_anything_but_a_tagged_table_of_a_known_kind_takes_the_converters_path() -> None:
    watched = {"event": "watched", "ticket_id": "T-1", "actor": "a", "watcher": "b"}
    watched["at"] = "2026-03-13T10:47:00+00:00"
    assert DECODER(watched) is not None
    assert DECODER([watched]) is None
    assert DECODER({**watched, "event": "no_such_kind"}) is None
    assert DECODER({**watched, "event": ["watched"]}) is None
    event = decode_event(watched)
    assert decode_event(event) is event


def test_custom_fields_are_read_from_a_table_or_from_pairs_as_the_converter_reads_them() -> None:
    opened = json.loads(
        '{"event": "ticket_opened", "ticket_id": "T", "actor": "a", '
        '"at": "2026-03-13T10:47:00+00:00", "type": "incident", "state": "new", '
        '"state_category": "new", "title": "t", "requester": "r"}'
    )
    custom: Any
    for custom in (
        {"site": "HQ", "seats": 3},
        [["site", "HQ"], ["seats", 3]],
        [["site"]],
        {"x": {}},
    ):
        plain = {**opened, "custom_fields": custom}
        fast = DECODER(plain)
        try:
            reference = slow(plain)
        except ConfigurationError:
            assert fast is None
            continue
        assert fast == reference
        assert isinstance(fast, TicketOpened)
        assert fast.custom_fields == (("site", "HQ"), ("seats", 3))


def _typed(value: Any) -> Any:
    """A value with the type of every leaf spelled out (1, 1.0 and True differ; NaN equals NaN)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float) and value != value:
        return ("nan",)
    return (type(value).__name__, value)


LINE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=6),
    st.lists(st.integers() | st.floats() | st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers() | st.floats(), max_size=3),
)


@given(st.dictionaries(st.text(max_size=5), LINE_VALUES, max_size=5), st.text(max_size=4))
def test_a_line_reads_exactly_as_the_standard_library_reads_it(
    data: dict[str, Any], damage: str
) -> None:
    for line in (json.dumps(data), json.dumps(data, ensure_ascii=False), json.dumps(data) + damage):
        try:
            expected = _typed(json.loads(line))
        except (ValueError, RecursionError) as exc:
            with pytest.raises(type(exc)):
                json_loads(line)
            continue
        assert _typed(json_loads(line)) == expected


def test_lines_orjson_reads_differently_are_read_by_the_standard_library() -> None:
    assert (
        json_loads('{"n": 123456789012345678901234567890}')["n"] == 123456789012345678901234567890
    )
    assert json_loads('{"n": NaN}')["n"] != json_loads('{"n": NaN}')["n"]
    assert json_loads('{"n": Infinity}')["n"] == float("inf")
    with pytest.raises(RecursionError):
        json_loads("[" * 100_000 + "]" * 100_000)
    with pytest.raises(json.JSONDecodeError, match="Expecting"):
        json_loads('{"a": }')
