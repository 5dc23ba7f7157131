"""A small helpdesk service on itsm_core: an HTTP API, histories in SQLite, a wake-up loop.

The library does no I/O; this module is the host that does it all:

* it stores each ticket's events (one JSON document a row) and the instant the
  desk asked to be woken at, in SQLite;
* ``POST /tickets`` opens a ticket and ``POST /tickets/{id}/commands`` applies a
  command, both through :meth:`Desk.apply` (the desk authorizes the actor first);
* ``GET /tickets/{id}`` answers with :meth:`Desk.status`, ``GET /tickets/{id}/events``
  with the stored history;
* a background task wakes at the earliest stored instant and calls
  :meth:`Desk.advance` for every ticket due, storing what it adds.

The acting principal comes in the ``X-Actor`` header (a real service takes it
from its authentication). Run it with ``uvicorn`` (``python helpdesk.py``), or
build the app with :func:`create_app` for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from itsm_core import Desk, ItsmError, PermissionDenied, load_desk
from itsm_core.desk import Outcome
from itsm_core.lifecycle import History
from itsm_core.serialization import (
    decode_event,
    encode_event,
    make_converter,
    structure_checked,
)
from itsm_core.ticket import Event, OpenTicket, TicketCommand

Clock = Callable[[], datetime]

#: The example desk document shipped with the documentation.
EXAMPLE_DESK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "desk.toml"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    ticket_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);
CREATE TABLE IF NOT EXISTS wakeups (
    ticket_id TEXT PRIMARY KEY,
    at_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS wakeups_at ON wakeups (at_us);
"""


def _us(at: datetime) -> int:
    delta = at - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class NotFound(LookupError):
    """No ticket has this id."""


