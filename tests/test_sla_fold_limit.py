"""The SLA fold close to the limit: the generated fold of the clocks alone gives the plain
fold's clocks, the timeline it leaves for first use is the plain fold's, statuses built
without the keyword call are the constructor's records, and policy selection from the
opening answers as the folded ticket does."""

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
from itsm_core.lifecycle import History
from itsm_core.sla import (
    Metric,
    SlaPolicy,
    SlaStatus,
    Stage,
    evaluate,
    evaluate_many,
    evaluate_reference,
)
from itsm_core.sla._clock import breach_instant_us, status_of
from itsm_core.sla._compiled import Fallback, breach_over, clocks_fold, compiled_fold
from itsm_core.testing import event_histories, instants, preset_calendars, sla_policies
from itsm_core.ticket import CommentAdded, Event, PriorityChanged, TicketOpened

STARTS = instants(zones=("UTC",))
DAY_US = 86_400_000_000
# A drawn policy and history cost a few milliseconds: an eighth of the profile's examples.
EIGHTH = settings(max_examples=max(50, settings().max_examples // 8), deadline=None)
# Names whose order differs from the metrics' order, so a timeline sorted by metric name
# interleaves them differently from the order the fold visits them in.
NAMES = st.permutations(["zulu", "alpha", "mike"])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Event], SlaPolicy, datetime]:
    policy = draw(sla_policies(calendars=preset_calendars()))
    names = draw(NAMES)
    policy = attrs.evolve(
        policy,
        metrics=tuple(attrs.evolve(m, name=n) for m, n in zip(policy.metrics, names, strict=True)),
    )
    history = draw(event_histories(start_us=STARTS, max_events=8, max_gap=timedelta(hours=20)))
    # some events at the instant of the one before: stage changes of several metrics tie
    for i in range(1, len(history)):
        if draw(st.integers(0, 3)) == 0:
            history[i] = attrs.evolve(history[i], at=history[i - 1].at)
    later = draw(st.integers(-DAY_US, 5 * DAY_US))
    now = max(history[0].at, history[-1].at + timedelta(microseconds=later))
    return history, policy, now


@EIGHTH
@given(scenarios())
def test_the_clocks_fold_counts_what_the_plain_fold_counts_and_the_timeline_comes_in_order(
    scenario: tuple[list[Event], SlaPolicy, datetime],
) -> None:
    history, policy, now = scenario
    expected = evaluate_reference(history, policy, now)
    clocks = clocks_fold(policy, eager=True)
    timeline = compiled_fold(policy, eager=True)
    assert clocks is not None  # plain policies are generated
    assert timeline is not None
    h = History(history)
    calendar = policy.calendar
    args = (h.events, h.instants_us, to_us(now), calendar.elapsed_us, calendar.add_us)
    try:
        rows, changes, priority, group, _ = clocks(*args)
    except Fallback:  # a start without a target: both generated folds leave it alike
        with pytest.raises(Fallback):
            timeline(*args)
        assert evaluate(history, policy, now) == expected
        return
    assert rows == expected.clock_rows
    assert changes == []
    assert (priority, group) == (expected.priority, expected.group)
    full_rows, full_changes, _, _ = timeline(*args)
    assert full_rows == expected.clock_rows
    assert tuple(full_changes) == expected.stage_changes
    found = evaluate(history, policy, now)
    assert found.clocks == expected.clocks
    assert found.stage_changes == expected.stage_changes
    assert found == expected


@settings(max_examples=max(50, settings().max_examples // 4), deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3 * DAY_US), st.integers(0, DAY_US)), max_size=5),
    st.integers(1, 2 * DAY_US),
    st.sampled_from(["24x7", "8x5"]),
)
def test_the_breach_over_counted_segments_is_the_breach_over_measured_ones(
    pieces: list[tuple[int, int]], target: int, which: str
) -> None:
    calendar = (
        BusinessCalendar.always_open("UTC")
        if which == "24x7"
        else BusinessCalendar.eight_by_five("UTC")
    )
    segments: list[tuple[int, int]] = []
    at = to_us(datetime(2026, 3, 2, tzinfo=UTC))
    for gap, length in pieces:
        segments.append((at + gap, at + gap + length))
        at += gap + length
    counted = []
    total = 0
    for start, end in segments:
        counted.append(total)
        total += calendar.elapsed_us(start, end)
    expected = breach_instant_us(segments, target, calendar.elapsed_us, calendar.add_us)
    assert breach_over(segments, counted, total, target, calendar.add_us) == expected


# ---------------------------------------------------------------- statuses, built fast

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)


