"""Routing: staff availability, assignment strategies, notification rules, catalog and channels."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeAlias

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar, Closure, WeeklySchedule
from itsm_core.errors import ConfigurationError, InvalidValueError, ItsmError
from itsm_core.lifecycle import default_lifecycles
from itsm_core.routing import (
    Absence,
    Agent,
    DutyRole,
    GroupRouting,
    NotificationRule,
    RoutingConfig,
    RoutingState,
    Service,
    ServiceCatalog,
    check_channel,
    choose,
    default_notification_rules,
    event_kind,
    notifications_for,
)
from itsm_core.testing._memo import memoized, sampled
from itsm_core.ticket import (
    AddComment,
    Assign,
    Attachment,
    ChangeRequester,
    CommentAdded,
    Event,
    LinkArticle,
    OpenTicket,
    Reassign,
    RequesterChanged,
    Ticket,
    Transition,
    UpdateField,
    Watch,
)

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
DAY = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["08:00-20:00"]), name="day")
NIGHT = BusinessCalendar(
    timezone="UTC", weekly=WeeklySchedule.same(["20:00-24:00", "00:00-08:00"]), name="night"
)
OFFICE = BusinessCalendar.eight_by_five("UTC")
CALENDARS = (None, DAY, NIGHT, OFFICE)
NAMES = ("a", "b", "c", "d", "e")
LIFECYCLES = default_lifecycles()
Case: TypeAlias = tuple[GroupRouting, dict[str, Agent], dict[str, int], datetime, tuple[str, ...]]


def ticket(**changes: Any) -> Ticket:
    base = Ticket(
        id="I-1",
        type="incident",
        state="new",
        state_category="new",
        title="Kiosk jammed",
        requester="rita",
        opened_at=AT,
        updated_at=AT,
        group="desk",
    )
    return attrs.evolve(base, **changes)


# ---------------------------------------------------------------------------- strategies


_CAPACITIES = st.none() | st.integers(1, 3)
_SKILLS = st.lists(st.sampled_from(("kiosk", "printer", "jam")), unique=True)
_MEMBERS = st.lists(st.sampled_from(NAMES), min_size=1, unique=True)
_WANTED = st.lists(st.sampled_from(("kiosk", "jam", "screen")), max_size=2)


@memoized
@st.composite
def agents(draw: st.DrawFn, name: str) -> Agent:
    absences: tuple[Absence, ...] = ()
    if draw(st.booleans()):
        first = date(2026, 3, 1) + timedelta(days=draw(st.integers(0, 6)))
        last = first + timedelta(days=draw(st.integers(0, 3)))
        absences = (Absence(kind="vacation", first=first, last=last),)
    return Agent(
        name=name,
        calendar=draw(sampled(tuple(CALENDARS))),
        absences=absences,
        capacity=draw(_CAPACITIES),
        skills=tuple(draw(_SKILLS)),
    )


@st.composite
def situations(draw: st.DrawFn, strategy: str | None = None) -> Case:
    members = tuple(draw(_MEMBERS))
    staff = {name: draw(agents(name)) for name in members}
    chosen_strategy = strategy or draw(
        st.sampled_from(("fixed", "round_robin", "least_loaded", "skills"))
    )
    routing = GroupRouting(
        group="desk",
        strategy=chosen_strategy,
        members=members,
        fixed=draw(sampled(tuple(members))) if chosen_strategy == "fixed" else None,
    )
    loads = {name: draw(st.integers(0, 4)) for name in members}
    at = AT + timedelta(minutes=draw(st.integers(0, 7 * 24 * 4)) * 15)
    wanted = tuple(draw(_WANTED))
    return routing, staff, loads, at, wanted


def eligible(staff: dict[str, Agent], loads: dict[str, int], at: datetime) -> set[str]:
    """The slow reference of availability: each rule checked by hand, from the raw data."""
    out = set()
    for name, agent in staff.items():
        tz = agent.calendar.timezone if agent.calendar else "UTC"
        day = pendulum.instance(at).in_tz(tz).date()
        absent = any(a.first <= day <= a.last for a in agent.absences)
        off = agent.calendar is not None and not any(
            start <= at < end
            for start, end in agent.calendar.open_intervals(
                at - timedelta(days=1), at + timedelta(days=1)
            )
        )
        full = agent.capacity is not None and loads.get(name, 0) >= agent.capacity
        if not (absent or off or full):
            out.add(name)
    return out


# ---------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(situations())
def test_nobody_unavailable_at_now_is_ever_chosen(case: Case) -> None:
    routing, staff, loads, at, wanted = case
    chosen, _, rows = choose(routing, staff, at=at, loads=loads, wanted=wanted)
    if chosen is not None:
        assert chosen in eligible(staff, loads, at)
        assert staff[chosen].is_available(at, load=loads[chosen])
    assert [r.agent for r in rows] == list(routing.candidates)
    assert [r.agent for r in rows if r.chosen] == ([chosen] if chosen else [])


@settings(max_examples=300, deadline=None)
@given(situations("least_loaded"))
def test_least_loaded_picks_a_minimum_load_available_agent(case: Case) -> None:
    routing, staff, loads, at, _ = case
    chosen, _, _ = choose(routing, staff, at=at, loads=loads)
    free = eligible(staff, loads, at)
    if free:
        assert chosen is not None
        assert loads[chosen] == min(loads[name] for name in free)
    else:
        assert chosen is None


@settings(max_examples=200, deadline=None)
@given(situations(), st.booleans())
def test_the_fallback_fires_exactly_when_nobody_is_available(case: Case, supervisor: bool) -> None:
    routing, staff, loads, at, wanted = case
    routing = attrs.evolve(
        routing,
        fallback="supervisor" if supervisor else "queue",
        supervisor="boss" if supervisor else None,
    )
    config = RoutingConfig(staff=tuple(staff.values()), groups=(routing,))
    t = ticket(
        service=wanted[0] if wanted else None, category=wanted[1] if len(wanted) > 1 else None
    )
    decision = config.route(t, at=at, loads=loads)
    candidates = set(routing.candidates) & eligible(staff, loads, at)
    if routing.strategy == "skills" and wanted:
        candidates = {n for n in candidates if set(wanted) & set(staff[n].skills)}
    assert decision.fallback == (not candidates)
    if decision.fallback:
        assert decision.outcome == ("supervisor" if supervisor else "queued")
        assert decision.assignee == ("boss" if supervisor else None)
    else:
        assert decision.outcome == "assigned"
        assert decision.assignee in candidates


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(NAMES), min_size=1, unique=True),
    st.lists(st.sampled_from(NAMES), unique=True),
    st.integers(0, 20),
    st.integers(1, 3),
)
def test_round_robin_over_n_available_agents_assigns_each_once_per_n_tickets(
    members: list[str], away: list[str], start: int, rounds: int
) -> None:
    vacation = Absence(kind="vacation", first=AT.date(), last=AT.date())
    staff = tuple(Agent(name=n, absences=(vacation,) if n in away else ()) for n in members)
    config = RoutingConfig(
        staff=staff, groups=(GroupRouting(group="desk", members=tuple(members)),)
    )
    available = [n for n in members if n not in away]
    state = RoutingState(positions={"desk": start})
    chosen = []
    for _ in range(rounds * len(available)):
        decision = config.route(ticket(), at=AT, state=state)
        state = decision.state
        chosen.append(decision.assignee)
    n = len(available)
    for r in range(rounds):
        assert sorted(chosen[r * n : (r + 1) * n], key=str) == sorted(available)
    if not available:
        assert config.route(ticket(), at=AT, state=state).outcome == "queued"


@settings(max_examples=100, deadline=None)
@given(situations())
def test_the_same_inputs_give_the_same_decision(case: Case) -> None:
    routing, staff, loads, at, _wanted = case
    config = RoutingConfig(staff=tuple(staff.values()), groups=(routing,))
    assert config.route(ticket(), at=at, loads=loads) == config.route(ticket(), at=at, loads=loads)


# ---------------------------------------------------------------------------- availability


def test_an_agent_on_sick_leave_is_unavailable_and_says_so() -> None:
    agent = Agent(
        name="a",
        absences=(Absence(kind="sick_leave", first=date(2026, 3, 2), last=date(2026, 3, 3)),),
    )
    assert agent.unavailable_reason(AT) == "on sick leave from 2026-03-02 to 2026-03-03"
    assert agent.is_available(AT + timedelta(days=2))


def test_a_closure_of_the_agents_own_calendar_makes_them_unavailable() -> None:
    calendar = attrs.evolve(
        DAY, closures=(Closure(day=date(2026, 3, 2), start="09:00", end="12:00"),)
    )
    agent = Agent(name="a", calendar=calendar)
    assert not agent.is_working(AT)
    assert agent.is_working(AT + timedelta(hours=3))


def test_absences_count_in_the_agents_own_timezone() -> None:
    moscow = BusinessCalendar.always_open("Europe/Moscow")
    agent = Agent(
        name="a",
        calendar=moscow,
        absences=(Absence(kind="training", first=date(2026, 3, 3), last=date(2026, 3, 3)),),
    )
    # 22:00 UTC on the 2nd is already the 3rd in Moscow.
    assert not agent.is_working(datetime(2026, 3, 2, 22, tzinfo=UTC))
    assert agent.is_working(datetime(2026, 3, 2, 20, tzinfo=UTC))


def test_a_naive_now_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidValueError, match=r"^at:"):
        Agent(name="a").is_available(datetime(2026, 3, 2, 10))


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Agent(name=""), "agent.name"),
        (lambda: Agent(name="a", capacity=0), "agent.capacity"),
        (lambda: Agent(name="a", calendar="8x5"), "agent.calendar"),  # type: ignore[arg-type]
        (lambda: Agent(name="a", absences=("vacation",)), "agent.absences[0]"),
        (lambda: Agent(name="a", skills=("x", "x")), "agent.skills[1]"),
        (
            lambda: Absence(kind="vacation", first=date(2026, 3, 2), last=date(2026, 3, 1)),
            "absence.last",
        ),
        (lambda: Absence(kind="vacation", first=AT, last=date(2026, 3, 1)), "absence.first"),
        (lambda: DutyRole(name="d", holders="olga"), "duty.holders"),
        (lambda: GroupRouting(group="g", strategy="fixed"), "group_routing.fixed"),
        (lambda: GroupRouting(group="g", fallback="supervisor"), "group_routing.supervisor"),
        (
            lambda: GroupRouting(group="g", fallback="group", fallback_group="g"),
            "group_routing.fallback_group",
        ),
        (lambda: GroupRouting(group="g", support_line=0), "group_routing.support_line"),
        (lambda: GroupRouting(group="g", fallback="nobody"), "group_routing.fallback"),
        (lambda: RoutingState(positions=(("g", -1),)), "routing_state.positions[0]"),
        (lambda: RoutingState(positions=3), "routing_state.positions"),
        (lambda: GroupRouting(group=" "), "group_routing.group"),
        (lambda: GroupRouting(group="g", supervisor=""), "group_routing.supervisor"),
        (lambda: RoutingConfig(staff=(Agent(name="a"), Agent(name="a"))), "routing.staff[1]"),
        (lambda: RoutingConfig(staff=("a",)), "routing.staff[0]"),
        (
            lambda: RoutingConfig(groups=(GroupRouting(group="g", strategy="fixed", fixed="x"),)),
            "routing.groups[0].fixed",
        ),
        (
            lambda: RoutingConfig(
                groups=(GroupRouting(group="g", fallback="group", fallback_group="h"),)
            ),
            "routing.groups[0].fallback_group",
        ),
        (
            lambda: RoutingConfig(duties=(DutyRole(name="d", holders=("x",)),)),
            "routing.duties[0].holders[0]",
        ),
        (
            lambda: RoutingConfig(
                catalog=ServiceCatalog(services=(Service(name="s", groups=("x",)),))
            ),
            "routing.catalog.services[0].groups[0]",
        ),
        (lambda: RoutingConfig(catalog="kiosk"), "routing.catalog"),  # type: ignore[arg-type]
        (lambda: RoutingConfig(channels=("phone", "")), "routing.channels[1]"),
        (
            lambda: ServiceCatalog(services=(Service(name="s"), Service(name="s"))),
            "catalog.services[1].name",
        ),
        (lambda: ServiceCatalog(services=("s",)), "catalog.services[0]"),
        (lambda: Service(name=" "), "service.name"),
    ],
)
def test_bad_routing_configuration_is_an_itsm_error_naming_the_field(
    build: Callable[[], object], field: str
) -> None:
    with pytest.raises(ItsmError) as caught:
        build()
    assert isinstance(caught.value, InvalidValueError)
    assert caught.value.field == field


def test_the_dispatcher_of_the_day_is_the_duty_holder_whose_shift_is_on() -> None:
    config = RoutingConfig(
        staff=(Agent(name="olga", calendar=DAY), Agent(name="nik", calendar=NIGHT)),
        duties=(DutyRole(name="dispatcher", holders=("olga", "nik")),),
    )
    assert config.on_duty("dispatcher", AT) == ("olga",)
    assert config.on_duty("dispatcher", AT + timedelta(hours=12)) == ("nik",)
    with pytest.raises(InvalidValueError, match=r"^role:"):
        config.on_duty("cook", AT)


def test_available_lists_the_agents_who_can_take_a_ticket_now() -> None:
    config = RoutingConfig(
        staff=(Agent(name="a", capacity=1), Agent(name="b", calendar=NIGHT), Agent(name="c"))
    )
    assert config.available(AT, loads={"a": 1}) == ("c",)
    assert config.agent("zed") is None
    assert config.group("zed") is None


# ---------------------------------------------------------------------------- assignment


def test_the_decision_explains_why_this_agent_and_why_not_each_other_one() -> None:
    staff = (
        Agent(name="a", capacity=2),
        Agent(name="b"),
        Agent(name="c", calendar=NIGHT),
        Agent(name="d"),
    )
    config = RoutingConfig(
        staff=staff,
        groups=(GroupRouting(group="desk", strategy="least_loaded", members=("a", "b", "c", "d")),),
    )
    decision = config.route(ticket(), at=AT, loads={"a": 2, "b": 1, "d": 1})
    assert decision.assignee == "b"
    assert [c.reason for c in decision.candidates] == [
        "at capacity (2 of 2 open tickets)",
        "1 open tickets, the fewest",
        "off shift (calendar 'night' is closed at 2026-03-02T10:00:00+00:00)",
        "1 open tickets, as few, but b comes first among the members",
    ]
    assert decision.explain().splitlines()[0] == "I-1 -> b in desk: least loaded in desk"


def test_skills_match_prefers_the_agent_knowing_both_service_and_category() -> None:
    staff = (
        Agent(name="a", skills=("kiosk",)),
        Agent(name="b", skills=("kiosk", "jam")),
        Agent(name="c", skills=("mail",)),
    )
    routing = GroupRouting(group="desk", strategy="skills", members=("a", "b", "c"))
    config = RoutingConfig(staff=staff, groups=(routing,))
    decision = config.route(ticket(service="kiosk", category="jam"), at=AT, loads={"b": 3})
    assert decision.assignee == "b"
    reasons = {c.agent: c.reason for c in decision.candidates}
    assert reasons == {
        "a": "matches 1 of 2 wanted skills, fewer than 2",
        "b": "matches 2 of 2 wanted skills, 3 open tickets",
        "c": "no skill for 'kiosk' or 'jam'",
    }
    # Without a service or category, skills routing balances the load.
    assert config.route(ticket(), at=AT, loads={"a": 1, "b": 1}).assignee == "c"


def test_the_fixed_strategy_gives_the_fixed_agent_or_falls_back_to_the_supervisor() -> None:
    routing = GroupRouting(
        group="desk",
        strategy="fixed",
        members=("a",),
        fixed="a",
        fallback="supervisor",
        supervisor="boss",
    )
    config = RoutingConfig(staff=(Agent(name="a", calendar=NIGHT),), groups=(routing,))
    night = config.route(ticket(), at=AT + timedelta(hours=12))
    assert (night.assignee, night.outcome, night.fallback) == ("a", "assigned", False)
    assert night.candidates[0].reason == "the group's fixed agent, available"
    day = config.route(ticket(), at=AT)
    assert (day.assignee, day.outcome, day.fallback) == ("boss", "supervisor", True)
    assert day.reason == "nobody available in desk; escalated to the supervisor boss"


def test_a_group_fallback_routes_in_the_other_group_and_stops_at_a_cycle() -> None:
    staff = (Agent(name="a", calendar=NIGHT), Agent(name="b"), Agent(name="c", calendar=NIGHT))
    groups = (
        GroupRouting(
            group="first", members=("a",), support_line=1, fallback="group", fallback_group="second"
        ),
        GroupRouting(group="second", members=("b",), support_line=2),
        GroupRouting(group="loop", members=("c",), fallback="group", fallback_group="first"),
    )
    config = RoutingConfig(staff=staff, groups=groups)
    decision = config.route(ticket(group="first"), at=AT)
    assert (decision.assignee, decision.group, decision.support_line) == ("b", "second", 2)
    assert decision.fallback
    assert decision.reason == "nobody available in first; round robin in second"
    assert decision.command(ticket(group="first")) == Assign(
        assignee="b", group="second", support_line=2
    )
    cyclic = RoutingConfig(
        staff=staff,
        groups=(
            groups[0],
            attrs.evolve(groups[1], members=(), fallback="group", fallback_group="first"),
        ),
    )
    stuck = cyclic.route(ticket(group="first"), at=AT)
    assert (stuck.outcome, stuck.assignee) == ("queued", None)
    assert stuck.reason == "nobody available in first, second; queued in second"
    assert stuck.command(ticket()) is None


def test_rerouting_an_assigned_ticket_reassigns_and_skips_the_current_assignee() -> None:
    config = RoutingConfig(
        staff=(Agent(name="a"), Agent(name="b")),
        groups=(GroupRouting(group="desk", members=("a", "b")),),
    )
    held = ticket(assignee="a", support_line=None)
    decision = config.route(held, at=AT)
    assert decision.assignee == "b"
    assert decision.candidates[0].reason == "already holds the ticket"
    assert decision.command(held, reason="a is away") == Reassign(
        assignee="b", group="desk", support_line=None, reason="a is away"
    )
    same = attrs.evolve(held, assignee="b")
    assert decision.command(same) is None
    assert config.route(held, at=AT, exclude=()).assignee == "a"


def test_the_group_comes_from_the_ticket_or_the_catalog_or_is_an_error() -> None:
    catalog = ServiceCatalog(
        services=(Service(name="kiosk", groups=("desk",)), Service(name="mail"))
    )
    config = RoutingConfig(
        staff=(Agent(name="a"),),
        groups=(GroupRouting(group="desk", members=("a",)),),
        catalog=catalog,
    )
    assert config.group_for(ticket(group=None, service="kiosk")) == "desk"
    for bad in (ticket(group=None), ticket(group=None, service="mail")):
        with pytest.raises(InvalidValueError, match=r"^ticket.group:"):
            config.group_for(bad)
    with pytest.raises(InvalidValueError, match=r"^group:"):
        config.route(ticket(), at=AT, group="nowhere")


def test_an_agent_missing_from_the_staff_is_never_chosen() -> None:
    routing = GroupRouting(group="desk", members=("ghost", "a"))
    chosen, position, rows = choose(routing, {"a": Agent(name="a")}, at=AT, loads={})
    assert (chosen, position) == ("a", 0)
    assert rows[0].reason == "not on the staff"


def test_round_robin_explains_who_came_first_in_turn() -> None:
    routing = GroupRouting(group="desk", members=("a", "b"))
    staff = {n: Agent(name=n) for n in ("a", "b")}
    chosen, position, rows = choose(routing, staff, at=AT, loads={}, position=1)
    assert (chosen, position) == ("b", 0)
    assert rows[0].reason == "available, but b came first in turn"
    assert str(rows[1]) == "desk/b: chosen, next in turn"


# ---------------------------------------------------------------------------- notifications


def opened(**fields: Any) -> tuple[Ticket, tuple[Event, ...]]:
    command = OpenTicket(
        ticket_id="I-1", type="incident", title="Kiosk jammed", requester="rita", **fields
    )
    return LIFECYCLES.apply(None, command, actor="olga", at=AT)


def test_the_default_preset_tells_the_requester_of_each_state_change_and_public_reply() -> None:
    t, history = opened()
    events = list(history)
    for command, actor in (
        (Assign(assignee="olga", group="desk"), "olga"),
        (AddComment(body="Looking", public=True), "olga"),
        (AddComment(body="note", public=False), "olga"),
        (AddComment(body="thanks", public=True), "rita"),
        (Transition(trigger="resolve", resolution_code="fixed", reason="paper"), "olga"),
    ):
        t, new = LIFECYCLES.apply(t, command, actor=actor, at=AT)
        events += new
    sent = notifications_for(default_notification_rules(), events)
    assert [(n.event, n.template, n.recipients, n.public) for n in sent] == [
        ("state_entered", "ticket.state_changed", ("rita",), True),
        ("public_reply", "ticket.public_reply", ("rita",), True),
        ("state_entered", "ticket.state_changed", ("rita",), True),
    ]
    assert [n.cause for n in sent] == ["StateChanged", "CommentAdded", "StateChanged"]


def test_internal_notifications_never_reach_the_requester() -> None:
    rules = (
        NotificationRule(
            name="team",
            on="internal_note",
            recipients=("requester", "watchers", "group", "assignee"),
            people=("rita",),
            template="note",
            visibility="internal",
        ),
    )
    config = RoutingConfig(
        staff=(Agent(name="olga"), Agent(name="pavel")),
        groups=(GroupRouting(group="desk", members=("olga", "pavel"), supervisor="sue"),),
        notifications=rules,
    )
    t, _ = opened()
    t, _first = LIFECYCLES.apply(t, Assign(assignee="olga", group="desk"), actor="olga", at=AT)
    t, _watch = LIFECYCLES.apply(t, Watch(watcher="rita"), actor="olga", at=AT)
    before = t
    t, note = LIFECYCLES.apply(t, AddComment(body="internal", public=False), actor="pavel", at=AT)
    (sent,) = config.notify(note, ticket=before)
    assert "rita" not in sent.recipients
    assert sent.recipients == ("olga",)
    assert sent.withheld == ("pavel (the actor)", "rita (the requester; internal)")


def test_recipients_resolve_supervisors_managers_previous_assignees_and_named_people() -> None:
    rules = (
        NotificationRule(
            name="moved",
            on="reassigned",
            recipients=("previous_assignee", "assignee", "supervisor", "manager"),
            people=("audit",),
            template="moved",
            visibility="internal",
            notify_actor=True,
        ),
        NotificationRule(
            name="high",
            on="priority_changed",
            recipients=("supervisor",),
            priorities=("P1",),
            template="p1",
            visibility="internal",
        ),
    )
    groups = (
        GroupRouting(group="desk", members=("olga",), supervisor="sue", manager="max"),
        GroupRouting(group="net", members=("pavel",)),
    )
    config = RoutingConfig(
        staff=(Agent(name="olga"), Agent(name="pavel")), groups=groups, notifications=rules
    )
    t, _ = opened(impact="low", urgency="low")
    t, _ = LIFECYCLES.apply(t, Assign(assignee="olga", group="desk"), actor="olga", at=AT)
    before = t
    t, moved = LIFECYCLES.apply(
        t, Reassign(assignee="pavel", group="net", reason="network"), actor="olga", at=AT
    )
    (sent,) = config.notify(moved, ticket=before)
    assert sent.recipients == ("olga", "pavel", "audit")
    assert sent.unresolved == ("supervisor", "manager")
    assert config.notify(
        moved,
        ticket=before,
    ) == notifications_for(rules, moved, ticket=before, groups=config.group_contacts())


def test_a_rule_narrowed_by_state_type_and_actor_fires_only_when_all_hold() -> None:
    rule = NotificationRule(
        name="hold",
        on="state_entered",
        states=("on_hold",),
        types=("incident",),
        by="agent",
        recipients=("requester",),
        template="held",
    )
    t, history = opened()
    events = list(history)
    for command in (
        Assign(assignee="olga", group="desk"),
        Transition(trigger="start"),
        Transition(trigger="hold", hold_reason="awaiting_vendor", reason="part"),
    ):
        t, new = LIFECYCLES.apply(t, command, actor="olga", at=AT)
        events += new
    sent = notifications_for((rule,), events)
    assert [n.template for n in sent] == ["held"]
    assert notifications_for((attrs.evolve(rule, by="requester"),), events) == ()
    assert notifications_for((attrs.evolve(rule, types=("problem",)),), events) == ()
    assert notifications_for((attrs.evolve(rule, priorities=("P1",)),), events) == ()
    assert (
        notifications_for((attrs.evolve(rule, states=(), categories=("resolved",)),), events) == ()
    )


def test_a_notification_with_nobody_left_is_kept_only_when_asked() -> None:
    _t, history = opened()
    rule = NotificationRule(name="opened", on="opened", recipients=("assignee",), template="t")
    assert notifications_for((rule,), history) == ()
    (empty,) = notifications_for((rule,), history, include_empty=True)
    assert empty.recipients == ()
    assert empty.unresolved == ("assignee",)


def test_events_no_rule_can_name_are_passed_over() -> None:
    t, _history = opened()
    _t2, events = LIFECYCLES.apply(t, Watch(watcher="x"), actor="olga", at=AT)
    assert event_kind(events[0]) is None
    assert notifications_for(default_notification_rules(), events, ticket=t) == ()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"on": "state_changed"}, "notification_rule.on"),
        ({"on": "opened", "recipients": ("customer",)}, "notification_rule.recipients[0]"),
        ({"on": "opened", "recipients": ()}, "notification_rule.recipients"),
        ({"on": "opened", "visibility": "secret"}, "notification_rule.visibility"),
        ({"on": "internal_note"}, "notification_rule.visibility"),
        ({"on": "opened", "states": ("new",)}, "notification_rule.states"),
        ({"on": "opened", "by": "robot"}, "notification_rule.by"),
        ({"on": "opened", "template": ""}, "notification_rule.template"),
    ],
)
def test_a_bad_notification_rule_is_an_itsm_error_naming_the_field(
    kwargs: dict[str, Any], field: str
) -> None:
    fields = {"name": "r", "template": "t", "recipients": ("requester",), **kwargs}
    with pytest.raises(InvalidValueError) as caught:
        NotificationRule(**fields)
    assert caught.value.field == field


# ---------------------------------------------------------------------------- catalog and channels


CATALOG = ServiceCatalog(
    services=(
        Service(
            name="kiosk",
            categories=("paper jam", "screen"),
            groups=("desk",),
            components=("kiosk-12",),
        ),
        Service(name="mail", categories=("mailbox",)),
    )
)
CONFIG = RoutingConfig(
    staff=(Agent(name="a"),), groups=(GroupRouting(group="desk", members=("a",)),), catalog=CATALOG
)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (
            OpenTicket(ticket_id="I", type="incident", title="t", requester="r", channel="fax"),
            "command.channel",
        ),
        (
            OpenTicket(ticket_id="I", type="incident", title="t", requester="r", service="kisok"),
            "command.service",
        ),
        (
            OpenTicket(
                ticket_id="I",
                type="incident",
                title="t",
                requester="r",
                service="kiosk",
                category="mailbox",
            ),
            "command.category",
        ),
        (
            OpenTicket(ticket_id="I", type="incident", title="t", requester="r", category="nope"),
            "command.category",
        ),
    ],
)
def test_an_unknown_channel_service_or_category_is_refused_on_opening(
    command: OpenTicket, field: str
) -> None:
    with pytest.raises(ItsmError) as caught:
        CONFIG.check_command(None, command)
    assert caught.value.field == field  # type: ignore[attr-defined]


def test_a_known_classification_and_channel_pass_and_other_commands_are_not_checked() -> None:
    good = OpenTicket(
        ticket_id="I",
        type="incident",
        title="t",
        requester="r",
        channel="phone",
        service="kiosk",
        category="screen",
    )
    CONFIG.check_command(None, good)
    CONFIG.check_command(ticket(), Watch(watcher="x"))
    RoutingConfig().check_command(None, attrs.evolve(good, service="anything"))


def test_recategorising_checks_the_new_pair_against_the_catalog() -> None:
    t = ticket(service="kiosk", category="screen")
    CONFIG.check_command(t, UpdateField(field="category", value="paper jam"))
    CONFIG.check_command(t, UpdateField(field="title", value="anything"))
    with pytest.raises(InvalidValueError) as caught:
        CONFIG.check_command(t, UpdateField(field="service", value="mail"))
    assert caught.value.field == "command.value.category"
    with pytest.raises(InvalidValueError) as caught:
        CONFIG.check_command(t, UpdateField(field="category", value="mailbox"))
    assert caught.value.field == "command.value.category"


def test_components_belong_to_the_ticket_service() -> None:
    CATALOG.check(service="kiosk", category=None, component="kiosk-12")
    CATALOG.check(service=None, category="mailbox")
    for service in ("kiosk", None):
        with pytest.raises(InvalidValueError, match=r"^component:"):
            CATALOG.check(service=service, category=None, component="printer-1")
    assert CATALOG.service("nope") is None


def test_a_configurable_channel_vocabulary_replaces_the_default() -> None:
    assert check_channel("kiosk-button", ("kiosk-button",)) == "kiosk-button"
    assert check_channel(None) is None
    with pytest.raises(InvalidValueError, match=r"^channel: expected one of kiosk-button"):
        check_channel("phone", ("kiosk-button",))


# ---------------------------------------------------------------------------- ticket fields


def test_channel_and_attachments_are_recorded_on_opening_and_from_comments() -> None:
    shot = Attachment(id="att-1", file_name="jam.jpg", size=1200, media_type="image/jpeg")
    t, _ = opened(channel="phone", attachments=(shot,))
    log = Attachment(id="att-2", file_name="kiosk.log", size=80, media_type="text/plain")
    t, (comment,) = LIFECYCLES.apply(
        t, AddComment(body="log", attachments=(log,)), actor="olga", at=AT
    )
    assert t.channel == "phone"
    assert isinstance(comment, CommentAdded)
    assert comment.attachments == (log,)
    assert t.attachments == (shot, log)
    assert (
        LIFECYCLES.replay([*_[:0], *opened(channel="phone", attachments=(shot,))[1], comment]) == t
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"id": "a", "file_name": "", "size": 1}, "attachment.file_name"),
        ({"id": " ", "file_name": "f", "size": 1}, "attachment.id"),
        ({"id": "a", "file_name": "f", "size": -1}, "attachment.size"),
        ({"id": "a", "file_name": "f", "size": True}, "attachment.size"),
        ({"id": "a", "file_name": "f", "size": 1, "media_type": "png"}, "attachment.media_type"),
        (
            {"id": "a", "file_name": "f", "size": 1, "media_type": "image/ png"},
            "attachment.media_type",
        ),
    ],
)
def test_an_attachment_without_a_name_or_with_a_bad_field_is_refused(
    kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ItsmError) as caught:
        Attachment(**kwargs)
    assert caught.value.field == field  # type: ignore[attr-defined]


def test_attachments_given_twice_or_not_as_attachments_are_refused() -> None:
    a = Attachment(id="a", file_name="f", size=1)
    with pytest.raises(InvalidValueError, match=r"^command.attachments\[1\].id"):
        opened(attachments=(a, a))
    with pytest.raises(InvalidValueError, match=r"^command.attachments\[0\]"):
        opened(attachments=("f.txt",))


def test_changing_the_requester_needs_a_reason_and_is_audited() -> None:
    t, _ = opened(channel="phone")
    t2, (event,) = LIFECYCLES.apply(
        t, ChangeRequester(requester="ivan", reason="caller identified"), actor="olga", at=AT
    )
    assert isinstance(event, RequesterChanged)
    assert (t2.requester, event.from_requester, event.reason) == (
        "ivan",
        "rita",
        "caller identified",
    )
    assert ChangeRequester(requester="x", reason="y").action == "requester.change"
    with pytest.raises(InvalidValueError, match=r"^command.reason"):
        LIFECYCLES.apply(t, ChangeRequester(requester="ivan", reason=""), actor="olga", at=AT)
    with pytest.raises(InvalidValueError, match=r"^command.requester"):
        LIFECYCLES.apply(t, ChangeRequester(requester="rita", reason="same"), actor="olga", at=AT)


# ---------------------------------------------------------------------------- data in and out


def test_a_routing_configuration_round_trips_through_plain_data_and_has_a_json_schema() -> None:
    from itsm_core.serialization import json_schema, make_converter

    conv = make_converter()
    config = RoutingConfig(
        staff=(
            Agent(
                name="olga",
                calendar=OFFICE,
                absences=(
                    Absence(kind="sick_leave", first=date(2026, 3, 3), last=date(2026, 3, 4)),
                ),
                capacity=4,
                skills=("kiosk",),
            ),
            Agent(name="nik"),
        ),
        groups=(
            GroupRouting(
                group="desk",
                strategy="skills",
                members=("olga", "nik"),
                fallback="supervisor",
                supervisor="sue",
            ),
        ),
        duties=(DutyRole(name="dispatcher", holders=("nik",)),),
        channels=("phone", "kiosk-button"),
        catalog=CATALOG,
    )
    data = conv.unstructure(config)
    assert conv.structure(json.loads(json.dumps(data)), RoutingConfig) == config
    schema = json.dumps(json_schema(RoutingConfig))
    for name in ("absences", "capacity", "fallback_group", "visibility", "components", "channels"):
        assert f'"{name}"' in schema


def test_a_configuration_document_naming_an_unknown_event_kind_is_refused_with_its_path() -> None:
    from itsm_core.serialization import make_converter, structure_checked

    document = {
        "notifications": [
            {"name": "x", "on": "bogus", "template": "t", "recipients": ["requester"]}
        ]
    }
    with pytest.raises(ConfigurationError, match=r"notifications\[0\]\.on: expected one of opened"):
        structure_checked(make_converter(), document, RoutingConfig)


def test_sla_thresholds_and_breaches_are_event_kinds_of_their_own() -> None:
    from itsm_core.desk import SlaThresholdReached

    rules = (
        NotificationRule(
            name="warn",
            on="sla_threshold",
            recipients=("assignee",),
            template="w",
            visibility="internal",
        ),
        NotificationRule(
            name="breach",
            on="sla_breached",
            recipients=("assignee",),
            people=("sue",),
            template="b",
            visibility="internal",
        ),
    )
    t, _ = opened()
    t, _ = LIFECYCLES.apply(t, Assign(assignee="olga", group="desk"), actor="router", at=AT)
    events = tuple(
        SlaThresholdReached(
            ticket_id="I-1",
            actor="desk",
            at=AT,
            policy="p",
            metric="resolution",
            cycle=1,
            percent=p,
            reached_at=AT,
        )
        for p in (75, 100)
    )
    assert [event_kind(e) for e in events] == ["sla_threshold", "sla_breached"]
    sent = notifications_for(rules, events, ticket=t)
    assert [(n.rule, n.recipients, n.public) for n in sent] == [
        ("warn", ("olga",), False),
        ("breach", ("olga", "sue"), False),
    ]


def test_an_article_is_linked_once_and_may_be_marked_as_the_solution_later() -> None:
    t, _ = opened()
    t, _ = LIFECYCLES.apply(t, LinkArticle(article_id="KB-1", title="Jam"), actor="olga", at=AT)
    assert [a.article_id for a in t.articles] == ["KB-1"]
    assert not t.solved_with_article
    assert LIFECYCLES.apply(t, LinkArticle(article_id="KB-1"), actor="olga", at=AT)[1] == ()
    t, solved = LIFECYCLES.apply(
        t, LinkArticle(article_id="KB-1", solved=True), actor="olga", at=AT
    )
    assert len(solved) == 1
    assert [a.article_id for a in t.articles] == ["KB-1"]
    assert t.solved_with_article
    assert (
        LIFECYCLES.apply(t, LinkArticle(article_id="KB-1", solved=True), actor="olga", at=AT)[1]
        == ()
    )
    assert LinkArticle(article_id="KB-1").action == "article.link"
    with pytest.raises(InvalidValueError, match=r"^command\.solved"):
        LIFECYCLES.apply(t, LinkArticle(article_id="KB-2", solved="yes"), actor="olga", at=AT)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"^command\.article_id"):
        LIFECYCLES.apply(t, LinkArticle(article_id=""), actor="olga", at=AT)


def reference_choice(
    routing: GroupRouting,
    staff: dict[str, Agent],
    loads: dict[str, int],
    at: datetime,
    position: int,
    wanted: tuple[str, ...],
) -> str | None:
    """The slow reference of every strategy, written from its definition."""
    free = eligible(staff, loads, at)
    if routing.strategy == "fixed":
        return routing.fixed if routing.fixed in free else None
    members = list(routing.members)
    if routing.strategy == "round_robin":
        for step in range(len(members)):
            name = members[(position + step) % len(members)]
            if name in free:
                return name
        return None

    def score(name: str) -> int:
        return len([w for w in wanted if w in staff[name].skills])

    pool = [n for n in members if n in free]
    if routing.strategy == "skills" and wanted:
        pool = [n for n in pool if score(n) > 0]
    ranked = sorted(
        pool,
        key=lambda n: (
            -score(n) if routing.strategy == "skills" else 0,
            loads.get(n, 0),
            members.index(n),
        ),
    )
    return ranked[0] if ranked else None


@settings(max_examples=300, deadline=None)
@given(situations(), st.integers(0, 9))
def test_every_strategy_agrees_with_its_slow_reference(case: Case, position: int) -> None:
    routing, staff, loads, at, wanted = case
    chosen, _, _ = choose(routing, staff, at=at, loads=loads, position=position, wanted=wanted)
    assert chosen == reference_choice(routing, staff, loads, at, position, wanted)
