"""Impact, urgency and priority: ordered scales and the matrix that joins them.

ITIL derives a ticket's priority from two judgements: its *impact* (how much of
the organisation is hurt) and its *urgency* (how fast the hurt grows). A
`PriorityMatrix` is the table impact x urgency -> priority, built from two
ordered `Scale` values and the `PriorityLevel` values it may
answer with. It is validated once, when built, and then answers in one dict
lookup:

Examples:
    >>> from itsm_core.priority import PriorityMatrix
    >>> matrix = PriorityMatrix.itil_3x3()
    >>> matrix.derive("high", "medium")
    PriorityLevel(name='P2', label='High', rank=2)
    >>> print(matrix.derive("low", "low"))
    P5 Planning

Conventions used throughout the module:

* **Rank 1 is the most severe.** In a scale the level of the smallest rank is
  the most severe (ServiceNow's "1 - High"); among priorities rank 1 is the most
  urgent (P1). Ranks 0 and below are reserved for tiers outside the matrix,
  such as the major-incident tier `MAJOR`.
* **Reading order.** Scales list their levels by rank, so a matrix reads from
  its most severe corner: rows are impact levels in rank order, columns are
  urgency levels in rank order. Validation reports the cells of the grid in
  this order, so the first problem names the first bad cell.
* **Monotonic.** Raising impact or urgency never lowers the priority, unless
  the matrix is built with ``monotonic=False``.

The effective priority of a ticket follows one precedence, major tier >
manual override > derived priority; see `effective_priority`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from itsm_core.errors import ConfigurationError, InvalidValueError, Problem

__all__ = [
    "MAJOR",
    "Cell",
    "Level",
    "PriorityLevel",
    "PriorityMatrix",
    "RequesterMask",
    "Scale",
    "effective_priority",
    "sort_key",
]

_NAME = "a non-empty name without leading or trailing spaces"


def _is_name(value: object) -> bool:
    return isinstance(value, str) and value != "" and value == value.strip()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _one_of(names: Iterable[str]) -> str:
    shown = ", ".join(repr(name) for name in names)
    return f"one of {shown}" if shown else "nothing (no level is available)"


def _as_tuple(value: Any) -> Any:
    """Lists and other iterables become tuples; anything else is left for validation."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return value
    return tuple(value)


# ---------------------------------------------------------------------------
# Levels and scales
# ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Level:
    """One step of an ordered scale such as impact or urgency.

    ``rank`` orders the scale: the smallest rank (usually 1) is the most
    severe level. ``description`` is free text shown to people choosing a level.

    Examples:
        >>> Level(name="high", rank=1, description="A whole service is down")
        Level(name='high', rank=1, description='A whole service is down')
        >>> Level(name="high", rank="1")
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: rank: expected an integer, got '1'
    """

    name: str
    rank: int
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not _is_name(self.name):
            raise InvalidValueError("name", self.name, _NAME)
        if not _is_int(self.rank):
            raise InvalidValueError("rank", self.rank, "an integer")
        if not isinstance(self.description, str):
            raise InvalidValueError("description", self.description, "a string")


def _level_problems(levels: Sequence[Level | None], path: str) -> list[Problem]:
    """Problems of a list of levels (``None`` marks an entry already reported)."""
    if not levels:
        return [Problem(path, "a scale needs at least one level")]
    problems: list[Problem] = []
    names: dict[str, int] = {}
    ranks: dict[int, int] = {}
    for index, level in enumerate(levels):
        if level is None:
            continue
        if level.name in names:
            problems.append(
                Problem(
                    f"{path}[{index}].name",
                    f"duplicate level name {level.name!r} (already at {path}[{names[level.name]}])",
                )
            )
        else:
            names[level.name] = index
        if level.rank in ranks:
            problems.append(
                Problem(
                    f"{path}[{index}].rank",
                    f"duplicate rank {level.rank} (already at {path}[{ranks[level.rank]}]); "
                    "ranks order the scale, so each level needs its own",
                )
            )
        else:
            ranks[level.rank] = index
    return problems


@attrs.frozen(kw_only=True)
class Scale:
    """An ordered scale of levels, such as impact or urgency.

    Levels may be given in any order; the scale keeps them sorted by rank, the
    most severe first. Names and ranks must be unique. Looking up an unknown
    name raises `InvalidValueError` naming the scale
    and listing the valid names.

    Examples:
        >>> urgency = Scale(
        ...     name="urgency",
        ...     levels=[Level(name="low", rank=3), Level(name="high", rank=1),
        ...             Level(name="medium", rank=2)],
        ... )
        >>> urgency.names
        ('high', 'medium', 'low')
        >>> urgency.level("medium").rank
        2
        >>> urgency.level("urgent")
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: urgency: expected one of 'high', 'medium', 'low', \
got 'urgent'
    """

    name: str
    levels: tuple[Level, ...] = attrs.field(converter=_as_tuple)
    _by_name: dict[str, Level] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        if not _is_name(self.name):
            problems.append(Problem("name", f"expected {_NAME}, got {self.name!r}"))
        levels: tuple[Any, ...] = self.levels
        if not isinstance(levels, tuple):
            problems.append(Problem("levels", f"expected a sequence of Level, got {levels!r}"))
            raise ConfigurationError(problems)
        checked: list[Level | None] = []
        for index, level in enumerate(levels):
            if isinstance(level, Level):
                checked.append(level)
            else:
                checked.append(None)
                problems.append(Problem(f"levels[{index}]", f"expected a Level, got {level!r}"))
        problems += _level_problems(checked, "levels")
        if problems:
            raise ConfigurationError(problems)
        ordered = tuple(sorted(levels, key=_level_rank))
        object.__setattr__(self, "levels", ordered)
        object.__setattr__(self, "_by_name", {level.name: level for level in ordered})

    @property
    def names(self) -> tuple[str, ...]:
        """The level names, most severe first.

        Examples:
            >>> PriorityMatrix.itil_3x3().impact.names
            ('high', 'medium', 'low')
        """
        return tuple(level.name for level in self.levels)

    def level(self, name: str) -> Level:
        """The level called ``name``; an unknown name raises naming this scale.

        Examples:
            >>> PriorityMatrix.glpi_5x5().urgency.level("very_high").rank
            1
        """
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise InvalidValueError(self.name, name, _one_of(self.names)) from None

    def __contains__(self, name: object) -> bool:
        """Whether a level of this name exists.

        Examples:
            >>> "medium" in PriorityMatrix.itil_3x3().urgency
            True
        """
        try:
            return name in self._by_name
        except TypeError:
            return False

    def __iter__(self) -> Iterator[Level]:
        """The levels, most severe first.

        Examples:
            >>> [level.rank for level in PriorityMatrix.itil_3x3().urgency]
            [1, 2, 3]
        """
        return iter(self.levels)

    def __len__(self) -> int:
        """The number of levels.

        Examples:
            >>> len(PriorityMatrix.glpi_5x5().impact)
            5
        """
        return len(self.levels)


