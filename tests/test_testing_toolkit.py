"""The public testing toolkit: the Hypothesis entry point, its strategies, the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.calendar import WEEKDAYS, BusinessCalendar, CompositeCalendar
from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle import Lifecycles
from itsm_core.permissions import Policy, Role
from itsm_core.priority import PriorityMatrix
from itsm_core.sla import SlaPolicy, SlaStatus, evaluate
from itsm_core.testing import (
    PRESET_CALENDARS,
    business_calendars,
    sla_statuses,
    standard_policy,
    windows,
)
from itsm_core.testing._entry import (
    _STRATEGY_TYPES,
    _public_types,
    _strategies,
    aware_datetimes,
    events,
    register_strategies,
    ticket_commands_any,
)
from itsm_core.testing.pytest_plugin import (  # the fixtures, as a conftest listing the plugin
    itsm_calendar_8x5,
    itsm_calendar_8x5_ru,
    itsm_calendar_24x7,
    itsm_converter,
    itsm_lifecycles,
    itsm_matrix,
    itsm_now,
    itsm_sla_policy,
)
from itsm_core.ticket import Event, TicketCommand, TicketOpened

ROOT = Path(__file__).resolve().parent.parent
#: Imported so pytest finds them here (the plugin is not necessarily registered).
FIXTURES = (
    itsm_calendar_8x5,
    itsm_calendar_8x5_ru,
    itsm_calendar_24x7,
    itsm_converter,
    itsm_lifecycles,
    itsm_matrix,
    itsm_now,
    itsm_sla_policy,
)


def test_the_package_declares_the_hypothesis_entry_point_and_no_pytest_plugin() -> None:
    hooks = [e.value for e in entry_points(group="hypothesis")]
    assert "_itsm_core_hypothesis:setup_hook" in hooks
    plugins = [e.value for e in entry_points(group="pytest11")]
    assert not [value for value in plugins if value.startswith("itsm_core")]


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_hypothesis_does_not_import_itsm_core_and_nor_the_reverse() -> None:
    assert run_python("import sys, hypothesis; print('itsm_core' in sys.modules)") == "False"
    assert run_python("import sys, itsm_core; print('hypothesis' in sys.modules)") == "False"


def test_strategies_are_registered_whichever_of_the_two_is_imported_first() -> None:
    draw = """
        from hypothesis import find, strategies as st
        from itsm_core.calendar import BusinessCalendar
        print(find(st.from_type(BusinessCalendar), lambda c: True).timezone)
        """
    assert run_python("import hypothesis\n" + textwrap.dedent(draw)) == "UTC"
    assert run_python("import itsm_core.calendar\n" + textwrap.dedent(draw)) == "UTC"
    assert run_python("import itsm_core.testing\n" + textwrap.dedent(draw)) == "UTC"


def test_every_type_with_a_lazy_registration_gets_a_strategy() -> None:
    built = _strategies()
    for cls in _public_types():
        assert cls in built, cls
    assert set(_STRATEGY_TYPES) <= set(built)


@given(st.from_type(BusinessCalendar))
def test_from_type_draws_valid_calendars(calendar: BusinessCalendar) -> None:
    start = datetime.fromisoformat("2011-10-03T09:00:00+00:00")
    assert calendar.elapsed(start, start + timedelta(days=7)) >= timedelta(0)


# Drawing policies over composite calendars takes about ten milliseconds: a quarter of
# the profile's examples (at least 50) keeps the suite inside the CI budget.
QUARTER = settings(max_examples=max(50, settings().max_examples // 4))


@QUARTER
@given(st.from_type(CompositeCalendar))
def test_from_type_draws_composite_calendars(calendar: CompositeCalendar) -> None:
    assert calendar.operation in ("union", "intersection")


@QUARTER
@given(st.from_type(SlaPolicy), st.from_type(Event))
def test_from_type_draws_policies_and_events(policy: SlaPolicy, event: Event) -> None:
    assert policy.metrics
    assert event.at.tzinfo is not None


@given(aware_datetimes())
def test_aware_datetimes_are_aware_and_from_2026(at: datetime) -> None:
    assert at.utcoffset() is not None
    assert at.year >= 2025


@given(events(), ticket_commands_any())
def test_events_and_commands_cover_the_families(event: Event, command: TicketCommand) -> None:
    assert isinstance(event, Event)
    assert command.action


def whole_minutes(text: str) -> bool:
    return len(text) == 5 and text[2] == ":"


@QUARTER
@given(business_calendars())
def test_drawn_calendars_open_and_close_on_whole_minutes_by_default(
    calendar: BusinessCalendar,
) -> None:
    drawn = [w for day in WEEKDAYS for w in getattr(calendar.weekly, day)]
    drawn += [w for override in calendar.overrides for w in override.windows]
    for window in drawn:
        assert whole_minutes(window.start)
        assert whole_minutes(window.end)
    for closure in calendar.closures:
        assert whole_minutes(closure.start)
        assert whole_minutes(closure.end)


def test_an_unknown_resolution_is_refused_naming_what_is_valid() -> None:
    with pytest.raises(InvalidValueError, match="'minute' or 'microsecond'"):
        windows(resolution="second")  # type: ignore[arg-type]


@QUARTER
@given(sla_statuses())
def test_drawn_statuses_are_measured_on_a_preset_calendar(status: SlaStatus) -> None:
    assert status.timezone in {calendar.timezone for calendar in PRESET_CALENDARS}
    assert [clock.metric for clock in status.clocks] == [
        "first_response",
        "next_response",
        "resolution",
    ]


def test_registering_again_is_harmless() -> None:
    register_strategies()
    register_strategies()

    @settings(max_examples=5)
    @given(st.from_type(PriorityMatrix), st.from_type(Policy), st.from_type(Role))
    def check(matrix: PriorityMatrix, policy: Policy, role: Role) -> None:
        assert matrix.priorities
        assert isinstance(policy, Policy)
        assert isinstance(role, Role)

    check()
    # every type resolves to a strategy after registering again, none to itself
    # (the permission types once resolved to ``st.from_type`` of themselves, forever)
    assert not any(st.from_type(cls).is_empty for cls in _public_types())


# ---------------------------------------------------------------------------- the plugin


def test_the_fixtures_give_the_usual_values(
    itsm_now: datetime,
    itsm_calendar_24x7: BusinessCalendar,
    itsm_calendar_8x5: BusinessCalendar,
    itsm_matrix: PriorityMatrix,
    itsm_lifecycles: Lifecycles,
    itsm_sla_policy: SlaPolicy,
    itsm_converter: cattrs.Converter,
) -> None:
    assert itsm_calendar_8x5.is_open(itsm_now)
    assert itsm_calendar_24x7.is_open(itsm_now + timedelta(hours=20))
    assert str(itsm_matrix.derive("high", "high")) == "P1 Critical"
    assert "incident" in list(itsm_lifecycles)
    assert itsm_sla_policy.calendar is itsm_calendar_8x5
    assert itsm_converter.unstructure(timedelta(hours=8)) == "8h"


def test_the_russian_calendar_fixture_closes_on_holidays(
    itsm_calendar_8x5_ru: BusinessCalendar,
) -> None:
    assert not itsm_calendar_8x5_ru.is_open(datetime.fromisoformat("2026-01-07T12:00:00+03:00"))


def test_the_standard_policy_measures_a_p1_incident(itsm_now: datetime) -> None:
    policy = standard_policy(BusinessCalendar.eight_by_five("Europe/Moscow"), name="std")
    opened = TicketOpened(
        ticket_id="INC-1",
        actor="kiosk",
        at=itsm_now,
        type="incident",
        state="new",
        state_category="new",
        title="Frozen",
        requester="kiosk",
        effective_priority="P1",
    )
    status = evaluate([opened], policy, itsm_now + timedelta(hours=5))
    assert status.policy == "std"
    assert status.clock("resolution").stage.value == "breached"
    assert status.clock("first_response").breached_at == itsm_now + timedelta(minutes=15)


def test_a_users_suite_gets_the_fixtures_once_it_enables_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["itsm_core.testing.pytest_plugin"]\n')
    test_file = tmp_path / "test_users_sla.py"
    test_file.write_text(
        textwrap.dedent(
            """
            from datetime import timedelta
            from hypothesis import given, settings, strategies as st
            from itsm_core.calendar import BusinessCalendar

            def test_fixture(itsm_calendar_8x5, itsm_now):
                assert itsm_calendar_8x5.add(itsm_now, timedelta(hours=8)).hour == 17

            @settings(max_examples=5)
            @given(st.from_type(BusinessCalendar))
            def test_strategy(calendar):
                assert calendar.timezone
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_the_plugin_module_documents_every_fixture() -> None:
    import itsm_core.testing.pytest_plugin as plugin

    doc = plugin.__doc__ or ""
    names: list[Any] = [n for n in plugin.__all__ if n.startswith("itsm_")]
    for name in names:
        assert f"``{name}``" in doc, name


