"""The benchmark runner times, compares and reports; it asserts no timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import available, main
from bench._runner import BenchReport, Figure, measure, write_json


def test_measure_reports_per_operation_figures_over_rounds() -> None:
    calls: list[int] = []
    figure = measure(lambda: calls.append(1), ops=10, rounds=3, warmup=2)
    assert len(calls) == 5
    assert figure.rounds == 3
    assert figure.ops == 10
    assert 0 <= figure.min_us <= figure.median_us <= figure.max_us


def test_a_report_records_ratios_and_writes_json(tmp_path: Path) -> None:
    report = BenchReport("toy")
    report.figures["ours"] = Figure(median_us=2.0, min_us=1.0, max_us=3.0, rounds=3, ops=1)
    report.figures["peer"] = Figure(median_us=200.0, min_us=190.0, max_us=210.0, rounds=3, ops=1)
    report.values["tickets_per_second"] = 1234.5
    report.notes.append("peer agrees on every input")
    assert report.ratio("peer/ours", "peer", "ours") == 100.0
    table = report.table()
    assert "== toy ==" in table
    assert "peer/ours" in table
    assert "100.0x" in table
    assert "note: peer agrees on every input" in table
    write_json(report, tmp_path / "out" / "toy.json")
    data = json.loads((tmp_path / "out" / "toy.json").read_text())
    assert data["name"] == "toy"
    assert data["ratios"] == {"peer/ours": 100.0}
    assert data["figures"]["ours"]["median_us"] == 2.0
    assert data["figures"]["tickets_per_second"] == 1234.5


def test_an_unknown_benchmark_is_refused_with_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["no-such-benchmark"])
    assert "unknown benchmark 'no-such-benchmark'" in capsys.readouterr().err


def test_benchmark_modules_are_discovered_by_name() -> None:
    assert all(name.isidentifier() for name in available())
