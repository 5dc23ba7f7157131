"""Importing the package loads no heavy dependency it does not need yet."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(code: str, modules: tuple[str, ...]) -> dict[str, bool]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``code``."""
    probe = f"import sys\n{code}\nprint(','.join(str(m in sys.modules) for m in {modules!r}))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return dict(zip(modules, (flag == "True" for flag in out.strip().split(",")), strict=True))


HEAVY = ("transitions.extensions.nesting", "asyncio", "ssl")


def test_importing_the_package_loads_neither_the_nesting_machine_nor_asyncio_nor_ssl() -> None:
    assert loaded_after("import itsm_core", HEAVY) == dict.fromkeys(HEAVY, False)


def test_building_a_lifecycle_loads_the_nesting_machine() -> None:
    code = "from itsm_core.lifecycle import Lifecycle, incident\nLifecycle(incident())"
    assert loaded_after(code, HEAVY[:1]) == {HEAVY[0]: True}