def test_strategy_factories_hand_back_the_strategy_they_built_for_equal_arguments() -> None:
    # Hypothesis validates a strategy object on its first draw: a factory called inside a
    # composite on every example must not build a new one each time.
    from itsm_core import testing

    matrix = PriorityMatrix.itil_3x3()
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
        ("scales", ("urgency",), {"max_levels": 3}),
        ("priority_levels", (), {"max_size": 3}),
        ("priority_matrices", (), {"disabled": False}),
        ("requester_masks", (matrix,), {}),
        ("permissions", (), {}),
        ("roles", (), {"max_roles": 2}),
        ("grants", (("r0", "r1"),), {"deny": False}),
        ("permission_policies", (), {}),
        ("principals", ("ann",), {}),
        ("directories", (), {}),
        ("permission_tickets", (), {"ticket_id": "T-2"}),
        ("ticket_histories", (), {"max_steps": 3}),
        ("tickets", (), {"max_steps": 3}),
        ("support_structures", (), {"external": True}),
        ("escalation_rules", (), {"name": "r"}),
        ("escalation_histories", (), {"start_us": st.just(0)}),
    ]
    for name, args, kwargs in calls:
        factory = getattr(testing, name)
        assert factory(*args, **kwargs) is factory(*args, **kwargs), name
    assert testing.scales("urgency") is not testing.scales("impact")
