"""Fuzz the desk loader and the event decoders: nothing but ItsmError may escape.

Run ``python -m tests.fuzz_documents --count 100000``: it feeds ``count``
documents to :func:`itsm_core.serialization.load_desk` (half arbitrary JSON
values, half mutations of the example desk), ``count`` lines to
:func:`itsm_core.serialization.decode_event` (arbitrary JSON and mutations of
real events) and ``count`` CSV rows to
:func:`itsm_core.serialization.decode_event_row`, then prints how many were
tried and what escaped. Any exception
that is not an :class:`~itsm_core.errors.ItsmError` is printed with the input
that raised it, and the exit status is 1.

The generators are seeded (``--seed``), so a run is reproducible. The test
suite runs the same mutations through Hypothesis (``tests/test_serialization_fuzz.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import json
import random
import sys
import time
import tomllib
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from itsm_core.errors import ItsmError
from itsm_core.serialization import (
    decode_event,
    decode_event_row,
    encode_event,
    encode_event_row,
    event_columns,
    event_types,
    load_desk,
)
from itsm_core.ticket import (
    Assigned,
    CommentAdded,
    Event,
    FieldChanged,
    PriorityChanged,
    StateChanged,
    TicketOpened,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "desk.toml"
_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

#: Scalars that tend to break parsers: wrong types, edge numbers, odd text.
ODD_SCALARS: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    1,
    2**63,
    -(2**70),
    0.5,
    -0.0,
    1e308,
    float("inf"),
    float("nan"),
    "",
    " ",
    "8h",
    "eight",
    "PT",
    "P1Y",
    "-1h",
    "9" * 30 + "h",
    "24:00",
    "09:00-09:00",
    "25:61-99:99",
    "2026-02-30",
    "2026-03-06T16:00:00",
    "2026-03-06T16:00:00+03:00[Mars/Olympus]",
    "Europe/Moscow",
    "Mars/Olympus",
    "incident",
    "resolution",
    "P1",
    "NaN",
    "Infinity",
    "1e999",
    "state_changed",
    "\x00",
    "é\u202e",
    "[x]",
    "support",
)


#: Keys a mutation adds to a table: unknown ones and ones that mean something elsewhere.
INSERTED_KEYS = ("extra", "name", "calendar", "start", "event", "P1", "country_holidays", "preset")


def example_document() -> dict[str, Any]:
    """The example desk in its JSON form (TOML dates as ISO text)."""
    with EXAMPLE.open("rb") as file:
        document: dict[str, Any] = json.loads(json.dumps(tomllib.load(file), default=str))
    return document


def example_rows() -> list[dict[str, str]]:
    """CSV rows of the same events."""
    return [encode_event_row(decode_event(e)) for e in example_events()]


def example_events() -> list[dict[str, Any]]:
    """Plain forms of a few real events, one of each common kind."""
    later = _AT + timedelta(hours=1)
    events: list[Event] = [
        TicketOpened(
            ticket_id="INC-1",
            actor="kiosk-17",
            at=_AT,
            type="incident",
            state="new",
            state_category="new",
            title="Frozen screen",
            requester="kiosk-17",
            custom_fields=(("kiosk", "K-17"),),
        ),
        Assigned(ticket_id="INC-1", actor="dana", at=later, assignee="pavel", support_line=2),
        CommentAdded(
            ticket_id="INC-1", actor="pavel", at=later, body="On my way", public=True,
            by_requester=False,
        ),
        PriorityChanged(
            ticket_id="INC-1", actor="dana", at=later, impact="high", urgency="high",
            derived="P1", override=None, effective="P1",
        ),
        FieldChanged(ticket_id="INC-1", actor="pavel", at=later, field="floor", old=None, new=2),
        StateChanged(
            ticket_id="INC-1", actor="pavel", at=later, trigger="resolve", from_state="assigned",
            to_state="resolved", from_category="active", to_category="resolved",
            resolution_code="fixed",
        ),
    ]  # fmt: skip
    return [encode_event(e) for e in events]


# ---------------------------------------------------------------------------- random JSON


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """An arbitrary JSON-shaped value (NaN and infinities included, as json.loads allows)."""
    roll = rng.random()
    if depth >= 4 or roll < 0.45:
        if rng.random() < 0.5:
            return rng.choice(ODD_SCALARS)
        return rng.choice(
            [
                rng.randint(-(10**6), 10**6),
                rng.uniform(-1e6, 1e6),
                "".join(chr(rng.randint(32, 0x2FF)) for _ in range(rng.randint(0, 8))),
            ]
        )
    if roll < 0.7:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = [*ODD_SCALARS[14:], "name", "calendar", "event", "timezone", "metrics", "targets"]
    return {str(rng.choice(keys)): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _paths(
    value: Any, prefix: tuple[Any, ...] = (), found: list[tuple[Any, ...]] | None = None
) -> list[tuple[Any, ...]]:
    """Every path into ``value``, depth first, each container before what it holds."""
    if found is None:
        found = []
    found.append(prefix)
    if isinstance(value, dict):
        for key, item in value.items():
            _paths(item, (*prefix, key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _paths(item, (*prefix, index), found)
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


def mutate(rng: random.Random, document: Any, rounds: int = 3) -> Any:
    """``document`` with a few random changes: values replaced, keys dropped or added,
    list items duplicated, types swapped."""
    result = copy.deepcopy(document)
    for _ in range(rng.randint(1, rounds)):
        paths = _paths(result)
        path = rng.choice(paths)
        if not path:
            if rng.random() < 0.1:
                return random_json(rng)
            continue
        parent = _parent(result, path)
        key = path[-1]
        action = rng.random()
        if action < 0.45:
            parent[key] = random_json(rng, depth=2)
        elif action < 0.6:
            del parent[key]
        elif action < 0.75 and isinstance(parent, dict):
            parent[rng.choice(INSERTED_KEYS)] = random_json(rng, depth=3)
        elif action < 0.85 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            value = parent[key]
            parent[key] = [value] if not isinstance(value, list) else {"x": value}
    return result


# ---------------------------------------------------------------------------- the checks


def check_desk(document: Any) -> None:
    """Load ``document``; an ItsmError is an answer, anything else escapes."""
    with contextlib.suppress(ItsmError):
        load_desk(document)


def check_event(line: Any) -> None:
    """Decode ``line``; an ItsmError is an answer, anything else escapes."""
    with contextlib.suppress(ItsmError):
        decode_event(line)


def check_row(row: Any) -> None:
    """Decode a CSV ``row``; an ItsmError is an answer, anything else escapes."""
    with contextlib.suppress(ItsmError):
        decode_event_row(row)


def random_row(rng: random.Random, rows: list[dict[str, str]]) -> dict[str, Any]:
    """A CSV row: a real one with cells replaced by odd text, or cells of random columns."""
    if rng.random() < 0.5:
        row: dict[str, Any] = dict(rng.choice(rows))
    else:
        row = {"event": rng.choice(list(event_types()))}
    columns = event_columns()
    for _ in range(rng.randint(1, 4)):
        value = random_json(rng, depth=4)
        cell = value if isinstance(value, str) else json.dumps(value, default=str)
        row[rng.choice(columns)] = cell
    return row


# ---------------------------------------------------------------------------- the direct API


class _Odd:
    """An object of no type any record expects."""

    def __repr__(self) -> str:
        return "<odd object>"


#: Values of the wrong type for almost any field (and a few of the right type but wrong value).
WRONG_VALUES: tuple[Any, ...] = (
    *ODD_SCALARS,
    [],
    ["x"],
    [1, 2],
    {},
    {"a": 1},
    (None,),
    ((1, 2),),
    b"bytes",
    object(),
    _Odd(),
    _AT,
    datetime(2026, 3, 2, 9, 0),
    timedelta(hours=-1),
    timedelta(days=10**6),
    frozenset({"x"}),
)


def record_examples() -> dict[type, Any]:
    """One valid instance of every record class reachable from the example desk."""
    found: dict[type, Any] = {}
    todo: list[Any] = [load_desk(example_document())]
    while todo:
        value = todo.pop()
        if attrs.has(type(value)):
            if type(value) in found:
                continue
            found[type(value)] = value
            todo.extend(getattr(value, f.name) for f in attrs.fields(type(value)))
        elif isinstance(value, list | tuple):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
    return found


def random_value(rng: random.Random) -> Any:
    """A value of the wrong type: an odd scalar, an odd object, or random JSON."""
    if rng.random() < 0.7:
        return rng.choice(WRONG_VALUES)
    return random_json(rng, depth=3)


def random_record(rng: random.Random, examples: dict[type, Any]) -> tuple[type, dict[str, Any]]:
    """A record class and keyword arguments: a valid example's, with 1-3 replaced by junk."""
    cls = rng.choice(sorted(examples, key=lambda c: c.__qualname__))
    example = examples[cls]
    fields = [f for f in attrs.fields(cls) if f.init]
    kwargs = {f.alias: getattr(example, f.name) for f in fields}
    for _ in range(rng.randint(1, min(3, len(fields)) if fields else 0)):
        kwargs[rng.choice(fields).alias] = random_value(rng)
    return cls, kwargs