def _level_rank(level: Level) -> int:
    return level.rank


# ---------------------------------------------------------------------------
# Priority levels, the major tier and ordering
# ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PriorityLevel:
    """A priority a ticket can have: ``name`` (``"P1"``), ``label`` and ``rank``.

    Rank 1 is the most urgent. Inside a matrix ranks are 1 or more; ranks 0 and
    below are reserved for tiers outside the matrix, such as `MAJOR`.

    Priority levels order like a queue: a level sorts before (compares less
    than) every less urgent level, by `sort_key` ``(rank, name)``. So
    ``sorted(levels)`` puts the most urgent first and ``min(levels)`` is the
    most urgent.

    Examples:
        >>> p1 = PriorityLevel(name="P1", label="Critical", rank=1)
        >>> p3 = PriorityLevel(name="P3", label="Moderate", rank=3)
        >>> print(p1)
        P1 Critical
        >>> [str(level) for level in sorted([p3, MAJOR, p1])]
        ['P0 Major incident', 'P1 Critical', 'P3 Moderate']
        >>> p1 < p3
        True
    """

    name: str
    label: str = ""
    rank: int

    def __attrs_post_init__(self) -> None:
        if not _is_name(self.name):
            raise InvalidValueError("name", self.name, _NAME)
        if not isinstance(self.label, str):
            raise InvalidValueError("label", self.label, "a string")
        if not _is_int(self.rank):
            raise InvalidValueError("rank", self.rank, "an integer")

    def __str__(self) -> str:
        return f"{self.name} {self.label}" if self.label else self.name

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PriorityLevel):
            return NotImplemented
        return (self.rank, self.name) < (other.rank, other.name)

    def __le__(self, other: object) -> bool:
        if not isinstance(other, PriorityLevel):
            return NotImplemented
        return (self.rank, self.name) <= (other.rank, other.name)

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, PriorityLevel):
            return NotImplemented
        return (self.rank, self.name) > (other.rank, other.name)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, PriorityLevel):
            return NotImplemented
        return (self.rank, self.name) >= (other.rank, other.name)


#: The major-incident tier: above every matrix priority, never derived from a
#: matrix. A ticket enters it only through an explicit command that names a
#: reason (and, once permissions exist, needs its own right, as GLPI's "major"
#: priority does); leaving it is an explicit command too. See
#: `effective_priority` for how it combines with the other priorities.
MAJOR = PriorityLevel(name="P0", label="Major incident", rank=0)


def sort_key(level: PriorityLevel) -> tuple[int, str]:
    """The key that sorts priority levels by importance, most urgent first.

    Use it to sort a queue by its items' effective priority; `MAJOR`
    comes before P1.

    Examples:
        >>> matrix = PriorityMatrix.itil_3x3()
        >>> queue = [("printer", matrix.priority("P4")), ("outage", MAJOR),
        ...          ("mail", matrix.priority("P2"))]
        >>> [name for name, level in sorted(queue, key=lambda item: sort_key(item[1]))]
        ['outage', 'mail', 'printer']
    """
    if not isinstance(level, PriorityLevel):
        raise InvalidValueError("priority", level, "a PriorityLevel")
    return (level.rank, level.name)


def effective_priority(
    derived: PriorityLevel,
    override: PriorityLevel | None = None,
    major: bool | PriorityLevel | None = None,
) -> PriorityLevel:
    """The priority a ticket is worked at: major tier > manual override > derived.

    * ``derived`` is what the matrix gives for the ticket's impact and urgency;
    * ``override`` is a priority set by hand (with a reason, recorded in the
      ticket's events), or ``None``; it must be a matrix priority, because the
      major tier is entered only through its own command;
    * ``major`` says whether the ticket is a declared major incident: ``True``
      for `MAJOR`, a custom tier (a `PriorityLevel` of rank 0 or
      below) or ``False``/``None`` for no major tier.

    The derived priority is kept even when it is not effective, so lifting an
    override or ending a major incident falls back to it.

    Examples:
        >>> matrix = PriorityMatrix.itil_3x3()
        >>> derived = matrix.derive("low", "medium")
        >>> print(effective_priority(derived))
        P4 Low
        >>> print(effective_priority(derived, override=matrix.priority("P2")))
        P2 High
        >>> print(effective_priority(derived, override=matrix.priority("P2"), major=True))
        P0 Major incident
        >>> effective_priority(derived, override=MAJOR)
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: override: expected a matrix priority (rank 1 or more), \
got ... (the major tier is set only by its own command, with a reason)
    """
    if not isinstance(derived, PriorityLevel):
        raise InvalidValueError("derived", derived, "a PriorityLevel")
    if override is not None:
        if not isinstance(override, PriorityLevel):
            raise InvalidValueError("override", override, "a PriorityLevel or None")
        if override.rank < 1:
            raise InvalidValueError(
                "override",
                override,
                "a matrix priority (rank 1 or more)",
                "the major tier is set only by its own command, with a reason",
            )
    if major is True:
        return MAJOR
    if isinstance(major, PriorityLevel):
        if major.rank >= 1:
            raise InvalidValueError(
                "major", major, "True, False, None or a tier outside the matrix (rank 0 or below)"
            )
        return major
    if major is not None and major is not False:
        raise InvalidValueError(
            "major", major, "True, False, None or a tier outside the matrix (rank 0 or below)"
        )
    return override if override is not None else derived


def _priority_problems(priorities: Sequence[PriorityLevel | None], path: str) -> list[Problem]:
    if not priorities:
        return [Problem(path, "a matrix needs at least one priority level")]
    problems: list[Problem] = []
    names: dict[str, int] = {}
    ranks: dict[int, int] = {}
    for index, level in enumerate(priorities):
        if level is None:
            continue
        where = f"{path}[{index}]"
        if level.name in names:
            problems.append(
                Problem(
                    f"{where}.name",
                    f"duplicate priority name {level.name!r} "
                    f"(already at {path}[{names[level.name]}])",
                )
            )
        else:
            names[level.name] = index
        if level.rank < 1:
            problems.append(
                Problem(
                    f"{where}.rank",
                    f"expected a rank of 1 or more, got {level.rank} (ranks 0 and below are "
                    "reserved for tiers outside the matrix, such as the major tier)",
                )
            )
        elif level.rank in ranks:
            problems.append(
                Problem(
                    f"{where}.rank",
                    f"duplicate rank {level.rank} (already at {path}[{ranks[level.rank]}])",
                )
            )
        else:
            ranks[level.rank] = index
    return problems


