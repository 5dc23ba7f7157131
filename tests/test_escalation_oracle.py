"""The escalation engine agrees with the slow reference in ``itsm_core.testing``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from itsm_core._time import from_us, to_us
from itsm_core.calendar import BusinessCalendar
from itsm_core.escalation import (
    EscalationRule,
    SupportStructure,
    TriggerKind,
    apply_escalations,
    due_escalations,
    next_wakeup,
)
from itsm_core.lifecycle import default_lifecycles
from itsm_core.sla import Metric, SlaPolicy
from itsm_core.testing import (
    escalation_histories,
    escalation_rules,
    oracle_escalations,
    support_structures,
)
from itsm_core.ticket import (
    Event,
)

MIN_US = 60_000_000
DESK = default_lifecycles()
CALENDARS = (
    BusinessCalendar.always_open("UTC"),
    BusinessCalendar.eight_by_five("Europe/Moscow"),
    BusinessCalendar.twelve_by_five("America/New_York"),
)
START_US = st.integers(
    to_us(datetime(2026, 1, 1, tzinfo=UTC)), to_us(datetime(2026, 12, 1, tzinfo=UTC))
)
SLA_KINDS = (TriggerKind.SLA_PERCENT, TriggerKind.SLA_DUE)


@st.composite
def policies(draw: st.DrawFn) -> SlaPolicy:
    def target() -> timedelta:
        return timedelta(minutes=draw(st.integers(1, 16 * 60)))

    return SlaPolicy(
        name="p",
        calendar=draw(st.sampled_from(CALENDARS)),
        metrics=(
            Metric.first_response({"P3": target()}),
            Metric.next_response({"P3": target()}),
            Metric.resolution({"P3": target()}),
        ),
    )


class Scenario:
    """A ticket's events, the rules watching it and everything they are evaluated with."""

    def __init__(
        self,
        history: list[Event],
        rules: list[EscalationRule],
        policy: SlaPolicy | None,
        structure: SupportStructure,
        calendar: BusinessCalendar | None,
    ) -> None:
        self.history = history
        self.rules = rules
        self.policy = policy
        self.structure = structure
        self.calendar = calendar
        self.start = to_us(history[0].at)

    def __repr__(self) -> str:
        return (
            f"Scenario(history={self.history!r}, rules={self.rules!r}, policy={self.policy!r}, "
            f"structure={self.structure!r}, calendar={self.calendar!r})"
        )

    def engine(
        self, history: list[Event], now: int
    ) -> tuple[list[tuple[str, int, int, int]], int | None]:
        kwargs = {"policy": self.policy, "structure": self.structure, "calendar": self.calendar}
        due = due_escalations(history, self.rules, from_us(now, "UTC"), **kwargs)  # type: ignore[arg-type]
        wake = next_wakeup(history, self.rules, from_us(now, "UTC"), **kwargs)  # type: ignore[arg-type]
        by_name = {r.name: r for r in self.rules}
        for d in due:
            assert d.actions == by_name[d.rule].levels[d.level - 1].actions
        return [(d.rule, d.level, d.cycle, d.due_us) for d in due], (
            None if wake is None else to_us(wake)
        )

    def oracle(
        self, history: list[Event], now: int
    ) -> tuple[list[tuple[str, int, int, int]], int | None]:
        return oracle_escalations(
            history,
            self.rules,
            now,
            policy=self.policy,
            structure=self.structure,
            calendar=self.calendar,
        )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    rules = [draw(escalation_rules(name=f"rule-{i}")) for i in range(draw(st.integers(1, 3)))]
    needs_policy = any(r.trigger.kind in SLA_KINDS for r in rules)
    policy = draw(policies()) if needs_policy or draw(st.booleans()) else None
    calendar = draw(st.none() | st.sampled_from(CALENDARS))
    return Scenario(
        draw(escalation_histories(start_us=START_US)),
        rules,
        policy,
        draw(support_structures()),
        calendar,
    )


@given(scenario=scenarios(), minutes=st.integers(0, 4 * 24 * 60), fired=st.integers(0, 100))
def test_due_escalations_and_next_wakeup_agree_with_the_reference(
    scenario: Scenario, minutes: int, fired: int
) -> None:
    now = scenario.start + minutes * MIN_US
    # Let the engine fire what was due at an earlier instant, so the history records it.
    earlier = scenario.start + (now - scenario.start) * fired // 100
    stored = [e for e in scenario.history if to_us(e.at) <= earlier]
    _, events = apply_escalations(
        stored,
        due_escalations(
            stored,
            scenario.rules,
            from_us(earlier, "UTC"),
            policy=scenario.policy,
            structure=scenario.structure,
            calendar=scenario.calendar,
        ),
        lifecycle=DESK,
        at=from_us(earlier, "UTC"),
        structure=scenario.structure,
    )
    history = [*stored, *events, *(e for e in scenario.history if to_us(e.at) > earlier)]
    assert scenario.engine(history, now) == scenario.oracle(history, now)
