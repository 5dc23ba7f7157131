"""The import-boundary checker of DESIGN.md, run by ``tests/test_import_boundaries.py``.

Rules:

* lower rooms never import higher ones (the ranks below);
* nothing but ``itsm_core.cli`` imports ``itsm_core.cli``;
* no core module (everything but ``cli``) imports an I/O module or reads the
  clock (calls ``datetime.now()``, ``date.today()``, ``pendulum.now()``...);
* inside a room, modules import each other without a cycle (imports inside
  functions count: a lazy import is no way around a cycle; imports only made
  ``if TYPE_CHECKING`` do not);
* no module imports a private name (``_x``) from another module: what a
  module shares, it names publicly.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Rank of each room: a module may import rooms of its own rank or lower.
RANKS: dict[str, int] = {
    "_version": 0,
    "_time": 0,
    "_drafts": 0,
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


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """The ids of the nodes inside ``if TYPE_CHECKING:`` blocks (never run)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", "")
            if name == "TYPE_CHECKING":
                skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def _private_names(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """``(line, "name from module")`` for every private name imported from another module."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        target = _target(node, module, is_package)
        if not (target == "itsm_core" or target.startswith("itsm_core.")):
            continue
        for alias in node.names:
            name = alias.name
            if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                yield node.lineno, f"{name} from {target}"


def _target(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    drop = node.level - 1 if is_package else node.level
    base = base[: len(base) - drop] if drop else base
    return ".".join(base + ([node.module] if node.module else []))


def _imports(
    tree: ast.Module, module: str, is_package: bool, skip: set[int] | None = None
) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if skip and id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _target(node, module, is_package)
            found.append((node.lineno, target))
            # ``from itsm_core import cli`` imports the submodule.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # recursion depth is the size of one room: small
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


@functools.lru_cache(maxsize=4096)
def _check_file(
    module: str, source: str, is_package: bool, rank: int, ranks: tuple[tuple[str, int], ...]
) -> tuple[tuple[tuple[int, str], ...], tuple[str, ...]]:
    """One module's violations ``(line, message)`` and the modules it imports (cached by source).

    Checking copies of the package (the checker's own tests) re-parses only what changed.
    """
    all_ranks = dict(ranks)
    room = room_of(module)
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    skip = _type_checking_nodes(tree)
    runtime = tuple(target for _line, target in _imports(tree, module, is_package, skip))
    for line, what in _private_names(tree, module, is_package):
        found.append((line, f"imports the private name {what}"))
    for line, target in _imports(tree, module, is_package):
        top = target.split(".")[0]
        if target.startswith("itsm_core.") or target == "itsm_core":
            other = room_of(target)
            if not other or other not in all_ranks:
                continue
            if other == "cli" and room != "cli" and room != "__main__":
                found.append((line, f"core module imports {target}"))
            elif all_ranks[other] > rank:
                found.append(
                    (
                        line,
                        f"room {room or 'itsm_core'!r} (rank {rank}) "
                        f"imports higher room {other!r} (rank {all_ranks[other]})",
                    )
                )
        elif room not in IO_FREE_EXEMPT and top in BANNED_MODULES:
            found.append((line, f"core module imports I/O module {top!r}"))
    if room not in IO_FREE_EXEMPT:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in BANNED_ATTRIBUTES
            ):
                found.append((node.lineno, f"core module reads the clock (.{node.func.attr}())"))
    return tuple(found), runtime


def check_package(package_dir: Path, ranks: dict[str, int] | None = None) -> list[Violation]:
    """Every violation of the boundary rules under ``package_dir`` (``.../itsm_core``).

    ``ranks`` adds rooms to :data:`RANKS` (for tests of the checker itself).
    """
    all_ranks = {**RANKS, **(ranks or {})}
    frozen_ranks = tuple(sorted(all_ranks.items()))
    violations: list[Violation] = []
    paths = sorted(package_dir.rglob("*.py"))
    modules = {
        _module_name(package_dir, path): str(path.relative_to(package_dir.parent)) for path in paths
    }
    graph: dict[str, set[str]] = {}
    for path in paths:
        module = _module_name(package_dir, path)
        room = room_of(module)
        shown = modules[module]
        if room and room not in all_ranks:
            violations.append(Violation(shown, 1, f"room {room!r} has no rank in RANKS"))
            continue
        rank = all_ranks[room] if room else PACKAGE_ROOT_RANK
        found, imported = _check_file(
            module,
            path.read_text(encoding="utf-8"),
            path.name == "__init__.py",
            rank,
            frozen_ranks,
        )
        violations += [Violation(shown, line, message) for line, message in found]
        for target in imported:
            if room and room_of(target) == room and target != module and target in modules:
                graph.setdefault(module, set()).add(target)
    for cycle in _cycles(graph):
        first = cycle[0]
        violations.append(
            Violation(
                modules[first],
                1,
                f"import cycle inside room {room_of(first)!r}: {' -> '.join(cycle)}",
            )
        )
    return violations
