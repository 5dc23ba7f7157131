"""cattrs converters for every public type: exact, JSON-safe, with errors that name the path."""

from __future__ import annotations

import enum
import json
import math
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from itsm_core._time import zone
from itsm_core.calendar import BusinessCalendar, CompositeCalendar, Window
from itsm_core.errors import ConfigurationError, InvalidValueError, ItsmError, Problem
from itsm_core.escalation import EscalationLevel
from itsm_core.metrics import Compliance, ComplianceKey
from itsm_core.priority import PriorityMatrix
from itsm_core.serialization._durations import (
    format_duration,
    format_sla_duration,
    parse_duration,
    parse_sla_duration,
)
from itsm_core.serialization._fast_events import (
    ZONE_SUFFIX,
    EventDecoder,
    attach_zone,
    instant_fields,
)
from itsm_core.sla import BusinessDays, BusinessDuration, Condition, Metric, SlaPolicy
from itsm_core.ticket import Event, FieldValue, TicketCommand

__all__ = [
    "COMMAND_TAG",
    "EVENT_TAG",
    "class_kind",
    "configure_converter",
    "decode_event",
    "encode_event",
    "event_types",
    "make_converter",
    "problems_of",
    "structure_checked",
]


#: The key naming an event's kind in its plain form: ``{"event": "state_changed", ...}``.
EVENT_TAG = "event"
#: The key naming a command's kind in its plain form: ``{"command": "assign", ...}``.
COMMAND_TAG = "command"

Calendar = BusinessCalendar | CompositeCalendar

# Set while a desk document is loaded or dumped: calendars may then be named.
CALENDAR_NAMES: ContextVar[Mapping[str, Calendar] | None] = ContextVar(
    "itsm_core_calendar_names", default=None
)


