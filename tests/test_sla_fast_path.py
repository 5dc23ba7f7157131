"""The SLA fold specialised per policy gives the plain fold's answers; policy selection reads
only the events that can change applicability; results are built on first use."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core._time import to_us
from itsm_core.calendar import BusinessCalendar
from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle import History
from itsm_core.sla import (
    Applicability,
    BusinessDays,
    ClassifiedStart,
    Condition,
    DueDateSet,
    Metric,
    MissingTarget,
    SlaPolicy,
    StartAt,
    WallDuration,
    evaluate,
    evaluate_many,
    evaluate_reference,
    select_policy,
    select_policy_for_history,
)
from itsm_core.sla._compiled import COMPILE_AFTER, compiled_fold
from itsm_core.testing import event_histories, instants, preset_calendars, sla_policies
from itsm_core.ticket import (
    Assigned,
    CommentAdded,
    Event,
    FieldChanged,
    GroupAssigned,
    PriorityChanged,
    StateChanged,
    TicketOpened,
    Unassigned,
)

STARTS = instants(zones=("UTC",))
DAY_US = 86_400_000_000
# A drawn policy and history cost a few milliseconds: an eighth of the profile's examples.
QUARTER = settings(max_examples=max(50, settings().max_examples // 8), deadline=None)

_VARIANTS = st.fixed_dictionaries(
    {},
    optional={
        "on_missing_target": st.sampled_from(list(MissingTarget)),
        "classified_start": st.sampled_from(list(ClassifiedStart)),
        "start_at": st.sampled_from(list(StartAt)),
        "start_offset": st.sampled_from([timedelta(0), timedelta(minutes=30)]),
        "hide_due_in": st.just(("waiting",)),
        "reset": st.just((Condition(event="priority_changed"),)),
        "resume": st.just((Condition(event="comment_added", by_requester=True),)),
        "default_target": st.sampled_from(
            [timedelta(hours=2), BusinessDays(days=1), WallDuration(value=timedelta(hours=30))]
        ),
    },
)


@st.composite
def policies(draw: st.DrawFn) -> SlaPolicy:
    """The standard metrics with random targets, some of them with unusual options."""
    policy = draw(sla_policies(calendars=preset_calendars()))
    options: list[dict[str, Any]] = [draw(_VARIANTS) for _ in policy.metrics]
    metrics = tuple(attrs.evolve(m, **o) for m, o in zip(policy.metrics, options, strict=True))
    return attrs.evolve(policy, metrics=metrics)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Event], SlaPolicy, datetime]:
    # plain policies run the fold compiled per policy; the others the general one
    policy = draw(st.one_of(sla_policies(calendars=preset_calendars()), policies()))
    history = draw(event_histories(start_us=STARTS, max_events=8))
    if draw(st.booleans()):  # a due instant set by hand, somewhere in the history
        where = draw(st.integers(1, len(history)))
        at = history[where - 1].at
        due = draw(
            st.none() | st.integers(0, 3 * DAY_US).map(lambda us: at + timedelta(microseconds=us))
        )
        metric = draw(st.sampled_from([m.name for m in policy.metrics]))
        history.insert(
            where,
            DueDateSet(
                ticket_id=history[0].ticket_id, actor="lead", at=at, metric=metric, due=due,
                reason="agreed with the customer",
            ),
        )  # fmt: skip
    later = draw(st.integers(-DAY_US, 10 * DAY_US))
    now = max(history[0].at, history[-1].at + timedelta(microseconds=later))
    return history, policy, now


@QUARTER
@given(scenarios())
def test_the_specialised_fold_gives_the_plain_folds_answers(
    scenario: tuple[list[Event], SlaPolicy, datetime],
) -> None:
    history, policy, now = scenario
    refused: str | None = None
    try:
        expected = evaluate_reference(history, policy, now)
    except InvalidValueError as exc:  # a refused priority change: both refuse it alike
        refused = str(exc)
    if refused is not None:
        with pytest.raises(InvalidValueError) as caught:
            evaluate(history, policy, now)
        assert str(caught.value) == refused
        return
    compiled_fold(policy, eager=True)  # the generated fold, not the general one
    found = evaluate(history, policy, now)
    assert found == expected
    assert found.clocks == expected.clocks
    assert found.stage_changes == expected.stage_changes


def test_the_clocks_are_built_once_on_first_use_and_survive_pickling() -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    policy = SlaPolicy(
        name="24x7",
        calendar=BusinessCalendar.always_open("UTC"),
        metrics=(Metric.resolution({"P2": timedelta(hours=8)}),),
    )
    opened = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident", state="new",
        state_category="new", title="t", requester="ann", effective_priority="P2")  # fmt: skip
    status = evaluate([opened], policy, at + timedelta(hours=2))
    first = status.clocks
    assert status.clocks is first
    assert first[0].percent == 25.0
    again = pickle.loads(pickle.dumps(status))
    assert again == status
    assert again.clocks == first


# ------------------------------------------------------------------------ policy selection

GROUPS = st.sampled_from(["line-1", "line-2", "vip"])
PRIORITY = st.sampled_from(["P1", "P2", "P3"])


@st.composite
def extra_events(draw: st.DrawFn) -> list[Event]:
    """Histories with events that change what applicability looks at, between the others."""
    history = draw(event_histories(start_us=STARTS, max_events=6))
    tid = history[0].ticket_id
    opened = history[0]
    assert isinstance(opened, TicketOpened)
    history[0] = attrs.evolve(
        opened, customer=draw(st.sampled_from([None, "acme"])),
        category=draw(st.sampled_from([None, "network"])),
        type=draw(st.sampled_from(["incident", "request"])),
    )  # fmt: skip
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.integers(1, len(history)))
        at = history[where - 1].at
        options: list[Event] = [
            Assigned(ticket_id=tid, actor="d", at=at, assignee="dana", group=draw(GROUPS),
                     support_line=1),
            GroupAssigned(ticket_id=tid, actor="d", at=at, group=draw(GROUPS),
                          support_line=2, from_group=None, counted=True),
            Unassigned(ticket_id=tid, actor="d", at=at, from_assignee=None, from_group=None),
            PriorityChanged(ticket_id=tid, actor="d", at=at, impact=None, urgency=None,
                            derived=None, override=None, effective=draw(PRIORITY)),
            FieldChanged(ticket_id=tid, actor="d", at=at, field="category", old=None,
                         new=draw(st.sampled_from(["network", "printing"]))),
            FieldChanged(ticket_id=tid, actor="d", at=at, field="site", old=None, new="Oslo",
                         custom=True),
        ]  # fmt: skip
        history.insert(where, draw(st.sampled_from(options)))
    return history


COVERS = st.fixed_dictionaries(
    {},
    optional={
        "types": st.just("incident"),
        "priorities": st.lists(PRIORITY, min_size=1, max_size=2),
        "categories": st.just("network"),
        "customers": st.just("acme"),
        "groups": st.lists(GROUPS, min_size=1, max_size=2),
    },
)
_CALENDAR = BusinessCalendar.always_open("UTC")


def _policy(name: str, covers: dict[str, object]) -> SlaPolicy:
    return SlaPolicy(
        name=name,
        calendar=_CALENDAR,
        metrics=(Metric.resolution({"P1": timedelta(hours=4)}),),
        applies_to=Applicability(**covers),  # type: ignore[arg-type]
    )


@settings(max_examples=max(50, settings().max_examples // 8), deadline=None)
@given(extra_events(), st.lists(COVERS, min_size=1, max_size=4), st.integers(-DAY_US, DAY_US))
def test_policy_selection_from_the_events_picks_what_the_folded_ticket_picks(
    history: list[Event], covers: list[dict[str, object]], shift: int
) -> None:
    policies = [_policy(f"p{i}", c) for i, c in enumerate(covers)]
    h = History(history)
    until = to_us(history[-1].at) + shift
    found = select_policy_for_history(policies, h, until_us=until)
    index = h.index_at(until)
    expected = None if index < 0 else select_policy(policies, h.ticket_after(index))
    assert found is expected


def test_evaluate_many_with_policies_answers_as_evaluate_with_the_covering_one() -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    vip = _policy("vip", {"groups": ["vip"]})
    rest = _policy("rest", {})

    def history(tid: str, group: str) -> list[Event]:
        return [
            TicketOpened(ticket_id=tid, actor="ann", at=at, type="incident", state="new",
                         state_category="new", title="t", requester="ann",
                         effective_priority="P1"),
            Assigned(ticket_id=tid, actor="d", at=at + timedelta(minutes=5), assignee="dana",
                     group=group, support_line=1),
        ]  # fmt: skip

    now = at + timedelta(hours=1)
    statuses = list(evaluate_many([history("I-1", "vip"), history("I-2", "line-1")],
                                  [vip, rest], now))  # fmt: skip
    assert [(s.ticket_id, s.policy) for s in statuses] == [("I-1", "vip"), ("I-2", "rest")]
    assert statuses[0] == evaluate(history("I-1", "vip"), vip, now)
    # as of a moment before the assignment, the vip ticket is not a vip ticket yet
    early = list(evaluate_many([history("I-1", "vip")], [vip, rest], at + timedelta(minutes=1)))
    assert [s.policy for s in early] == ["rest"]


def test_a_policy_with_the_plain_rules_is_compiled_once_and_one_with_a_reset_is_not() -> None:
    calendar = BusinessCalendar.eight_by_five("UTC")
    plain = SlaPolicy(name="plain", calendar=calendar,
                      metrics=(Metric.first_response({"P1": timedelta(hours=1)}),
                               Metric.resolution({"P1": timedelta(hours=8)})))  # fmt: skip
    fold = compiled_fold(plain, eager=True)
    assert fold is not None
    assert compiled_fold(plain) is fold
    reset = Metric.resolution({"P1": timedelta(hours=8)}, reset=Condition(event="merged"))
    assert compiled_fold(attrs.evolve(plain, metrics=(reset,)), eager=True) is None


def test_a_policy_gets_its_own_fold_on_its_compile_after_th_evaluation() -> None:
    calendar = BusinessCalendar.eight_by_five("UTC")
    policy = SlaPolicy(name="often", calendar=calendar,
                       metrics=(Metric.first_response({"P1": timedelta(hours=1)}),))  # fmt: skip
    history = [_opened("P1")]
    answers = set()
    for _ in range(COMPILE_AFTER - 1):
        answers.add(evaluate(history, policy, AT + HOUR))
    assert compiled_fold(attrs.evolve(policy, name="other")) is None  # counted apart
    assert compiled_fold(policy) is not None  # this is its COMPILE_AFTER-th use
    answers.add(evaluate(history, policy, AT + HOUR))
    assert len(answers) == 1


def test_events_of_other_rooms_are_read_by_their_kind_alone_by_the_compiled_fold() -> None:
    from itsm_core.escalation import Escalated

    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    policy = SlaPolicy(name="8x5", calendar=BusinessCalendar.eight_by_five("UTC"),
                       metrics=(Metric.first_response({"P2": timedelta(hours=1)}),
                                Metric.resolution({"P2": timedelta(hours=4)})))  # fmt: skip
    history: list[Event] = [
        TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident", state="new",
                     state_category="new", title="t", requester="ann",
                     effective_priority="P2"),
        Escalated(ticket_id="I-1", actor="escalation", at=at + timedelta(hours=2),
                  rule="unanswered", level=1, cycle=1, due_at=at + timedelta(hours=1),
                  reason="no reply"),
    ]  # fmt: skip
    fold = compiled_fold(policy, eager=True)
    assert fold is not None
    now = to_us(at + timedelta(hours=3))
    rows, *_ = fold(History(history).events, History(history).instants_us, now,
                    policy.calendar.elapsed_us, policy.calendar.add_us)  # fmt: skip
    assert [stage.value for _, stage, _ in rows] == ["breached", "running"]
    assert evaluate(history, policy, at + timedelta(hours=3)) == evaluate_reference(
        history, policy, at + timedelta(hours=3)
    )


# ------------------------------------------------------------- named rules, both folds

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _opened(priority: str) -> Event:
    return TicketOpened(ticket_id="T", actor="ann", at=AT, type="incident", state="new",
                        state_category="new", title="t", requester="ann",
                        effective_priority=priority)  # fmt: skip


def _at(minutes: int, event: Event) -> Event:
    return attrs.evolve(event, at=AT + timedelta(minutes=minutes))


def _comment(by_requester: bool) -> Event:
    return CommentAdded(ticket_id="T", actor="x", at=AT, body="b", public=True,
                        by_requester=by_requester)  # fmt: skip


def _state(to: str, frm: str, hold: str | None = None) -> Event:
    return StateChanged(ticket_id="T", actor="x", at=AT, trigger="t", from_state=frm,
                        to_state=to, from_category=frm, to_category=to,
                        hold_reason=hold)  # fmt: skip


def _to(priority: str) -> Event:
    return PriorityChanged(ticket_id="T", actor="x", at=AT, impact=None, urgency=None,
                           derived=priority, override=None, effective=priority)  # fmt: skip


def _due(metric: str, minutes: int | None) -> Event:
    due = None if minutes is None else AT + timedelta(minutes=minutes)
    return DueDateSet(ticket_id="T", actor="lead", at=AT, metric=metric, due=due, reason="r")


HOUR = timedelta(hours=1)
HOLD = _state("on_hold", "active", "awaiting_requester")
NAMED: dict[str, tuple[dict[str, Any], list[Event]]] = {
    "a due set by hand before the cycle starts": (
        {}, [_opened("P3"), _at(5, _due("next_response", 300)), _at(10, _comment(True))]),
    "a priority change while paused": (
        {}, [_opened("P3"), _at(10, _state("active", "new")), _at(20, HOLD),
             _at(30, _to("P1")), _at(400, _state("active", "on_hold"))]),
    "a priority change that lifts a breach": (
        {}, [_opened("P1"), _at(300, _to("P4"))]),
    "a start waiting for a target, then dropped": (
        {}, [_opened("P9"), _at(30, _state("resolved", "new"))]),
    "a start waiting for a target, then classified": (
        {"classified_start": "opening"}, [_opened("P9"), _at(30, _to("P2"))]),
    "a reset to a priority without a target": (
        {"reset": Condition(event="priority_changed")}, [_opened("P3"), _at(30, _to("P9"))]),
    "a change to a priority without a target that stops the clock": (
        {"on_missing_target": "stop"}, [_opened("P3"), _at(30, _to("P9"))]),
}  # fmt: skip


def _named_policy(options: dict[str, Any], calendar: BusinessCalendar) -> SlaPolicy:
    targets = {"P1": HOUR, "P2": 2 * HOUR, "P3": 4 * HOUR, "P4": 40 * HOUR}
    return SlaPolicy(name="named", calendar=calendar, metrics=(
        Metric.first_response(targets, **options),
        Metric.next_response(targets, **options),
        Metric.resolution(targets, **options)))  # fmt: skip


def test_both_folds_agree_on_each_named_rule() -> None:
    from itsm_core.calendar import WeeklySchedule

    never = BusinessCalendar(name="never", timezone="UTC", weekly=WeeklySchedule.same([]))
    for calendar in (BusinessCalendar.eight_by_five("UTC"), never):
        for name, (options, history) in NAMED.items():
            policy = _named_policy(options, calendar)
            now = AT + timedelta(days=2)
            expected = evaluate_reference(history, policy, now)
            assert evaluate(history, policy, now) == expected, name  # the general fold
            compiled_fold(policy, eager=True)
            assert evaluate(history, policy, now) == expected, name  # generated, where it applies


def test_both_folds_refuse_a_change_to_a_priority_the_metric_has_no_target_for() -> None:
    policy = _named_policy({"on_missing_target": "refuse"}, BusinessCalendar.always_open("UTC"))
    history = [_opened("P3"), _at(30, _to("P9"))]
    compiled_fold(policy, eager=True)
    with pytest.raises(InvalidValueError) as fast:
        evaluate(history, policy, AT + HOUR)
    with pytest.raises(InvalidValueError) as plain:
        evaluate_reference(history, policy, AT + HOUR)
    assert str(fast.value) == str(plain.value)
