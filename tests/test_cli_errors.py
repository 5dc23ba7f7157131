"""The command line never prints a traceback: unreadable, odd and hostile input gets one line."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from itsm_core.cli import main

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
DESK = str(EXAMPLES / "desk.toml")
EVENTS = EXAMPLES / "events.jsonl"
CSV_EVENTS = EXAMPLES / "events.csv"
NOW = "2026-03-14T00:00+03:00"
CSV_MAP = ["--map", "id=ticket_id", "--map", "kind=event", "--map", "time=at"]


def run(*args: str, out: io.TextIOBase | None = None) -> tuple[int, str, str]:
    stdout = out if out is not None else io.StringIO()
    err = io.StringIO()
    old = sys.stderr
    sys.stderr = err
    try:
        code = main(list(args), out=stdout)  # type: ignore[arg-type]
    finally:
        sys.stderr = old
    shown = stdout.getvalue() if isinstance(stdout, io.StringIO) else ""
    return code, shown, err.getvalue()


def test_an_events_file_that_is_not_utf8_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(EVENTS.read_bytes() + b'{"event": "caf\xe9"}\n')
    code, _, err = run("report", str(path), "--config", DESK, "--now", NOW)
    assert code == 2
    assert "Traceback" not in err
    assert str(path) in err
    assert "UTF-8" in err


def test_a_deeply_nested_events_line_is_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(EVENTS.read_text() + "[" * 100_000 + "\n", encoding="utf-8")
    code, _, err = run("report", str(path), "--config", DESK, "--now", NOW)
    assert code == 2
    assert "nested" in err
    code, _, err = run("report", str(path), "--config", DESK, "--now", NOW, "--skip-bad")
    assert code == 0
    assert "skipped 1 bad line(s)" in err


def test_a_deeply_nested_desk_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "desk.json"
    path.write_text('{"name": ' + "[" * 100_000 + "}", encoding="utf-8")
    code, _, err = run("check", str(path))
    assert code == 2
    assert "nested deeper than" in err


def test_a_huge_csv_cell_is_a_bad_row_that_skip_bad_skips(tmp_path: Path) -> None:
    lines = CSV_EVENTS.read_text(encoding="utf-8").splitlines()
    header, first, *rest = lines
    path = tmp_path / "events.csv"
    path.write_text("\n".join([header, first, '"' + "x" * 200_000 + '"', *rest]) + "\n")
    code, _, err = run("report", str(path), "--config", DESK, "--now", NOW, *CSV_MAP)
    assert code == 2
    assert "Traceback" not in err
    assert f"{path}:3" in err
    code, _, err = run("report", str(path), "--config", DESK, "--now", NOW, *CSV_MAP, "--skip-bad")
    assert code == 0, err
    assert "skipped 1 bad line(s)" in err


def test_files_starting_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    desk = tmp_path / "desk.toml"
    desk.write_bytes(b"\xef\xbb\xbf" + Path(DESK).read_bytes())
    events = tmp_path / "events.csv"
    events.write_bytes(b"\xef\xbb\xbf" + CSV_EVENTS.read_bytes())
    code, _, err = run("check", str(desk))
    assert code == 0, err
    code, out, err = run("report", str(events), "--config", str(desk), "--now", NOW, *CSV_MAP)
    assert code == 0, err
    assert "6 tickets" in out


def test_a_missing_file_exits_1_as_documented(tmp_path: Path) -> None:
    code, _, err = run("check", str(tmp_path / "nowhere.toml"))
    assert code == 1
    assert "nowhere.toml" in err
    code, _, err = run("report", str(tmp_path / "nowhere.jsonl"), "--config", DESK, "--now", NOW)
    assert code == 1


def test_an_output_that_cannot_encode_a_ticket_id_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        EVENTS.read_text(encoding="utf-8").replace('"K-001"', '"K-\u00e9\u20ac1"'),
        encoding="utf-8",
    )
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    code, _, err = run("report", str(path), "--config", DESK, "--now", NOW, out=ascii_out)
    assert code == 1
    assert "Traceback" not in err
    assert "encode" in err