def class_kind(cls: type) -> str:
    """The snake_case kind of an event or command class, as its plain form tags it.

    The same naming as :func:`itsm_core.sla.event_kind`.

    >>> from itsm_core.ticket import StateChanged, OpenTicket
    >>> class_kind(StateChanged), class_kind(OpenTicket)
    ('state_changed', 'open_ticket')
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def _subclasses(base: type) -> Iterator[type]:
    sub: type
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _kinds(base: type) -> dict[str, type]:
    found: dict[str, type] = {}
    for cls in _subclasses(base):
        # A slotted attrs class replaces the class it decorates; until it is collected,
        # the replaced one still shows among the subclasses, without fields of its own.
        if "__attrs_attrs__" not in cls.__dict__:
            continue
        kind = class_kind(cls)
        current = found.get(kind)
        # A library class keeps its kind when a user's class has the same name.
        if current is None or not current.__module__.startswith("itsm_core."):
            found[kind] = cls
    return found


def event_types() -> dict[str, type[Event]]:
    """Every event class by the kind its plain form is tagged with.

    Subclasses of :class:`~itsm_core.ticket.Event` defined anywhere (the
    escalation events, a host's own events) are found when they are imported.

    >>> from itsm_core.escalation import Escalated
    >>> from itsm_core.ticket import StateChanged
    >>> types = event_types()
    >>> types["state_changed"] is StateChanged, types["escalated"] is Escalated
    (True, True)
    """
    return dict(_known(Event))


_KNOWN: dict[type, dict[str, type]] = {}


def _known(base: type, kind: object = None) -> dict[str, type]:
    """The kinds of ``base``'s family, looked up again when ``kind`` is not among them."""
    found = _KNOWN.get(base)
    if found is None or (isinstance(kind, str) and kind not in found):
        found = _KNOWN[base] = _kinds(base)
    return found


def _json(value: object) -> str:
    """A short JSON-looking rendering of a value for problem messages."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _message(exc: InvalidValueError) -> str:
    text = f"expected {exc.expected}, got {_json(exc.value)}"
    return f"{text} ({exc.detail})" if exc.detail else text


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def key_path(path: str, key: object) -> str:
    """``path`` extended by ``key``: ``.name`` for an identifier, ``[key]`` otherwise."""
    if isinstance(key, str) and _IDENT.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{_json(key)}]"


def _join(path: str, rest: str) -> str:
    if not rest:
        return path
    if not path:
        return rest
    return path + rest if rest.startswith("[") else f"{path}.{rest}"


def problems_of(exc: BaseException, path: str = "") -> list[Problem]:
    """The problems an exception raised while structuring describes, with document paths.

    cattrs' exception groups are walked; their notes give the path of each
    leaf error.

    >>> conv = make_converter()
    >>> from itsm_core.calendar import MonthDay
    >>> try:
    ...     conv.structure({"month": "May", "date": 1}, MonthDay)
    ... except Exception as exc:
    ...     for problem in problems_of(exc, "holidays[0]"):
    ...         print(problem)
    holidays[0].month: expected an integer, got "May"
    holidays[0].day: missing
    holidays[0].date: unknown key; expected one of month, day
    """
    if isinstance(exc, BaseValidationError):
        found: list[Problem] = []
        for sub in exc.exceptions:
            where = _note_path(sub, path)
            if (
                where == path
                and isinstance(exc, ClassValidationError)
                and isinstance(sub, ItsmError)
                and attrs.has(exc.cl)
            ):
                # Raised by the record's own checks: its paths start with an alias.
                sub = _relative(sub, exc.cl)
            found += problems_of(sub, where)
        return found
    if isinstance(exc, ConfigurationError):
        return [Problem(_join(path, p.path), p.message) for p in exc.problems]
    if isinstance(exc, InvalidValueError):
        return [Problem(_join(path, exc.field), _message(exc))]
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = [a.name for a in attrs.fields(exc.cl) if a.init] if attrs.has(exc.cl) else []
        expected = ", ".join(allowed)
        return [
            Problem(key_path(path, key), f"unknown key; expected one of {expected}")
            for key in sorted(exc.extra_fields, key=str)
        ]
    if isinstance(exc, KeyError):
        return [Problem(path, "missing")]
    return [Problem(path, str(exc) or type(exc).__name__)]


def _note_path(exc: BaseException, path: str) -> str:
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, AttributeValidationNote):
            return key_path(path, note.name)
        if isinstance(note, IterableValidationNote):
            if note.startswith("Structuring mapping"):
                return key_path(path, note.index)
            return f"{path}[{note.index}]"
    return path


def structure_checked(conv: cattrs.Converter, data: object, cls: Any, path: str = "") -> Any:
    """``conv.structure(data, cls)``, every problem raised as one ConfigurationError.

    >>> from datetime import timedelta
    >>> from itsm_core.sla import Metric
    >>> structure_checked(make_converter(), {"targets": {"P1": "eight"}}, Metric, "metric")
    Traceback (most recent call last):
    ...
    itsm_core.errors.ConfigurationError: 4 problems in the configuration:
      metric.name: missing
      metric.targets.P1: expected a business duration such as "8h" or "90m", business days \
"5bd", the end of the business day "eod" or "2bd eod", or wall-clock time "24h wall", got "eight"
      metric.start: missing
      metric.stop: missing
    """
    try:
        return conv.structure(data, cls)
    except (BaseValidationError, ItsmError) as exc:
        raise ConfigurationError(problems_of(exc, path)) from None


# ---------------------------------------------------------------------------- primitives


def _str(value: object, _: object = None) -> str:
    if not isinstance(value, str):
        raise InvalidValueError("", value, "a string")
    return value


#: Whole numbers in documents, JSON events and CSV cells alike lie in [-INT_BOUND, INT_BOUND).
INT_BOUND = 2**63
_INT_EXPECTED = "an integer from -2**63 to 2**63 - 1"


def _int(value: object, _: object = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError("", value, "an integer")
    if not -INT_BOUND <= value < INT_BOUND:
        raise InvalidValueError("", value, _INT_EXPECTED)
    return value


def _float(value: object, _: object = None) -> float:
    # NaN and infinities are refused: standard JSON cannot hold them and NaN equals nothing.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValueError("", value, "a finite number")
    return float(value)


def _bool(value: object, _: object = None) -> bool:
    if not isinstance(value, bool):
        raise InvalidValueError("", value, "true or false")
    return value


_DATETIME_EXPECTED = 'an ISO 8601 date and time with an offset, such as "2026-03-06T16:00:00+03:00"'
# The older form of a zoned instant, still read: the zone's name in brackets after the offset.
_BRACKETED = re.compile(r"^([^\[\]]+)(?:\[([^\[\]]{1,64})\])?$")


def _datetime(value: object, _: object = None) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidValueError("", value, _DATETIME_EXPECTED, "the offset is missing")
        return value
    match = _BRACKETED.match(value) if isinstance(value, str) and len(value) < 100 else None
    moment: datetime | None = None
    if match is not None and len(match[1]) > 10:
        try:
            moment = datetime.fromisoformat(match[1])
        except ValueError:
            moment = None
    if moment is None:
        raise InvalidValueError("", value, _DATETIME_EXPECTED)
    offset = moment.utcoffset()
    if offset is None:
        raise InvalidValueError("", value, _DATETIME_EXPECTED, "the offset is missing")
    if match is None or match[2] is None:
        return moment
    found = attach_zone(moment, zone(match[2], ""))
    if found is None:
        raise InvalidValueError(
            "", value, _DATETIME_EXPECTED, f"the offset is not one {match[2]} has at that time"
        )
    return found


#: Zones an offset implies, so no ``<field>_zone`` is written for them: UTC by its names.
IMPLIED_ZONES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"}
)
_ZONE_EXPECTED = "an IANA timezone name such as 'Europe/Moscow'"


def _unstructure_datetime(value: datetime) -> str:
    """RFC 3339 with the offset (UTC as ``+00:00``); a record writes the zone's name beside it."""
    return value.isoformat()


def zone_name(value: datetime) -> str | None:
    """The IANA zone name written beside an instant, or ``None`` when its offset says all.

    Written for an instant in a named zone (``zoneinfo`` or pendulum), except
    UTC (:data:`IMPLIED_ZONES`); a fixed offset has no name.

    >>> import pendulum
    >>> zone_name(pendulum.datetime(2026, 1, 5, 9, tz="Europe/Moscow"))
    'Europe/Moscow'
    >>> zone_name(pendulum.datetime(2026, 1, 5, 9)) is None  # UTC: +00:00 says it
    True
    """
    tz = value.tzinfo
    if isinstance(tz, ZoneInfo) and tz.key and tz.key not in IMPLIED_ZONES:
        return tz.key
    return None


def _with_zones(value: Any, data: dict[str, Any], instants: tuple[str, ...]) -> dict[str, Any]:
    """``data`` with ``<field>_zone`` right after each instant field that needs its zone named."""
    zones: dict[str, str] = {}
    for name in instants:
        moment = getattr(value, name)
        if name in data and isinstance(moment, datetime):
            found = zone_name(moment)
            if found is not None:
                zones[name] = found
    if not zones:
        return data
    out: dict[str, Any] = {}
    for key, item in data.items():
        out[key] = item
        if key in zones:
            out[key + ZONE_SUFFIX] = zones[key]
    return out


def _in_named_zone(at: object, name: object, field: str) -> object:
    """The instant ``at`` (plain form or datetime) in the zone its ``<field>_zone`` names.

    A value that is not an instant is returned unchanged, for its own field to
    explain. Raises InvalidValueError naming ``<field>_zone`` when the name is
    not a zone, when there is no instant (``null``), when the zone does not
    have the instant's offset at that time, or when the instant also names
    another zone (the older bracketed form).
    """
    key = field + ZONE_SUFFIX
    if not isinstance(name, str):
        raise InvalidValueError(key, name, _ZONE_EXPECTED)
    tz = zone(name, key)
    if at is None:
        raise InvalidValueError(key, name, f"nothing, since {field} is null")
    try:
        moment = _datetime(at)
    except ItsmError:
        return at
    current = moment.tzinfo
    if isinstance(current, ZoneInfo) and current.key != name:
        raise InvalidValueError(key, name, f"the zone {field} names, {current.key}")
    found = attach_zone(moment, tz)
    if found is None:
        wall = moment.replace(tzinfo=None)
        raise InvalidValueError(
            key,
            name,
            f"a zone that has the offset of {field}, {_offset_text(moment.utcoffset())}, "
            f"at {wall.isoformat()}",
            f"{name} has {_offset_text(tz.utcoffset(wall))} then",
        )
    return found


def _offset_text(offset: timedelta | None) -> str:
    """An offset as RFC 3339 writes it: ``+03:00``, ``-04:30`` (seconds only when there are)."""
    seconds = int((offset or timedelta(0)).total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    text = f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}"
    return f"{text}:{seconds % 60:02d}" if seconds % 60 else text


def _zoned_fields(
    value: Mapping[str, Any], instants: tuple[str, ...]
) -> tuple[Mapping[str, Any], list[Problem]]:
    """``value`` with each ``<field>_zone`` taken into its instant; the problems found."""
    if not any(name + ZONE_SUFFIX in value for name in instants):
        return value, []
    data = dict(value)
    problems: list[Problem] = []
    for name in instants:
        key = name + ZONE_SUFFIX
        if key not in data:
            continue
        tz_name = data.pop(key)
        try:
            if name not in data:  # never dropped silently, even where the instant has a default
                raise InvalidValueError(key, tz_name, f"nothing, since {name} is absent")
            data[name] = _in_named_zone(data[name], tz_name, name)
        except InvalidValueError as exc:
            problems.append(Problem(exc.field, _message(exc)))
    return data, problems


def _date(value: object, _: object = None) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidValueError("", value, 'an ISO 8601 date such as "2026-03-06"')


def _duration(value: object, _: object = None) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return parse_duration(value, "")


def _decimal(value: object, _: object = None) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) < 64:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidValueError("", value, 'a decimal number such as "99.5"') from None
    else:
        raise InvalidValueError("", value, 'a decimal number such as "99.5"')
    if not number.is_finite():
        raise InvalidValueError("", value, "a finite decimal number")
    return number


