"""The hot path of event decoding: plain forms read straight into event records.

:func:`~itsm_core.serialization.decode_event` goes through cattrs, which is
exact and explains every problem, but costs several times ``json.loads`` per
event (generic dispatch per field, a regular expression per instant). An
:class:`EventDecoder` builds, once per event class, a function that checks
each field of the common shapes directly (text, whole numbers, booleans,
instants with an offset and their zone's name in ``<field>_zone`` or, in the
older form, a trailing ``[Zone/Name]``, enums, lists of text or of records)
and calls the class. Whenever anything is unusual (a
missing or extra key, a value of another type, a field of a shape it does not
know, a record whose own checks refuse it) it answers ``None`` and the
caller takes the cattrs path, which gives the answer or the error: the fast
path never decides what is valid, so both paths agree (a Hypothesis property
checks it on random events).
"""

from __future__ import annotations

import enum
import math
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from itsm_core._time import zone
from itsm_core.errors import ItsmError
from itsm_core.ticket import Event, FieldValue, event_writer, unrefusable_event

__all__ = ["ZONE_SUFFIX", "EventDecoder", "attach_zone", "instant_fields"]

#: The zone of an instant field is named in the field of that name plus this suffix:
#: ``at`` holds ``"2026-01-05T09:00:00+03:00"`` and ``at_zone`` holds ``"Europe/Moscow"``.
ZONE_SUFFIX = "_zone"


class _Slow(Exception):
    """Raised inside the fast path: this value is for the cattrs path to judge."""


_SLOW = _Slow()
_NONE = type(None)

#: Whole numbers lie in [-_BOUND, _BOUND), as for the cattrs path.
_BOUND = 2**63

Check = Callable[[Any], Any]


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _SLOW
    return value


def _int(value: Any) -> int:
    if type(value) is not int or not -_BOUND <= value < _BOUND:
        raise _SLOW
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _SLOW
    return value


def _float(value: Any) -> float:
    if type(value) is bool or type(value) not in (int, float) or not math.isfinite(value):
        raise _SLOW
    return float(value)


def _field_value(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool:
        return value
    if kind is int:
        return _int(value)
    if kind is float and math.isfinite(value):
        return value
    raise _SLOW


_ZONES: dict[str, ZoneInfo] = {}


#: Instants already read, by their text (exports repeat them: one per update, minute
#: precision); emptied when full. Datetimes are immutable, so sharing one is safe.
_INSTANTS: dict[str, datetime] = {}
_INSTANTS_HELD = 8192


def _datetime(value: Any) -> datetime:
    """An instant: ISO 8601 with an offset, optionally followed by ``[Zone/Name]``."""
    if type(value) is str:
        found = _INSTANTS.get(value)
        if found is not None:
            return found
    moment = _instant(value)
    if len(_INSTANTS) >= _INSTANTS_HELD:
        _INSTANTS.clear()
    _INSTANTS[value] = moment
    return moment


def _instant(value: Any) -> datetime:
    if type(value) is not str or len(value) >= 100:
        raise _SLOW
    if value[-1:] == "]":
        text, _, name = value[:-1].partition("[")
        if not name or "[" in name or "]" in text or len(name) > 64:
            raise _SLOW
    else:
        if "[" in value or "]" in value:
            raise _SLOW
        text, name = value, ""
    if len(text) <= 10:
        raise _SLOW
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _SLOW from None
    if moment.utcoffset() is None:
        raise _SLOW
    if not name:
        return moment
    return _in_zone(moment, name)


def _in_zone(moment: datetime, name: str) -> datetime:
    """``moment`` (with an offset) in the zone ``name``, if that zone has its offset then."""
    tz = _ZONES.get(name)
    if tz is None:
        try:
            tz = zone(name, "")
        except ItsmError:
            raise _SLOW from None
        if len(_ZONES) < 1024:
            _ZONES[name] = tz
    found = attach_zone(moment, tz)
    if found is None:
        raise _SLOW
    return found


def attach_zone(moment: datetime, tz: ZoneInfo) -> datetime | None:
    """The same instant as ``moment`` in ``tz``, or ``None`` if ``tz`` never shows its offset there.

    The offset tells the two instants of a repeated wall time apart (``fold``);
    a wall time the zone skips has no instant with that offset in it. Both
    decoding paths read a zone's name this way.

    >>> from datetime import datetime
    >>> moment = datetime.fromisoformat("2026-10-25T01:30:00+00:00")
    >>> attach_zone(moment, ZoneInfo("Europe/London")).fold
    1
    >>> attach_zone(moment, ZoneInfo("Europe/Moscow")) is None
    True
    """
    offset = moment.utcoffset()
    wall = moment.replace(tzinfo=None)
    candidate = wall.replace(tzinfo=tz)
    if candidate.utcoffset() == offset:
        return candidate
    candidate = wall.replace(tzinfo=tz, fold=1)
    if candidate.utcoffset() == offset:
        return candidate
    return None


#: Instants read with a zone's name from its own field, by (text, name).
_ZONED: dict[tuple[str, str], datetime] = {}


def _zoned(value: Any, name: Any) -> datetime:
    """An instant whose zone's name came in its ``<field>_zone`` (the RFC 3339 form)."""
    if type(value) is not str or type(name) is not str:
        raise _SLOW  # no instant (null) beside a zone, or not text: cattrs explains
    key = (value, name)
    found = _ZONED.get(key)
    if found is not None:
        return found
    if value[-1:] == "]":
        raise _SLOW  # the older bracketed form as well: cattrs checks that both agree
    moment = _in_zone(_instant(value), name)
    if len(_ZONED) >= _INSTANTS_HELD:
        _ZONED.clear()
    _ZONED[key] = moment
    return moment


def _optional(check: Check) -> Check:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)

    return optional


