"""The priority strategies, which read several small numbers from one draw, still reach
every shape a matrix may take."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import attrs
import pytest
from hypothesis import Phase, find, settings

from itsm_core.errors import ItsmError
from itsm_core.priority import PriorityMatrix, Scale
from itsm_core.testing import priority_matrices, requester_masks, scales

# Reaching a shape is what counts, not the simplest example of it: no shrinking.
SEARCH = settings(max_examples=5000, database=None, derandomize=True, phases=(Phase.generate,))
SHRUNK = settings(SEARCH, phases=(Phase.generate, Phase.shrink))


def _not_monotonic(matrix: PriorityMatrix) -> bool:
    try:
        attrs.evolve(matrix, monotonic=True)
    except ItsmError:
        return True
    return False


SHAPES: dict[str, Callable[[PriorityMatrix], bool]] = {
    "one level each": lambda m: len(m.impact) == len(m.urgency) == 1,
    "five levels each": lambda m: len(m.impact) == len(m.urgency) == 5,
    "six priorities": lambda m: len(m.priorities) == 6,
    "every priority used on a 5x5 grid": lambda m: (
        len(m.cells) == 25 and len({c.priority for c in m.cells}) == len(m.priorities) == 6
    ),
    "disabled levels on both scales": lambda m: bool(m.disabled_impact and m.disabled_urgency),
    "negative ranks": lambda m: any(level.rank < 0 for level in m.impact),
    "a name with a space and one with a bracket": lambda m: (
        {"very high", "a]b"} <= {*m.impact.names, *m.urgency.names, *(p.name for p in m.priorities)}
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_monotonic_matrices_reach_every_shape(shape: str) -> None:
    find(priority_matrices(), SHAPES[shape], settings=SEARCH)


def test_free_matrices_reach_tables_that_are_not_monotonic() -> None:
    find(priority_matrices(monotonic=False), _not_monotonic, settings=SEARCH)


def test_scales_reach_every_size() -> None:
    for size in range(1, 6):
        found = find(scales(), partial(_of_size, size), settings=SHRUNK)
        assert len(found) == size
        assert found.levels[0].rank == -5  # the lowest rank, after sorting: shrunk


def _of_size(size: int, scale: Scale) -> bool:
    return len(scale) == size


def test_requester_masks_reach_defaults_and_reordered_levels() -> None:
    matrix = PriorityMatrix.itil_3x3()
    find(
        requester_masks(matrix),
        lambda m: m.default_impact is not None and m.default_urgency is not None,
        settings=SEARCH,
    )
    find(requester_masks(matrix), lambda m: list(m.impact) == ["low", "high"], settings=SEARCH)