def check_record(cls: type, kwargs: dict[str, Any]) -> None:
    """Build ``cls(**kwargs)``; an ItsmError is an answer, anything else escapes."""
    with contextlib.suppress(ItsmError):
        cls(**kwargs)


@functools.cache
def _api_fixtures() -> tuple[Any, Any, Any, Any]:
    """The lifecycles, policy, calendar and ticket the API calls use: immutable values,
    built once (a refused call changes none of them)."""
    from itsm_core.calendar import BusinessCalendar
    from itsm_core.lifecycle import default_lifecycles
    from itsm_core.permissions import default_policy
    from itsm_core.testing import example_ticket

    calendar = BusinessCalendar.eight_by_five("Europe/Moscow")
    return default_lifecycles(), default_policy(), calendar, example_ticket()


def api_calls(rng: random.Random) -> list[tuple[str, Callable[[], object]]]:
    """Calls of the direct API's entry points with one argument of the wrong type."""
    from itsm_core.permissions import Directory, evaluate_predicate
    from itsm_core.ticket import AddComment

    desk, policy, calendar, ticket = _api_fixtures()
    junk = random_value(rng)

    def pick(good: Any) -> Any:
        return junk if rng.random() < 0.5 else good

    comment = AddComment(body="x", public=True)
    return [
        ("Lifecycles[...]", lambda: desk[junk]),
        (
            "Lifecycles.apply",
            lambda: desk.apply(pick(ticket), pick(comment), actor=pick("ann"), at=pick(_AT)),
        ),
        ("Policy.authorize", lambda: policy.authorize(pick("ann"), pick("view"), pick(ticket))),
        ("Policy.visible", lambda: policy.visible(pick("ann"), pick([ticket]))),
        ("Policy.view", lambda: policy.view(pick("alice"), pick(ticket))),
        ("Policy.predicate", lambda: policy.predicate(pick("ann"), action=pick("view"))),
        ("Directory", lambda: Directory(junk)),
        ("evaluate_predicate", lambda: evaluate_predicate(junk, ticket)),
        ("BusinessCalendar.add", lambda: calendar.add(pick(_AT), pick(timedelta(hours=1)))),
        ("BusinessCalendar.is_open", lambda: calendar.is_open(junk)),
    ]


