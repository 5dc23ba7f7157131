"""Permission decisions pinned on small policies whose answers are worked out by hand.

These examples pin the compiled decision engine (``permissions/_engine.py``):
relations, scopes, role inclusion and the checks of a policy.
"""

from __future__ import annotations

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