def _field_value(value: object, _: object = None) -> FieldValue:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValueError("", value, "a finite number (JSON holds no NaN or infinity)")
    if type(value) is int and not -INT_BOUND <= value < INT_BOUND:
        raise InvalidValueError("", value, _INT_EXPECTED)
    if isinstance(value, str | bool | int | float):
        return value
    raise InvalidValueError("", value, "a string, a number or true/false")


def _optional_field_value(value: object, _: object = None) -> FieldValue | None:
    return None if value is None else _field_value(value)


def _any(value: object, _: object = None) -> Any:
    return value


def _enum(value: object, cls: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, cls):
        return value
    for member in cls:
        if type(value) is type(member.value) and member.value == value:
            return member
    raise InvalidValueError("", value, "one of " + ", ".join(str(m.value) for m in cls))


# ---------------------------------------------------------------------------- containers


def _is_var_tuple(t: Any) -> bool:
    args = typing.get_args(t)
    return typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_fixed_tuple(t: Any) -> bool:
    args = typing.get_args(t)
    return typing.get_origin(t) is tuple and bool(args) and Ellipsis not in args


def _collect(
    conv: cattrs.Converter, items: Sequence[Any], types_: Sequence[Any], t: Any
) -> tuple[Any, ...]:
    out: list[Any] = []
    errors: list[Exception] = []
    for index, (item, item_type) in enumerate(zip(items, types_, strict=True)):
        try:
            out.append(conv.structure(item, item_type))
        except (BaseValidationError, ItsmError, TypeError, ValueError, KeyError) as exc:
            exc.add_note(IterableValidationNote(f"Structuring {t} @ index {index}", index, t))
            errors.append(exc)
    if errors:
        raise IterableValidationError(f"While structuring {t!r}", errors, t)
    return tuple(out)


