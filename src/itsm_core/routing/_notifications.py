"""Notification rules as data: which events tell whom, with which template and visibility."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle import History
from itsm_core.routing._staff import Validator, names
from itsm_core.ticket import Event, Ticket

__all__ = [
    "EVENT_KINDS",
    "RECIPIENTS",
    "VISIBILITIES",
    "Notification",
    "NotificationRule",
    "default_notification_rules",
    "event_kind",
    "notifications_for",
]

#: The event kinds a rule may name, with the events they stand for. Escalation, desk
#: (SLA thresholds) and survey events are recognised by their class names (those rooms
#: sit beside or above this one).
EVENT_KINDS: dict[str, str] = {
    "opened": "the ticket was opened (TicketOpened)",
    "state_entered": "the ticket entered a state (StateChanged; narrowed by states/categories)",
    "public_reply": "a public comment (CommentAdded with public=True)",
    "internal_note": "an internal comment (CommentAdded with public=False)",
    "assigned": "the ticket got its first assignee (Assigned)",
    "reassigned": "the ticket moved to another assignee or group (Reassigned)",
    "priority_changed": "the priority changed (PriorityChanged, MajorSet, MajorCleared)",
    "requester_changed": "the requester was corrected (RequesterChanged)",
    "article_linked": "a knowledge-base article was linked (ArticleLinked)",
    "escalated": "an escalation level fired (Escalated)",
    "sla_threshold": "an SLA clock reached a percentage of its target (SlaThresholdReached < 100)",
    "sla_breached": "an SLA clock reached its target (SlaThresholdReached at 100 or more)",
    "escalation_requested": "someone asked for an escalation (EscalationRequested)",
    "survey": "a satisfaction survey was sent (SurveyRequested)",
}
_BY_CLASS: dict[str, str] = {
    "TicketOpened": "opened",
    "StateChanged": "state_entered",
    "Assigned": "assigned",
    "Reassigned": "reassigned",
    "PriorityChanged": "priority_changed",
    "MajorSet": "priority_changed",
    "MajorCleared": "priority_changed",
    "RequesterChanged": "requester_changed",
    "ArticleLinked": "article_linked",
    "Escalated": "escalated",
    "EscalationRequested": "escalation_requested",
    "SurveyRequested": "survey",
}
#: Whom a rule may name; named people go in ``people``.
RECIPIENTS: dict[str, str] = {
    "requester": "the ticket's requester",
    "watchers": "the ticket's watchers",
    "assignee": "the ticket's assignee (after the event)",
    "previous_assignee": "the assignee before a reassignment",
    "group": "the members of the ticket's group",
    "supervisor": "the supervisor of the ticket's group",
    "manager": "the manager of the ticket's group",
}
#: ``public`` notifications may reach the requester; ``internal`` ones never do.
VISIBILITIES: tuple[str, ...] = ("public", "internal")
_BY: tuple[str, ...] = ("anyone", "agent", "requester")


def event_kind(event: Event) -> str | None:
    """The kind of ``event`` in :data:`EVENT_KINDS` (``None``: no rule can name it).

    >>> from datetime import datetime, timezone
    >>> from itsm_core.ticket import CommentAdded
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> event_kind(CommentAdded(ticket_id="I-1", actor="op", at=at, body="hi", public=False,
    ...                         by_requester=False))
    'internal_note'
    """
    name = type(event).__name__
    if name == "CommentAdded":
        return "public_reply" if getattr(event, "public", False) else "internal_note"
    if name == "SlaThresholdReached":
        percent = getattr(event, "percent", 0)
        return "sla_breached" if isinstance(percent, int) and percent >= 100 else "sla_threshold"
    return _BY_CLASS.get(name)


def _in(vocabulary: Iterable[str], field: str) -> Validator:
    known = tuple(vocabulary)

    def check(_: Any, __: Any, value: Any) -> None:
        if value not in known:
            raise InvalidValueError(field, value, f"one of {', '.join(known)}")

    return check


def _recipients(value: object) -> tuple[str, ...]:
    out = names(value, "notification_rule.recipients")
    for index, item in enumerate(out):
        if item not in RECIPIENTS:
            raise InvalidValueError(
                f"notification_rule.recipients[{index}]", item, f"one of {', '.join(RECIPIENTS)}"
            )
    return out


def _nonblank(field: str) -> Validator:
    def check(_: Any, __: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValueError(field, value, "a non-empty string")

    return check


def _notification_rule_people(value: object) -> tuple[str, ...]:
    return names(value, "notification_rule.people")


def _notification_rule_types(value: object) -> tuple[str, ...]:
    return names(value, "notification_rule.types")


def _notification_rule_states(value: object) -> tuple[str, ...]:
    return names(value, "notification_rule.states")


def _notification_rule_categories(value: object) -> tuple[str, ...]:
    return names(value, "notification_rule.categories")


def _notification_rule_priorities(value: object) -> tuple[str, ...]:
    return names(value, "notification_rule.priorities")


@attrs.frozen(kw_only=True)
class NotificationRule:
    """When an event of kind ``on`` matches the conditions, tell the recipients with a template.

    Conditions (empty: any): ``types`` (ticket types), ``states`` and
    ``categories`` (the state entered; a compound state's sub-states match
    it), ``priorities`` (the effective priority after the event), ``by``
    (``anyone``, ``agent``: not the requester, ``requester``). Recipients are
    ``recipients`` (see :data:`RECIPIENTS`) and named ``people``; the actor is
    left out unless ``notify_actor``. An ``internal`` rule never reaches the
    requester, and a rule on internal notes must be internal.

    >>> NotificationRule(name="tell requester", on="state_entered", recipients=("requester",),
    ...                  template="ticket.state_changed").visibility
    'public'
    >>> NotificationRule(name="x", on="state_changed", template="t")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: notification_rule.on: expected one of opened, \
