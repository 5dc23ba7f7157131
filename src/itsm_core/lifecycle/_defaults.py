"""The default lifecycles: incident, requests, problem and the three kinds of change."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import attrs

from itsm_core.lifecycle._definition import (
    FieldDef,
    Guard,
    LifecycleDef,
    Policies,
    StateDef,
    TransitionDef,
)
from itsm_core.lifecycle._engine import Lifecycle, Lifecycles

if TYPE_CHECKING:
    from itsm_core.calendar import BusinessCalendar
    from itsm_core.priority import PriorityMatrix

__all__ = [
    "HOLD_REASONS",
    "default_definitions",
    "default_lifecycles",
    "documentation_request",
    "emergency_change",
    "incident",
    "information_request",
    "normal_change",
    "problem",
    "service_request",
    "standard_change",
]

#: The on-hold sub-states of the default lifecycles (each lifecycle uses a subset).
HOLD_REASONS: tuple[str, ...] = (
    "awaiting_requester",
    "awaiting_vendor",
    "awaiting_change",
    "awaiting_problem",
)


def _s(name: str, category: str, description: str = "") -> StateDef:
    return StateDef(name=name, category=category, description=description)


def _on_hold(reasons: tuple[str, ...]) -> StateDef:
    return StateDef(
        name="on_hold",
        category="on_hold",
        children=tuple(_s(r, "on_hold") for r in reasons),
        description="work waits; the sub-state says for what",
    )


def _t(
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


def _holds(source: str | tuple[str, ...], reasons: tuple[str, ...]) -> tuple[TransitionDef, ...]:
    return tuple(
        _t(
            "hold",
            source,
            f"on_hold.{r}",
            Guard(kind="hold_reason", values=(r,)),
            requires=("reason",),
        )
        for r in reasons
    )


def _with(definition: LifecycleDef, policies: Policies | None) -> LifecycleDef:
    return definition if policies is None else attrs.evolve(definition, policies=policies)


def _service_lifecycle(
    *,
    name: str,
    description: str,
    resolved: str,
    reasons: tuple[str, ...],
    policies: Policies,
) -> LifecycleDef:
    working = ("new", "assigned", "in_progress", "on_hold")
    return LifecycleDef(
        name=name,
        description=description,
        initial="new",
        states=(
            _s("new", "new", "registered, nobody responsible yet"),
            _s("assigned", "active", "a person is responsible"),
            _s("in_progress", "active", "being worked on"),
            _on_hold(reasons),
            _s(resolved, "resolved", "solved; waits for the requester's confirmation"),
            _s("closed", "closed", "confirmed or auto-closed"),
            _s("cancelled", "cancelled", "withdrawn or not needed"),
            _s("merged", "cancelled", "merged into another ticket"),
        ),
        transitions=(
            _t("assign", "new", "assigned"),
            _t("start", "assigned", "in_progress", Guard(kind="assigned")),
            _t("reassign", ("in_progress", "on_hold"), "assigned"),
            *_holds(("assigned", "in_progress"), reasons),
            _t("resume", "on_hold", "in_progress"),
            _t("requester_reply", "on_hold.awaiting_requester", "in_progress"),
            _t(
                "resolve",
                ("assigned", "in_progress", "on_hold"),
                resolved,
                requires=("resolution_code",),
            ),
            _t("reopen", resolved, "in_progress"),
            _t("close", resolved, "closed"),
            _t("auto_close", resolved, "closed", Guard(kind="not_major")),
            _t("cancel", working, "cancelled", requires=("reason",)),
            _t("merge", working, "merged"),
        ),
        policies=policies,
    )


def incident(policies: Policies | None = None) -> LifecycleDef:
    """The incident lifecycle: a service is down or degraded and the user cannot work.

    new -> assigned -> in_progress <-> on_hold (awaiting requester, vendor,
    change or problem) -> resolved -> closed (confirmed by the requester or
    auto-closed after 5 business days; a major incident is exempt), reopen
    within 10 business days. Incidents may be declared major.

    >>> d = incident()
    >>> d.name, d.initial, d.policies.major_allowed
    ('incident', 'new', True)
    """
    return _with(
        _service_lifecycle(
            name="incident",
            description="An unplanned interruption or degradation of a service.",
            resolved="resolved",
            reasons=HOLD_REASONS,
            policies=Policies(
                reopen_window_days=10,
                reopen_by=("requester", "assignee"),
                auto_close_after_days=5,
                major_allowed=True,
            ),
        ),
        policies,
    )


def service_request(policies: Policies | None = None) -> LifecycleDef:
    """The service request lifecycle: a standard request (a cartridge, an account, software).

    Like the incident, with ``fulfilled`` as its resolved state and holds for
    the requester or a vendor.

    >>> service_request().name
    'service_request'
    """
    return _with(
        _service_lifecycle(
            name="service_request",
            description="A request for something standard: equipment, access, a reconfiguration.",
            resolved="fulfilled",
            reasons=("awaiting_requester", "awaiting_vendor"),
            policies=Policies(reopen_window_days=10, auto_close_after_days=5),
        ),
        policies,
    )


def information_request(policies: Policies | None = None) -> LifecycleDef:
    """The information request lifecycle: a consultation, answered rather than fixed.

    Assigning starts the work; resolving needs the answer as ``reason``.

    >>> [s.name for s in information_request().states][:3]
    ['new', 'in_progress', 'on_hold']
    """
    working = ("new", "in_progress", "on_hold")
    return _with(
        LifecycleDef(
            name="information_request",
            description="A question to answer: how to, where is, what does it mean.",
            initial="new",
            states=(
                _s("new", "new", "asked, nobody answering yet"),
                _s("in_progress", "active", "someone is preparing the answer"),
                _on_hold(("awaiting_requester",)),
                _s("answered", "resolved", "the answer was given"),
                _s("closed", "closed"),
                _s("cancelled", "cancelled"),
                _s("merged", "cancelled", "merged into another ticket"),
            ),
            transitions=(
                _t("assign", "new", "in_progress"),
                *_holds("in_progress", ("awaiting_requester",)),
                _t("resume", "on_hold", "in_progress"),
                _t("requester_reply", "on_hold.awaiting_requester", "in_progress"),
                _t("resolve", ("in_progress", "on_hold"), "answered", requires=("reason",)),
                _t("reopen", "answered", "in_progress"),
                _t("close", "answered", "closed"),
                _t("auto_close", "answered", "closed"),
                _t("cancel", working, "cancelled", requires=("reason",)),
                _t("merge", working, "merged"),
            ),
            policies=Policies(reopen_window_days=5, auto_close_after_days=3),
        ),
        policies,
    )


def documentation_request(policies: Policies | None = None) -> LifecycleDef:
    """The documentation request lifecycle: write or fix a document, reviewed before publishing.

    >>> "in_review" in [s.name for s in documentation_request().states]
    True
    """
    working = ("new", "assigned", "drafting", "in_review", "on_hold")
    reasons = ("awaiting_requester", "awaiting_vendor")
    return _with(
        LifecycleDef(
            name="documentation_request",
            description="A request to write, correct or extend documentation.",
            initial="new",
            states=(
                _s("new", "new"),
                _s("assigned", "active"),
                _s("drafting", "active", "the document is being written"),
                _s("in_review", "active", "the draft is being reviewed"),
                _on_hold(reasons),
                _s("published", "resolved", "the document is published"),
                _s("closed", "closed"),
                _s("cancelled", "cancelled"),
                _s("merged", "cancelled", "merged into another ticket"),
            ),
            transitions=(
                _t("assign", "new", "assigned"),
                _t("start", "assigned", "drafting", Guard(kind="assigned")),
                _t("submit", "drafting", "in_review"),
                _t("revise", "in_review", "drafting", requires=("reason",)),
                *_holds("drafting", reasons),
                _t("resume", "on_hold", "drafting"),
                _t("requester_reply", "on_hold.awaiting_requester", "drafting"),
                _t("resolve", "in_review", "published", requires=("resolution_code",)),
                _t("reopen", "published", "drafting"),
                _t("close", "published", "closed"),
                _t("auto_close", "published", "closed"),
                _t("cancel", working, "cancelled", requires=("reason",)),
                _t("merge", working, "merged"),
            ),
            policies=Policies(reopen_window_days=10, auto_close_after_days=5),
        ),
        policies,
    )


def problem(policies: Policies | None = None) -> LifecycleDef:
    """The problem lifecycle: the cause behind repeated incidents, with known error and workaround.

    Recording a known error needs the ``workaround`` custom field; resolving
    needs a resolution code and the ``root_cause`` field. Closure is not
    confirmed by a requester and there is no auto-close.

    >>> [f.name for f in problem().fields]
    ['root_cause', 'workaround']
    """
    working = ("new", "assigned", "investigating", "known_error", "on_hold")
    reasons = ("awaiting_vendor", "awaiting_change")
    return _with(
        LifecycleDef(
            name="problem",
            description="The unknown cause of one or more incidents.",
            initial="new",
            states=(
                _s("new", "new"),
                _s("assigned", "active"),
                _s("investigating", "active", "root cause analysis"),
                _s("known_error", "active", "cause known, a workaround exists"),
                _on_hold(reasons),
                _s("resolved", "resolved", "the cause is removed"),
                _s("closed", "closed"),
                _s("cancelled", "cancelled"),
            ),
            transitions=(
                _t("assign", "new", "assigned"),
                _t("start", "assigned", "investigating", Guard(kind="assigned")),
                _t("record_known_error", "investigating", "known_error", requires=("workaround",)),
                *_holds(("investigating", "known_error"), reasons),
                _t("resume", "on_hold", "investigating"),
                _t(
                    "resolve",
                    ("investigating", "known_error", "on_hold"),
                    "resolved",
                    requires=("resolution_code", "root_cause"),
                ),
                _t("reopen", "resolved", "investigating"),
                _t("close", "resolved", "closed"),
                _t("cancel", working, "cancelled", requires=("reason",)),
            ),
            fields=(
                FieldDef(name="root_cause", type="str", description="what caused the incidents"),
                FieldDef(name="workaround", type="str", description="how to live with it"),
            ),
            policies=Policies(
                reopen_window_days=None,
                reopen_by=("requester", "assignee"),
                closure_confirmed_by_requester=False,
                auto_close_after_days=None,
                requester_reply_resumes=False,
            ),
        ),
        policies,
    )


_CHANGE_POLICIES = Policies(
    reopen_window_days=None,
    closure_confirmed_by_requester=False,
    auto_close_after_days=None,
    requester_reply_resumes=False,
)


def standard_change(policies: Policies | None = None) -> LifecycleDef:
    """The standard change lifecycle: a pre-approved, low-risk change; no approval step.

    >>> [t.trigger for t in standard_change().transitions][:3]
    ['schedule', 'start', 'hold']
    """
    return _with(
        LifecycleDef(
            name="standard_change",
            description="A pre-approved, repeatable change.",
            initial="new",
            states=(
                _s("new", "new"),
                _s("scheduled", "active"),
                _s("implementing", "active"),
                _on_hold(("awaiting_vendor",)),
                _s("completed", "resolved", "implemented; closed after the check"),
                _s("closed", "closed"),
                _s("cancelled", "cancelled"),
            ),
            transitions=(
                _t("schedule", "new", "scheduled"),
                _t("start", "scheduled", "implementing"),
                *_holds("implementing", ("awaiting_vendor",)),
                _t("resume", "on_hold", "implementing"),
                _t(
                    "resolve",
                    ("implementing", "on_hold"),
                    "completed",
                    requires=("resolution_code",),
                ),
                _t("close", "completed", "closed"),
                _t("cancel", ("new", "scheduled"), "cancelled", requires=("reason",)),
            ),
            policies=_CHANGE_POLICIES,
        ),
        policies,
    )


def normal_change(policies: Policies | None = None) -> LifecycleDef:
    """The normal change lifecycle: assessed, approved (a refusal needs a reason), then done.

    Requesting approval needs the ``backout_plan`` field; implementation
    starts only once approved.

    >>> [s.name for s in normal_change().states][:4]
    ['new', 'assessment', 'awaiting_approval', 'scheduled']
    """
    return _with(
        LifecycleDef(
            name="normal_change",
            description="A change assessed for risk and approved before it is implemented.",
            initial="new",
            states=(
                _s("new", "new"),
                _s("assessment", "active", "risk and impact assessment"),
                _s("awaiting_approval", "active", "waits for the change advisory board"),
                _s("scheduled", "active", "approved and planned"),
                _s("implementing", "active"),
                _on_hold(("awaiting_vendor",)),
                _s("review", "resolved", "post-implementation review"),
                _s("closed", "closed"),
                _s("rejected", "cancelled", "approval refused"),
                _s("cancelled", "cancelled"),
            ),
            transitions=(
                _t("assess", "new", "assessment"),
                _t(
                    "request_approval",
                    "assessment",
                    "awaiting_approval",
                    requires=("backout_plan",),
                ),
                _t("approve", "awaiting_approval", "scheduled"),
                _t("refuse", "awaiting_approval", "rejected", requires=("reason",)),
                _t("start", "scheduled", "implementing", Guard(kind="approved")),
                *_holds("implementing", ("awaiting_vendor",)),
                _t("resume", "on_hold", "implementing"),
                _t("resolve", ("implementing", "on_hold"), "review", requires=("resolution_code",)),
                _t("close", "review", "closed"),
                _t(
                    "cancel",
                    ("new", "assessment", "awaiting_approval", "scheduled"),
                    "cancelled",
                    requires=("reason",),
                ),
            ),
            fields=(
                FieldDef(name="backout_plan", type="str", description="how to undo the change"),
                FieldDef(name="risk", type="str", choices=("low", "medium", "high")),
            ),
            policies=_CHANGE_POLICIES,
        ),
        policies,
    )


def emergency_change(policies: Policies | None = None) -> LifecycleDef:
    """The emergency change lifecycle: expedited approval, then implementation and review.

    >>> [t.trigger for t in emergency_change().transitions][:3]
    ['request_approval', 'approve', 'refuse']
    """
    return _with(
        LifecycleDef(
            name="emergency_change",
            description="A change that cannot wait for the normal approval cycle.",
            initial="new",
            states=(
                _s("new", "new"),
                _s("awaiting_approval", "active", "waits for the emergency board"),
                _s("implementing", "active"),
                _s("review", "resolved", "post-implementation review"),
                _s("closed", "closed"),
                _s("rejected", "cancelled", "approval refused"),
                _s("cancelled", "cancelled"),
            ),
            transitions=(
                _t("request_approval", "new", "awaiting_approval"),
                _t("approve", "awaiting_approval", "implementing"),
                _t("refuse", "awaiting_approval", "rejected", requires=("reason",)),
                _t("resolve", "implementing", "review", requires=("resolution_code",)),
                _t("close", "review", "closed"),
                _t("cancel", ("new", "awaiting_approval"), "cancelled", requires=("reason",)),
            ),
            policies=_CHANGE_POLICIES,
        ),
        policies,
    )


def default_definitions() -> tuple[LifecycleDef, ...]:
    """Every default lifecycle definition, one per ticket type.

    >>> [d.name for d in default_definitions()]  # doctest: +NORMALIZE_WHITESPACE
    ['incident', 'service_request', 'information_request', 'documentation_request', 'problem',
     'standard_change', 'normal_change', 'emergency_change']
    """
    return _built_definitions()


@functools.cache
def _built_definitions() -> tuple[LifecycleDef, ...]:
    # Built once: definitions are immutable values, and a desk load reads them all.
    return (
        incident(),
        service_request(),
        information_request(),
        documentation_request(),
        problem(),
        standard_change(),
        normal_change(),
        emergency_change(),
    )


def default_lifecycles(
    *, matrix: PriorityMatrix | None = None, calendar: BusinessCalendar | None = None
) -> Lifecycles:
    """The default lifecycles, built with one priority matrix and one calendar.

    >>> len(default_lifecycles())
    8
    """
    return Lifecycles(Lifecycle(d, matrix=matrix, calendar=calendar) for d in default_definitions())
