"""One walk per ticket gives exactly what Satisfaction, FirstContact and Stats give one by one;
the desk's clocks choose the policy from the events and answer as the folded ticket does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar
from itsm_core.desk import Desk
from itsm_core.errors import InvalidValueError
from itsm_core.escalation import EscalationRequested
from itsm_core.lifecycle import History
from itsm_core.metrics import (
    DIMENSIONS,
    FcrDefinition,
    FirstContact,
    RatingScale,
    Satisfaction,
    ServiceFigures,
    Stats,
)
from itsm_core.sla import Applicability, Metric, SlaPolicy, evaluate
from itsm_core.testing import ticket_histories
from itsm_core.testing._memo import sampled
from itsm_core.ticket import (
    CHANGEABLE_FIELDS,
    ApprovalRequested,
    Assigned,
    CallbackRecorded,
    CommentAdded,
    DueDateSet,
    Event,
    FieldChanged,
    GroupAssigned,
    MajorSet,
    PriorityChanged,
    Reassigned,
    StateChanged,
    SurveyAnswered,
    SurveyRequested,
    Ticket,
    TicketOpened,
    Unassigned,
)

OFFICE = BusinessCalendar.eight_by_five("UTC")
START = datetime(2026, 3, 2, 8, tzinfo=UTC)  # a Monday
PEOPLE = (("ann", "desk", 1), ("bob", "desk", 1), ("cyd", "net", 2), ("dan", None, None))
GROUPS = ("desk", "net", "vip")
CATEGORIES = ("new", "active", "on_hold", "resolved", "closed")
# Each example walks a few tickets four times: a tenth of the profile's examples.
TENTH = settings(max_examples=max(50, settings().max_examples // 10), deadline=None)


@attrs.frozen(kw_only=True)
class Handover(Event):
    """An event kind of another room that moves the ticket through ``_changes`` alone."""

    group: str | None
    priority: str | None

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        changes: dict[str, Any] = {"group": self.group, "assignee": None}
        if self.priority is not None:
            changes["effective_priority"] = self.priority
            changes["service"] = "moved"
        if ticket.first_response_at is None:
            changes["first_response_at"] = self.at
        return changes


@attrs.frozen(kw_only=True)
class Stamped(Event):
    """A kind of another room that folds its own way (and changes nothing)."""

    def apply_to(self, ticket: Ticket | None) -> Ticket:
        return Event.apply_to(self, ticket)

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class Regroup(Event):
    """A kind of another room that sets a field without reading the ticket."""

    group: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"group": self.group}


@st.composite
def tickets(draw: st.DrawFn, tid: str) -> list[Event]:
    """One ticket: every kind the walk tells apart, in any order, between consistent states."""
    at = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 40)))
    category = draw(sampled(("new", "active")))
    events: list[Event] = [
        TicketOpened(ticket_id=tid, actor="req", at=at, type=draw(sampled(("incident", "req"))),
                     state=category, state_category=category, title="t", requester="req",
                     service=draw(sampled((None, "mail"))), channel=draw(sampled((None, "web"))),
                     effective_priority=draw(sampled((None, "P2", "P3"))))
    ]  # fmt: skip
    person: tuple[str, str | None, int | None] | None = None
    for _ in range(draw(st.integers(0, 10))):
        at += timedelta(minutes=draw(st.integers(0, 60 * 20)))
        kind = draw(st.integers(0, 12))
        common: dict[str, Any] = {"ticket_id": tid, "actor": draw(sampled(("ann", "op"))), "at": at}
        event: Event
        if kind == 0:
            name, group, line = draw(sampled(PEOPLE))
            if person is None:
                event = Assigned(**common, assignee=name, group=group, support_line=line)
            else:
                event = Reassigned(**common, assignee=name, group=group, support_line=line,
                                   from_assignee=person[0], from_group=person[1],
                                   from_support_line=person[2])  # fmt: skip
            person = (name, group, line)
        elif kind == 1:
            group = draw(sampled(GROUPS))
            event = GroupAssigned(**common, group=group, support_line=draw(sampled((1, 2))))
            person = None
        elif kind == 2:
            event = Unassigned(**common)
            person = None
        elif kind in (3, 4):
            to = draw(sampled(CATEGORIES))
            if category == "on_hold" and to == "on_hold":
                to = "active"
            event = StateChanged(**common, trigger="move", from_state=category, to_state=to,
                                 from_category=category, to_category=to,
                                 hold_reason="wait" if to == "on_hold" else None)  # fmt: skip
            category = to
        elif kind == 5:
            event = CommentAdded(**common, body="b", public=draw(st.booleans()),
                                 by_requester=draw(st.booleans()))  # fmt: skip
        elif kind == 6:
            effective = draw(sampled(("P1", "P2", None)))
            event = PriorityChanged(**common, impact=None, urgency=None, derived=None,
                                    override=None, effective=effective)  # fmt: skip
        elif kind == 7:
            survey = draw(sampled(("", "nps")))
            if draw(st.booleans()):
                event = SurveyRequested(**common, survey=survey)
            else:
                event = SurveyAnswered(**common, survey=survey, rating=draw(st.integers(1, 5)))
        elif kind == 8:
            event = CallbackRecorded(**common, reached=draw(st.booleans()),
                                     confirmed=draw(sampled((None, True, False))))  # fmt: skip
        elif kind == 9:
            event = draw(sampled((
                MajorSet(**common, reason="r"),
                ApprovalRequested(**common),
                DueDateSet(**common, metric="resolution", due=None, reason="r"),
                EscalationRequested(**common, kind="manager", by_requester=True),
            )))  # fmt: skip
        elif kind == 10:
            event = Handover(**common, group=draw(sampled((None, *GROUPS))),
                             priority=draw(sampled((None, "P1"))))  # fmt: skip
            person = None
        elif kind == 11:
            # dimensions and unread fields (followed), and fields the walk reads (plain walk)
            field = draw(sampled(("category", "service", "title", "type", "channel",
                                  "resolution_code", "effective_priority")))  # fmt: skip
            custom = draw(st.booleans())  # None unsets a custom or an optional field
            unset = [None] * (custom or CHANGEABLE_FIELDS[field])
            new = draw(sampled(("x", "active", *unset)))
            event = FieldChanged(**common, field=field, old=None, new=new, custom=custom)
        else:
            event = Regroup(**common, group=draw(sampled(GROUPS)))
        events.append(event)
    return events


@st.composite
def desks_tickets(draw: st.DrawFn) -> list[list[Event] | History]:
    """A few tickets, some as validated histories (the one-walk path), some as event lists."""
    found: list[list[Event] | History] = []
    for index in range(draw(st.integers(0, 5))):
        events = draw(tickets(f"T-{index}"))
        found.append(History(events) if draw(st.booleans()) else events)
    return found


def one_by_one(histories: list[Any], **options: Any) -> ServiceFigures:
    """The plain path: each accumulator's own ``of``, one walk per history each."""
    by = options.get("by", DIMENSIONS)
    common = {"calendar": OFFICE, "period": options.get("period", "month"), "by": by}
    return ServiceFigures(
        satisfaction=Satisfaction.of(
            histories, scale=options.get("scale", RatingScale.five_point()),
            survey=options.get("survey", ""), **common,
        ),
        first_contact=FirstContact.of(
            histories, definition=options.get("definition", FcrDefinition()), **common
        ),
        stats=Stats.of(histories, **{**common, "by": options.get("stats_by", by)}),
    )  # fmt: skip


OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "period": sampled(("month", "week", "day")),
        "survey": sampled(("", "nps")),
        "scale": st.just(RatingScale.good_bad()),
        "definition": st.just(FcrDefinition(within=timedelta(hours=3), no_reopen=False)),
        "by": sampled((("all", "agent", "group"), ("all", "type", "service", "channel"))),
        "stats_by": sampled((("agent", "group"), ("priority", "category", "all"))),
    },
)


def outcome(build: Any) -> Any:
    """What building gives: the value, or the error's type and message."""
    try:
        return build()
    except InvalidValueError as exc:
        return (type(exc), str(exc))


@TENTH
@given(desks_tickets(), OPTIONS)
def test_one_walk_per_ticket_equals_the_three_walks_of_each_accumulator(
    histories: list[Any], options: dict[str, Any]
) -> None:
    shared = outcome(lambda: ServiceFigures.of(histories, calendar=OFFICE, **options))
    assert shared == outcome(lambda: one_by_one(histories, **options))


@TENTH
@given(st.lists(ticket_histories(max_steps=12), max_size=3), st.integers(0, 3))
def test_one_walk_over_lifecycle_histories_equals_the_three_walks_and_merges(
    drawn: list[Any], cut: int
) -> None:
    histories = [History(h.events, lifecycle=h.lifecycle) for h in drawn]
    shared = ServiceFigures.of(histories, calendar=OFFICE)
    assert shared == one_by_one(histories)
    parts = ServiceFigures.of(histories[:cut], calendar=OFFICE) + ServiceFigures.of(
        histories[cut:], calendar=OFFICE
    )
    assert parts == shared


