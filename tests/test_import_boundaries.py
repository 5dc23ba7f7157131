"""The rooms of DESIGN.md keep to their boundaries."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

import itsm_core
from tests.import_boundaries import check_package

PACKAGE = Path(itsm_core.__file__).parent


@functools.cache
def baseline() -> frozenset[str]:
    """The violations of the package as it is (checked once: parsing every module is slow)."""
    return frozenset(str(v) for v in check_package(PACKAGE))


def copy_package(tmp_path: Path) -> Path:
    target = tmp_path / "itsm_core"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_the_package_keeps_every_boundary() -> None:
    assert sorted(baseline()) == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("import os", "core module imports I/O module 'os'"),
        ("from pathlib import Path", "core module imports I/O module 'pathlib'"),
        ("import logging.handlers", "core module imports I/O module 'logging'"),
        ("import time", "core module imports I/O module 'time'"),
        ("import random", "core module imports I/O module 'random'"),
        ("from datetime import datetime\nNOW = datetime.now()", "core module reads the clock"),
        ("from itsm_core._time import _EPOCH", "imports the private name _EPOCH"),
        ("from itsm_core.sla._clock import _Fold", "imports the private name _Fold"),
        ("import pendulum\nX = pendulum.today()", "core module reads the clock"),
        ("from itsm_core import cli", "core module imports itsm_core.cli"),
        ("import itsm_core.cli", "core module imports itsm_core.cli"),
        ("from itsm_core.sla import x", "imports higher room 'sla'"),
        ("from . import serialization", "imports higher room 'serialization'"),
    ],
)
def test_adding_a_forbidden_import_to_a_core_module_is_reported(
    tmp_path: Path, line: str, expected: str
) -> None:
    package = copy_package(tmp_path)
    before = baseline()
    errors_module = package / "errors.py"
    errors_module.write_text(errors_module.read_text() + "\n" + line + "\n")
    messages = [str(v) for v in check_package(package) if str(v) not in before]
    assert len(messages) >= 1
    assert all(m.startswith("itsm_core/errors.py:") for m in messages)
    assert any(expected in m for m in messages), messages


def test_a_higher_room_may_import_a_lower_one(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    (package / "metrics" / "_extra.py").write_text("from itsm_core.errors import ItsmError\n")
    assert {str(v) for v in check_package(package)} == baseline()


def test_the_command_line_may_do_io(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    (package / "cli" / "extra.py").write_text(
        "import os\nimport sys\nfrom itsm_core import errors\n"
    )
    assert [v for v in check_package(package) if "cli/extra" in v.path] == []


def test_an_import_cycle_inside_a_room_is_reported_even_through_a_lazy_import(
    tmp_path: Path,
) -> None:
    package = copy_package(tmp_path)
    room = package / "gizmo"
    room.mkdir()
    (room / "__init__.py").write_text("")
    (room / "_a.py").write_text("from itsm_core.gizmo._b import B\nA = 1\n")
    (room / "_b.py").write_text("def B():\n    from itsm_core.gizmo._a import A\n    return A\n")
    (room / "_c.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from itsm_core.gizmo._a import A\n"
    )
    messages = [v.message for v in check_package(package, ranks={"gizmo": 1}) if "gizmo" in v.path]
    assert messages == [
        "import cycle inside room 'gizmo': itsm_core.gizmo._a -> itsm_core.gizmo._b"
    ]


def test_a_private_name_from_another_module_is_reported(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    (package / "desk" / "_extra.py").write_text(
        "from itsm_core.desk._desk import _reached\nfrom itsm_core._version import __version__\n"
    )
    messages = [str(v) for v in check_package(package) if "desk/_extra" in v.path]
    assert messages == [
        "itsm_core/desk/_extra.py:1: imports the private name _reached from itsm_core.desk._desk"
    ]


def test_a_now_attribute_is_not_reading_the_clock_but_calling_now_is(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    (package / "desk" / "_extra.py").write_text(
        "def f(status):\n    return status.now\n\ndef g(p):\n    return p.now()\n"
    )
    messages = [v.message for v in check_package(package) if "desk/_extra" in v.path]
    assert messages == ["core module reads the clock (.now())"]


def test_an_unranked_room_is_reported(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    (package / "gadgets.py").write_text("X = 1\n")
    new = [str(v) for v in check_package(package) if str(v) not in baseline()]
    assert new == ["itsm_core/gadgets.py:1: room 'gadgets' has no rank in RANKS"]
