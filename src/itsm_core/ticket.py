"""The ticket record, the commands that change it and the events that record the changes.

A :class:`Ticket` is plain, frozen data: names (``str``), numbers, aware
datetimes and tuples. It never changes; a command applied through a lifecycle
(:meth:`itsm_core.lifecycle.Lifecycle.apply`) returns a *new* ticket together
with the events that explain the change.

History lives **beside** the ticket: the host stores the events (they are the
audit trail), the ticket keeps only its current state and a ``version`` (the
number of events folded into it). Folding the events from nothing gives the
ticket back:

>>> from datetime import datetime, timezone
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> opened = TicketOpened(
...     ticket_id="INC-1", actor="alice", at=at, type="incident", state="new",
...     state_category="new", title="Printer jammed", requester="alice",
... )
>>> ticket = fold_events([opened])
>>> ticket.id, ticket.state, ticket.version
('INC-1', 'new', 1)

Commands are frozen records too. Each names the ``action`` a permission policy
matches (``"assign"``, ``"comment.public"``, ``"transition:resolve"`` ...):

>>> Transition(trigger="resolve", resolution_code="fixed").action
'transition:resolve'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, TypeAlias, TypeVar

import attrs

from itsm_core._drafts import draft_class, finisher, record_writer
from itsm_core.errors import InvalidValueError

__all__ = [
    "CATEGORIES",
    "CHANGEABLE_FIELDS",
    "FINAL_CATEGORIES",
    "LINK_KINDS",
    "AddComment",
    "AddLink",
    "AnswerSurvey",
    "ApprovalGiven",
    "ApprovalRefused",
    "ApprovalRequested",
    "Approve",
    "ArticleLink",
    "ArticleLinked",
    "Assign",
    "Assigned",
    "Attachment",
    "CallbackRecorded",
    "ChangeRequester",
    "Classify",
    "ClearMajor",
    "CommentAdded",
    "DueDateSet",
    "Event",
    "FieldChanged",
    "FieldValue",
    "GroupAssigned",
    "Link",
    "LinkArticle",
    "Linked",
    "MajorCleared",
    "MajorSet",
    "Merge",
    "Merged",
    "OpenTicket",
    "OverridePriority",
    "PriorityChanged",
    "Reassign",
    "Reassigned",
    "RecordCallback",
    "Refuse",
    "RemoveLink",
    "RequestApproval",
    "RequestSurvey",
    "RequesterChanged",
    "SetDueDate",
    "SetMajor",
    "Split",
    "StateChanged",
    "SurveyAnswered",
    "SurveyRequested",
    "Ticket",
    "TicketCommand",
    "TicketOpened",
    "TicketSplit",
    "Transition",
    "Unassigned",
    "Unlinked",
    "Unwatch",
    "Unwatched",
    "UpdateField",
    "Watch",
    "Watched",
    "changes_no_field",
    "event_writer",
    "fold_events",
    "inverse_link_kind",
    "unrefusable_event",
]

#: The state categories every lifecycle state belongs to, in their usual order.
CATEGORIES: tuple[str, ...] = ("new", "active", "on_hold", "resolved", "closed", "cancelled")
#: Categories of final states: a ticket there accepts no further command.
FINAL_CATEGORIES: frozenset[str] = frozenset({"closed", "cancelled"})

#: A typed custom field value.
FieldValue: TypeAlias = str | int | float | bool

#: The built-in ticket fields a :class:`FieldChanged` may set, each with whether it may
#: be unset (``new=None``). The others change through events of their own (a state
#: through ``StateChanged``, an assignee through ``Assigned``...) or never (the id).
CHANGEABLE_FIELDS: Mapping[str, bool] = MappingProxyType(
    {
        "type": False,
        "title": False,
        "requester": False,
        "description": False,
        "resolution": False,
        "category": True,
        "service": True,
        "customer": True,
        "channel": True,
        "resolution_code": True,
        "impact": True,
        "urgency": True,
        "derived_priority": True,
        "priority_override": True,
        "effective_priority": True,
        "approval": True,
    }
)

#: Link kinds and their inverse (the kind the other ticket records).
_INVERSE: dict[str, str] = {
    "parent": "child",
    "child": "parent",
    "duplicate_of": "duplicate",
    "duplicate": "duplicate_of",
    "related": "related",
    "merged_into": "merged_from",
    "merged_from": "merged_into",
    "split_into": "split_from",
    "split_from": "split_into",
    "follow_up_of": "follow_up",
    "follow_up": "follow_up_of",
}
#: Every link kind a ticket may record.
LINK_KINDS: tuple[str, ...] = tuple(_INVERSE)


def inverse_link_kind(kind: str) -> str:
    """The kind of link the other ticket records for a link of ``kind``.

    >>> inverse_link_kind("parent"), inverse_link_kind("duplicate_of")
    ('child', 'duplicate')
    """
    try:
        return _INVERSE[kind]
    except KeyError:
        raise InvalidValueError("link.kind", kind, f"one of {', '.join(LINK_KINDS)}") from None


@attrs.frozen(kw_only=True)
class Link:
    """A link from a ticket to another: ``kind`` (see :data:`LINK_KINDS`) and the other id.

    >>> Link(kind="parent", ticket_id="INC-7")
    Link(kind='parent', ticket_id='INC-7')
    """

    kind: str
    ticket_id: str


def _nonblank(field: str) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValueError(field, value, "a non-empty string")

    return check


def _byte_size(_: Any, __: Any, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidValueError("attachment.size", value, "a size in bytes (an integer >= 0)")


def _media_type(_: Any, __: Any, value: Any) -> None:
    if isinstance(value, str) and not any(c.isspace() for c in value):
        kind, slash, sub = value.partition("/")
        if slash and kind and sub:
            return
    raise InvalidValueError("attachment.media_type", value, "a media type such as 'image/png'")


@attrs.frozen(kw_only=True)
class Attachment:
    """A reference to a file the host stores: its id, file name, size in bytes and media type.

    The library keeps no content and no storage, only the reference; a blank id
    or file name, a negative size or a malformed media type is refused:

    >>> Attachment(id="att-1", file_name="screen.png", size=48213, media_type="image/png").size
    48213
    >>> Attachment(id="att-2", file_name=" ", size=1)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: attachment.file_name: expected a non-empty string, got ' '
    """

    id: str = attrs.field(validator=_nonblank("attachment.id"))
    file_name: str = attrs.field(validator=_nonblank("attachment.file_name"))
    size: int = attrs.field(validator=_byte_size)
    media_type: str = attrs.field(default="application/octet-stream", validator=_media_type)


@attrs.frozen(kw_only=True)
class ArticleLink:
    """A link to a knowledge-base article: its id and title.

    >>> ArticleLink(article_id="KB-12", title="Restart the kiosk").article_id
    'KB-12'
    >>> ArticleLink(article_id="")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: article.article_id: expected a non-empty string, got ''
    """

    article_id: str = attrs.field(validator=_nonblank("article.article_id"))
    title: str = ""


_TUPLE_FIELDS: dict[type, tuple[str, ...]] = {}


def _freeze(record: object) -> None:
    # Records keep tuples, never the caller's lists: a list given by hand could be edited after
    # recording, and would make ``hash()`` fail. Nested pairs (custom fields) become tuples too.
    cls = type(record)
    names = _TUPLE_FIELDS.get(cls)
    if names is None:
        fields = attrs.fields(cls)  # type: ignore[arg-type]
        names = tuple(a.name for a in fields if str(a.type).startswith("tuple"))
        _TUPLE_FIELDS[cls] = names
    for name in names:
        value = getattr(record, name)
        if type(value) is tuple:
            # The usual case, kept cheap: a plain tuple (often empty) with no list inside.
            for item in value:
                if isinstance(item, list):
                    break
            else:
                continue
        elif not isinstance(value, list | tuple) or (
            isinstance(value, tuple) and not any(isinstance(v, list) for v in value)
        ):
            continue
        items = (tuple(v) if isinstance(v, list) else v for v in value)
        object.__setattr__(record, name, tuple(items))


class _Referable:
    # The weak-reference slot of Ticket, held by a base so that Ticket's own slots are exactly
    # its fields: a draft of the same layout can then be finished into a Ticket (_slot_writer).
    __slots__ = ("__weakref__",)


@attrs.frozen(kw_only=True)
class Ticket(_Referable):
    """A ticket: frozen, plain data; every change is a new value plus events.

    Priorities, impact and urgency are stored as level *names*; the lifecycle
    derives them with its priority matrix. ``state_category`` is one of
    :data:`CATEGORIES` and always matches the lifecycle's category of
    ``state``. ``version`` counts the events folded into the ticket.

    The fields, by group:

    * identity: ``id``, ``type`` (the lifecycle's name), ``title``,
      ``description``, ``requester``, ``customer``, ``watchers``;
    * where it is: ``state``, ``state_category``, ``hold_reason`` (while on
      hold), ``resolution_code`` and ``resolution`` (while resolved),
      ``approval`` (``requested``, ``approved``, ``refused``) and ``approvers``;
    * who works on it: ``assignee``, ``group`` and the group's ``support_line``;
    * importance: ``impact``, ``urgency``, ``derived_priority`` (from the
      matrix), ``priority_override`` (by hand, with a reason in the events),
      ``major`` and ``effective_priority`` (major tier > override > derived);
    * classification: ``category``, ``service``, the intake ``channel``
      (``phone``, ``email``...) and typed ``custom_fields`` (sorted
      ``(name, value)`` pairs, read with :meth:`custom`);
    * ``links`` to other tickets (:class:`Link`), ``attachments`` (file
      references, :class:`Attachment`, from the opening and from comments),
      knowledge-base ``articles`` (:class:`ArticleLink`) and
      ``solved_with_article`` (an article solved it);
    * time: ``opened_at``, ``updated_at``, ``first_response_at`` (the first
      public reply by someone other than the requester), ``resolved_at``
      (cleared on reopening), ``closed_at`` (entering a final state);
    * counters: ``reassignments``, ``reopenings``.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t = Ticket(id="INC-1", type="incident", state="new", state_category="new",
    ...            title="VPN down", requester="bob", opened_at=at, updated_at=at)
    >>> t.is_final, t.link_targets("parent")
    (False, ())
    """

    id: str
    type: str
    state: str
    state_category: str
    title: str
    requester: str
    opened_at: datetime
    updated_at: datetime
    description: str = ""
    assignee: str | None = None
    group: str | None = None
    support_line: int | None = None
    impact: str | None = None
    urgency: str | None = None
    derived_priority: str | None = None
    priority_override: str | None = None
    major: bool = False
    effective_priority: str | None = None
    category: str | None = None
    service: str | None = None
    customer: str | None = None
    watchers: tuple[str, ...] = ()
    hold_reason: str | None = None
    resolution_code: str | None = None
    resolution: str = ""
    approval: str | None = None
    approvers: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    custom_fields: tuple[tuple[str, FieldValue], ...] = ()
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reassignments: int = 0
    reopenings: int = 0
    channel: str | None = None
    attachments: tuple[Attachment, ...] = ()
    articles: tuple[ArticleLink, ...] = ()
    solved_with_article: bool = False
    version: int = 1

    def __attrs_post_init__(self) -> None:
        _freeze(self)

    @property
    def is_final(self) -> bool:
        """Whether the ticket is closed or cancelled (no command applies any more)."""
        return self.state_category in FINAL_CATEGORIES

    def link_targets(self, kind: str) -> tuple[str, ...]:
        """The ids this ticket links to with links of ``kind``, in the order they were made."""
        return tuple(link.ticket_id for link in self.links if link.kind == kind)

    def custom(self, name: str, default: FieldValue | None = None) -> FieldValue | None:
        """The value of custom field ``name`` (``default`` when unset).

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> t = Ticket(id="P-1", type="problem", state="new", state_category="new",
        ...            title="t", requester="r", opened_at=at, updated_at=at,
        ...            custom_fields=(("workaround", "reboot"),))
        >>> t.custom("workaround"), t.custom("root_cause")
        ('reboot', None)
        """
        for key, value in self.custom_fields:
            if key == name:
                return value
        return default


_TICKET_FIELDS: tuple[str, ...] = tuple(a.name for a in attrs.fields(Ticket))
_set = object.__setattr__


def _slot_writer(
    cls: type,
    arg: str,
    values: dict[str, str],
    constants: dict[str, Any],
    *,
    finish: bool = True,
) -> Any:
    """A function of ``arg`` that makes a new ``cls`` record and writes its slots
    (:func:`itsm_core._drafts.record_writer`): about a third of the cost of one call per
    slot through its descriptor, for values that are already valid."""
    return record_writer(cls, (arg,), values, constants, finish=finish, label="slot writer")


#: A copy of a ticket as a draft, and what finishes the draft (the generic fold's evolve).
_draft_ticket: Callable[[Ticket], Any] = _slot_writer(
    Ticket, "old", {n: f"old.{n}" for n in _TICKET_FIELDS}, {}, finish=False
)
_finish_ticket: Callable[[Any], Ticket] = finisher(Ticket)
#: The slots a state change may write; the new ticket takes them as arguments, every other
#: slot from the old ticket.
_STATE_SLOTS = (
    "state",
    "state_category",
    "hold_reason",
    "resolved_at",
    "resolution_code",
    "resolution",
    "reopenings",
    "closed_at",
    "updated_at",
    "version",
)
_write_state: Callable[..., Ticket] = _slot_writer(
    Ticket,
    ", ".join(("old", *_STATE_SLOTS)),
    {n: n if n in _STATE_SLOTS else f"old.{n}" for n in _TICKET_FIELDS},
    {},
)
#: The same for an assignment of a ticket without an assignee.
_ASSIGNMENT_SLOTS = ("assignee", "group", "support_line", "updated_at", "version")
_write_assignment: Callable[..., Ticket] = _slot_writer(
    Ticket,
    ", ".join(("old", *_ASSIGNMENT_SLOTS)),
    {n: n if n in _ASSIGNMENT_SLOTS else f"old.{n}" for n in _TICKET_FIELDS},
    {},
)


def _evolve(ticket: Ticket, changes: dict[str, Any]) -> Ticket:
    # The generic fold of every event: ``attrs.evolve`` without its per-call introspection or
    # validation (the changes are values an event computed from valid fields).
    new = _draft_ticket(ticket)
    for name, value in changes.items():
        _set(new, name, value)
    return _finish_ticket(new)


def _with_custom(
    fields: tuple[tuple[str, FieldValue], ...], name: str, value: FieldValue | None
) -> tuple[tuple[str, FieldValue], ...]:
    rest = {k: v for k, v in fields if k != name}
    if value is not None:
        rest[name] = value
    return tuple(sorted(rest.items()))


# ---------------------------------------------------------------------------- events


@attrs.frozen(kw_only=True)
class Event:
    """Common fields of every event: which ticket, who acted and when (aware, exact).

    Subclasses add their own fields and implement ``_changes(ticket)``, the dict
    of ticket fields the event sets; :meth:`apply_to` folds an event into a
    ticket (and counts it in ``version``). Other rooms add their own events to
    the same history this way (an event that changes no field returns ``{}``).

    >>> issubclass(StateChanged, Event)
    True
    """

    ticket_id: str
    actor: str
    at: datetime

    def __attrs_post_init__(self) -> None:
        _freeze(self)

    def apply_to(self, ticket: Ticket | None) -> Ticket:
        """The ticket after this event (``ticket`` is ``None`` only for :class:`TicketOpened`)."""
        if ticket is None:
            raise InvalidValueError("events[0]", type(self).__name__, "a TicketOpened event first")
        if ticket.id != self.ticket_id:
            raise InvalidValueError(
                "event.ticket_id", self.ticket_id, f"the ticket's id {ticket.id!r}"
            )
        changes = self._changes(ticket)
        changes["updated_at"] = self.at
        changes["version"] = ticket.version + 1
        return _evolve(ticket, changes)

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        raise NotImplementedError


@attrs.frozen(kw_only=True)
class TicketOpened(Event):
    """The first event of every ticket: it carries all the initial fields.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> e = TicketOpened(ticket_id="SR-1", actor="ann", at=at, type="service_request",
    ...                  state="new", state_category="new", title="New laptop", requester="ann")
    >>> e.apply_to(None).title
    'New laptop'
    """

    type: str
    state: str
    state_category: str
    title: str
    requester: str
    description: str = ""
    impact: str | None = None
    urgency: str | None = None
    derived_priority: str | None = None
    effective_priority: str | None = None
    category: str | None = None
    service: str | None = None
    customer: str | None = None
    custom_fields: tuple[tuple[str, FieldValue], ...] = ()
    links: tuple[Link, ...] = ()
    channel: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def apply_to(self, ticket: Ticket | None) -> Ticket:
        """A new ticket from the initial fields; a ticket that already exists is an error."""
        if ticket is not None:
            raise InvalidValueError(
                "event", "TicketOpened", "no TicketOpened event after the first one"
            )
        return _open_ticket(self)


def _opening_writer() -> Callable[[TicketOpened], Ticket]:
    # The ticket an opening describes: its fields by name (``id`` from ``ticket_id``, both
    # instants from ``at``), version 1, every other field at its default. The event's tuples
    # are already frozen (its own post-init), so the ticket's would change nothing.
    carried = {a.name for a in attrs.fields(TicketOpened)}
    renamed = {"id": "ticket_id", "opened_at": "at", "updated_at": "at"}
    values: dict[str, str] = {}
    constants: dict[str, Any] = {}
    for field in attrs.fields(Ticket):
        source = renamed.get(field.name, field.name)
        if field.name == "version":
            values[field.name] = "1"
        elif source in carried:
            values[field.name] = f"event.{source}"
        else:
            assert not isinstance(field.default, attrs.Factory)  # type: ignore[arg-type]
            constants[f"default_{field.name}"] = field.default
            values[field.name] = f"default_{field.name}"
    write: Callable[[TicketOpened], Ticket] = _slot_writer(Ticket, "event", values, constants)
    return write


_open_ticket = _opening_writer()


@attrs.frozen(kw_only=True)
class Assigned(Event):
    """A ticket without an assignee got one: the person, the group and its support line.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = Assigned(ticket_id="I-1", actor="op", at=at, assignee="dana", group="help-desk",
    ...              support_line=1).apply_to(t)
    >>> t.assignee, t.group, t.support_line, t.reassignments
    ('dana', 'help-desk', 1, 0)
    """

    assignee: str
    group: str | None = None
    support_line: int | None = None

    def apply_to(self, ticket: Ticket | None) -> Ticket:
        """The ticket after this assignment: :meth:`Event.apply_to`, written out for speed."""
        if ticket is None or ticket.id != self.ticket_id:
            return Event.apply_to(self, ticket)  # raises, naming what is wrong
        return _write_assignment(
            ticket, self.assignee, self.group, self.support_line, self.at, ticket.version + 1
        )

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"assignee": self.assignee, "group": self.group, "support_line": self.support_line}


@attrs.frozen(kw_only=True)
class Reassigned(Event):
    """An assigned ticket moved to another person or group (counted in ``reassignments``).

    ``counted=False`` records a move its source system did not count (ServiceNow,
    for one, counts only changes of group); the lifecycle always counts.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = Assigned(ticket_id="I-1", actor="op", at=at, assignee="dana").apply_to(t)
    >>> move = Reassigned(ticket_id="I-1", actor="op", at=at, assignee="ari", group="admins",
    ...                   support_line=2, from_assignee="dana", from_group=None,
    ...                   from_support_line=None)
    >>> moved = move.apply_to(t)
    >>> moved.assignee, moved.group, moved.reassignments
    ('ari', 'admins', 1)
    >>> attrs.evolve(move, counted=False).apply_to(t).reassignments
    0
    """

    assignee: str
    group: str | None
    support_line: int | None
    from_assignee: str | None
    from_group: str | None
    from_support_line: int | None
    reason: str = ""
    counted: bool = True

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "assignee": self.assignee,
            "group": self.group,
            "support_line": self.support_line,
            "reassignments": ticket.reassignments + self.counted,
        }


@attrs.frozen(kw_only=True)
class GroupAssigned(Event):
    """The ticket went to a group with nobody in it responsible yet (``assignee`` is cleared).

    ``from_*`` record who had it before (all ``None`` for a first assignment);
    ``counted`` says whether the move counts in ``reassignments`` (a move from
    one group to another usually does; imported histories say what their
    source system counted).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> opened = TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...                       state="new", state_category="new", title="t", requester="ann")
    >>> moved = GroupAssigned(ticket_id="INC-1", actor="desk", at=at, group="network",
    ...                       from_group="service-desk", counted=True)
    >>> t = fold_events([opened, moved])
    >>> t.group, t.assignee, t.reassignments
    ('network', None, 1)
    """

    group: str
    support_line: int | None = None
    from_group: str | None = None
    from_assignee: str | None = None
    from_support_line: int | None = None
    reason: str = ""
    counted: bool = False

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "assignee": None,
            "group": self.group,
            "support_line": self.support_line,
            "reassignments": ticket.reassignments + self.counted,
        }


@attrs.frozen(kw_only=True)
class Unassigned(Event):
    """Nobody is responsible for the ticket any more: no assignee, no group.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> opened = TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...                       state="new", state_category="new", title="t", requester="ann")
    >>> given = Assigned(ticket_id="INC-1", actor="desk", at=at, assignee="dana", group="desk")
    >>> back = Unassigned(ticket_id="INC-1", actor="desk", at=at, from_assignee="dana",
    ...                   from_group="desk")
    >>> t = fold_events([opened, given, back])
    >>> t.assignee, t.group, t.reassignments
    (None, None, 0)
    """

    from_assignee: str | None = None
    from_group: str | None = None
    from_support_line: int | None = None
    reason: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"assignee": None, "group": None, "support_line": None}


@attrs.frozen(kw_only=True)
class StateChanged(Event):
    """A lifecycle transition: trigger, states and categories before and after.

    ``hold_reason`` is set when the ticket enters an on-hold state; ``reason``
    and ``resolution_code`` carry what the transition required. Leaving the
    ``resolved`` category for ``new``, ``active`` or ``on_hold`` is a reopening.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> hold = StateChanged(ticket_id="I-1", actor="op", at=at, trigger="wait",
    ...                     from_state="new", to_state="waiting", from_category="new",
    ...                     to_category="on_hold", hold_reason="awaiting_requester")
    >>> t = hold.apply_to(t)
    >>> t.state, t.state_category, t.hold_reason
    ('waiting', 'on_hold', 'awaiting_requester')
    >>> StateChanged(ticket_id="I-1", actor="op", at=at, trigger="reopen",
    ...              from_state="resolved", to_state="active", from_category="resolved",
    ...              to_category="active").is_reopening
    True
    """

    trigger: str
    from_state: str
    to_state: str
    from_category: str
    to_category: str
    hold_reason: str | None = None
    reason: str = ""
    resolution_code: str | None = None

    @property
    def is_reopening(self) -> bool:
        """Whether this change takes a resolved ticket back to work."""
        return self.from_category == "resolved" and self.to_category in (
            "new",
            "active",
            "on_hold",
        )

    def apply_to(self, ticket: Ticket | None) -> Ticket:
        """The ticket after this change: :meth:`Event.apply_to`, written out for speed.

        Every transition folds one of these, so the new ticket is a straight copy
        with the changed slots written directly (no dict of changes); it equals
        the generic fold of :meth:`_changes` (a property test checks it).
        """
        if ticket is None or ticket.id != self.ticket_id:
            return Event.apply_to(self, ticket)  # raises, naming what is wrong
        to_category = self.to_category
        from_category = self.from_category
        at = self.at
        resolved_at = ticket.resolved_at
        resolution_code = ticket.resolution_code
        resolution = ticket.resolution
        reopenings = ticket.reopenings
        if to_category == "resolved":
            if from_category != "resolved":
                resolved_at, resolution_code, resolution = at, self.resolution_code, self.reason
        elif from_category == "resolved" and to_category in ("new", "active", "on_hold"):
            resolved_at, resolution_code, resolution = None, None, ""
            reopenings += 1
        return _write_state(
            ticket,
            self.to_state,
            to_category,
            self.hold_reason if to_category == "on_hold" else None,
            resolved_at,
            resolution_code,
            resolution,
            reopenings,
            at if to_category in FINAL_CATEGORIES else ticket.closed_at,
            at,
            ticket.version + 1,
        )

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        changes: dict[str, Any] = {
            "state": self.to_state,
            "state_category": self.to_category,
            "hold_reason": self.hold_reason if self.to_category == "on_hold" else None,
        }
        if self.to_category == "resolved" and self.from_category != "resolved":
            changes.update(
                resolved_at=self.at, resolution_code=self.resolution_code, resolution=self.reason
            )
        if self.is_reopening:
            changes.update(
                resolved_at=None,
                resolution_code=None,
                resolution="",
                reopenings=ticket.reopenings + 1,
            )
        if self.to_category in FINAL_CATEGORIES:
            changes["closed_at"] = self.at
        return changes


@attrs.frozen(kw_only=True)
class PriorityChanged(Event):
    """Impact, urgency, derived, override or effective priority changed, and why.

    ``derived`` comes from the priority matrix, ``override`` is a manual
    choice (``None`` when there is none) and ``effective`` is what counts
    (the major tier, else the override, else the derived priority).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = PriorityChanged(ticket_id="I-1", actor="op", at=at, impact="high", urgency="low",
    ...                     derived="P3", override="P2", effective="P2",
    ...                     reason="VIP caller").apply_to(t)
    >>> t.derived_priority, t.priority_override, t.effective_priority
    ('P3', 'P2', 'P2')
    """

    impact: str | None
    urgency: str | None
    derived: str | None
    override: str | None
    effective: str | None
    reason: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "impact": self.impact,
            "urgency": self.urgency,
            "derived_priority": self.derived,
            "priority_override": self.override,
            "effective_priority": self.effective,
        }


@attrs.frozen(kw_only=True)
class MajorSet(Event):
    """The ticket was declared major (the tier outside the matrix), with a reason.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> MajorSet(ticket_id="I-1", actor="op", at=at, reason="site down").apply_to(t).major
    True
    """

    reason: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"major": True}


@attrs.frozen(kw_only=True)
class MajorCleared(Event):
    """The major tier was lifted, with a reason.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = MajorSet(ticket_id="I-1", actor="op", at=at, reason="site down").apply_to(t)
    >>> MajorCleared(ticket_id="I-1", actor="op", at=at, reason="one user").apply_to(t).major
    False
    """

    reason: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"major": False}


@attrs.frozen(kw_only=True)
class CommentAdded(Event):
    """A comment: ``public`` (visible to the requester) or internal.

    ``by_requester`` tells whether the actor is the ticket's requester, so "the
    first public reply by an agent" is decidable from the event alone; that
    reply sets the ticket's ``first_response_at``.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> note = CommentAdded(ticket_id="I-1", actor="op", at=at, body="checking",
    ...                     public=False, by_requester=False)
    >>> note.is_agent_reply, note.apply_to(t).first_response_at
    (False, None)
    >>> reply = attrs.evolve(note, public=True)
    >>> reply.is_agent_reply, reply.apply_to(t).first_response_at == at
    (True, True)
    """

    body: str
    public: bool
    by_requester: bool
    attachments: tuple[Attachment, ...] = ()

    @property
    def is_agent_reply(self) -> bool:
        """A public comment by someone other than the requester."""
        return self.public and not self.by_requester

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if self.is_agent_reply and ticket.first_response_at is None:
            changes["first_response_at"] = self.at
        if self.attachments:
            changes["attachments"] = (*ticket.attachments, *self.attachments)
        return changes


@attrs.frozen(kw_only=True)
class RequesterChanged(Event):
    """The requester was corrected from ``from_requester`` to ``requester``, with a reason.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="caller").apply_to(None)
    >>> RequesterChanged(ticket_id="I-1", actor="op", at=at, requester="ivan",
    ...                  from_requester="caller", reason="identified").apply_to(t).requester
    'ivan'
    """

    requester: str
    from_requester: str
    reason: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"requester": self.requester}


@attrs.frozen(kw_only=True)
class ArticleLinked(Event):
    """A knowledge-base article was linked; ``solved`` marks the article that solved the ticket.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = ArticleLinked(ticket_id="I-1", actor="op", at=at,
    ...                   article=ArticleLink(article_id="KB-1"), solved=True).apply_to(t)
    >>> [a.article_id for a in t.articles], t.solved_with_article
    (['KB-1'], True)
    """

    article: ArticleLink
    solved: bool = False

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if all(a.article_id != self.article.article_id for a in ticket.articles):
            changes["articles"] = (*ticket.articles, self.article)
        if self.solved:
            changes["solved_with_article"] = True
        return changes


@attrs.frozen(kw_only=True)
class FieldChanged(Event):
    """A descriptive or custom field changed from ``old`` to ``new`` (``None``: unset).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = FieldChanged(ticket_id="I-1", actor="op", at=at, field="title", old="t",
    ...                  new="No mail").apply_to(t)
    >>> t = FieldChanged(ticket_id="I-1", actor="op", at=at, field="site", old=None,
    ...                  new="Oslo", custom=True).apply_to(t)
    >>> t.title, t.custom_fields
    ('No mail', (('site', 'Oslo'),))
    """

    field: str
    old: FieldValue | None
    new: FieldValue | None
    custom: bool = False

    def check(self, where: str = "event") -> None:
        """Raise unless a ticket can take this change; ``where`` names the event in the error.

        A built-in field must be one of :data:`CHANGEABLE_FIELDS` and get text
        (or ``None`` where the field may be unset); the other fields change
        through events of their own (a state through ``StateChanged``...). A
        custom field gets any :data:`FieldValue` or ``None``.
        :class:`~itsm_core.lifecycle.History` checks every ``FieldChanged`` so.

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> FieldChanged(ticket_id="I-1", actor="op", at=at, field="type", old="incident",
        ...              new="request").check()
        >>> FieldChanged(ticket_id="I-1", actor="op", at=at, field="type", old="incident",
        ...              new=None).check("events[3]")
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: events[3].new: expected text (type cannot be \
unset), got None
        >>> FieldChanged(ticket_id="I-1", actor="op", at=at, field="state", old="new",
        ...              new="closed").check("events[3]")
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: events[3].field: expected one of type, title, \
...
        """
        field, new = self.field, self.new
        if type(field) is not str or not field:
            raise InvalidValueError(f"{where}.field", field, "a field name")
        if self.custom is True:
            if new is not None and type(new) not in (str, int, float, bool):
                raise InvalidValueError(f"{where}.new", new, "text, a number, True, False or None")
            return
        if self.custom is not False:
            raise InvalidValueError(f"{where}.custom", self.custom, "True or False")
        optional = CHANGEABLE_FIELDS.get(field)
        if optional is None:
            names = ", ".join(CHANGEABLE_FIELDS)
            raise InvalidValueError(
                f"{where}.field", field, f"one of {names}, or a custom field (custom=True)"
            )
        if type(new) is not str and not (optional and new is None):
            expected = "text or None" if optional else f"text ({field} cannot be unset)"
            raise InvalidValueError(f"{where}.new", new, expected)

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        if self.custom:
            return {"custom_fields": _with_custom(ticket.custom_fields, self.field, self.new)}
        return {self.field: self.new}


@attrs.frozen(kw_only=True)
class Linked(Event):
    """A link was added; ``reciprocal`` marks the mirror of a link made on the other ticket.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = Linked(ticket_id="I-1", actor="op", at=at, kind="caused_by",
    ...            target="PRB-7").apply_to(t)
    >>> [(lk.kind, lk.ticket_id) for lk in t.links]
    [('caused_by', 'PRB-7')]
    """

    kind: str
    target: str
    reciprocal: bool = False

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"links": (*ticket.links, Link(kind=self.kind, ticket_id=self.target))}


@attrs.frozen(kw_only=True)
class Unlinked(Event):
    """A link was removed.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = Linked(ticket_id="I-1", actor="op", at=at, kind="caused_by",
    ...            target="PRB-7").apply_to(t)
    >>> Unlinked(ticket_id="I-1", actor="op", at=at, kind="caused_by",
    ...          target="PRB-7").apply_to(t).links
    ()
    """

    kind: str
    target: str
    reciprocal: bool = False

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        gone = Link(kind=self.kind, ticket_id=self.target)
        return {"links": tuple(lk for lk in ticket.links if lk != gone)}


@attrs.frozen(kw_only=True)
class Merged(Event):
    """This ticket was merged into ``into`` (a ``merged_into`` link; a state change follows).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = Merged(ticket_id="I-1", actor="op", at=at, into="I-0").apply_to(t)
    >>> [(lk.kind, lk.ticket_id) for lk in t.links]
    [('merged_into', 'I-0')]
    """

    into: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"links": (*ticket.links, Link(kind="merged_into", ticket_id=self.into))}


@attrs.frozen(kw_only=True)
class TicketSplit(Event):
    """Part of this ticket became a new ticket ``new_ticket_id`` (a ``split_into`` link).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = TicketSplit(ticket_id="I-1", actor="op", at=at, new_ticket_id="I-2",
    ...                 title="printer too").apply_to(t)
    >>> [(lk.kind, lk.ticket_id) for lk in t.links]
    [('split_into', 'I-2')]
    """

    new_ticket_id: str
    title: str
    description: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        link = Link(kind="split_into", ticket_id=self.new_ticket_id)
        return {"links": (*ticket.links, link)}


@attrs.frozen(kw_only=True)
class Watched(Event):
    """``watcher`` now follows the ticket.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> Watched(ticket_id="I-1", actor="op", at=at, watcher="mona").apply_to(t).watchers
    ('mona',)
    """

    watcher: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"watchers": (*ticket.watchers, self.watcher)}


@attrs.frozen(kw_only=True)
class Unwatched(Event):
    """``watcher`` no longer follows the ticket.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = Watched(ticket_id="I-1", actor="op", at=at, watcher="mona").apply_to(t)
    >>> Unwatched(ticket_id="I-1", actor="op", at=at, watcher="mona").apply_to(t).watchers
    ()
    """

    watcher: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"watchers": tuple(w for w in ticket.watchers if w != self.watcher)}


@attrs.frozen(kw_only=True)
class ApprovalRequested(Event):
    """Approval was requested from ``approvers`` (empty: anyone allowed to approve).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = ApprovalRequested(ticket_id="I-1", actor="op", at=at,
    ...                       approvers=("cab",)).apply_to(t)
    >>> t.approval, t.approvers
    ('requested', ('cab',))
    """

    approvers: tuple[str, ...] = ()
    reason: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"approval": "requested", "approvers": self.approvers}


@attrs.frozen(kw_only=True)
class ApprovalGiven(Event):
    """The actor approved.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = ApprovalRequested(ticket_id="I-1", actor="op", at=at).apply_to(t)
    >>> ApprovalGiven(ticket_id="I-1", actor="cab", at=at).apply_to(t).approval
    'approved'
    """

    comment: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"approval": "approved"}


@attrs.frozen(kw_only=True)
class ApprovalRefused(Event):
    """The actor refused, always with a reason.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> t = ApprovalRequested(ticket_id="I-1", actor="op", at=at).apply_to(t)
    >>> ApprovalRefused(ticket_id="I-1", actor="cab", at=at,
    ...                 reason="no budget").apply_to(t).approval
    'refused'
    """

    reason: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {"approval": "refused"}


@attrs.frozen(kw_only=True)
class SurveyRequested(Event):
    """A satisfaction survey was sent to the requester (usually at resolution).

    ``survey`` names it when a desk runs several (empty: the satisfaction
    survey). It changes no ticket field; :mod:`itsm_core.metrics` counts it for the response rate.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> t = TicketOpened(ticket_id="I-1", actor="op", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r").apply_to(None)
    >>> SurveyRequested(ticket_id="I-1", actor="op", at=at).apply_to(t).version
    2
    """

    survey: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class SurveyAnswered(Event):
    """The requester answered survey ``survey``: ``rating`` (a point of its scale), a comment.

    The scale (1-5, good/bad, 0-10) is data of :class:`itsm_core.metrics.RatingScale`;
    the event keeps the integer point.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> SurveyAnswered(ticket_id="I-1", actor="r", at=at, rating=5, comment="quick").rating
    5
    """

    rating: int
    survey: str = ""
    comment: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


@attrs.frozen(kw_only=True)
class CallbackRecorded(Event):
    """Quality control called the requester back: reached or not, resolution confirmed or not.

    ``confirmed`` is ``None`` when the requester was not reached or gave no verdict.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> CallbackRecorded(ticket_id="I-1", actor="qc", at=at, reached=True, confirmed=True).reached
    True
    """

    reached: bool
    confirmed: bool | None = None
    comment: str = ""

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


class _NoTicket:
    """A stand-in for a ticket that has no fields: reading one raises ``AttributeError``."""

    __slots__ = ()


_NO_TICKET = _NoTicket()


def unrefusable_event(cls: type) -> bool:
    """Whether ``cls(**fields)`` cannot refuse values of the fields' types.

    True for an event class whose fields have no validator and no converter,
    with no ``__attrs_pre_init__`` and no ``__attrs_post_init__`` but the one of
    :class:`Event` (which turns lists into tuples).

    >>> unrefusable_event(StateChanged), unrefusable_event(Ticket)
    (True, False)
    """
    return (
        isinstance(cls, type)
        and issubclass(cls, Event)
        and all(a.validator is None and a.converter is None for a in attrs.fields(cls))
        and not hasattr(cls, "__attrs_pre_init__")
        and cls.__attrs_post_init__ is Event.__attrs_post_init__
    )


_EVENT_WRITERS: dict[type, Callable[..., Any]] = {}
_E = TypeVar("_E", bound=Event)


def event_writer(cls: type[_E]) -> Callable[..., _E]:
    """``cls`` for fields already checked: a function of the same keyword arguments that
    writes the record without calling ``__init__`` (or ``cls`` itself where it cannot).
    Where every required field comes before the optional ones, the fields may also be
    given by position, in the class's order.

    For an :func:`unrefusable_event` class whose defaults are plain values (no
    factory) and whose layout lets a draft become the record
    (:func:`~itsm_core._drafts.draft_class`). The values must already be what
    ``__init__`` would keep: tuples, never lists (its post-init would convert them).

    >>> from datetime import datetime, timezone
    >>> write = event_writer(Assigned)
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> write(ticket_id="I-1", actor="op", at=at, assignee="bob") == Assigned(
    ...     ticket_id="I-1", actor="op", at=at, assignee="bob")
    True
    """
    found = _EVENT_WRITERS.get(cls)
    if found is None:
        fields = attrs.fields(cls)
        if (
            not unrefusable_event(cls)
            or draft_class(cls) is None
            or any(isinstance(a.default, attrs.Factory) for a in fields)  # type: ignore[arg-type]
            or any(not a.init or a.alias != a.name for a in fields)
        ):
            found = cls
        else:
            args = [
                a.name if a.default is attrs.NOTHING else f"{a.name}=d_{a.name}" for a in fields
            ]
            required = [a.default is attrs.NOTHING for a in fields]
            if required != sorted(required, reverse=True):  # an optional field before a required
                args.insert(0, "*")  # keywords only
            defaults = {f"d_{a.name}": a.default for a in fields if a.default is not attrs.NOTHING}
            found = record_writer(
                cls, args, {a.name: a.name for a in fields}, defaults, label="event writer"
            )
        _EVENT_WRITERS[cls] = found
    return found


def changes_no_field(event: Event) -> bool:
    """Whether ``event`` changes no ticket field, whatever the ticket (beyond the
    ``updated_at`` and ``version`` every event sets).

    True for a kind that folds through :meth:`Event.apply_to` and whose
    ``_changes(ticket)`` (a pure function of the event and the ticket) returns
    ``{}`` without reading the ticket; false for anything else (it reads the
    ticket, raises, sets a field, or folds its own way), which only folding tells.
    Folds that follow a few fields (policy selection, analytics) skip such events.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> changes_no_field(SurveyRequested(ticket_id="I-1", actor="ann", at=at))
    True
    >>> changes_no_field(Assigned(ticket_id="I-1", actor="ann", at=at, assignee="bob"))
    False
    """
    if type(event).apply_to is not Event.apply_to:
        return False
    try:
        changes = event._changes(_NO_TICKET)  # type: ignore[arg-type]
    except Exception:  # it reads the ticket: only the fold tells what it changed
        return False
    return isinstance(changes, dict) and not changes


def fold_events(events: Iterable[Event], ticket: Ticket | None = None) -> Ticket:
    """Fold events into a ticket, from nothing (``ticket=None``) or from a snapshot.

    Folding checks only the shape of the history (an opening event first, one
    ticket id); :meth:`itsm_core.lifecycle.Lifecycle.replay` also checks the
    states against the lifecycle.

    >>> fold_events([])
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: events: expected at least one event, got []
    """
    current = ticket
    for index, event in enumerate(events):
        if not isinstance(event, Event):
            raise InvalidValueError(f"events[{index}]", event, "an Event")
        current = event.apply_to(current)
    if current is None:
        raise InvalidValueError("events", [], "at least one event")
    return current


@attrs.frozen(kw_only=True)
class DueDateSet(Event):
    """A metric's due instant set by hand (``due``), or cleared (``due=None``), and why.

    While set, the metric's running cycle is due at ``due``: its target becomes
    the business time from the cycle's start to ``due``, so the SLA clocks,
    thresholds, escalation levels and reports all follow it; clearing it
    restores the policy's target. It lasts until the cycle ends. It changes no
    ticket field. The :class:`SetDueDate` command records it (permission
    ``sla.set_due``).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> DueDateSet(ticket_id="INC-1", actor="lena", at=at, metric="resolution",
    ...            due=None, reason="policy target again").due is None
    True
    """

    metric: str
    due: datetime | None
    reason: str

    def _changes(self, ticket: Ticket) -> dict[str, Any]:
        return {}


# ---------------------------------------------------------------------------- commands


@attrs.frozen(kw_only=True)
class TicketCommand:
    """Base of every command; ``action`` is the name a permission policy matches.

    >>> AddComment(body="hi", public=False).action
    'comment.internal'
    """

    ACTION: ClassVar[str] = ""

    def __attrs_post_init__(self) -> None:
        _freeze(self)

    @property
    def action(self) -> str:
        """The permission action of this command."""
        return self.ACTION


@attrs.frozen(kw_only=True)
class OpenTicket(TicketCommand):
    """Open a new ticket of ``type`` (the lifecycle's name); apply it to ``None``.

    >>> OpenTicket(ticket_id="INC-1", type="incident", title="t", requester="r").action
    'create'
    """

    ACTION: ClassVar[str] = "create"
    ticket_id: str
    type: str
    title: str
    requester: str
    description: str = ""
    impact: str | None = None
    urgency: str | None = None
    category: str | None = None
    service: str | None = None
    customer: str | None = None
    custom_fields: tuple[tuple[str, FieldValue], ...] = ()
    links: tuple[Link, ...] = ()
    channel: str | None = None
    attachments: tuple[Attachment, ...] = ()


@attrs.frozen(kw_only=True)
class Assign(TicketCommand):
    """Give an unassigned ticket to a person in a group (fires the ``assign`` trigger if any).

    >>> Assign(assignee="dana", group="service-desk", support_line=1).action
    'assign'
    """

    ACTION: ClassVar[str] = "assign"
    assignee: str
    group: str | None = None
    support_line: int | None = None


@attrs.frozen(kw_only=True)
class Reassign(TicketCommand):
    """Move an assigned ticket to another person or group (counted; ``reassign`` trigger if any).

    >>> Reassign(assignee="erin", group="network", support_line=2).action
    'reassign'
    """

    ACTION: ClassVar[str] = "reassign"
    assignee: str
    group: str | None = None
    support_line: int | None = None
    reason: str = ""


@attrs.frozen(kw_only=True)
class Transition(TicketCommand):
    """Fire a lifecycle trigger, with the fields the transition may require.

    ``hold_reason`` chooses the on-hold sub-state (``awaiting_requester`` ...).

    >>> Transition(trigger="hold", hold_reason="awaiting_vendor", reason="RMA").action
    'transition:hold'
    """

    trigger: str
    reason: str = ""
    resolution_code: str | None = None
    hold_reason: str | None = None

    @property
    def action(self) -> str:
        """``transition:<trigger>``."""
        return f"transition:{self.trigger}"


@attrs.frozen(kw_only=True)
class AddComment(TicketCommand):
    """Add a public or internal comment.

    A public comment by the requester also fires the ``requester_reply`` trigger
    when the lifecycle has it from the current state and its policy allows.

    >>> AddComment(body="Any news?").action
    'comment.public'
    """

    body: str
    public: bool = True
    attachments: tuple[Attachment, ...] = ()

    @property
    def action(self) -> str:
        """``comment.public`` or ``comment.internal``."""
        return "comment.public" if self.public else "comment.internal"


@attrs.frozen(kw_only=True)
class ChangeRequester(TicketCommand):
    """Correct the requester (listen first, identify the caller later); a reason is required.

    >>> ChangeRequester(requester="ivan", reason="caller identified").action
    'requester.change'
    """

    ACTION: ClassVar[str] = "requester.change"
    requester: str
    reason: str


@attrs.frozen(kw_only=True)
class LinkArticle(TicketCommand):
    """Link a knowledge-base article; ``solved=True`` marks it as the article that solved it.

    >>> LinkArticle(article_id="KB-7", title="Kiosk paper jam", solved=True).action
    'article.link'
    """

    ACTION: ClassVar[str] = "article.link"
    article_id: str
    title: str = ""
    solved: bool = False


@attrs.frozen(kw_only=True)
class Classify(TicketCommand):
    """Set impact and/or urgency (``None`` keeps the current one); priority is re-derived.

    >>> Classify(urgency="high").action
    'priority.classify'
    """

    ACTION: ClassVar[str] = "priority.classify"
    impact: str | None = None
    urgency: str | None = None
    reason: str = ""


@attrs.frozen(kw_only=True)
class OverridePriority(TicketCommand):
    """Override the derived priority (``priority=None`` removes the override); a reason is required.

    >>> OverridePriority(priority="P1", reason="CEO's laptop").action
    'priority.override'
    """

    ACTION: ClassVar[str] = "priority.override"
    priority: str | None
    reason: str


@attrs.frozen(kw_only=True)
class SetMajor(TicketCommand):
    """Declare the ticket major (the tier outside the matrix); a reason is required.

    >>> SetMajor(reason="whole site offline").action
    'priority.set_major'
    """

    ACTION: ClassVar[str] = "priority.set_major"
    reason: str


@attrs.frozen(kw_only=True)
class ClearMajor(TicketCommand):
    """Lift the major tier; a reason is required.

    >>> ClearMajor(reason="scope was one floor").action
    'priority.clear_major'
    """

    ACTION: ClassVar[str] = "priority.clear_major"
    reason: str


@attrs.frozen(kw_only=True)
class SetDueDate(TicketCommand):
    """Set ``metric``'s due instant by hand (``due=None`` restores the policy's), with a reason.

    Records a :class:`DueDateSet` event; the permission action is ``sla.set_due``.

    >>> SetDueDate(metric="resolution", due=None, reason="vendor part arrived").action
    'sla.set_due'
    """

    ACTION: ClassVar[str] = "sla.set_due"
    metric: str
    due: datetime | None
    reason: str


@attrs.frozen(kw_only=True)
class UpdateField(TicketCommand):
    """Change ``title``, ``description``, ``category``, ``service``, ``customer`` or a custom field.

    ``value=None`` unsets an optional field.

    >>> UpdateField(field="service", value="email").action
    'update:service'
    """

    field: str
    value: FieldValue | None

    @property
    def action(self) -> str:
        """``update:<field>``."""
        return f"update:{self.field}"


@attrs.frozen(kw_only=True)
class AddLink(TicketCommand):
    """Link this ticket to another (``parent``, ``child``, ``duplicate_of``, ``duplicate``,
    ``related``; the other kinds only as ``reciprocal`` mirrors).

    >>> AddLink(kind="parent", target="INC-9").action
    'link'
    """

    ACTION: ClassVar[str] = "link"
    kind: str
    target: str
    reciprocal: bool = False


@attrs.frozen(kw_only=True)
class RemoveLink(TicketCommand):
    """Remove a link made with :class:`AddLink`.

    >>> RemoveLink(kind="related", target="INC-9").action
    'unlink'
    """

    ACTION: ClassVar[str] = "unlink"
    kind: str
    target: str
    reciprocal: bool = False


@attrs.frozen(kw_only=True)
class Watch(TicketCommand):
    """Add ``watcher`` to the people who follow the ticket.

    >>> Watch(watcher="lead").action
    'watch'
    """

    ACTION: ClassVar[str] = "watch"
    watcher: str


@attrs.frozen(kw_only=True)
class Unwatch(TicketCommand):
    """Remove ``watcher`` from the people who follow the ticket.

    >>> Unwatch(watcher="lead").action
    'unwatch'
    """

    ACTION: ClassVar[str] = "unwatch"
    watcher: str


@attrs.frozen(kw_only=True)
class Merge(TicketCommand):
    """Merge this ticket into ``into`` (the surviving ticket, as it is now).

    Refused for a self-merge and when ``into`` is itself merged or final.

    >>> Merge.ACTION
    'merge'
    """

    ACTION: ClassVar[str] = "merge"
    into: Ticket
    reason: str = ""


@attrs.frozen(kw_only=True)
class Split(TicketCommand):
    """Split part of this ticket off as a new ticket ``new_ticket_id``.

    >>> Split(new_ticket_id="INC-2", title="Second printer").action
    'split'
    """

    ACTION: ClassVar[str] = "split"
    new_ticket_id: str
    title: str
    description: str = ""


@attrs.frozen(kw_only=True)
class RequestApproval(TicketCommand):
    """Ask for approval (fires ``request_approval``); ``approvers`` empty: anyone permitted.

    >>> RequestApproval(approvers=("cab",)).action
    'approval.request'
    """

    ACTION: ClassVar[str] = "approval.request"
    approvers: tuple[str, ...] = ()
    reason: str = ""


@attrs.frozen(kw_only=True)
class Approve(TicketCommand):
    """Approve (fires ``approve``).

    >>> Approve().action
    'approval.give'
    """

    ACTION: ClassVar[str] = "approval.give"
    comment: str = ""


@attrs.frozen(kw_only=True)
class Refuse(TicketCommand):
    """Refuse approval (fires ``refuse``); a reason is required.

    >>> Refuse(reason="no back-out plan").action
    'approval.refuse'
    """

    ACTION: ClassVar[str] = "approval.refuse"
    reason: str


@attrs.frozen(kw_only=True)
class RequestSurvey(TicketCommand):
    """Send the requester a satisfaction survey (``survey``: its name, empty for the usual one).

    Accepted on a closed ticket too.

    >>> RequestSurvey().action
    'survey.request'
    """

    ACTION: ClassVar[str] = "survey.request"
    survey: str = ""


@attrs.frozen(kw_only=True)
class AnswerSurvey(TicketCommand):
    """Record the requester's answer to survey ``survey``: an integer ``rating`` and a comment.

    >>> AnswerSurvey(rating=4, comment="friendly").action
    'survey.answer'
    """

    ACTION: ClassVar[str] = "survey.answer"
    rating: int
    survey: str = ""
    comment: str = ""


@attrs.frozen(kw_only=True)
class RecordCallback(TicketCommand):
    """Record a quality-control call-back: ``reached`` and whether the resolution is ``confirmed``.

    >>> RecordCallback(reached=True, confirmed=False, comment="printer still jams").action
    'survey.callback'
    """

    ACTION: ClassVar[str] = "survey.callback"
    reached: bool
    confirmed: bool | None = None
    comment: str = ""