def _policy() -> SlaPolicy:
    targets = {"P1": HOUR, "P2": 4 * HOUR}
    return SlaPolicy(
        name="8x5",
        calendar=BusinessCalendar.eight_by_five("UTC"),
        metrics=(Metric.first_response(targets), Metric.resolution(targets)),
    )


def _history() -> list[Event]:
    return [
        TicketOpened(ticket_id="T", actor="ann", at=AT, type="incident", state="new",
                     state_category="new", title="t", requester="ann", effective_priority="P2"),
        PriorityChanged(ticket_id="T", actor="x", at=AT + 3 * HOUR, impact=None, urgency=None,
                        derived="P1", override=None, effective="P1"),
        CommentAdded(ticket_id="T", actor="x", at=AT + 4 * HOUR, body="b", public=True,
                     by_requester=False),
    ]  # fmt: skip


def test_a_status_built_by_the_folds_is_the_record_the_constructor_builds() -> None:
    rows = (("resolution", Stage.PENDING, ()),)
    changes = ((5, "resolution", 1, "running", "ticket_opened", 0),)
    fields: dict[str, Any] = {
        "ticket_id": "T", "policy": "p", "now_us": 9, "timezone": "UTC", "priority": "P1",
        "group": "g", "clock_rows": rows, "stage_changes": changes,
    }  # fmt: skip
    built = SlaStatus(**fields)
    fast = status_of("T", "p", 9, "UTC", "P1", "g", rows, changes)
    assert fast == built
    assert hash(fast) == hash(built)
    assert repr(fast) == repr(built)
    assert attrs.asdict(fast) == attrs.asdict(built)
    # every field the constructor sets, the fast path sets (a new field would be missed)
    assert [a.name for a in attrs.fields(SlaStatus)] == [
        *fields, "_clocks", "_later"
    ]  # fmt: skip


def test_a_timeline_left_for_first_use_answers_every_question_like_the_plain_fold() -> None:
    policy = _policy()
    clocks_fold(policy, eager=True)
    now = AT + 6 * HOUR
    expected = evaluate_reference(_history(), policy, now)
    # both clocks breach when the priority is raised, three hours in
    assert [c.stage.value for c in expected.clocks] == ["breached", "breached"]
    assert any(cause == "priority_changed" for *_, cause, _ in expected.stage_changes)

    def fresh() -> SlaStatus:
        return evaluate(_history(), policy, now)

    assert fresh() == expected
    assert hash(fresh()) == hash(expected)
    assert repr(fresh()) == repr(expected)
    assert fresh().timeline == expected.timeline
    assert pickle.loads(pickle.dumps(fresh())) == expected
    assert attrs.evolve(fresh(), group="vip").stage_changes == expected.stage_changes
    status = fresh()
    assert status.stage_changes is status.stage_changes  # found once, then kept
    assert object.__getattribute__(status, "_later") is None


def test_a_status_without_its_timeline_still_refuses_unknown_attributes() -> None:
    policy = _policy()
    clocks_fold(policy, eager=True)
    status = evaluate(_history(), policy, AT + HOUR)
    with pytest.raises(AttributeError, match="nothing"):
        status.nothing  # type: ignore[attr-defined]  # noqa: B018
    assert status.stage_changes  # the timeline is still there to find


# ------------------------------------------------------------- policy selection, fused

GROUPS = st.sampled_from(["line-1", "line-2", "vip"])
PRIORITIES = st.sampled_from(["P1", "P2", "P3", "P4"])
ALWAYS = BusinessCalendar.always_open("UTC")
_FIELDS = {
    "types": st.just("incident"),
    "priorities": st.lists(PRIORITIES, min_size=1, max_size=2),
    "categories": st.just("network"),
    "groups": st.lists(GROUPS, min_size=1, max_size=2),
}
COVERS = st.fixed_dictionaries({}, optional=_FIELDS)
# a first policy that checks a field: the later events may change the choice
FIRST_COVERS = st.one_of(
    [
        st.fixed_dictionaries({key: value}, optional={k: v for k, v in _FIELDS.items() if k != key})
        for key, value in _FIELDS.items()
    ]
)
GENERATED = st.sampled_from([True, True, True, False])  # mostly the generated fold


