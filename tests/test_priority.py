"""Priority matrices: scales, validation, derivation, masks, the major tier and the dict form."""

from __future__ import annotations

import json
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from itsm_core.errors import ConfigurationError, InvalidValueError
from itsm_core.priority import (
    MAJOR,
    Cell,
    Level,
    PriorityLevel,
    PriorityMatrix,
    RequesterMask,
    Scale,
    effective_priority,
    sort_key,
)
from itsm_core.testing import (
    priority_levels,
    priority_matrices,
    requester_masks,
    scales,
)
from itsm_core.testing._memo import sampled

PRESETS = [PriorityMatrix.itil_3x3, PriorityMatrix.four_by_four, PriorityMatrix.glpi_5x5]

Grid = list[list[int | None]]


# ---------------------------------------------------------------------------
# Slow, obviously-correct references
# ---------------------------------------------------------------------------


def rank_grid(data: dict[str, Any]) -> Grid:
    """The priority rank of every cell of a matrix dict, in reading order (None if invalid)."""
    ranks = {p["name"]: p["rank"] for p in data["priorities"]}
    grid: Grid = []
    for i in data["impact"]:
        row = data["cells"].get(i["name"], {})
        grid.append([ranks.get(row.get(u["name"], "")) for u in data["urgency"]])
    return grid


def has_violating_pair(grid: Grid) -> bool:
    """Whether some cell is less urgent than a cell of lower-or-equal impact and urgency."""
    cells = [
        (i, j, rank) for i, row in enumerate(grid) for j, rank in enumerate(row) if rank is not None
    ]
    return any(
        a_i <= b_i and a_j <= b_j and a_rank > b_rank
        for a_i, a_j, a_rank in cells
        for b_i, b_j, b_rank in cells
    )


def bad_cells(data: dict[str, Any], monotonic: bool = True) -> list[str]:
    """Paths of the bad grid cells in reading order: missing, unknown or non-monotonic."""
    grid = rank_grid(data)
    names_i = [level["name"] for level in data["impact"]]
    names_u = [level["name"] for level in data["urgency"]]
    found = []
    for i, row in enumerate(grid):
        for j, rank in enumerate(row):
            path = f"cells[{names_i[i]}][{names_u[j]}]"
            if rank is None:
                found.append(path)
                continue
            neighbours = []
            if i + 1 < len(grid):
                neighbours.append(grid[i + 1][j])
            if j + 1 < len(row):
                neighbours.append(grid[i][j + 1])
            if monotonic and any(n is not None and n < rank for n in neighbours):
                found.append(path)
    return found


def is_total(matrix: PriorityMatrix) -> bool:
    return all(
        matrix.derive(i, u, allow_disabled=True) in matrix.priorities
        for i in matrix.impact.names
        for u in matrix.urgency.names
    )


def grid_of(matrix: PriorityMatrix) -> Grid:
    return [
        [matrix.derive(i, u, allow_disabled=True).rank for u in matrix.urgency.names]
        for i in matrix.impact.names
    ]


def problems_of(excinfo: pytest.ExceptionInfo[ConfigurationError]) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in excinfo.value.problems]


def paths_of(excinfo: pytest.ExceptionInfo[ConfigurationError]) -> list[str]:
    return [p.path for p in excinfo.value.problems]


def two_by_two(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "impact": ["high", "low"],
        "urgency": ["high", "low"],
        "priorities": [{"name": "P1", "label": "Urgent"}, {"name": "P2", "label": "Normal"}],
        "cells": {"high": {"high": "P1", "low": "P2"}, "low": {"high": "P2", "low": "P2"}},
    }
    data.update(changes)
    return data


# ---------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_is_total_and_monotonic(preset: Any) -> None:
    matrix = preset()
    assert is_total(matrix)
    assert matrix.monotonic
    assert not has_violating_pair(grid_of(matrix))
    assert len(matrix.cells) == len(matrix.impact) * len(matrix.urgency)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_uses_every_priority_and_puts_p1_in_the_most_severe_corner(
    preset: Any,
) -> None:
    matrix = preset()
    used = {matrix.derive(i, u).name for i in matrix.impact.names for u in matrix.urgency.names}
    assert used == {p.name for p in matrix.priorities}
    assert matrix.derive(matrix.impact.names[0], matrix.urgency.names[0]).rank == 1
    assert matrix.derive(matrix.impact.names[-1], matrix.urgency.names[-1]) == max(
        matrix.priorities
    )


def test_the_itil_preset_is_the_classic_table() -> None:
    matrix = PriorityMatrix.itil_3x3()
    assert [p.label for p in matrix.priorities] == [
        "Critical",
        "High",
        "Moderate",
        "Low",
        "Planning",
    ]
    assert [list(row[1:]) for row in matrix.rows("{name}")[1:]] == [
        ["P1", "P2", "P3"],
        ["P2", "P3", "P4"],
        ["P3", "P4", "P5"],
    ]


