"""Imports: real export rows -> histories through profiles, lifecycles for imported history."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.errors import ConfigurationError, InvalidValueError, ItsmError
from itsm_core.imports import (
    IMPORT_LIFECYCLES,
    PROFILE_DATA,
    PROFILES,
    ImportCounts,
    RefusedTicket,
    Timestamps,
    format_instant,
    import_audit,
    import_rows,
    import_snapshot,
    import_stream,
    jira_changelog_rows,
    parse_instant,
    profile_from_dict,
    profile_lifecycle,
    profile_to_dict,
    to_audit_rows,
    to_snapshot_rows,
    zammad_history_rows,
)
from itsm_core.lifecycle import History, Lifecycle, validate_definition
from itsm_core.serialization import decode_event, encode_event
from itsm_core.testing._memo import sampled
from itsm_core.ticket import (
    Assign,
    Classify,
    Event,
    GroupAssigned,
    Reassign,
    StateChanged,
    Ticket,
    TicketCommand,
    TicketOpened,
    Transition,
    Unassigned,
    UpdateField,
    fold_events,
)

ROOT = Path(__file__).parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = SHARED / "data" / "servicenow" / "incident_event_log_sample.csv"
EXAMPLES = ROOT / "docs" / "examples" / "imports"
SNOW = PROFILES["servicenow_snapshot"]
AUDIT = PROFILES["servicenow_audit"]


def _sample_rows() -> list[dict[str, str]]:
    if not SAMPLE.exists():
        pytest.skip(f"the shared ServiceNow sample is not at {SAMPLE} (../shared beside the repo)")
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _row(**cells: str) -> dict[str, str]:
    base = {
        "number": "INC1",
        "incident_state": "New",
        "sys_updated_at": "1/3/2016 09:00",
        "sys_updated_by": "ann",
        "sys_mod_count": "0",
        "opened_at": "1/3/2016 08:55",
        "opened_by": "ann",
        "caller_id": "carl",
        "assignment_group": "?",
        "assigned_to": "?",
        "impact": "2 - Medium",
        "urgency": "2 - Medium",
        "priority": "3 - Moderate",
        "category": "Network",
        "cmdb_ci": "?",
        "closed_code": "?",
    }
    base.update(cells)
    return base


# ---------------------------------------------------------------------------- the shared sample


def test_the_servicenow_sample_imports_every_ticket_through_the_built_in_profile() -> None:
    rows = _sample_rows()
    result = import_snapshot(rows, SNOW)
    assert result.refused == ()
    assert result.skipped_rows == 0
    assert result.rows == len(rows)
    assert {h[0].ticket_id for h in result.histories} == {r["number"] for r in rows}
    assert result.priority_mismatches == 0


def test_the_profile_matrix_reproduces_the_exported_priority_on_every_sample_row() -> None:
    rows = _sample_rows()
    assert SNOW.matrix is not None
    levels, priorities = SNOW.value_map("impact"), SNOW.value_map("priority")
    for row in rows:
        derived = SNOW.matrix.derive(levels[row["impact"]], levels[row["urgency"]])
        assert derived.name == priorities[row["priority"]], row["number"]


def test_reassignment_and_reopen_counts_equal_the_exports_own_counts() -> None:
    rows = _sample_rows()
    last = {row["number"]: row for row in rows}
    for history in import_snapshot(rows, SNOW).histories:
        ticket = fold_events(history)
        exported = last[ticket.id]
        assert ticket.reassignments == int(exported["reassignment_count"]), ticket.id
        assert ticket.reopenings == int(exported["reopen_count"]), ticket.id


def test_the_sample_histories_survive_the_json_lines_form() -> None:
    for history in import_snapshot(_sample_rows(), SNOW).histories:
        decoded = [decode_event(json.loads(json.dumps(encode_event(e)))) for e in history]
        assert decoded == list(history)
        assert Lifecycle(IMPORT_LIFECYCLES["servicenow_incident"]).replay(decoded) == (
            fold_events(history)
        )


# ---------------------------------------------------------------------------- snapshot diffing


def test_group_only_assignment_and_unassignment_are_events_of_their_own() -> None:
    rows = [
        _row(),
        _row(sys_mod_count="1", sys_updated_at="1/3/2016 09:05", assignment_group="Desk"),
        _row(sys_mod_count="2", sys_updated_at="1/3/2016 09:10", assignment_group="Net"),
        _row(sys_mod_count="3", sys_updated_at="1/3/2016 09:15"),
    ]
    history = import_snapshot(rows, SNOW).histories[0]
    kinds = [type(e).__name__ for e in history]
    assert kinds == ["TicketOpened", "GroupAssigned", "GroupAssigned", "Unassigned"]
    first, moved = history[1], history[2]
    assert isinstance(first, GroupAssigned)
    assert isinstance(moved, GroupAssigned)
    assert (first.counted, moved.counted, moved.from_group) == (False, True, "Desk")
    ticket = fold_events(history)
    assert (ticket.group, ticket.assignee, ticket.reassignments) == (None, None, 1)


def test_a_person_change_inside_a_group_counts_only_when_the_profile_counts_any_move() -> None:
    rows = [
        _row(assignment_group="Desk", assigned_to="dan"),
        _row(sys_mod_count="1", assignment_group="Desk", assigned_to="eve"),
    ]
    by_group = fold_events(import_snapshot(rows, SNOW).histories[0])
    by_any = fold_events(
        import_snapshot(rows, attrs.evolve(SNOW, reassignments="any")).histories[0]
    )
    assert (by_group.assignee, by_group.reassignments) == ("eve", 0)
    assert (by_any.assignee, by_any.reassignments) == ("eve", 1)


def test_the_ticket_opens_at_opened_at_in_the_initial_state_and_moves_at_the_first_update() -> None:
    history = import_snapshot([_row(incident_state="Active")], SNOW).histories[0]
    opened, started = history
    assert isinstance(opened, TicketOpened)
    assert isinstance(started, StateChanged)
    assert opened.at == datetime(2016, 3, 1, 8, 55, tzinfo=UTC)
    assert (opened.state, opened.requester, opened.category) == ("new", "carl", "Network")
    assert (started.trigger, started.to_state, started.at.hour) == ("start", "in_progress", 9)


def test_rows_are_ordered_by_the_sequence_column_whatever_the_input_order() -> None:
    rows = [
        _row(sys_mod_count="2", sys_updated_at="1/3/2016 11:00", incident_state="Closed"),
        _row(sys_mod_count="0"),
        _row(sys_mod_count="1", sys_updated_at="1/3/2016 10:00", incident_state="Resolved"),
    ]
    ticket = fold_events(import_snapshot(rows, SNOW).histories[0])
    assert ticket.state == "closed"


def test_rows_that_change_nothing_read_are_counted_as_unchanged() -> None:
    rows = [_row(), _row(sys_mod_count="1", sys_updated_at="1/3/2016 09:30")]
    result = import_snapshot(rows, SNOW)
    assert (len(result.histories[0]), result.unchanged_rows) == (1, 1)


def test_a_priority_the_matrix_does_not_derive_is_kept_as_an_override_and_counted() -> None:
    result = import_snapshot([_row(priority="1 - Critical")], SNOW)
    ticket = fold_events(result.histories[0])
    assert (ticket.derived_priority, ticket.effective_priority) == ("P3", "P1")
    assert result.priority_mismatches == 1
    rows = [_row(), _row(sys_mod_count="1", priority="1 - Critical")]
    changed = import_snapshot(rows, SNOW).histories[0][-1]
    assert (changed.override, changed.effective) == ("P1", "P1")  # type: ignore[attr-defined]


def test_a_resolution_code_change_while_resolved_is_a_field_change() -> None:
    rows = [
        _row(incident_state="Resolved", closed_code="code 5"),
        _row(sys_mod_count="1", incident_state="Resolved", closed_code="code 6"),
    ]
    history = import_snapshot(rows, SNOW).histories[0]
    assert fold_events(history).resolution_code == "code 6"
    assert type(history[-1]).__name__ == "FieldChanged"


# ---------------------------------------------------------------------------- refusals


def test_a_history_that_breaks_its_lifecycle_is_refused_with_its_reason_and_others_survive() -> (
    None
):
    rows = [
        _row(number="INC1", incident_state="Closed"),
        _row(number="INC1", sys_mod_count="1", incident_state="Active"),
        _row(number="INC2"),
        _row(number="?"),
    ]
    result = import_snapshot(rows, SNOW)
    assert [h[0].ticket_id for h in result.histories] == ["INC2"]
    (refused,) = result.refused
    assert (refused.ticket_id, refused.row, refused.event, refused.rows) == (
        "INC1",
        1,
        "StateChanged",
        2,
    )
    assert "no move from 'new' to 'closed'" in refused.reason
    assert [type(e).__name__ for e in refused.events] == ["TicketOpened"]
    assert result.skipped == (("no ticket id in column 'number'", 1),)
    assert result.tickets == 2


def test_a_state_the_profile_does_not_map_refuses_the_ticket_naming_the_profile_key() -> None:
    result = import_snapshot([_row(incident_state="Parked")], SNOW)
    (refused,) = result.refused
    assert "state 'Parked' is not in the profile's values.state" in refused.reason


def test_a_bad_timestamp_or_sequence_refuses_the_ticket() -> None:
    bad_time = import_snapshot([_row(sys_updated_at="yesterday")], SNOW).refused[0]
    assert "at: expected a timestamp in one of the formats" in bad_time.reason
    bad_seq = import_snapshot([_row(sys_mod_count="x")], SNOW).refused[0]
    assert "sequence 'x'" in bad_seq.reason


def test_updates_that_go_back_in_time_are_refused() -> None:
    rows = [_row(), _row(sys_mod_count="1", sys_updated_at="1/3/2016 08:00", assignment_group="D")]
    (refused,) = import_snapshot(rows, SNOW).refused
    assert "before the ticket's previous change" in refused.reason


def test_a_missing_column_names_the_profile_key_that_would_fix_it() -> None:
    row = _row()
    del row["incident_state"]
    with pytest.raises(
        ConfigurationError, match=r"profile\.columns\.state: column 'incident_state'"
    ):
        import_snapshot([row], SNOW)


def test_a_policy_that_only_the_requester_closes_refuses_a_closure_by_staff() -> None:
    strict = attrs.evolve(
        IMPORT_LIFECYCLES["servicenow_incident"],
        policies=attrs.evolve(
            IMPORT_LIFECYCLES["servicenow_incident"].policies,
            closure_confirmed_by_requester=True,
            reopen_by=("requester",),
        ),
    )
    lifecycle = Lifecycle(strict, matrix=SNOW.matrix)
    rows = [
        _row(incident_state="Resolved"),
        _row(sys_mod_count="1", sys_updated_by="dan", incident_state="Closed"),
    ]
    (refused,) = import_snapshot(rows, SNOW, lifecycle=lifecycle).refused
    assert "'dan' may not close" in refused.reason
    reopened = [
        _row(incident_state="Resolved"),
        _row(sys_mod_count="1", sys_updated_by="dan", incident_state="Active"),
    ]
    (refused,) = import_snapshot(reopened, SNOW, lifecycle=lifecycle).refused
    assert "'dan' may not reopen" in refused.reason


def test_the_wrong_shape_or_a_non_profile_is_an_error() -> None:
    with pytest.raises(InvalidValueError, match=r"profile\.shape"):
        import_audit([], SNOW)
    with pytest.raises(InvalidValueError, match="a Profile"):
        import_snapshot([], {"name": "x"})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- audit shape


def _audit(field: str, old: str, new: str, at: str, seq: str, user: str = "ann") -> dict[str, str]:
    return {
        "documentkey": "INC1",
        "fieldname": field,
        "oldvalue": old,
        "newvalue": new,
        "sys_created_on": at,
        "user": user,
        "record_checkpoint": seq,
    }


def test_an_audit_export_gives_the_same_events_as_the_snapshot_of_the_same_updates() -> None:
    rows = [
        _audit("incident_state", "", "1", "2016-03-01 09:00:00", "0"),
        _audit("caller_id", "", "carl", "2016-03-01 09:00:00", "0"),
        _audit("impact", "", "2", "2016-03-01 09:00:00", "0"),
        _audit("urgency", "", "2", "2016-03-01 09:00:00", "0"),
        _audit("priority", "", "3", "2016-03-01 09:00:00", "0"),
        _audit("assignment_group", "", "Desk", "2016-03-01 09:10:00", "1", "dan"),
        _audit("incident_state", "1", "3", "2016-03-01 09:20:00", "2", "dan"),
        _audit("hold_reason", "", "4", "2016-03-01 09:20:00", "2", "dan"),
        _audit("hold_reason", "4", "1", "2016-03-01 09:30:00", "3", "dan"),
        _audit("work_notes", "", "called", "2016-03-01 09:30:00", "3", "dan"),
    ]
    result = import_audit(rows, AUDIT)
    assert result.refused == ()
    history = result.histories[0]
    states = [e.to_state for e in history if isinstance(e, StateChanged)]
    assert states == ["on_hold.awaiting_vendor", "on_hold.awaiting_caller"]
    ticket = fold_events(history)
    assert (ticket.requester, ticket.group, ticket.effective_priority) == ("carl", "Desk", "P3")
    assert result.skipped == (("field 'work_notes' is not in the profile's fields", 1),)


def test_a_changelog_without_an_insert_opens_with_each_fields_first_old_value() -> None:
    profile = attrs.evolve(AUDIT, columns=(*AUDIT.columns, ("opened_at", "opened")))
    rows = [
        {
            **_audit("incident_state", "2", "6", "2016-03-01 10:00:00", "4"),
            "opened": "2016-03-01 08:00:00",
        },
    ]
    history = import_audit(rows, profile).histories[0]
    assert [type(e).__name__ for e in history] == ["TicketOpened", "StateChanged", "StateChanged"]
    assert history[0].at == datetime(2016, 3, 1, 8, 0, tzinfo=UTC)
    assert [e.to_state for e in history[1:]] == ["in_progress", "resolved"]  # type: ignore[attr-defined]


def test_an_audit_ticket_whose_rows_name_no_known_field_is_refused() -> None:
    result = import_rows([_audit("work_notes", "", "x", "2016-03-01 09:00:00", "0")], AUDIT)
    assert result.refused[0].reason == "no row of this ticket names a field of the profile"
    assert result.skipped_rows == 1


# ---------------------------------------------------------------------------- round trips

_LIFECYCLE = Lifecycle(IMPORT_LIFECYCLES["servicenow_incident"], matrix=SNOW.matrix)
_PEOPLE = ("ann", "dan", "eve")
_GROUPS = ("Desk", "Net")
_HOLDS = ("awaiting_caller", "awaiting_vendor", "awaiting_change")
_LEVELS = ("high", "medium", "low")


def _command(data: st.DataObject, ticket: Ticket) -> TicketCommand | Event:
    kind = data.draw(
        st.sampled_from(("assign", "reassign", "group", "unassign", "move", "classify", "category"))
    )
    person = data.draw(sampled(tuple(_PEOPLE)))
    group = data.draw(sampled(tuple(_GROUPS)))
    if kind == "assign":
        return Assign(assignee=person, group=ticket.group or group)
    if kind == "reassign":
        return Reassign(assignee=person, group=group)
    base: dict[str, Any] = {"ticket_id": ticket.id, "actor": person, "at": ticket.updated_at}
    if kind == "group":
        return GroupAssigned(
            **base,
            group=group,
            from_group=ticket.group,
            from_assignee=ticket.assignee,
            counted=ticket.group is not None and ticket.group != group,
        )
    if kind == "unassign":
        return Unassigned(**base, from_group=ticket.group, from_assignee=ticket.assignee)
    if kind == "classify":
        return Classify(
            impact=data.draw(sampled(tuple(_LEVELS))), urgency=data.draw(sampled(tuple(_LEVELS)))
        )
    if kind == "category":
        return UpdateField(
            field=data.draw(sampled(("category", "service"))),
            value=data.draw(sampled(("Network", "Mail", None))),
        )
    trigger = data.draw(
        st.sampled_from(
            (
                "start",
                "hold",
                "resume",
                "resolve",
                "reopen",
                "reopen_new",
                "close",
                "cancel",
                "reset",
            )
        )
    )
    return Transition(
        trigger="start" if trigger == "resume" else trigger,
        hold_reason=data.draw(sampled(tuple(_HOLDS))) if trigger == "hold" else None,
        resolution_code=data.draw(sampled(("code 5", None))) if trigger == "resolve" else None,
    )


@st.composite
def _histories(draw: st.DrawFn) -> tuple[Event, ...]:
    data = draw(st.data())
    at = datetime(2016, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 10**6)))
    impact, urgency = draw(sampled(tuple(_LEVELS))), draw(sampled(tuple(_LEVELS)))
    derived = SNOW.matrix.derive(impact, urgency).name  # type: ignore[union-attr]
    opened = TicketOpened(
        ticket_id=f"INC{draw(st.integers(1, 99))}",
        actor=draw(sampled(tuple(_PEOPLE))),
        at=at,
        type="servicenow_incident",
        state="new",
        state_category="new",
        title="",
        requester=draw(sampled(tuple(_PEOPLE))),
        impact=impact,
        urgency=urgency,
        derived_priority=derived,
        effective_priority=derived,
        category=draw(sampled(("Network", None))),
    )
    events: list[Event] = [opened]
    ticket = opened.apply_to(None)
    for _ in range(draw(st.integers(0, 10))):
        at = at + timedelta(minutes=draw(st.integers(0, 3000)))
        step = _command(data, ticket)
        actor = draw(sampled(tuple(_PEOPLE)))
        try:
            if isinstance(step, Event):
                if (
                    ticket.is_final
                    or (
                        isinstance(step, Unassigned)
                        and ticket.group is None
                        and ticket.assignee is None
                    )
                    or (
                        isinstance(step, GroupAssigned)
                        and (step.group, None) == (ticket.group, ticket.assignee)
                    )
                ):
                    continue
                new: tuple[Event, ...] = (attrs.evolve(step, at=at, actor=actor),)
            else:
                if isinstance(step, Classify) and (step.impact, step.urgency) == (
                    ticket.impact,
                    ticket.urgency,
                ):
                    continue
                if isinstance(step, UpdateField) and getattr(ticket, step.field) == step.value:
                    continue
                _, new = _LIFECYCLE.apply(ticket, step, actor=actor, at=at)
        except ItsmError:
            continue
        for event in new:
            ticket = event.apply_to(ticket)
        events += new
    return tuple(events)


@settings(max_examples=150)
@given(st.lists(_histories(), min_size=1, max_size=3, unique_by=lambda h: h[0].ticket_id))
def test_histories_written_as_snapshot_rows_import_back_to_the_same_histories(
    histories: list[tuple[Event, ...]],
) -> None:
    profile = attrs.evolve(SNOW, reassignments="any")
    rows = to_snapshot_rows(histories, profile)
    result = import_snapshot(rows, profile)
    assert result.refused == ()
    assert [h.events for h in result.histories] == histories


@settings(max_examples=150)
@given(st.lists(_histories(), min_size=1, max_size=3, unique_by=lambda h: h[0].ticket_id))
def test_histories_written_as_audit_rows_import_back_to_the_same_histories(
    histories: list[tuple[Event, ...]],
) -> None:
    profile = attrs.evolve(AUDIT, reassignments="any")
    rows = to_audit_rows(histories, profile)
    result = import_audit(rows, profile)
    assert result.refused == ()
    assert [h.events for h in result.histories] == histories


def test_the_sample_survives_a_round_trip_through_both_export_shapes() -> None:
    histories = import_snapshot(_sample_rows(), SNOW).histories
    assert import_snapshot(to_snapshot_rows(histories, SNOW), SNOW).histories == histories
    assert import_audit(to_audit_rows(histories, AUDIT), AUDIT).histories == histories


def test_an_event_the_export_cannot_show_is_refused_by_the_exporters() -> None:
    (history,) = import_snapshot([_row()], SNOW).histories
    opened = history[0]
    invisible = Unassigned(ticket_id=opened.ticket_id, actor="x", at=opened.at)
    with pytest.raises(InvalidValueError, match=r"histories\[0\]\[1\]"):
        to_snapshot_rows([(*history, invisible)], SNOW)
    with pytest.raises(InvalidValueError, match=r"histories\[0\]\[1\]"):
        to_audit_rows([(*history, invisible)], AUDIT)
    with pytest.raises(InvalidValueError, match="TicketOpened event first"):
        to_snapshot_rows([history[1:]], SNOW)
    assert isinstance(opened, TicketOpened)
    unknown = attrs.evolve(opened, state="limbo")
    with pytest.raises(InvalidValueError, match=r"values\.state"):
        to_snapshot_rows([(unknown,)], SNOW)


# ---------------------------------------------------------------------------- timestamps


_PARIS = Timestamps(formats=("%Y-%m-%d %H:%M",), timezone="Europe/Paris")


@pytest.mark.parametrize(
    ("rule", "wall", "expected"),
    [
        ("compatible", "2016-03-27 02:30", "2016-03-27T03:30:00+02:00"),
        ("later", "2016-03-27 02:30", "2016-03-27T03:30:00+02:00"),
        ("earlier", "2016-03-27 02:30", "2016-03-27T01:30:00+01:00"),
        ("compatible", "2016-10-30 02:30", "2016-10-30T02:30:00+02:00"),
        ("earlier", "2016-10-30 02:30", "2016-10-30T02:30:00+02:00"),
        ("later", "2016-10-30 02:30", "2016-10-30T02:30:00+01:00"),
    ],
)
def test_the_dst_rule_resolves_skipped_and_ambiguous_wall_times(
    rule: str, wall: str, expected: str
) -> None:
    assert parse_instant(wall, attrs.evolve(_PARIS, dst=rule)).isoformat() == expected


@settings(max_examples=500)
@given(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2018, 1, 1)))
def test_the_compatible_rule_is_zoneinfos_fold_0(naive: datetime) -> None:
    naive = naive.replace(second=0, microsecond=0)
    tz = ZoneInfo("Europe/Paris")
    parsed = parse_instant(naive.strftime("%Y-%m-%d %H:%M"), _PARIS)
    # Compared as instants: PEP 495 makes a wall time in a gap unequal to every
    # datetime of another zone, whatever instant both stand for.
    assert parsed.timestamp() == naive.replace(tzinfo=tz, fold=0).timestamp()


def test_the_raise_rule_and_naive_times_without_a_zone_are_errors() -> None:
    with pytest.raises(InvalidValueError, match="ambiguous in Europe/Paris"):
        parse_instant("2016-10-30 02:30", attrs.evolve(_PARIS, dst="raise"))
    with pytest.raises(InvalidValueError, match="skipped in Europe/Paris"):
        parse_instant("2016-03-27 02:30", attrs.evolve(_PARIS, dst="raise"))
    with pytest.raises(InvalidValueError, match="no timezone for naive"):
        parse_instant("2016-10-30 02:30", attrs.evolve(_PARIS, timezone=None))
    aware = parse_instant("2016-10-30T02:30:00-0600", Timestamps(formats=("iso",)))
    assert aware.utcoffset() == timedelta(hours=-6)


# ---------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_built_in_profile_round_trips_through_its_plain_form(name: str) -> None:
    profile = PROFILES[name]
    assert profile_from_dict(profile_to_dict(profile)) == profile
    assert profile_from_dict(PROFILE_DATA[name]) == profile
    assert profile_lifecycle(profile).name == profile.lifecycle


@pytest.mark.parametrize("name", sorted(IMPORT_LIFECYCLES))
def test_every_import_lifecycle_is_valid_and_lets_anyone_reopen(name: str) -> None:
    definition = IMPORT_LIFECYCLES[name]
    assert validate_definition(definition) == []
    assert definition.policies.reopen_by == ("anyone",)
    assert not definition.policies.closure_confirmed_by_requester


def test_a_profile_reports_every_problem_with_its_path() -> None:
    bad = {
        "name": "x",
        "shape": "snapshot",
        "lifecycle": "servicenow_incident",
        "columns": {"ticket_id": "id", "at": "t", "state": "s", "colour": "c", "field": "f"},
        "values": {"state": {"A": 1}},
        "timestamps": {"formats": [], "timezone": "Mars/Base", "dst": "sometimes"},
        "reassignments": "some",
    }
    with pytest.raises(ConfigurationError) as caught:
        profile_from_dict(bad)
    assert [p.path for p in caught.value.problems] == ["profile.values.state.A"]
    del bad["values"]
    with pytest.raises(ConfigurationError) as caught:
        profile_from_dict(bad)
    paths = [p.path for p in caught.value.problems]
    assert paths == [
        "profile.columns.colour",
        "profile.columns.field",
        "profile.timestamps.formats",
        "profile.timestamps.timezone",
        "profile.timestamps.dst",
        "profile.reassignments",
    ]
    with pytest.raises(ConfigurationError, match="profile: expected a table"):
        profile_from_dict("servicenow")
    with pytest.raises(ConfigurationError, match=r"profile\.name: missing"):
        profile_from_dict({"shape": "audit"})


def test_value_maps_are_checked_against_the_matrix_and_the_lifecycle() -> None:
    data = dict(PROFILE_DATA["servicenow_snapshot"])
    data["values"] = {**data["values"], "impact": {"1 - High": "huge"}}
    with pytest.raises(ConfigurationError, match=r"values\.impact\.1 - High: expected one of"):
        profile_from_dict(data)
    data["values"] = {**data["values"], "impact": {}, "state": {"New": "fresh"}}
    with pytest.raises(ConfigurationError, match=r"values\.state\.New: expected a state"):
        profile_lifecycle(profile_from_dict(data))
    data["lifecycle"] = "remedy"
    with pytest.raises(ConfigurationError, match=r"profile\.lifecycle: expected one of"):
        profile_lifecycle(profile_from_dict(data))


# ---------------------------------------------------------------------------- documented examples


def test_the_servicenow_snapshot_example_imports_cleanly() -> None:
    result = import_snapshot(_csv(EXAMPLES / "servicenow_snapshot.csv"), SNOW)
    assert (result.refused, result.skipped_rows, result.priority_mismatches) == ((), 0, 0)
    assert result.tickets >= 2


def test_the_servicenow_sys_audit_example_imports_cleanly() -> None:
    result = import_audit(_csv(EXAMPLES / "servicenow_sys_audit.csv"), AUDIT)
    assert result.refused == ()
    assert result.tickets >= 1


def test_the_jira_changelog_example_imports_cleanly() -> None:
    issues = json.loads((EXAMPLES / "jira_changelog.json").read_text(encoding="utf-8"))
    result = import_audit(jira_changelog_rows(issues), PROFILES["jira_changelog"])
    assert result.refused == ()
    reopened = [fold_events(h) for h in result.histories]
    assert any(t.reopenings for t in reopened)


def test_the_zammad_history_example_imports_cleanly() -> None:
    doc = json.loads((EXAMPLES / "zammad_history.json").read_text(encoding="utf-8"))
    rows = list(zammad_history_rows(doc["ticket"], doc["history"]))
    result = import_audit(rows, PROFILES["zammad_history"])
    assert result.refused == ()
    assert fold_events(result.histories[0]).state == "closed"


def test_the_glpi_history_example_imports_cleanly() -> None:
    result = import_audit(_csv(EXAMPLES / "glpi_logs.csv"), PROFILES["glpi_history"])
    assert result.refused == ()
    assert fold_events(result.histories[0]).state == "closed"


def test_the_flatteners_refuse_what_is_not_their_shape() -> None:
    with pytest.raises(InvalidValueError, match="issues"):
        list(jira_changelog_rows("SD-1"))
    with pytest.raises(InvalidValueError, match=r"issues\[0\]"):
        list(jira_changelog_rows([{"id": 1}]))
    with pytest.raises(InvalidValueError, match="ticket"):
        list(zammad_history_rows({}, {"history": []}))
    with pytest.raises(InvalidValueError, match="history"):
        list(zammad_history_rows({"id": 1}, {}))


def test_a_jira_search_result_is_read_like_a_list_of_issues() -> None:
    issue: dict[str, Any] = {
        "key": "SD-9",
        "fields": {
            "created": "2026-03-02T09:00:00+00:00",
            "status": {"name": "To Do"},
            "reporter": {"name": "ann"},
        },
    }
    assert list(jira_changelog_rows({"issues": [issue]})) == list(jira_changelog_rows(issue))


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"columns": "number"}, "profile.columns", "expected a table of names to strings"),
        ({"columns": {"ticket_id": 3}}, "profile.columns.ticket_id", "expected a string"),
        ({"columns": {"ticket_id": ""}}, "profile.columns.ticket_id", "expected a column name"),
        ({"values": "x"}, "profile.values", "expected a table of facts"),
        ({"values": {"colour": {"a": "b"}}}, "profile.values.colour", "expected one of"),
        ({"fields": {"x": "colour"}}, "profile.fields.x", "expected one of"),
        ({"constants": {"colour": "red"}}, "profile.constants.colour", "expected one of"),
        ({"missing": "?"}, "profile.missing", "expected a list of strings"),
        ({"name": 7}, "profile.name", "expected a string"),
        ({"matrix": {"impact": ["a"]}}, "profile.matrix.urgency", "missing"),
    ],
)
def test_a_profile_names_the_path_of_each_bad_value(
    change: dict[str, Any], path: str, message: str
) -> None:
    data = {**PROFILE_DATA["servicenow_snapshot"], **change}
    with pytest.raises(ConfigurationError) as caught:
        profile_from_dict(data)
    found = {p.path: p.message for p in caught.value.problems}
    assert path in found, found
    assert message in found[path]


def test_an_audit_profile_needs_its_field_and_new_value_columns() -> None:
    data = {**PROFILE_DATA["servicenow_audit"], "columns": {"ticket_id": "id", "at": "t"}}
    with pytest.raises(ConfigurationError) as caught:
        profile_from_dict(data)
    assert [p.path for p in caught.value.problems] == [
        "profile.columns.field",
        "profile.columns.new",
    ]


def test_a_missing_update_time_refuses_the_ticket() -> None:
    (refused,) = import_snapshot([_row(sys_updated_at="?")], SNOW).refused
    assert refused.reason == "at: missing timestamp"


def test_levels_outside_the_matrix_derive_no_priority() -> None:
    profile = attrs.evolve(SNOW, values=tuple(v for v in SNOW.values if v[0] == "state"))
    history = import_snapshot([_row(impact="9", urgency="9", priority="9")], profile).histories
    ticket = fold_events(history[0])
    assert (ticket.impact, ticket.derived_priority, ticket.effective_priority) == ("9", None, "9")


def test_iso_timestamps_are_written_with_their_offset() -> None:
    stamps = Timestamps(formats=("iso",), timezone="Europe/Paris")
    at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert format_instant(at, stamps) == "2026-07-01T14:00:00+02:00"
    assert parse_instant(format_instant(at, stamps), stamps) == at


def test_imported_instants_are_written_as_rfc_3339_that_fromisoformat_reads_back() -> None:
    rows = [
        _row(),
        _row(sys_mod_count="1", sys_updated_at="1/3/2016 10:00", incident_state="Active"),
    ]
    paris = attrs.evolve(SNOW, timestamps=attrs.evolve(SNOW.timestamps, timezone="Europe/Paris"))
    for profile in (SNOW, paris):
        for event in import_snapshot(rows, profile).histories[0]:
            text = encode_event(event)["at"]
            assert "[" not in text
            assert datetime.fromisoformat(text) == event.at


def test_the_histories_check_every_move_against_the_lifecycle_again() -> None:
    from itsm_core.imports._core import _Rules  # the History rules of an import

    (history,) = import_snapshot([_row(incident_state="Resolved")], SNOW).histories
    rules = _Rules(Lifecycle(IMPORT_LIFECYCLES["servicenow_incident"]))
    assert History(history.events, lifecycle=rules) == history
    opened, moved = history.events
    assert isinstance(opened, TicketOpened)
    assert isinstance(moved, StateChanged)
    with pytest.raises(InvalidValueError, match=r"events\[1\]\.to_state"):
        History((opened, attrs.evolve(moved, to_state="closed")), lifecycle=rules)
    with pytest.raises(InvalidValueError, match=r"events\[0\]"):
        History((attrs.evolve(opened, type="incident"),), lifecycle=rules)


def test_a_streamed_import_of_rows_grouped_by_ticket_equals_the_whole_import() -> None:
    rows = _sample_rows()
    whole = import_snapshot(rows, SNOW)
    items = list(import_stream(rows, SNOW))
    counts = items.pop()
    assert isinstance(counts, ImportCounts)
    assert tuple(items) == whole.histories
    assert (counts.rows, counts.skipped_rows, counts.unchanged_rows) == (
        whole.rows,
        whole.skipped_rows,
        whole.unchanged_rows,
    )


@settings(max_examples=50)
@given(
    st.lists(_histories(), min_size=1, max_size=4, unique_by=lambda h: h[0].ticket_id),
    st.randoms(use_true_random=False),
)
def test_a_stream_refuses_a_ticket_whose_rows_come_back_and_keeps_the_rest(
    histories: list[tuple[Event, ...]], rnd: Any
) -> None:
    profile = attrs.evolve(AUDIT, reassignments="any")
    rows = to_audit_rows(histories, profile)
    rnd.shuffle(rows)
    items = list(import_stream(rows, profile))
    counts = items.pop()
    assert isinstance(counts, ImportCounts)
    assert counts.rows == len(rows)
    whole = import_audit(sorted(rows, key=lambda r: r["documentkey"]), profile)
    imported = {h.ticket_id: h for h in items if isinstance(h, History)}
    refused = {r.ticket_id for r in items if isinstance(r, RefusedTicket)}
    # every ticket appears; a ticket whose rows were all together imports as a whole import does
    assert set(imported) | refused == {h[0].ticket_id for h in histories}
    for history in whole.histories:
        if history.ticket_id not in refused:
            assert imported[history.ticket_id] == history


def test_the_toml_profiles_of_the_docs_load() -> None:
    import tomllib

    example = tomllib.loads((EXAMPLES / "servicenow_snapshot.toml").read_text(encoding="utf-8"))
    assert profile_from_dict(example) == SNOW
    guide = (ROOT / "docs" / "guides" / "imports.md").read_text(encoding="utf-8")
    block = guide.split("```toml\n", 1)[1].split("```", 1)[0]
    profile = profile_from_dict(tomllib.loads(block))
    assert profile_lifecycle(profile).name == "servicenow_incident"
    assert profile.constant("title") == "imported"


def test_constants_fill_the_facts_an_audit_export_does_not_have() -> None:
    profile = attrs.evolve(AUDIT, constants=(("category", "Network"), ("title", "imported")))
    rows = [_audit("incident_state", "", "1", "2016-03-01 09:00:00", "0")]
    ticket = import_audit(rows, profile).histories[0].ticket
    assert (ticket.category, ticket.title) == ("Network", "imported")


def test_jira_people_are_named_by_their_id_and_statuses_by_their_names() -> None:
    issues = json.loads((EXAMPLES / "jira_changelog.json").read_text(encoding="utf-8"))
    (history,) = import_audit(jira_changelog_rows(issues), PROFILES["jira_changelog"]).histories
    assert (history.ticket.assignee, history.ticket.requester) == ("dan", "ann")
    assert {e.actor for e in history} == {"ann", "dan"}


def test_without_a_sequence_column_a_tickets_rows_are_ordered_by_their_instant() -> None:
    profile = attrs.evolve(SNOW, columns=tuple(c for c in SNOW.columns if c[0] != "sequence"))
    rows = [
        _row(sys_updated_at="1/3/2016 11:00", incident_state="Closed"),
        _row(),
        _row(sys_updated_at="1/3/2016 10:00", incident_state="Resolved"),
    ]
    assert import_snapshot(rows, profile).histories[0].ticket.state == "closed"
