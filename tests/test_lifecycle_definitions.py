"""User-defined lifecycles: definitions as data, validated when built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itsm_core.errors import ConfigurationError, InvalidTransition, InvalidValueError, Problem
from itsm_core.lifecycle import (
    FieldDef,
    Guard,
    Lifecycle,
    LifecycleDef,
    Policies,
    StateDef,
    TransitionDef,
    default_definitions,
    validate_definition,
)
from itsm_core.lifecycle._engine import _Ctx, evaluate_guards
from itsm_core.testing import MachineProbe
from itsm_core.testing._memo import sampled
from itsm_core.ticket import (
    AddComment,
    Assign,
    FieldValue,
    OpenTicket,
    Ticket,
    Transition,
    UpdateField,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def s(name: str, category: str, *children: StateDef) -> StateDef:
    return StateDef(name=name, category=category, children=children)


def t(
    trigger: str,
    source: str | tuple[str, ...],
    dest: str,
    *guards: Guard,
    requires: tuple[str, ...] = (),
) -> TransitionDef:
    return TransitionDef(
        trigger=trigger,
        source=(source,) if isinstance(source, str) else source,
        dest=dest,
        guards=guards,
        requires=requires,
    )


def chore(**changes: Any) -> LifecycleDef:
    """A small valid lifecycle: todo -> doing (<-> waiting.parts / waiting.boss) -> done."""
    base = LifecycleDef(
        name="chore",
        initial="todo",
        states=(
            s("todo", "new"),
            s("doing", "active"),
            s("waiting", "on_hold", s("parts", "on_hold"), s("boss", "on_hold")),
            s("done", "closed"),
            s("dropped", "cancelled"),
        ),
        transitions=(
            t("start", "todo", "doing", Guard(kind="assigned")),
            t("wait", "doing", "waiting.parts", Guard(kind="hold_reason", values=("parts",))),
            t("wait", "doing", "waiting.boss", Guard(kind="hold_reason", values=("boss",))),
            t("resume", "waiting", "doing"),
            t("finish", "doing", "done", requires=("reason",)),
            t("drop", ("todo", "doing", "waiting"), "dropped"),
        ),
    )
    return attrs.evolve(base, **changes)


def messages(definition: LifecycleDef) -> list[str]:
    return [str(p) for p in validate_definition(definition)]


def test_a_valid_definition_builds_a_lifecycle_with_nested_states() -> None:
    lifecycle = Lifecycle(chore())
    assert lifecycle.states == ("todo", "doing", "waiting.parts", "waiting.boss", "done", "dropped")
    assert lifecycle.category_of("waiting.boss") == "on_hold"
    assert lifecycle.triggers_from("waiting.parts") == ("drop", "resume")


def test_every_default_definition_is_valid() -> None:
    for definition in default_definitions():
        assert validate_definition(definition) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"transitions": (*chore().transitions, t("oops", "nowhere", "done"))},
            "lifecycle.transitions[6].source[0]: unknown state 'nowhere'",
        ),
        (
            {"transitions": (*chore().transitions, t("oops", "todo", "limbo"))},
            "lifecycle.transitions[6].dest: unknown state 'limbo'",
        ),
        (
            {"transitions": (*chore().transitions, t("oops", "todo", "waiting"))},
            "lifecycle.transitions[6].dest: 'waiting' is a compound state; name one of its "
            "sub-states: waiting.parts, waiting.boss",
        ),
        (
            {"states": (*chore().states, s("forgotten", "active"))},
            "lifecycle.states[5]: state 'forgotten' is unreachable from the initial state 'todo'",
        ),
        (
            {
                "states": (*chore().states, s("stuck", "active")),
                "transitions": (*chore().transitions, t("jam", "doing", "stuck")),
            },
            "lifecycle.states[5]: state 'stuck' is a dead end: it has no exit but its category "
            "'active' is not final (closed or cancelled)",
        ),
        (
            {"transitions": (*chore().transitions, t("undo", "done", "doing"))},
            "lifecycle.transitions[6].source[0]: final state 'done' (category closed) has an exit "
            "'undo'; final states have none",
        ),
        (
            {"initial": "nowhere"},
            "lifecycle.initial: unknown state 'nowhere'",
        ),
        ({"initial": "waiting"}, "lifecycle.initial: 'waiting' is a compound state"),
        ({"initial": "done"}, "lifecycle.initial: 'done' is a final state"),
        (
            {"name": "Chore List"},
            "lifecycle.name: expected a lifecycle name: lower-case letters, digits and '_', "
            "starting with a letter; got 'Chore List'",
        ),
        (
            {"states": (*chore().states, s("todo", "new"))},
            "lifecycle.states[5].name: duplicate state 'todo'",
        ),
        (
            {"states": (*chore().states[:4], s("dropped", "archived"))},
            "lifecycle.states[4].category: expected one of new, active, on_hold, resolved, "
            "closed, cancelled, got 'archived'",
        ),
        (
            {"states": (s("todo", "new"), s("waiting", "on_hold", s("parts", "active")))},
            "lifecycle.states[1].children[0].category: a sub-state shares its parent's category "
            "'on_hold', got 'active'",
        ),
        ({"states": ()}, "lifecycle.states: expected at least one state, got none"),
        (
            {"transitions": (*chore().transitions, t("go", "todo", "doing", Guard(kind="moon")))},
            "lifecycle.transitions[6].guards[0].kind: unknown guard 'moon'; expected one of "
            "assigned, unassigned, actor_is, actor_is_not, hold_reason, approved, not_major, "
            "fields_set",
        ),
        (
            {
                "transitions": (
                    *chore().transitions,
                    t("go", "todo", "doing", Guard(kind="actor_is", values=("boss",))),
                )
            },
            "lifecycle.transitions[6].guards[0].values: expected one or more of requester, "
            "assignee, anyone, got ('boss',)",
        ),
        (
            {
                "transitions": (
                    *chore().transitions,
                    t("go", "todo", "doing", Guard(kind="actor_is_not", values=("anyone",))),
                )
            },
            "lifecycle.transitions[6].guards[0].values: expected one or more of requester, "
            "assignee, got ('anyone',)",
        ),
        (
            {
                "transitions": (
                    *chore().transitions,
                    t("go", "todo", "doing", Guard(kind="hold_reason")),
                )
            },
            "lifecycle.transitions[6].guards[0].values: guard 'hold_reason' needs at least one "
            "value",
        ),
        (
            {
                "transitions": (
                    *chore().transitions,
                    t("go", "todo", "doing", Guard(kind="assigned", values=("x",))),
                )
            },
            "lifecycle.transitions[6].guards[0].values: guard 'assigned' takes no values",
        ),
        (
            {
                "transitions": (
                    *chore().transitions,
                    t("go", "todo", "doing", Guard(kind="fields_set", values=("colour",))),
                )
            },
            "lifecycle.transitions[6].guards[0].values: unknown custom field 'colour'",
        ),
        (
            {"transitions": (*chore().transitions, t("go", "todo", "doing", requires=("colour",)))},
            "lifecycle.transitions[6].requires[0]: expected one of reason, resolution_code, "
            "hold_reason or a declared custom field, got 'colour'",
        ),
        (
            {"transitions": (*chore().transitions, t("Go!", "todo", "doing"))},
            "lifecycle.transitions[6].trigger: expected a trigger name: lower-case letters, "
            "digits and '_', starting with a letter; got 'Go!'",
        ),
        (
            {"transitions": (*chore().transitions, t("go", (), "doing"))},
            "lifecycle.transitions[6].source: expected at least one source state",
        ),
        (
            {"fields": (FieldDef(name="state", type="str"),)},
            "lifecycle.fields[0].name: 'state' is a built-in ticket field",
        ),
        (
            {"fields": (FieldDef(name="cost", type="int"), FieldDef(name="cost", type="int"))},
            "lifecycle.fields[1].name: duplicate field 'cost'",
        ),
        (
            {"fields": (FieldDef(name="cost", type="money"),)},
            "lifecycle.fields[0].type: expected one of str, int, float, bool, got 'money'",
        ),
        (
            {"fields": (FieldDef(name="cost", type="int", choices=(1, "2")),)},
            "lifecycle.fields[0].choices[1]: expected a int, got '2'",
        ),
        (
            {"policies": Policies(reopen_window_days=-1)},
            "lifecycle.policies.reopen_window_days: expected a whole number of business days "
            ">= 0 or None, got -1",
        ),
        (
            {"policies": Policies(auto_close_after_days=True)},
            "lifecycle.policies.auto_close_after_days: expected a whole number of business days "
            ">= 0 or None, got True",
        ),
        (
            {"policies": Policies(reopen_by=("manager",))},
            "lifecycle.policies.reopen_by: expected relations among requester, assignee, anyone, "
            "got ['manager']",
        ),
    ],
)
def test_an_invalid_definition_is_refused_with_a_clear_problem(
    changes: dict[str, Any], expected: str
) -> None:
    definition = chore(**changes)
    assert expected in messages(definition)
    with pytest.raises(ConfigurationError) as caught:
        Lifecycle(definition)
    assert expected in [str(p) for p in caught.value.problems]


def test_every_problem_is_reported_at_once() -> None:
    definition = chore(
        states=(*chore().states, s("forgotten", "active"), s("lost", "resolved")),
        transitions=(*chore().transitions, t("undo", "dropped", "todo"), t("x", "nowhere", "done")),
    )
    problems = validate_definition(definition)
    assert [p.path for p in problems] == [
        "lifecycle.transitions[7].source[0]",
        "lifecycle.transitions[6].source[0]",
        "lifecycle.states[5]",
        "lifecycle.states[6]",
        "lifecycle.states[5]",
        "lifecycle.states[6]",
    ]


def test_an_exit_from_a_compound_state_counts_for_every_sub_state() -> None:
    definition = chore(
        states=(
            *chore().states[:3],
            s("done", "closed", s("ok", "closed"), s("failed", "closed")),
            s("dropped", "cancelled"),
        ),
        transitions=(
            *chore().transitions[:4],
            t("finish", "doing", "done.ok"),
            t("fail", "doing", "done.failed"),
            t("drop", ("todo", "doing", "waiting"), "dropped"),
            t("revive", "done", "doing"),
        ),
    )
    assert [str(p) for p in validate_definition(definition)] == [
        "lifecycle.transitions[7].source[0]: final state 'done.ok' (category closed) has an exit "
        "'revive'; final states have none",
        "lifecycle.transitions[7].source[0]: final state 'done.failed' (category closed) has an "
        "exit 'revive'; final states have none",
    ]


def test_only_a_lifecycle_definition_builds_a_lifecycle() -> None:
    with pytest.raises(ConfigurationError, match="expected a LifecycleDef, got dict"):
        Lifecycle({"name": "chore"})  # type: ignore[arg-type]


def test_definitions_round_trip_through_plain_dicts() -> None:
    converter = cattrs.Converter()
    # custom field values are JSON scalars already: the union passes through
    converter.register_structure_hook(FieldValue, lambda value, _: value)
    for definition in (*default_definitions(), chore()):
        data = converter.unstructure(definition)
        assert isinstance(data, dict)
        assert converter.structure(data, LifecycleDef) == definition


# ------------------------------------------------------------------ the guard vocabulary


def guarded() -> Lifecycle:
    """A lifecycle that uses every guard kind and a typed required field."""
    return Lifecycle(
        LifecycleDef(
            name="errand",
            initial="open",
            states=(
                s("open", "new"),
                s("busy", "active"),
                s("done", "resolved"),
                s("shut", "closed"),
            ),
            transitions=(
                t(
                    "claim",
                    "open",
                    "busy",
                    Guard(kind="unassigned"),
                    Guard(kind="actor_is", values=("anyone",)),
                ),
                t("claim", "open", "busy", Guard(kind="actor_is", values=("assignee",))),
                t(
                    "finish",
                    "busy",
                    "done",
                    Guard(kind="fields_set", values=("cost",)),
                    requires=("cost",),
                ),
                t(
                    "audit",
                    "done",
                    "shut",
                    Guard(kind="actor_is_not", values=("requester", "assignee")),
                ),
                t("auto_close", "done", "shut"),
            ),
            fields=(FieldDef(name="cost", type="float"), FieldDef(name="urgent", type="bool")),
            policies=Policies(auto_close_after_days=2, major_allowed=True),
        )
    )


def test_user_defined_guards_decide_each_transition() -> None:
    lifecycle = guarded()
    ticket, _ = lifecycle.open(
        OpenTicket(
            ticket_id="E-1",
            type="errand",
            title="t",
            requester="rita",
            custom_fields=(("urgent", True),),
        ),
        actor="rita",
        at=AT,
    )
    assigned, _ = lifecycle.apply(ticket, Assign(assignee="dana"), actor="disp", at=AT)
    assert lifecycle.may(ticket, Transition(trigger="claim"), actor="x", at=AT)
    assert not lifecycle.may(assigned, Transition(trigger="claim"), actor="x", at=AT)
    busy, _ = lifecycle.apply(assigned, Transition(trigger="claim"), actor="dana", at=AT)
    with pytest.raises(InvalidTransition, match="guard fields_set=cost does not hold"):
        lifecycle.apply(busy, Transition(trigger="finish"), actor="dana", at=AT)
    with pytest.raises(InvalidValueError, match="a float"):
        lifecycle.apply(busy, UpdateField(field="cost", value="cheap"), actor="dana", at=AT)
    with pytest.raises(InvalidValueError, match="a float"):
        lifecycle.apply(busy, UpdateField(field="cost", value=True), actor="dana", at=AT)
    with pytest.raises(InvalidValueError, match="a bool"):
        lifecycle.apply(busy, UpdateField(field="urgent", value=1), actor="dana", at=AT)
    busy, _ = lifecycle.apply(busy, UpdateField(field="cost", value=12), actor="dana", at=AT)
    done, _ = lifecycle.apply(busy, Transition(trigger="finish"), actor="dana", at=AT)
    for insider in ("rita", "dana"):
        assert not lifecycle.may(done, Transition(trigger="audit"), actor=insider, at=AT)
    assert lifecycle.may(done, Transition(trigger="audit"), actor="auditor", at=AT)


def test_a_major_ticket_is_never_auto_closed_even_without_a_guard() -> None:
    lifecycle = guarded()
    ticket = Ticket(
        id="E-2",
        type="errand",
        state="done",
        state_category="resolved",
        title="t",
        requester="r",
        opened_at=AT,
        updated_at=AT,
        resolved_at=AT,
        major=True,
    )
    with pytest.raises(InvalidTransition, match="exempt from auto-close"):
        lifecycle.apply(
            ticket, Transition(trigger="auto_close"), actor="system", at=AT + timedelta(days=9)
        )
    assert lifecycle.due_transitions(ticket, AT + timedelta(days=9)) == ()
    normal = attrs.evolve(ticket, major=False)
    assert [
        d.command.trigger for d in lifecycle.due_transitions(normal, AT + timedelta(days=2))
    ] == ["auto_close"]


def test_a_reply_does_not_resume_when_the_reply_transition_is_guarded_off() -> None:
    lifecycle = Lifecycle(
        chore(
            transitions=(
                *chore().transitions,
                t("requester_reply", "waiting.boss", "doing", Guard(kind="approved")),
            )
        )
    )
    ticket = Ticket(
        id="C-1",
        type="chore",
        state="waiting.boss",
        state_category="on_hold",
        title="t",
        requester="r",
        opened_at=AT,
        updated_at=AT,
    )
    after, events = lifecycle.apply(ticket, AddComment(body="hi"), actor="r", at=AT)
    assert len(events) == 1
    assert after.state == "waiting.boss"


# ------------------------------------------------------------------ generated definitions


_CATEGORIES = {
    count: st.lists(
        st.sampled_from(("new", "active", "on_hold", "resolved")), min_size=count, max_size=count
    )
    for count in range(1, 6)
}
_GUARDS = st.lists(
    st.sampled_from(
        (
            Guard(kind="assigned"),
            Guard(kind="not_major"),
            Guard(kind="actor_is", values=("requester",)),
            Guard(kind="hold_reason", values=("x",)),
        )
    ),
    max_size=1,
).map(tuple)


@st.composite
def definitions(draw: st.DrawFn) -> LifecycleDef:
    """Valid random lifecycles: a chain to a final state, extra edges, an optional hold group."""
    count = draw(st.integers(min_value=1, max_value=5))
    categories = draw(_CATEGORIES[count])
    names = [f"s{i}" for i in range(count)]
    states: list[StateDef] = [s(n, c) for n, c in zip(names, categories, strict=True)]
    states.append(s("end", draw(sampled(("closed", "cancelled")))))
    guards = _GUARDS
    transitions: list[TransitionDef] = [
        t(f"next{i}", names[i], names[i + 1] if i + 1 < count else "end") for i in range(count)
    ]
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        transitions.append(
            TransitionDef(
                trigger=draw(sampled(("go", "back", "next0"))),
                source=(draw(sampled(tuple(names))),),
                dest=draw(sampled((*names, "end"))),
                guards=draw(guards),
            )
        )
    if draw(st.booleans()):
        states.append(s("hold", "on_hold", s("a", "on_hold"), s("b", "on_hold")))
        transitions += [
            t("wait", names[0], "hold.a", Guard(kind="hold_reason", values=("a",))),
            t("wait", names[0], "hold.b"),
            t("go", "hold", names[0]),
            t("go", "hold.b", "end", Guard(kind="assigned")),
        ]
    return LifecycleDef(
        name="generated", initial="s0", states=tuple(states), transitions=tuple(transitions)
    )


@given(definitions())
def test_generated_valid_definitions_build_and_the_table_agrees_with_the_machine(
    definition: LifecycleDef,
) -> None:
    assert validate_definition(definition) == []
    lifecycle = Lifecycle(definition)
    base = Ticket(
        id="G",
        type="generated",
        state="s0",
        state_category="new",
        title="t",
        requester="r",
        opened_at=AT,
        updated_at=AT,
    )
    triggers = sorted({tr.trigger for tr in definition.transitions})
    probe = MachineProbe(lifecycle.machine)
    for state in lifecycle.states:
        ticket = attrs.evolve(base, state=state, state_category=lifecycle.category_of(state))
        for assignee, hold in ((None, None), ("d", "x"), ("d", "a")):
            ctx = _Ctx(attrs.evolve(ticket, assignee=assignee), "r", AT, hold)
            for trigger in triggers:
                compiled = next(
                    (
                        c.dest
                        for c in lifecycle.transitions_from(state, trigger)
                        if evaluate_guards(c.guards, ctx)
                    ),
                    None,
                )
                assert probe.dest(state, trigger, ctx) == compiled


@given(definitions(), st.data())
def test_a_generated_definition_with_a_final_exit_or_an_orphan_is_refused(
    definition: LifecycleDef, data: st.DataObject
) -> None:
    source = data.draw(sampled(("s0", "end")))
    broken = attrs.evolve(
        definition,
        states=(*definition.states, s("orphan", "active")),
        transitions=(*definition.transitions, t("escape", "end", source)),
    )
    problems = validate_definition(broken)
    assert any("final state 'end'" in p.message for p in problems)
    assert any(p.message.startswith("state 'orphan' is unreachable") for p in problems)
    assert all(isinstance(p, Problem) for p in problems)


def test_a_reply_that_cannot_meet_the_reply_transitions_requirements_is_just_a_comment() -> None:
    lifecycle = Lifecycle(
        chore(
            transitions=(
                *chore().transitions,
                t("requester_reply", "waiting.boss", "doing", requires=("resolution_code",)),
            )
        )
    )
    ticket = Ticket(
        id="C-2",
        type="chore",
        state="waiting.boss",
        state_category="on_hold",
        title="t",
        requester="r",
        opened_at=AT,
        updated_at=AT,
    )
    after, events = lifecycle.apply(ticket, AddComment(body="hi"), actor="r", at=AT)
    assert len(events) == 1
    assert after.state == "waiting.boss"
