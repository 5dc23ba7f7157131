"""The desk routes: intake checked before anything changes, decisions, notifications."""

from __future__ import annotations

import copy
import json
import pickle
import tomllib
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_core.desk import Desk, Outcome, SlaThresholdReached
from itsm_core.errors import ConfigurationError, InvalidValueError, ItsmError
from itsm_core.escalation import SupportGroup, SupportStructure
from itsm_core.routing import (
    GroupRouting,
    RoutingConfig,
    RoutingDecision,
    RoutingState,
    notifications_for,
)
from itsm_core.serialization import desk_json_schema, dump_desk, load_desk
from itsm_core.ticket import (
    AddComment,
    OpenTicket,
    Ticket,
    TicketCommand,
    Transition,
    UpdateField,
)

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "desk.toml"
TZ = "Europe/Moscow"
TUESDAY = pendulum.datetime(2026, 3, 10, 9, 0, tz=TZ)
KIOSK = "kiosk-007"
ROUTING: dict[str, Any] = {
    "staff": [{"name": "dana"}, {"name": "ivan"}, {"name": "pavel"}, {"name": "nikita"}],
    "groups": [
        {
            "group": "service-desk",
            "members": ["dana", "ivan"],
            "support_line": 1,
            "supervisor": "sveta",
        },
        {
            "group": "field-engineers",
            "strategy": "least_loaded",
            "members": ["pavel", "nikita"],
            "support_line": 2,
            "supervisor": "sveta",
        },
    ],
    "catalog": {
        "services": [
            {"name": "kiosk", "categories": ["hardware", "software"], "groups": ["service-desk"]},
        ]
    },
    "notifications": [
        {
            "name": "requester: state changed",
            "on": "state_entered",
            "recipients": ["requester"],
            "template": "ticket.state_changed",
        },
        {
            "name": "requester: public reply",
            "on": "public_reply",
            "recipients": ["requester"],
            "template": "ticket.public_reply",
            "by": "agent",
        },
        {
            "name": "team: new work",
            "on": "assigned",
            "recipients": ["assignee"],
            "template": "ticket.assigned",
            "visibility": "internal",
        },
        {
            "name": "team: notes",
            "on": "internal_note",
            "recipients": ["requester", "group"],
            "template": "ticket.note",
            "visibility": "internal",
            "notify_actor": True,
        },
        {
            "name": "supervisor: sla",
            "on": "sla_threshold",
            "recipients": ["supervisor"],
            "template": "sla.warning",
            "visibility": "internal",
        },
    ],
}


def _document() -> dict[str, Any]:
    doc = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["routing"] = copy.deepcopy(ROUTING)
    return doc


DESK = load_desk(_document())


def _open(**fields: Any) -> Outcome:
    command = OpenTicket(
        ticket_id="T-1",
        type=fields.pop("type", "incident"),
        title="kiosk frozen",
        requester=KIOSK,
        **{"service": "kiosk", "category": "hardware", "channel": "phone", **fields},
    )
    return DESK.apply(None, command, actor=KIOSK, at=TUESDAY)


def _confirm(decision: RoutingDecision, ticket: Ticket) -> TicketCommand:
    """The command that carries out ``decision`` (a decision that assigns someone)."""
    command = decision.command(ticket)
    assert command is not None
    return command


# --------------------------------------------------------------------- the document


def test_a_desk_document_with_a_routing_section_loads_dumps_and_loads_back_equal() -> None:
    assert DESK.routing is not None
    assert DESK.routing.group("field-engineers") is not None
    doc = dump_desk(DESK)
    assert "routing" in doc
    again = load_desk(json.loads(json.dumps(doc)))
    assert again == DESK
    assert again.routing == DESK.routing


def test_a_desk_without_routing_writes_no_routing_section() -> None:
    plain = attrs.evolve(DESK, routing=None)
    assert "routing" not in dump_desk(plain)
    assert load_desk(dump_desk(plain)).routing is None


def test_a_desk_with_routing_pickles_equal() -> None:
    assert pickle.loads(pickle.dumps(DESK)) == DESK