def test_a_rating_outside_the_scale_names_the_event_on_both_paths() -> None:
    events = [
        TicketOpened(ticket_id="I-1", actor="r", at=START, type="incident", state="new",
                     state_category="new", title="t", requester="r"),
        SurveyAnswered(ticket_id="I-1", actor="r", at=START, rating=9),
    ]  # fmt: skip
    for history in (events, History(events)):
        with pytest.raises(InvalidValueError, match=r"histories\[0\]\[1\]\.rating"):
            ServiceFigures.of([history], calendar=OFFICE)


def test_bad_arguments_are_refused_naming_them() -> None:
    with pytest.raises(InvalidValueError, match="scale"):
        ServiceFigures.of([], calendar=OFFICE, scale="five")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="definition"):
        ServiceFigures.of([], calendar=OFFICE, definition="fcr")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"by\[0\]"):
        ServiceFigures.of([], calendar=OFFICE, stats_by=("nobody",))
    assert ServiceFigures.of([], calendar=OFFICE).__add__("x") is NotImplemented  # type: ignore[operator]


def test_a_history_whose_fold_fails_is_walked_the_plain_way_and_names_the_event() -> None:
    opened = TicketOpened(ticket_id="I-1", actor="r", at=START, type="incident", state="new",
                          state_category="new", title="t", requester="r")  # fmt: skip

    @attrs.frozen(kw_only=True)
    class Broken(Event):
        def _changes(self, ticket: Ticket) -> dict[str, Any]:
            raise InvalidValueError("broken", None, "a kind that folds")

    history = History([opened, Broken(ticket_id="I-1", actor="x", at=START)])
    with pytest.raises(InvalidValueError, match="broken"):
        ServiceFigures.of([history], calendar=OFFICE)


# ------------------------------------------------------------------------ Desk.clocks

POLICY_COVERS = st.fixed_dictionaries(
    {},
    optional={
        "types": st.just("incident"),
        "priorities": st.lists(sampled(("P1", "P2", "P3")), min_size=1, max_size=2),
        "services": st.just("mail"),
        "groups": st.lists(sampled(GROUPS), min_size=1, max_size=2),
    },
)
CALENDARS = {"office": OFFICE, "acme": BusinessCalendar.always_open("UTC")}


def _policy(index: int, covers: dict[str, Any], customer: bool) -> SlaPolicy:
    return SlaPolicy(
        name=f"p{index}",
        calendar=OFFICE,
        use_customer_calendar=customer,
        metrics=(Metric.resolution({"P1": timedelta(hours=4), "P2": timedelta(hours=8)}),),
        applies_to=Applicability(**covers),
    )


@TENTH
@given(
    tickets("T-1"),
    st.lists(st.tuples(POLICY_COVERS, st.booleans()), min_size=1, max_size=3),
    sampled((None, "acme", "other")),
    st.integers(0, 60 * 24 * 50),
)
def test_the_desks_clocks_answer_as_the_policy_of_the_folded_ticket(
    events: list[Event], covers: list[tuple[dict[str, Any], bool]], customer: str | None,
    minutes: int,
) -> None:  # fmt: skip
    opened = events[0]
    assert isinstance(opened, TicketOpened)
    events = [attrs.evolve(opened, customer=customer), *events[1:]]
    policies = tuple(_policy(i, c, own) for i, (c, own) in enumerate(covers))
    desk = Desk(calendars=CALENDARS, calendar="office", sla_policies=policies)
    now = START + timedelta(minutes=minutes)
    h = History(events)
    found = outcome(lambda: desk.clocks(h, now))

    def folded() -> Any:  # the old path: fold the whole ticket, then choose
        ticket = h.until(now).ticket
        policy, _ = desk.choose_policy(ticket)
        if policy is None:
            return None
        calendar = CALENDARS.get(ticket.customer) if ticket.customer else None
        return evaluate(h.until(now), policy, now, customer_calendar=calendar)

    assert found == outcome(folded)


