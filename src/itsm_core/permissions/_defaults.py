"""The default role set: the roles of a support service as the seed documents name them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from itsm_core.permissions._model import Grant, Permission, Role
from itsm_core.permissions._policy import Policy

__all__ = ["DEFAULT_ROLE_NAMES", "TABLE_ACTIONS", "default_policy", "default_roles"]

_STAFF_VIEW = ("view", "view.internal", "view.field:*")
_WORKING = ("assignee", "assignee_group")


def _p(action: str, *relations: str, **conditions: int) -> Permission:
    return Permission(action=action, relations=relations or ("anyone",), **conditions)


def _all(*actions: str) -> tuple[Permission, ...]:
    return tuple(_p(a) for a in actions)


@cache
def default_roles() -> tuple[Role, ...]:
    """The default roles, from the requester to the administrator.

    - ``requester``: an end user; sees, comments, confirms (closes), reopens
      and withdraws only the tickets they opened or watch, and opens tickets
      for themselves; a watcher may stop watching; answers the satisfaction
      surveys of the tickets they opened.
    - ``dispatcher``: the first line (operator): registers, assigns and
      reassigns, classifies and overrides priorities, corrects the
      requester, links knowledge-base articles, closes; sees everything,
      internal comments included.
    - ``second_line``: a specialist: takes tickets, works (any transition),
      reassigns and edits only tickets assigned to them or their group.
    - ``third_line``: an expert: the second line's rights, plus overriding
      priorities, merging and taking tickets others hold (``steal``).
    - ``contractor``: an external contractor: only the tickets assigned to
      them, and only start, hold, resume and resolve.
    - ``shift_lead``: the supervisor: dispatcher and third line, plus the
      major-incident tier, SLA overrides and taking over tickets.
    - ``support_manager``: the shift lead's rights, plus approvals and
      spending without limit.
    - ``quality_control``: reads everything, comments internally,
      reopens (sends back) resolved tickets, sends satisfaction surveys and
      records call-backs.
    - ``administrator``: every action (``*``).
    - ``service_engineer``: works the tickets assigned to them and may
      spend on a fix: up to 500 freely, above 500 with a report.
    - ``automation``: the host's own principal that applies due
      transitions (auto-close) and escalations (reassign, raise the
      priority, add a watcher).

    >>> [r.name for r in default_roles()][:3]
    ['requester', 'dispatcher', 'second_line']
    """
    return (
        Role(
            name="requester",
            description="an end user: their own tickets only",
            permissions=(
                _p("view", "requester", "watcher"),
                _p("comment.public", "requester", "watcher"),
                _p("create", "requester"),
                _p("update:description", "requester"),
                _p("transition:close", "requester"),
                _p("transition:reopen", "requester"),
                _p("transition:cancel", "requester"),
                _p("unwatch.self", "watcher"),
                _p("survey.answer", "requester"),
            ),
        ),
        Role(
            name="dispatcher",
            description="first line: registers, assigns, monitors, informs and closes",
            permissions=_all(
                *_STAFF_VIEW,
                "create",
                "comment.*",
                "assign",
                "take",
                "reassign",
                "priority.classify",
                "priority.override",
                "update:*",
                "link",
                "unlink",
                "watch",
                "unwatch",
                "merge",
                "split",
                "approval.request",
                "transition:*",
                "survey.request",
                "requester.change",
                "article.link",
            ),
        ),
        Role(
            name="second_line",
            description="specialist: works the tickets of their group",
            permissions=(
                *_all(*_STAFF_VIEW, "create", "comment.*", "take", "link", "split", "watch"),
                _p("unwatch", *_WORKING),
                _p("priority.classify", *_WORKING),
                _p("reassign", *_WORKING),
                _p("update:*", *_WORKING),
                _p("transition:*", *_WORKING),
                _p("article.link", *_WORKING),
            ),
        ),
        Role(
            name="third_line",
            description="expert: the second line's rights, priorities and merges",
            includes=("second_line",),
            permissions=_all("steal", "priority.override", "merge", "unlink"),
        ),
        Role(
            name="contractor",
            description="external contractor: only the tickets assigned to them",
            permissions=(
                _p("view", "assignee"),
                _p("view.internal", "assignee"),
                _p("comment.public", "assignee"),
                _p("comment.internal", "assignee"),
                _p("transition:start", "assignee"),
                _p("transition:hold", "assignee"),
                _p("transition:resume", "assignee"),
                _p("transition:resolve", "assignee"),
            ),
        ),
        Role(
            name="shift_lead",
            description="supervisor: the major tier, SLA overrides, takes over tickets",
            includes=("dispatcher", "third_line"),
            permissions=_all(
                "priority.set_major", "priority.clear_major", "sla.override", "sla.set_due"
            ),
        ),
        Role(
            name="support_manager",
            description="the shift lead's rights, approvals and spending",
            includes=("shift_lead",),
            permissions=_all("approval.give", "approval.refuse", "spend"),
        ),
        Role(
            name="quality_control",
            description="reads everything, comments internally, sends resolutions back",
            permissions=_all(
                *_STAFF_VIEW,
                "comment.internal",
                "transition:reopen",
                "watch.self",
                "unwatch.self",
                "survey.request",
                "survey.callback",
            ),
        ),
        Role(
            name="administrator",
            description="every action",
            permissions=_all("*"),
        ),
        Role(
            name="service_engineer",
            description="works assigned tickets; spends up to 500 freely, above with a report",
            permissions=(
                *_all(*_STAFF_VIEW, "comment.*", "take", "watch.self", "unwatch.self"),
                _p("transition:*", "assignee"),
                _p("update:*", "assignee"),
                Permission(action="spend", relations=("assignee",), report_above=500),
            ),
        ),
        Role(
            name="automation",
            description="the host's principal that applies due transitions and escalations",
            permissions=_all(
                "transition:auto_close", "reassign", "priority.override", "watch", "survey.request"
            ),
        ),
    )


#: The names of the default roles, in order.
DEFAULT_ROLE_NAMES: tuple[str, ...] = tuple(r.name for r in default_roles())

#: The actions the docs' table of default roles shows.
TABLE_ACTIONS: tuple[str, ...] = (
    "view",
    "view.internal",
    "create",
    "comment.public",
    "comment.internal",
    "assign",
    "take",
    "reassign",
    "priority.override",
    "priority.set_major",
    "transition:resolve",
    "transition:close",
    "transition:reopen",
    "approval.give",
    "sla.override",
    "spend",
)


def default_policy(
    grants: Iterable[Grant] = (),
    *,
    hierarchy: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> Policy:
    """The default roles, the baseline grant and ``grants`` (over ``hierarchy``, child -> parent).

    The baseline grant gives the ``requester`` role to everyone (``"*"``):
    like ServiceNow's user without a role, anyone may open tickets and follow
    the ones they opened or watch, and nothing else.

    >>> policy = default_policy([Grant(role="dispatcher", group="service-desk")])
    >>> [g.role for g in policy.grants]
    ['requester', 'dispatcher']
    """
    baseline = Grant(
        role="requester",
        principal="*",
        note="anyone may open tickets and follow their own",
    )
    return Policy(roles=default_roles(), grants=(baseline, *grants), hierarchy=hierarchy)