def test_the_glpi_preset_matches_glpis_default_configuration() -> None:
    # GLPI stores priority_matrix[urgency][impact], levels numbered 1 (very low) to 5.
    glpi = json.loads(
        '{"1":{"1":1,"2":1,"3":2,"4":2,"5":2},"2":{"1":1,"2":2,"3":2,"4":3,"5":3},'
        '"3":{"1":2,"2":2,"3":3,"4":4,"5":4},"4":{"1":2,"2":3,"3":4,"4":4,"5":5},'
        '"5":{"1":2,"2":3,"3":4,"4":5,"5":5}}'
    )
    matrix = PriorityMatrix.glpi_5x5()
    for impact in matrix.impact:
        for urgency in matrix.urgency:
            expected = 6 - glpi[str(6 - urgency.rank)][str(6 - impact.rank)]
            assert matrix.derive(impact.name, urgency.name).rank == expected


def test_the_four_by_four_preset_weighs_impact_and_urgency_alike() -> None:
    grid = grid_of(PriorityMatrix.four_by_four())
    assert grid == [list(column) for column in zip(*grid, strict=True)]


# ---------------------------------------------------------------------------
# Generated valid matrices
# ---------------------------------------------------------------------------


@given(priority_matrices())
def test_every_generated_matrix_is_total_and_monotonic(matrix: PriorityMatrix) -> None:
    assert is_total(matrix)
    assert not has_violating_pair(grid_of(matrix))


@given(priority_matrices(monotonic=False))
def test_a_non_monotonic_matrix_is_still_total(matrix: PriorityMatrix) -> None:
    assert not matrix.monotonic
    assert is_total(matrix)


@given(priority_matrices(monotonic=False, disabled=False))
def test_the_monotonic_check_agrees_with_the_pairwise_reference(matrix: PriorityMatrix) -> None:
    data = matrix.to_dict()
    data["monotonic"] = True
    expected = bad_cells(data)
    assert bool(expected) == has_violating_pair(grid_of(matrix))
    if expected:
        with pytest.raises(ConfigurationError) as excinfo:
            PriorityMatrix.from_dict(data)
        assert paths_of(excinfo) == expected
    else:
        assert PriorityMatrix.from_dict(data) == attrs.evolve(matrix, monotonic=True)


@given(priority_matrices())
def test_the_dict_form_round_trips(matrix: PriorityMatrix) -> None:
    data = matrix.to_dict()
    assert PriorityMatrix.from_dict(data) == matrix
    assert PriorityMatrix.from_dict(json.loads(json.dumps(data))) == matrix
    assert PriorityMatrix.from_dict(data).to_dict() == data


@given(priority_matrices(), st.randoms(use_true_random=False))
def test_the_order_cells_are_given_in_does_not_matter(matrix: PriorityMatrix, rnd: Any) -> None:
    cells = list(matrix.cells)
    rnd.shuffle(cells)
    shuffled = attrs.evolve(matrix, cells=cells)
    assert shuffled == matrix
    assert shuffled.cells == matrix.cells


@given(priority_matrices())
def test_derive_agrees_with_the_cells(matrix: PriorityMatrix) -> None:
    for cell in matrix.cells:
        assert matrix.derive(cell.impact, cell.urgency, allow_disabled=True).name == cell.priority
        enabled = (
            cell.impact not in matrix.disabled_impact
            and cell.urgency not in matrix.disabled_urgency
        )
        if enabled:
            assert matrix.derive(cell.impact, cell.urgency).name == cell.priority
        else:
            with pytest.raises(InvalidValueError, match="is disabled in this matrix"):
                matrix.derive(cell.impact, cell.urgency)


@given(priority_matrices())
def test_rows_show_every_cell_in_reading_order(matrix: PriorityMatrix) -> None:
    rows = matrix.rows("{rank}")
    assert len(rows) == len(matrix.impact) + 1
    assert rows[0][1:] == tuple(
        f"{name} (disabled)" if name in matrix.disabled_urgency else name
        for name in matrix.urgency.names
    )
    assert [[int(text) for text in row[1:]] for row in rows[1:]] == grid_of(matrix)


# ---------------------------------------------------------------------------
# Generated invalid matrices: the first bad cell is named
# ---------------------------------------------------------------------------