def test_a_routing_group_the_support_structure_lacks_is_a_problem_with_its_path() -> None:
    doc = _document()
    doc["routing"]["groups"].append({"group": "helpdesk", "members": ["dana"]})
    with pytest.raises(ConfigurationError) as info:
        load_desk(doc)
    assert [(p.path, p.message) for p in info.value.problems] == [
        (
            "routing.groups[2].group",
            "unknown group 'helpdesk'; expected a group of the support structure "
            "(service-desk, field-engineers, platform, kiosk-vendor)",
        )
    ]


def test_a_bad_routing_section_is_reported_with_the_routing_path() -> None:
    doc = _document()
    doc["routing"]["groups"][0]["members"] = ["dana", "ghost"]
    doc["routing"]["staff"][1]["capacity"] = "many"
    with pytest.raises(ConfigurationError) as info:
        load_desk(doc)
    assert [p.path for p in info.value.problems] == ["routing.staff[1].capacity"]
    del doc["routing"]["staff"][1]["capacity"]
    with pytest.raises(ConfigurationError, match=r"routing\.groups\[0\]\.members\[1\]"):
        load_desk(doc)


def test_a_desk_built_in_python_refuses_a_routing_group_outside_its_structure() -> None:
    support = SupportStructure(groups=(SupportGroup(name="desk", line=1, members=("ann",)),))
    routing = RoutingConfig(groups=(GroupRouting(group="elsewhere"),))
    with pytest.raises(InvalidValueError, match=r"routing\.groups\[0\]\.group"):
        Desk(support=support, routing=routing)
    with pytest.raises(InvalidValueError, match="routing"):
        Desk(routing="first-line")  # type: ignore[arg-type]
    assert Desk(routing=routing).routing == routing  # no structure: nothing to check against


def test_the_desk_schema_describes_the_routing_section() -> None:
    schema = desk_json_schema()
    assert schema["properties"]["routing"] == {"$ref": "#/$defs/RoutingConfig"}
    assert {"staff", "groups", "notifications", "catalog"} <= set(
        schema["$defs"]["RoutingConfig"]["properties"]
    )
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(json.dumps(dump_desk(DESK))), schema)
    bad = dump_desk(DESK)
    bad["routing"]["groups"][0]["strategie"] = "round_robin"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


# --------------------------------------------------------------------- apply


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"channel": "fax"}, "command.channel"),
        ({"service": "kiosks"}, "command.service"),
        ({"category": "paper"}, "command.category"),
    ],
)
def test_apply_refuses_an_unknown_channel_service_or_category_before_anything_changes(
    fields: dict[str, str], path: str
) -> None:
    with pytest.raises(InvalidValueError, match=path.replace(".", r"\.")):
        _open(**fields)


def test_apply_refuses_a_recategorisation_outside_the_catalog_and_the_history_is_unchanged() -> (
    None
):
    opened = _open()
    with pytest.raises(InvalidValueError, match=r"command\.value\.category"):
        DESK.apply(
            opened.history,
            UpdateField(field="category", value="paper"),
            actor="dana",
            at=TUESDAY.add(minutes=1),
        )
    assert len(opened.history) == 1
    assert opened.history.ticket.category == "hardware"


def test_apply_lists_the_notifications_of_its_events_and_internal_ones_spare_the_requester() -> (
    None
):
    opened = _open()
    assert opened.notifications == ()  # no rule on the opening
    decision = DESK.route(opened.history, TUESDAY, loads={}, state=None)
    assigned = DESK.apply(
        opened.history, _confirm(decision, opened.ticket), actor="ivan", at=TUESDAY.add(minutes=1)
    )
    told = [(n.rule, n.recipients, n.visibility) for n in assigned.notifications]
    assert told == [
        ("team: new work", ("dana",), "internal"),
        ("requester: state changed", (KIOSK,), "public"),
    ]
    note = DESK.apply(
        assigned.history,
        AddComment(body="roller worn", public=False),
        actor="dana",
        at=TUESDAY.add(minutes=2),
    )
    (internal,) = note.notifications
    assert internal.recipients == ("dana", "ivan")
    assert internal.withheld == (f"{KIOSK} (the requester; internal)",)


def test_a_desk_without_routing_lists_no_notifications_and_checks_no_catalog() -> None:
    plain = attrs.evolve(DESK, routing=None)
    opened = plain.apply(
        None,
        OpenTicket(ticket_id="T-2", type="incident", title="t", requester=KIOSK, channel="fax"),
        actor=KIOSK,
        at=TUESDAY,
    )
    assert opened.notifications == ()
    with pytest.raises(InvalidValueError, match="routing"):
        plain.route(opened.history, TUESDAY)