class Store:
    """Events and wake-up instants in one SQLite file; one writer at a time."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def events(self, db: sqlite3.Connection, ticket_id: str) -> list[Event]:
        rows = db.execute(
            "SELECT body FROM events WHERE ticket_id = ? ORDER BY seq", (ticket_id,)
        ).fetchall()
        return [decode_event(json.loads(body)) for (body,) in rows]

    def append(
        self,
        db: sqlite3.Connection,
        ticket_id: str,
        start: int,
        events: tuple[Event, ...],
        wake: datetime | None,
    ) -> None:
        db.executemany(
            "INSERT INTO events (ticket_id, seq, body) VALUES (?, ?, ?)",
            [(ticket_id, start + i, json.dumps(encode_event(e))) for i, e in enumerate(events)],
        )
        if wake is None:
            db.execute("DELETE FROM wakeups WHERE ticket_id = ?", (ticket_id,))
        else:
            db.execute(
                "INSERT INTO wakeups (ticket_id, at_us) VALUES (?, ?) "
                "ON CONFLICT (ticket_id) DO UPDATE SET at_us = excluded.at_us",
                (ticket_id, _us(wake)),
            )

    def due(self, now: datetime) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT ticket_id FROM wakeups WHERE at_us <= ? ORDER BY at_us", (_us(now),)
            ).fetchall()
        return [ticket_id for (ticket_id,) in rows]

    def earliest_wakeup_us(self) -> int | None:
        with self._lock:
            (at,) = self._db.execute("SELECT min(at_us) FROM wakeups").fetchone()
        return at if at is None else int(at)


class Helpdesk:
    """The host loop: load the history, call the desk, store what it added and when to wake."""

    def __init__(self, desk: Desk, store: Store, clock: Clock) -> None:
        self.desk = desk
        self.store = store
        self.clock = clock
        self._commands = make_converter()

    def command(self, data: object) -> TicketCommand:
        command: TicketCommand = structure_checked(self._commands, data, TicketCommand, "body")
        return command

    def _save(self, db: sqlite3.Connection, before: int, outcome: Outcome, at: datetime) -> None:
        wake = self.desk.next_wakeup(outcome.history, at)
        ticket_id = outcome.ticket.id
        self.store.append(db, ticket_id, before, outcome.events, wake)

    def apply(self, ticket_id: str | None, command: TicketCommand, actor: str) -> Outcome:
        at = self.clock()
        target = command.ticket_id if isinstance(command, OpenTicket) else ticket_id
        assert target is not None
        with self.store.transaction() as db:
            events = self.store.events(db, target)
            if isinstance(command, OpenTicket) and events:
                raise ItsmConflict(f"ticket {target!r} exists already")
            if not isinstance(command, OpenTicket) and not events:
                raise NotFound(target)
            outcome = self.desk.apply(events or None, command, actor=actor, at=at)
            self._save(db, len(events), outcome, at)
        return outcome

    def history(self, ticket_id: str) -> History:
        with self.store.transaction() as db:
            events = self.store.events(db, ticket_id)
        if not events:
            raise NotFound(ticket_id)
        return self.desk.history(events)

    def wake(self) -> int:
        """Advance every ticket that is due now; the number of events added."""
        now = self.clock()
        added = 0
        for ticket_id in self.store.due(now):
            with self.store.transaction() as db:
                events = self.store.events(db, ticket_id)
                outcome = self.desk.advance(events, now)
                self._save(db, len(events), outcome, now)
            added += len(outcome.events)
        return added


class ItsmConflict(Exception):
    """The request conflicts with what is stored (a ticket id already taken)."""


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _status_json(helpdesk: Helpdesk, ticket_id: str) -> dict[str, Any]:
    status = helpdesk.desk.status(helpdesk.history(ticket_id), helpdesk.clock())
    ticket = status.ticket
    clocks = [] if status.sla is None else status.sla.clocks
    return {
        "ticket_id": ticket.id,
        "state": ticket.state,
        "assignee": ticket.assignee,
        "group": ticket.group,
        "priority": status.priority,
        "policy": status.policy,
        "policy_reason": status.policy_reason,
        "clocks": [
            {"metric": c.metric, "stage": c.stage.value, "due_at": _iso(c.due_at)} for c in clocks
        ],
        "due": [{"kind": d.kind.value, "at": _iso(d.at), "reason": d.reason} for d in status.due],
        "next_wakeup": _iso(status.next_wakeup),
    }


def create_app(
    desk: Desk,
    db_path: str | Path,
    clock: Clock,
    *,
    wake_loop: bool = True,
    poll_seconds: float = 30.0,
) -> Starlette:
    """The ASGI app: the HTTP API and, while it runs, the wake-up loop (unless ``wake_loop``
    is false: then only ``POST /wake`` advances tickets)."""
    store = Store(db_path)
    helpdesk = Helpdesk(desk, store, clock)

    async def guarded(request: Request, work: Callable[[], Any], status: int = 200) -> JSONResponse:
        try:
            return JSONResponse(work(), status_code=status)
        except PermissionDenied as exc:
            return JSONResponse({"error": str(exc)}, status_code=403)
        except NotFound as exc:
            return JSONResponse({"error": f"no ticket {exc.args[0]!r}"}, status_code=404)
        except ItsmConflict as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except ItsmError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)

    def actor(request: Request) -> str:
        return request.headers.get("x-actor", "")

    async def open_ticket(request: Request) -> JSONResponse:
        body = await request.json()

        def work() -> dict[str, Any]:
            command = helpdesk.command({"command": "open_ticket", **body})
            outcome = helpdesk.apply(None, command, actor(request))
            return _status_json(helpdesk, outcome.ticket.id)

        return await guarded(request, work, 201)

    async def apply_command(request: Request) -> JSONResponse:
        body = await request.json()
        ticket_id = request.path_params["ticket_id"]

        def work() -> dict[str, Any]:
            helpdesk.apply(ticket_id, helpdesk.command(body), actor(request))
            return _status_json(helpdesk, ticket_id)

        return await guarded(request, work)

    async def status(request: Request) -> JSONResponse:
        return await guarded(
            request, lambda: _status_json(helpdesk, request.path_params["ticket_id"])
        )

    async def events(request: Request) -> JSONResponse:
        ticket_id = request.path_params["ticket_id"]
        return await guarded(
            request, lambda: [encode_event(e) for e in helpdesk.history(ticket_id)]
        )

    async def wake(request: Request) -> JSONResponse:
        return JSONResponse({"events_added": helpdesk.wake()})

    async def loop() -> None:
        while True:
            earliest = store.earliest_wakeup_us()
            now_us = _us(clock())
            if earliest is not None and earliest <= now_us:
                await asyncio.to_thread(helpdesk.wake)
                continue
            wait = poll_seconds if earliest is None else (earliest - now_us) / 1e6
            await asyncio.sleep(min(wait, poll_seconds))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(loop()) if wake_loop else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            store.close()

    app = Starlette(
        routes=[
            Route("/tickets", open_ticket, methods=["POST"]),
            Route("/tickets/{ticket_id}", status, methods=["GET"]),
            Route("/tickets/{ticket_id}/commands", apply_command, methods=["POST"]),
            Route("/tickets/{ticket_id}/events", events, methods=["GET"]),
            Route("/wake", wake, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.helpdesk = helpdesk
    return app


def example_desk() -> Desk:
    """The kiosk support desk of ``docs/examples/desk.toml``."""
    with EXAMPLE_DESK.open("rb") as f:
        return load_desk(tomllib.load(f))


if __name__ == "__main__":  # pragma: no cover - run by hand
    import uvicorn

    uvicorn.run(create_app(example_desk(), "helpdesk.sqlite", lambda: datetime.now(UTC)))
