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

# What each peer's documentation says, per preset behaviour and option (ServiceNow, Jira
# Service Management, Zammad, GLPI, Request Tracker); "not documented" where the pages
# consulted (listed under the table in the guide) do not settle it.
PEERS: dict[str, tuple[str, str, str, str, str]] = {
    "first_response: starts": (
        "the definition's start condition",
        "the SLA's start condition",
        "ticket creation",
        "not documented",
        "`Starts`: the first business minute after creation by default",
    ),
    "first_response: pauses": (
        "the definition's pause condition",
        "the SLA's pause condition",
        "pending states count no time",
        "not documented",
        "`IgnoreOnStatuses` with `ExcludeTimeOnIgnoredStatuses`",
    ),
    "first_response: resolving counts as a response": (
        "the definition's stop condition",
        "the SLA's stop condition",
        "not documented",
        "TTO ends at assignment to a group or user",
        "closing unsets the `Response` due date",
    ),
    "next_response: a new cycle at each requester message": (
        "a reset condition",
        "not documented",
        "Update Time: each following response",
        "not documented",
        "`Response` is set again when the requestor replies after a worker",
    ),
    "resolution: pauses": (
        "the definition's pause condition",
        "the SLA's pause condition (e.g. waiting for the customer)",
        "pending states count no time",
        "Pending: TTR moves by the time on hold",
        "`IgnoreOnStatuses` with `ExcludeTimeOnIgnoredStatuses`",
    ),
    "resolution: a reopening starts a new cycle": (
        "a new task SLA when the start condition matches again",
        "several cycles per SLA (REST API); the rule is not documented",
        "not documented",
        "not documented",
        "not documented",
    ),
    "priority change": (
        "cancelled when the start condition stops matching; retroactive start",
        "the goal whose JQL matches; recalculation not documented",
        "times count from creation even when another SLA applies",
        "SLA assigned by a rule, by hand or by a template",
        "levels are chosen per ticket or queue, not by priority",
    ),
    "priority without a target": (
        "cancelled when the start condition no longer matches",
        "not documented",
        "not documented",
        "not documented",
        "a level without that deadline sets no due date",
    ),
    "start rule": (
        "start condition; retroactive start from a field",
        "the SLA's start condition",
        "ticket creation",
        "not documented",
        "`Starts`: first business minute, or a business or real offset",
    ),
    "deadline hidden while counting": (
        "not documented",
        "not documented",
        "not documented",
        "not documented",
        "`IgnoreOnStatuses` alone",
    ),
    "targets in business days, end of business day": (
        "a duration or a relative duration over a schedule",
        "time goals over calendar hours",
        "business hours of a calendar",
        "hours or days; the last day may be required to be a working day",
        "`BusinessMinutes` or `RealMinutes`",
    ),
    "classified later": (
        "attaches when the start condition matches",
        "not documented",
        "times count from creation even when the SLA applies later",
        "not documented",
        "not documented",
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