def run(count: int, seed: int, out: Callable[[str], None]) -> int:
    """Fuzz ``count`` documents and ``count`` event lines; the number of escapes."""
    rng = random.Random(seed)
    desk = example_document()
    events = example_events()
    rows = example_rows()
    examples = record_examples()
    escaped = 0
    tried = {"documents": 0, "event lines": 0, "CSV rows": 0, "records": 0, "API calls": 0}
    started = time.perf_counter()
    for i in range(count):
        cls, kwargs = random_record(rng, examples)
        tried["records"] += 1
        try:
            check_record(cls, kwargs)
        except Exception:
            escaped += 1
            out(f"ESCAPED from record #{i}: {cls.__qualname__}(**{kwargs!r})"[:2000])
            out(traceback.format_exc())
        name, call = rng.choice(api_calls(rng))
        tried["API calls"] += 1
        try:
            with contextlib.suppress(ItsmError):
                call()
        except Exception:
            escaped += 1
            out(f"ESCAPED from API call #{i}: {name}")
            out(traceback.format_exc())
        document = random_json(rng) if i % 2 else mutate(rng, desk)
        line = random_json(rng) if i % 2 else mutate(rng, rng.choice(events))
        for kind, value, check in (
            ("documents", document, check_desk),
            ("event lines", line, check_event),
            ("CSV rows", random_row(rng, rows), check_row),
        ):
            tried[kind] += 1
            try:
                check(value)
            except Exception:
                escaped += 1
                out(f"ESCAPED from {kind} #{i}: {json.dumps(value, default=repr)[:2000]}")
                out(traceback.format_exc())
        if (i + 1) % 10_000 == 0:
            out(f"  ... {i + 1} of {count} ({time.perf_counter() - started:.0f} s)")
    seconds = time.perf_counter() - started
    out(
        f"tried {tried['documents']} desk documents, {tried['event lines']} event lines, "
        f"{tried['CSV rows']} CSV event rows, {tried['records']} records of "
        f"{len(examples)} classes built with wrong types and {tried['API calls']} API calls "
        f"(seed {seed}) in {seconds:.1f} s"
    )
    if escaped:
        out(f"FAILED: {escaped} inputs raised something other than an ItsmError subclass")
    else:
        out("only ItsmError subclasses escaped (or nothing: some inputs were valid)")
    return escaped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="inputs of each kind")
    parser.add_argument("--seed", type=int, default=20260306)
    args = parser.parse_args(argv)
    escaped = run(args.count, args.seed, print)
    return 1 if escaped else 0


if __name__ == "__main__":
    sys.exit(main())