def _var_tuple_factory(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(t: Any) -> Callable[[Any, Any], Any]:
        item_type = typing.get_args(t)[0]

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            if isinstance(value, str) and item_type is str:
                return (value,)
            if not isinstance(value, list | tuple):
                raise InvalidValueError("", value, "a list")
            return _collect(conv, value, [item_type] * len(value), t)

        return structure

    return factory


def _fixed_tuple_factory(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(t: Any) -> Callable[[Any, Any], Any]:
        item_types = typing.get_args(t)

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            if not isinstance(value, list | tuple) or len(value) != len(item_types):
                raise InvalidValueError("", value, f"a list of {len(item_types)} items")
            return _collect(conv, value, item_types, t)

        return structure

    return factory


def _mapping_items(
    conv: cattrs.Converter, value: object, item_type: Any, what: str
) -> list[tuple[str, Any]]:
    return _table(value, lambda _, item: conv.structure(item, item_type), what)


def _table(
    value: object, structure_item: Callable[[str, Any], Any], what: str
) -> list[tuple[str, Any]]:
    """Structure the values of a ``{name: value}`` table, errors noted by key."""
    if not isinstance(value, Mapping):
        raise InvalidValueError("", value, what)
    out: list[tuple[str, Any]] = []
    errors: list[Exception] = []
    for key, item in value.items():
        try:
            if not isinstance(key, str):
                raise InvalidValueError("", key, "a name (string) as key")
            out.append((key, structure_item(key, item)))
        except (BaseValidationError, ItsmError, TypeError, ValueError, KeyError) as exc:
            exc.add_note(
                IterableValidationNote(f"Structuring mapping value @ key {key!r}", key, Any)
            )
            errors.append(exc)
    if errors:
        raise IterableValidationError(f"While structuring {what}", errors, dict)
    return out


# ---------------------------------------------------------------------------- special forms


#: The type of a ticket's custom fields, which the converter reads as a table.
CUSTOM_FIELDS = tuple[tuple[str, FieldValue], ...]


def _unstructure_custom(value: tuple[tuple[str, FieldValue], ...]) -> Any:
    keys = [k for k, _ in value]
    if len(set(keys)) == len(keys):
        return dict(value)
    return [[k, v] for k, v in value]


def _window(value: object, _: object = None) -> Window:
    if isinstance(value, Window):
        return value
    expected = 'a window such as "09:00-17:00"'
    if isinstance(value, Mapping) and set(value) == {"start", "end"}:
        window = Window(start=_str(value["start"]), end=_str(value["end"]))
    elif isinstance(value, str) and value.count("-") == 1:
        start, end = (part.strip() for part in value.split("-"))
        window = Window(start=start, end=end)
    else:
        raise InvalidValueError("", value, expected)
    try:
        window.bounds("")
    except InvalidValueError as exc:
        raise InvalidValueError("", value, f"{expected}: {exc.expected}") from None
    return window


def _unstructure_window(window: Window) -> str:
    return f"{window.start}-{window.end}"


_PRESETS: dict[str, Callable[..., Metric]] = {
    "first_response": Metric.first_response,
    "next_response": Metric.next_response,
    "resolution": Metric.resolution,
}
_CONDITION_FIELDS = ("start", "stop", "pause", "resume", "cancel", "reset")


@lru_cache(maxsize=8)
def _preset_conditions(preset: str) -> dict[str, Any]:
    metric = _PRESETS[preset]({"P": timedelta(hours=1)})
    return {name: getattr(metric, name) for name in _CONDITION_FIELDS}


def _metric_from_table(conv: cattrs.Converter, name: str, item: object) -> Metric:
    if not isinstance(item, Mapping):
        raise InvalidValueError("", item, "a table of metric fields (targets, start, stop...)")
    data = dict(item)
    preset = data.pop("preset", name if name in _PRESETS and "start" not in data else None)
    if "name" in data and data["name"] != name:
        raise InvalidValueError("name", data["name"], f"the metric's key {name!r} or nothing")
    data["name"] = name
    if "default_target" in data:
        data.setdefault("targets", {})
    if preset is not None:
        if not isinstance(preset, str) or preset not in _PRESETS:
            raise InvalidValueError("preset", preset, "one of " + ", ".join(_PRESETS))
        conditions = _preset_conditions(preset)
        data = {k: conv.unstructure(v, tuple[Condition, ...]) for k, v in conditions.items()} | data
    result: Metric = conv.structure(data, Metric)
    return result


def _unstructure_metric_table(conv: cattrs.Converter, metric: Metric) -> dict[str, Any]:
    data: dict[str, Any] = conv.unstructure(metric, Metric)
    del data["name"]
    for preset in _PRESETS:
        conditions = _preset_conditions(preset)
        if all(getattr(metric, k) == v for k, v in conditions.items()):
            for k in _CONDITION_FIELDS:
                data.pop(k, None)
            if preset != metric.name:
                data = {"preset": preset} | data
            break
    return data


def _calendar(conv: cattrs.Converter) -> Callable[[object, object], Calendar]:
    def structure(value: object, _: object = None) -> Calendar:
        names = CALENDAR_NAMES.get()
        if isinstance(value, str) and names is not None:
            found = names.get(value)
            if found is None:
                known = ", ".join(sorted(names)) or "none declared"
                raise InvalidValueError("", value, f"a calendar declared in calendars ({known})")
            return found
        if isinstance(value, Mapping) and "operation" in value:
            composite: CompositeCalendar = conv.structure(value, CompositeCalendar)
            return composite
        if isinstance(value, Mapping):
            plain: BusinessCalendar = conv.structure(value, BusinessCalendar)
            return plain
        what = "a calendar table or the name of a declared calendar"
        raise InvalidValueError("", value, what if names is not None else "a calendar table")

    return structure


def _unstructure_calendar(conv: cattrs.Converter) -> Callable[[Calendar], Any]:
    def unstructure(value: Calendar) -> Any:
        names = CALENDAR_NAMES.get()
        if names is not None:
            for name, calendar in names.items():
                if calendar == value and type(calendar) is type(value):
                    return name
        return conv.unstructure(value, type(value))

    return unstructure


def _structure_matrix(value: object, _: object = None) -> PriorityMatrix:
    if isinstance(value, PriorityMatrix):
        return value
    if not isinstance(value, Mapping):
        raise InvalidValueError("", value, "a priority matrix table (impact, urgency, ...)")
    return PriorityMatrix.from_dict(value)


def _compliance_counts(conv: cattrs.Converter) -> Callable[[object, object], Any]:
    def structure(value: object, _: object = None) -> Any:
        if not isinstance(value, list | tuple):
            raise InvalidValueError("", value, "a list of counts")
        rows = []
        for row in value:
            if not isinstance(row, Mapping):
                raise InvalidValueError("", row, "a table of key fields, met and breached")
            key = {k: v for k, v in row.items() if k not in ("met", "breached")}
            rows.append(
                (
                    conv.structure(key, ComplianceKey),
                    (_int(row.get("met", 0)), _int(row.get("breached", 0))),
                )
            )
        return tuple(rows)

    return structure


def _unstructure_counts(conv: cattrs.Converter) -> Callable[[Any], Any]:
    def unstructure(value: Any) -> list[dict[str, Any]]:
        return [
            {**conv.unstructure(key, ComplianceKey), "met": met, "breached": breached}
            for key, (met, breached) in value
        ]

    return unstructure


# ---------------------------------------------------------------------------- attrs classes


def _relative(exc: ItsmError, cls: type) -> ConfigurationError:
    """A constructor's error with paths relative to the record being built."""
    names = {a.name for a in attrs.fields(cls)}
    problems = exc.problems if isinstance(exc, ConfigurationError) else None
    if problems is None:
        assert isinstance(exc, InvalidValueError)
        problems = (Problem(exc.field, _message(exc)),)
    out: list[Problem] = []
    for problem in problems:
        head = re.split(r"[.\[]", problem.path, maxsplit=1)[0]
        path = problem.path
        if head and head not in names:
            path = path[len(head) :].lstrip(".")
        out.append(Problem(path, problem.message))
    return ConfigurationError(out)


def _level_offset(value: object) -> timedelta | BusinessDays:
    """An escalation level's offset: business time (``"-2h"``) or business days (``"-2bd"``)."""
    offset = parse_sla_duration(value, "")
    if isinstance(offset, BusinessDuration):
        return offset.value
    if isinstance(offset, BusinessDays):
        return offset
    raise InvalidValueError("", value, 'a business offset such as "-2h" or "-2bd"')


def _field_overrides(conv: cattrs.Converter, cls: type) -> dict[str, Any]:
    if cls is Metric:
        return {
            "targets": override(
                struct_hook=lambda v, _: tuple(
                    _table(
                        v, lambda _, d: parse_sla_duration(d, ""), "a table of priority = duration"
                    )
                ),
                unstruct_hook=lambda v: {k: format_sla_duration(d) for k, d in v},
            ),
            "default_target": override(
                struct_hook=lambda v, _: None if v is None else parse_sla_duration(v, ""),
                unstruct_hook=lambda v: None if v is None else format_sla_duration(v),
            ),
            "start_offset": override(
                struct_hook=lambda v, _: None if v is None else parse_sla_duration(v, ""),
                unstruct_hook=lambda v: None if v is None else format_sla_duration(v),
            ),
        }
    if cls is EscalationLevel:
        return {
            "offset": override(
                struct_hook=lambda v, _: None if v is None else _level_offset(v),
                unstruct_hook=lambda v: None if v is None else format_sla_duration(v),
            )
        }
    if cls is SlaPolicy:
        return {
            "metrics": override(
                struct_hook=lambda v, _: tuple(
                    metric
                    for _, metric in _table(
                        v,
                        lambda name, item: _metric_from_table(conv, name, item),
                        "a table of metrics",
                    )
                ),
                unstruct_hook=lambda v: {m.name: _unstructure_metric_table(conv, m) for m in v},
            )
        }
    if cls is Compliance:
        return {
            "counts": override(
                struct_hook=_compliance_counts(conv), unstruct_hook=_unstructure_counts(conv)
            )
        }
    return {}


def tag_of(cls: type) -> tuple[str, str] | None:
    """The ``(tag field, kind)`` of an event or command class; ``None`` for other classes."""
    if issubclass(cls, Event) and cls is not Event:
        return EVENT_TAG, class_kind(cls)
    if issubclass(cls, TicketCommand) and cls is not TicketCommand:
        return COMMAND_TAG, class_kind(cls)
    return None


def _structure_attrs_factory(conv: cattrs.Converter) -> Callable[[type], Any]:
    def factory(cls: type) -> Callable[[Any, Any], Any]:
        fn: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=True,
            _cattrs_detailed_validation=True,
            **_field_overrides(conv, cls),
        )
        names = [a.name for a in attrs.fields(cls) if a.init]
        tag = tag_of(cls)
        expected = f"a table of {cls.__name__} fields ({', '.join(names)})"
        instants = instant_fields(cls)

        def structure(value: Any, _: Any) -> Any:
            if isinstance(value, cls):
                return value
            if not isinstance(value, Mapping):
                raise InvalidValueError("", value, expected)
            if tag is not None and tag[0] in value:
                if value[tag[0]] != tag[1]:
                    raise InvalidValueError(tag[0], value[tag[0]], repr(tag[1]))
                value = {k: v for k, v in value.items() if k != tag[0]}
            zoned: list[Problem] = []
            if instants:
                value, zoned = _zoned_fields(value, instants)
            try:
                result = fn(value, cls)
            except BaseValidationError as exc:
                if zoned:
                    raise ConfigurationError([*problems_of(exc), *zoned]) from None
                raise
            except ItsmError as exc:
                if zoned:
                    raise ConfigurationError([*_relative(exc, cls).problems, *zoned]) from None
                raise _relative(exc, cls) from None
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise ConfigurationError(
                    [Problem("", f"invalid {cls.__name__}: {exc}"), *zoned]
                ) from None
            if zoned:
                raise ConfigurationError(zoned)
            return result

        return structure

    return factory


def _unstructure_attrs_factory(conv: cattrs.Converter) -> Callable[[type], Any]:
    def factory(cls: type) -> Callable[[Any], Any]:
        fn: Callable[[Any], Any] = make_dict_unstructure_fn(
            cls, conv, _cattrs_omit_if_default=True, **_field_overrides(conv, cls)
        )
        tag = tag_of(cls)
        instants = instant_fields(cls)
        if tag is None and not instants:
            return fn
        name, kind = tag if tag is not None else ("", "")

        def unstructure(value: Any) -> dict[str, Any]:
            data: dict[str, Any] = fn(value)
            if instants:
                data = _with_zones(value, data, instants)
            return {name: kind} | data if tag is not None else data

        return unstructure

    return factory


def _tagged_structure(conv: cattrs.Converter, base: type, tag: str) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, base):
            return value
        kind = value.get(tag) if isinstance(value, Mapping) else None
        kinds = _known(base, kind)
        if not isinstance(value, Mapping) or tag not in value:
            raise InvalidValueError(
                "", value, f'a table with "{tag}" naming its kind (one of {", ".join(kinds)})'
            )
        cls = kinds.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise InvalidValueError(tag, kind, "one of " + ", ".join(kinds))
        return conv.structure(value, cls)

    return structure