def _enum(cls: type[enum.Enum]) -> Check:
    members = {(type(m.value), m.value): m for m in cls}

    def check(value: Any) -> Any:
        try:
            return members[type(value), value]
        except (KeyError, TypeError):
            raise _SLOW from None

    return check


def _tuple_of(item: Check, text: bool) -> Check:
    def check(value: Any) -> tuple[Any, ...]:
        if text and type(value) is str:
            return (value,)
        if type(value) is not list and type(value) is not tuple:
            raise _SLOW
        return tuple([item(v) for v in value])

    return check


def _custom_fields(value: Any) -> tuple[tuple[str, Any], ...]:
    """Custom fields: a table of name = value, or a list of [name, value] pairs."""
    if type(value) is dict:
        return tuple([(_str(k), _field_value(v)) for k, v in value.items()])
    if type(value) is not list and type(value) is not tuple:
        raise _SLOW
    pairs = []
    for pair in value:
        if (type(pair) is not list and type(pair) is not tuple) or len(pair) != 2:
            raise _SLOW
        pairs.append((_str(pair[0]), _field_value(pair[1])))
    return tuple(pairs)


_SIMPLE: dict[Any, Check] = {
    tuple[tuple[str, FieldValue], ...]: _custom_fields,
    str: _str,
    int: _int,
    bool: _bool,
    float: _float,
    datetime: _datetime,
    FieldValue: _field_value,
}


def _check_of(t: Any, records: dict[Any, Any]) -> Check | None:
    """The direct check of a field type, or ``None`` for a type only cattrs reads."""
    if t in _SIMPLE:
        return _SIMPLE[t]
    args = typing.get_args(t)
    if _NONE in args and len(args) >= 2:
        rest = tuple(a for a in args if a is not _NONE)
        if len(rest) == 1:
            inner = _check_of(rest[0], records)
        elif t == FieldValue | None:
            inner = _field_value
        else:
            return None
        return None if inner is None else _optional(inner)
    if typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis:
        inner = _check_of(args[0], records)
        return None if inner is None else _tuple_of(inner, args[0] is str)
    if typing.get_origin(t) is None and isinstance(t, type) and issubclass(t, enum.Enum):
        return _enum(t)
    if t in records:  # a nested record the converter reads field by field (see EventDecoder)
        return _record(t, None, records)
    return None


