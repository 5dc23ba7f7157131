"""Reading the text of a JSON or TOML document strictly: nothing kept silently, nothing raised bare.

The parsers of the standard library keep the last of repeated JSON keys,
stop at a byte-order mark and raise a bare ``RecursionError`` on deep
nesting; :func:`parse_document` reports each of these as a
:class:`~itsm_core.errors.Problem` with its path instead.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any, Literal

from itsm_core.errors import ConfigurationError, Problem

__all__ = ["DOCUMENT_FORMATS", "MAX_DOCUMENT_DEPTH", "parse_document"]

#: The formats :func:`parse_document` reads.
DOCUMENT_FORMATS: tuple[str, ...] = ("json", "toml")
#: How deeply arrays and tables may nest in a document (a desk document needs fewer than 10).
MAX_DOCUMENT_DEPTH = 64

_BOM = "\ufeff"
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class _Table(dict[str, Any]):
    """A JSON object that remembers the keys its text gave more than once."""

    __slots__ = ("repeated",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.repeated: list[str] = []
        for key, value in pairs:
            if key in self and key not in self.repeated:
                self.repeated.append(key)
            self[key] = value


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _plain(value: Any, path: str, problems: list[Problem]) -> Any:
    # Iterative over the (already depth-checked) tree: plain dicts and lists, repeats reported.
    if isinstance(value, _Table):
        for key in value.repeated:
            problems.append(
                Problem(_child(path, key), f"duplicate key {key!r}: give each key once")
            )
        return {k: _plain(v, _child(path, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, _child(path, i), problems) for i, v in enumerate(value)]
    return value


def _json_depth(text: str) -> int:
    depth = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def parse_document(raw: bytes | str, *, format: Literal["json", "toml"]) -> dict[str, Any]:
    """The table a JSON or TOML text holds; every problem is reported with its path.

    UTF-8 only (a leading byte-order mark is skipped); a repeated JSON key,
    nesting deeper than :data:`MAX_DOCUMENT_DEPTH`, a syntax error or a
    document that is not a table raise
    :class:`~itsm_core.errors.ConfigurationError`.

    >>> parse_document('{"name": "desk", "calendars": {"office": {}}}', format="json")
    {'name': 'desk', 'calendars': {'office': {}}}
    >>> parse_document('{"calendars": {"office": {"timezone": "UTC", "timezone": "X"}}}',
    ...                format="json")
    Traceback (most recent call last):
    ...
    itsm_core.errors.ConfigurationError: 1 problem in the configuration:
      calendars.office.timezone: duplicate key 'timezone': give each key once
    >>> parse_document(b"\\xef\\xbb\\xbfname = 'desk'", format="toml")
    {'name': 'desk'}
    """
    if format not in DOCUMENT_FORMATS:
        raise ConfigurationError([Problem("format", f"expected json or toml, got {format!r}")])
    kind = format.upper()
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigurationError(
                [
                    Problem(
                        "",
                        f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} "
                        "(save the file as UTF-8)",
                    )
                ]
            ) from None
    elif isinstance(raw, str):
        text = raw
    else:
        raise ConfigurationError([Problem("", f"expected {kind} text, got {type(raw).__name__}")])
    text = text.removeprefix(_BOM)
    if format == "json" and _json_depth(text) > MAX_DOCUMENT_DEPTH:
        raise ConfigurationError([Problem("", f"nested deeper than {MAX_DOCUMENT_DEPTH} levels")])
    try:
        if format == "json":
            data: Any = json.loads(text, object_pairs_hook=_Table)
        else:
            data = tomllib.loads(text)
    except json.JSONDecodeError as exc:
        where = _line_col(text, exc.pos)
        raise ConfigurationError(
            [Problem("", f"not a valid JSON document: {exc.msg} at {where}")]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError([Problem("", f"not a valid TOML document: {exc}")]) from None
    except RecursionError:
        raise ConfigurationError(
            [Problem("", f"nested deeper than {MAX_DOCUMENT_DEPTH} levels")]
        ) from None
    if format == "toml" and _depth(data) > MAX_DOCUMENT_DEPTH:
        raise ConfigurationError([Problem("", f"nested deeper than {MAX_DOCUMENT_DEPTH} levels")])
    problems: list[Problem] = []
    plain = _plain(data, "", problems)
    if problems:
        raise ConfigurationError(problems)
    if not isinstance(plain, dict):
        raise ConfigurationError(
            [Problem("", f"expected a {kind} document holding a table, got {type(plain).__name__}")]
        )
    return plain


def _depth(value: Any) -> int:
    deepest = 0
    todo: list[tuple[Any, int]] = [(value, 0)]
    while todo:
        current, level = todo.pop()
        if isinstance(current, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level > MAX_DOCUMENT_DEPTH:
                return level
            todo.extend(
                (v, level) for v in (current.values() if isinstance(current, dict) else current)
            )
    return deepest
