"""Events as flat rows of text, for CSV: every cell a string, read back exactly."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from itsm_core.errors import ConfigurationError, InvalidValueError, Problem
from itsm_core.serialization._converter import (
    CUSTOM_FIELDS,
    EVENT_TAG,
    class_kind,
    decode_event,
    event_types,
    key_path,
    shared_converter,
    zone_name,
)
from itsm_core.serialization._fast_events import ZONE_SUFFIX, instant_fields
from itsm_core.ticket import Event, FieldValue

__all__ = ["decode_event_row", "encode_event_row", "event_columns"]

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
# ASCII digits only; the converter then holds the value to INT_BOUND, as for JSON events.
_INT = re.compile(r"[-+]?[0-9]{1,30}")


def _kind_of(t: Any) -> str:
    """How a field's text is read: by the field's type."""
    args = set(typing.get_args(t))
    optional = type(None) in args
    base = next(iter(args - {type(None)})) if optional and len(args) == 2 else t
    if t == CUSTOM_FIELDS:
        return "json"
    if t in (FieldValue, FieldValue | None):
        return "scalar"
    if base is bool:
        return "bool?" if optional else "bool"
    if base is int:
        return "int?" if optional else "int"
    if base is str:
        return "str?" if optional else "str"
    if typing.get_origin(base) is tuple and typing.get_args(base)[1:] == (Ellipsis,):
        return "names" if typing.get_args(base)[0] is str else "json"
    if isinstance(base, type) and attrs.has(base):
        return "json"
    return "text?" if optional else "text"


_FIELDS: dict[type, tuple[tuple[str, str, bool], ...]] = {}
_HINTS: dict[type, dict[str, Any]] = {}


def _fields(cls: type) -> tuple[tuple[str, str, bool], ...]:
    """(name, how it is read, has a default) for each field of an event class."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = _hints(cls)
        found = _FIELDS[cls] = tuple(
            (a.name, _kind_of(hints[a.name]), a.default is not attrs.NOTHING)
            for a in attrs.fields(cls)
            if a.init
        )
    return found


def _hints(cls: type) -> dict[str, Any]:
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


_INSTANTS: dict[type, frozenset[str]] = {}


def _instants(cls: type) -> frozenset[str]:
    """The instant fields of an event class, each followed by its ``<field>_zone`` column."""
    found = _INSTANTS.get(cls)
    if found is None:
        found = _INSTANTS[cls] = frozenset(instant_fields(cls, _hints(cls)))
    return found


def event_columns(kind: str | None = None) -> tuple[str, ...]:
    """The columns of event rows: ``event`` then the fields of one kind, or of every kind.

    Each instant column is followed by the column of its zone's name.

    >>> event_columns("watched")
    ('event', 'ticket_id', 'actor', 'at', 'at_zone', 'watcher')
    >>> event_columns()[:5]
    ('event', 'ticket_id', 'actor', 'at', 'at_zone')
    """
    kinds = event_types()
    classes = [kinds[kind]] if kind is not None else list(kinds.values())
    columns: dict[str, None] = {EVENT_TAG: None}
    for cls in classes:
        instants = _instants(cls)
        for name, _, _ in _fields(cls):
            columns[name] = None
            if name in instants:
                columns[name + ZONE_SUFFIX] = None
    return tuple(columns)