@st.composite
def moved_tickets(draw: st.DrawFn) -> list[Event]:
    """Histories with events that change what applicability looks at, among the others."""
    from itsm_core.escalation import Escalated
    from itsm_core.ticket import Assigned, FieldChanged, GroupAssigned, Unassigned

    history = draw(event_histories(start_us=STARTS, max_events=6, max_gap=timedelta(hours=8)))
    tid = history[0].ticket_id
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.integers(1, len(history)))
        at = history[where - 1].at
        kind = draw(st.integers(0, 6))
        event: Event
        if kind == 0:
            event = Assigned(ticket_id=tid, actor="d", at=at, assignee="dana",
                             group=draw(GROUPS), support_line=1)  # fmt: skip
        elif kind == 1:
            event = GroupAssigned(ticket_id=tid, actor="d", at=at, group=draw(GROUPS),
                                  support_line=2, from_group=None, counted=True)  # fmt: skip
        elif kind == 2:
            event = Unassigned(ticket_id=tid, actor="d", at=at, from_assignee=None,
                               from_group=None)  # fmt: skip
        elif kind == 3:
            new = draw(PRIORITIES)
            event = PriorityChanged(ticket_id=tid, actor="d", at=at, impact=None, urgency=None,
                                    derived=new, override=None, effective=new)  # fmt: skip
        elif kind == 4:
            field, new = draw(st.sampled_from([("category", "network"), ("type", "request")]))
            event = FieldChanged(ticket_id=tid, actor="d", at=at, field=field, old=None,
                                 new=new)  # fmt: skip
        elif kind == 5:
            event = FieldChanged(ticket_id=tid, actor="d", at=at, field="site", old=None,
                                 new="Oslo", custom=True)  # fmt: skip
        else:  # an event kind of another room
            event = Escalated(ticket_id=tid, actor="escalation", at=at, rule="r", level=1,
                              cycle=1, due_at=at, reason="late")  # fmt: skip
        history.insert(where, event)
    return history


@EIGHTH
@given(
    st.lists(moved_tickets(), min_size=1, max_size=3),
    st.tuples(FIRST_COVERS, GENERATED),
    st.lists(st.tuples(COVERS, GENERATED), max_size=2),
    st.integers(-DAY_US // 4, DAY_US),
)
def test_evaluate_many_with_policies_evaluates_each_ticket_with_the_policy_its_ticket_picks(
    histories: list[list[Event]],
    first: tuple[dict[str, object], bool],
    more: list[tuple[dict[str, object], bool]],
    shift: int,
) -> None:
    from itsm_core.sla import Applicability, select_policy

    targets = {"P1": HOUR, "P2": 2 * HOUR, "P3": 4 * HOUR, "P4": 8 * HOUR}
    policies = []
    for n, (cover, generated) in enumerate([first, *more]):
        policy = SlaPolicy(name=f"p{n}", calendar=ALWAYS,
                           metrics=(Metric.first_response(targets), Metric.resolution(targets)),
                           applies_to=Applicability(**cover))  # type: ignore[arg-type]  # fmt: skip
        if generated:  # the others run the general fold (it does not say what it met)
            clocks_fold(policy, eager=True)
        policies.append(policy)
    now = histories[0][0].at + timedelta(microseconds=shift)
    expected = []
    for events in histories:
        h = History(events)
        index = h.index_at(to_us(now))
        if index < 0:
            continue  # not opened yet as of now
        chosen = select_policy(policies, h.ticket_after(index))
        if chosen is not None:
            expected.append(evaluate_reference(events, chosen, now))
    assert list(evaluate_many(histories, policies, now)) == expected


def test_a_first_policy_that_covers_every_ticket_is_chosen_whatever_the_events() -> None:
    from itsm_core.sla import Applicability
    from itsm_core.ticket import FieldChanged

    everyone, incidents = (
        _policy(),
        attrs.evolve(_policy(), name="incidents", applies_to=Applicability(types="incident")),
    )
    retyped = [
        *_history(),
        FieldChanged(ticket_id="T", actor="x", at=AT + 5 * HOUR, field="type", old="incident",
                     new="request"),
    ]  # fmt: skip
    now = AT + 6 * HOUR
    found = list(evaluate_many([_history(), retyped], [everyone, incidents], now))
    assert [s.policy for s in found] == ["8x5", "8x5"]
    assert found == [evaluate_reference(h, everyone, now) for h in (_history(), retyped)]
    # with the catch-all last, the change of type decides
    found = list(evaluate_many([_history(), retyped], [incidents, everyone], now))
    assert [s.policy for s in found] == ["incidents", "8x5"]


def test_a_timeline_another_thread_found_meanwhile_is_the_one_read() -> None:
    policy = _policy()
    clocks_fold(policy, eager=True)
    status = evaluate(_history(), policy, AT + HOUR)
    first = status.stage_changes
    # what a thread that missed the slot before the other one filled it runs
    late = getattr(type(status), "__getattr__")  # noqa: B009
    assert late(status, "stage_changes") is first