# ---------------------------------------------------------------------------
# Cells and the plain-data parsers
# ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Cell:
    """One cell of a matrix: this impact and this urgency give this priority.

    It is the shape of a ServiceNow priority lookup rule. A matrix accepts its
    cells either as `Cell` values or as the nested mapping
    ``{impact: {urgency: priority}}``.

    Examples:
        >>> Cell(impact="high", urgency="low", priority="P3")
        Cell(impact='high', urgency='low', priority='P3')
    """

    impact: str
    urgency: str
    priority: str

    def __attrs_post_init__(self) -> None:
        for field in ("impact", "urgency", "priority"):
            value = getattr(self, field)
            if not isinstance(value, str):
                raise InvalidValueError(field, value, f"a {field} name")


def _cells_from_mapping(raw: Mapping[Any, Any], path: str) -> tuple[list[Cell], list[Problem]]:
    cells: list[Cell] = []
    problems: list[Problem] = []
    for impact, row in raw.items():
        if not isinstance(impact, str):
            problems.append(Problem(f"{path}[{impact!r}]", "expected an impact level name as key"))
            continue
        if not isinstance(row, Mapping):
            problems.append(
                Problem(
                    f"{path}[{impact}]",
                    f"expected a mapping of urgency level name to priority name, got {row!r}",
                )
            )
            continue
        for urgency, priority in row.items():
            if not isinstance(urgency, str):
                problems.append(
                    Problem(
                        f"{path}[{impact}][{urgency!r}]", "expected an urgency level name as key"
                    )
                )
            elif not isinstance(priority, str):
                problems.append(
                    Problem(
                        f"{path}[{impact}][{urgency}]",
                        f"expected a priority name, got {priority!r}",
                    )
                )
            else:
                cells.append(Cell(impact=impact, urgency=urgency, priority=priority))
    return cells, problems


def _cells_converter(value: Any) -> Any:
    if isinstance(value, Mapping):
        cells, problems = _cells_from_mapping(value, "cells")
        if problems:
            raise ConfigurationError(problems)
        return tuple(cells)
    return _as_tuple(value)


def _check_keys(
    raw: Mapping[Any, Any], path: str, allowed: Sequence[str], problems: list[Problem]
) -> None:
    for key in raw:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            problems.append(Problem(where, f"unknown key; expected {_one_of(allowed)}"))


def _parse_named(
    raw: Any,
    index: int,
    path: str,
    fields: Sequence[str],
    problems: list[Problem],
) -> dict[str, Any] | None:
    """A level-like entry: a bare name or a mapping of ``fields`` (rank defaults to position)."""
    where = f"{path}[{index}]"
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        problems.append(
            Problem(
                where, f"expected a name or a mapping with keys {', '.join(fields)}, got {raw!r}"
            )
        )
        return None
    before = len(problems)
    _check_keys(raw, where, fields, problems)
    values: dict[str, Any] = {"rank": index + 1}
    for key in fields:
        if key in raw:
            values[key] = raw[key]
    name = values.get("name")
    if name is None:
        problems.append(Problem(f"{where}.name", "missing"))
    elif not _is_name(name):
        problems.append(Problem(f"{where}.name", f"expected {_NAME}, got {name!r}"))
    if not _is_int(values["rank"]):
        problems.append(Problem(f"{where}.rank", f"expected an integer, got {values['rank']!r}"))
    for key in ("description", "label"):
        if key in values and not isinstance(values[key], str):
            problems.append(Problem(f"{where}.{key}", f"expected a string, got {values[key]!r}"))
    return values if len(problems) == before else None


def _parse_list(raw: Any, path: str, problems: list[Problem]) -> list[Any] | None:
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
        problems.append(Problem(path, f"expected a list, got {raw!r}"))
        return None
    return list(raw)


def _parse_scale(raw: Any, path: str, problems: list[Problem]) -> Scale | None:
    name: Any = path
    levels_path = path
    if isinstance(raw, Mapping):
        _check_keys(raw, path, ("name", "levels"), problems)
        name = raw.get("name", path)
        if not _is_name(name):
            problems.append(Problem(f"{path}.name", f"expected {_NAME}, got {name!r}"))
        levels_path = f"{path}.levels"
        if "levels" not in raw:
            problems.append(Problem(levels_path, "missing"))
            return None
        raw = raw["levels"]
    items = _parse_list(raw, levels_path, problems)
    if items is None:
        return None
    before = len(problems)
    levels: list[Level | None] = []
    for index, item in enumerate(items):
        values = _parse_named(item, index, levels_path, ("name", "rank", "description"), problems)
        levels.append(None if values is None else Level(**values))
    problems += _level_problems(levels, levels_path)
    if len(problems) != before or not _is_name(name):
        return None
    return Scale(name=name, levels=[level for level in levels if level is not None])


def _parse_priorities(raw: Any, path: str, problems: list[Problem]) -> list[PriorityLevel] | None:
    items = _parse_list(raw, path, problems)
    if items is None:
        return None
    before = len(problems)
    levels: list[PriorityLevel | None] = []
    for index, item in enumerate(items):
        values = _parse_named(item, index, path, ("name", "label", "rank"), problems)
        levels.append(None if values is None else PriorityLevel(**values))
    problems += _priority_problems(levels, path)
    if len(problems) != before:
        return None
    return [level for level in levels if level is not None]


def _parse_names(raw: Any, path: str, problems: list[Problem]) -> tuple[str, ...] | None:
    items = _parse_list(raw, path, problems)
    if items is None:
        return None
    bad = [
        Problem(f"{path}[{index}]", f"expected a level name, got {item!r}")
        for index, item in enumerate(items)
        if not isinstance(item, str)
    ]
    problems += bad
    return None if bad else tuple(items)


def _scale_to_data(scale: Scale, field: str) -> Any:
    levels: list[dict[str, Any]] = []
    for level in scale.levels:
        item: dict[str, Any] = {"name": level.name, "rank": level.rank}
        if level.description:
            item["description"] = level.description
        levels.append(item)
    if scale.name == field:
        return levels
    return {"name": scale.name, "levels": levels}


