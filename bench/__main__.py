"""``python -m bench NAME [--quick] [--json PATH]``: run a benchmark, print its table, write JSON.

``NAME`` is a benchmark module ``bench/<NAME>_bench.py`` or ``all``. Without
``--json`` the JSON goes to ``bench/results/<NAME>.json``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

import bench
from bench._runner import BenchReport, write_json

SUFFIX = "_bench"


def available() -> list[str]:
    """The names of the benchmark modules."""
    return sorted(
        info.name[: -len(SUFFIX)]
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name.endswith(SUFFIX)
    )


def run_one(name: str, *, quick: bool, json_path: Path | None) -> BenchReport:
    module = importlib.import_module(f"bench.{name}{SUFFIX}")
    report: BenchReport = module.run(quick)
    print(report.table(), flush=True)
    target = json_path or Path(__file__).parent / "results" / f"{name}.json"
    write_json(report, target)
    print(f"wrote {target}", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", help=f"one of: all, {', '.join(available())}")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer rounds")
    parser.add_argument("--json", type=Path, help="where to write the JSON report")
    args = parser.parse_args(argv)
    names = available() if args.name == "all" else [args.name]
    unknown = [n for n in names if n not in available()]
    if unknown:
        parser.error(
            f"unknown benchmark {unknown[0]!r}; choose from: all, {', '.join(available())}"
        )
    for name in names:
        path = args.json
        if path is not None and len(names) > 1:
            path = path.with_name(f"{path.stem}-{name}{path.suffix}")
        run_one(name, quick=args.quick, json_path=path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
