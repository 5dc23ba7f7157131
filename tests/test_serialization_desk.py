"""Desk documents: loading, every problem with its path, migrations, dumping, JSON Schema."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from itsm_core.calendar import BusinessCalendar, CompositeCalendar
from itsm_core.errors import ConfigurationError
from itsm_core.lifecycle import default_definitions
from itsm_core.priority import PriorityMatrix
from itsm_core.serialization import (
    DESK_KEYS,
    SCHEMA_VERSION,
    Desk,
    desk_json_schema,
    dump_desk,
    event_json_schema,
    json_schema,
    load_desk,
    migrate_desk,
)
from itsm_core.sla import SlaKind
from itsm_core.ticket import Ticket

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "desk.toml"


def example() -> dict[str, Any]:
    with EXAMPLE.open("rb") as file:
        return tomllib.load(file)


def problems(document: Any) -> list[str]:
    with pytest.raises(ConfigurationError) as info:
        load_desk(document)
    return [str(p) for p in info.value.problems]


def as_json(document: Any) -> Any:
    """The document as JSON carries it (TOML dates become text)."""
    return json.loads(json.dumps(document, default=str))


# ---------------------------------------------------------------------------- the example


def test_the_example_desk_loads_with_its_kiosk_support() -> None:
    desk = load_desk(example())
    assert desk.name == "Kiosk support"
    assert desk.calendar == "support"
    support = desk.default_calendar
    assert isinstance(support, BusinessCalendar)
    assert support.timezone == "Europe/Moscow"
    assert date(2026, 1, 7) in support.holidays
    # 8 business hours from Friday 6 March 2026 16:00 (a short day closing at 16:00,
    # then the holiday of Monday 9 March): Tuesday 10 March 16:00.
    start = datetime.fromisoformat("2026-03-06T15:00:00+03:00")
    assert support.add(start, timedelta(hours=8)).isoformat() == "2026-03-10T16:00:00+03:00"
    incidents = desk.sla_policies[0]
    assert incidents.calendar is support
    assert incidents.metric("resolution").target_us("P3") == 8 * 3_600_000_000
    vendor = desk.sla_policies[2]
    assert vendor.kind is SlaKind.UNDERPINNING_CONTRACT
    assert vendor.calendar is desk.calendars["vendor"]
    assert [g.line for g in desk.support.groups] == [1, 2, 3, 4] if desk.support else False
    assert desk.matrix == PriorityMatrix.itil_3x3()
    assert "documentation_request" not in list(desk.lifecycles())
    assert desk.lifecycles()["incident"].definition.policies.reopen_window_days == 5
    assert [r.name for r in desk.escalation_rules] == ["resolution warnings", "waiting for a reply"]
    assert desk.directory.get("dana") is not None


def test_the_example_desk_lets_its_support_lines_work() -> None:
    desk = load_desk(example())
    ticket = Ticket(
        id="INC-1",
        type="incident",
        state="assigned",
        state_category="active",
        title="Kiosk 17 is frozen",
        requester="kiosk-17",
        opened_at=datetime.fromisoformat("2026-03-02T09:00:00+03:00"),
        updated_at=datetime.fromisoformat("2026-03-02T09:00:00+03:00"),
        assignee="pavel",
        group="field-engineers",
    )
    policy = desk.permissions
    assert policy.authorize("pavel", "transition:resolve", ticket, directory=desk.directory).allowed
    assert not policy.authorize(
        "kiosk-17", "transition:resolve", ticket, directory=desk.directory
    ).allowed
    assert desk.policy_for(ticket) is desk.sla_policies[0]


def test_the_example_desk_dumps_and_loads_back_equal() -> None:
    desk = load_desk(example())
    dumped = dump_desk(desk)
    assert dumped["schema_version"] == SCHEMA_VERSION
    assert json.loads(json.dumps(dumped)) == dumped
    assert load_desk(dumped) == desk
    assert dump_desk(load_desk(dumped)) == dumped


def test_an_empty_document_is_a_desk_of_defaults() -> None:
    desk = load_desk({})
    assert desk == Desk()
    assert desk.default_calendar is None
    assert desk.lifecycle_definitions == default_definitions()
    assert dump_desk(desk) == {"schema_version": SCHEMA_VERSION}


# ---------------------------------------------------------------------------- problems


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    doc = example()
    doc["sla"]["policies"][2]["metrics"]["resolution"]["targets"] = {"P1": "eight"}
    doc["sla"]["policies"][0]["calendar"] = "weekend"
    doc["calendars"]["support"]["weekly"]["mon"] = ["09:00-25:00"]
    doc["escalation"]["structure"]["groups"][0]["line"] = "first"
    doc["permissions"]["grants"][1]["role"] = "wizard"
    doc["people"][0]["groups"] = 3
    doc["colour"] = "blue"
    found = problems(doc)
    assert (
        "sla.policies[2].metrics.resolution.targets.P1: expected a business duration "
        'such as "8h" or "90m", business days "5bd", the end of the business day "eod" or '
        '"2bd eod", or wall-clock time "24h wall", got "eight"' in found
    )
    expected_paths = [
        "colour",
        "calendars.support.weekly.mon[0]",
        "sla.policies[0].calendar",
        "sla.policies[2].metrics.resolution.targets.P1",
        "escalation.structure.groups[0].line",
        "permissions.grants[1].role",
        "people[0].groups",
    ]
    paths = [p.split(":")[0] for p in found]
    for path in expected_paths:
        assert path in paths, found


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d.update(calendar="night"), "calendar", "expected a calendar declared"),
        (lambda d: d.update(calendars=[]), "calendars", "expected a table"),
        (lambda d: d["calendars"].update({"": {}}), "calendars['']", "calendar name as key"),
        (lambda d: d["calendars"].update(x=1), "calendars.x", "expected a calendar table"),
        (lambda d: d.update(name=1), "name", "expected a string"),
        (lambda d: d.update(priority={"preset": "6x6"}), "priority.preset", "itil_3x3"),
        (
            lambda d: d.update(priority={"preset": "itil_3x3", "cells": {}}),
            "priority",
            "stands alone",
        ),
        (lambda d: d.update(priority={"impact": 1}), "priority.impact", "expected a list"),
        (lambda d: d.update(priority=[1]), "priority", "priority matrix table"),
        (lambda d: d.update(lifecycles="incident"), "lifecycles", "expected a list"),
        (lambda d: d["lifecycles"].append("chores"), "lifecycles[7]", "default lifecycle"),
        (lambda d: d["lifecycles"].append("problem"), "lifecycles[7]", "a second lifecycle"),
        (
            lambda d: d["lifecycles"].append({"default": "chores"}),
            "lifecycles[7].default",
            "default lifecycle",
        ),
        (
            lambda d: d["lifecycles"].append({"default": "incident", "colour": 1}),
            "lifecycles[7].colour",
            "unknown key",
        ),
        (
            lambda d: d["lifecycles"].__setitem__(
                0, {"default": "incident", "policies": {"reopen_window_days": -1}}
            ),
            "lifecycles[0].policies.reopen_window_days",
            "business days >= 0",
        ),
        (
            lambda d: d["lifecycles"].__setitem__(
                0, {"default": "incident", "policies": {"reopen_window_days": "5"}}
            ),
            "lifecycles[0].policies.reopen_window_days",
            "expected an integer",
        ),
        (
            lambda d: d["lifecycles"].append(
                {"name": "Chore", "initial": "todo", "states": [], "transitions": []}
            ),
            "lifecycles[7].name",
            "",
        ),
        (lambda d: d["sla"].update(policies={}), "sla.policies", "expected a list"),
        (lambda d: d["sla"].update(extra=1), "sla.extra", "unknown key"),
        (
            lambda d: d["sla"]["policies"][0]["metrics"]["resolution"]["targets"].update(P9="1h"),
            "sla.policies[0].metrics.resolution.targets.P9",
            "unknown priority",
        ),
        (
            lambda d: d["sla"]["policies"][0]["applies_to"].update(types=["chores"]),
            "sla.policies[0].applies_to.types[0]",
            "no lifecycle serves 'chores'",
        ),
        (
            lambda d: d["sla"]["policies"][0]["applies_to"].update(priorities=["P9"]),
            "sla.policies[0].applies_to.priorities[0]",
            "unknown priority 'P9'",
        ),
        (
            lambda d: d["sla"]["policies"][1].update(name="Kiosk incidents"),
            "sla.policies[1].name",
            "a second policy",
        ),
        (
            lambda d: d["sla"]["policies"][0].update(calendar=7),
            "sla.policies[0].calendar",
            "a calendar table or the name",
        ),
        (
            lambda d: d["sla"]["credits"][0].update(below_percent="lots"),
            "sla.credits[0].below_percent",
            "decimal number",
        ),
        (
            lambda d: d["sla"]["credits"][0].update(below_percent="101"),
            "sla.credits[0].below_percent",
            "a percentage from 0 to 100",
        ),
        (
            lambda d: d["escalation"]["rules"][0]["trigger"].update(metric="update"),
            "escalation.rules[0].trigger.metric",
            "no SLA policy measures 'update'",
        ),
        (
            lambda d: d["escalation"]["rules"][1]["levels"][0]["actions"].append(
                {"kind": "reassign", "to": "group", "group": "cleaners"}
            ),
            "escalation.rules[1].levels[0].actions[1]",
            "unknown group 'cleaners'",
        ),
        (
            lambda d: d["escalation"]["structure"].update(default_group="cleaners"),
            "escalation.structure.default_group",
            "expected one of",
        ),
        (
            lambda d: d["permissions"].update(default_roles="yes"),
            "permissions.default_roles",
            "true or false",
        ),
        (
            lambda d: d["permissions"].update(roles=[{"name": "dispatcher"}]),
            "permissions.roles[0].name",
            "",
        ),
        (lambda d: d["permissions"].update(grants={}), "permissions.grants", "expected a list"),
        (lambda d: d["people"].append({"id": "dana"}), "people[8].id", "a second person"),
        (lambda d: d.update(people=[{"name": "x"}]), "people[0].id", "missing"),
        (lambda d: d.update(schema_version=2), "schema_version", "expected 1, got 2"),
        (lambda d: d.update(schema_version="1"), "schema_version", "expected 1, got '1'"),
    ],
)
def test_a_bad_document_names_the_path_of_its_problem(change: Any, path: str, message: str) -> None:
    doc = example()
    change(doc)
    found = problems(doc)
    assert any(p.startswith(path + ":") and message in p for p in found), found


def test_an_escalation_rule_naming_a_group_without_a_structure_is_reported() -> None:
    doc = example()
    del doc["escalation"]["structure"]
    doc["escalation"]["rules"][1]["levels"][0]["actions"] = [
        {"kind": "notify", "groups": ["service-desk"]}
    ]
    assert any("escalation.structure declares no groups" in p for p in problems(doc)), problems(doc)


def test_the_problems_of_the_permissions_defaults_are_not_blamed_on_the_users_lists() -> None:
    doc = example()
    doc["permissions"]["hierarchy"] = {"a": "b", "b": "a"}
    found = problems(doc)
    assert all(p.startswith("permissions") for p in found), found


def test_a_policy_without_the_defaults_is_read_as_it_is() -> None:
    doc = {
        "permissions": {
            "default_roles": False,
            "roles": [{"name": "reader", "permissions": ["view"]}],
            "grants": [{"role": "reader", "principal": "*"}],
        }
    }
    desk = load_desk(doc)
    assert [r.name for r in desk.permissions.roles] == ["reader"]
    assert dump_desk(desk)["permissions"] == doc["permissions"]
    assert load_desk(dump_desk(desk)) == desk


def test_a_document_must_be_a_table() -> None:
    assert problems([1, 2]) == ["expected a desk document (a table), got [1, 2]"]


# ---------------------------------------------------------------------------- calendars


def test_calendars_may_combine_other_calendars_by_name() -> None:
    doc = {
        "calendars": {
            "both": {"operation": "intersection", "left": "support", "right": "customer"},
            "support": {"timezone": "Europe/Moscow", "weekly": {"mon": ["09:00-18:00"]}},
            "customer": {"timezone": "Europe/London", "weekly": {"mon": ["09:00-17:00"]}},
            "either": {"operation": "union", "left": "both", "right": {"timezone": "UTC"}},
        },
        "calendar": "support",
    }
    desk = load_desk(doc)
    both = desk.calendars["both"]
    assert isinstance(both, CompositeCalendar)
    assert both.left is desk.calendars["support"]
    assert isinstance(desk.calendars["either"], CompositeCalendar)
    assert load_desk(dump_desk(desk)) == desk


def test_calendars_naming_each_other_in_a_cycle_are_reported() -> None:
    doc = {
        "calendars": {
            "a": {"operation": "union", "left": "b", "right": "b"},
            "b": {"operation": "union", "left": "a", "right": "a"},
            "c": {"operation": "union", "left": "nowhere", "right": "a"},
        }
    }
    found = problems(doc)
    assert "calendars.a: calendars that name each other in a cycle" in found
    assert "calendars.b: calendars that name each other in a cycle" in found


def test_an_unknown_calendar_in_a_union_is_reported() -> None:
    found = problems({"calendars": {"c": {"operation": "union", "left": "x", "right": "x"}}})
    assert found[0].startswith("calendars.c.left: expected a calendar declared")


def test_a_calendar_may_take_a_countrys_holidays() -> None:
    doc = {
        "calendars": {
            "ru": {
                "timezone": "Europe/Moscow",
                "holidays": ["2026-03-10"],
                "country_holidays": {"country": "RU", "years": [2026]},
            }
        }
    }
    calendar = load_desk(doc).calendars["ru"]
    assert isinstance(calendar, BusinessCalendar)
    assert {date(2026, 1, 7), date(2026, 3, 10)} <= set(calendar.holidays)
    doc["calendars"]["ru"]["country_holidays"] = {"country": "XX", "years": [2026]}
    assert problems(doc)[0].startswith("calendars.ru.country_holidays.country: expected")
    doc["calendars"]["ru"]["country_holidays"] = {"country": "RU", "when": 2026}
    assert problems(doc)[0].startswith("calendars.ru.country_holidays.when: unknown key")
    doc["calendars"]["ru"]["country_holidays"] = {"country": "RU", "years": [2026, 20260]}
    assert problems(doc)[0].startswith("calendars.ru.country_holidays.years[1]: expected a year")
    doc["calendars"]["ru"]["country_holidays"] = {"country": "RU"}
    assert problems(doc)[0].startswith("calendars.ru.country_holidays.years: missing")
    doc["calendars"]["ru"]["country_holidays"] = {}
    plain = load_desk(doc).calendars["ru"]
    assert isinstance(plain, BusinessCalendar)
    assert plain.holidays == (date(2026, 3, 10),)


def test_a_calendar_keeps_a_name_other_than_its_key() -> None:
    desk = load_desk({"calendars": {"c": {"timezone": "UTC", "name": "Office hours"}}})
    named = desk.calendars["c"]
    assert isinstance(named, BusinessCalendar)
    assert named.name == "Office hours"
    assert dump_desk(desk)["calendars"]["c"]["name"] == "Office hours"
    unnamed = load_desk({"calendars": {"c": {"timezone": "UTC", "name": ""}}})
    assert load_desk(dump_desk(unnamed)) == unnamed


def test_a_policy_may_define_its_calendar_in_place() -> None:
    doc = {
        "sla": {
            "policies": [
                {
                    "name": "p",
                    "calendar": {"timezone": "UTC"},
                    "metrics": {"resolution": {"default_target": "8h"}},
                }
            ]
        }
    }
    desk = load_desk(doc)
    assert desk.sla_policies[0].calendar == BusinessCalendar(timezone="UTC")
    assert dump_desk(desk)["sla"]["policies"][0]["calendar"] == {"timezone": "UTC"}


def test_a_custom_priority_matrix_and_lifecycle_round_trip() -> None:
    definition = default_definitions()[0]
    from itsm_core.serialization import make_converter

    custom = make_converter().unstructure(definition)
    custom["name"] = "kiosk_fault"
    doc = {"priority": PriorityMatrix.glpi_5x5().to_dict(), "lifecycles": [custom]}
    desk = load_desk(doc)
    assert desk.matrix == PriorityMatrix.glpi_5x5()
    assert list(desk.lifecycles()) == ["kiosk_fault"]
    assert load_desk(dump_desk(desk)) == desk
    assert load_desk({"priority": {"preset": "glpi_5x5"}}).matrix == PriorityMatrix.glpi_5x5()


# ---------------------------------------------------------------------------- migrations


def _v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 0 called the SLA section ``agreements``."""
    new = {k: v for k, v in doc.items() if k != "agreements"}
    new["sla"] = {"policies": doc.get("agreements", [])}
    new["schema_version"] = 1
    return new


