"""The SLA guide's comparison with the peers: its itsm_core column is read from the code."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from itsm_core.sla import (
    ClassifiedStart,
    Metric,
    MissingTarget,
    OnPriorityChange,
    StartAt,
)

GUIDE = Path(__file__).parent.parent / "docs" / "guides" / "sla.md"
H = {"P1": timedelta(hours=1)}

# What each peer documents, per preset behaviour and option (ServiceNow, Jira Service
# Management, Zammad, GLPI, Request Tracker).
PEERS: dict[str, tuple[str, str, str, str, str]] = {
    "first_response: starts": (
        "the definition's start condition",
        "Start: issue created",
        "ticket created",
        "ticket opening date",
        "Created, or `Starts` (`BusinessMinutes`)",
    ),
    "first_response: pauses": (
        "the definition's pause condition",
        "Pause on: conditions",
        "states that ignore escalation",
        "TTO is not suspended",
        "`IgnoreOnStatuses`",
    ),
    "first_response: resolving counts as a response": (
        "the definition's stop condition",
        "Stop: conditions",
        "closing ends the escalation",
        "taking into account ends TTO",
        "resolving ends Response",
    ),
    "next_response: a new cycle at each requester message": (
        "not built in",
        "not built in",
        "update time",
        "not built in",
        "Response after each requester reply",
    ),
    "resolution: pauses": (
        "the definition's pause condition",
        "Pause on: Waiting for customer",
        "pending states",
        "waiting status suspends TTR",
        "`ExcludeTimeOnIgnoredStatuses`",
    ),
    "resolution: a reopening starts a new cycle": (
        "a new task SLA when the start condition matches again",
        "a new cycle when the start condition matches again",
        "one solution time per ticket",
        "TTR kept",
        "Resolve kept",
    ),
    "priority change": (
        "the definition's conditions re-evaluated",
        "goal recalculated",
        "escalation recalculated",
        "SLA assigned by rules",
        "SLA recalculated",
    ),
    "priority without a target": (
        "the SLA is cancelled",
        "no goal, no target",
        "no escalation",
        "no SLA",
        "no due date",
    ),
    "start rule": (
        "start condition, retroactive start",
        "Start: conditions",
        "ticket created",
        "ticket opening date",
        "`Starts`: first business minute or an offset",
    ),
    "deadline hidden while counting": (
        "not built in",
        "not built in",
        "not built in",
        "not built in",
        "`IgnoreOnStatuses` alone",
    ),
    "targets in business days, end of business day": (
        "durations over a schedule",
        "hours over a calendar",
        "hours over a calendar",
        "days, end of working day",
        "business minutes",
    ),
    "classified later": (
        "attaches when the conditions match",
        "starts when the conditions match",
        "at creation",
        "when the SLA is assigned",
        "when the SLA is set",
    ),
}


def _ours() -> dict[str, str]:
    """The library's behaviour per row, read from the presets and Metric's defaults."""
    first, update, resolve = (
        Metric.first_response(H),
        Metric.next_response(H),
        Metric.resolution(H),
    )
    done_stops = any("resolved" in c.category for c in first.stop)
    reopen = any("resolved" in c.from_category for c in resolve.start)
    pause = resolve.pause[0].hold_reason[0] if resolve.pause else "never"
    return {
        "first_response: starts": f"`{first.start[0].event[0]}`",
        "first_response: pauses": "`pause_on=`" if not first.pause else "yes",
        "first_response: resolving counts as a response": (
            f"{'yes' if done_stops else 'no'} (`resolution_counts=`)"
        ),
        "next_response: a new cycle at each requester message": (
            "yes" if update.start[0].by_requester else "no"
        ),
        "resolution: pauses": f"`{pause}` (`pause=`)",
        "resolution: a reopening starts a new cycle": "yes" if reopen else "no",
        "priority change": f"`on_priority_change={OnPriorityChange.RECOMPUTE.value}`"
        if resolve.on_priority_change is OnPriorityChange.RECOMPUTE
        else "keep",
        "priority without a target": f"`on_missing_target={resolve.on_missing_target.value}`",
        "start rule": f"`start_at={resolve.start_at.value}`, `start_offset=`",
        "deadline hidden while counting": "`hide_due_in=`",
        "targets in business days, end of business day": "`5bd`, `eod`, `2bd eod`, `24h wall`",
        "classified later": f"`classified_start={resolve.classified_start.value}`",
    }


def comparison_table() -> str:
    """The markdown table of the guide, built from the code and the peers' rules."""
    ours = _ours()
    lines = [
        "| behaviour | itsm_core (option) | ServiceNow | Jira Service Management | Zammad "
        "| GLPI | Request Tracker |",
        "|---|---|---|---|---|---|---|",
    ]
    for row, peers in PEERS.items():
        lines.append("| " + " | ".join((row, ours[row], *peers)) + " |")
    return "\n".join(lines)


def test_the_guide_compares_every_preset_and_option_with_the_peers_as_the_code_behaves() -> None:
    assert comparison_table() in GUIDE.read_text(encoding="utf-8")


def test_the_comparison_reads_the_defaults_the_code_has() -> None:
    ours = _ours()
    assert ours["priority without a target"].endswith(f"={MissingTarget.KEEP.value}`")
    assert ours["start rule"].startswith(f"`start_at={StartAt.EVENT.value}`")
    assert ours["classified later"] == f"`classified_start={ClassifiedStart.CLASSIFICATION}`"
    assert ours["first_response: resolving counts as a response"].startswith("yes")