def instant_fields(cls: type, hints: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The fields of an attrs class holding an instant (or ``None``), whose zone has a field.

    A field ``x`` typed ``datetime`` (or ``datetime | None``) gets ``x_zone``
    for its zone's name, unless the class has a field of that name itself.

    >>> from itsm_core.ticket import DueDateSet
    >>> instant_fields(DueDateSet)
    ('at', 'due')
    """
    if hints is None:
        hints = typing.get_type_hints(cls)
    names = {a.name for a in attrs.fields(cls)}
    return tuple(
        a.name
        for a in attrs.fields(cls)
        if a.init
        and (hints.get(a.name) is datetime or hints.get(a.name) == datetime | None)
        and a.name + ZONE_SUFFIX not in names
    )


def _admits_float(t: Any, seen: tuple[type, ...]) -> bool:
    """Whether a value of type ``t`` (a record's fields, recursively) can hold a float."""
    if t is float:
        return True
    args = typing.get_args(t)
    if args:
        return any(_admits_float(a, seen) for a in args if a is not Ellipsis)
    if isinstance(t, type) and attrs.has(t) and t not in seen:
        hints = typing.get_type_hints(t)
        return any(_admits_float(hints[a.name], (*seen, t)) for a in attrs.fields(t))
    return False


#: States of a record class while the checks are built: allowed but not built yet,
#: being built (a record that contains itself is left to cattrs), left to cattrs.
_PENDING: Any = object()
_BUILDING: Any = object()
_CATTRS: Any = object()


def _record(cls: type, tag: tuple[str, str] | None, records: dict[Any, Any]) -> Check | None:
    """A function that builds ``cls`` from its plain form, or ``None`` if cattrs must."""
    found = records.get(cls, _PENDING)
    if found is _BUILDING or found is _CATTRS:
        return None
    if found is not _PENDING:
        return found  # type: ignore[no-any-return]
    records[cls] = _BUILDING
    hints = typing.get_type_hints(cls)
    instants = instant_fields(cls, hints)
    fields: list[tuple[str, Check, bool]] = []
    for a in attrs.fields(cls):
        check = _check_of(hints[a.name], records) if a.init and a.alias == a.name else None
        if check is None:
            records[cls] = _CATTRS
            return None
        fields.append((a.name, check, a.default is attrs.NOTHING))
    names = frozenset(name for name, _, _ in fields) | {n + ZONE_SUFFIX for n in instants}
    if tag is not None:
        names |= {tag[0]}
    build: Check = _generate(cls, fields, names, frozenset(instants))
    if tag is None:
        build = _remembered(build)
    records[cls] = build
    if tag is not None and unrefusable_event(cls):
        records[cls, _CHECK] = _generate(cls, fields, names, frozenset(instants), construct=False)
    return build


#: Records nested in events (an escalation's actions...) built at most this many per
#: builder before its memory is emptied: exports repeat the same few again and again.
_NESTED_HELD = 4096


def _remembered(build: Check) -> Check:
    """``build`` of a nested record, remembered per plain form (records are immutable).

    A plain form read from JSON holds only text, numbers, booleans, ``None``,
    lists and tables, whose ``repr`` tells every two different forms apart
    (``1``, ``1.0``, ``True`` and ``"1"`` included), so equal texts build equal
    records. Refused forms are not remembered: each one is judged again.
    """
    held: dict[str, Any] = {}

    def remembered(value: Any) -> Any:
        if type(value) is not dict:
            return build(value)
        key = repr(value)
        found = held.get(key)
        if found is None:
            found = build(value)
            if len(held) >= _NESTED_HELD:
                held.clear()
            held[key] = found
        return found

    return remembered


#: The key of a record's check-only function (beside its builder) in the records.
_CHECK = "check"


def _generate(
    cls: type,
    fields: list[tuple[str, Check, bool]],
    names: frozenset[str],
    instants: frozenset[str] = frozenset(),
    *,
    construct: bool = True,
) -> Check:
    """The builder of one record class as straight-line code (as cattrs generates its own).

    Required fields are read at once (a missing one is for cattrs to explain);
    text is checked inline, other types by their check; optional fields only
    when present, so the class's defaults apply. An instant field (in
    ``instants``) is read in the zone its ``<field>_zone`` names, when present.
    Without ``construct``, the same checks answer ``True`` instead of calling
    the class (for a class whose construction cannot refuse checked values).
    """
    scope: dict[str, Any] = {
        "cls": cls,
        "names": names,
        "zoned": _zoned,
        "ZONED": _ZONED,
        "TypeError": TypeError,
        "SLOW": _SLOW,
        "str": str,
        "type": type,
        "dict": dict,
        "isinstance": isinstance,
        "KeyError": KeyError,
        "Refused": (ItsmError, TypeError, ValueError, ArithmeticError),
    }
    required = [(i, name, check) for i, (name, check, needed) in enumerate(fields) if needed]
    optional = [(i, name, check) for i, (name, check, needed) in enumerate(fields) if not needed]
    lines = [
        "def build(value):",
        "    if type(value) is not dict or not names.issuperset(value):",
        "        if isinstance(value, cls):",
        "            return value",
        "        raise SLOW",
    ]
    if required:
        lines.append("    try:")
        lines += [f"        v{i} = value[{name!r}]" for i, name, _ in required]
        lines += ["    except KeyError:", "        raise SLOW from None"]
    for i, name, check in required:
        if check is _str:
            lines.append(f"    if type(v{i}) is not str:\n        raise SLOW")
        elif name in instants:
            scope[f"c{i}"] = check
            zone = name + ZONE_SUFFIX
            # The instant read before in that zone, straight from the cache; else zoned().
            lines += [
                f"    if {zone!r} in value:",
                "        try:",
                f"            v{i} = ZONED[v{i}, value[{zone!r}]]",
                "        except (KeyError, TypeError):",
                f"            v{i} = zoned(v{i}, value[{zone!r}])",
                "    else:",
                f"        v{i} = c{i}(v{i})",
            ]
        else:
            scope[f"c{i}"] = check
            lines.append(f"    v{i} = c{i}(v{i})")
    # an event class written directly (event_writer); any other record through __init__
    writer: Callable[..., Any] | None = (
        event_writer(cls) if construct and issubclass(cls, Event) else None
    )
    if writer is cls:
        writer = None
    if writer is None:
        lines.append("    kw = {" + ", ".join(f"{name!r}: v{i}" for i, name, _ in required) + "}")
    else:  # every field in a variable: an absent optional one holds the class's default
        scope["write"] = writer
        for i, name, _ in optional:
            scope[f"d{i}"] = attrs.fields_dict(cls)[name].default
            lines.append(f"    v{i} = d{i}")
    for i, name, check in optional:
        scope[f"c{i}"] = check
        target = f"v{i}" if writer is not None else f"kw[{name!r}]"
        if name in instants:
            zone = name + ZONE_SUFFIX
            lines += [
                f"    if {zone!r} in value:",
                f"        {target} = zoned(value.get({name!r}), value[{zone!r}])",
                f"    elif {name!r} in value:",
                f"        {target} = c{i}(value[{name!r}])",
            ]
        else:
            lines.append(f"    if {name!r} in value:\n        {target} = c{i}(value[{name!r}])")
    if writer is not None:
        lines.append(
            "    return write("
            + ", ".join(  # by position where the writer takes them (fields in order)
                f"v{i}" if not writer.__code__.co_kwonlyargcount else f"{name}=v{i}"
                for i, (name, _, _) in enumerate(fields)
            )
            + ")"
        )
    elif construct:
        lines += [
            "    try:",
            "        return cls(**kw)",
            "    except Refused:",
            "        raise SLOW from None",
        ]
    else:
        lines.append("    return True")
    exec("\n".join(lines), scope)  # code built from the class's own field names
    built: Check = scope["build"]
    return built


class EventDecoder:
    """Plain, tagged event forms to event records, directly, or ``None`` for the cattrs path.

    ``kinds`` maps each tag to its class (as
    :func:`~itsm_core.serialization.event_types` gives it); ``tag`` is the key
    naming the kind; ``nested`` names the record classes found inside events
    that the converter reads field by field (no hook of their own): a field of
    any other record type sends its event to the cattrs path. A kind not in
    ``kinds`` and every value the direct checks do not accept answer ``None``:
    the caller then decodes through cattrs, which returns the same record or
    raises the explained error.

    >>> from itsm_core.serialization import event_types
    >>> decoder = EventDecoder(event_types(), "event")
    >>> decoder.fast_kinds() > 20
    True
    >>> event = decoder({"event": "watched", "ticket_id": "T-1", "actor": "ann",
    ...                  "at": "2026-01-05T09:00:00+03:00", "at_zone": "Europe/Moscow",
    ...                  "watcher": "bob"})
    >>> event.watcher, event.at.tzinfo.key, event.at.hour
    ('bob', 'Europe/Moscow', 9)
    >>> older = decoder({"event": "watched", "ticket_id": "T-1", "actor": "ann",
    ...                  "at": "2026-01-05T09:00:00+03:00[Europe/Moscow]", "watcher": "bob"})
    >>> older == event, older.at.tzinfo is event.at.tzinfo
    (True, True)
    >>> decoder({"event": "watched", "ticket_id": "T-1", "at": "yesterday"}) is None
    True
    """

    def __init__(
        self, kinds: Mapping[str, type[Event]], tag: str, nested: tuple[type, ...] = ()
    ) -> None:
        self.tag = tag
        records: dict[Any, Any] = dict.fromkeys(nested, _PENDING)
        self._builders: dict[str, Check | None] = {
            kind: _record(cls, (tag, kind), records) for kind, cls in kinds.items()
        }
        self._checks: dict[str, Check] = {
            kind: records.get((cls, _CHECK), build)
            for (kind, cls), build in zip(kinds.items(), self._builders.values(), strict=True)
            if build is not None
        }
        self._float_kinds = frozenset(
            kind
            for kind, cls in kinds.items()
            if self._builders[kind] is not None and _admits_float(cls, ())
        )

    def float_kinds(self) -> frozenset[str]:
        """The kinds read directly whose records can hold a float somewhere.

        A reader that parses JSON with a library reading integers beyond 64
        bits as floats (orjson) checks only the lines of these kinds for
        floats: in a line of any other kind a float is refused by the direct
        checks, so the line takes the cattrs path either way.

        >>> from itsm_core.serialization import event_types
        >>> from itsm_core.ticket import ArticleLink, Attachment, Link
        >>> nested = (ArticleLink, Attachment, Link)
        >>> kinds = EventDecoder(event_types(), "event", nested).float_kinds()
        >>> "ticket_opened" in kinds, "field_changed" in kinds, "assigned" in kinds
        (True, True, False)
        """
        return self._float_kinds

    def fast_kinds(self) -> int:
        """How many kinds are read directly (the others always take the cattrs path)."""
        return sum(build is not None for build in self._builders.values())

    def direct_kinds(self) -> frozenset[str]:
        """The kinds read directly: a form of any other kind always answers ``None``.

        >>> from itsm_core.serialization import event_types
        >>> kinds = EventDecoder(event_types(), "event").direct_kinds()
        >>> "watched" in kinds, "no_such_kind" in kinds
        (True, False)
        """
        return frozenset(self._checks)

    def reads(self, data: object) -> bool:
        """Whether ``self(data)`` is an event, found without building it where that cannot fail.

        For a kind whose record class cannot refuse values its checks
        accepted, only the checks run; for the others the record is built.
        A reader that only needs to know a line is good (and reads it again
        later) saves the construction this way.

        >>> from itsm_core.serialization import event_types
        >>> decoder = EventDecoder(event_types(), "event")
        >>> decoder.reads({"event": "watched", "ticket_id": "T-1", "actor": "ann",
        ...                "at": "2026-01-05T09:00:00+03:00", "watcher": "bob"})
        True
        >>> decoder.reads({"event": "watched", "ticket_id": "T-1", "at": "yesterday"})
        False
        """
        if type(data) is not dict:
            return False
        kind = data.get(self.tag)
        check = self._checks.get(kind) if type(kind) is str else None
        if check is None:
            return False
        try:
            check(data)
        except _Slow:
            return False
        return True

    def __call__(self, data: object) -> Event | None:
        if type(data) is not dict:
            return None
        kind = data.get(self.tag)
        build = self._builders.get(kind) if type(kind) is str else None
        if build is None:
            return None
        try:
            event: Event = build(data)
        except _Slow:
            return None
        return event