def _cell(value: Any, how: str) -> str:
    if value is None:
        return ""
    if how in ("bool", "bool?"):
        return "true" if value else "false"
    if how == "scalar":
        if isinstance(value, str) and value and not _looks_like_json(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    if how == "str?" and (value == "" or value.startswith('"')):
        return json.dumps(value, ensure_ascii=False)
    if how == "names":
        plain = not value[0].lstrip().startswith(("[", "{")) if value else False
        if plain and not any(";" in v or not v for v in value):  # else JSON, as _read expects
            return ";".join(value)
        return json.dumps(list(value), ensure_ascii=False) if value else ""
    if how == "json":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _looks_like_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def encode_event_row(event: Event) -> dict[str, str]:
    """An event as a row of text cells (``None`` is an empty cell), for a CSV file.

    Lists of names are ``;``-separated; custom fields, links and other nested
    values are JSON text. An instant is RFC 3339 with its offset, and the
    column after it names its IANA zone (empty for UTC and fixed offsets, as
    in JSON events). :func:`decode_event_row` reads the row back exactly.

    >>> import pendulum
    >>> from itsm_core.ticket import Assigned
    >>> encode_event_row(Assigned(ticket_id="INC-1", actor="dana", assignee="pavel",
    ...                           at=pendulum.datetime(2026, 3, 2, 9, tz="Europe/Moscow")))
    {'event': 'assigned', 'ticket_id': 'INC-1', 'actor': 'dana', \
'at': '2026-03-02T09:00:00+03:00', 'at_zone': 'Europe/Moscow', 'assignee': 'pavel', \
'group': '', 'support_line': ''}
    """
    if not isinstance(event, Event):
        raise InvalidValueError("event", event, "an Event")
    cls = type(event)
    hints = _hints(cls)
    instants = _instants(cls)
    conv = shared_converter()
    row = {EVENT_TAG: class_kind(cls)}
    for name, how, _ in _fields(cls):
        value = getattr(event, name)
        row[name] = _cell(conv.unstructure(value, hints[name]), how)
        if name in instants:
            row[name + ZONE_SUFFIX] = (zone_name(value) or "") if value is not None else ""
    return row


def _read(text: str, how: str, path: str) -> Any:
    if how in ("bool", "bool?"):
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidValueError(path, text, "true or false (also yes/no, 1/0)")
    if how in ("int", "int?"):
        if _INT.fullmatch(text.strip()):
            return int(text)
        raise InvalidValueError(path, text, "a whole number")
    if how == "scalar":
        if _looks_like_json(text):
            value = json.loads(text)
            if isinstance(value, str | int | float | bool):
                return value
        return text
    if how == "str?" and text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, str) else text
    if how in ("json", "names") and text.lstrip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except ValueError:
            raise InvalidValueError(path, text, "JSON text") from None
    if how == "names":
        return text.split(";")
    return text


def decode_event_row(row: Mapping[str, Any], path: str = "") -> Event:
    """The event a row of text cells describes (as :func:`encode_event_row` writes it).

    An empty cell is ``None`` for an optional field and the default for a field
    that has one, and is ignored in a column of another kind (a file of mixed
    kinds shares one header, :func:`event_columns`); ``true``/``false``
    (``yes``/``no``, ``1``/``0``) are booleans; other cells are read as the
    field's type says. Every problem raises one
    :class:`~itsm_core.errors.ConfigurationError` naming ``path`` and the column.

    An instant's zone column may be empty or missing (the offset then says
    all); an instant in the older form, with the zone in brackets after the
    offset (``2026-03-02T09:00:00+03:00[Europe/Moscow]``), is read too.

    >>> decode_event_row({"event": "assigned", "ticket_id": "INC-1", "actor": "dana",
    ...                   "at": "2026-03-02T09:00:00+00:00", "assignee": "pavel",
    ...                   "group": "", "support_line": "2"}).support_line
    2
    >>> decode_event_row({"event": "assigned", "support_line": "second"}, "events.csv:7")
    Traceback (most recent call last):
    ...
    itsm_core.errors.ConfigurationError: 1 problem in the configuration:
      events.csv:7.support_line: expected a whole number, got 'second'
    """
    if not isinstance(row, Mapping):
        raise ConfigurationError([Problem(path, f"expected a row of cells, got {row!r}")])
    kinds = event_types()
    kind = row.get(EVENT_TAG)
    cls = kinds.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ConfigurationError(
            [
                Problem(
                    key_path(path, EVENT_TAG),
                    f"expected one of {', '.join(kinds)}, got {kind!r}",
                )
            ]
        )
    fields = {name: (how, default) for name, how, default in _fields(cls)}
    data: dict[str, Any] = {EVENT_TAG: kind}
    problems: list[Problem] = []
    for column, text in row.items():
        if column == EVENT_TAG:
            continue
        spec = fields.get(column) if isinstance(column, str) else None
        if spec is None and text == "":
            continue  # an empty cell of another kind's column, in a file of mixed kinds
        if spec is None or not isinstance(text, str):
            data[column] = text  # the converter names what is wrong with it
            continue
        how, has_default = spec
        if text == "":
            if how.endswith("?") or how == "scalar":
                data[column] = None
            elif how == "names" and not has_default:
                data[column] = []
            elif not has_default:
                data[column] = text
            continue
        try:
            data[column] = _read(text, how, key_path(path, column))
        except InvalidValueError as exc:
            problems.append(Problem(exc.field, f"expected {exc.expected}, got {text!r}"))
    if problems:
        raise ConfigurationError(problems)
    return decode_event(data, path)
