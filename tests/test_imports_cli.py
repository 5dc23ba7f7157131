"""``itsm-core import``: exports and profiles from files, events out as JSON Lines."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from pathlib import Path

import pytest

from itsm_core.cli import main
from itsm_core.imports import PROFILES, import_snapshot
from itsm_core.serialization import decode_event
from itsm_core.ticket import Event, fold_events

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "servicenow" / "incident_event_log_sample.csv"
EXAMPLES = ROOT / "docs" / "examples" / "imports"


def _events(path: Path) -> list[Event]:
    return [decode_event(json.loads(line)) for line in path.read_text().splitlines()]


def test_importing_the_servicenow_sample_writes_every_tickets_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not SAMPLE.exists():
        pytest.skip(f"the shared ServiceNow sample is not at {SAMPLE}")
    target = tmp_path / "events.jsonl"
    assert main(["import", "servicenow_snapshot", str(SAMPLE), "-o", str(target)]) == 0
    events = _events(target)
    with SAMPLE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = [
        e for h in import_snapshot(rows, PROFILES["servicenow_snapshot"]).histories for e in h
    ]
    assert events == expected
    assert "198 rows, 32 tickets imported, 0 refused" in capsys.readouterr().err


def test_the_sorted_stream_writes_the_same_events(tmp_path: Path) -> None:
    export = EXAMPLES / "servicenow_snapshot.csv"
    whole, streamed = tmp_path / "whole.jsonl", tmp_path / "streamed.jsonl"
    assert main(["import", "servicenow_snapshot", str(export), "-o", str(whole)]) == 0
    assert (
        main(["import", "servicenow_snapshot", str(export), "--sorted", "-o", str(streamed)]) == 0
    )
    assert whole.read_text() == streamed.read_text() != ""


def test_a_toml_profile_and_a_timezone_are_read(tmp_path: Path) -> None:
    out = io.StringIO()
    profile = EXAMPLES / "servicenow_snapshot.toml"
    export = EXAMPLES / "servicenow_snapshot.csv"
    assert main(["import", str(profile), str(export), "--timezone", "Europe/Paris"], out) == 0
    first = decode_event(json.loads(out.getvalue().splitlines()[0]))
    assert first.at.isoformat() == "2016-03-02T08:50:00+01:00"


@pytest.mark.parametrize(
    ("profile", "export", "state"),
    [
        ("jira_changelog", "jira_changelog.json", "done"),
        ("zammad_history", "zammad_history.json", "closed"),
        ("glpi_history", "glpi_logs.csv", "closed"),
        ("servicenow_audit", "servicenow_sys_audit.csv", "closed"),
    ],
)
def test_each_documented_example_imports_from_the_command_line(
    profile: str, export: str, state: str
) -> None:
    out = io.StringIO()
    assert main(["import", profile, str(EXAMPLES / export)], out) == 0
    events = [decode_event(json.loads(line)) for line in out.getvalue().splitlines()]
    assert fold_events(events).state == state


def test_refused_tickets_are_reported_and_make_the_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "rows.jsonl"
    rows = [
        {"number": "INC1", "incident_state": "Parked", "sys_updated_at": "1/3/2016 09:00"},
        {"number": "?", "incident_state": "New", "sys_updated_at": "1/3/2016 09:00"},
    ]
    export.write_text("".join(json.dumps(r) + "\n" for r in rows))
    profile = tmp_path / "mini.toml"
    profile.write_text(
        'name = "mini"\nshape = "snapshot"\nlifecycle = "servicenow_incident"\n'
        'missing = ["?"]\n[columns]\nticket_id = "number"\nat = "sys_updated_at"\n'
        'state = "incident_state"\n[values.state]\nNew = "new"\n'
        '[timestamps]\nformats = ["%d/%m/%Y %H:%M"]\ntimezone = "UTC"\n'
    )
    assert main(["import", str(profile), str(export)], io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "refused ticket INC1 row 1: state 'Parked' is not in the profile's values.state" in err
    assert "skipped 1 row(s): no ticket id in column 'number'" in err


def test_bad_profiles_and_exports_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "remedy", str(EXAMPLES / "glpi_logs.csv")], io.StringIO()) == 2
    assert "expected a built-in profile" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nshape = "csv"\n')
    assert main(["import", str(bad), str(EXAMPLES / "glpi_logs.csv")], io.StringIO()) == 2
    assert "profile.lifecycle: missing" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    assert main(["import", str(broken), str(EXAMPLES / "glpi_logs.csv")], io.StringIO()) == 2
    assert "not a TOML or JSON document" in capsys.readouterr().err
    lines = tmp_path / "rows.jsonl"
    lines.write_text("[1]\n")
    assert main(["import", "servicenow_snapshot", str(lines)], io.StringIO()) == 2
    assert "rows.jsonl:1: expected a JSON object" in capsys.readouterr().err
    notjson = tmp_path / "x.json"
    notjson.write_text("{")
    assert main(["import", "servicenow_snapshot", str(notjson)], io.StringIO()) == 2
    assert "not JSON" in capsys.readouterr().err
    missing = tmp_path / "nothing.csv"
    assert main(["import", "servicenow_snapshot", str(missing)], io.StringIO()) == 1


def test_json_exports_of_rows_and_broken_lines_are_read_or_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(
        json.dumps(
            [
                {
                    "documentkey": "A",
                    "fieldname": "incident_state",
                    "oldvalue": "",
                    "newvalue": "1",
                    "user": "ann",
                    "sys_created_on": "2016-03-01 09:00:00",
                    "record_checkpoint": "0",
                }
            ]
        )
    )
    assert main(["import", "servicenow_audit", str(rows)], io.StringIO()) == 0
    numbers = tmp_path / "numbers.json"
    numbers.write_text("[1, 2]")
    assert main(["import", "servicenow_audit", str(numbers)], io.StringIO()) == 2
    assert "expected rows (objects)" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{oops\n")
    assert main(["import", "servicenow_audit", str(broken), "--sorted"], io.StringIO()) == 2
    assert "broken.jsonl:1: not JSON" in capsys.readouterr().err


def test_an_imported_export_reports_through_a_desk_with_the_import_lifecycle(
    tmp_path: Path,
) -> None:
    events = tmp_path / "events.jsonl"
    export = SAMPLE if SAMPLE.exists() else EXAMPLES / "servicenow_snapshot.csv"
    assert main(["import", "servicenow_snapshot", str(export), "-o", str(events)]) == 0
    tickets = {json.loads(line)["ticket_id"] for line in events.read_text().splitlines()}
    out = io.StringIO()
    desk = str(EXAMPLES / "servicenow_desk.json")
    now = "2016-04-01T00:00:00+00:00"
    argv = ["report", str(events), "--config", desk, "--now", now, "--no-progress"]
    assert main(argv, out) == 0
    assert f"{len(tickets)} tickets" in out.getvalue()


def _mini(tmp_path: Path) -> Path:
    profile = tmp_path / "mini.toml"
    profile.write_text(
        'name = "mini"\nshape = "snapshot"\nlifecycle = "servicenow_incident"\n'
        '[columns]\nticket_id = "number"\nat = "sys_updated_at"\nstate = "incident_state"\n'
        '[values.state]\nNew = "new"\nActive = "in_progress"\n'
        '[timestamps]\nformats = ["%d/%m/%Y %H:%M"]\ntimezone = "UTC"\n'
    )
    return profile


def test_an_export_in_any_order_is_written_in_ticket_order_naming_its_own_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "rows.csv"
    export.write_text(
        "number,incident_state,sys_updated_at\n"
        "INC3,New,1/3/2016 08:00\nINC2,New,1/3/2016 09:00\nINC1,New,1/3/2016 09:00\n"
        "INC2,Active,1/3/2016 10:00\nINC1,Parked,1/3/2016 11:00\nINC3,Active,1/3/2016 12:00\n"
    )
    target = tmp_path / "events.jsonl"
    target.write_text("kept until the import ends\n")
    target.chmod(0o640)
    for chunk in ("1", "50000"):  # spilled to temporary files, and sorted in memory
        args = ["import", str(_mini(tmp_path)), str(export), "-o", str(target)]
        assert main([*args, "--sort-chunk", chunk]) == 2
        assert [e.ticket_id for e in _events(target)] == ["INC2", "INC2", "INC3", "INC3"]
        err = capsys.readouterr().err
        assert "refused ticket INC1 row 5: state 'Parked'" in err
        assert "6 rows, 2 tickets imported, 1 refused" in err
    assert target.stat().st_mode & 0o777 == 0o640  # the file's own permissions kept
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no spool left
    new = tmp_path / "new.jsonl"
    assert main(["import", str(_mini(tmp_path)), str(export), "-o", str(new)]) == 2
    mask = os.umask(0)
    os.umask(mask)
    assert new.stat().st_mode & 0o777 == 0o666 & ~mask  # as open() makes a new file
    link = tmp_path / "link.jsonl"
    link.symlink_to(new)
    assert main(["import", str(_mini(tmp_path)), str(export), "-o", str(link)]) == 2
    assert link.is_symlink()  # written through, as open() writes
    assert main(["import", str(_mini(tmp_path)), str(export), "-o", str(export)]) == 2
    assert "-o: expected another file than the export itself" in capsys.readouterr().err
    assert export.read_text().startswith("number,")  # untouched
    missing = tmp_path / "no" / "such.jsonl"
    assert main(["import", str(_mini(tmp_path)), str(export), "-o", str(missing)]) == 2
    assert f"-o: no such directory: {missing.parent}" in capsys.readouterr().err


def test_an_output_that_is_no_regular_file_is_written_to_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    export = EXAMPLES / "servicenow_snapshot.csv"
    assert main(["import", "servicenow_snapshot", str(export), "-o", str(fifo)]) == 0
    reader.join(timeout=30)
    assert fifo.is_fifo()
    assert [e.ticket_id for e in map(decode_event, map(json.loads, got[0].splitlines()))]
    assert "0 refused" in capsys.readouterr().err


def test_an_export_in_ticket_order_is_read_once_or_again_sorted_when_it_was_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"INC{n},New,1/3/2016 09:00\nINC{n},Active,1/3/2016 10:00\n" for n in range(1, 5)]
    header = "number,incident_state,sys_updated_at\n"
    ordered, moved = tmp_path / "ordered.csv", tmp_path / "moved.csv"
    ordered.write_text(header + "".join(rows))
    moved.write_text(header + "".join(rows[1:]) + rows[0])  # INC1 last: found past chunk 1
    outputs = []
    for export in (ordered, moved):
        out = io.StringIO()
        assert main(["import", str(_mini(tmp_path)), str(export), "--sort-chunk", "2"], out) == 0
        outputs.append(out.getvalue())
        assert "8 rows, 4 tickets imported, 0 refused" in capsys.readouterr().err
    assert outputs[0] == outputs[1]
    assert [json.loads(line)["ticket_id"] for line in outputs[0].splitlines()][::2] == [
        "INC1", "INC2", "INC3", "INC4"
    ]  # fmt: skip


def test_a_bad_sort_chunk_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["import", "servicenow_snapshot", str(EXAMPLES / "glpi_logs.csv"), "--sort-chunk", "0"]
    assert main(args, io.StringIO()) == 2
    assert "--sort-chunk: expected a positive number of rows, got 0" in capsys.readouterr().err
