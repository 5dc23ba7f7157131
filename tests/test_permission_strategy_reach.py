"""The permission strategies, which read their choices from a few drawn bytes, still reach
every kind of policy, principal and ticket a property needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import Phase, find, settings
from hypothesis.errors import NoSuchExample

from itsm_core.permissions import Policy
from itsm_core.testing import (
    PERMISSION_PEOPLE,
    directories,
    permission_policies,
    permission_tickets,
    principals,
)

# Reaching a shape is what counts, not the simplest example of it: no shrinking.
SEARCH = settings(max_examples=5000, database=None, derandomize=True, phases=(Phase.generate,))
SHRUNK = settings(SEARCH, phases=(Phase.generate, Phase.shrink))


def _permissions(policy: Policy) -> list[Any]:
    return [p for role in policy.roles for p in role.permissions]


POLICIES: dict[str, Callable[[Policy], bool]] = {
    "four roles, the last including two": lambda p: (
        len(p.roles) == 4 and len(p.roles[-1].includes) == 2
    ),
    "five grants": lambda p: len(p.grants) == 5,
    "a deny grant": lambda p: any(g.effect == "deny" for g in p.grants),
    "a grant to everyone": lambda p: any(g.principal == "*" for g in p.grants),
    "a grant to a group": lambda p: any(g.group is not None for g in p.grants),
    "a recursive scope": lambda p: any(g.scope.recursive and g.scope.groups for g in p.grants),
    "state conditions": lambda p: any(x.from_states and x.to_states for x in _permissions(p)),
    "an amount limit": lambda p: any(x.limit is not None for x in _permissions(p)),
    "two relations": lambda p: any(len(x.relations) == 2 for x in _permissions(p)),
    "both hierarchies": lambda p: len(p.hierarchy) == 2,
}


@pytest.mark.parametrize("shape", sorted(POLICIES))
def test_policies_reach_every_shape(shape: str) -> None:
    find(permission_policies(), POLICIES[shape], settings=SEARCH)


def test_policies_without_deny_have_none() -> None:
    with pytest.raises(NoSuchExample):
        find(
            permission_policies(deny=False),
            lambda p: any(g.effect == "deny" for g in p.grants),
            settings=settings(SEARCH, max_examples=500),
        )


def test_principals_directories_and_tickets_reach_their_fullest_forms() -> None:
    find(
        principals(),
        lambda p: len(p.groups) == 2 and p.department is not None and p.organization is not None,
        settings=SEARCH,
    )
    find(directories(), lambda d: len(d) == len(PERMISSION_PEOPLE), settings=SEARCH)
    full = find(
        permission_tickets(),
        lambda t: (
            None not in (t.assignee, t.group, t.support_line, t.customer)
            and len(t.approvers) == len(t.watchers) == 2
            and bool(t.custom_fields)
        ),
        settings=SEARCH,
    )
    assert full.requester in PERMISSION_PEOPLE


def test_the_simplest_policy_is_one_empty_role_and_no_grant() -> None:
    simplest = find(permission_policies(), lambda p: True, settings=SHRUNK)
    assert len(simplest.roles) == 1
    assert simplest.roles[0].permissions == ()
    assert simplest.grants == () == simplest.hierarchy