#: Functions that teach a converter more types, run last by :func:`configure_converter`:
#: the modules built on this one register theirs (desk documents), so none is imported here.
CONVERTER_EXTENSIONS: list[Callable[[cattrs.Converter], None]] = []


def configure_converter(conv: cattrs.Converter) -> cattrs.Converter:
    """Teach ``conv`` the plain forms of every public type; returns ``conv``.

    Use it to add the library's types to a converter of your own (a
    ``cattrs.Converter``); :func:`make_converter` makes a fresh one.
    cattrs' global converter is never touched.

    >>> import cattrs
    >>> from datetime import timedelta
    >>> conv = configure_converter(cattrs.Converter())
    >>> conv.unstructure(timedelta(minutes=90))
    '1h30m'
    """
    # Function hooks: the most recently registered wins, so the general ones come first.
    conv.register_structure_hook_factory(attrs.has, _structure_attrs_factory(conv))
    conv.register_unstructure_hook_factory(attrs.has, _unstructure_attrs_factory(conv))
    conv.register_structure_hook_factory(_is_var_tuple, _var_tuple_factory(conv))
    conv.register_structure_hook_factory(_is_fixed_tuple, _fixed_tuple_factory(conv))
    # Classes (and their subclasses) through single dispatch, which comes before the
    # function hooks: primitives, enums, and the records with a form of their own.
    class_hooks: list[tuple[type, Callable[[Any, Any], Any]]] = [
        (str, _str),
        (int, _int),
        (float, _float),
        (bool, _bool),
        (datetime, _datetime),
        (date, _date),
        (timedelta, _duration),
        (Decimal, _decimal),
        (enum.Enum, _enum),
        (enum.StrEnum, _enum),
        (enum.IntEnum, _enum),
        (Window, _window),
        (PriorityMatrix, _structure_matrix),
    ]
    for cls, hook in class_hooks:
        conv.register_structure_hook(cls, hook)
    class_unstructure: list[tuple[type, Callable[[Any], Any]]] = [
        (datetime, _unstructure_datetime),
        (date, date.isoformat),
        (timedelta, format_duration),
        (Decimal, str),
        (enum.Enum, _enum_value),
        (enum.StrEnum, _enum_value),
        (enum.IntEnum, _enum_value),
        (Window, _unstructure_window),
        (PriorityMatrix, PriorityMatrix.to_dict),
    ]
    for cls, unstructure in class_unstructure:
        conv.register_unstructure_hook(cls, unstructure)
    # Types that are not classes, and the event and command bases (exactly: their
    # subclasses have hooks of their own).
    exact_hooks: list[tuple[Any, Callable[[Any, Any], Any]]] = [
        (FieldValue, _field_value),
        (FieldValue | None, _optional_field_value),
        (Any, _any),
        (CUSTOM_FIELDS, _custom_fields(conv)),
        (Calendar, _calendar(conv)),
    ]
    exact_hooks += [
        (base, _tagged_structure(conv, base, tag))
        for base, tag in ((Event, EVENT_TAG), (TicketCommand, COMMAND_TAG))
    ]
    for exact, hook in exact_hooks:
        conv.register_structure_hook_func(_exactly(exact), hook)
    exact_unstructure: list[tuple[Any, Callable[[Any], Any]]] = [
        (CUSTOM_FIELDS, _unstructure_custom),
        (Calendar, _unstructure_calendar(conv)),
        (Event, _by_runtime_type(conv)),
        (TicketCommand, _by_runtime_type(conv)),
    ]
    for exact, unstructure in exact_unstructure:
        conv.register_unstructure_hook_func(_exactly(exact), unstructure)
    _configure_permissions(conv)
    for extend in CONVERTER_EXTENSIONS:
        extend(conv)
    return conv


