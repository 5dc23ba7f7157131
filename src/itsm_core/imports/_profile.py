"""Import profiles as data: columns, value maps, timestamps, constants and the lifecycle.

A profile says how the rows of one export shape become ticket facts. It is an
attrs record loaded from a plain (TOML-shaped) dict with a cattrs converter of
this room; reading the file is the host's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, TypeAlias

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from itsm_core._time import zone
from itsm_core.errors import ConfigurationError, InvalidValueError, Problem
from itsm_core.priority import PriorityMatrix

__all__ = [
    "AUDIT_COLUMNS",
    "DST_RULES",
    "FIELDS",
    "SHAPES",
    "SNAPSHOT_COLUMNS",
    "Pairs",
    "Profile",
    "Timestamps",
    "format_instant",
    "instant_parser",
    "parse_instant",
    "profile_from_dict",
    "profile_to_dict",
]

#: ``(key, value)`` pairs: how a profile keeps a TOML table (sorted by key, a tuple).
Pairs: TypeAlias = tuple[tuple[str, str], ...]

#: The ticket facts an import reads, and what each one is.
FIELDS: dict[str, str] = {
    "ticket_id": "the ticket's id (rows without one are skipped and counted)",
    "at": "when the row's change happened (snapshot: the update time)",
    "actor": "who made the change",
    "sequence": "an integer ordering the updates of one ticket (ties of 'at')",
    "opened_at": "when the ticket was opened (default: its first row's 'at')",
    "opened_by": "who opened it (default: the first row's actor)",
    "requester": "who the ticket is for (default: the opener)",
    "title": "the ticket's title",
    "state": "the lifecycle state, through values.state",
    "hold_reason": "the on-hold sub-state, through values.hold_reason",
    "group": "the assignment group",
    "assignee": "the assigned person",
    "impact": "the impact level of the priority matrix",
    "urgency": "the urgency level of the priority matrix",
    "priority": "the priority the source system shows",
    "category": "the category",
    "service": "the service (or configuration item)",
    "resolution_code": "the resolution (close) code",
    "field": "audit shape: the name of the changed field",
    "old": "audit shape: the value before the change",
    "new": "audit shape: the value after the change",
}
#: Facts of a snapshot row that describe the ticket (diffed between rows).
SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "ticket_id",
    "at",
    "actor",
    "sequence",
    "opened_at",
    "opened_by",
    "requester",
    "title",
    "state",
    "hold_reason",
    "group",
    "assignee",
    "impact",
    "urgency",
    "priority",
    "category",
    "service",
    "resolution_code",
)
#: Columns of an audit row.
AUDIT_COLUMNS: tuple[str, ...] = ("ticket_id", "at", "actor", "sequence", "field", "old", "new")
#: The export shapes: one full row per update, or one row per changed field.
SHAPES: tuple[str, ...] = ("snapshot", "audit")
#: How a naive wall time that a DST change makes ambiguous (twice) or skipped (never) is read.
DST_RULES: dict[str, str] = {
    "compatible": "ambiguous: the earlier instant; skipped: moved forward by the gap "
    "(RFC 5545, zoneinfo fold=0)",
    "earlier": "ambiguous: the earlier instant; skipped: the instant before the gap",
    "later": "ambiguous: the later instant; skipped: moved forward by the gap",
    "raise": "an ambiguous or skipped wall time refuses the ticket",
}
_REASSIGNMENT_RULES = ("any", "group")


def _pairs(value: object) -> Pairs:
    assert isinstance(value, Mapping)
    return tuple(sorted((str(k), v) for k, v in value.items()))


@attrs.frozen(kw_only=True)
class Timestamps:
    """How the timestamps of an export are written.

    ``formats`` are tried in order: ``"iso"`` (ISO 8601, as
    :meth:`datetime.fromisoformat` reads it) or a :meth:`datetime.strptime`
    format. A timestamp without an offset is a wall time in ``timezone`` (an
    IANA name; ``None``, the default, refuses naive timestamps: no zone is
    ever implied), resolved by the ``dst``
    rule of :data:`DST_RULES` when a DST change makes it ambiguous or skipped.

    >>> Timestamps(formats=("%d/%m/%Y %H:%M",), timezone="Europe/Paris").dst
    'compatible'
    """

    formats: tuple[str, ...] = ("iso",)
    timezone: str | None = None
    dst: str = "compatible"


@attrs.frozen(kw_only=True)
class Profile:
    """How the rows of one export shape become histories (built-in ones: :data:`PROFILES`).

    * ``shape``: ``snapshot`` (one full row per update) or ``audit`` (one row
      per changed field); ``lifecycle``: the key of the import lifecycle the
      histories are checked against (:data:`~itsm_core.imports.IMPORT_LIFECYCLES`).
    * ``columns``: fact (:data:`FIELDS`) -> column name; ``fields`` (audit):
      the source's field name -> fact.
    * ``values``: fact -> (source value -> our value): state names to
      lifecycle states (``on_hold.awaiting_caller``), priority labels to
      matrix levels. A fact with a value map accepts only mapped values.
    * ``missing``: values that mean "no value" (``?``, the empty string).
    * ``constants``: fact -> value used when the export has none (a snapshot
      export: no column for it; an audit export: no value when the ticket opens).
    * ``timestamps``: see :class:`Timestamps`; ``matrix``: the priority
      matrix that derives the priority from impact and urgency.
    * ``reassignments``: what counts as a reassignment, ``any`` move of an
      assigned ticket or only a change of ``group`` (ServiceNow's count).

    >>> p = profile_from_dict({"name": "mini", "shape": "snapshot",
    ...     "lifecycle": "servicenow_incident",
    ...     "columns": {"ticket_id": "number", "at": "updated", "state": "state"},
    ...     "values": {"state": {"New": "new", "Closed": "closed"}}})
    >>> p.column("state"), p.value_map("state")["Closed"]
    ('state', 'closed')
    """

    name: str
    shape: str
    lifecycle: str
    columns: Pairs
    fields: Pairs = ()
    values: tuple[tuple[str, Pairs], ...] = ()
    missing: tuple[str, ...] = ("",)
    constants: Pairs = ()
    timestamps: Timestamps = Timestamps()
    matrix: PriorityMatrix | None = None
    reassignments: str = "any"
    description: str = ""

    def column(self, fact: str) -> str | None:
        """The column that holds ``fact`` (``None`` when the export has none)."""
        for key, value in self.columns:
            if key == fact:
                return value
        return None

    def value_map(self, fact: str) -> dict[str, str]:
        """Source value -> our value for ``fact`` (empty: values pass through)."""
        for key, pairs in self.values:
            if key == fact:
                return dict(pairs)
        return {}

    def constant(self, fact: str) -> str | None:
        """The constant value of ``fact``, if the profile sets one."""
        for key, value in self.constants:
            if key == fact:
                return value
        return None


def _converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)

    def structure_pairs(value: Any, _: Any) -> Pairs:
        if not isinstance(value, Mapping):
            raise InvalidValueError("", value, "a table of names to strings")
        for key, item in value.items():
            if not isinstance(item, str):
                raise InvalidValueError(str(key), item, "a string")
        return _pairs(value)

    def structure_values(value: Any, _: Any) -> tuple[tuple[str, Pairs], ...]:
        if not isinstance(value, Mapping):
            raise InvalidValueError("", value, "a table of facts to value tables")
        found: list[tuple[str, Pairs]] = []
        for key, table in value.items():
            try:
                found.append((str(key), structure_pairs(table, Pairs)))
            except InvalidValueError as exc:
                where = f"{key}.{exc.field}" if exc.field else str(key)
                raise InvalidValueError(where, exc.value, exc.expected) from None
        return tuple(sorted(found))

    def structure_strings(value: Any, _: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise InvalidValueError("", value, "a list of strings")
        return tuple(value)

    def structure_str(value: Any, _: Any) -> str:
        if not isinstance(value, str):
            raise InvalidValueError("", value, "a string")
        return value

    def structure_matrix(value: Any, _: Any) -> PriorityMatrix:
        return PriorityMatrix.from_dict(value)

    conv.register_structure_hook(str, structure_str)
    conv.register_structure_hook_func(lambda t: t == Pairs, structure_pairs)
    conv.register_structure_hook_func(
        lambda t: t == tuple[tuple[str, Pairs], ...], structure_values
    )
    conv.register_structure_hook_func(lambda t: t == tuple[str, ...], structure_strings)
    conv.register_structure_hook(PriorityMatrix, structure_matrix)
    conv.register_unstructure_hook_func(lambda t: t == Pairs, dict)
    conv.register_unstructure_hook_func(
        lambda t: t == tuple[tuple[str, Pairs], ...], lambda v: {k: dict(p) for k, p in v}
    )
    conv.register_unstructure_hook_func(lambda t: t == tuple[str, ...], list)
    conv.register_unstructure_hook(PriorityMatrix, PriorityMatrix.to_dict)
    return conv


_CONVERTER = _converter()


def _problems(exc: BaseException, path: str) -> list[Problem]:
    found: list[Problem] = []
    if isinstance(exc, ConfigurationError):
        return [Problem(f"{path}.{p.path}" if p.path else path, p.message) for p in exc.problems]
    if isinstance(exc, InvalidValueError):
        where = f"{path}.{exc.field}" if exc.field else path
        return [Problem(where, f"expected {exc.expected}, got {exc.value!r}")]
    if isinstance(exc, ForbiddenExtraKeysError):
        return [Problem(f"{path}.{key}", "unknown key") for key in sorted(exc.extra_fields)]
    if isinstance(exc, ClassValidationError):
        for sub in exc.exceptions:
            notes = [str(n) for n in getattr(sub, "__notes__", ())]
            name = ""
            for note in notes:
                if note.startswith("Structuring class") and "@ attribute" in note:
                    name = note.rsplit("@ attribute", 1)[1].strip()
            sub_path = f"{path}.{name}" if name else path
            if isinstance(sub, KeyError):
                found.append(Problem(sub_path, "missing"))
            else:
                found += _problems(sub, sub_path)
        return found
    return [Problem(path, str(exc))]


def _check(profile: Profile) -> list[Problem]:
    problems: list[Problem] = []
    if profile.shape not in SHAPES:
        problems.append(
            Problem("profile.shape", f"expected one of {', '.join(SHAPES)}, got {profile.shape!r}")
        )
    known = SNAPSHOT_COLUMNS if profile.shape != "audit" else AUDIT_COLUMNS
    for fact, column in profile.columns:
        if fact not in known:
            problems.append(
                Problem(
                    f"profile.columns.{fact}",
                    f"expected one of {', '.join(known)} for a {profile.shape} export",
                )
            )
        if not column:
            problems.append(Problem(f"profile.columns.{fact}", "expected a column name"))
    needed = (
        ("ticket_id", "at", "state")
        if profile.shape != "audit"
        else ("ticket_id", "at", "field", "new")
    )
    for fact in needed:
        if profile.column(fact) is None:
            problems.append(Problem(f"profile.columns.{fact}", "missing (a column is needed)"))
    for source, fact in profile.fields:
        if fact not in SNAPSHOT_COLUMNS[4:]:
            problems.append(
                Problem(
                    f"profile.fields.{source}",
                    f"expected one of {', '.join(SNAPSHOT_COLUMNS[4:])}, got {fact!r}",
                )
            )
    for fact, _ in profile.values:
        if fact not in SNAPSHOT_COLUMNS[4:]:
            problems.append(
                Problem(
                    f"profile.values.{fact}", f"expected one of {', '.join(SNAPSHOT_COLUMNS[4:])}"
                )
            )
    for fact, _ in profile.constants:
        if fact not in FIELDS:
            problems.append(
                Problem(f"profile.constants.{fact}", f"expected one of {', '.join(FIELDS)}")
            )
    stamps = profile.timestamps
    if not stamps.formats:
        problems.append(Problem("profile.timestamps.formats", "expected at least one format"))
    if stamps.timezone is not None:
        try:
            zone(stamps.timezone, "profile.timestamps.timezone")
        except InvalidValueError as exc:
            problems += _problems(exc, "")[:1]
            problems[-1] = Problem("profile.timestamps.timezone", problems[-1].message)
    if stamps.dst not in DST_RULES:
        problems.append(
            Problem(
                "profile.timestamps.dst",
                f"expected one of {', '.join(DST_RULES)}, got {stamps.dst!r}",
            )
        )
    if profile.reassignments not in _REASSIGNMENT_RULES:
        problems.append(
            Problem(
                "profile.reassignments",
                f"expected one of {', '.join(_REASSIGNMENT_RULES)}, got {profile.reassignments!r}",
            )
        )
    if profile.matrix is not None:
        for fact in ("impact", "urgency", "priority"):
            names = (
                profile.matrix.impact.names
                if fact == "impact"
                else profile.matrix.urgency.names
                if fact == "urgency"
                else tuple(p.name for p in profile.matrix.priorities)
            )
            for source, ours in profile.value_map(fact).items():
                if ours not in names:
                    problems.append(
                        Problem(
                            f"profile.values.{fact}.{source}",
                            f"expected one of {', '.join(names)}, got {ours!r}",
                        )
                    )
    return problems


def profile_from_dict(data: object) -> Profile:
    """The profile a plain dict (a parsed TOML document) describes, validated.

    Every problem is reported at once with its path (a
    :class:`~itsm_core.errors.ConfigurationError`); the lifecycle's states are
    checked against the value maps when the profile is used.

    >>> profile_from_dict({"name": "x", "shape": "csv", "lifecycle": "servicenow_incident",
    ...                    "columns": {"ticket_id": "id", "at": "t"}, "colour": "red"})
    Traceback (most recent call last):
    ...
    itsm_core.errors.ConfigurationError: 1 problem in the configuration:
      profile.colour: unknown key
    >>> profile_from_dict({"name": "x", "shape": "csv", "lifecycle": "servicenow_incident",
    ...                    "columns": {"ticket_id": "id", "at": "t"}})
    Traceback (most recent call last):
    ...
    itsm_core.errors.ConfigurationError: 2 problems in the configuration:
      profile.shape: expected one of snapshot, audit, got 'csv'
      profile.columns.state: missing (a column is needed)
    """
    if not isinstance(data, Mapping):
        raise ConfigurationError([Problem("profile", f"expected a table, got {data!r}")])
    try:
        profile = _CONVERTER.structure(dict(data), Profile)
    except (
        ClassValidationError,
        ForbiddenExtraKeysError,
        InvalidValueError,
        ConfigurationError,
    ) as exc:
        raise ConfigurationError(_problems(exc, "profile")) from None
    problems = _check(profile)
    if problems:
        raise ConfigurationError(problems)
    return profile


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """The plain (TOML-shaped) form of a profile; :func:`profile_from_dict` reads it back.

    >>> from itsm_core.imports import PROFILES
    >>> p = PROFILES["servicenow_snapshot"]
    >>> profile_from_dict(profile_to_dict(p)) == p
    True
    """
    data: dict[str, Any] = _CONVERTER.unstructure(profile, Profile)
    if data.get("matrix") is None:
        data.pop("matrix", None)
    if data["timestamps"].get("timezone") is None:
        data["timestamps"].pop("timezone")
    return data


#: The patterns ``datetime.strptime`` matches for the directives the compiled parser reads
#: (CPython's own, so a compiled format reads exactly what ``strptime`` reads).
_DIRECTIVES = {
    "d": r"(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])",
    "f": r"(?P<f>[0-9]{1,6})",
    "H": r"(?P<H>2[0-3]|[0-1]\d|\d)",
    "m": r"(?P<m>1[0-2]|0[1-9]|[1-9])",
    "M": r"(?P<M>[0-5]\d|\d)",
    "S": r"(?P<S>6[0-1]|[0-5]\d|\d)",
    "Y": r"(?P<Y>\d\d\d\d)",
}


@lru_cache(maxsize=64)
def _compiled(fmt: str) -> re.Pattern[str] | None:
    """A ``strptime`` format as the pattern ``strptime`` builds of it, or ``None``.

    Only formats with ``%Y`` and no directive but those of :data:`_DIRECTIVES`
    (each at most once) and ``%%`` are compiled; whitespace matches any run of
    whitespace and letters match either case, as in ``strptime``.
    """
    parts: list[str] = []
    seen: set[str] = set()
    index = 0
    while index < len(fmt):
        char = fmt[index]
        if char == "%":
            directive = fmt[index + 1 : index + 2]
            if directive == "%":
                parts.append("%")
            elif directive in _DIRECTIVES and directive not in seen:
                seen.add(directive)
                parts.append(_DIRECTIVES[directive])
            else:
                return None
            index += 2
        elif char.isspace():
            while index < len(fmt) and fmt[index].isspace():
                index += 1
            parts.append(r"\s+")
        else:
            parts.append(re.escape(char))
            index += 1
    return re.compile("".join(parts), re.IGNORECASE) if "Y" in seen else None


def _strptime(text: str, fmt: str) -> datetime:
    """``datetime.strptime(text, fmt)``, by a compiled pattern when the format has one."""
    pattern = _compiled(fmt)
    if pattern is None:
        return datetime.strptime(text, fmt)  # noqa: DTZ007 - placed in the zone by the caller
    found = pattern.match(text)
    if found is None or found.end() != len(text):
        raise ValueError(f"time data {text!r} does not match format {fmt!r}")
    cells = found.groupdict()
    fraction = cells.get("f")
    return datetime(  # noqa: DTZ001 - placed in the zone by the caller
        int(cells["Y"]),
        int(cells.get("m") or 1),
        int(cells.get("d") or 1),
        int(cells.get("H") or 0),
        int(cells.get("M") or 0),
        int(cells.get("S") or 0),
        int(fraction + "0" * (6 - len(fraction))) if fraction else 0,
    )


def _parse_text(text: str, formats: tuple[str, ...]) -> datetime | None:
    for fmt in formats:
        try:
            if fmt == "iso":
                return datetime.fromisoformat(text)
            return _strptime(text, fmt)
        except ValueError:
            continue
    return None


def _fixed(at: datetime) -> datetime:
    """The same instant with its UTC offset as a fixed zone (RFC 3339 writes it exactly)."""
    offset = at.utcoffset()
    return at.replace(tzinfo=UTC if not offset else timezone(offset), fold=0)


def parse_instant(text: str, stamps: Timestamps, field: str = "at") -> datetime:
    """The aware instant a timestamp of the export stands for.

    A naive wall time is placed in ``stamps.timezone`` with the ``dst`` rule.
    The instant carries its UTC offset as a fixed zone (``datetime.UTC`` for
    UTC), so what is written of it is plain RFC 3339, readable by
    ``datetime.fromisoformat`` and ``pandas.to_datetime``. A bad timestamp
    raises :class:`~itsm_core.errors.InvalidValueError` naming ``field`` and
    the formats tried.

    >>> paris = Timestamps(formats=("%d/%m/%Y %H:%M",), timezone="Europe/Paris")
    >>> parse_instant("29/2/2016 01:16", paris).isoformat()
    '2016-02-29T01:16:00+01:00'
    >>> parse_instant("27/3/2016 02:30", paris).isoformat()   # skipped: moved forward
    '2016-03-27T03:30:00+02:00'
    >>> parse_instant("30/10/2016 02:30", paris).isoformat()  # ambiguous: the earlier
    '2016-10-30T02:30:00+02:00'
    >>> parse_instant("30/10/2016 02:30", attrs.evolve(paris, dst="later")).isoformat()
    '2016-10-30T02:30:00+01:00'
    """
    parsed = _parse_text(text.strip(), stamps.formats)
    if parsed is None:
        raise InvalidValueError(
            field, text, f"a timestamp in one of the formats {', '.join(stamps.formats)}"
        )
    if parsed.utcoffset() is not None:
        return _fixed(parsed)
    if stamps.timezone is None:
        raise InvalidValueError(
            field,
            text,
            "a timestamp with an offset",
            "the profile sets no timezone for naive timestamps",
        )
    tz = zone(stamps.timezone, "profile.timestamps.timezone")
    first = parsed.replace(tzinfo=tz, fold=0)
    second = parsed.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return _fixed(first)
    skipped = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != parsed
    rule = stamps.dst
    if rule == "raise":
        what = "skipped" if skipped else "ambiguous"
        raise InvalidValueError(
            field,
            text,
            "a wall time that exists exactly once",
            f"it is {what} in {stamps.timezone} (profile dst rule 'raise')",
        )
    if skipped:
        # fold=0 uses the offset before the gap: the wall time moves forward by the gap.
        chosen = second if rule == "earlier" else first
        return _fixed(chosen.astimezone(UTC).astimezone(tz))
    return _fixed(second if rule == "later" else first)


#: The fields of a datetime a compiled format's groups give, in the constructor's order.
_PARTS = ("Y", "m", "d", "H", "M", "S", "f")


def instant_parser(stamps: Timestamps) -> Callable[[str, str], datetime]:
    """:func:`parse_instant` for one profile's timestamps, compiled once: ``parse(text, field)``.

    It gives what ``parse_instant(text, stamps, field)`` gives, instant, fixed
    zone and error alike, faster: a timestamp in a leading ``strptime``
    format of the profile (day, month, year, hour, minute, second, fraction)
    is read by its compiled pattern and placed in the zone with two offset
    lookups; a wall time a DST change makes ambiguous or skipped, and
    anything else, is read by :func:`parse_instant` itself.

    >>> parse = instant_parser(Timestamps(formats=("%d/%m/%Y %H:%M",), timezone="Europe/Paris"))
    >>> parse("29/2/2016 01:16", "at").isoformat()
    '2016-02-29T01:16:00+01:00'
    >>> parse("30/10/2016 02:30", "at").isoformat()  # ambiguous: the earlier (compatible)
    '2016-10-30T02:30:00+02:00'
    >>> parse("30/2/2016 01:16", "opened_at")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: opened_at: expected a timestamp in one of the formats \
%d/%m/%Y %H:%M, got '30/2/2016 01:16'
    """
    # The formats tried first that have a compiled pattern, with where each part is among
    # the pattern's groups (``strptime`` tries the formats in order: past the first one
    # without a pattern, ``parse_instant`` reads the text).
    compiled: list[tuple[re.Pattern[str], tuple[int | None, ...]]] = []
    for fmt in stamps.formats:
        pattern = _compiled(fmt) if fmt != "iso" else None
        if pattern is None:
            break
        groups = pattern.groupindex
        compiled.append((pattern, tuple(groups[p] - 1 if p in groups else None for p in _PARTS)))
    tz: tzinfo | None = None
    if stamps.timezone is not None:
        try:
            tz = zone(stamps.timezone, "profile.timestamps.timezone")
        except InvalidValueError:  # a record built by hand: parse_instant says so, per call
            tz = None
    fixed: dict[timedelta, tzinfo] = {}

    def parse(text: str, field: str = "at") -> datetime:
        if tz is not None:
            stripped = text.strip()
            for pattern, (y, mo, d, h, mi, s, f) in compiled:
                found = pattern.match(stripped)
                if found is None or found.end() != len(stripped):
                    continue
                cells = found.groups()
                fraction = cells[f] if f is not None else None
                parts = (
                    int(cells[y]),  # type: ignore[index]
                    int(cells[mo]) if mo is not None else 1,
                    int(cells[d]) if d is not None else 1,
                    int(cells[h]) if h is not None else 0,
                    int(cells[mi]) if mi is not None else 0,
                    int(cells[s]) if s is not None else 0,
                    int(fraction + "0" * (6 - len(fraction))) if fraction else 0,
                )
                try:
                    first = datetime(*parts, tz)  # noqa: DTZ001 - the zone, by position
                except ValueError:
                    continue  # not a date (31/2): strptime refuses it, the next format is tried
                offset = first.utcoffset()
                if offset is None or offset != datetime(*parts, tzinfo=tz, fold=1).utcoffset():
                    break  # ambiguous or skipped: the DST rule decides
                chosen = fixed.get(offset)
                if chosen is None:
                    chosen = fixed[offset] = UTC if not offset else timezone(offset)
                return datetime(*parts, chosen)  # noqa: DTZ001 - the zone, by position
        return parse_instant(text, stamps, field)

    return parse


def format_instant(at: datetime, stamps: Timestamps) -> str:
    """An instant written in the profile's first format (in its timezone when it is naive).

    >>> from datetime import datetime, timezone
    >>> stamps = Timestamps(formats=("%d/%m/%Y %H:%M",), timezone="UTC")
    >>> format_instant(datetime(2016, 2, 29, 1, 16, tzinfo=timezone.utc), stamps)
    '29/02/2016 01:16'
    """
    fmt = stamps.formats[0]
    local = at.astimezone(zone(stamps.timezone)) if stamps.timezone else at
    if fmt == "iso":
        return local.isoformat()
    return local.strftime(fmt)