@st.composite
def broken_matrix_dicts(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid matrix dict with one cell broken, and the kind of breakage."""
    matrix = draw(priority_matrices(disabled=False))
    data = matrix.to_dict()
    kind = draw(sampled(("missing", "unknown", "non-monotonic")))
    impact = draw(sampled(tuple(matrix.impact.names)))
    urgency = draw(sampled(tuple(matrix.urgency.names)))
    if kind == "missing":
        del data["cells"][impact][urgency]
    elif kind == "unknown":
        names = {p.name for p in matrix.priorities}
        data["cells"][impact][urgency] = draw(st.text(min_size=1).filter(lambda n: n not in names))
    else:
        grid = rank_grid(data)
        i, j = matrix.impact.names.index(impact), matrix.urgency.names.index(urgency)
        lower = [
            r
            for r in (
                grid[i + 1][j] if i + 1 < len(grid) else None,
                grid[i][j + 1] if j + 1 < len(grid[i]) else None,
            )
            if r is not None
        ]
        upper = [
            r
            for r in (grid[i - 1][j] if i else None, grid[i][j - 1] if j else None)
            if r is not None
        ]
        breaking = [
            p.name
            for p in matrix.priorities
            if (lower and p.rank > min(lower)) or (upper and p.rank < max(upper))
        ]
        assume(breaking)
        data["cells"][impact][urgency] = draw(sampled(tuple(breaking)))
    return data, kind


@given(broken_matrix_dicts())
def test_a_broken_matrix_is_rejected_naming_the_first_bad_cell_and_changes_nothing(
    case: tuple[dict[str, Any], str],
) -> None:
    data, kind = case
    snapshot = json.dumps(data, sort_keys=True)
    expected = bad_cells(data)
    assert expected
    with pytest.raises(ConfigurationError) as excinfo:
        PriorityMatrix.from_dict(data)
    assert paths_of(excinfo) == expected
    with pytest.raises(ConfigurationError) as again:
        PriorityMatrix.from_dict(data)
    assert str(again.value) == str(excinfo.value)
    assert json.dumps(data, sort_keys=True) == snapshot
    assert str(excinfo.value).splitlines()[1].startswith(f"  {expected[0]}: ")
    first = excinfo.value.problems[0].message
    if kind == "non-monotonic" and "less urgent" in first:
        assert "monotonic=False" in first


def test_a_non_monotonic_cell_names_its_more_urgent_neighbour() -> None:
    data = PriorityMatrix.itil_3x3().to_dict()
    data["cells"]["low"]["low"] = "P1"
    with pytest.raises(ConfigurationError) as excinfo:
        PriorityMatrix.from_dict(data)
    assert problems_of(excinfo) == [
        (
            "cells[medium][low]",
            "'P4' is less urgent than 'P1' at cells[low][low], one impact level lower; raising "
            "impact or urgency must never lower the priority (build the matrix with "
            "monotonic=False to allow this table)",
        ),
        (
            "cells[low][medium]",
            "'P4' is less urgent than 'P1' at cells[low][low], one urgency level lower; raising "
            "impact or urgency must never lower the priority (build the matrix with "
            "monotonic=False to allow this table)",
        ),
    ]


def test_a_cell_below_both_neighbours_names_the_more_urgent_one() -> None:
    data = PriorityMatrix.itil_3x3().to_dict()
    data["cells"]["medium"]["low"] = "P5"
    data["cells"]["low"]["medium"] = "P2"
    data["monotonic"] = True
    with pytest.raises(ConfigurationError) as excinfo:
        PriorityMatrix.from_dict(data)
    assert excinfo.value.problems[0].path == "cells[medium][medium]"
    assert "'P2' at cells[low][medium], one impact level lower" in str(excinfo.value)


def test_monotonic_false_allows_a_non_monotonic_table() -> None:
    data = PriorityMatrix.itil_3x3().to_dict()
    data["cells"]["low"]["low"] = "P1"
    data["monotonic"] = False
    matrix = PriorityMatrix.from_dict(data)
    assert matrix.derive("low", "low").name == "P1"
    assert matrix.to_dict()["monotonic"] is False


def test_cells_outside_the_scales_are_reported_after_the_grid() -> None:
    data = two_by_two()
    data["cells"]["huge"] = {"high": "P1", "low": "P1"}
    data["cells"]["low"]["soon"] = "P1"
    del data["cells"]["high"]["low"]
    with pytest.raises(ConfigurationError) as excinfo:
        PriorityMatrix.from_dict(data)
    assert problems_of(excinfo) == [
        (
            "cells[high][low]",
            "missing; every impact x urgency pair needs a priority, one of 'P1', 'P2'",
        ),
        ("cells[low][soon]", "unknown urgency level 'soon'; expected one of 'high', 'low'"),
        ("cells[huge]", "unknown impact level 'huge'; expected one of 'high', 'low'"),
    ]


def test_a_cell_given_twice_is_rejected() -> None:
    matrix = PriorityMatrix.from_dict(two_by_two())
    cells = [*matrix.cells, Cell(impact="low", urgency="low", priority="P2")]
    with pytest.raises(ConfigurationError) as excinfo:
        attrs.evolve(matrix, cells=cells)
    assert problems_of(excinfo) == [("cells[low][low]", "given 2 times ('P2', 'P2'); give it once")]


def test_an_unknown_priority_in_a_cell_lists_the_known_ones() -> None:
    data = two_by_two()
    data["cells"]["low"]["low"] = "P3"
    with pytest.raises(ConfigurationError) as excinfo:
        PriorityMatrix.from_dict(data)
    assert problems_of(excinfo) == [
        ("cells[low][low]", "unknown priority 'P3'; expected one of 'P1', 'P2'")
    ]


# ---------------------------------------------------------------------------
# Levels, scales and priority levels
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "rank": 1}, "name: expected a non-empty name"),
        ({"name": " high", "rank": 1}, "name: expected a non-empty name"),
        ({"name": 3, "rank": 1}, "name: expected a non-empty name"),
        ({"name": "high", "rank": True}, "rank: expected an integer, got True"),
        ({"name": "high", "rank": 1.0}, "rank: expected an integer, got 1.0"),
        ({"name": "high", "rank": 1, "description": None}, "description: expected a string"),
    ],
)
def test_a_level_rejects_bad_fields(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        Level(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "rank": 1}, "name: expected a non-empty name"),
        ({"name": "P1", "label": 1, "rank": 1}, "label: expected a string, got 1"),
        ({"name": "P1", "rank": "1"}, "rank: expected an integer, got '1'"),
    ],
)
def test_a_priority_level_rejects_bad_fields(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        PriorityLevel(**kwargs)


@pytest.mark.parametrize("field", ["impact", "urgency", "priority"])
def test_a_cell_rejects_a_name_that_is_not_a_string(field: str) -> None:
    values: dict[str, Any] = {"impact": "high", "urgency": "low", "priority": "P1", field: 1}
    with pytest.raises(InvalidValueError, match=f"{field}: expected a {field} name, got 1"):
        Cell(**values)


def test_a_scale_reports_duplicate_names_and_ranks_and_bad_entries() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        Scale(
            name="impact",
            levels=[
                Level(name="high", rank=1),
                Level(name="high", rank=2),
                "medium",
                Level(name="low", rank=1),
            ],
        )
    assert problems_of(excinfo) == [
        ("levels[2]", "expected a Level, got 'medium'"),
        ("levels[1].name", "duplicate level name 'high' (already at levels[0])"),
        (
            "levels[3].rank",
            "duplicate rank 1 (already at levels[0]); ranks order the scale, so each level "
            "needs its own",
        ),
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"name": "impact", "levels": []}, [("levels", "a scale needs at least one level")]),
        (
            {"name": "", "levels": None},
            [
                ("name", "expected a non-empty name without leading or trailing spaces, got ''"),
                ("levels", "expected a sequence of Level, got None"),
            ],
        ),
        (
            {"name": "impact", "levels": "high"},
            [("levels", "expected a sequence of Level, got 'high'")],
        ),
    ],
)
def test_a_scale_rejects_a_bad_name_or_no_levels(
    kwargs: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        Scale(**kwargs)
    assert problems_of(excinfo) == expected


@given(scales())
def test_a_scale_keeps_its_levels_sorted_by_rank_and_finds_them_by_name(scale: Scale) -> None:
    ranks = [level.rank for level in scale]
    assert ranks == sorted(ranks)
    assert len(scale) == len(scale.levels) == len(scale.names)
    for level in scale:
        assert level.name in scale
        assert scale.level(level.name) is level
    assert Scale(name=scale.name, levels=reversed(scale.levels)) == scale


def test_a_scale_lookup_names_the_scale_and_the_valid_names() -> None:
    scale = PriorityMatrix.itil_3x3().urgency
    with pytest.raises(InvalidValueError) as excinfo:
        scale.level("urgent")
    assert (excinfo.value.field, excinfo.value.value) == ("urgency", "urgent")
    assert excinfo.value.expected == "one of 'high', 'medium', 'low'"
    with pytest.raises(InvalidValueError):
        scale.level(["high"])  # type: ignore[arg-type]
    assert ["high"] not in scale
    assert "urgent" not in scale


@given(st.lists(priority_levels(max_size=4), max_size=4))
def test_priority_levels_sort_most_urgent_first(groups: list[tuple[PriorityLevel, ...]]) -> None:
    levels = [level for group in groups for level in group] + [MAJOR]
    ordered = sorted(levels)
    assert ordered == sorted(levels, key=sort_key)
    assert ordered[0] == MAJOR
    assert [level.rank for level in ordered] == sorted(level.rank for level in levels)
    for a in levels:
        for b in levels:
            assert (a < b) == (sort_key(a) < sort_key(b))
            assert (a <= b) == (sort_key(a) <= sort_key(b))
            assert (a > b) == (sort_key(a) > sort_key(b))
            assert (a >= b) == (sort_key(a) >= sort_key(b))


def test_priority_levels_do_not_compare_with_other_types() -> None:
    p1 = PriorityLevel(name="P1", label="Critical", rank=1)
    other: Any = 1
    for method in (p1.__lt__, p1.__le__, p1.__gt__, p1.__ge__):
        assert method(other) is NotImplemented
    with pytest.raises(TypeError):
        assert p1 < 1  # type: ignore[operator]


def test_sort_key_rejects_what_is_not_a_priority_level() -> None:
    with pytest.raises(InvalidValueError, match="priority: expected a PriorityLevel, got 'P1'"):
        sort_key("P1")  # type: ignore[arg-type]


def test_a_priority_level_prints_its_name_and_label() -> None:
    assert str(PriorityLevel(name="P1", label="Critical", rank=1)) == "P1 Critical"
    assert str(PriorityLevel(name="P1", rank=1)) == "P1"
    assert (MAJOR.name, MAJOR.label, MAJOR.rank) == ("P0", "Major incident", 0)


# ---------------------------------------------------------------------------
# Matrix construction errors
# ---------------------------------------------------------------------------


def itil_parts() -> dict[str, Any]:
    matrix = PriorityMatrix.itil_3x3()
    return {
        "impact": matrix.impact,
        "urgency": matrix.urgency,
        "priorities": matrix.priorities,
        "cells": matrix.cells,
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"impact": "high"}, [("impact", "expected a Scale, got 'high'")]),
        (
            {"priorities": "P1"},
            [("priorities", "expected a sequence of PriorityLevel, got 'P1'")],
        ),
        ({"priorities": []}, [("priorities", "a matrix needs at least one priority level")]),
        (
            {"priorities": [PriorityLevel(name="P1", rank=1), "P2"]},
            [("priorities[1]", "expected a PriorityLevel, got 'P2'")],
        ),
        (
            {
                "priorities": [
                    PriorityLevel(name="P1", rank=1),
                    PriorityLevel(name="P1", rank=1),
                    PriorityLevel(name="P0", rank=0),
                ]
            },
            [
                ("priorities[1].name", "duplicate priority name 'P1' (already at priorities[0])"),
                ("priorities[1].rank", "duplicate rank 1 (already at priorities[0])"),
                (
                    "priorities[2].rank",
                    "expected a rank of 1 or more, got 0 (ranks 0 and below are reserved for "
                    "tiers outside the matrix, such as the major tier)",
                ),
            ],
        ),
        ({"monotonic": 1}, [("monotonic", "expected True or False, got 1")]),
        (
            {"cells": None},
            [
                (
                    "cells",
                    "expected a mapping {impact: {urgency: priority}} or a sequence of Cell, "
                    "got None",
                )
            ],
        ),
        (
            {"cells": {"high": "P1", 1: {}, "low": {2: "P1", "low": 5}}},
            [
                (
                    "cells[high]",
                    "expected a mapping of urgency level name to priority name, got 'P1'",
                ),
                ("cells[1]", "expected an impact level name as key"),
                ("cells[low][2]", "expected an urgency level name as key"),
                ("cells[low][low]", "expected a priority name, got 5"),
            ],
        ),
        (
            {"disabled_impact": 5},
            [("disabled_impact", "expected a sequence of level names, got 5")],
        ),
        (
            {"disabled_impact": ["low", "low", "huge", 3]},
            [
                ("disabled_impact[1]", "'low' is listed twice"),
                (
                    "disabled_impact[2]",
                    "unknown impact level 'huge'; expected one of 'high', 'medium', 'low'",
                ),
                (
                    "disabled_impact[3]",
                    "unknown impact level 3; expected one of 'high', 'medium', 'low'",
                ),
            ],
        ),
        (
            {"disabled_urgency": ["low", "high", "medium"]},
            [
                (
                    "disabled_urgency",
                    "every urgency level is disabled; at least one must stay enabled",
                )
            ],
        ),
    ],
)
def test_a_matrix_reports_every_construction_problem_with_its_path(
    changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        PriorityMatrix(**{**itil_parts(), **changes})
    assert problems_of(excinfo) == expected


def test_a_cell_entry_that_is_not_a_cell_is_reported_before_the_grid() -> None:
    parts = itil_parts()
    cells = [*parts["cells"][1:], ("high", "high", "P1")]
    with pytest.raises(ConfigurationError) as excinfo:
        PriorityMatrix(**{**parts, "cells": cells})
    assert paths_of(excinfo) == ["cells[8]", "cells[high][high]"]


def test_disabled_levels_are_kept_in_scale_order() -> None:
    matrix = attrs.evolve(PriorityMatrix.glpi_5x5(), disabled_impact=["very_low", "low"])
    assert matrix.disabled_impact == ("low", "very_low")
    assert matrix == attrs.evolve(matrix, disabled_impact=("low", "very_low"))
    assert matrix.enabled("impact") == ("very_high", "high", "medium")
    assert matrix.enabled("urgency") == matrix.urgency.names


# ---------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("impact", "urgency", "field", "expected"),
    [
        ("severe", "high", "impact", "one of 'high', 'medium', 'low'"),
        ("high", "soon", "urgency", "one of 'high', 'medium', 'low'"),
        (["high"], "high", "impact", "one of 'high', 'medium', 'low'"),
        ("high", None, "urgency", "one of 'high', 'medium', 'low'"),
    ],
)
def test_derive_names_the_field_and_the_valid_names(
    impact: Any, urgency: Any, field: str, expected: str
) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        PriorityMatrix.itil_3x3().derive(impact, urgency)
    assert (excinfo.value.field, excinfo.value.value) == (
        field,
        impact if field == "impact" else urgency,
    )
    assert excinfo.value.expected == expected


def test_derive_refuses_a_disabled_level_unless_allowed() -> None:
    matrix = attrs.evolve(PriorityMatrix.glpi_5x5(), disabled_urgency=["very_low"])
    with pytest.raises(InvalidValueError) as excinfo:
        matrix.derive("high", "very_low")
    assert str(excinfo.value) == (
        "urgency: expected one of 'very_high', 'high', 'medium', 'low', got 'very_low' "
        "('very_low' is disabled in this matrix)"
    )
    assert matrix.derive("high", "very_low", allow_disabled=True).name == "P4"


def test_priority_lookup_names_the_valid_priorities() -> None:
    matrix = PriorityMatrix.four_by_four()
    assert matrix.priority("P2").label == "High"
    with pytest.raises(InvalidValueError, match="priority: expected one of 'P1', 'P2', 'P3', 'P4'"):
        matrix.priority({"P1"})  # type: ignore[arg-type]


def test_enabled_rejects_an_unknown_field() -> None:
    with pytest.raises(InvalidValueError, match="field: expected one of 'impact', 'urgency'"):
        PriorityMatrix.itil_3x3().enabled("priority")


def test_with_cell_changes_one_cell_and_validates_the_result() -> None:
    matrix = PriorityMatrix.itil_3x3()
    changed = matrix.with_cell("medium", "low", "P3")
    assert changed.derive("medium", "low").name == "P3"
    assert [c for c in changed.cells if c not in matrix.cells] == [
        Cell(impact="medium", urgency="low", priority="P3")
    ]
    with pytest.raises(ConfigurationError, match=r"cells\[high\]\[high\]"):
        matrix.with_cell("high", "high", "P5")
    with pytest.raises(InvalidValueError, match="impact: expected"):
        matrix.with_cell("huge", "high", "P1")
    with pytest.raises(InvalidValueError, match="urgency: expected"):
        matrix.with_cell("high", "soon", "P1")
    with pytest.raises(InvalidValueError, match="priority: expected"):
        matrix.with_cell("high", "high", "P9")


def test_rows_take_a_cell_format_and_a_corner() -> None:
    rows = PriorityMatrix.itil_3x3().rows("{label} ({rank})", corner="")
    assert rows[0] == ("", "high", "medium", "low")
    assert rows[1] == ("high", "Critical (1)", "High (2)", "Moderate (3)")
    assert PriorityMatrix.itil_3x3().rows()[3][3] == "P5 Planning"


@pytest.mark.parametrize("cell", ["{nam}", "{0}", "{name", "{name.x}", "{rank:q}"])
def test_rows_reject_a_bad_cell_format(cell: str) -> None:
    with pytest.raises(InvalidValueError, match="cell: expected a format string"):
        PriorityMatrix.itil_3x3().rows(cell)


# ---------------------------------------------------------------------------
# The dict form
# ---------------------------------------------------------------------------


def test_the_dict_form_is_readable() -> None:
    data = PriorityMatrix.itil_3x3().to_dict()
    assert data["impact"][0] == {
        "name": "high",
        "rank": 1,
        "description": "Widespread: a whole service, site or many users",
    }
    assert data["cells"] == {
        "high": {"high": "P1", "medium": "P2", "low": "P3"},
        "medium": {"high": "P2", "medium": "P3", "low": "P4"},
        "low": {"high": "P3", "medium": "P4", "low": "P5"},
    }


def test_a_scale_with_its_own_name_round_trips_in_the_mapping_form() -> None:
    matrix = PriorityMatrix.from_dict(
        two_by_two(impact={"name": "Business impact", "levels": ["high", "low"]})
    )
    assert matrix.impact.name == "Business impact"
    data = matrix.to_dict()
    assert data["impact"] == {
        "name": "Business impact",
        "levels": [{"name": "high", "rank": 1}, {"name": "low", "rank": 2}],
    }
    assert data["urgency"] == [{"name": "high", "rank": 1}, {"name": "low", "rank": 2}]
    assert PriorityMatrix.from_dict(data) == matrix


def test_ranks_may_be_left_out_and_default_to_the_position() -> None:
    matrix = PriorityMatrix.from_dict(
        two_by_two(
            urgency=[{"name": "high", "description": "now"}, "low"],
            priorities=["P1", {"name": "P2", "label": "Normal", "rank": 7}],
        )
    )
    assert [(level.name, level.rank) for level in matrix.urgency] == [("high", 1), ("low", 2)]
    assert matrix.urgency.level("high").description == "now"
    assert [(p.name, p.rank, p.label) for p in matrix.priorities] == [
        ("P1", 1, ""),
        ("P2", 7, "Normal"),
    ]


def test_disabled_levels_round_trip_through_the_dict_form() -> None:
    data = two_by_two(disabled_impact=["low"], disabled_urgency=[])
    matrix = PriorityMatrix.from_dict(data)
    assert matrix.disabled_impact == ("low",)
    assert matrix.to_dict()["disabled_impact"] == ["low"]
    assert "disabled_urgency" not in matrix.to_dict()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            ["impact"],
            [
                (
                    "",
                    "expected a mapping with keys impact, urgency, priorities, cells, "
                    "monotonic, disabled_impact, disabled_urgency, got ['impact']",
                )
            ],
        ),
        (
            {"impact": ["a"], "urgency": ["a"], "priority": []},
            [
                (
                    "priority",
                    "unknown key; expected one of 'impact', 'urgency', 'priorities', 'cells', "
                    "'monotonic', 'disabled_impact', 'disabled_urgency'",
                ),
                ("priorities", "missing"),
                ("cells", "missing"),
            ],
        ),
        (
            two_by_two(impact={"name": " x", "levels": ["a"], "order": 1}),
            [
                ("impact.order", "unknown key; expected one of 'name', 'levels'"),
                (
                    "impact.name",
                    "expected a non-empty name without leading or trailing spaces, got ' x'",
                ),
            ],
        ),
        (two_by_two(urgency={"name": "urgency"}), [("urgency.levels", "missing")]),
        (two_by_two(urgency=5), [("urgency", "expected a list, got 5")]),
        (
            two_by_two(
                impact=[
                    {"name": "high", "rank": "1", "descr": ""},
                    {"rank": 2},
                    {"name": "", "description": 3},
                    None,
                ]
            ),
            [
                ("impact[0].descr", "unknown key; expected one of 'name', 'rank', 'description'"),
                ("impact[0].rank", "expected an integer, got '1'"),
                ("impact[1].name", "missing"),
                (
                    "impact[2].name",
                    "expected a non-empty name without leading or trailing spaces, got ''",
                ),
                ("impact[2].description", "expected a string, got 3"),
                (
                    "impact[3]",
                    "expected a name or a mapping with keys name, rank, description, got None",
                ),
            ],
        ),
        (
            two_by_two(impact=["high", "high"]),
            [("impact[1].name", "duplicate level name 'high' (already at impact[0])")],
        ),
        (
            two_by_two(priorities=[{"name": "P1", "label": None}, "P2", "P2"]),
            [
                ("priorities[0].label", "expected a string, got None"),
                ("priorities[2].name", "duplicate priority name 'P2' (already at priorities[1])"),
            ],
        ),
        (two_by_two(priorities={"P1": 1}), [("priorities", "expected a list, got {'P1': 1}")]),
        (
            two_by_two(cells=[["P1"]]),
            [("cells", "expected a mapping {impact: {urgency: priority}}, got [['P1']]")],
        ),
        (
            two_by_two(cells={"high": {"high": 1}}),
            [("cells[high][high]", "expected a priority name, got 1")],
        ),
        (two_by_two(monotonic="no"), [("monotonic", "expected true or false, got 'no'")]),
        (
            two_by_two(disabled_impact=["low", 2], disabled_urgency="high"),
            [
                ("disabled_impact[1]", "expected a level name, got 2"),
                ("disabled_urgency", "expected a list, got 'high'"),
            ],
        ),
        (
            two_by_two(disabled_impact=["high", "low"]),
            [("disabled_impact", "every impact level is disabled; at least one must stay enabled")],
        ),
    ],
)
def test_from_dict_reports_every_problem_with_its_path(
    data: Any, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        PriorityMatrix.from_dict(data)
    assert problems_of(excinfo) == expected


# ---------------------------------------------------------------------------
# The major tier and overrides
# ---------------------------------------------------------------------------


@given(priority_matrices(), st.data())
def test_the_effective_priority_follows_major_then_override_then_derived(
    matrix: PriorityMatrix, data: st.DataObject
) -> None:
    derived = matrix.derive(
        data.draw(sampled(tuple(matrix.enabled("impact")))),
        data.draw(sampled(tuple(matrix.enabled("urgency")))),
    )
    override = data.draw(st.none() | st.sampled_from(matrix.priorities))
    major = data.draw(sampled((None, False, True, MAJOR)))
    effective = effective_priority(derived, override, major)
    if major is True or major == MAJOR:
        assert effective == MAJOR
    elif override is not None:
        assert effective == override
    else:
        assert effective == derived
    assert sort_key(MAJOR) < sort_key(min(matrix.priorities))


def test_a_custom_major_tier_is_accepted() -> None:
    tier = PriorityLevel(name="SEV0", label="Crisis", rank=-1)
    derived = PriorityMatrix.itil_3x3().priority("P3")
    assert effective_priority(derived, major=tier) is tier
    assert sorted([derived, MAJOR, tier])[0] is tier


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("P1",), "derived"),
        ((PriorityLevel(name="P1", rank=1), "P2"), "override"),
        ((PriorityLevel(name="P1", rank=1), MAJOR), "override"),
        ((PriorityLevel(name="P1", rank=1), None, "yes"), "major"),
        ((PriorityLevel(name="P1", rank=1), None, 1), "major"),
        ((PriorityLevel(name="P1", rank=1), None, PriorityLevel(name="P2", rank=2)), "major"),
    ],
)
def test_effective_priority_rejects_bad_arguments(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        effective_priority(*args)
    assert excinfo.value.field == field


def test_the_major_tier_cannot_be_set_as_a_manual_override() -> None:
    derived = PriorityMatrix.itil_3x3().priority("P3")
    with pytest.raises(InvalidValueError, match="set only by its own command, with a reason"):
        effective_priority(derived, override=MAJOR)


# ---------------------------------------------------------------------------
# Requester masks
# ---------------------------------------------------------------------------


@given(priority_matrices().flatmap(lambda m: st.tuples(st.just(m), requester_masks(m))))
def test_a_generated_mask_is_valid_accepts_exactly_its_levels_and_fills_defaults(
    case: tuple[PriorityMatrix, RequesterMask],
) -> None:
    matrix, mask = case
    assert mask.validate(matrix) is mask
    for field in ("impact", "urgency"):
        allowed = getattr(mask, field)
        for name in getattr(matrix, field).names:
            if name in allowed:
                mask.check(**{field: name})
            else:
                with pytest.raises(InvalidValueError) as excinfo:
                    mask.check(**{field: name})
                assert excinfo.value.field == field
    mask.check()
    if mask.default_impact is not None and mask.default_urgency is not None:
        assert mask.resolve() == (mask.default_impact, mask.default_urgency)
        assert mask.derive(matrix) == matrix.derive(mask.default_impact, mask.default_urgency)
    else:
        with pytest.raises(InvalidValueError, match="the mask has no default"):
            mask.resolve()


def test_an_urgency_only_mask_refuses_an_impact_choice() -> None:
    matrix = PriorityMatrix.itil_3x3()
    mask = RequesterMask.urgency_only(matrix, default_impact="low", default_urgency="medium")
    assert mask.resolve() == ("low", "medium")
    assert mask.derive(matrix, urgency="high").name == "P3"
    with pytest.raises(InvalidValueError) as excinfo:
        mask.resolve(impact="high")
    assert excinfo.value.field == "impact"
    assert excinfo.value.expected == "no value (a requester may not choose the impact)"


def test_a_mask_allowing_everything_offers_the_enabled_levels() -> None:
    matrix = attrs.evolve(PriorityMatrix.glpi_5x5(), disabled_urgency=["very_high"])
    mask = RequesterMask.allow_all(matrix)
    assert mask.urgency == ("high", "medium", "low", "very_low")
    assert mask.derive(matrix, impact="high", urgency="low").name == "P3"
    with pytest.raises(InvalidValueError, match="urgency: expected one of 'high'"):
        mask.check(urgency="very_high")
    with pytest.raises(InvalidValueError, match="urgency: expected"):
        mask.check(urgency=["high"])  # type: ignore[arg-type]


def test_a_mask_without_a_default_urgency_cannot_resolve_an_empty_choice() -> None:
    mask = RequesterMask(impact=["low"], default_impact="low")
    with pytest.raises(InvalidValueError) as excinfo:
        mask.resolve()
    assert excinfo.value.field == "urgency"


def test_a_mask_validated_against_a_matrix_reports_unknown_and_disabled_levels() -> None:
    matrix = attrs.evolve(PriorityMatrix.glpi_5x5(), disabled_impact=["very_low"])
    mask = RequesterMask(
        impact=["high", "very_low", "huge"],
        urgency=["medium"],
        default_impact="very_low",
        default_urgency="soon",
    )
    with pytest.raises(ConfigurationError) as excinfo:
        mask.validate(matrix)
    enabled = "'very_high', 'high', 'medium', 'low'"
    assert problems_of(excinfo) == [
        (
            "impact[1]",
            f"impact level 'very_low' is disabled in the matrix; expected one of {enabled}",
        ),
        ("impact[2]", f"unknown impact level 'huge'; expected one of {enabled}, 'very_low'"),
        (
            "default_impact",
            f"impact level 'very_low' is disabled in the matrix; expected one of {enabled}",
        ),
        ("default_urgency", f"unknown urgency level 'soon'; expected one of {enabled}, 'very_low'"),
    ]
    with pytest.raises(ConfigurationError):
        RequesterMask.urgency_only(matrix, default_impact="very_low")


def test_a_mask_rejects_bad_fields_when_built() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        RequesterMask(
            impact="high",
            urgency=["high", "high", 3],
            default_impact=1,  # type: ignore[arg-type]
        )
    assert problems_of(excinfo) == [
        ("impact", "expected a sequence of level names, got 'high'"),
        ("urgency[1]", "'high' is listed twice"),
        ("urgency[2]", "expected a level name, got 3"),
        ("default_impact", "expected a level name or None, got 1"),
    ]


def test_a_single_level_is_checked_as_derive_checks_it() -> None:
    matrix = attrs.evolve(PriorityMatrix.glpi_5x5(), disabled_impact=["very_low"])
    assert matrix.level("impact", "very_low", allow_disabled=True).rank == 5
    assert matrix.level("urgency", "very_low").rank == 5
    with pytest.raises(InvalidValueError) as excinfo:
        matrix.level("impact", "huge", allow_disabled=True)
    assert excinfo.value.expected == "one of 'very_high', 'high', 'medium', 'low', 'very_low'"
    assert excinfo.value.detail == ""
    with pytest.raises(InvalidValueError) as excinfo:
        matrix.level("impact", "very_low")
    assert excinfo.value.detail == "'very_low' is disabled in this matrix"
    with pytest.raises(InvalidValueError, match="field: expected one of 'impact', 'urgency'"):
        matrix.level("priority", "P1")


CONVERTER = cattrs.Converter()


@given(priority_matrices())
def test_a_default_cattrs_converter_round_trips_a_matrix(matrix: PriorityMatrix) -> None:
    data = CONVERTER.unstructure(matrix)
    assert CONVERTER.structure(data, PriorityMatrix) == matrix
    assert set(data) == {
        "impact",
        "urgency",
        "priorities",
        "cells",
        "monotonic",
        "disabled_impact",
        "disabled_urgency",
    }
