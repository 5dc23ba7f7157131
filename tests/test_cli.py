"""The ``itsm-core`` command: the demo, diagrams, and clear errors instead of tracebacks."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from itsm_core.cli import demo_desk, main, simulate_week
from itsm_core.cli.demo import demo_document
from itsm_core.sla import evaluate

PYTHON = sys.executable


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "itsm_core", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_demo_prints_timelines_escalations_compliance_and_the_credit() -> None:
    done = run_cli("demo")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "100 kiosks supported 8x5 in Europe/Moscow" in out
    assert "K-001" in out
    assert "first_response" in out
    assert "resolution" in out
    assert "escalation" in out
    assert "Compliance (cycles met / breached):" in out
    assert "Service credit for 2026-03" in out
    assert done.stderr == ""


def test_the_demo_is_reproducible_and_its_seed_changes_the_week() -> None:
    first, second, other = io.StringIO(), io.StringIO(), io.StringIO()
    assert main(["demo", "--tickets", "5"], out=first) == 0
    assert main(["demo", "--tickets", "5"], out=second) == 0
    assert main(["demo", "--tickets", "5", "--seed", "8"], out=other) == 0
    assert first.getvalue() == second.getvalue()
    assert first.getvalue() != other.getvalue()


def test_the_demo_week_replays_to_the_same_tickets_and_clocks() -> None:
    tickets, end = simulate_week(8, seed=3)
    desk = demo_desk()
    for item in tickets:
        assert desk.lifecycles().replay(list(item.history)) == item.ticket
        policy = desk.policy_for(item.ticket)
        assert policy is not None
        assert evaluate(item.history, policy, end) == evaluate(list(item.history), policy, end)


def test_the_demo_host_wakes_only_when_told_and_leaves_nothing_due() -> None:
    tickets, end = simulate_week(6, seed=5)
    desk = demo_desk()
    for item in tickets:
        assert desk.due(item.history, end) == ()
        wake = desk.next_wakeup(item.history, end)
        assert wake is None or wake > end


def test_the_packaged_desk_is_the_documented_example_desk() -> None:
    example = Path(__file__).parent.parent / "docs" / "examples" / "desk.toml"
    assert demo_document() == example.read_text(encoding="utf-8")
    assert demo_desk().name == "Kiosk support"


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_lifecycle_diagrams_are_printed(fmt: str) -> None:
    out = io.StringIO()
    assert main(["lifecycle", "incident", "--format", fmt], out=out) == 0
    text = out.getvalue()
    assert ("stateDiagram-v2" in text) if fmt == "mermaid" else text.startswith("digraph")
    assert "resolved" in text


def test_the_entry_point_runs_as_a_module() -> None:
    done = run_cli("lifecycle", "problem", "--format", "mermaid")
    assert done.returncode == 0
    assert "known_error" in done.stdout


def test_an_unknown_lifecycle_is_refused_without_a_traceback() -> None:
    done = run_cli("lifecycle", "spaceship")
    assert done.returncode == 2
    assert "type: expected a ticket type" in done.stderr
    assert "'spaceship'" in done.stderr
    assert "Traceback" not in done.stderr


def test_version_is_printed() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("itsm-core ")
