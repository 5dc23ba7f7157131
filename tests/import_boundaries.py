"""The import-boundary checker of DESIGN.md, run by ``tests/test_import_boundaries.py``.

Rules:

* lower rooms never import higher ones (the ranks below);
* nothing but ``itsm_core.cli`` imports ``itsm_core.cli``;
* no core module (everything but ``cli``) imports an I/O module or reads the
  clock (``datetime.now``, ``date.today``, ``pendulum.now``...).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

#: Rank of each room: a module may import rooms of its own rank or lower.
RANKS: dict[str, int] = {
    "_version": 0,
    "_time": 0,
    "_duration": 0,
    "errors": 0,
    "calendar": 1,
    "priority": 1,
    "lifecycle": 2,
    "ticket": 2,
    "permissions": 2,
    "sla": 3,
    "escalation": 4,
    "routing": 4,
    "metrics": 5,
    "desk": 6,
    "imports": 6,
    "serialization": 7,
    "testing": 8,
    "cli": 9,
    "__main__": 9,
}
#: ``itsm_core/__init__.py`` re-exports the public API of every core room.
PACKAGE_ROOT_RANK = 7

BANNED_MODULES = frozenset(
    {
        "os",
        "io",
        "pathlib",
        "socket",
        "logging",
        "subprocess",
        "time",
        "random",
        "shutil",
        "tempfile",
        "sys",
        "urllib",
        "http",
        "requests",
        "threading",
        "asyncio",
        "sqlite3",
    }
)
BANNED_ATTRIBUTES = frozenset({"now", "utcnow", "today", "localnow"})
IO_FREE_EXEMPT = frozenset({"cli", "__main__"})


@dataclass(frozen=True)
class Violation:
    """One broken rule: the file, the line and what is wrong."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def room_of(module: str) -> str:
    """The room of a dotted module name inside ``itsm_core`` (``''`` for the package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(package_dir: Path, path: Path) -> str:
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from itsm_core import cli`` imports the submodule.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def check_package(package_dir: Path) -> list[Violation]:
    """Every violation of the boundary rules under ``package_dir`` (``.../itsm_core``)."""
    violations: list[Violation] = []
    for path in sorted(package_dir.rglob("*.py")):
        module = _module_name(package_dir, path)
        room = room_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        shown = str(path.relative_to(package_dir.parent))
        if room and room not in RANKS:
            violations.append(Violation(shown, 1, f"room {room!r} has no rank in RANKS"))
            continue
        rank = RANKS[room] if room else PACKAGE_ROOT_RANK
        for line, target in _imports(tree, module, path.name == "__init__.py"):
            top = target.split(".")[0]
            if target.startswith("itsm_core.") or target == "itsm_core":
                other = room_of(target)
                if not other or other not in RANKS:
                    continue
                if other == "cli" and room != "cli" and room != "__main__":
                    violations.append(Violation(shown, line, f"core module imports {target}"))
                elif RANKS[other] > rank:
                    violations.append(
                        Violation(
                            shown,
                            line,
                            f"room {room or 'itsm_core'!r} (rank {rank}) "
                            f"imports higher room {other!r} (rank {RANKS[other]})",
                        )
                    )
            elif room not in IO_FREE_EXEMPT and top in BANNED_MODULES:
                violations.append(Violation(shown, line, f"core module imports I/O module {top!r}"))
        if room not in IO_FREE_EXEMPT:
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
                    violations.append(
                        Violation(shown, node.lineno, f"core module reads the clock (.{node.attr})")
                    )
    return violations
