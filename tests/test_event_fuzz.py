"""Histories of arbitrary events through everything that reads a history.

The decoder's fuzzing (``test_serialization_fuzz``) feeds odd JSON to the
decoder; these properties start where it stops: events of the right types
holding any values those types allow (a ``FieldChanged`` of any field, a
``StateChanged`` to a state no lifecycle knows, an escalation event in a
ticket's history...), put in one ticket's order, and handed to ``History``,
the desk (clocks, status, due work, the next step), the permission policy's
views (what a requester, an agent and a stranger may see), the report's verdicts and
rows, and the analytics, both as raw event lists and as checked histories.
The report's analytics fold, its compliance table and the facts of its
HTML page are built from the verdicts. Each call either answers or raises an
:class:`~itsm_core.errors.ItsmError`; nothing else escapes.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar
from itsm_core.cli._common import read_desk
from itsm_core.cli.html import facts_of
from itsm_core.cli.report import AnalyticsFold, evaluate_all, json_rows_of, rows_of
from itsm_core.errors import ItsmError
from itsm_core.lifecycle import History
from itsm_core.metrics import (
    Compliance,
    FcrDefinition,
    FirstContact,
    RatingScale,
    Satisfaction,
    ServiceFigures,
    Stats,
)
from itsm_core.permissions import default_policy
from itsm_core.testing import events
from itsm_core.ticket import Event, TicketOpened

POLICY = default_policy()
DESK = read_desk(str(Path(__file__).parents[1] / "src" / "itsm_core" / "cli" / "desk.toml"))
CALENDAR = BusinessCalendar.eight_by_five("Europe/Oslo")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OSLO = ZoneInfo("Europe/Oslo")
SCALE = RatingScale.five_point()

#: A real opening of each type the example desk knows, and one it does not.
OPENINGS = st.builds(
    TicketOpened,
    ticket_id=st.just("T-1"),
    actor=st.sampled_from(["ann", "dana"]),
    at=st.just(START),
    type=st.sampled_from(["incident", "service_request", "problem", "kiosk"]),
    state=st.sampled_from(["new", "in_progress", "limbo"]),
    state_category=st.sampled_from(["new", "active", "on_hold", "resolved", "closed", "limbo"]),
    title=st.text(max_size=4),
    requester=st.sampled_from(["ann", "bob"]),
    channel=st.sampled_from([None, "phone", "portal"]),
    effective_priority=st.sampled_from([None, "P1", "P3", "p3"]),
    impact=st.sampled_from([None, "high", "low"]),
)


@st.composite
def odd_histories(draw: st.DrawFn) -> list[Event]:
    """An opening, then any events of the library, as one ticket's, in time order."""
    history: list[Event] = [draw(OPENINGS)]
    at = START
    for event in draw(st.lists(events(), max_size=6)):
        at += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        zone = draw(st.sampled_from([UTC, OSLO]))  # the same instant, written in either zone
        history.append(attrs.evolve(event, ticket_id="T-1", at=at.astimezone(zone)))
    return history


def _answers(call: Callable[[], Any]) -> None:
    """Run ``call``: an answer or an ItsmError is fine, anything else escapes the test."""
    with contextlib.suppress(ItsmError):
        call()


def _views(principal: str, history: History, raw: list[Event]) -> None:
    POLICY.visible_events(principal, history.ticket, raw)
    POLICY.view(principal, history.ticket)


def _analytics(histories: list[Any]) -> None:
    for figure in (
        lambda: ServiceFigures.of(histories, calendar=CALENDAR, scale=SCALE),
        lambda: Stats.of(histories, calendar=CALENDAR),
        lambda: Satisfaction.of(histories, scale=SCALE, calendar=CALENDAR),
        lambda: FirstContact.of(histories, definition=FcrDefinition(), calendar=CALENDAR),
    ):
        _answers(figure)


# About 8 ms an example: half the profile's examples (500 under ci).
# About 8 ms an example: half the profile's examples (500 under ci).
@settings(max_examples=max(50, settings().max_examples // 2), deadline=None)
@given(odd_histories())
def test_odd_histories_get_answers_or_the_librarys_own_errors(raw: list[Event]) -> None:
    now = raw[-1].at + timedelta(days=2)
    _answers(lambda: History(raw).tickets)
    _analytics([raw])
    try:
        history = DESK.history(raw)
    except ItsmError:
        history = None
    if history is not None:
        _answers(lambda: history.tickets)
        for principal in ("ann", "dana", "bob"):  # the requester, an agent, a stranger
            _answers(functools.partial(_views, principal, history, raw))
        _analytics([history])
        _answers(lambda: DESK.status(history, now))
        _answers(lambda: DESK.due(history, now))
        _answers(lambda: DESK.advance(history, now))
        _answers(lambda: DESK.next_wakeup(history, now))
    fold = AnalyticsFold(CALENDAR)
    for verdict in evaluate_all([raw], DESK, now):  # every ticket is a verdict, never an error
        assert verdict.ticket_id == "T-1"
        list(rows_of(verdict, DESK))
        list(json_rows_of(verdict, DESK))
        if verdict.history is not None:
            fold.add(verdict.history)  # the report's analytics and its HTML page's facts
        if verdict.status is not None:
            assert verdict.history is not None
            facts_of(verdict.history, verdict.status)
            Compliance.of([verdict.status])
    fold.result()  # a rating off the scale leaves the ticket out, named: never an error
