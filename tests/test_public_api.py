"""The public API is exactly what ``__all__`` says, and every name is documented."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import itsm_core


def public_names() -> set[str]:
    """The names the package offers: what ``dir`` lists, read (lazily) one by one."""
    return {
        name
        for name in dir(itsm_core)
        if not name.startswith("_") and not isinstance(getattr(itsm_core, name), types.ModuleType)
    }


def test_all_lists_exactly_the_public_names() -> None:
    assert set(itsm_core.__all__) - {"__version__"} == public_names()
    assert set(itsm_core.__all__) - {"__version__"} == set(itsm_core._LAZY)


def test_every_lazy_name_is_the_object_of_the_room_it_names() -> None:
    for name, room in itsm_core._LAZY.items():
        module = importlib.import_module(room)
        assert name in module.__all__, (name, room)
        assert getattr(itsm_core, name) is getattr(module, name)


def test_the_typing_imports_name_the_same_rooms_as_the_lazy_table() -> None:
    """What mypy and IDEs see (``if TYPE_CHECKING``) is what the package gives at run time."""
    source = Path(itsm_core.__file__).read_text(encoding="utf-8")
    (block,) = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
    ]
    seen = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and str(node.module).startswith("itsm_core")
        for alias in node.names
    }
    assert seen == itsm_core._LAZY


def _fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout


def test_importing_the_package_imports_no_room_transitions_or_hypothesis() -> None:
    loaded = json.loads(
        _fresh("import itsm_core, json, sys; print(json.dumps(sorted(sys.modules)))")
    )
    for heavy in ("itsm_core.desk", "itsm_core.sla", "transitions", "hypothesis"):
        assert heavy not in loaded, heavy
    assert [m for m in loaded if m.startswith("itsm_core")] == ["itsm_core", "itsm_core._version"]


def test_reading_a_name_imports_only_what_it_needs_and_keeps_it() -> None:
    code = (
        "import itsm_core, json, sys; c = itsm_core.ItsmError; "
        "print(json.dumps(['itsm_core.desk' in sys.modules, "
        "'ItsmError' in vars(itsm_core), c is itsm_core.ItsmError]))"
    )
    assert json.loads(_fresh(code)) == [False, True, True]


def test_a_room_is_imported_when_first_read_from_the_package() -> None:
    code = (
        "import itsm_core, json, sys; before = 'itsm_core.priority' in sys.modules; "
        "m = itsm_core.priority; print(json.dumps([before, m.__name__]))"
    )
    assert json.loads(_fresh(code)) == [False, "itsm_core.priority"]


def test_a_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from itsm_core import *", namespace)
    assert set(itsm_core.__all__) <= set(namespace)


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
