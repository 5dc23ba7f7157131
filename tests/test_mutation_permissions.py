"""Permission decisions pinned on small policies whose answers are worked out by hand.

These examples pin the compiled decision engine (``permissions/_engine.py``):
relations, scopes, role inclusion and the checks of a policy.
"""

from __future__ import annotations

import pytest

from itsm_core.errors import ConfigurationError
from itsm_core.lifecycle import default_lifecycles
from itsm_core.permissions import Grant, Permission, Policy, Role
from itsm_core.testing import example_ticket


def test_a_requester_may_view_their_own_ticket_and_a_stranger_may_not() -> None:
    policy = Policy(
        roles=(
            Role(name="reader", permissions=(Permission(action="view", relations=("requester",)),)),
        ),
        grants=(Grant(role="reader", principal="*"),),
    )
    ticket = example_ticket(requester="ann")
    assert policy.authorize("ann", "view", ticket).allowed
    assert not policy.authorize("bob", "view", ticket).allowed


def test_a_cycle_below_the_first_role_is_named_from_where_it_closes() -> None:
    # a -> b -> c -> b: the cycle does not pass through a, where the walk starts.
    with pytest.raises(ConfigurationError) as caught:
        Policy(
            roles=(
                Role(name="a", includes=("b",)),
                Role(name="b", includes=("c",)),
                Role(name="c", includes=("b",)),
            )
        )
    assert [str(p) for p in caught.value.problems] == [
        "roles[2].includes[0]: role inclusion cycle: b -> c -> b"
    ]


def test_a_role_that_includes_a_role_with_several_includes_is_no_cycle() -> None:
    # e includes a, which includes b and c (defined before e): no cycle anywhere, and
    # a grant of e gives the permissions of all four.
    policy = Policy(
        roles=(
            Role(name="a", includes=("b", "c")),
            Role(name="b", permissions=(Permission(action="view"),)),
            Role(name="c", permissions=(Permission(action="comment"),)),
            Role(name="e", includes=("a",)),
        ),
        grants=(Grant(role="e", principal="ann"),),
    )
    ticket = example_ticket(requester="bob")
    assert policy.authorize("ann", "view", ticket).allowed
    assert policy.authorize("ann", "comment", ticket).allowed
    assert not policy.authorize("ann", "assign", ticket).allowed


def test_a_refused_transition_names_every_state_it_could_reach_or_nothing() -> None:
    # May only move a ticket to 'resolved'; a hold reaches one of four waiting states.
    policy = Policy(
        roles=(
            Role(
                name="resolver",
                permissions=(Permission(action="transition:*", to_states=("resolved",)),),
            ),
        ),
        grants=(Grant(role="resolver", principal="ann"),),
    )
    lifecycles = default_lifecycles()
    working = example_ticket(state="in_progress", state_category="active")
    assert policy.authorize("ann", "transition:resolve", working, lifecycles=lifecycles).allowed
    held = policy.authorize("ann", "transition:hold", working, lifecycles=lifecycles)
    assert not held.allowed
    [reason] = held.reasons
    assert reason.startswith("grant #0 (allow role 'resolver' to principal ann) does not apply")
    assert reason.endswith(
        ": the transition reaches on_hold.awaiting_requester, on_hold.awaiting_vendor, "
        "on_hold.awaiting_change, on_hold.awaiting_problem, not one of its to-states"
    )
    # A new ticket cannot be resolved at all: the trigger reaches nothing.
    fresh = example_ticket(state="new", state_category="new")
    nowhere = policy.authorize("ann", "transition:resolve", fresh, lifecycles=lifecycles)
    assert not nowhere.allowed
    assert nowhere.reasons[0].endswith("the transition reaches nothing, not one of its to-states")


def test_a_unit_above_a_hierarchy_cycle_is_not_named_in_it() -> None:
    # a's parent is b, and b and c are each other's parent: the cycle is b -> c -> b.
    with pytest.raises(ConfigurationError) as caught:
        Policy(hierarchy={"a": "b", "b": "c", "c": "b"})
    assert [str(p) for p in caught.value.problems] == ["hierarchy: cycle: b -> c -> b"]


def test_a_role_included_along_many_paths_is_walked_once() -> None:
    # Forty levels of two roles each including both roles of the next level: 2**40 paths
    # lead to the last level, whose permission the first role holds once. Flattening
    # walks each role once, so the policy compiles at once.
    depth = 40
    roles = [
        Role(name=f"{side}{i}", includes=(f"a{i + 1}", f"b{i + 1}"))
        for i in range(depth)
        for side in "ab"
    ]
    roles += [
        Role(name=f"{side}{depth}", permissions=(Permission(action="view"),)) for side in "ab"
    ]
    policy = Policy(roles=tuple(roles), grants=(Grant(role="a0", principal="ann"),))
    assert policy.authorize("ann", "view").allowed
    assert not policy.authorize("ann", "comment").allowed
