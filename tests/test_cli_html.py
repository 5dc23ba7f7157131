"""``itsm-core report --format html`` writes one self-contained page with every chart."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from itsm_core.cli import main, simulate_week
from itsm_core.cli.demo import demo_document
from itsm_core.cli.html import CHARTS
from itsm_core.serialization import encode_event

pytest.importorskip("matplotlib")


class Page(HTMLParser):
    """What a browser would need: the charts found, and anything fetched from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.figure: str | None = None
        self.svgs: dict[str, int] = {}
        self.external: list[str] = []
        self.scripts = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "figure":
            self.figure = values.get("id")
        elif tag == "svg" and self.figure is not None:
            self.svgs[self.figure] = self.svgs.get(self.figure, 0) + 1
        elif tag == "script":
            self.scripts += 1
        elif tag == "title":
            self._in_title = True
        for name in ("src", "href"):
            link = values.get(name)
            if link and not link.startswith("#"):
                self.external.append(link)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self.figure = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("html")
    tickets, end = simulate_week(count=30, seed=4)
    with (root / "events.jsonl").open("w") as f:
        for ticket in tickets:
            for event in ticket.history:
                f.write(json.dumps(encode_event(event)) + "\n")
    (root / "desk.toml").write_text(demo_document())
    out = io.StringIO()
    argv = ["report", str(root / "events.jsonl"), "--config", str(root / "desk.toml")]
    assert main([*argv, "--now", end.isoformat(), "--format", "html"], out) == 0
    return out.getvalue()


def test_the_html_report_draws_every_chart_as_an_inline_svg(page: str) -> None:
    parsed = Page()
    parsed.feed(page)
    assert parsed.svgs == {chart_id: 1 for chart_id, _ in CHARTS}
    assert parsed.title == "SLA report: events.jsonl"


def test_the_html_report_needs_nothing_from_elsewhere(page: str) -> None:
    parsed = Page()
    parsed.feed(page)
    assert parsed.external == []
    assert parsed.scripts == 0
    assert "http://www.w3.org/2000/svg" in page  # the SVG namespace, not a download


def test_the_html_report_summarises_compliance_per_metric(page: str) -> None:
    assert "<td>resolution</td>" in page
    assert "<td>first_response</td>" in page
    assert "tickets with an SLA policy" in page


def test_the_dask_engine_refuses_the_html_format(tmp_path: Path) -> None:
    (tmp_path / "desk.toml").write_text(demo_document())
    (tmp_path / "e.jsonl").write_text("")
    argv = ["report", str(tmp_path / "e.jsonl"), "--config", str(tmp_path / "desk.toml")]
    assert main([*argv, "--engine", "dask", "--format", "html"], io.StringIO()) == 2