def _disabled_problems(
    disabled: Any, scale: Scale, path: str, problems: list[Problem]
) -> tuple[str, ...]:
    """Problems of a disabled-levels list; returns it in scale order."""
    if not isinstance(disabled, tuple):
        problems.append(Problem(path, f"expected a sequence of level names, got {disabled!r}"))
        return ()
    seen: set[str] = set()
    for index, name in enumerate(disabled):
        where = f"{path}[{index}]"
        if not isinstance(name, str) or name not in scale:
            problems.append(
                Problem(
                    where,
                    f"unknown {path.removeprefix('disabled_')} level {name!r}; "
                    f"expected {_one_of(scale.names)}",
                )
            )
        elif name in seen:
            problems.append(Problem(where, f"{name!r} is listed twice"))
        else:
            seen.add(name)
    if len(seen) == len(scale):
        problems.append(
            Problem(path, f"every {scale.name} level is disabled; at least one must stay enabled")
        )
    return tuple(name for name in scale.names if name in seen)


# ---------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------

_Pair = tuple[str, str]
_MATRIX_KEYS = (
    "impact",
    "urgency",
    "priorities",
    "cells",
    "monotonic",
    "disabled_impact",
    "disabled_urgency",
)


def _cell_path(impact: str, urgency: str) -> str:
    return f"cells[{impact}][{urgency}]"


def _grid(
    impact: Scale,
    urgency: Scale,
    priorities: Mapping[str, PriorityLevel],
    cells: tuple[Any, ...],
    monotonic: bool,
) -> tuple[list[Problem], dict[_Pair, PriorityLevel]]:
    """Validate the cells; return the problems in reading order and the table."""
    structural: list[Problem] = []
    outside: dict[str, Problem] = {}
    given: dict[_Pair, list[str]] = {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, Cell):
            structural.append(Problem(f"cells[{index}]", f"expected a Cell, got {cell!r}"))
        elif cell.impact not in impact:
            where = f"cells[{cell.impact}]"
            outside[where] = Problem(
                where, f"unknown impact level {cell.impact!r}; expected {_one_of(impact.names)}"
            )
        elif cell.urgency not in urgency:
            where = _cell_path(cell.impact, cell.urgency)
            outside[where] = Problem(
                where, f"unknown urgency level {cell.urgency!r}; expected {_one_of(urgency.names)}"
            )
        else:
            given.setdefault((cell.impact, cell.urgency), []).append(cell.priority)

    n, m = len(impact), len(urgency)
    known = _one_of(priorities)
    first_pass: list[list[Problem | None]] = [[None] * m for _ in range(n)]
    ranks: list[list[int | None]] = [[None] * m for _ in range(n)]
    table: dict[_Pair, PriorityLevel] = {}
    for i, row_level in enumerate(impact.levels):
        for j, column_level in enumerate(urgency.levels):
            pair = (row_level.name, column_level.name)
            where = _cell_path(*pair)
            names = given.get(pair)
            if names is None:
                first_pass[i][j] = Problem(
                    where, f"missing; every impact x urgency pair needs a priority, {known}"
                )
            elif len(names) > 1:
                shown = ", ".join(repr(name) for name in names)
                first_pass[i][j] = Problem(
                    where, f"given {len(names)} times ({shown}); give it once"
                )
            elif names[0] not in priorities:
                first_pass[i][j] = Problem(
                    where, f"unknown priority {names[0]!r}; expected {known}"
                )
            else:
                level = priorities[names[0]]
                table[pair] = level
                ranks[i][j] = level.rank

    # Monotonic check: a cell is non-monotonic when it is less urgent than its neighbour one
    # impact level lower or one urgency level lower. Checking neighbours suffices: a table
    # without such a cell is monotonic everywhere (by transitivity), and a single slip in a
    # table is reported at the cells next to it rather than all across the table.
    problems: list[Problem] = list(structural)
    violations: dict[_Pair, Problem] = {}
    if monotonic:
        for i in range(n):
            for j in range(m):
                rank = ranks[i][j]
                if rank is None:
                    continue
                lower = [
                    (other, a, b, scale)
                    for a, b, scale in ((i, j + 1, "urgency"), (i + 1, j, "impact"))
                    if a < n and b < m and (other := ranks[a][b]) is not None and other < rank
                ]
                if not lower:
                    continue
                _, a, b, scale = min(lower)
                pair = (impact.levels[i].name, urgency.levels[j].name)
                other_pair = (impact.levels[a].name, urgency.levels[b].name)
                violations[pair] = Problem(
                    _cell_path(*pair),
                    f"{table[pair].name!r} is less urgent than {table[other_pair].name!r} at "
                    f"{_cell_path(*other_pair)}, one {scale} level lower; raising impact or "
                    "urgency must never lower the priority (build the matrix with "
                    "monotonic=False to allow this table)",
                )
    for i, row_level in enumerate(impact.levels):
        for j, column_level in enumerate(urgency.levels):
            problem = first_pass[i][j] or violations.get((row_level.name, column_level.name))
            if problem is not None:
                problems.append(problem)
    problems += outside.values()
    return problems, table