# --------------------------------------------------------------------- route


def test_route_decides_and_a_dispatcher_confirms_or_overrides() -> None:
    opened = _open()
    first = DESK.route(opened.history, TUESDAY, loads={"dana": 2}, state=RoutingState())
    assert (first.group, first.assignee, first.outcome) == ("service-desk", "dana", "assigned")
    second = DESK.route(opened.history, TUESDAY, loads={}, state=first.state)
    assert second.assignee == "ivan"  # round robin moves on with the state passed back
    assert opened.history.ticket.assignee is None  # deciding changes nothing
    confirmed = DESK.apply(opened.history, _confirm(first, opened.ticket), actor="dana", at=TUESDAY)
    assert confirmed.ticket.assignee == "dana"
    other = DESK.route(
        confirmed.history, TUESDAY, loads={"pavel": 3, "nikita": 1}, group="field-engineers"
    )
    assert (other.assignee, other.support_line) == ("nikita", 2)


def test_route_reads_the_ticket_as_of_now() -> None:
    opened = _open()
    assigned = DESK.apply(
        opened.history,
        _confirm(DESK.route(opened.history, TUESDAY), opened.ticket),
        actor="dana",
        at=TUESDAY.add(hours=1),
    )
    # Before the assignment, nobody is excluded as the current holder.
    assert DESK.route(assigned.history, TUESDAY.add(minutes=30)).assignee == "dana"
    assert DESK.route(assigned.history, TUESDAY.add(hours=2)).assignee == "ivan"


# --------------------------------------------------------------------- advance


def test_advance_lists_the_notifications_of_the_sla_thresholds_it_records() -> None:
    opened = _open(type="service_request")
    routed = DESK.apply(
        opened.history,
        _confirm(DESK.route(opened.history, TUESDAY), opened.ticket),
        actor="dana",
        at=TUESDAY.add(minutes=1),
    )
    h = DESK.advance(routed.history, TUESDAY.replace(hour=11)).history
    half = TUESDAY.replace(hour=17)  # half of the requests' 16 business hours
    advanced = DESK.advance(h, half)
    assert [e.percent for e in advanced.events if isinstance(e, SlaThresholdReached)] == [50]
    warned = [n for n in advanced.notifications if n.event == "sla_threshold"]
    assert [(n.template, n.recipients, n.visibility, n.at) for n in warned] == [
        ("sla.warning", ("sveta",), "internal", half)
    ]
    # Every notification of advance comes from an event advance recorded.
    assert {n.cause for n in advanced.notifications} <= {type(e).__name__ for e in advanced.events}


# --------------------------------------------------------------------- properties

_COMMANDS = st.lists(
    st.tuples(
        st.sampled_from(["comment", "note", "start"]),
        st.sampled_from(["dana", "ivan", KIOSK]),
    ),
    max_size=6,
)


@settings(max_examples=50, deadline=None)
@given(_COMMANDS)
def test_no_internal_notification_ever_names_the_requester(steps: list[tuple[str, str]]) -> None:
    outcome = _open()
    outcome = DESK.apply(
        outcome.history,
        _confirm(DESK.route(outcome.history, TUESDAY), outcome.ticket),
        actor="dana",
        at=TUESDAY,
    )
    seen = list(outcome.notifications)
    for minute, (kind, actor) in enumerate(steps, start=1):
        command = (
            Transition(trigger="start")
            if kind == "start"
            else AddComment(body="x", public=kind == "comment")
        )
        try:
            outcome = DESK.apply(
                outcome.history, command, actor=actor, at=TUESDAY.add(minutes=minute)
            )
        except ItsmError:  # refused or illegal: nothing changes, nothing is told
            continue
        seen += outcome.notifications
        # The desk's notifications are those of the routing over the same history.
        since = len(outcome.history) - len(outcome.events)
        assert outcome.notifications == notifications_for(
            DESK.routing.notifications if DESK.routing else (),
            outcome.history,
            since=since,
            groups=DESK.routing.group_contacts() if DESK.routing else None,
        )
    for n in seen:
        if not n.public:
            assert KIOSK not in n.recipients