def _configure_permissions(conv: cattrs.Converter) -> None:
    from itsm_core.permissions import Policy

    def structure(value: object, _: object = None) -> Policy:
        if isinstance(value, Policy):
            return value
        if not isinstance(value, Mapping):
            raise InvalidValueError("", value, "a permission policy table (roles, grants)")
        try:
            return Policy.from_dict(value)
        except ItsmError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # Defensive: whatever the policy's own parser lets through is still a problem.
            raise ConfigurationError([Problem("", f"invalid permission policy: {exc}")]) from None

    conv.register_structure_hook(Policy, structure)
    conv.register_unstructure_hook(Policy, Policy.to_dict)


def _exactly(expected: Any) -> Callable[[Any], bool]:
    def predicate(t: Any) -> bool:
        return bool(t is expected or t == expected)

    return predicate


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _by_runtime_type(conv: cattrs.Converter) -> Callable[[Any], Any]:
    def unstructure(value: Any) -> Any:
        return conv.unstructure(value, type(value))

    return unstructure


def _custom_fields(conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    pair = tuple[str, FieldValue]

    def structure(value: Any, t: Any) -> tuple[tuple[str, FieldValue], ...]:
        if isinstance(value, Mapping):
            return tuple(_mapping_items(conv, value, FieldValue, "a table of field = value"))
        if not isinstance(value, list | tuple):
            raise InvalidValueError("", value, "a table of field = value")
        return _collect(conv, value, [pair] * len(value), t)

    return structure


def make_converter() -> cattrs.Converter:
    """A new converter for every public type (cattrs' global converter is never touched).

    Plain forms are JSON-safe and exact: datetimes are RFC 3339 with their
    offset (microseconds kept; in a record, the IANA zone's name of an
    instant in a named zone other than UTC goes in ``<field>_zone``, and the
    older ``...+03:00[Europe/Moscow]`` form is still read), durations the compact text of
    :func:`format_duration`, dates ISO, enums their value, tuples lists,
    decimals strings; defaults are left out. Events carry their kind under
    ``"event"`` and commands under ``"command"``, so a mixed list decodes.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.ticket import Event, MajorSet
    >>> conv = make_converter()
    >>> event = MajorSet(ticket_id="INC-1", actor="ann", reason="site down",
    ...                  at=datetime(2026, 3, 6, 16, 0, 0, 250, tzinfo=timezone.utc))
    >>> data = conv.unstructure(event)
    >>> data
    {'event': 'major_set', 'ticket_id': 'INC-1', 'actor': 'ann', \
'at': '2026-03-06T16:00:00.000250+00:00', 'reason': 'site down'}
    >>> conv.structure(data, Event) == event
    True
    """
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    return configure_converter(conv)


@lru_cache(maxsize=1)
def shared_converter() -> cattrs.Converter:
    """One converter made by :func:`make_converter`, shared by the room (made once)."""
    return make_converter()


def encode_event(event: Event) -> dict[str, Any]:
    """The plain, tagged form of an event (what one JSON Lines line holds).

    Instants are RFC 3339 with their offset, read as they are by
    ``datetime.fromisoformat`` and ``pandas.to_datetime``; an instant in a
    named zone (not UTC) has the zone's name in ``<field>_zone``.

    >>> from datetime import datetime, timezone
    >>> from zoneinfo import ZoneInfo
    >>> from itsm_core.ticket import Watched
    >>> encode_event(Watched(ticket_id="T-1", actor="ann", watcher="bob",
    ...                      at=datetime(2026, 1, 5, tzinfo=timezone.utc)))
    {'event': 'watched', 'ticket_id': 'T-1', 'actor': 'ann', \
'at': '2026-01-05T00:00:00+00:00', 'watcher': 'bob'}
    >>> encode_event(Watched(ticket_id="T-1", actor="ann", watcher="bob",
    ...                      at=datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("Europe/Moscow"))))
    {'event': 'watched', 'ticket_id': 'T-1', 'actor': 'ann', \
'at': '2026-01-05T09:00:00+03:00', 'at_zone': 'Europe/Moscow', 'watcher': 'bob'}
    """
    if not isinstance(event, Event):
        raise InvalidValueError("event", event, "an Event")
    data: dict[str, Any] = shared_converter().unstructure(event, type(event))
    return data


def decode_event(data: object, path: str = "") -> Event:
    """The event a plain, tagged form describes; any problem raises ConfigurationError.

    An instant's zone is read from ``<field>_zone`` (it must have the
    instant's offset at that time) or from the older bracketed suffix.

    >>> decode_event({"event": "watched", "ticket_id": "T-1", "actor": "ann",
    ...               "at": "2026-01-05T00:00:00+00:00", "watcher": "bob"}).watcher
    'bob'
    >>> decode_event({"event": "watched", "ticket_id": "T-1", "at": "yesterday"}, "line 3")
    Traceback (most recent call last):
    ...
    itsm_core.errors.ConfigurationError: 3 problems in the configuration:
      line 3.actor: missing
      line 3.at: expected an ISO 8601 date and time with an offset, such as \
"2026-03-06T16:00:00+03:00", got "yesterday"
      line 3.watcher: missing
    """
    fast = event_decoder()(data)
    if fast is not None:
        return fast
    event: Event = structure_checked(shared_converter(), data, Event, path)
    return event


@lru_cache(maxsize=1)
def event_decoder() -> EventDecoder:
    """The direct decoder of the usual event forms; anything else takes the cattrs path."""
    from itsm_core.escalation import Action
    from itsm_core.ticket import ArticleLink, Attachment, Link

    return EventDecoder(event_types(), EVENT_TAG, nested=(Action, ArticleLink, Attachment, Link))
