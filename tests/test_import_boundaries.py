"""The rooms of DESIGN.md keep to their boundaries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import itsm_core
from tests.import_boundaries import check_package

PACKAGE = Path(itsm_core.__file__).parent


def copy_package(tmp_path: Path) -> Path:
    target = tmp_path / "itsm_core"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_the_package_keeps_every_boundary() -> None:
    assert [str(v) for v in check_package(PACKAGE)] == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("import os", "core module imports I/O module 'os'"),
        ("from pathlib import Path", "core module imports I/O module 'pathlib'"),
        ("import logging.handlers", "core module imports I/O module 'logging'"),
        ("import time", "core module imports I/O module 'time'"),
        ("import random", "core module imports I/O module 'random'"),
        ("from datetime import datetime\nNOW = datetime.now()", "core module reads the clock"),
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
    errors_module = package / "errors.py"
    errors_module.write_text(errors_module.read_text() + "\n" + line + "\n")
    messages = [str(v) for v in check_package(package)]
    assert len(messages) >= 1
    assert all(m.startswith("itsm_core/errors.py:") for m in messages)
    assert any(expected in m for m in messages), messages


def test_a_higher_room_may_import_a_lower_one(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    (package / "metrics.py").write_text("from itsm_core.errors import ItsmError\n")
    assert check_package(package) == []


def test_the_command_line_may_do_io(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    (package / "cli.py").write_text("import os\nimport sys\nfrom itsm_core import errors\n")
    assert check_package(package) == []


def test_an_unranked_room_is_reported(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    (package / "gadgets.py").write_text("X = 1\n")
    assert [v.message for v in check_package(package)] == ["room 'gadgets' has no rank in RANKS"]
