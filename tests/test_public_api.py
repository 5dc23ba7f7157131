"""The public API is exactly what ``__all__`` says, and every name is documented."""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

import itsm_core


def public_names() -> set[str]:
    return {
        name
        for name, value in vars(itsm_core).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def test_all_lists_exactly_the_public_names() -> None:
    assert set(itsm_core.__all__) - {"__version__"} == public_names()


def isort_style(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def test_all_is_sorted_and_has_no_duplicates() -> None:
    assert itsm_core.__all__ == sorted(set(itsm_core.__all__), key=isort_style)


def test_every_public_name_has_a_docstring() -> None:
    undocumented = [
        name
        for name in itsm_core.__all__
        if name != "__version__" and not inspect.getdoc(getattr(itsm_core, name))
    ]
    assert undocumented == []


def test_the_version_is_a_release_string() -> None:
    parts = itsm_core.__version__.split(".")
    assert len(parts) == 3
    assert all(p.isdigit() for p in parts)


def test_the_top_level_holds_at_most_sixty_host_facing_names() -> None:
    assert len(itsm_core.__all__) <= 60
    for name in ("Desk", "History", "load_desk", "dump_desk", "OpenTicket", "ItsmError"):
        assert name in itsm_core.__all__


def test_a_moved_name_still_imports_from_the_top_with_a_deprecation_warning() -> None:
    from itsm_core.sla import evaluate

    with pytest.warns(DeprecationWarning, match=r"import it from itsm_core\.sla"):
        moved = itsm_core.evaluate
    assert moved is evaluate


def test_every_moved_name_lives_in_the_room_it_names() -> None:
    for name, room in itsm_core._MOVED.items():
        module = importlib.import_module(room)
        assert name in module.__all__, (name, room)
        assert name not in itsm_core.__all__


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        itsm_core.nothing_here  # noqa: B018


def test_test_machinery_lives_in_the_testing_room() -> None:
    import itsm_core.testing

    assert "MachineProbe" in itsm_core.testing.__all__
    assert "MachineProbe" not in itsm_core.__all__
