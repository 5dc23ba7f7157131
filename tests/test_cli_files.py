"""The file-reading commands: report, timeline, calendar, check, on sample files good and bad."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from itsm_core.cli import _common, main
from itsm_core.cli._common import InputError, sorted_by_ticket

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
DESK = str(EXAMPLES / "desk.toml")
EVENTS = str(EXAMPLES / "events.jsonl")
CSV_EVENTS = str(EXAMPLES / "events.csv")
NOW = "2026-03-14T00:00+03:00"
CSV_MAP = ["--map", "id=ticket_id", "--map", "kind=event", "--map", "time=at"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "itsm_core", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run(*args: str) -> tuple[int, str, str]:
    out = io.StringIO()
    err = io.StringIO()
    old = sys.stderr
    sys.stderr = err
    try:
        code = main(list(args), out=out)
    finally:
        sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def test_check_accepts_the_example_desk() -> None:
    done = cli("check", DESK)
    assert done.returncode == 0
    assert "valid desk Kiosk support" in done.stdout


def test_check_reports_every_problem_with_its_path_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[calendars.office]\ntimezone = "Mars/Olympus"\n\n[[sla.policies]]\nname = "p"\n'
        'calendar = "office"\n[sla.policies.metrics.resolution]\ntargets = { P1 = "eight" }\n'
    )
    done = cli("check", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "calendars.office.timezone" in done.stderr
    assert (
        "sla.policies[0].metrics.resolution.targets.P1: expected a business duration" in done.stderr
    )
    assert done.stderr.count(str(bad)) >= 2


@pytest.mark.parametrize(
    ("content", "message"),
    [("not = [valid", "not a valid TOML document"), ("", "valid desk")],
)
def test_check_reads_toml_and_says_what_is_wrong(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(content)
    code, out, err = run("check", str(path))
    assert message in out + err
    assert code == (0 if message == "valid desk" else 2)


def test_check_reads_json_documents(tmp_path: Path) -> None:
    path = tmp_path / "desk.json"
    path.write_text(json.dumps({"name": "json desk"}))
    assert run("check", str(path))[0] == 0
    path.write_text("{nope")
    code, _, err = run("check", str(path))
    assert code == 2
    assert "not a valid JSON document" in err


def test_a_missing_file_is_one_line_naming_it() -> None:
    done = cli("check", "/no/such/desk.toml")
    assert done.returncode == 1  # unreadable: 1, as docs/cli.md says (invalid is 2)
    assert done.stderr.strip() == "itsm-core: /no/such/desk.toml: No such file or directory"


def test_calendar_answers_what_if_questions() -> None:
    assert cli("calendar", DESK, "--add", "2026-03-06T16:00+03:00", "8h").stdout.strip() == (
        "2026-03-10T17:00:00+03:00"
    )
    elapsed = cli("calendar", DESK, "--elapsed", "2026-03-06T16:00+03:00", "2026-03-11T10:00+03:00")
    assert elapsed.stdout.strip() == "9h"
    # business time in hours, never "1d" (24 business hours are three days of this desk)
    week = ("--elapsed", "2026-03-02T09:00+03:00", "2026-03-11T09:00+03:00")
    assert run("calendar", DESK, *week)[1].strip() == "47h"
    # what an SLA target may say: business days keeping the time, the end of one, wall time
    start = "2026-03-06T15:00+03:00"  # a Friday that closes at 16:00; Monday is a holiday
    for duration, due in [
        ("2bd", "2026-03-11T15:00:00+03:00"),
        ("eod", "2026-03-06T16:00:00+03:00"),
        ("1bd eod", "2026-03-10T17:00:00+03:00"),
        ("24h wall", "2026-03-07T15:00:00+03:00"),
    ]:
        assert run("calendar", DESK, "--add", start, duration)[1].strip() == due
    assert run("calendar", DESK, "--is-open", "2026-03-10T10:00+03:00")[1].strip() == "open"
    assert (
        run("calendar", DESK, "--calendar", "vendor", "--is-open", "2026-03-10T09:30+03:00")[
            1
        ].strip()
        == "closed"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--is-open", "2026-03-10T10:00"],
            "--is-open: expected an ISO 8601 instant with an offset",
        ),
        (["--is-open", "tomorrow"], "got 'tomorrow'"),
        (
            ["--add", "2026-03-10T10:00+03:00", "eight"],
            "--add DURATION: expected a business duration such as",
        ),
        (["--add", "2026-03-10T10:00+03:00", "1d"], "expected no days in a business duration"),
        (["--add", "9997-12-31T10:00+03:00", "30d wall"], "--add: expected an answer within"),
        (
            ["--calendar", "moon", "--is-open", "2026-03-10T10:00+03:00"],
            "expected a calendar of the desk (support, vendor), got 'moon'",
        ),
    ],
)
def test_calendar_refuses_bad_input_with_one_clear_line(args: list[str], message: str) -> None:
    code, _, err = run("calendar", DESK, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_report_prints_a_table_with_compliance() -> None:
    done = cli("report", EVENTS, "--config", DESK, "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("ticket")
    assert "K-004        resolution          1 breached" in done.stdout
    assert "6 tickets" in done.stdout
    assert "compliance" in done.stdout


def test_report_as_json_lines_ends_with_a_summary() -> None:
    code, out, _ = run("report", EVENTS, "--config", DESK, "--now", NOW, "--format", "json")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["summary"]["tickets"] == 6
    assert {row["metric"] for row in lines[:-1]} == {"first_response", "resolution"}


def test_report_reads_csv_with_mapped_columns_and_agrees_with_json_lines() -> None:
    code, out, err = run(
        "report", CSV_EVENTS, "--config", DESK, "--now", NOW, *CSV_MAP, "--format", "csv"
    )
    assert code == 0, err
    _, from_json, _ = run("report", EVENTS, "--config", DESK, "--now", NOW, "--format", "csv")
    assert out.splitlines()[0].startswith("ticket_id,policy,metric,cycle,cycles,verdict")
    csv_rows = {tuple(line.split(",")[:4]) for line in out.splitlines()[1:]}
    json_rows = {tuple(line.split(",")[:4]) for line in from_json.splitlines()[1:]}
    assert csv_rows == json_rows


def test_a_malformed_line_stops_the_report_naming_file_line_and_field(tmp_path: Path) -> None:
    lines = Path(EVENTS).read_text().splitlines()
    lines.insert(
        3,
        '{"event": "comment_added", "ticket_id": "K-001", "actor": "dana", "at": "yesterday", '
        '"body": "hi", "public": true, "by_requester": false}',
    )
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    done = cli("report", str(path), "--config", DESK, "--now", NOW)
    assert done.returncode == 2
    assert f"{path}:4: at: expected an ISO 8601" in done.stderr
    assert "Traceback" not in done.stderr


def test_skip_bad_counts_and_reports_what_it_skipped(tmp_path: Path) -> None:
    lines = Path(EVENTS).read_text().splitlines()
    lines.insert(5, "this is not json")
    lines.insert(9, "[1, 2]")
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n\n")
    code, out, err = run("report", str(path), "--config", DESK, "--now", NOW, "--skip-bad")
    assert code == 0
    assert "skipped 2 bad line(s), the first at line 6" in err
    assert "6 tickets" in out


def test_tickets_in_any_order_give_the_same_rows_as_grouped_input(tmp_path: Path) -> None:
    lines = Path(EVENTS).read_text().splitlines()
    # Interleave the tickets: every other line from the back half first.
    mixed = [line for pair in zip(lines[::2], lines[1::2], strict=False) for line in pair[::-1]]
    mixed += lines[len(mixed) :]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(reversed(mixed)) + "\n")
    grouped = run("report", EVENTS, "--config", DESK, "--now", NOW, "--format", "csv")
    for chunk in ("1", "3", "1000"):
        shuffled = run(
            "report",
            str(path),
            "--config",
            DESK,
            "--now",
            NOW,
            "--format",
            "csv",
            "--sort-chunk",
            chunk,
        )
        assert shuffled == grouped


def test_a_history_the_desk_refuses_is_a_row_saying_why(tmp_path: Path) -> None:
    lines = Path(EVENTS).read_text().splitlines()
    opened = json.loads(lines[0])
    opened["ticket_id"] = "K-100"
    refused = json.loads(lines[2])  # a state change of a ticket never opened
    refused["ticket_id"] = "K-101"
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([*lines, json.dumps(refused), json.dumps(opened)]) + "\n")
    code, out, _ = run("report", str(path), "--config", DESK, "--now", NOW, "--format", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    (k101,) = [row for row in rows[:-1] if row["ticket_id"] == "K-101"]
    assert k101["verdict"].startswith("history refused: ")
    assert k101["cycle"] == 0
    assert rows[-1]["summary"]["tickets"] == 8
    assert rows[-1]["rows"]["by_verdict"]["-: history refused"] == 1


def _desk_with(tmp_path: Path, policy: str) -> str:
    desk = tmp_path / "desk.toml"
    desk.write_text(
        '[calendars.office]\ntimezone = "Europe/Moscow"\n[calendars.office.weekly]\n'
        'mon = ["09:00-17:00"]\ntue = ["09:00-17:00"]\nwed = ["09:00-17:00"]\n'
        'thu = ["09:00-17:00"]\nfri = ["09:00-17:00"]\n' + policy
    )
    return str(desk)


def test_a_ticket_no_policy_applies_to_is_a_row_with_that_verdict(tmp_path: Path) -> None:
    desk = _desk_with(
        tmp_path,
        '[[sla.policies]]\nname = "problems only"\ncalendar = "office"\n'
        'applies_to = { types = ["problem"] }\n'
        '[sla.policies.metrics.resolution]\ntargets = { P1 = "8h" }\n',
    )
    code, out, _ = run("report", EVENTS, "--config", desk, "--now", NOW, "--format", "csv")
    assert code == 0
    rows = out.splitlines()[1:]
    assert len(rows) == 6
    assert all(",no policy applies," in row for row in rows)
    assert "no SLA policy of the desk applies" in rows[0]
    code, table, _ = run("report", EVENTS, "--config", desk, "--now", NOW)
    assert "K-004        -                   - no policy applies" in table
    assert "-: no policy applies 6" in " ".join(table.split())


def test_a_metric_without_a_target_for_the_priority_is_a_row_with_that_verdict(
    tmp_path: Path,
) -> None:
    desk = _desk_with(
        tmp_path,
        '[[sla.policies]]\nname = "P1 only"\ncalendar = "office"\n'
        '[sla.policies.metrics.resolution]\ntargets = { P1 = "8h" }\n',
    )
    code, out, _ = run("report", EVENTS, "--config", desk, "--now", NOW, "--format", "json")
    assert code == 0
    rows = {row["ticket_id"]: row for row in map(json.loads, out.splitlines()[:-1])}
    assert set(rows) == {f"K-00{n}" for n in range(1, 7)}
    assert rows["K-001"]["verdict"] in {"running", "met", "breached"}
    assert rows["K-003"]["verdict"] == "no target for this priority"
    assert rows["K-003"]["note"] == "no resolution target for priority P3"


def test_rows_and_summary_count_every_cycle_with_its_number() -> None:
    code, out, _ = run("report", EVENTS, "--config", DESK, "--now", NOW, "--format", "json")
    assert code == 0
    *rows, last = (json.loads(line) for line in out.splitlines())
    assert last["rows"]["total"] == len(rows)
    for metric in ("first_response", "resolution"):
        mine = [row for row in rows if row["metric"] == metric]
        assert all(row["cycle"] >= 1 for row in mine)
        for verdict in ("met", "breached"):
            counted = sum(1 for row in mine if row["verdict"] == verdict)
            assert counted == last["summary"][f"{metric}_{verdict}"]
            assert counted == last["rows"]["by_verdict"].get(f"{metric}: {verdict}", 0)


def test_json_rows_write_numbers_as_numbers_and_a_percent_of_target() -> None:
    code, out, _ = run("report", EVENTS, "--config", DESK, "--now", NOW, "--format", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()[:-1]]
    (k004,) = [r for r in rows if r["ticket_id"] == "K-004" and r["metric"] == "resolution"]
    assert k004["elapsed"] == "9h24m"
    assert k004["elapsed_seconds"] == 9 * 3600 + 24 * 60
    assert k004["target_seconds"] == 8 * 3600
    assert k004["remaining_seconds"] == -(3600 + 24 * 60)
    assert k004["percent_of_target"] == 117.5
    assert k004["breached_at"] is not None
    assert k004["breached_at"] == datetime.fromisoformat(k004["breached_at"]).isoformat()
    assert isinstance(k004["cycle"], int)


def test_skip_bad_exits_non_zero_when_no_line_was_good(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("not json\n[1]\n")
    code, _, err = run("report", str(path), "--config", DESK, "--now", NOW, "--skip-bad")
    assert code == 2
    assert "skipped 2 bad line(s), the first at line 1" in err
    assert "no good line" in err


def test_skip_bad_says_how_many_lines_it_skipped_even_when_none() -> None:
    code, _, err = run("report", EVENTS, "--config", DESK, "--now", NOW, "--skip-bad")
    assert code == 0
    assert "skipped 0 bad line(s)" in err


def test_a_missing_event_column_is_named_with_the_map_or_profile_that_fixes_it(
    tmp_path: Path,
) -> None:
    events = tmp_path / "events.csv"
    events.write_text("ticket_id,kind,at\nT-1,ticket_opened,2026-03-10T10:00+03:00\n")
    code, _, err = run("report", str(events), "--config", DESK, "--now", NOW)
    assert code == 2
    assert f"{events}:2: no 'event' column" in err
    assert "found at, kind, ticket_id" in err
    assert "--map COLUMN=event" in err
    assert "--profile" in err
    lines = tmp_path / "events.jsonl"
    lines.write_text('{"id": "T-1", "event": "ticket_opened", "at": "2026-03-10T10:00+03:00"}\n')
    code, _, err = run("report", str(lines), "--config", DESK, "--now", NOW)
    assert code == 2
    assert "no 'ticket_id' column" in err
    assert "--map COLUMN=ticket_id" in err


def test_report_needs_a_desk_with_policies(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text('name = "empty"\n')
    code, _, err = run("report", EVENTS, "--config", str(empty), "--now", NOW)
    assert code == 2
    assert "expected at least one SLA policy" in err


def test_bad_column_maps_and_now_values_are_refused() -> None:
    assert "expected COLUMN=FIELD" in run("report", EVENTS, "--config", DESK, "--map", "x")[2]
    assert (
        "--now: expected an ISO 8601" in run("report", EVENTS, "--config", DESK, "--now", "soon")[2]
    )


def test_a_large_input_shows_a_progress_bar_on_stderr() -> None:
    code, _, err = run("report", EVENTS, "--config", DESK, "--now", NOW, "--progress-above", "1")
    assert code == 0
    assert "reading" in err
    assert "100%" in err


def test_timeline_draws_bars_and_a_mermaid_gantt() -> None:
    done = cli("timeline", "K-004", "--events", EVENTS, "--config", DESK, "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert "K-004 under 'Kiosk incidents'" in done.stdout
    assert "|#" in done.stdout
    assert "gantt" in done.stdout
    assert "section resolution" in done.stdout
    only_bars = run(
        "timeline", "K-004", "--events", EVENTS, "--config", DESK, "--now", NOW, "--format", "bars"
    )[1]
    assert "gantt" not in only_bars


def test_timeline_reads_a_tickets_events_in_time_order_and_counts_bad_lines(
    tmp_path: Path,
) -> None:
    lines = Path(EVENTS).read_text().splitlines(keepends=True)
    mine = [line for line in lines if '"K-004"' in line]
    instants = [json.loads(line)["at"] for line in mine]
    alone = next(i for i, at in enumerate(instants) if i and instants.count(at) == 1)
    moved = mine[:alone] + mine[alone + 1 :] + [mine[alone]]  # an event written last
    export = tmp_path / "events.jsonl"
    export.write_text('{"event": "nothing"}\n' + "".join(moved))
    args = ("timeline", "K-004", "--config", DESK, "--now", NOW, "--skip-bad")
    code, out, err = run(*args, "--events", str(export))
    assert (code, out) == (0, run(*args, "--events", EVENTS)[1])
    assert "events.jsonl: skipped 1 bad line(s), the first at line 1" in err


def test_timeline_of_an_unknown_ticket_is_a_clear_error() -> None:
    code, _, err = run("timeline", "K-999", "--events", EVENTS, "--config", DESK)
    assert code == 2
    assert "no events of ticket 'K-999'" in err


def test_lifecycle_diagram_of_a_desk_type_and_an_unknown_one() -> None:
    code, out, _ = run("lifecycle", "incident", "--config", DESK)
    assert code == 0
    assert "stateDiagram-v2" in out
    code, _, err = run("lifecycle", "documentation_request", "--config", DESK)
    assert code == 2
    assert "type: expected a ticket type: emergency_change, incident" in err


def test_problems_of_a_desk_are_reported_in_process_too(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[calendars.office]\ntimezone = "Mars/Olympus"\n')
    code, _, err = run("check", str(bad))
    assert code == 2
    assert f"{bad}: calendars.office.timezone" in err
    code, _, err = run("check", str(tmp_path / "missing.toml"))
    assert code == 1
    assert "No such file or directory" in err
    code, _, err = run("report", str(tmp_path / "missing.jsonl"), "--config", DESK)
    assert code == 1
    assert "missing.jsonl: No such file or directory" in err


def test_json_lines_columns_can_be_mapped_and_csv_reads_numbers_and_lists(
    tmp_path: Path,
) -> None:
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text(
        "".join(
            json.dumps({("id" if k == "ticket_id" else k): v for k, v in json.loads(line).items()})
            + "\n"
            for line in Path(EVENTS).read_text().splitlines()
        )
    )
    code, out, _ = run(
        "report", str(renamed), "--config", DESK, "--now", NOW, "--map", "id=ticket_id"
    )
    assert code == 0
    assert "6 tickets" in out
    events = tmp_path / "events.csv"
    events.write_text(
        "ticket_id,event,at,actor,type,state,state_category,title,requester,"
        "effective_priority,approvers,assignee,group,support_line\n"
        "T-1,ticket_opened,2026-03-10T10:00+03:00,ann,incident,new,new,t,ann,P2,,,,\n"
        "T-1,approval_requested,2026-03-10T10:05+03:00,ann,,,,,,,bob; carol,,,\n"
        "T-1,assigned,2026-03-10T10:10+03:00,dana,,,,,,,,dana,help-desk,x1\n"
    )
    code, _, err = run("report", str(events), "--config", DESK, "--now", NOW)
    assert code == 2
    assert f"{events}:4: support_line" in err


def test_timeline_as_mermaid_only_and_for_a_ticket_no_policy_covers(tmp_path: Path) -> None:
    code, out, _ = run(
        "timeline",
        "K-004",
        "--events",
        EVENTS,
        "--config",
        DESK,
        "--now",
        NOW,
        "--format",
        "mermaid",
    )
    assert code == 0
    assert out.startswith("gantt")
    assert "|#" not in out
    narrow = tmp_path / "narrow.toml"
    narrow.write_text(
        '[calendars.office]\ntimezone = "UTC"\n[calendars.office.weekly]\nmon = ["09:00-17:00"]\n'
        '[[sla.policies]]\nname = "problems only"\ncalendar = "office"\n'
        'applies_to = { types = ["problem"] }\n'
        '[sla.policies.metrics.resolution]\ntargets = { P1 = "8h" }\n'
    )
    code, _, err = run("timeline", "K-004", "--events", EVENTS, "--config", str(narrow))
    assert code == 2
    assert "no SLA policy applies to ticket 'K-004'" in err


def test_a_closed_pipe_ends_the_report_quietly() -> None:
    done = subprocess.run(
        f"{sys.executable} -m itsm_core report {EVENTS} --config {DESK} --now {NOW} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.startswith("ticket")
    assert "Traceback" not in done.stderr
    assert "Broken pipe" not in done.stderr


ROOT = Path(__file__).parent.parent
SAMPLE = ROOT.parent / "shared" / "data" / "servicenow" / "incident_event_log_sample.csv"
SN_DESK = str(ROOT / "docs" / "examples" / "imports" / "servicenow_desk.json")
SN_NOW = "2016-04-01T00:00:00+00:00"


def _verdicts(path: Path, *extra: str) -> dict[tuple[str, str, int], tuple[str, float]]:
    argv = ["report", str(path), "--profile", "servicenow_snapshot", "--config", SN_DESK]
    code, out, err = run(*argv, "--now", SN_NOW, "--format", "json", *extra)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()[:-1]]
    return {
        (r["ticket_id"], r["metric"], r["cycle"]): (r["verdict"], r["elapsed_seconds"])
        for r in rows
    }


def test_a_servicenow_export_in_any_order_reports_every_ticket_as_sorted_input_does(
    tmp_path: Path,
) -> None:
    if not SAMPLE.exists():
        pytest.skip(f"the shared ServiceNow sample is not at {SAMPLE}")
    header, *lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    shuffled = tmp_path / "shuffled.csv"
    random.Random(15).shuffle(lines)
    shuffled.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    tickets = {line.split(",", 1)[0] for line in lines}
    grouped = _verdicts(SAMPLE)
    assert {ticket for ticket, _, _ in grouped} == tickets
    assert _verdicts(shuffled, "--sort-chunk", "17") == grouped
    assert _verdicts(shuffled) == grouped


def test_an_export_in_ticket_order_is_read_as_it_comes_and_one_out_of_order_is_sorted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not SAMPLE.exists():
        pytest.skip(f"the shared ServiceNow sample is not at {SAMPLE}")
    spilled: list[int] = []
    spill = _common.spill

    def counted(entries: list[Any], block: int) -> Any:
        spilled.append(len(entries))
        return spill(entries, block)

    monkeypatch.setattr(_common, "spill", counted)
    argv = ["--profile", "servicenow_snapshot", "--config", SN_DESK, "--now", SN_NOW]
    whole = run("report", str(SAMPLE), *argv, "--format", "json")  # one chunk: in memory
    assert whole[0] == 0
    assert run("report", str(SAMPLE), *argv, "--format", "json", "--sort-chunk", "17") == whole
    assert spilled == []  # the sample is in ticket order: handed on as read
    header, *lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    first = lines[0].split(",", 1)[0]
    late = tmp_path / "late.csv"  # the first ticket's last row, moved to the end
    moved = max(i for i, line in enumerate(lines) if line.startswith(first + ","))
    late.write_text("\n".join([header, *lines[:moved], *lines[moved + 1 :], lines[moved]]) + "\n")
    assert run("report", str(late), *argv, "--format", "json", "--sort-chunk", "17") == whole
    assert spilled  # read again, sorted


def test_a_refused_imported_ticket_is_a_row_and_profile_options_are_checked(
    tmp_path: Path,
) -> None:
    example = ROOT / "docs" / "examples" / "imports" / "servicenow_snapshot.csv"
    header, *lines = example.read_text(encoding="utf-8").splitlines()
    first = lines[0].split(",")
    broken = tmp_path / "broken.csv"
    bad = [*first]
    bad[0] = "INC9999999"
    bad[header.split(",").index("incident_state")] = "Teleported"
    broken.write_text("\n".join([header, *lines, ",".join(bad)]) + "\n", encoding="utf-8")
    argv = ["report", str(broken), "--profile", "servicenow_snapshot", "--config", SN_DESK]
    code, out, _ = run(*argv, "--now", SN_NOW, "--format", "csv")
    assert code == 0
    (row,) = [line for line in out.splitlines() if line.startswith("INC9999999,")]
    assert ",\"history refused: state 'Teleported'" in row
    assert "add it to the profile" in row
    code, _, err = run(*argv, "--map", "a=b")
    assert code == 2
    assert "--map: a profile names the export's columns" in err
    code, _, err = run(*argv, "--engine", "dask")
    assert code == 2
    assert "the dask engine reads events" in err


def test_external_sort_refuses_an_empty_chunk() -> None:
    code, _, err = run("report", EVENTS, "--config", DESK, "--sort-chunk", "0")
    assert code == 2
    assert "--sort-chunk: expected a positive number of rows, got 0" in err


def test_the_external_sort_groups_by_ticket_stably_through_temporary_files() -> None:
    items = [(f"T-{n % 7}", n) for n in range(100)]
    for chunk in (1, 9, 100, 1000):
        ordered = list(
            sorted_by_ticket(items, lambda item: item[0], dump=list, load=tuple, chunk=chunk)
        )
        assert ordered == sorted(items, key=lambda item: item[0])
    with pytest.raises(InputError, match="--sort-chunk"):
        list(sorted_by_ticket(items, str, dump=list, load=tuple, chunk=0))


def _without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("rich", "rich.console", "rich.progress", "rich.table"):
        monkeypatch.setitem(sys.modules, name, None)


def test_the_compliance_table_and_progress_bar_are_drawn_by_rich_when_installed() -> None:
    pytest.importorskip("rich")
    code, out, err = run("report", EVENTS, "--config", DESK, "--now", NOW, "--progress-above", "1")
    assert code == 0
    assert "┃ metric" in out
    assert "│ resolution     │   2 │        1 │      66.7% │" in out
    assert "reading" in err
    assert "100%" in err
    assert "━" in err


def test_without_rich_the_table_and_progress_bar_are_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without_rich(monkeypatch)
    code, out, err = run("report", EVENTS, "--config", DESK, "--now", NOW, "--progress-above", "1")
    assert code == 0
    assert "compliance (cycles met / breached):" in out
    assert "resolution      met 2, breached 1, compliance 66.7%" in out
    assert "reading #########################" in err
    assert "100%" in err


def test_a_metric_whose_clock_never_started_is_a_row_saying_so(tmp_path: Path) -> None:
    desk = _desk_with(
        tmp_path,
        '[[sla.policies]]\nname = "custom"\ncalendar = "office"\n'
        '[sla.policies.metrics.solve]\ndefault_target = "8h"\n'
        'start = [{ event = "state_changed", trigger = "never_happens" }]\n'
        'stop = [{ event = "state_changed", trigger = "close" }]\n',
    )
    code, out, _ = run("report", EVENTS, "--config", desk, "--now", NOW, "--format", "json")
    assert code == 0
    *rows, last = (json.loads(line) for line in out.splitlines())
    assert [row["verdict"] for row in rows] == ["not started"] * 6
    assert last["rows"]["by_verdict"] == {"solve: not started": 6}


def test_skip_bad_on_dask_says_how_many_lines_it_skipped_and_fails_when_none_was_good(
    tmp_path: Path,
) -> None:
    pytest.importorskip("distributed")
    path = tmp_path / "events.jsonl"
    path.write_text("not json\n[1]\n")
    argv = ["report", str(path), "--config", DESK, "--now", NOW, "--skip-bad"]
    code, _, err = run(*argv, "--engine", "dask", "--workers", "1")
    assert code == 2
    assert "skipped 2 bad line(s)" in err
    assert "no good line" in err
