"""The example helpdesk, driven over HTTP with a real SQLite file and a settable clock."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pendulum
import pytest
from helpdesk import create_app, example_desk
from starlette.testclient import TestClient

MOSCOW = "Europe/Moscow"
KIOSK = {
    "ticket_id": "INC-1",
    "type": "incident",
    "title": "Kiosk 17 does not print",
    "requester": "kiosk-17",
    "impact": "low",
    "urgency": "high",
}


class Clock:
    """The host's clock, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(pendulum.datetime(2026, 3, 2, 10, tz=MOSCOW))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "helpdesk.sqlite"


@pytest.fixture
def client(db: Path, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(example_desk(), db, clock, wake_loop=False)) as c:
        yield c


def stored_kinds(db: Path, ticket_id: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT json_extract(body, '$.event') FROM events WHERE ticket_id = ? ORDER BY seq",
            (ticket_id,),
        ).fetchall()
    return [kind for (kind,) in rows]


def test_opening_a_ticket_stores_its_event_and_answers_with_its_sla_clocks(
    client: TestClient, db: Path
) -> None:
    response = client.post("/tickets", json=KIOSK, headers={"X-Actor": "kiosk-17"})
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "new"
    assert body["priority"] == "P3"
    assert body["policy"] == "Kiosk incidents"
    assert {c["metric"]: c["due_at"] for c in body["clocks"]} == {
        "first_response": "2026-03-02T11:00:00+03:00",
        "resolution": "2026-03-03T10:00:00+03:00",
    }
    assert body["next_wakeup"] == "2026-03-02T10:30:00+03:00"
    assert stored_kinds(db, "INC-1") == ["ticket_opened"]


def test_commands_are_authorized_and_refusals_change_nothing(client: TestClient, db: Path) -> None:
    client.post("/tickets", json=KIOSK, headers={"X-Actor": "kiosk-17"})
    refused = client.post(
        "/tickets/INC-1/commands",
        json={"command": "assign", "assignee": "kiosk-17"},
        headers={"X-Actor": "kiosk-17"},
    )
    assert refused.status_code == 403
    assert stored_kinds(db, "INC-1") == ["ticket_opened"]
    assigned = client.post(
        "/tickets/INC-1/commands",
        json={"command": "assign", "assignee": "dana"},
        headers={"X-Actor": "dana"},
    )
    assert assigned.status_code == 200
    assert assigned.json()["assignee"] == "dana"
    assert stored_kinds(db, "INC-1") == ["ticket_opened", "assigned", "state_changed"]


def test_bad_requests_are_answered_with_what_was_wrong(client: TestClient) -> None:
    client.post("/tickets", json=KIOSK, headers={"X-Actor": "kiosk-17"})
    again = client.post("/tickets", json=KIOSK, headers={"X-Actor": "kiosk-17"})
    assert again.status_code == 409
    unknown = client.get("/tickets/INC-404")
    assert unknown.status_code == 404
    assert "INC-404" in unknown.json()["error"]
    bad = client.post(
        "/tickets/INC-1/commands", json={"command": "teleport"}, headers={"X-Actor": "dana"}
    )
    assert bad.status_code == 422
    assert "teleport" in bad.json()["error"]


def test_a_host_that_wakes_when_told_records_each_threshold_when_it_is_reached(
    client: TestClient, clock: Clock, db: Path
) -> None:
    client.post("/tickets", json=KIOSK, headers={"X-Actor": "kiosk-17"})
    client.post(
        "/tickets/INC-1/commands",
        json={"command": "assign", "assignee": "dana"},
        headers={"X-Actor": "dana"},
    )
    seen = []
    for _ in range(20):
        wake = client.get("/tickets/INC-1").json()["next_wakeup"]
        if wake is None:
            break
        clock.at = datetime.fromisoformat(wake)
        assert client.post("/wake").json()["events_added"] > 0
        seen.append(wake)
    assert seen[0] == "2026-03-02T10:30:00+03:00"
    assert "2026-03-03T10:00:00+03:00" in seen
    assert seen == sorted(seen)
    kinds = stored_kinds(db, "INC-1")
    assert "sla_threshold_reached" in kinds
    assert "reassigned" in kinds
    status = client.get("/tickets/INC-1").json()
    assert {c["metric"]: c["stage"] for c in status["clocks"]} == {
        "first_response": "breached",
        "resolution": "breached",
    }
    events = client.get("/tickets/INC-1/events").json()
    assert [e["event"] for e in events] == kinds


def test_the_background_loop_advances_due_tickets_by_itself(clock: Clock, db: Path) -> None:
    with TestClient(create_app(example_desk(), db, clock, poll_seconds=0.01)) as client:
        client.post("/tickets", json=KIOSK, headers={"X-Actor": "kiosk-17"})
        assert stored_kinds(db, "INC-1") == ["ticket_opened"]
        clock.at = pendulum.datetime(2026, 3, 2, 10, 30, tz=MOSCOW)
        deadline = time.monotonic() + 5
        while "sla_threshold_reached" not in stored_kinds(db, "INC-1"):
            assert time.monotonic() < deadline, "the wake-up loop did not advance the ticket"
            time.sleep(0.02)
        wake = client.get("/tickets/INC-1").json()["next_wakeup"]
    assert wake == "2026-03-02T10:45:00+03:00"


def test_histories_survive_a_restart_of_the_service(db: Path, clock: Clock) -> None:
    with TestClient(create_app(example_desk(), db, clock)) as first:
        first.post("/tickets", json=KIOSK, headers={"X-Actor": "kiosk-17"})
    with TestClient(create_app(example_desk(), db, clock)) as second:
        assert second.get("/tickets/INC-1").json()["state"] == "new"
