"""``itsm-core stats``: one figure at a time from an export of events and a desk document."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from pathlib import Path

import pytest

from itsm_core.cli import main
from itsm_core.lifecycle import Lifecycle, incident
from itsm_core.serialization import encode_event
from itsm_core.ticket import (
    AddComment,
    AnswerSurvey,
    Assign,
    Event,
    OpenTicket,
    Reassign,
    RequestSurvey,
    Transition,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
M = timedelta(minutes=1)
DESK = """
schema_version = 1
calendar = "office"

[calendars.office]
timezone = "UTC"
weekly = { mon = ["09:00-17:00"], tue = ["09:00-17:00"], wed = ["09:00-17:00"], \
thu = ["09:00-17:00"], fri = ["09:00-17:00"] }
"""


def history(
    n: int, agent: str, resolve: int | None, rating: int | None, to: str = ""
) -> list[Event]:
    lifecycle = Lifecycle(incident())
    at = T0 + n * timedelta(days=1)
    ticket, opened = lifecycle.open(
        OpenTicket(ticket_id=f"I-{n}", type="incident", title="t", requester="req"),
        actor="req",
        at=at,
    )
    events = list(opened)
    steps = [
        (0, Assign(assignee=agent, group="desk", support_line=1), "op"),
        (10, AddComment(body="on it"), agent),
        (10, Transition(trigger="start"), agent),
    ]
    if to:
        steps.append((10, Reassign(assignee=to, group="network", support_line=2), agent))
    if resolve is not None:
        steps.append((resolve, Transition(trigger="resolve", resolution_code="fixed"), agent))
        steps.append((resolve, RequestSurvey(), "qc"))
        if rating is not None:
            steps.append((resolve + 1, AnswerSurvey(rating=rating), "req"))
    for minutes, command, actor in steps:
        ticket, new = lifecycle.apply(ticket, command, actor=actor, at=at + minutes * M)
        events.extend(new)
    return events


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    events = [
        *history(0, "ann", 30, 5),
        *history(1, "ann", 90, 2),
        *history(2, "bob", 60, None, to="cid"),
        *history(3, "bob", None, None),
    ]
    export = tmp_path / "events.jsonl"
    export.write_text("".join(json.dumps(encode_event(e)) + "\n" for e in events))
    desk = tmp_path / "desk.toml"
    desk.write_text(DESK)
    return str(export), str(desk)


def stats(files: tuple[str, str], *options: str) -> list[dict[str, object]]:
    out = io.StringIO()
    assert main(["stats", files[0], "--config", files[1], "--format", "json", *options], out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_resolution_times_per_agent_are_printed_with_their_quantiles(
    files: tuple[str, str],
) -> None:
    rows = stats(files, "--metric", "resolution", "--by", "agent")
    assert rows == [
        {
            "period": "2026-03",
            "agent": "ann",
            "count": 2,
            "median": "30m",
            "mean": "1h",
            "p90": "1h30m",
            "total": "2h",
        },
        {
            "period": "2026-03",
            "agent": "cid",
            "count": 1,
            "median": "1h",
            "mean": "1h",
            "p90": "1h",
            "total": "1h",
        },
    ]


def test_counts_csat_fcr_arrivals_and_the_backlog_answer_one_question_each(
    files: tuple[str, str],
) -> None:
    assert stats(files, "--metric", "reassigned_away", "--by", "group") == [
        {"period": "2026-03", "group": "desk", "reassigned_away": 1}
    ]
    csat = stats(files, "--metric", "csat")
    assert csat[0]["requested"] == 3
    assert (csat[0]["answered"], csat[0]["satisfied"], csat[0]["csat"]) == (2, 1, "50.0")
    assert stats(files, "--metric", "csat", "--threshold", "2")[0]["csat"] == "100.0"
    fcr = stats(files, "--metric", "fcr", "--fcr-within", "1h")
    assert (fcr[0]["resolved"], fcr[0]["first_contact"], fcr[0]["rate"]) == (3, 1, "33.3")
    assert stats(files, "--metric", "arrivals", "--axis", "weekday") == [
        {"all": "", "weekday": d, "arrived": 1} for d in ("Mon", "Tue", "Wed", "Thu")
    ]
    backlog = stats(files, "--metric", "backlog", "--now", "2026-03-05T12:00:00+00:00")
    assert backlog == [
        {"all": "", "<1d": 1, "1d-3d": 0, "3d-7d": 0, "7d-30d": 0, ">=30d": 0, "open": 1}
    ]


def test_the_table_and_csv_formats_show_the_same_rows(files: tuple[str, str]) -> None:
    table, sheet = io.StringIO(), io.StringIO()
    base = ["stats", files[0], "--config", files[1], "--metric", "resolved", "--by", "agent"]
    assert main([*base], table) == 0
    assert main([*base, "--format", "csv"], sheet) == 0
    assert table.getvalue().splitlines() == [
        "period   agent  resolved",
        "2026-03  ann    2",
        "2026-03  cid    1",
    ]
    assert sheet.getvalue().splitlines() == [
        "period,agent,resolved",
        "2026-03,ann,2",
        "2026-03,cid,1",
    ]
    empty = io.StringIO()
    assert main([*base, "--metric", "on_hold"], empty) == 0
    assert empty.getvalue() == "no on_hold figures in 4 tickets\n"


def test_bad_options_and_a_desk_without_a_calendar_are_one_line_errors(
    files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["stats", files[0], "--config", files[1]]
    assert main([*base, "--metric", "csat", "--threshold", "9"]) == 2
    assert "--threshold: expected a point from 1 to 5, got 9" in capsys.readouterr().err
    assert main([*base, "--metric", "fcr", "--fcr-within", "soon"]) == 2
    assert "itsm-core:" in capsys.readouterr().err
    bare = tmp_path / "bare.toml"
    bare.write_text("schema_version = 1\n")
    assert main(["stats", files[0], "--config", str(bare)]) == 2
    assert "calendar: expected the desk's calendar" in capsys.readouterr().err


def test_events_in_any_order_give_the_same_figures_and_bad_lines_are_counted(
    files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Tickets interleaved line by line (each one's events still in order), and a bad line.
    by_ticket: dict[str, list[str]] = {}
    for line in Path(files[0]).read_text().splitlines(keepends=True):
        by_ticket.setdefault(json.loads(line)["ticket_id"], []).append(line)
    mixed = [line for rank in zip_longest(*by_ticket.values()) for line in rank if line]
    assert sorted(mixed) == sorted(Path(files[0]).read_text().splitlines(keepends=True))
    export = tmp_path / "mixed.jsonl"
    export.write_text("".join(mixed[:3]) + '{"event": "nothing"}\n' + "".join(mixed[3:]))
    for metric in ("resolution", "csat", "fcr", "handled"):
        out = io.StringIO()
        args = ["stats", str(export), "--config", files[1], "--format", "json", "--skip-bad"]
        assert main([*args, "--metric", metric], out) == 0
        assert [json.loads(row) for row in out.getvalue().splitlines()] == stats(
            files, "--metric", metric
        )
        assert "mixed.jsonl: skipped 1 bad line(s), the first at line 4" in capsys.readouterr().err
    assert main(["stats", str(export), "--config", files[1]], io.StringIO()) == 2
    assert "mixed.jsonl:4:" in capsys.readouterr().err


def test_a_ticket_refused_or_with_a_bad_fact_is_named(
    files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = Path(files[0]).read_text().splitlines(keepends=True)
    export = tmp_path / "events.jsonl"
    export.write_text("".join(lines[1:]))  # I-0 without its opening
    out = io.StringIO()
    assert main(["stats", str(export), "--config", files[1], "--format", "json"], out) == 0
    err = capsys.readouterr().err
    assert "left out of the figures: ticket I-0: events[0]: expected a TicketOpened" in err
    assert [json.loads(row)["count"] for row in out.getvalue().splitlines()] == [2]
    rated = [json.loads(line) for line in lines]
    for data in rated:
        if data["event"] == "survey_answered" and data["ticket_id"] == "I-1":
            data["rating"] = 9
    export.write_text("".join(json.dumps(data) + "\n" for data in rated))
    assert main(["stats", str(export), "--config", files[1], "--metric", "csat"]) == 2
    err = capsys.readouterr().err
    assert "ticket I-1: events[" in err
    assert "].rating: expected a point of scale 'five_point' from 1 to 5, got 9" in err
