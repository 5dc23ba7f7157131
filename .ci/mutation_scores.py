"""Mutation score per module, from the results `mutmut run` leaves under mutants/.

Run from the repository root after `make mutate`. A mutant is detected when a
test failed (killed) or ran out of time; the score is detected mutants over
those that were tested or had no test at all. Surviving mutants are listed by
name: `mutmut show NAME` prints the change.

When a module was measured on a sample (``mutmut run NAME...`` with a list of
mutant names, one a line, in a file), ``--names FILE`` scores only those mutants:

    .venv/bin/python .ci/mutation_scores.py --names sample.txt
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

DETECTED = {1, 3, 36, -24, 24, 152, 255}  # failed tests, or a timeout
SURVIVED = {0}
UNTESTED = {5, 33}  # no test reaches the mutated function


def main(root: Path = Path("mutants"), names: frozenset[str] | None = None) -> int:
    metas = sorted(root.rglob("*.py.meta"))
    if not metas:
        print(f"no mutation results under {root}/: run `make mutate` first", file=sys.stderr)
        return 1
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts: Counter[str] = Counter()
        survivors = []
        for name, code in sorted(codes.items()):
            if names is not None and name not in names:
                continue
            if code in DETECTED:
                counts["detected"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
                survivors.append(name)
            elif code in UNTESTED:
                counts["untested"] += 1
                survivors.append(name)
            else:
                counts["not run"] += 1
        judged = counts["detected"] + counts["survived"] + counts["untested"]
        module = meta.relative_to(root).with_suffix("").with_suffix("")
        score = f"{100 * counts['detected'] / judged:.1f} %" if judged else "n/a"
        print(
            f"{module}: {score} ({counts['detected']} of {judged} detected, "
            f"{counts['survived']} survived, {counts['untested']} untested, "
            f"{counts['not run']} not run)"
        )
        for name in survivors:
            print(f"    {name}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--names"] and len(sys.argv) == 3:
        sys.exit(main(names=frozenset(Path(sys.argv[2]).read_text().split())))
    if len(sys.argv) > 1:
        print("usage: mutation_scores.py [--names FILE]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
