"""``itsm-core report`` ends with satisfaction, first-contact resolution and workload sections."""

from __future__ import annotations

import html
import importlib.util
import io
import json
import random
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.calendar import CalendarLike
from itsm_core.cli import main
from itsm_core.cli._common import InputError, group_by_ticket, read_desk, read_events
from itsm_core.cli.html import CHARTS, render_html
from itsm_core.cli.report import AnalyticsFold, analytics_json
from itsm_core.metrics import Compliance, FcrDefinition, RatingScale, Stats
from itsm_core.serialization import decode_event
from itsm_core.ticket import Event

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
DESK = str(EXAMPLES / "desk.toml")
EVENTS = str(EXAMPLES / "events.jsonl")
NOW = "2026-03-14T00:00+03:00"

# The example week has three resolved tickets: K-005 and K-006 resolved by dana (first
# line, never moved: first-contact resolutions), K-004 resolved after its escalation to
# ari (reassigned: not one). Surveys go out for all three; K-005 answers 5 (satisfied),
# K-006 answers 2, K-004 never answers: 1 satisfied of 2 answers, 2 answers of 3 surveys.
SURVEYS = [
    {"event": "survey_requested", "ticket_id": t, "actor": "quality", "at": at}
    for t, at in (
        ("K-004", "2026-03-12T16:30:00+03:00"),
        ("K-005", "2026-03-10T16:50:00+03:00"),
        ("K-006", "2026-03-12T16:45:00+03:00"),
    )
] + [
    {"event": "survey_answered", "ticket_id": t, "actor": "r", "at": at, "rating": rating}
    for t, at, rating in (
        ("K-005", "2026-03-10T17:30:00+03:00", 5),
        ("K-006", "2026-03-12T17:30:00+03:00", 2),
    )
]


def run(*args: str) -> tuple[int, str, str]:
    out, err, old = io.StringIO(), io.StringIO(), sys.stderr
    sys.stderr = err
    try:
        code = main(list(args), out=out)
    finally:
        sys.stderr = old
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("surveys") / "events.jsonl"
    lines = Path(EVENTS).read_text().splitlines()
    path.write_text("\n".join([*lines, *(json.dumps(s) for s in SURVEYS)]) + "\n")
    return str(path)


def _histories(path: str) -> list[list[Event]]:
    events = read_events(path, fmt="jsonl", columns={}, skip_bad=False, counts={})
    return [sorted(h, key=_at) for h in group_by_ticket(sorted(events, key=_tid))]


def _tid(event: Event) -> str:
    return event.ticket_id


def _calendar() -> CalendarLike:
    calendar = read_desk(DESK).default_calendar
    assert calendar is not None
    return calendar


def test_the_json_summary_line_keeps_its_keys_and_adds_the_three_sections(
    surveyed: str,
) -> None:
    code, out, _ = run("report", surveyed, "--config", DESK, "--now", NOW, "--format", "json")
    assert code == 0
    last = json.loads(out.splitlines()[-1])
    assert last["summary"]["tickets"] == 6
    assert last["summary"]["resolution_met"] == 2
    assert last["rows"]["total"] == 10
    survey = last["satisfaction"]
    assert (survey["requested"], survey["answered"], survey["satisfied"]) == (3, 2, 1)
    assert survey["csat"] == 50.0
    assert survey["response_rate"] == pytest.approx(200 / 3)
    assert (survey["scale"], survey["satisfied_from"]) == ("five_point", 4)
    fcr = last["first_contact"]
    assert (fcr["resolved"], fcr["first_contact"]) == (3, 2)
    assert fcr["rate"] == pytest.approx(200 / 3)
    assert fcr["definition"]["terms"] == [
        "resolved by support line 1",
        "without reassignment",
        "never reopened",
    ]
    assert fcr["definition"]["within_seconds"] is None
    agents = last["workload"]["agent"]
    assert sorted(agents) == ["ari", "dana"]
    # dana: first assigned all six, resolved K-005 (7h43m) and K-006 (7h39m): the
    # nearest-rank median of two is the lower one.
    assert agents["dana"]["handled"] == 6
    assert agents["dana"]["resolved"] == 2
    assert agents["dana"]["reopened"] == 0
    assert agents["dana"]["median_resolution_seconds"] == 7 * 3600 + 39 * 60
    assert agents["dana"]["median_resolution"] == "7h39m"
    assert (agents["ari"]["handled"], agents["ari"]["resolved"]) == (2, 1)
    assert last["workload"]["group"]["help-desk"] == agents["dana"]
    assert last["workload"]["group"]["admins"] == agents["ari"]


