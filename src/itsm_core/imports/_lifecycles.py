"""Lifecycles for imported history: what ServiceNow, Jira, Zammad and GLPI actually allow.

Imported history is what happened, so these lifecycles accept the moves the
source systems let their staff make (hold to hold, resolve from new, reopen by
anyone, closure by staff) and nothing else. Each is plain data, a
:class:`~itsm_core.lifecycle.LifecycleDef`; its name is the ticket type of the
imported tickets.
"""

from __future__ import annotations

from itsm_core.lifecycle import Guard, LifecycleDef, Policies, StateDef, TransitionDef

__all__ = [
    "IMPORT_LIFECYCLES",
    "IMPORT_POLICIES",
    "glpi_ticket",
    "jira_issue",
    "servicenow_incident",
    "zammad_ticket",
]

#: Policies of imported history: anyone may reopen, at any time; staff close; no auto-close.
IMPORT_POLICIES = Policies(
    reopen_window_days=None,
    reopen_by=("anyone",),
    closure_confirmed_by_requester=False,
    auto_close_after_days=None,
    requester_reply_resumes=False,
)


def _build(
    name: str,
    description: str,
    *,
    new: tuple[str, ...],
    active: tuple[str, ...],
    holds: tuple[str, ...],
    compound_hold: bool,
    resolved: tuple[str, ...],
    closed: tuple[str, ...],
    cancelled: tuple[str, ...],
    close_from_work: bool,
) -> LifecycleDef:
    """States by category and one trigger for every move between two states.

    Moves into ``new``: ``reset`` (``reopen_new`` from resolved); into an active
    state: ``start`` (``reopen`` from resolved); into hold: ``hold`` (a
    compound hold picks its sub-state with the ``hold_reason`` guard); into
    resolved: ``resolve``; into closed: ``close``; into cancelled:
    ``cancel``. A category with several states suffixes the trigger with the
    state's name after the first (``start_planned``).
    """

    def trig(base: str, states: tuple[str, ...], state: str) -> str:
        return base if state == states[0] else f"{base}_{state}"

    hold_names = tuple(f"on_hold.{h}" for h in holds) if compound_hold else holds
    hold_source = ("on_hold",) if compound_hold and holds else hold_names
    working = (*new, *active, *hold_source)
    states: list[StateDef] = [StateDef(name=s, category="new") for s in new]
    states += [StateDef(name=s, category="active") for s in active]
    if compound_hold and holds:
        states.append(
            StateDef(
                name="on_hold",
                category="on_hold",
                children=tuple(StateDef(name=h, category="on_hold") for h in holds),
            )
        )
    else:
        states += [StateDef(name=s, category="on_hold") for s in holds]
    states += [StateDef(name=s, category="resolved") for s in resolved]
    states += [StateDef(name=s, category="closed") for s in closed]
    states += [StateDef(name=s, category="cancelled") for s in cancelled]
    transitions: list[TransitionDef] = []

    def add(trigger: str, source: tuple[str, ...], dest: str, *guards: Guard) -> None:
        if source:
            transitions.append(
                TransitionDef(trigger=trigger, source=source, dest=dest, guards=guards)
            )

    for s in new:
        add(trig("reset", new, s), (*active, *hold_source), s)
        add(f"reopen_{s}", resolved, s)
    for s in active:
        add(trig("start", active, s), (*new, *(a for a in active if a != s), *hold_source), s)
        add(trig("reopen", active, s), resolved, s)
    for s, full in zip(holds, hold_names, strict=True):
        if compound_hold:
            others = tuple(h for h in hold_names if h != full)
            add("hold", (*new, *active, *others), full, Guard(kind="hold_reason", values=(s,)))
        else:
            add(trig("hold", holds, s), (*new, *active, *(h for h in holds if h != s)), s)
    for s in resolved:
        add(trig("resolve", resolved, s), (*working, *(r for r in resolved if r != s)), s)
    for s in closed:
        add(trig("close", closed, s), (*resolved, *(working if close_from_work else ())), s)
    for s in cancelled:
        add(trig("cancel", cancelled, s), (*working, *resolved) if close_from_work else working, s)
    return LifecycleDef(
        name=name,
        description=description,
        initial=new[0],
        states=tuple(states),
        transitions=tuple(transitions),
        policies=IMPORT_POLICIES,
    )


