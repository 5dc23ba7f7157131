"""A desk document that changes nothing of the default permissions gets the default policy."""

from __future__ import annotations

from typing import Any

import pytest

from itsm_core.permissions import Grant, default_policy
from itsm_core.serialization import load_desk

BASE: dict[str, Any] = {}


@pytest.mark.parametrize(
    "permissions",
    [None, {}, {"default_roles": True}, {"roles": [], "grants": []}],
    ids=["no table", "empty table", "defaults said", "empty lists"],
)
def test_no_change_to_the_defaults_loads_the_default_policy(
    permissions: dict[str, Any] | None,
) -> None:
    document = dict(BASE) if permissions is None else dict(BASE, permissions=permissions)
    assert load_desk(document).permissions == default_policy()


def test_a_grant_added_to_the_defaults_is_kept_and_the_shared_default_is_untouched() -> None:
    grant = {"role": "dispatcher", "group": "desk"}
    loaded = load_desk(dict(BASE, permissions={"grants": [grant]})).permissions
    assert loaded.grants == (*default_policy().grants, Grant(role="dispatcher", group="desk"))
    assert load_desk(dict(BASE)).permissions == default_policy()