def test_migrations_run_before_the_document_is_read() -> None:
    old = {"schema_version": 0, "agreements": [], "name": "old desk"}
    assert load_desk(old, migrations={0: _v0_to_v1}).name == "old desk"
    assert migrate_desk(old, migrations={0: _v0_to_v1})["sla"] == {"policies": []}
    assert problems(old) == ["schema_version: no migration from version 0 is known"]


def test_a_migration_that_does_not_raise_the_version_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="did not raise the version"):
        load_desk({"schema_version": 0}, migrations={0: lambda d: d})


def test_a_document_without_a_version_is_taken_as_current() -> None:
    assert migrate_desk({}) == {}


# ---------------------------------------------------------------------------- JSON Schema


def validate(schema: dict[str, Any], value: Any, root: dict[str, Any] | None = None) -> list[str]:
    """The errors of ``value`` against the subset of JSON Schema the generator uses."""
    root = root or schema
    if "$ref" in schema:
        return validate(root["$defs"][schema["$ref"].rsplit("/", 1)[1]], value, root)
    errors: list[str] = []
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf", schema.get("oneOf", []))
        matching = [o for o in options if not validate(o, value, root)]
        if not matching or ("oneOf" in schema and len(matching) > 1):
            errors.append(f"{value!r} matches {len(matching)} of the options")
        return errors
    kinds = schema.get("type")
    if kinds is not None:
        names = kinds if isinstance(kinds, list) else [kinds]
        if not any(_is(value, name) for name in names):
            return [f"{value!r} is not of type {kinds}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{value!r} is not one of {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        errors += [f"missing {key}" for key in schema.get("required", []) if key not in value]
        for key, item in value.items():
            if key in properties:
                errors += validate(properties[key], item, root)
            elif schema.get("additionalProperties") is False:
                errors.append(f"unexpected {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += validate(schema["additionalProperties"], item, root)
    if isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items")
            if sub is not None:
                errors += validate(sub, item, root)
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 10**9):
            errors.append(f"{value!r} has the wrong length")
    return errors


def _is(value: Any, name: str) -> bool:
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return bool(checks[name](value))


def test_the_example_desk_validates_against_the_generated_schema() -> None:
    schema = desk_json_schema()
    assert validate(schema, as_json(example())) == []
    assert validate(schema, dump_desk(load_desk(example()))) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(colour="blue"),
        lambda d: d["calendars"]["support"].update(timezone=3),
        lambda d: d["sla"]["policies"][0]["metrics"]["resolution"].update(default_target="8"),
        lambda d: d["sla"]["policies"][0].pop("calendar"),
        lambda d: d["escalation"]["rules"][0]["trigger"].update(kind="panic"),
        lambda d: d.update(schema_version=2),
        lambda d: d["calendars"]["support"]["weekly"].update(mon=["9-5"]),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(change: Any) -> None:
    doc = as_json(example())
    change(doc)
    assert validate(desk_json_schema(), doc) != []
    with pytest.raises(ConfigurationError):
        load_desk(doc)


def test_the_schema_describes_every_top_level_key_and_is_json() -> None:
    schema = desk_json_schema()
    assert set(schema["properties"]) == set(DESK_KEYS)
    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_schema_is_valid_for_the_jsonschema_package_when_installed() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(desk_json_schema())
    validator = jsonschema.Draft202012Validator(desk_json_schema())
    assert list(validator.iter_errors(as_json(example()))) == []


def test_event_lines_have_a_schema_too() -> None:
    from itsm_core.serialization import encode_event
    from itsm_core.ticket import Watched

    schema = event_json_schema()
    line = encode_event(
        Watched(
            ticket_id="T", actor="a", watcher="b", at=datetime.fromisoformat("2026-01-01T00:00Z")
        )
    )
    assert validate(schema, line) == []
    assert validate(schema, {**line, "event": "exploded"}) != []


def test_a_schema_for_one_type() -> None:
    schema = json_schema(tuple[Ticket, ...])
    assert schema["type"] == "array"
    assert "Ticket" in schema["$defs"]
    assert validate(json_schema(timedelta), "1h30m") == []
    assert validate(json_schema(timedelta), "ninety") != []


def test_mutating_the_example_keeps_it_a_copy() -> None:
    first = example()
    second = copy.deepcopy(first)
    second["calendars"]["support"]["timezone"] = "UTC"
    assert first != second