def test_the_workload_figures_are_those_of_the_statistics_over_the_same_histories(
    surveyed: str,
) -> None:
    code, out, _ = run("report", surveyed, "--config", DESK, "--now", NOW, "--format", "json")
    assert code == 0
    workload = json.loads(out.splitlines()[-1])["workload"]
    stats = Stats.of(_histories(surveyed), calendar=_calendar())
    for by in ("agent", "group"):
        for value in stats.values(by):
            tally = stats.tally(by, value)
            median = tally.median("resolution")
            assert workload[by][value]["handled"] == tally.handled
            assert workload[by][value]["resolved"] == tally.resolved
            assert workload[by][value]["reopened"] == tally.reopened
            assert workload[by][value]["median_resolution_seconds"] == (
                None if median is None else median.total_seconds()
            )


def test_the_table_report_prints_the_sections_after_the_compliance_table(surveyed: str) -> None:
    pytest.importorskip("rich")
    code, out, _ = run("report", surveyed, "--config", DESK, "--now", NOW)
    assert code == 0
    assert out.index("compliance (cycles met / breached)") < out.index("satisfaction (scale")
    assert "satisfaction (scale five_point, satisfied from 4)" in out
    assert "│       3 │        2 │         1 │ 50.0% │         66.7% │" in out
    first_contact = "resolved by support line 1, without reassignment, never reopened"
    assert f"first-contact resolution: {first_contact}" in out
    assert "│        3 │             2 │ 66.7% │" in out
    assert "│ dana  │       6 │        2 │        0 │             7h39m │" in out
    assert "│ help-desk │       6 │        2 │        0 │             7h39m │" in out


