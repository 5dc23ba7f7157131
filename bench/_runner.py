"""The benchmark runner: warm-up, several rounds, medians and spreads, peers in the same run.

A benchmark module ``bench/<name>_bench.py`` defines ``run(quick: bool) -> BenchReport``.
It times its own callables with :func:`measure` (each call of the callable is one
batch of ``ops`` operations) and the peers' on the same inputs, records figures
and the ratios between them, and returns the report; the runner prints it as a
table and writes it as JSON ``{"name": ..., "figures": {...}, "ratios": {...}}``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    """A timed figure: median and spread of the per-operation time over rounds."""

    median_us: float
    min_us: float
    max_us: float
    rounds: int
    ops: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "median_us": self.median_us,
            "min_us": self.min_us,
            "max_us": self.max_us,
            "rounds": self.rounds,
            "ops": self.ops,
        }


@dataclass
class BenchReport:
    """What a benchmark measured: timed figures, other values, ratios and notes."""

    name: str
    figures: dict[str, Figure] = field(default_factory=dict)
    values: dict[str, float | int | str] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def ratio(self, label: str, slower: str, faster: str) -> float:
        """Record how many times ``faster`` beats ``slower`` (by median) under ``label``."""
        value = self.figures[slower].median_us / self.figures[faster].median_us
        self.ratios[label] = value
        return value

    def as_dict(self) -> dict[str, Any]:
        figures: dict[str, Any] = {k: v.as_dict() for k, v in self.figures.items()}
        figures.update(self.values)
        return {"name": self.name, "figures": figures, "ratios": self.ratios, "notes": self.notes}

    def table(self) -> str:
        lines = [f"== {self.name} =="]
        if self.figures:
            width = max(len(k) for k in self.figures)
            lines.append(f"{'figure':<{width}}  {'median µs/op':>13}  {'min':>10}  {'max':>10}")
            for key, fig in self.figures.items():
                lines.append(
                    f"{key:<{width}}  {fig.median_us:>13.3f}  {fig.min_us:>10.3f}  "
                    f"{fig.max_us:>10.3f}"
                )
        for key, value in self.values.items():
            lines.append(f"{key}: {value:,.3f}" if isinstance(value, float) else f"{key}: {value}")
        if self.ratios:
            lines.append("ratios (how many times faster or smaller):")
            width = max(len(k) for k in self.ratios)
            lines += [f"  {k:<{width}}  {v:>10.1f}x" for k, v in self.ratios.items()]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def interleaved(
    fns: Mapping[str, Callable[[], object]],
    rounds: int,
    clock: Callable[[], float] = time.process_time,
) -> dict[str, list[float]]:
    """Seconds of each function per round (``clock``: CPU by default), taking turns round by
    round so that a busy machine slows them alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = clock()
            fn()
            samples[name].append(clock() - start)
    return samples


def measure(fn: Callable[[], object], *, ops: int, rounds: int = 5, warmup: int = 1) -> Figure:
    """Time ``fn`` (one call performs ``ops`` operations): warm-up, then ``rounds`` rounds.

    Returns the median, min and max of the time per operation in microseconds.
    """
    for _ in range(warmup):
        fn()
    per_op: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        fn()
        per_op.append((time.perf_counter_ns() - start) / 1000 / ops)
    return Figure(
        median_us=statistics.median(per_op),
        min_us=min(per_op),
        max_us=max(per_op),
        rounds=rounds,
        ops=ops,
    )


def write_json(report: BenchReport, path: Path) -> None:
    """Write the report as JSON (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
