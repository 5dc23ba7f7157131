"""The public API is exactly what ``__all__`` says, and every name is documented."""

from __future__ import annotations

import inspect
import types

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
