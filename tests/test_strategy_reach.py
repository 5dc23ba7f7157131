"""The toolkit's pooled strategies still reach every value kind their fields allow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from hypothesis import find, given, settings

from itsm_core.escalation import EscalationRule, Trigger, TriggerKind
from itsm_core.lifecycle import COMMAND_TRIGGERS, Lifecycle, LifecycleDef, default_definitions
from itsm_core.testing import (
    ESCALATION_ACTIONS,
    ESCALATION_CONDITIONS,
    aware_datetimes,
    escalation_rules,
    escalation_triggers,
    ticket_commands,
)
from itsm_core.ticket import (
    AddComment,
    Assign,
    Classify,
    Merge,
    OverridePriority,
    Reassign,
    Split,
    TicketCommand,
    Transition,
    Watch,
)

LONDON = ZoneInfo("Europe/London")
SEARCH = settings(max_examples=5000, database=None, derandomize=True)


def fires(trigger: str) -> Callable[[TicketCommand], bool]:
    return lambda c: isinstance(c, Transition) and c.trigger == trigger


def of_type(kind: type) -> Callable[[TicketCommand], bool]:
    return lambda c: type(c) is kind


@pytest.mark.parametrize("definition", default_definitions(), ids=lambda d: d.name)
def test_ticket_commands_reach_every_trigger_and_every_command_kind(
    definition: LifecycleDef,
) -> None:
    lifecycle = Lifecycle(definition)
    triggers = {t.trigger for t in lifecycle.definition.transitions} - set(COMMAND_TRIGGERS)
    for trigger in sorted(triggers):
        found = find(
            ticket_commands(lifecycle),
            fires(trigger),
            settings=SEARCH,
        )
        assert found == Transition(trigger=trigger)
    kinds = (Assign, Reassign, AddComment, Classify, OverridePriority, Watch, Merge, Split)
    for kind in kinds:
        assert type(find(ticket_commands(lifecycle), of_type(kind), settings=SEARCH)) is kind


def test_aware_datetimes_reach_a_skipped_and_a_repeated_wall_time_with_either_fold() -> None:
    def local(at: datetime) -> bool:
        return at.tzinfo is LONDON

    def skipped(at: datetime) -> bool:
        return local(at) and at.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != (
            at.replace(tzinfo=None)
        )

    def repeated(at: datetime, fold: int) -> bool:
        return (
            local(at)
            and at.fold == fold
            and at.replace(fold=0).utcoffset() != at.replace(fold=1).utcoffset()
            and not skipped(at)
        )

    assert skipped(find(aware_datetimes(), skipped, settings=SEARCH))
    for fold in (0, 1):
        at = find(aware_datetimes(), partial(repeated, fold=fold), settings=SEARCH)
        assert at.fold == fold
        assert (at.month, at.hour) == (10, 1)


def test_aware_datetimes_reach_microseconds_and_the_last_day_of_the_range() -> None:
    assert find(aware_datetimes(), lambda at: at.microsecond % 1000 != 0, settings=SEARCH)
    last = find(aware_datetimes(), lambda at: at.year == 2036 and at.month == 12, settings=SEARCH)
    assert last.replace(tzinfo=None) >= datetime(2036, 12, 1)
    assert find(aware_datetimes(), lambda at: at.utcoffset() == timedelta(hours=3))


def is_kind(kind: TriggerKind, trigger: Trigger) -> bool:
    return trigger.kind is kind


def test_escalation_triggers_reach_every_kind() -> None:
    for kind in TriggerKind:
        assert find(escalation_triggers(), partial(is_kind, kind), settings=SEARCH).kind is kind


@given(escalation_triggers(metrics=()))
def test_escalation_triggers_without_metrics_have_no_sla_kind(trigger: Trigger) -> None:
    assert trigger.kind not in (TriggerKind.SLA_PERCENT, TriggerKind.SLA_DUE)


@given(escalation_rules())
def test_escalation_rules_take_their_actions_and_conditions_from_the_pools(
    rule: EscalationRule,
) -> None:
    assert rule.conditions in ESCALATION_CONDITIONS
    for level in rule.levels:
        assert level.conditions in ESCALATION_CONDITIONS
        assert level.actions
        assert all(action in ESCALATION_ACTIONS for action in level.actions)