def test_without_rich_the_sections_are_plain_text(
    surveyed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("rich", "rich.console", "rich.progress", "rich.table"):
        monkeypatch.setitem(sys.modules, name, None)
    code, out, _ = run("report", surveyed, "--config", DESK, "--now", NOW)
    assert code == 0
    lines = out.splitlines()
    assert "satisfaction (scale five_point, satisfied from 4):" in lines
    assert "  surveys  answered  satisfied   CSAT  response rate" in lines
    assert "        3         2          1  50.0%          66.7%" in lines
    assert "workload per agent:" in lines
    assert "  agent  handled  resolved  reopened  median resolution" in lines
    assert "  dana         6         2         0              7h39m" in lines


def test_tickets_without_survey_answers_say_so_instead_of_dividing_by_zero() -> None:
    code, out, _ = run("report", EVENTS, "--config", DESK, "--now", NOW)
    assert code == 0
    assert "satisfaction: no survey answers (0 requested): CSAT n/a" in out
    code, out, _ = run("report", EVENTS, "--config", DESK, "--now", NOW, "--format", "json")
    assert code == 0
    survey = json.loads(out.splitlines()[-1])["satisfaction"]
    assert (survey["requested"], survey["answered"]) == (0, 0)
    assert survey["csat"] is None
    assert survey["response_rate"] is None


def test_a_report_where_nothing_was_resolved_or_assigned_says_so(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    opened = Path(EVENTS).read_text().splitlines()[0]  # K-001 opened, nothing else
    path.write_text(opened + "\n")
    code, out, _ = run("report", str(path), "--config", DESK, "--now", NOW)
    assert code == 0
    assert "no resolved ticket: rate n/a" in out
    assert "workload per agent: no ticket assigned to one" in out
    assert "workload per group: no ticket assigned to one" in out


def test_the_html_page_states_csat_and_first_contact_resolution(surveyed: str) -> None:
    pytest.importorskip("matplotlib")
    code, out, _ = run("report", surveyed, "--config", DESK, "--now", NOW, "--format", "html")
    assert code == 0
    assert "Satisfaction: CSAT 50.0 % of 2 answers, response rate 66.7 % of 3 surveys." in out
    assert "First-contact resolution: 66.7 % (2 of 3 resolved)." in out
    assert '<figure id="csat-by-group">' in out
    by_agent = out.split('<figure id="resolved-by-agent">')[1]
    assert ">dana<" in by_agent
    assert ">ari<" in by_agent
    csat_chart = out.split('<figure id="csat-by-group">')[1].split("</figure>")[0]
    assert ">help-desk<" in csat_chart


def test_the_html_page_without_answers_or_resolutions_says_so(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "events.jsonl"
    # K-001 opened and assigned to dana, nothing else: handled, but no bar to draw.
    path.write_text("\n".join(Path(EVENTS).read_text().splitlines()[:3]) + "\n")
    code, out, _ = run("report", str(path), "--config", DESK, "--now", NOW, "--format", "html")
    assert code == 0
    assert "Satisfaction: no survey answers (0 requested)." in out
    assert "First-contact resolution: no resolved ticket." in out
    assert ">dana<" not in out.split('<figure id="resolved-by-agent">')[1]


def test_an_html_page_drawn_without_analytics_keeps_every_chart_and_states_no_figures() -> None:
    pytest.importorskip("matplotlib")
    page = render_html([], Compliance(), title="t", now=datetime(2026, 3, 14, tzinfo=UTC))
    for chart_id, _ in CHARTS:
        assert f'<figure id="{chart_id}">' in page
    assert "Satisfaction:" not in page
    assert "First-contact resolution:" not in page


def _surveyed_histories() -> list[list[Event]]:
    events = [decode_event(json.loads(line)) for line in Path(EVENTS).read_text().splitlines()]
    events += [decode_event(survey) for survey in SURVEYS]
    return [sorted(h, key=_at) for h in group_by_ticket(sorted(events, key=_tid))]


def _at(event: Event) -> datetime:
    return event.at


SURVEYED = _surveyed_histories()


def _folded(histories: Sequence[Sequence[Event]], chunk: int) -> dict[str, Any]:
    fold = AnalyticsFold(_calendar(), chunk=chunk)
    for history in histories:
        fold.add(history)
    return analytics_json(fold.result())


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(min_value=1, max_value=8), seed=st.randoms(use_true_random=False))
def test_folding_in_chunks_of_any_size_in_any_order_equals_one_chunk_of_everything(
    chunk: int, seed: random.Random
) -> None:
    shuffled = list(SURVEYED)
    seed.shuffle(shuffled)
    whole = _folded(SURVEYED, len(SURVEYED))
    assert _folded(shuffled, chunk) == whole
    assert whole["satisfaction"]["answered"] == 2


def test_the_fold_keeps_the_scale_and_definition_it_is_given() -> None:
    definition = FcrDefinition(within=timedelta(hours=8), no_reassignment=False)
    fold = AnalyticsFold(_calendar(), scale=RatingScale.nps(), definition=definition)
    for history in _histories(EVENTS):
        fold.add(history)
    sections = analytics_json(fold.result())
    assert sections["satisfaction"]["scale"] == "nps"
    fcr = sections["first_contact"]
    assert fcr["definition"]["terms"] == [
        "resolved by support line 1",
        "never reopened",
        "within 8h business time of opening",
    ]
    assert fcr["definition"]["within_seconds"] == 8 * 3600


def test_a_definition_with_no_condition_counts_every_resolved_ticket() -> None:
    definition = FcrDefinition(first_line=False, no_reassignment=False, no_reopen=False)
    fold = AnalyticsFold(_calendar(), definition=definition)
    for history in _histories(EVENTS):
        fold.add(history)
    fcr = analytics_json(fold.result())["first_contact"]
    assert fcr["definition"]["terms"] == ["every resolved ticket"]
    assert (fcr["resolved"], fcr["first_contact"]) == (3, 3)


def test_a_chunk_of_no_history_is_refused_naming_it() -> None:
    with pytest.raises(InputError, match="chunk"):
        AnalyticsFold(_calendar(), chunk=0)


def test_a_rating_outside_the_scale_leaves_its_ticket_out_of_the_analytics_named(
    tmp_path: Path,
) -> None:
    # One answer off the five-point scale: the ticket keeps its SLA rows, the analytics
    # count every other ticket and name it with why, in every format; the run succeeds.
    path = tmp_path / "events.jsonl"
    odd = {**SURVEYS[-1], "rating": 9}  # K-006 answers 9
    lines = Path(EVENTS).read_text().splitlines()
    path.write_text("\n".join([*lines, *(json.dumps(s) for s in [*SURVEYS[:-1], odd])]) + "\n")
    reason = "events[7].rating: expected a point of scale 'five_point' from 1 to 5, got 9"
    code, out, _ = run("report", str(path), "--config", DESK, "--now", NOW, "--format", "json")
    assert code == 0
    last = json.loads(out.splitlines()[-1])
    assert last["left_out_of_analytics"] == [{"ticket_id": "K-006", "reason": reason}]
    assert last["summary"]["tickets"] == 6
    rows = [line for line in out.splitlines() if '"ticket_id": "K-006"' in line]
    assert len(rows) == 3  # its SLA rows, as without the odd answer
    survey = last["satisfaction"]
    assert (survey["requested"], survey["answered"], survey["satisfied"]) == (2, 1, 1)
    assert last["workload"]["agent"]["dana"]["resolved"] == 1  # K-005 only
    code, out, _ = run("report", str(path), "--config", DESK, "--now", NOW)
    assert code == 0
    assert f"left out of the analytics: ticket K-006: {reason}" in out
    if importlib.util.find_spec("matplotlib") is not None:
        code, out, _ = run("report", str(path), "--config", DESK, "--now", NOW, "--format", "html")
        assert code == 0
        assert f"Left out of the analytics: ticket K-006: {html.escape(reason)}" in out
    clean = _folded(SURVEYED, 4)
    assert clean["left_out_of_analytics"] == []
