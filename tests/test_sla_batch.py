"""The batch path gives evaluate's answers for every ticket, and numpy stays optional."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.calendar import BusinessCalendar
from itsm_core.errors import InvalidValueError, ItsmError
from itsm_core.sla import (
    MISSING_US,
    STAGES,
    Metric,
    MissingExtraError,
    SlaBatch,
    SlaColumns,
    SlaPolicy,
    SlaStatus,
    evaluate,
    evaluate_batch,
)
from itsm_core.testing import event_histories, instants, preset_calendars, sla_policies
from itsm_core.ticket import CommentAdded, Event, PriorityChanged, StateChanged, TicketOpened

from .test_sla_fast_path import policies

FIELDS = ("started_us", "ended_us", "target_us", "elapsed_us", "paused_us", "due_us",
          "breached_us", "met_us")  # fmt: skip
DAY_US = 86_400_000_000


def expected_rows(status: SlaStatus) -> list[list[int]]:
    """What a batch row holds, read from a scalar status."""
    rows = []
    for clock in status.clocks:
        cycle = clock.current
        counts = [sum(c.stage.value == s for c in clock.cycles) for s in ("met", "breached",
                  "cancelled")]  # fmt: skip
        values = [getattr(cycle, f) if cycle is not None else None for f in FIELDS]
        rows.append([STAGES.index(clock.stage), len(clock.cycles), *counts]
                    + [MISSING_US if v is None else v for v in values])  # fmt: skip
    return rows


def batch_rows(batch: SlaBatch, t: int) -> list[list[int]]:
    return [
        [int(batch.stage[t, i]), int(batch.cycles[t, i]), int(batch.met[t, i]),
         int(batch.breached[t, i]), int(batch.cancelled[t, i])]
        + [int(getattr(batch, f)[t, i]) for f in FIELDS]
        for i in range(len(batch.metrics))
    ]  # fmt: skip


def assert_same_answers(histories: list[list[Event]], policy: SlaPolicy, now: datetime) -> SlaBatch:
    batch = evaluate_batch(SlaColumns.from_histories(histories), policy, now)
    for t, history in enumerate(histories):
        status = evaluate(history, policy, now)
        assert batch_rows(batch, t) == expected_rows(status), t
        assert (batch.priority[t], batch.group[t]) == (status.priority, status.group)
    return batch


def relabel(history: list[Event], tid: str) -> list[Event]:
    return [attrs.evolve(e, ticket_id=tid) for e in history]


@settings(max_examples=max(50, settings().max_examples // 8), deadline=None)
@given(
    st.one_of(sla_policies(calendars=preset_calendars()), policies()),
    st.lists(event_histories(start_us=instants(zones=("UTC",)), max_events=8), min_size=1,
             max_size=4),
    st.integers(-DAY_US, 10 * DAY_US),
)  # fmt: skip
def test_the_batch_gives_evaluates_answers_for_every_ticket(
    policy: SlaPolicy, histories: list[list[Event]], later: int
) -> None:
    histories = [relabel(h, f"T-{i}") for i, h in enumerate(histories)]
    last = max(h[-1].at for h in histories)
    now = max(min(h[0].at for h in histories), last + timedelta(microseconds=later))
    try:
        assert_same_answers(histories, policy, now)
    except InvalidValueError:  # a metric refusing a priority change: evaluate refuses too
        refusing = []
        for h in histories:
            try:
                evaluate(h, policy, now)
            except InvalidValueError:
                refusing.append(h[0].ticket_id)
        assert refusing


AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _ticket(tid: str, *steps: tuple[int, Event]) -> list[Event]:
    opened = TicketOpened(ticket_id=tid, actor="ann", at=AT, type="incident", state="new",
        state_category="new", title="t", requester="ann", effective_priority="P3")  # fmt: skip
    return [opened, *(attrs.evolve(e, ticket_id=tid, at=AT + timedelta(minutes=m))
                      for m, e in steps)]  # fmt: skip


def _reply(public: bool = True, by_requester: bool = False) -> Event:
    return CommentAdded(ticket_id="x", actor="dana", at=AT, body="b", public=public,
                        by_requester=by_requester)  # fmt: skip


def _move(trigger: str, to_state: str, frm: str, to: str, hold: str | None = None) -> Event:
    return StateChanged(ticket_id="x", actor="dana", at=AT, trigger=trigger, from_state=frm,
        to_state=to_state, from_category=frm, to_category=to, hold_reason=hold)  # fmt: skip


def _priority(name: str) -> Event:
    return PriorityChanged(ticket_id="x", actor="dana", at=AT, impact=None, urgency=None,
                           derived=name, override=None, effective=name)  # fmt: skip


def test_realistic_tickets_are_answered_by_the_vectorised_fold_not_the_scalar_one() -> None:
    hours = timedelta(hours=1)
    policy = SlaPolicy(
        name="8x5",
        calendar=BusinessCalendar.eight_by_five("UTC"),
        metrics=(
            Metric.first_response({"P1": hours / 4, "P3": hours}),
            Metric.next_response({"P1": hours, "P3": 4 * hours}),
            Metric.resolution({"P1": 2 * hours, "P3": 16 * hours}),
        ),
    )
    hold = _move("hold", "on_hold", "active", "on_hold", "awaiting_requester")
    histories = [
        _ticket("A", (30, _reply()), (40, _move("start", "active", "new", "active"))),
        _ticket("B", (90, _reply()), (95, _move("start", "active", "new", "active")),
                (120, hold), (600, _reply(by_requester=True)),
                (601, _move("resume", "active", "on_hold", "active")),
                (700, _priority("P1")), (900, _reply()),
                (2000, _move("resolve", "resolved", "active", "resolved"))),
        _ticket("C", (5, _priority("P1")), (400, _reply(public=False))),
        _ticket("D", (10, _move("start", "active", "new", "active")), (200, hold),
                (300, _move("resume", "active", "on_hold", "active")),
                (3000, _priority("P1"))),
    ]  # fmt: skip
    batch = assert_same_answers(histories, policy, AT + timedelta(hours=30))
    assert not batch.scalar.any()
    # By Tuesday 15:00, A has counted 14 business hours of 16; B went to P1 (2 h) after
    # 2 h 30; C went to P1 at once; D's change to P1 comes later, and it paused 100 minutes.
    assert [s.value for s in batch.stages("resolution")] == ["running", "breached",
                                                             "breached", "running"]  # fmt: skip


def test_a_batch_names_its_metrics_and_refuses_an_unknown_one() -> None:
    policy = SlaPolicy(name="24x7", calendar=BusinessCalendar.always_open("UTC"),
                       metrics=(Metric.resolution({"P3": timedelta(hours=4)}),))  # fmt: skip
    batch = evaluate_batch(SlaColumns.from_histories([_ticket("A")]), policy, AT)
    assert len(batch) == 1
    assert batch.stages("resolution") == (STAGES[1],)
    with pytest.raises(InvalidValueError, match="expected one of resolution"):
        batch.stages("resolve")


def test_importing_the_sla_room_does_not_import_numpy() -> None:
    code = "import sys, itsm_core, itsm_core.sla; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_batch_path_without_numpy_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # as if numpy were not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'itsm-core\[numpy\]'") as caught:
        SlaColumns.from_histories([_ticket("A")])
    assert isinstance(caught.value, ItsmError)
    assert isinstance(caught.value, ImportError)


def test_a_calendar_that_never_opens_gives_the_same_answers_in_a_batch() -> None:
    from itsm_core.calendar import WeeklySchedule

    never = BusinessCalendar(name="never", timezone="UTC", weekly=WeeklySchedule.same([]))
    policy = SlaPolicy(name="never", calendar=never,
                       metrics=(Metric.first_response({"P3": timedelta(hours=1)}),
                                Metric.resolution({"P3": timedelta(hours=4)})))  # fmt: skip
    histories = [_ticket("A"), _ticket("B", (30, _reply()))]
    assert_same_answers(histories, policy, AT + timedelta(days=2))


def test_a_cycle_paused_more_often_than_the_columns_keep_is_answered_by_the_scalar_fold() -> None:
    policy = SlaPolicy(name="24x7", calendar=BusinessCalendar.always_open("UTC"),
                       metrics=(Metric.resolution({"P3": timedelta(hours=40),
                                                   "P1": timedelta(hours=1)}),))  # fmt: skip
    hold = _move("hold", "on_hold", "active", "on_hold", "awaiting_requester")
    back = _move("resume", "active", "on_hold", "active")
    steps = [(10 * k + d, e) for k in range(1, 11) for d, e in ((0, hold), (5, back))]
    histories = [_ticket("A", *steps, (200, _priority("P1"))), _ticket("B", *steps[:4])]
    batch = assert_same_answers(histories, policy, AT + timedelta(hours=5))
    assert batch.scalar.tolist() == [True, False]
