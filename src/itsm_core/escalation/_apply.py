"""Carrying out due escalation levels: the events of their actions, as the automation actor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import pendulum

from itsm_core._time import to_us
from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError, PermissionDenied
from itsm_core.escalation._engine import DueEscalation, EscalationPlan, plan_escalations
from itsm_core.escalation._events import (
    Escalated,
    EscalationRequested,
    MajorCandidateFlagged,
    NotificationRequested,
)
from itsm_core.escalation._rules import Action, ActionKind, EscalationRule
from itsm_core.escalation._structure import SupportStructure
from itsm_core.lifecycle import Authorizer, History, Lifecycle, Lifecycles
from itsm_core.sla import SlaPolicy
from itsm_core.ticket import (
    Assign,
    Event,
    OverridePriority,
    Reassign,
    Ticket,
    TicketCommand,
    Watch,
)

__all__ = ["apply_escalations", "escalate", "request_escalation"]


def request_escalation(
    ticket: Ticket, *, kind: str, actor: str, at: datetime, reason: str = ""
) -> EscalationRequested:
    """The event recording that ``actor`` asked for an escalation of ``kind`` ("manager"...).

    The host appends it to the history; a ``request`` trigger reads it.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t = Ticket(id="INC-1", type="incident", state="new", state_category="new",
    ...            title="t", requester="ann", opened_at=at, updated_at=at)
    >>> e = request_escalation(t, kind="manager", actor="ann", at=at, reason="third call")
    >>> e.kind, e.by_requester
    ('manager', True)
    """
    if not isinstance(ticket, Ticket):
        raise InvalidValueError("ticket", ticket, "a Ticket")
    if not isinstance(kind, str) or not kind.strip():
        raise InvalidValueError("kind", kind, "a non-empty request kind such as 'manager'")
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidValueError("actor", actor, "a non-empty principal name")
    if not isinstance(reason, str):
        raise InvalidValueError("reason", reason, "a string")
    if to_us(at, "at") < to_us(ticket.updated_at, "ticket.updated_at"):
        raise InvalidValueError(
            "at", at, f"an instant at or after the ticket's last change {ticket.updated_at}"
        )
    if ticket.is_final:
        raise InvalidValueError("ticket.state", ticket.state, "a ticket that is not final")
    return EscalationRequested(
        ticket_id=ticket.id,
        actor=actor,
        at=at,
        kind=kind,
        by_requester=actor == ticket.requester,
        reason=reason,
    )


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


class _Applier:
    """Turns due levels into events, one action at a time, on a working ticket."""

    def __init__(
        self,
        history: History,
        lifecycle: Lifecycle | Lifecycles,
        structure: SupportStructure | None,
        actor: str,
        at: datetime,
        authorizer: Authorizer | None,
    ) -> None:
        self.authorizer = authorizer
        self.ticket = history.ticket
        self.lifecycle = lifecycle
        self.structure = structure
        self.actor = actor
        self.at = at
        self.flagged = any(isinstance(e, MajorCandidateFlagged) for e in history)

    def _lifecycle(self) -> Lifecycle:
        if isinstance(self.lifecycle, Lifecycles):
            return self.lifecycle[self.ticket.type]
        return self.lifecycle

    def resolve(self, action: Action) -> tuple[list[str], list[str]]:
        """The people an action names, and the roles that named nobody."""
        t = self.ticket
        s = self.structure
        people: list[str] = []
        unresolved: list[str] = []
        for role in action.roles:
            found: list[str] = []
            if role == "requester":
                found = [t.requester]
            elif role == "assignee":
                found = [t.assignee] if t.assignee is not None else []
            elif role == "watchers":
                found = list(t.watchers)
            elif s is not None and role == "manager":
                manager = s.manager_of(t.group)
                found = [manager] if manager is not None else []
            elif s is not None and t.group in s:
                group = s.group(str(t.group))
                if role == "group":
                    found = list(group.members)
                elif group.supervisor is not None:
                    found = [group.supervisor]
            if not found:
                unresolved.append(role)
            people += found
        for name in action.groups:
            if s is None:
                raise InvalidValueError(
                    "structure", None, f"a SupportStructure to resolve {name!r}"
                )
            people += s.group(name).members
        people += action.people
        return list(_unique(people)), unresolved

    def command(self, command: TicketCommand, what: str) -> tuple[list[Event], str | None]:
        """The events of ``command``, or why it was refused (never lost: it goes in ``skipped``)."""
        try:
            ticket, events = self._lifecycle().apply(
                self.ticket, command, actor=self.actor, at=self.at, authorizer=self.authorizer
            )
        except PermissionDenied as exc:
            return [], f"{what}: refused: {exc}"
        self.ticket = ticket
        return list(events), None

    def reassign(self, action: Action, reason: str) -> tuple[list[Event], str | None]:
        t = self.ticket
        s = self.structure
        if s is None:
            return [], f"{action.describe()}: no support structure given"
        if action.to == "supervisor":
            assignee = s.supervisor_of(t.group)
            if assignee is None:
                return [], f"{action.describe()}: the group {t.group!r} has no supervisor"
            group, line = t.group, t.support_line
        else:
            target = (
                s.group(str(action.group))
                if action.to == "group"
                else s.next_line_for(t, skill=action.skill)
            )
            if target is None:
                return [], f"{action.describe()}: no line above {t.group!r}"
            assignee, group, line = str(target.receiver), target.name, target.line
        if (assignee, group, line) == (t.assignee, t.group, t.support_line):
            return [], f"{action.describe()}: already with {assignee!r}"
        if t.assignee is None:
            return self.command(
                Assign(assignee=assignee, group=group, support_line=line), action.describe()
            )
        return self.command(
            Reassign(assignee=assignee, group=group, support_line=line, reason=reason),
            action.describe(),
        )

    def raise_priority(self, action: Action, reason: str) -> tuple[list[Event], str | None]:
        t = self.ticket
        if t.major:
            return [], f"{action.describe()}: the ticket is a major incident"
        matrix = self._lifecycle().matrix
        names = [p.name for p in matrix.priorities]
        current = t.effective_priority
        if action.priority is not None:
            wanted = matrix.priority(action.priority)
            if current in names and matrix.priority(str(current)).rank <= wanted.rank:
                return [], f"{action.describe()}: already {current}"
            target = wanted.name
        else:
            if current not in names:
                return [], f"{action.describe()}: the ticket has no priority to raise"
            index = names.index(str(current))
            target = names[max(index - int(action.by or 1), 0)]
            if target == current:
                return [], f"{action.describe()}: already the most urgent"
        return self.command(OverridePriority(priority=target, reason=reason), action.describe())

    def level(self, due: DueEscalation) -> list[Event]:
        if self.ticket.is_final:
            skipped = ["every action: the ticket is final"]
            action_events: list[Event] = []
        else:
            action_events, skipped = self.actions(due)
        escalated = Escalated(
            ticket_id=self.ticket.id,
            actor=self.actor,
            at=self.at,
            rule=due.rule,
            level=due.level,
            cycle=due.cycle,
            due_at=due.due_at,
            reason=due.reason,
            actions=due.actions,
            skipped=tuple(skipped),
        )
        return [escalated, *action_events]

    def actions(self, due: DueEscalation) -> tuple[list[Event], list[str]]:
        reason = f"escalation {due.rule!r} level {due.level}: {due.reason}"
        tid, actor, at = self.ticket.id, self.actor, self.at
        events: list[Event] = []
        skipped: list[str] = []
        for action in due.actions:
            kind = action.kind
            if kind is ActionKind.NOTIFY:
                people, unresolved = self.resolve(action)
                if not people:
                    skipped.append(f"{action.describe()}: nobody to notify")
                    continue
                events.append(
                    NotificationRequested(
                        ticket_id=tid,
                        actor=actor,
                        at=at,
                        rule=due.rule,
                        level=due.level,
                        recipients=tuple(people),
                        reason=due.reason,
                        roles=action.roles,
                        groups=action.groups,
                        unresolved=tuple(unresolved),
                        message=action.message,
                    )
                )
            elif kind is ActionKind.ADD_WATCHER:
                people, _ = self.resolve(action)
                new = [p for p in people if p not in self.ticket.watchers]
                if not new:
                    skipped.append(f"{action.describe()}: nobody new to add")
                for person in new:
                    produced, why = self.command(Watch(watcher=person), action.describe())
                    events += produced
                    if why is not None:
                        skipped.append(why)
            elif kind is ActionKind.FLAG_MAJOR_CANDIDATE:
                if self.flagged or self.ticket.major:
                    skipped.append(f"{action.describe()}: already flagged or major")
                    continue
                self.flagged = True
                events.append(
                    MajorCandidateFlagged(ticket_id=tid, actor=actor, at=at, reason=reason)
                )
            else:
                handler = self.reassign if kind is ActionKind.REASSIGN else self.raise_priority
                produced, why = handler(action, reason)
                events += produced
                if why is not None:
                    skipped.append(why)
        return events, skipped


def apply_escalations(
    history: History | Sequence[Event],
    due: Iterable[DueEscalation],
    *,
    lifecycle: Lifecycle | Lifecycles,
    at: datetime,
    structure: SupportStructure | None = None,
    actor: str = "escalation",
    authorizer: Authorizer | None = None,
) -> tuple[Ticket, tuple[Event, ...]]:
    """Carry out due levels: the ticket after them and the events to append to the history.

    For each level, in order: an :class:`~itsm_core.escalation.Escalated`
    event (which makes the level fire at most once), then the events of its
    actions: :class:`~itsm_core.escalation.NotificationRequested` (the host
    sends it), the lifecycle's events of a reassignment (``Assign`` or
    ``Reassign``), a priority raise (``OverridePriority``) or a new watcher
    (``Watch``), and :class:`~itsm_core.escalation.MajorCandidateFlagged`. Actions that no
    longer apply (no line above, already the most urgent priority, a final
    ticket) or that ``authorizer`` refuses do nothing and are listed, with the
    reason, in the ``Escalated`` event's ``skipped``: a refusal is never lost,
    and the level does not stay due.
    ``at`` is the evaluation instant (not before the ticket's last change).
    The lifecycle's commands run as ``actor``, checked by ``authorizer`` when
    one is given. Bad input raises and nothing is produced.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.escalation import Action
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.ticket import OpenTicket
    >>> desk = default_lifecycles()
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> _, history = desk.apply(None, OpenTicket(ticket_id="INC-1", type="incident",
    ...     title="t", requester="ann", impact="low", urgency="low"), actor="ann", at=at)
    >>> due = DueEscalation(rule="slow", level=1, cycle=1, due_us=0, reason="too slow",
    ...                     actions=(Action.raise_priority(),), timezone="UTC")
    >>> ticket, events = apply_escalations(history, [due], lifecycle=desk, at=at)
    >>> ticket.effective_priority, [type(e).__name__ for e in events]
    ('P4', ['Escalated', 'PriorityChanged'])
    """
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidValueError("actor", actor, "a non-empty principal name")
    at_us = to_us(at, "at")
    h = History.of(history, field="history")
    applier = _Applier(h, lifecycle, structure, actor, at, authorizer)
    if at_us < h.instants_us[-1]:  # compared as instants (a DST fall-back hour is in order)
        raise InvalidValueError(
            "at", at, f"an instant at or after the ticket's last change {applier.ticket.updated_at}"
        )
    produced: list[Event] = []
    for i, item in enumerate(due):
        if not isinstance(item, DueEscalation):
            raise InvalidValueError(f"due[{i}]", item, "a DueEscalation")
        produced += applier.level(item)
    return (h.append(*produced).ticket if produced else h.ticket), tuple(produced)


def escalate(
    history: Sequence[Event],
    rules: Iterable[EscalationRule],
    now: datetime,
    *,
    lifecycle: Lifecycle | Lifecycles,
    policy: SlaPolicy | Sequence[SlaPolicy] | None = None,
    structure: SupportStructure | None = None,
    calendar: CalendarLike | None = None,
    customer_calendar: CalendarLike | None = None,
    actor: str = "escalation",
    authorizer: Authorizer | None = None,
) -> tuple[Ticket, tuple[Event, ...], pendulum.DateTime | None]:
    """:func:`due_escalations` then :func:`apply_escalations` at ``now``, and the next wake-up.

    Returns the ticket, the events to append and the instant to call again
    (``None``: only a new event can make anything due).

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.escalation import Action, EscalationLevel, EscalationRule, Trigger
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.ticket import OpenTicket
    >>> desk = default_lifecycles()
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> _, history = desk.apply(None, OpenTicket(ticket_id="INC-1", type="incident",
    ...     title="t", requester="ann"), actor="ann", at=at)
    >>> rule = EscalationRule(name="unanswered", trigger=Trigger.no_reply(), levels=(
    ...     EscalationLevel(after=timedelta(hours=1), actions=Action.notify(people="sam")),
    ...     EscalationLevel(after=timedelta(hours=3), actions=Action.notify(people="mona"))))
    >>> ticket, events, wake = escalate(history, [rule], at + timedelta(hours=2), lifecycle=desk)
    >>> [type(e).__name__ for e in events], str(wake)
    (['Escalated', 'NotificationRequested'], '2026-03-02 12:00:00+00:00')
    """
    rules = tuple(rules)

    def plan(events: Iterable[Event]) -> EscalationPlan:
        return plan_escalations(
            events,
            rules,
            now,
            policy=policy,
            structure=structure,
            calendar=calendar,
            customer_calendar=customer_calendar,
        )

    ticket, events = apply_escalations(
        history,
        plan(history).due,
        lifecycle=lifecycle,
        at=now,
        structure=structure,
        actor=actor,
        authorizer=authorizer,
    )
    return ticket, events, plan([*history, *events]).wakeup