state_entered, public_reply, internal_note, assigned, reassigned, priority_changed, \
requester_changed, article_linked, escalated, sla_threshold, sla_breached, \
escalation_requested, survey, got 'state_changed'
    """

    name: str = attrs.field(validator=_nonblank("notification_rule.name"))
    on: str = attrs.field(validator=_in(EVENT_KINDS, "notification_rule.on"))
    template: str = attrs.field(validator=_nonblank("notification_rule.template"))
    recipients: tuple[str, ...] = attrs.field(default=(), converter=_recipients)
    people: tuple[str, ...] = attrs.field(default=(), converter=_notification_rule_people)
    visibility: str = attrs.field(
        default="public", validator=_in(VISIBILITIES, "notification_rule.visibility")
    )
    types: tuple[str, ...] = attrs.field(default=(), converter=_notification_rule_types)
    states: tuple[str, ...] = attrs.field(default=(), converter=_notification_rule_states)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_notification_rule_categories)
    priorities: tuple[str, ...] = attrs.field(default=(), converter=_notification_rule_priorities)
    by: str = attrs.field(default="anyone", validator=_in(_BY, "notification_rule.by"))
    notify_actor: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.recipients and not self.people:
            raise InvalidValueError(
                "notification_rule.recipients", (), "at least one recipient or named person"
            )
        if self.on == "internal_note" and self.visibility != "internal":
            raise InvalidValueError(
                "notification_rule.visibility",
                self.visibility,
                "'internal' for a rule on internal notes",
            )
        if (self.states or self.categories) and self.on != "state_entered":
            raise InvalidValueError(
                "notification_rule.states",
                self.states or self.categories,
                "no states or categories unless the rule is on 'state_entered'",
            )

    def matches(self, kind: str, event: Event, ticket: Ticket) -> bool:
        """Whether the rule fires for ``event`` of ``kind`` (``ticket``: the ticket after it)."""
        if kind != self.on:
            return False
        if self.types and ticket.type not in self.types:
            return False
        if self.priorities and ticket.effective_priority not in self.priorities:
            return False
        if self.by != "anyone" and (event.actor == ticket.requester) != (self.by == "requester"):
            return False
        if self.states and not any(
            ticket.state == s or ticket.state.startswith(f"{s}.") for s in self.states
        ):
            return False
        return not self.categories or ticket.state_category in self.categories


@attrs.frozen(kw_only=True)
class Notification:
    """A message the host should send: what caused it, whom to tell, the template, the visibility.

    ``recipients`` are resolved people, in rule order without repeats;
    ``withheld`` lists who was left out and why (the actor, the requester of
    an internal notification); ``unresolved`` lists the recipient kinds that
    named nobody (a group without a supervisor...).

    >>> from datetime import datetime, timezone
    >>> n = Notification(ticket_id="I-1", at=datetime(2026, 3, 2, tzinfo=timezone.utc),
    ...                  rule="team", event="internal_note", cause="CommentAdded",
    ...                  template="note", visibility="internal", recipients=("olga",),
    ...                  withheld=("rita (the requester; internal)",))
    >>> n.public, n.recipients
    (False, ('olga',))
    """

    ticket_id: str
    at: datetime
    rule: str
    event: str
    cause: str
    template: str
    visibility: str
    recipients: tuple[str, ...]
    withheld: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        """Whether the requester may see it."""
        return self.visibility == "public"


def default_notification_rules() -> tuple[NotificationRule, ...]:
    """The seeds' default: the requester is told of every state change and every public reply.

    >>> [(r.on, r.recipients, r.template) for r in default_notification_rules()]
    [('state_entered', ('requester',), 'ticket.state_changed'), \
('public_reply', ('requester',), 'ticket.public_reply')]
    """
    return (
        NotificationRule(
            name="requester: state changed",
            on="state_entered",
            recipients=("requester",),
            template="ticket.state_changed",
        ),
        NotificationRule(
            name="requester: public reply",
            on="public_reply",
            recipients=("requester",),
            template="ticket.public_reply",
            by="agent",
        ),
    )


def _resolve(
    kind: str,
    event: Event,
    ticket: Ticket,
    groups: Mapping[str, tuple[tuple[str, ...], str | None, str | None]],
) -> tuple[str, ...]:
    if kind == "requester":
        return (ticket.requester,)
    if kind == "watchers":
        return ticket.watchers
    if kind == "assignee":
        return (ticket.assignee,) if ticket.assignee else ()
    if kind == "previous_assignee":
        before = getattr(event, "from_assignee", None)
        return (before,) if isinstance(before, str) else ()
    members, supervisor, manager = groups.get(ticket.group or "", ((), None, None))
    if kind == "group":
        return members
    person = supervisor if kind == "supervisor" else manager
    return (person,) if person else ()


def notifications_for(
    rules: Sequence[NotificationRule],
    events: History | Iterable[Event],
    *,
    ticket: Ticket | None = None,
    since: int = 0,
    groups: Mapping[str, tuple[tuple[str, ...], str | None, str | None]] | None = None,
    include_empty: bool = False,
) -> tuple[Notification, ...]:
    """The notifications ``rules`` ask for on the new events of one ticket.

    Given a :class:`~itsm_core.lifecycle.History`, the new events are
    ``events[since:]`` and recipients are resolved on the history's ticket
    after each of them (the history's one fold; the desk passes its
    history). Given plain events, ``ticket`` is the ticket before them
    (``None`` when they start with its opening) and each event is applied to
    it in turn. ``groups`` maps a group to its
    ``(members, supervisor, manager)`` (:meth:`RoutingConfig.group_contacts
    <itsm_core.routing.RoutingConfig.group_contacts>`). A notification whose
    recipients all fell away (the requester told of their own change) is left
    out unless ``include_empty``; its ``withheld`` says why.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.lifecycle import default_lifecycles
    >>> from itsm_core.ticket import AddComment, OpenTicket
    >>> desk, at = default_lifecycles(), datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> t, opened = desk.apply(None, OpenTicket(ticket_id="I-1", type="incident", title="t",
    ...                                         requester="rita"), actor="rita", at=at)
    >>> t2, new = desk.apply(t, AddComment(body="On it"), actor="olga", at=at)
    >>> [(n.template, n.recipients) for n in notifications_for(default_notification_rules(),
    ...                                                         new, ticket=t)]
    [('ticket.public_reply', ('rita',))]
    """
    contacts = groups or {}
    out: list[Notification] = []
    for event, current in _after_each(events, ticket, since):
        kind = event_kind(event)
        if kind is None:
            continue
        for rule in rules:
            if not rule.matches(kind, event, current):
                continue
            found: list[str] = []
            unresolved: list[str] = []
            for recipient in rule.recipients:
                people = _resolve(recipient, event, current, contacts)
                if not people:
                    unresolved.append(recipient)
                found += [p for p in people if p not in found]
            found += [p for p in rule.people if p not in found]
            withheld: list[str] = []
            if not rule.notify_actor and event.actor in found:
                found.remove(event.actor)
                withheld.append(f"{event.actor} (the actor)")
            if rule.visibility == "internal" and current.requester in found:
                found.remove(current.requester)
                withheld.append(f"{current.requester} (the requester; internal)")
            if not found and not include_empty:
                continue
            out.append(
                Notification(
                    ticket_id=current.id,
                    at=event.at,
                    rule=rule.name,
                    event=kind,
                    cause=type(event).__name__,
                    template=rule.template,
                    visibility=rule.visibility,
                    recipients=tuple(found),
                    withheld=tuple(withheld),
                    unresolved=tuple(unresolved),
                )
            )
    return tuple(out)


def _after_each(
    events: History | Iterable[Event], ticket: Ticket | None, since: int
) -> Iterator[tuple[Event, Ticket]]:
    """Each new event with the ticket right after it, read from a history."""
    if isinstance(events, History):
        if ticket is not None:
            raise InvalidValueError(
                "ticket", ticket.id, "None when the events are a History (it holds the ticket)"
            )
        if not 0 <= since <= len(events):
            raise InvalidValueError("since", since, f"0 to {len(events)}")
        for index in range(since, len(events)):
            yield events[index], events.ticket_after(index)
        return
    if since:
        raise InvalidValueError("since", since, "0 unless the events are a History")
    # Plain events continue ``ticket`` (a lifecycle-level caller keeps no History): each
    # is applied with the event's own step, as History does.
    current = ticket
    for event in events:
        current = event.apply_to(current)
        yield event, current
