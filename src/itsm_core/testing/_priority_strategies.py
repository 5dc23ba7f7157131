"""Hypothesis strategies for impact/urgency scales, priority levels and matrices.

Every value drawn is valid: it builds without error. Shrinking goes towards
fewer levels, the first names of a fixed pool, small ranks and, in a matrix, the most urgent
priority in every cell (a monotonic matrix shrinks towards "everything is the
most urgent priority", a table that is trivially monotonic).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

from itsm_core.priority import Cell, Level, PriorityLevel, PriorityMatrix, RequesterMask, Scale
from itsm_core.testing._fields import Fields
from itsm_core.testing._memo import memoized

__all__ = [
    "level_names",
    "priority_levels",
    "priority_matrices",
    "requester_masks",
    "scales",
]

# A fixed pool keeps drawing cheap (a matrix is drawn in about a millisecond) while still
# covering awkward names: digits, inner spaces, brackets, non-ASCII letters.
T = TypeVar("T")

_NAMES = (
    "high", "medium", "low", "critical", "minor", "p", "1", "very high", "a]b", "é",
    "x_y", "Widespread", "none", "0", "up-to-date", "z",
)  # fmt: skip
_TEXTS = ("", "", "One user", "The whole company", "Work has stopped", "ünïcode; [x]")


def level_names() -> st.SearchStrategy[str]:
    """Names valid for a level or a priority: non-empty, no surrounding spaces.

    They are drawn from a fixed pool that includes inner spaces, brackets and
    non-ASCII letters, and shrink towards ``"high"``.

    Examples:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, deadline=None)
        ... @given(level_names())
        ... def test(name: str) -> None:
        ...     assert name and name == name.strip()
        >>> test()
    """
    return st.sampled_from(_NAMES)


# Few draws per value keep a matrix cheap to generate (Hypothesis spends tens of
# microseconds per draw and per span): the small numbers a value needs are read one
# after another from a few drawn bytes (:class:`Fields`). Names are a run through
# the pool with an odd stride (unique, as 16 is a power of two), ranks an arithmetic
# progression, a value in a range an offset, disabled levels a bit mask, and the order
# in which items are given a rotation, possibly reversed, rather than a full
# permutation. A drawn 0 makes every field 0: the first names, the lowest ranks and
# values, nothing disabled, the original order. That is where values shrink to.
_STRIDES = (1, 3, 5, 7, 9, 11, 13, 15)
_CELL_BITS = 3  # a cell's offset, 0..7: a priority (modulo their number) or a rise
# How much less urgent a cell of a monotonic matrix is than the more urgent of its
# neighbours above and to the left: mostly small, so that a grid often goes through
# every priority, and up to 7, more than any two priorities are apart.
_RISES = (0, 0, 1, 1, 1, 2, 3, 7)


_counts = memoized(st.integers)


def _names(draw: st.DrawFn, fields: Fields, min_size: int, max_size: int) -> list[str]:
    count = min(draw(_counts(min_size, max_size)), len(_NAMES))
    first, stride = fields.take(len(_NAMES)), fields.choice(_STRIDES)
    return [_NAMES[(first + stride * index) % len(_NAMES)] for index in range(count)]


def _ranks(fields: Fields, count: int, lowest: int) -> list[int]:
    start = lowest + fields.take(21)
    step = 1 + fields.take(3)
    return [start + step * index for index in range(count)]


def _texts(fields: Fields, count: int) -> list[str]:
    offset = fields.take(len(_TEXTS))
    return [_TEXTS[(offset + index) % len(_TEXTS)] for index in range(count)]


def _reordered(fields: Fields, items: Sequence[T]) -> list[T]:
    turn = fields.take(len(items))
    rotated = [*items[turn:], *items[:turn]]
    return rotated[::-1] if fields.take(2) else rotated


def _subset(fields: Fields, names: Sequence[str]) -> list[str]:
    mask = fields.take(2 ** len(names))
    return [name for index, name in enumerate(names) if mask >> index & 1]


def _some_but_not_all(fields: Fields, names: Sequence[str]) -> list[str]:
    chosen = _subset(fields, names)
    return chosen[1:] if len(chosen) == len(names) else chosen


@memoized
@st.composite
def scales(
    draw: st.DrawFn, name: str = "impact", *, min_levels: int = 1, max_levels: int = 5
) -> Scale:
    """Valid scales called ``name``: unique level names and unique ranks.

    Ranks are distinct integers, not necessarily 1..n and possibly zero or
    negative, and the levels are given out of order; the scale sorts them.

    Examples:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, deadline=None)
        ... @given(scales("urgency", max_levels=3))
        ... def test(scale: Scale) -> None:
        ...     assert 1 <= len(scale) <= 3
        ...     assert [level.rank for level in scale] == sorted(level.rank for level in scale)
        >>> test()
    """
    fields = Fields(draw)
    names = _names(draw, fields, min_levels, max_levels)
    levels = [
        Level(name=level, rank=rank, description=text)
        for level, rank, text in zip(
            names, _ranks(fields, len(names), -5), _texts(fields, len(names)), strict=True
        )
    ]
    return Scale(name=name, levels=_reordered(fields, levels))


@memoized
@st.composite
def priority_levels(
    draw: st.DrawFn, *, min_size: int = 1, max_size: int = 6
) -> tuple[PriorityLevel, ...]:
    """Valid priority lists for a matrix: unique names, unique ranks of 1 or more.

    Examples:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, deadline=None)
        ... @given(priority_levels(max_size=3))
        ... def test(levels: tuple[PriorityLevel, ...]) -> None:
        ...     assert all(level.rank >= 1 for level in levels)
        >>> test()
    """
    fields = Fields(draw)
    names = _names(draw, fields, min_size, max_size)
    levels = [
        PriorityLevel(name=name, label=label, rank=rank)
        for name, label, rank in zip(
            names, _texts(fields, len(names)), _ranks(fields, len(names), 1), strict=True
        )
    ]
    return tuple(_reordered(fields, levels))


@memoized
@st.composite
def priority_matrices(
    draw: st.DrawFn,
    *,
    monotonic: bool = True,
    max_levels: int = 5,
    max_priorities: int = 6,
    disabled: bool = True,
) -> PriorityMatrix:
    """Valid matrices: total, and monotonic unless ``monotonic=False``.

    With ``monotonic=True`` each cell is drawn no more urgent than the cells
    above it and to its left (its more severe neighbours), which is exactly
    the monotonic tables. With ``monotonic=False`` cells are drawn freely and
    the matrix is built with ``monotonic=False``. With ``disabled=True`` some
    levels may be switched off (never all of a scale).

    Examples:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, deadline=None)
        ... @given(priority_matrices(max_levels=3))
        ... def test(matrix: PriorityMatrix) -> None:
        ...     assert len(matrix.cells) == len(matrix.impact) * len(matrix.urgency)
        >>> test()
    """
    impact = draw(scales("impact", max_levels=max_levels))
    urgency = draw(scales("urgency", max_levels=max_levels))
    priorities = sorted(draw(priority_levels(max_size=max_priorities)), key=lambda p: p.rank)
    top = len(priorities) - 1
    cell_fields = Fields(draw)
    offsets = [cell_fields.take(2**_CELL_BITS) for _ in range(len(impact) * len(urgency))]
    grid: list[list[int]] = []
    for i in range(len(impact)):
        row: list[int] = []
        for j in range(len(urgency)):
            offset = offsets[i * len(urgency) + j]
            if monotonic:
                low = max(grid[i - 1][j] if i else 0, row[j - 1] if j else 0)
                row.append(min(top, low + _RISES[offset]))
            else:
                row.append(offset % (top + 1))
        grid.append(row)
    cells = [
        Cell(impact=i.name, urgency=u.name, priority=priorities[grid[a][b]].name)
        for a, i in enumerate(impact.levels)
        for b, u in enumerate(urgency.levels)
    ]
    fields = Fields(draw)
    disabled_impact: list[str] = []
    disabled_urgency: list[str] = []
    if disabled:
        disabled_impact = _some_but_not_all(fields, impact.names)
        disabled_urgency = _some_but_not_all(fields, urgency.names)
    return PriorityMatrix(
        impact=impact,
        urgency=urgency,
        priorities=_reordered(fields, priorities),
        cells=_reordered(fields, cells),
        monotonic=monotonic,
        disabled_impact=disabled_impact,
        disabled_urgency=disabled_urgency,
    )


@memoized
@st.composite
def requester_masks(draw: st.DrawFn, matrix: PriorityMatrix) -> RequesterMask:
    """Masks valid for ``matrix``: enabled levels only, optional enabled defaults.

    Examples:
        >>> from hypothesis import given, settings
        >>> matrix = PriorityMatrix.itil_3x3()
        >>> @settings(max_examples=20, deadline=None)
        ... @given(requester_masks(matrix))
        ... def test(mask: RequesterMask) -> None:
        ...     assert mask.validate(matrix) is mask
        >>> test()
    """
    impact = matrix.enabled("impact")
    urgency = matrix.enabled("urgency")
    fields = Fields(draw)
    return RequesterMask(
        impact=_reordered(fields, _subset(fields, impact)),
        urgency=_reordered(fields, _subset(fields, urgency)),
        default_impact=fields.maybe(impact),
        default_urgency=fields.maybe(urgency),
    )


def register_priority_strategies() -> None:
    """Register the strategies with ``st.from_type`` (called by the Hypothesis entry point).

    Examples:
        >>> from hypothesis import given, settings, strategies as st
        >>> register_priority_strategies()
        >>> @settings(max_examples=20, deadline=None)
        ... @given(st.from_type(PriorityMatrix))
        ... def test(matrix: PriorityMatrix) -> None:
        ...     assert matrix.monotonic
        >>> test()
    """
    st.register_type_strategy(Scale, scales())
    st.register_type_strategy(PriorityMatrix, priority_matrices())