def servicenow_incident() -> LifecycleDef:
    """ServiceNow incidents: New, In Progress, On Hold (five reasons), Resolved, Closed, Canceled.

    Staff may close a resolved incident, anyone may reopen it; an incident may
    be resolved or put on hold from New, and moved from one hold reason to
    another. ``Active`` (the older name of In Progress) maps to ``in_progress``.

    >>> from itsm_core.lifecycle import Lifecycle
    >>> lc = Lifecycle(servicenow_incident())
    >>> lc.triggers_from("on_hold.awaiting_caller")
    ('cancel', 'hold', 'reset', 'resolve', 'start')
    >>> lc.triggers_from("resolved")
    ('close', 'reopen', 'reopen_new')
    """
    return _build(
        "servicenow_incident",
        "ServiceNow incident states, as its staff may move them",
        new=("new",),
        active=("in_progress",),
        holds=(
            "awaiting_caller",
            "awaiting_change",
            "awaiting_evidence",
            "awaiting_problem",
            "awaiting_vendor",
        ),
        compound_hold=True,
        resolved=("resolved",),
        closed=("closed",),
        cancelled=("canceled",),
        close_from_work=False,
    )


def jira_issue() -> LifecycleDef:
    """Jira (Software and Service Management) issues: any workflow move of the default statuses.

    Jira workflows let an administrator connect any status to any other, so
    every move between the default statuses is allowed except out of
    ``Canceled``. ``Done`` (and ``Closed``) are resolved-category states, not
    final ones: Jira's classic workflow reopens them (``Reopened``, mapped to
    ``in_progress``).

    >>> from itsm_core.lifecycle import Lifecycle
    >>> Lifecycle(jira_issue()).category_of("on_hold.waiting_for_customer")
    'on_hold'
    """
    return _build(
        "jira_issue",
        "Jira issue statuses (To Do, In Progress, Waiting, Resolved, Done, Canceled)",
        new=("to_do",),
        active=("in_progress", "waiting_for_support", "escalated"),
        holds=("waiting_for_customer", "pending"),
        compound_hold=True,
        resolved=("resolved", "done"),
        closed=(),
        cancelled=("canceled",),
        close_from_work=True,
    )


def zammad_ticket() -> LifecycleDef:
    """Zammad tickets: new, open, pending reminder, pending close, closed, merged.

    ``pending close`` counts as resolved (the solution is given, the ticket
    closes itself later). Zammad reopens a *closed* ticket when the customer
    writes again, so ``closed`` is a resolved-category state here, not a
    final one; ``merged`` and ``removed`` are final.

    >>> from itsm_core.lifecycle import Lifecycle
    >>> Lifecycle(zammad_ticket()).triggers_from("closed")
    ('reopen', 'reopen_new', 'resolve_pending_close')
    """
    return _build(
        "zammad_ticket",
        "Zammad ticket states (new, open, pending, closed, merged)",
        new=("new",),
        active=("open",),
        holds=("pending_reminder",),
        compound_hold=False,
        resolved=("closed", "pending_close"),
        closed=(),
        cancelled=("merged", "removed"),
        close_from_work=False,
    )


def glpi_ticket() -> LifecycleDef:
    """GLPI tickets: New, Processing (assigned), Processing (planned), Pending, Solved, Closed.

    A solved ticket whose solution is refused goes back to processing (a
    reopening); GLPI closes from any status.

    >>> from itsm_core.lifecycle import Lifecycle
    >>> Lifecycle(glpi_ticket()).triggers_from("solved")
    ('close', 'reopen', 'reopen_new', 'reopen_planned')
    """
    return _build(
        "glpi_ticket",
        "GLPI ticket statuses (1 New ... 6 Closed)",
        new=("new",),
        active=("assigned", "planned"),
        holds=("pending",),
        compound_hold=False,
        resolved=("solved",),
        closed=("closed",),
        cancelled=(),
        close_from_work=True,
    )


#: The import lifecycles by name (the name is also the imported tickets' type).
IMPORT_LIFECYCLES: dict[str, LifecycleDef] = {
    d.name: d for d in (servicenow_incident(), jira_issue(), zammad_ticket(), glpi_ticket())
}