def test_a_worked_example_counts_the_same_facts_on_both_paths() -> None:
    def at(minutes: int) -> datetime:  # from 10:00 on a Monday: office hours
        return START + timedelta(hours=2, minutes=minutes)

    def move(tid: str, minutes: int, frm: str, to: str) -> StateChanged:
        return StateChanged(ticket_id=tid, actor="ann", at=at(minutes), trigger="t",
                            from_state=frm, to_state=to, from_category=frm, to_category=to,
                            hold_reason="wait" if to == "on_hold" else None)  # fmt: skip

    def opened(tid: str) -> TicketOpened:
        return TicketOpened(ticket_id=tid, actor="req", at=at(0), type="incident", state="new",
                            state_category="new", title="t", requester="req")  # fmt: skip

    moved_away = [
        opened("A"),
        Assigned(ticket_id="A", actor="op", at=at(5), assignee="ann", group="desk",
                 support_line=1),
        Reassigned(ticket_id="A", actor="op", at=at(10), assignee="bob", group="desk",
                   support_line=1, from_assignee="ann", from_group="desk", from_support_line=1),
        CommentAdded(ticket_id="A", actor="bob", at=at(20), body="b", public=True,
                     by_requester=False),
        move("A", 30, "new", "on_hold"),
        move("A", 90, "on_hold", "active"),
        move("A", 120, "active", "resolved"),
        SurveyRequested(ticket_id="A", actor="op", at=at(121)),
        SurveyAnswered(ticket_id="A", actor="req", at=at(122), rating=2),
        SurveyAnswered(ticket_id="A", actor="req", at=at(123), rating=5),
        CallbackRecorded(ticket_id="A", actor="qc", at=at(124), reached=True, confirmed=True),
        EscalationRequested(ticket_id="A", actor="req", at=at(125), kind="manager",
                            by_requester=True),
    ]  # fmt: skip
    first_time = [
        opened("B"),
        Assigned(ticket_id="B", actor="op", at=at(5), assignee="ann", group="desk",
                 support_line=1),
        move("B", 60, "new", "resolved"),
        move("B", 70, "resolved", "active"),
        Handover(ticket_id="B", actor="bot", at=at(80), group="net", priority="P1"),
    ]  # fmt: skip
    stamped = [opened("C"), Stamped(ticket_id="C", actor="bot", at=at(1))]
    histories = [History(moved_away), History(first_time), History(stamped)]
    figures = ServiceFigures.of(histories, calendar=OFFICE)
    assert figures == one_by_one(histories)
    assert figures.first_contact.counts() == (2, 0)  # A was reassigned, B reopened
    assert figures.first_contact.counts("agent", "bob") == (1, 0)
    assert figures.satisfaction.tally().ratings == ((5, 1),)
    assert figures.satisfaction.tally().confirmed == 1
    stats = figures.stats
    assert (stats.tally().arrived, stats.tally().reopened) == (3, 1)
    assert stats.tally("agent", "ann").reassigned_away == 2  # to bob in A, by the handover in B
    assert stats.tally("group", "desk").reassigned_away == 1  # B's handover to net
    assert str(stats.tally().median("on_hold")) == "1:00:00"
    assert stats.tally().first_response == (1_200_000_000, 4_800_000_000)  # a reply, a handover
    assert stats.tally().resolution == (3_600_000_000, 7_200_000_000)


def test_a_ticket_opened_on_hold_is_held_from_its_opening_on_both_paths() -> None:
    # An imported ticket may be first seen waiting: its hold ends at its first move out.
    opened = TicketOpened(ticket_id="H", actor="req", at=START + timedelta(hours=2),
                          type="incident", state="waiting", state_category="on_hold",
                          title="t", requester="req")  # fmt: skip
    resumed = StateChanged(ticket_id="H", actor="ann", at=START + timedelta(hours=3, minutes=30),
                           trigger="resume", from_state="waiting", to_state="active",
                           from_category="on_hold", to_category="active")  # fmt: skip
    events = [opened, resumed]
    figures = ServiceFigures.of([History(events)], calendar=OFFICE)  # the one walk
    assert figures == ServiceFigures.of([events], calendar=OFFICE)  # the plain walk
    assert figures == one_by_one([History(events)])
    assert str(figures.stats.tally().median("on_hold")) == "1:30:00"
