"""Hypothesis strategies for impact/urgency scales, priority levels and matrices.

Every value drawn is valid: it builds without error. Shrinking goes towards
fewer levels, the first names of a fixed pool, small ranks and, in a matrix, the most urgent
priority in every cell (a monotonic matrix shrinks towards "everything is the
most urgent priority", a table that is trivially monotonic).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

from itsm_core.priority import Cell, Level, PriorityLevel, PriorityMatrix, RequesterMask, Scale

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


# Few draws per value, from strategies built once, keep a matrix cheap to generate
# (Hypothesis spends tens of microseconds per draw, more when it has to build and
# validate a new strategy): ranks are an arithmetic progression, a value in a range is
# drawn as an offset, disabled levels as a bit mask, and the order in which items are
# given is a rotation, possibly reversed, rather than a full permutation. Every one of
# these shrinks towards 0: the lowest rank, the lowest value, nothing disabled, the
# original order.
_OFFSET = st.integers(0, 1_000)
_SMALL = st.integers(0, 20)
_STEP = st.integers(1, 3)
_FLAG = st.booleans()


def _ranks(draw: st.DrawFn, count: int, lowest: int) -> list[int]:
    start = lowest + draw(_SMALL)
    step = draw(_STEP)
    return [start + step * index for index in range(count)]


def _texts(draw: st.DrawFn, count: int) -> list[str]:
    offset = draw(_OFFSET)
    return [_TEXTS[(offset + index) % len(_TEXTS)] for index in range(count)]


def _between(draw: st.DrawFn, low: int, high: int) -> int:
    return low + draw(_OFFSET) % (high - low + 1)


def _reordered(draw: st.DrawFn, items: Sequence[T]) -> list[T]:
    turn = draw(_OFFSET) % max(len(items), 1)
    rotated = [*items[turn:], *items[:turn]]
    return rotated[::-1] if draw(_FLAG) else rotated


def _some_but_not_all(draw: st.DrawFn, names: Sequence[str]) -> list[str]:
    chosen = _subset(draw, names)
    return chosen[1:] if len(chosen) == len(names) else chosen


@functools.cache
def _name_lists(min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(level_names(), min_size=min_size, max_size=max_size, unique=True)


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
    names = draw(_name_lists(min_levels, max_levels))
    levels = [
        Level(name=level, rank=rank, description=text)
        for level, rank, text in zip(
            names, _ranks(draw, len(names), -5), _texts(draw, len(names)), strict=True
        )
    ]
    return Scale(name=name, levels=_reordered(draw, levels))


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
    names = draw(_name_lists(min_size, max_size))
    levels = [
        PriorityLevel(name=name, label=label, rank=rank)
        for name, label, rank in zip(
            names, _texts(draw, len(names)), _ranks(draw, len(names), 1), strict=True
        )
    ]
    return tuple(_reordered(draw, levels))


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
    grid: list[list[int]] = []
    for i in range(len(impact)):
        row: list[int] = []
        for j in range(len(urgency)):
            low = 0
            if monotonic:
                low = max(grid[i - 1][j] if i else 0, row[j - 1] if j else 0)
            row.append(_between(draw, low, top))
        grid.append(row)
    cells = [
        Cell(impact=i.name, urgency=u.name, priority=priorities[grid[a][b]].name)
        for a, i in enumerate(impact.levels)
        for b, u in enumerate(urgency.levels)
    ]
    disabled_impact: list[str] = []
    disabled_urgency: list[str] = []
    if disabled:
        disabled_impact = _some_but_not_all(draw, impact.names)
        disabled_urgency = _some_but_not_all(draw, urgency.names)
    return PriorityMatrix(
        impact=impact,
        urgency=urgency,
        priorities=_reordered(draw, priorities),
        cells=_reordered(draw, cells),
        monotonic=monotonic,
        disabled_impact=disabled_impact,
        disabled_urgency=disabled_urgency,
    )


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
    return RequesterMask(
        impact=_reordered(draw, _subset(draw, impact)),
        urgency=_reordered(draw, _subset(draw, urgency)),
        default_impact=_maybe_one(draw, impact),
        default_urgency=_maybe_one(draw, urgency),
    )


def _subset(draw: st.DrawFn, names: Sequence[str]) -> list[str]:
    mask = draw(_OFFSET)
    return [name for index, name in enumerate(names) if mask >> index & 1]


def _maybe_one(draw: st.DrawFn, names: Sequence[str]) -> str | None:
    return names[draw(_OFFSET) % len(names)] if draw(_FLAG) else None


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
