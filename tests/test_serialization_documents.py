"""Reading document text strictly: repeated keys, encodings, nesting, syntax, never a bare error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from itsm_core.errors import ConfigurationError
from itsm_core.serialization import MAX_DOCUMENT_DEPTH, load_desk, parse_document


def problems(raw: bytes | str, fmt: Any = "json") -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        parse_document(raw, format=fmt)
    return [str(p) for p in caught.value.problems]


def test_a_repeated_json_key_is_a_problem_named_with_its_path() -> None:
    text = (
        '{"name": "a", "calendars": {"office": {"timezone": "UTC", "timezone": "Europe/Paris"}},'
        ' "sla": {"policies": [{"name": "p"}, {"name": "q", "name": "r"}]}, "name": "b"}'
    )
    assert problems(text) == [
        "name: duplicate key 'name': give each key once",
        "calendars.office.timezone: duplicate key 'timezone': give each key once",
        "sla.policies[1].name: duplicate key 'name': give each key once",
    ]


def test_check_refuses_a_json_desk_with_a_repeated_key(tmp_path: Path) -> None:
    desk = tmp_path / "desk.json"
    desk.write_text('{"name": "one", "name": "two"}', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "itsm_core", "check", str(desk)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "duplicate key 'name'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_byte_order_mark_is_skipped_and_other_encodings_are_named() -> None:
    assert parse_document("\ufeff{}".encode(), format="json") == {}
    assert parse_document("\ufeffname = 'x'".encode(), format="toml") == {"name": "x"}
    assert problems(b'{"name": "caf\xe9"}') == [
        "not UTF-8 text: byte 0xe9 at offset 13 (save the file as UTF-8)"
    ]


@pytest.mark.parametrize(
    ("raw", "fmt"),
    [
        ("[" * 100_000, "json"),
        ("[" * (MAX_DOCUMENT_DEPTH + 1) + "]" * (MAX_DOCUMENT_DEPTH + 1), "json"),
        ("a = " + "[" * 100_000, "toml"),
        ("a = " + "[" * (MAX_DOCUMENT_DEPTH + 1) + "]" * (MAX_DOCUMENT_DEPTH + 1), "toml"),
    ],
)
def test_deep_nesting_is_refused_beyond_the_documented_depth(raw: str, fmt: Any) -> None:
    assert problems(raw, fmt) == [f"nested deeper than {MAX_DOCUMENT_DEPTH} levels"]


def test_nesting_up_to_the_documented_depth_is_read() -> None:
    depth = MAX_DOCUMENT_DEPTH - 1
    found = parse_document('{"a": ' + "[" * depth + "]" * depth + "}", format="json")
    assert isinstance(found["a"], list)


@pytest.mark.parametrize(
    ("raw", "fmt", "message"),
    [
        ('{"a": }', "json", "not a valid JSON document: Expecting value at line 1, column 7"),
        ("a = = 1", "toml", "not a valid TOML document: Invalid value (at line 1, column 5)"),
        ("[1, 2]", "json", "expected a JSON document holding a table, got list"),
        (3, "json", "expected JSON text, got int"),
    ],
)
def test_syntax_errors_and_non_tables_name_where_and_what(raw: Any, fmt: Any, message: str) -> None:
    assert problems(raw, fmt) == [message]


def test_an_unknown_format_is_a_problem() -> None:
    assert problems("{}", "yaml") == ["format: expected json or toml, got 'yaml'"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=4))
def test_a_document_without_repeats_reads_back_exactly(document: dict[str, Any]) -> None:
    import json

    assert parse_document(json.dumps(document), format="json") == document


def test_a_parsed_desk_loads_like_the_dict() -> None:
    document = parse_document('{"name": "desk"}', format="json")
    assert load_desk(document).name == "desk"