@attrs.frozen(kw_only=True)
class PriorityMatrix:
    """The table impact x urgency -> priority, validated when built.

    Built from two scales, the priority levels and the cells, given as
    `Cell` values or as the mapping ``{impact: {urgency: priority}}``
    (all by name). Construction checks, and reports every problem at once in a
    `ConfigurationError`:

    * scales and priorities are well formed (unique names and ranks, priority
      ranks of 1 or more);
    * every cell is filled, once, with a known priority, and no cell names a
      level outside the scales;
    * the table is **monotonic**: raising impact or urgency never lowers the
      priority, unless ``monotonic=False``;
    * disabled levels exist and leave at least one level of each scale enabled.

    Problems about cells come in **reading order** — impact levels in rank order
    (most severe first), then urgency levels in rank order within each impact
    row — so the first problem names the first bad cell, as
    ``cells[<impact>][<urgency>]``. A cell is *non-monotonic* when it is less
    urgent than its neighbour one urgency level lower or one impact level
    lower; the problem names that neighbour (the more urgent of the two, the
    urgency neighbour on a tie). A table without non-monotonic cells is
    monotonic everywhere. Cells naming levels outside the scales are reported
    after the grid, in the order they were given.

    ``disabled_impact`` and ``disabled_urgency`` switch levels off, as GLPI
    does: a disabled level keeps its cells (old tickets can still be
    re-derived with ``allow_disabled=True``) but `derive` refuses it by
    default and requester masks may not offer it.

    The cells are kept in reading order, so two matrices with the same table
    are equal however their cells were listed.

    Examples:
        >>> matrix = PriorityMatrix(
        ...     impact=Scale(name="impact", levels=[Level(name="wide", rank=1),
        ...                                         Level(name="narrow", rank=2)]),
        ...     urgency=Scale(name="urgency", levels=[Level(name="now", rank=1),
        ...                                           Level(name="later", rank=2)]),
        ...     priorities=[PriorityLevel(name="P1", label="High", rank=1),
        ...                 PriorityLevel(name="P2", label="Low", rank=2)],
        ...     cells={"wide": {"now": "P1", "later": "P2"},
        ...            "narrow": {"now": "P2", "later": "P2"}},
        ... )
        >>> print(matrix.derive("wide", "now"))
        P1 High
        >>> PriorityMatrix.from_dict({**matrix.to_dict(),
        ...                           "cells": {"wide": {"now": "P2", "later": "P1"},
        ...                                     "narrow": {"now": "P2"}}})
        Traceback (most recent call last):
        ...
        itsm_core.errors.ConfigurationError: 2 problems in the configuration:
          cells[wide][now]: 'P2' is less urgent than 'P1' at cells[wide][later], ...
          cells[narrow][later]: missing; every impact x urgency pair needs a priority, one of ...
    """

    impact: Scale
    urgency: Scale
    priorities: tuple[PriorityLevel, ...] = attrs.field(converter=_as_tuple)
    cells: tuple[Cell, ...] = attrs.field(converter=_cells_converter)
    monotonic: bool = True
    disabled_impact: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    disabled_urgency: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    _table: dict[_Pair, PriorityLevel] = attrs.field(init=False, repr=False, eq=False)
    _enabled: dict[_Pair, PriorityLevel] = attrs.field(init=False, repr=False, eq=False)
    _by_name: dict[str, PriorityLevel] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        impact: Any = self.impact
        urgency: Any = self.urgency
        priorities: Any = self.priorities
        for field, scale in (("impact", impact), ("urgency", urgency)):
            if not isinstance(scale, Scale):
                problems.append(Problem(field, f"expected a Scale, got {scale!r}"))
        checked: list[PriorityLevel | None] = []
        if isinstance(priorities, tuple):
            for index, level in enumerate(priorities):
                if isinstance(level, PriorityLevel):
                    checked.append(level)
                else:
                    checked.append(None)
                    problems.append(
                        Problem(f"priorities[{index}]", f"expected a PriorityLevel, got {level!r}")
                    )
            problems += _priority_problems(checked, "priorities")
        else:
            problems.append(
                Problem("priorities", f"expected a sequence of PriorityLevel, got {priorities!r}")
            )
        if not isinstance(self.monotonic, bool):
            problems.append(Problem("monotonic", f"expected True or False, got {self.monotonic!r}"))
        cells: Any = self.cells
        if not isinstance(cells, tuple):
            problems.append(
                Problem(
                    "cells",
                    "expected a mapping {impact: {urgency: priority}} or a sequence of Cell, "
                    f"got {cells!r}",
                )
            )
        if problems:
            raise ConfigurationError(problems)
        disabled_impact = _disabled_problems(
            self.disabled_impact, impact, "disabled_impact", problems
        )
        disabled_urgency = _disabled_problems(
            self.disabled_urgency, urgency, "disabled_urgency", problems
        )
        ordered = tuple(sorted(priorities, key=sort_key))
        by_name = {level.name: level for level in ordered}
        grid_problems, table = _grid(impact, urgency, by_name, cells, self.monotonic)
        problems += grid_problems
        if problems:
            raise ConfigurationError(problems)
        set_ = object.__setattr__
        set_(self, "priorities", ordered)
        set_(
            self,
            "cells",
            tuple(
                Cell(impact=i, urgency=u, priority=level.name) for (i, u), level in table.items()
            ),
        )
        set_(self, "disabled_impact", disabled_impact)
        set_(self, "disabled_urgency", disabled_urgency)
        set_(self, "_table", table)
        set_(
            self,
            "_enabled",
            {
                pair: level
                for pair, level in table.items()
                if pair[0] not in disabled_impact and pair[1] not in disabled_urgency
            },
        )
        set_(self, "_by_name", by_name)

    # -- lookups --------------------------------------------------------------

    def derive(self, impact: str, urgency: str, *, allow_disabled: bool = False) -> PriorityLevel:
        """The priority of this impact and urgency (level names).

        An unknown or disabled level raises
        `InvalidValueError` naming ``impact`` or
        ``urgency`` and listing the valid names. ``allow_disabled=True``
        accepts disabled levels, for re-deriving tickets recorded before a
        level was switched off.

        Examples:
            >>> matrix = PriorityMatrix.itil_3x3()
            >>> print(matrix.derive("medium", "high"))
            P2 High
            >>> matrix.derive("severe", "high")
            Traceback (most recent call last):
            ...
            itsm_core.errors.InvalidValueError: impact: expected one of 'high', 'medium', 'low', \
got 'severe'
        """
        table = self._table if allow_disabled else self._enabled
        try:
            return table[(impact, urgency)]
        except (KeyError, TypeError):
            pass
        self.level("impact", impact, allow_disabled=allow_disabled)
        self.level("urgency", urgency, allow_disabled=allow_disabled)
        raise AssertionError("unreachable: a valid matrix is total")  # pragma: no cover

    def level(self, field: str, name: str, *, allow_disabled: bool = False) -> Level:
        """The enabled level ``name`` of the ``"impact"`` or ``"urgency"`` scale.

        Use it to check one field on its own (say, an impact given before the
        urgency is known). An unknown or disabled name raises
        `InvalidValueError` naming ``field``, as
        `derive` does.

        Examples:
            >>> import attrs
            >>> matrix = attrs.evolve(PriorityMatrix.glpi_5x5(), disabled_impact=["very_low"])
            >>> matrix.level("impact", "low").rank
            4
            >>> matrix.level("impact", "very_low")
            Traceback (most recent call last):
            ...
            itsm_core.errors.InvalidValueError: impact: expected one of 'very_high', 'high', \
'medium', 'low', got 'very_low' ('very_low' is disabled in this matrix)
        """
        enabled = self.enabled(field)
        scale = self.impact if field == "impact" else self.urgency
        disabled = self.disabled_impact if field == "impact" else self.disabled_urgency
        if name in enabled or (allow_disabled and name in disabled):
            return scale.level(name)
        shown = scale.names if allow_disabled else enabled
        detail = f"{name!r} is disabled in this matrix" if name in disabled else ""
        raise InvalidValueError(field, name, _one_of(shown), detail)

    def priority(self, name: str) -> PriorityLevel:
        """The priority level called ``name`` (e.g. for a manual override).

        Examples:
            >>> PriorityMatrix.itil_3x3().priority("P3")
            PriorityLevel(name='P3', label='Moderate', rank=3)
            >>> PriorityMatrix.itil_3x3().priority("P9")
            Traceback (most recent call last):
            ...
            itsm_core.errors.InvalidValueError: priority: expected one of 'P1', 'P2', 'P3', 'P4', \
'P5', got 'P9'
        """
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise InvalidValueError("priority", name, _one_of(self._by_name)) from None

    def enabled(self, field: str) -> tuple[str, ...]:
        """The enabled level names of ``"impact"`` or ``"urgency"``, most severe first.

        Examples:
            >>> import attrs
            >>> matrix = attrs.evolve(PriorityMatrix.glpi_5x5(), disabled_urgency=["very_low"])
            >>> matrix.enabled("urgency")
            ('very_high', 'high', 'medium', 'low')
        """
        if field == "impact":
            return tuple(n for n in self.impact.names if n not in self.disabled_impact)
        if field == "urgency":
            return tuple(n for n in self.urgency.names if n not in self.disabled_urgency)
        raise InvalidValueError("field", field, "one of 'impact', 'urgency'")

    def with_cell(self, impact: str, urgency: str, priority: str) -> PriorityMatrix:
        """A copy with one cell changed, validated like any matrix.

        Examples:
            >>> matrix = PriorityMatrix.itil_3x3().with_cell("low", "low", "P4")
            >>> print(matrix.derive("low", "low"))
            P4 Low
        """
        self.impact.level(impact)
        self.urgency.level(urgency)
        self.priority(priority)
        cells = [
            Cell(impact=impact, urgency=urgency, priority=priority)
            if (cell.impact, cell.urgency) == (impact, urgency)
            else cell
            for cell in self.cells
        ]
        return attrs.evolve(self, cells=cells)

    # -- presentation -----------------------------------------------------------

    def rows(
        self, cell: str = "{name} {label}", *, corner: str | None = None
    ) -> tuple[tuple[str, ...], ...]:
        """The matrix as table rows: a header row, then one row per impact level.

        The header holds ``corner`` (by default ``"impact \\ urgency"`` from the
        scale names) and the urgency names; each row starts with an impact name.
        Cells are ``cell`` formatted with the priority's ``name``, ``label`` and
        ``rank``. Disabled levels are marked ``(disabled)``.

        Examples:
            >>> for row in PriorityMatrix.itil_3x3().rows("{name}"):
            ...     print(" | ".join(row))
            impact \\ urgency | high | medium | low
            high | P1 | P2 | P3
            medium | P2 | P3 | P4
            low | P3 | P4 | P5
        """
        try:
            cell.format(name="", label="", rank=0)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError):
            raise InvalidValueError(
                "cell", cell, "a format string using {name}, {label} and {rank}"
            ) from None

        def shown(name: str, disabled: tuple[str, ...]) -> str:
            return f"{name} (disabled)" if name in disabled else name

        header = (
            corner if corner is not None else f"{self.impact.name} \\ {self.urgency.name}",
            *(shown(name, self.disabled_urgency) for name in self.urgency.names),
        )
        body = [
            (
                shown(i, self.disabled_impact),
                *(
                    cell.format(name=p.name, label=p.label, rank=p.rank)
                    for p in (self._table[(i, u)] for u in self.urgency.names)
                ),
            )
            for i in self.impact.names
        ]
        return (header, *body)

    # -- plain data ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form used by configuration documents (JSON/TOML ready).

        Scales are lists of levels, most severe first (a scale whose name is
        not ``impact``/``urgency`` becomes ``{"name": ..., "levels": [...]}``);
        ``cells`` maps impact name to urgency name to priority name. Empty
        descriptions and empty disabled lists are left out.

        Examples:
            >>> data = PriorityMatrix.itil_3x3().to_dict()
            >>> data["cells"]["high"]
            {'high': 'P1', 'medium': 'P2', 'low': 'P3'}
            >>> data["priorities"][0]
            {'name': 'P1', 'label': 'Critical', 'rank': 1}
            >>> sorted(data)
            ['cells', 'impact', 'monotonic', 'priorities', 'urgency']
        """
        data: dict[str, Any] = {
            "impact": _scale_to_data(self.impact, "impact"),
            "urgency": _scale_to_data(self.urgency, "urgency"),
            "priorities": [
                {"name": level.name, "label": level.label, "rank": level.rank}
                for level in self.priorities
            ],
            "cells": {
                i: {u: self._table[(i, u)].name for u in self.urgency.names}
                for i in self.impact.names
            },
            "monotonic": self.monotonic,
        }
        if self.disabled_impact:
            data["disabled_impact"] = list(self.disabled_impact)
        if self.disabled_urgency:
            data["disabled_urgency"] = list(self.disabled_urgency)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriorityMatrix:
        """Build a matrix from its plain-data form, reporting every problem with its path.

        Besides the exact form `to_dict` writes, a level or a priority may
        be a bare name, and ``rank`` may be left out: it then defaults to the
        position in the list (1 for the first).

        Examples:
            >>> matrix = PriorityMatrix.from_dict({
            ...     "impact": ["high", "low"],
            ...     "urgency": ["high", "low"],
            ...     "priorities": [{"name": "P1", "label": "Urgent"},
            ...                    {"name": "P2", "label": "Normal"}],
            ...     "cells": {"high": {"high": "P1", "low": "P2"},
            ...               "low": {"high": "P2", "low": "P2"}},
            ... })
            >>> print(matrix.derive("high", "high"))
            P1 Urgent
            >>> PriorityMatrix.from_dict({"impact": ["high"], "urgency": "high"})
            Traceback (most recent call last):
            ...
            itsm_core.errors.ConfigurationError: 3 problems in the configuration:
              urgency: expected a list, got 'high'
              priorities: missing
              cells: missing
        """
        if not isinstance(data, Mapping):
            raise ConfigurationError(
                [
                    Problem(
                        "", f"expected a mapping with keys {', '.join(_MATRIX_KEYS)}, got {data!r}"
                    )
                ]
            )
        problems: list[Problem] = []
        _check_keys(data, "", _MATRIX_KEYS, problems)
        parsed: dict[str, Any] = {}
        for key in ("impact", "urgency", "priorities", "cells"):
            if key not in data:
                problems.append(Problem(key, "missing"))
            elif key == "priorities":
                parsed[key] = _parse_priorities(data[key], key, problems)
            elif key == "cells":
                if isinstance(data[key], Mapping):
                    cells, cell_problems = _cells_from_mapping(data[key], key)
                    problems += cell_problems
                    parsed[key] = cells
                else:
                    problems.append(
                        Problem(
                            key,
                            f"expected a mapping {{impact: {{urgency: priority}}}}, "
                            f"got {data[key]!r}",
                        )
                    )
            else:
                parsed[key] = _parse_scale(data[key], key, problems)
        monotonic = data.get("monotonic", True)
        if not isinstance(monotonic, bool):
            problems.append(Problem("monotonic", f"expected true or false, got {monotonic!r}"))
        for key in ("disabled_impact", "disabled_urgency"):
            parsed[key] = _parse_names(data.get(key, []), key, problems)
        if problems:
            raise ConfigurationError(problems)
        return cls(monotonic=monotonic, **parsed)

    # -- presets ------------------------------------------------------------------

    @classmethod
    @functools.cache  # an immutable value: built once, shared
    def itil_3x3(cls) -> PriorityMatrix:
        """The classic ITIL 3x3 matrix (ServiceNow's default lookup rules).

        Impact and urgency are ``high``/``medium``/``low``; priorities P1
        Critical, P2 High, P3 Moderate, P4 Low and P5 Planning, one step per
        level of impact or urgency.

        Examples:
            >>> matrix = PriorityMatrix.itil_3x3()
            >>> [str(matrix.derive(i, "medium")) for i in matrix.impact.names]
            ['P2 High', 'P3 Moderate', 'P4 Low']
        """
        scale = [
            ("high", "Widespread: a whole service, site or many users"),
            ("medium", "Several users or a part of a service"),
            ("low", "One user or a minor part of a service"),
        ]
        urgency = [
            ("high", "Work has stopped or damage grows quickly"),
            ("medium", "Work is hampered; damage grows slowly"),
            ("low", "Work goes on; it can wait"),
        ]
        labels = ["Critical", "High", "Moderate", "Low", "Planning"]
        return cls._preset(scale, urgency, labels, lambda i, u: i + u + 1)

    @classmethod
    @functools.cache  # an immutable value: built once, shared
    def four_by_four(cls) -> PriorityMatrix:
        """A 4x4 matrix with four priorities, in the wording of common service desks.

        Impact is ``extensive``/``significant``/``moderate``/``minor``, urgency
        ``critical``/``high``/``medium``/``low``; priorities P1 Critical, P2
        High, P3 Medium and P4 Low. The table is symmetric: impact and urgency
        weigh the same.

        Examples:
            >>> matrix = PriorityMatrix.four_by_four()
            >>> print(matrix.derive("extensive", "low"), "/", matrix.derive("minor", "critical"))
            P3 Medium / P3 Medium
        """
        impact = [
            ("extensive", "Widespread: the whole organisation or a whole service"),
            ("significant", "Large: a department or many users"),
            ("moderate", "Limited: a team or several users"),
            ("minor", "Localised: one user"),
        ]
        urgency = [
            ("critical", "Work has stopped; the damage grows by the minute"),
            ("high", "Work is badly hampered; no workaround"),
            ("medium", "Work is hampered; a workaround exists"),
            ("low", "Little effect on work; it can wait"),
        ]
        table = [[1, 1, 2, 3], [1, 2, 2, 3], [2, 2, 3, 4], [3, 3, 4, 4]]
        labels = ["Critical", "High", "Medium", "Low"]
        return cls._preset(impact, urgency, labels, lambda i, u: table[i][u])

    @classmethod
    @functools.cache  # an immutable value: built once, shared
    def glpi_5x5(cls) -> PriorityMatrix:
        """GLPI's default 5x5 matrix.

        Impact and urgency are ``very_high``/``high``/``medium``/``low``/
        ``very_low``; priorities P1 Very high to P5 Very low, the values of
        GLPI's default configuration (GLPI numbers its levels the other way
        round: its 5 is our rank 1). GLPI's "major" priority is outside the
        matrix here too: `MAJOR`.

        Examples:
            >>> matrix = PriorityMatrix.glpi_5x5()
            >>> print(matrix.derive("very_high", "very_low"))
            P4 Low
        """
        names = [
            ("very_high", "Very high"),
            ("high", "High"),
            ("medium", "Medium"),
            ("low", "Low"),
            ("very_low", "Very low"),
        ]
        table = [
            [1, 1, 2, 3, 4],
            [1, 2, 2, 3, 4],
            [2, 2, 3, 4, 4],
            [3, 3, 4, 4, 5],
            [4, 4, 4, 5, 5],
        ]
        labels = [label for _, label in names]
        return cls._preset(names, names, labels, lambda i, u: table[i][u])

    @classmethod
    def _preset(
        cls,
        impact: Sequence[tuple[str, str]],
        urgency: Sequence[tuple[str, str]],
        labels: Sequence[str],
        rank_of: Callable[[int, int], int],
    ) -> PriorityMatrix:
        def scale(name: str, levels: Sequence[tuple[str, str]]) -> Scale:
            return Scale(
                name=name,
                levels=[
                    Level(name=level, rank=rank, description=text)
                    for rank, (level, text) in enumerate(levels, start=1)
                ],
            )

        return cls(
            impact=scale("impact", impact),
            urgency=scale("urgency", urgency),
            priorities=[
                PriorityLevel(name=f"P{rank}", label=label, rank=rank)
                for rank, label in enumerate(labels, start=1)
            ],
            cells=[
                Cell(impact=i, urgency=u, priority=f"P{rank_of(a, b)}")
                for a, (i, _) in enumerate(impact)
                for b, (u, _) in enumerate(urgency)
            ],
        )


# ---------------------------------------------------------------------------
# Requester masks
# ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RequesterMask:
    """Which impact and urgency levels a requester may choose, and the defaults.

    ``impact`` and ``urgency`` list the level names a requester may pick; an
    empty list means the requester may not choose that field at all (the usual
    self-service set-up lets requesters choose urgency only). When the
    requester leaves a field out, ``default_impact``/``default_urgency`` fill
    it. `validate` checks the mask against a matrix; `check`
    checks a requester's choice.

    Examples:
        >>> matrix = PriorityMatrix.itil_3x3()
        >>> mask = RequesterMask.urgency_only(matrix, default_impact="low")
        >>> mask.resolve(urgency="high")
        ('low', 'high')
        >>> print(mask.derive(matrix, urgency="high"))
        P3 Moderate
        >>> mask.check(impact="high")
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: impact: expected no value (a requester may not choose \
the impact), got 'high'
    """

    impact: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    urgency: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    default_impact: str | None = None
    default_urgency: str | None = None

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        for field in ("impact", "urgency"):
            names: Any = getattr(self, field)
            if not isinstance(names, tuple):
                problems.append(
                    Problem(field, f"expected a sequence of level names, got {names!r}")
                )
                continue
            seen: set[str] = set()
            for index, name in enumerate(names):
                if not isinstance(name, str):
                    problems.append(
                        Problem(f"{field}[{index}]", f"expected a level name, got {name!r}")
                    )
                elif name in seen:
                    problems.append(Problem(f"{field}[{index}]", f"{name!r} is listed twice"))
                else:
                    seen.add(name)
        for field in ("default_impact", "default_urgency"):
            value = getattr(self, field)
            if value is not None and not isinstance(value, str):
                problems.append(Problem(field, f"expected a level name or None, got {value!r}"))
        if problems:
            raise ConfigurationError(problems)

    @classmethod
    def allow_all(cls, matrix: PriorityMatrix) -> RequesterMask:
        """A mask letting requesters choose every enabled impact and urgency level.

        Examples:
            >>> RequesterMask.allow_all(PriorityMatrix.itil_3x3()).impact
            ('high', 'medium', 'low')
        """
        return cls(impact=matrix.enabled("impact"), urgency=matrix.enabled("urgency"))

    @classmethod
    def urgency_only(
        cls, matrix: PriorityMatrix, *, default_impact: str, default_urgency: str | None = None
    ) -> RequesterMask:
        """A mask letting requesters choose urgency only; impact takes ``default_impact``.

        Examples:
            >>> matrix = PriorityMatrix.itil_3x3()
            >>> mask = RequesterMask.urgency_only(matrix, default_impact="medium")
            >>> mask.impact, mask.urgency
            ((), ('high', 'medium', 'low'))
        """
        mask = cls(
            urgency=matrix.enabled("urgency"),
            default_impact=default_impact,
            default_urgency=default_urgency,
        )
        return mask.validate(matrix)

    def validate(self, matrix: PriorityMatrix) -> RequesterMask:
        """Check the mask against a matrix's scales; return it unchanged if valid.

        Every listed level and every default must be an enabled level of the
        matrix; all problems are reported at once.

        Examples:
            >>> RequesterMask(urgency=["high", "urgent"]).validate(PriorityMatrix.itil_3x3())
            Traceback (most recent call last):
            ...
            itsm_core.errors.ConfigurationError: 1 problem in the configuration:
              urgency[1]: unknown urgency level 'urgent'; expected one of 'high', 'medium', 'low'
        """
        problems: list[Problem] = []
        for field, default_field in (("impact", "default_impact"), ("urgency", "default_urgency")):
            scale = matrix.impact if field == "impact" else matrix.urgency
            enabled = matrix.enabled(field)
            entries = [
                (f"{field}[{index}]", name) for index, name in enumerate(getattr(self, field))
            ]
            default = getattr(self, default_field)
            if default is not None:
                entries.append((default_field, default))
            for where, name in entries:
                if name not in scale:
                    problems.append(
                        Problem(
                            where,
                            f"unknown {field} level {name!r}; expected {_one_of(scale.names)}",
                        )
                    )
                elif name not in enabled:
                    problems.append(
                        Problem(
                            where,
                            f"{field} level {name!r} is disabled in the matrix; "
                            f"expected {_one_of(enabled)}",
                        )
                    )
        if problems:
            raise ConfigurationError(problems)
        return self

    def check(self, *, impact: str | None = None, urgency: str | None = None) -> None:
        """Raise `InvalidValueError` unless the requester may choose these.

        ``None`` means the requester did not choose that field, which is always allowed.

        Examples:
            >>> mask = RequesterMask(urgency=["medium", "low"])
            >>> mask.check(urgency="low")
            >>> mask.check(urgency="high")
            Traceback (most recent call last):
            ...
            itsm_core.errors.InvalidValueError: urgency: expected one of 'medium', 'low', got 'high'
        """
        for field, value in (("impact", impact), ("urgency", urgency)):
            if value is None:
                continue
            allowed: tuple[str, ...] = getattr(self, field)
            if not allowed:
                raise InvalidValueError(
                    field, value, f"no value (a requester may not choose the {field})"
                )
            if not isinstance(value, str) or value not in allowed:
                raise InvalidValueError(field, value, _one_of(allowed))

    def resolve(self, *, impact: str | None = None, urgency: str | None = None) -> tuple[str, str]:
        """Check a requester's choice and fill the defaults: ``(impact, urgency)``.

        Examples:
            >>> mask = RequesterMask(urgency=["high", "low"], default_impact="low",
            ...                      default_urgency="low")
            >>> mask.resolve()
            ('low', 'low')
            >>> RequesterMask(urgency=["high"]).resolve(urgency="high")
            Traceback (most recent call last):
            ...
            itsm_core.errors.InvalidValueError: impact: expected a level name (the mask has no \
default impact), got None
        """
        self.check(impact=impact, urgency=urgency)
        chosen_impact = impact if impact is not None else self.default_impact
        chosen_urgency = urgency if urgency is not None else self.default_urgency
        if chosen_impact is None:
            raise InvalidValueError("impact", None, "a level name (the mask has no default impact)")
        if chosen_urgency is None:
            raise InvalidValueError(
                "urgency", None, "a level name (the mask has no default urgency)"
            )
        return chosen_impact, chosen_urgency

    def derive(
        self, matrix: PriorityMatrix, *, impact: str | None = None, urgency: str | None = None
    ) -> PriorityLevel:
        """The priority of a requester's choice: `resolve`, then ``matrix.derive``.

        Examples:
            >>> matrix = PriorityMatrix.glpi_5x5()
            >>> mask = RequesterMask.urgency_only(matrix, default_impact="medium")
            >>> print(mask.derive(matrix, urgency="very_high"))
            P2 High
        """
        return matrix.derive(*self.resolve(impact=impact, urgency=urgency))
