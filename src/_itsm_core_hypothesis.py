"""The ``hypothesis`` entry point of itsm-core, kept outside the package on purpose.

Hypothesis runs every ``hypothesis`` entry point while it is itself being
imported. Importing ``itsm_core`` there would make ``import hypothesis`` several
hundred milliseconds slower in every environment where itsm-core is installed,
whether a test uses it or not. So this module imports nothing but the standard
library:

* if ``itsm_core`` is already imported, the strategies are registered at once;
* otherwise a one-shot import hook waits for the first ``import itsm_core`` (or of
  any of its modules) and registers them right after the package has loaded.

Registering only records a lazy resolver per type
(:func:`itsm_core.testing.register_strategies`); the strategies themselves are
built on the first ``st.from_type`` that needs one.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

__all__ = ["setup_hook"]

_PACKAGE = "itsm_core"


def _register() -> None:
    from itsm_core.testing._entry import register_strategies

    register_strategies()


class _RegisterAfterImport:
    """A meta path finder that finds nothing itself: it wraps how ``itsm_core`` loads."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname != _PACKAGE:
            return None
        from importlib.util import find_spec

        _uninstall()  # one shot, and the finders below must not meet us again
        spec = find_spec(fullname)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        load: Callable[[ModuleType], None] = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            _register()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _RegisterAfterImport)]


def setup_hook() -> None:
    """Register the strategies now, or right after ``itsm_core`` is first imported."""
    if _PACKAGE in sys.modules:
        _register()
    elif not any(isinstance(f, _RegisterAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())
