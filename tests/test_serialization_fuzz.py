"""Fuzzing with Hypothesis: arbitrary JSON into the desk loader and the event decoder.

The long run is ``python -m tests.fuzz_documents --count 100000``; these
properties run the same checks on every test run, and shrink what they find.
"""

from __future__ import annotations

import contextlib
import functools
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.errors import ItsmError
from itsm_core.serialization import event_columns, event_types
from tests.fuzz_documents import (
    ODD_SCALARS,
    api_calls,
    check_desk,
    check_event,
    check_record,
    check_row,
    example_document,
    example_events,
    example_rows,
    mutate,
    random_record,
    random_row,
    record_examples,
    run,
)

SCALARS = st.one_of(
    st.sampled_from(ODD_SCALARS),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(ODD_SCALARS[13:]), st.text(max_size=8)), children, max_size=4
        ),
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["name", "calendar", "calendars", "sla", "policies", "metrics", "targets", "event", "at"]
)
DESK = example_document()
EVENTS = example_events()
ROWS = example_rows()


@given(JSON)
def test_arbitrary_json_into_the_desk_loader_raises_only_itsm_errors(document: Any) -> None:
    check_desk(document)


@given(st.dictionaries(KEYS, JSON, max_size=4))
def test_arbitrary_tables_into_the_desk_loader_raise_only_itsm_errors(document: Any) -> None:
    check_desk(document)


@given(st.integers(0, 2**32 - 1))
def test_mutations_of_the_example_desk_raise_only_itsm_errors(seed: int) -> None:
    check_desk(mutate(random.Random(seed), DESK, rounds=4))


@given(JSON)
def test_arbitrary_json_into_the_event_decoder_raises_only_itsm_errors(line: Any) -> None:
    check_event(line)


@given(st.integers(0, 2**32 - 1), st.sampled_from(EVENTS))
def test_mutations_of_real_events_raise_only_itsm_errors(seed: int, event: Any) -> None:
    check_event(mutate(random.Random(seed), event))


@given(
    st.sampled_from(list(event_types())),
    st.dictionaries(st.sampled_from(event_columns()), st.one_of(st.text(max_size=12), JSON)),
)
def test_arbitrary_csv_cells_raise_only_itsm_errors(kind: str, cells: dict[str, Any]) -> None:
    check_row({"event": kind, **cells})


@given(st.integers(0, 2**32 - 1))
def test_mutated_csv_rows_raise_only_itsm_errors(seed: int) -> None:
    check_row(random_row(random.Random(seed), ROWS))


def test_the_fuzz_runner_counts_what_it_tried() -> None:
    lines: list[str] = []
    assert run(20, 1, lines.append) == 0
    assert lines[-2].startswith(
        "tried 20 desk documents, 20 event lines, 20 CSV event rows, 20 records of "
    )
    assert "built with wrong types and 20 API calls (seed 1)" in lines[-2]
    assert lines[-1].startswith("only ItsmError subclasses escaped")


@settings(max_examples=300)
@given(st.integers(0, 2**32 - 1))
def test_records_built_from_values_of_the_wrong_type_raise_only_itsm_errors(seed: int) -> None:
    rng = random.Random(seed)
    cls, kwargs = random_record(rng, _record_examples())
    check_record(cls, kwargs)


@settings(max_examples=300)
@given(st.integers(0, 2**32 - 1))
def test_api_calls_with_an_argument_of_the_wrong_type_raise_only_itsm_errors(seed: int) -> None:
    rng = random.Random(seed)
    _, call = rng.choice(api_calls(rng))
    with contextlib.suppress(ItsmError):
        call()


@functools.cache
def _record_examples() -> dict[type, Any]:
    return record_examples()
