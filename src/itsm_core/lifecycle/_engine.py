"""The lifecycle engine: apply commands to frozen tickets, replay events, answer what may happen."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

import attrs

from itsm_core._time import to_us
from itsm_core.errors import InvalidTransition, InvalidValueError, PermissionDenied
from itsm_core.lifecycle._definition import (
    COMMAND_TRIGGERS,
    FieldDef,
    Guard,
    LifecycleDef,
    check_definition,
    flat_states,
    value_has_type,
)
from itsm_core.lifecycle._fast import Step, trusted_builder, write_assigned_move, write_move
from itsm_core.lifecycle._history import History
from itsm_core.lifecycle._machine import (
    CompiledTransition,
    build_machine,
    compile_table,
)
from itsm_core.priority import MAJOR, PriorityMatrix, effective_priority
from itsm_core.ticket import (
    FINAL_CATEGORIES,
    LINK_KINDS,
    AddComment,
    AddLink,
    AnswerSurvey,
    ApprovalGiven,
    ApprovalRefused,
    ApprovalRequested,
    Approve,
    ArticleLink,
    ArticleLinked,
    Assign,
    Assigned,
    Attachment,
    CallbackRecorded,
    ChangeRequester,
    Classify,
    ClearMajor,
    CommentAdded,
    DueDateSet,
    Event,
    FieldChanged,
    FieldValue,
    Link,
    LinkArticle,
    Linked,
    MajorCleared,
    MajorSet,
    Merge,
    Merged,
    OpenTicket,
    OverridePriority,
    PriorityChanged,
    Reassign,
    Reassigned,
    RecordCallback,
    Refuse,
    RemoveLink,
    RequestApproval,
    RequesterChanged,
    RequestSurvey,
    SetDueDate,
    SetMajor,
    Split,
    StateChanged,
    SurveyAnswered,
    SurveyRequested,
    Ticket,
    TicketCommand,
    TicketOpened,
    TicketSplit,
    Transition,
    Unlinked,
    Unwatch,
    Unwatched,
    UpdateField,
    Watch,
    Watched,
)

if TYPE_CHECKING:
    from itsm_core.calendar import BusinessCalendar

__all__ = ["Authorizer", "DueTransition", "Lifecycle", "Lifecycles", "replay"]

Events: TypeAlias = tuple[Event, ...]
#: Link kinds a user may create directly; the others are made by merge, split and follow-ups.
USER_LINK_KINDS: tuple[str, ...] = ("parent", "child", "duplicate_of", "duplicate", "related")
_POLICY_TRIGGERS = frozenset({"reopen", "close", "auto_close"})
#: Destination categories whose state change also writes the resolution or closure fields.
_OUTCOME_CATEGORIES = frozenset({"resolved", *FINAL_CATEGORIES})
_BUILTIN_FIELDS: dict[str, bool] = {
    "title": False,
    "description": False,
    "category": True,
    "service": True,
    "customer": True,
}


@runtime_checkable
class Authorizer(Protocol):
    """Anything that decides whether ``actor`` may perform ``action``.

    ``check`` returns ``None`` when allowed and raises
    :class:`~itsm_core.errors.PermissionDenied` otherwise. The lifecycle calls it
    before anything changes, with the ticket (``None`` when opening) and the
    command (``None`` when only listing what is available).

    >>> class OnlyAlice:
    ...     def check(self, actor, action, ticket, command):
    ...         if actor != "alice":
    ...             raise PermissionDenied(principal=actor, action=action)
    >>> isinstance(OnlyAlice(), Authorizer)
    True
    """

    def check(self, actor: str, action: str, ticket: Ticket | None, command: object) -> None:
        """Raise :class:`~itsm_core.errors.PermissionDenied` unless allowed."""


@attrs.frozen(kw_only=True)
class DueTransition:
    """A command the host should apply now because time has passed (e.g. auto-close).

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.lifecycle import incident
    >>> from itsm_core.ticket import Assign, Transition
    >>> lc = Lifecycle(incident())
    >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)  # a Monday
    >>> t, _ = lc.open(OpenTicket(ticket_id="I", type="incident", title="t", requester="r"),
    ...                actor="r", at=at)
    >>> t, _ = lc.apply(t, Assign(assignee="d"), actor="d", at=at)
    >>> t, _ = lc.apply(t, Transition(trigger="resolve", resolution_code="fixed"),
    ...                 actor="d", at=at)
    >>> (due,) = lc.due_transitions(t, at + timedelta(days=7))
    >>> str(due.due_at), due.command.trigger
    ('2026-01-10 00:00:00+00:00', 'auto_close')
    >>> lc.apply(t, due.command, actor="system", at=at + timedelta(days=7))[0].state_category
    'closed'
    """

    due_at: datetime
    command: Transition


@attrs.frozen
class _Ctx:
    ticket: Ticket
    actor: str
    at: datetime
    hold_reason: str | None = None


_build_state_changed = trusted_builder(StateChanged)
_build_assigned = trusted_builder(Assigned)
_build_ticket_opened = trusted_builder(TicketOpened)


def _text(value: object, field: str, *, blank: bool = False) -> str:
    if not isinstance(value, str) or (not blank and not value.strip()):
        raise InvalidValueError(field, value, "a string" if blank else "a non-empty string")
    return value


def _attachments(value: object) -> tuple[Attachment, ...]:
    if not isinstance(value, tuple):
        raise InvalidValueError("command.attachments", value, "a tuple of Attachment")
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, Attachment):
            raise InvalidValueError(f"command.attachments[{index}]", item, "an Attachment")
        if item.id in seen:
            raise InvalidValueError(
                f"command.attachments[{index}].id", item.id, "an attachment id not given twice"
            )
        seen.add(item.id)
    return value


def _is_set(value: object) -> bool:
    # A required value: given, and not blank text (whitespace fills no back-out plan).
    return value is not None and not (isinstance(value, str) and not value.strip())


def _optional_text(value: object, field: str) -> str | None:
    return None if value is None else _text(value, field)


def _relation_holds(relation: str, ctx: _Ctx) -> bool:
    if relation == "anyone":
        return True
    if relation == "requester":
        return ctx.actor == ctx.ticket.requester
    return ctx.actor == ctx.ticket.assignee


def _guard_failure(guard: Guard, ctx: _Ctx) -> str | None:
    """Why ``guard`` does not hold (``None`` when it holds)."""
    kind = guard.kind
    ticket = ctx.ticket
    if kind == "assigned":
        ok = ticket.assignee is not None
    elif kind == "unassigned":
        ok = ticket.assignee is None
    elif kind == "actor_is":
        ok = any(_relation_holds(r, ctx) for r in guard.values)
    elif kind == "actor_is_not":
        ok = not any(_relation_holds(r, ctx) for r in guard.values)
    elif kind == "hold_reason":
        ok = ctx.hold_reason in guard.values
    elif kind == "approved":
        ok = ticket.approval == "approved"
    elif kind == "not_major":
        ok = not ticket.major
    else:  # fields_set
        ok = all(_is_set(ticket.custom(name)) for name in guard.values)
    return None if ok else f"guard {guard.describe()} does not hold"


def evaluate_guards(guards: tuple[Guard, ...], ctx: Any) -> bool:
    """Whether every guard holds in ``ctx`` (the condition the machine's transitions call)."""
    return all(_guard_failure(g, ctx) is None for g in guards)


class Lifecycle:
    """A ticket lifecycle built from a :class:`LifecycleDef`: one machine, any number of tickets.

    Building validates the definition (a
    :class:`~itsm_core.errors.ConfigurationError` lists every problem), builds
    the ``transitions`` hierarchical machine once and compiles its transition
    table. ``matrix`` derives priorities (default: the ITIL 3x3 preset);
    ``calendar`` counts the business days of the reopen window and of
    auto-close (default: none, plain calendar days).

    :meth:`apply` is the one way to change a ticket; it returns the new ticket
    and the events, which the host stores beside it (the history).

    >>> from datetime import datetime, timezone
    >>> from itsm_core.lifecycle import incident
    >>> from itsm_core.ticket import Assign, OpenTicket, Transition
    >>> lc = Lifecycle(incident())
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> t, events = lc.apply(None, OpenTicket(ticket_id="INC-1", type="incident",
    ...     title="Mail down", requester="bob", impact="high", urgency="high"),
    ...     actor="bob", at=at)
    >>> t, events = lc.apply(t, Assign(assignee="dana", group="desk", support_line=1),
    ...                      actor="dispatcher", at=at)
    >>> t.state, t.effective_priority, [type(e).__name__ for e in events]
    ('assigned', 'P1', ['Assigned', 'StateChanged'])
    >>> lc.apply(t, Transition(trigger="close"), actor="dana", at=at)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidTransition: cannot 'close' a ticket in state 'assigned'; \
allowed here: cancel, hold, merge, resolve, start
    """

    __slots__ = (
        "_categories",
        "_fields",
        "_handlers",
        "_steps",
        "_table",
        "_triggers",
        "calendar",
        "definition",
        "machine",
        "matrix",
        "moves",
        "name",
        "states",
    )

    def __init__(
        self,
        definition: LifecycleDef,
        *,
        matrix: PriorityMatrix | None = None,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        check_definition(definition)
        self.definition = definition
        self.name = definition.name
        self.matrix = matrix if matrix is not None else PriorityMatrix.itil_3x3()
        self.calendar = calendar
        flat = flat_states(definition)
        self._categories = {s.name: s.category for s in flat}
        #: The resting states (sub-states of compound states by their dotted names).
        self.states: tuple[str, ...] = tuple(s.name for s in flat if s.leaf)
        #: The ``transitions`` hierarchical machine: the single machine of this lifecycle.
        self.machine = build_machine(definition, evaluate_guards)
        self._table = compile_table(self.machine, self._categories, self.states)
        triggers: dict[str, list[str]] = {s: [] for s in self.states}
        for state, trigger in self._table:
            triggers[state].append(trigger)
        self._triggers = {s: tuple(sorted(t)) for s, t in triggers.items()}
        #: Every state change the table allows: (state, trigger, to_state, to_category).
        self.moves: frozenset[tuple[str, str, str, str]] = frozenset(
            (state, trigger, c.dest, self._categories[c.dest])
            for (state, trigger), candidates in self._table.items()
            for c in candidates
        )
        self._fields: dict[str, FieldDef] = {f.name: f for f in definition.fields}
        #: The hot path's table, built once: state -> trigger -> steps (triggers that
        #: commands fire, such as ``assign``, are kept too; Transition refuses them).
        self._steps: dict[str, dict[str, tuple[Step, ...]]] = {s: {} for s in self.states}
        for (state, trigger), candidates in self._table.items():
            self._steps[state][trigger] = tuple(Step(c) for c in candidates)
        self._handlers: dict[type, Callable[..., Events]] = {
            Transition: self._on_transition,
            Assign: self._on_assign,
            Reassign: self._on_reassign,
            AddComment: self._on_comment,
            Classify: self._on_classify,
            OverridePriority: self._on_override,
            SetMajor: self._on_set_major,
            ClearMajor: self._on_clear_major,
            SetDueDate: self._on_set_due_date,
            UpdateField: self._on_update,
            AddLink: self._on_add_link,
            RemoveLink: self._on_remove_link,
            Watch: self._on_watch,
            Unwatch: self._on_unwatch,
            Merge: self._on_merge,
            Split: self._on_split,
            RequestApproval: self._on_request_approval,
            Approve: self._on_approve,
            Refuse: self._on_refuse,
            ChangeRequester: self._on_change_requester,
            LinkArticle: self._on_link_article,
            RequestSurvey: self._on_request_survey,
            AnswerSurvey: self._on_answer_survey,
            RecordCallback: self._on_record_callback,
        }

    def __repr__(self) -> str:
        return f"Lifecycle({self.name!r}, states={len(self.states)})"

    # -- the table -----------------------------------------------------------

    def category_of(self, state: str) -> str:
        """The category of a state (``new``, ``active``, ``on_hold``, ``resolved``...).

        >>> from itsm_core.lifecycle import incident
        >>> Lifecycle(incident()).category_of("on_hold.awaiting_vendor")
        'on_hold'
        """
        try:
            return self._categories[state]
        except KeyError:
            raise InvalidValueError(
                "state", state, f"a state of lifecycle {self.name!r}: {', '.join(self.states)}"
            ) from None

    def is_final(self, state: str) -> bool:
        """Whether ``state`` is final (category closed or cancelled): it has no exits."""
        return self.category_of(state) in FINAL_CATEGORIES

    def triggers_from(self, state: str) -> tuple[str, ...]:
        """Every trigger the table has from ``state``, guards aside, sorted.

        >>> from itsm_core.lifecycle import incident
        >>> Lifecycle(incident()).triggers_from("on_hold.awaiting_requester")
        ('cancel', 'merge', 'reassign', 'requester_reply', 'resolve', 'resume')
        """
        self.category_of(state)
        return self._triggers[state]

    def transitions_from(self, state: str, trigger: str) -> tuple[CompiledTransition, ...]:
        """The candidate transitions of ``trigger`` from ``state``, in the order tried."""
        self.category_of(state)
        return self._table.get((state, trigger), ())

    # -- apply ---------------------------------------------------------------

    def apply(
        self,
        ticket: Ticket | None,
        command: TicketCommand,
        *,
        actor: str,
        at: datetime,
        authorizer: Authorizer | None = None,
    ) -> tuple[Ticket, Events]:
        """Apply ``command`` by ``actor`` at ``at``: the new ticket and the events that explain it.

        ``ticket`` is ``None`` only for :class:`~itsm_core.ticket.OpenTicket`.
        ``authorizer.check(actor, command.action, ticket, command)`` runs
        before anything else. An illegal command raises
        :class:`~itsm_core.errors.InvalidTransition` (bad fields:
        :class:`~itsm_core.errors.InvalidValueError`) and nothing changes.
        ``at`` must be aware and not earlier than the ticket's last change.

        >>> from datetime import datetime, timezone
        >>> from itsm_core.lifecycle import incident
        >>> from itsm_core.ticket import Assign, Transition
        >>> lc = Lifecycle(incident())
        >>> at = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
        >>> t, events = lc.apply(None, OpenTicket(ticket_id="I-1", type="incident",
        ...                      title="No mail", requester="ann"), actor="ann", at=at)
        >>> t, events = lc.apply(t, Assign(assignee="dana"), actor="dana", at=at)
        >>> t.state, t.assignee, [type(e).__name__ for e in events]
        ('assigned', 'dana', ['Assigned', 'StateChanged'])
        >>> lc.apply(t, Transition(trigger="close"), actor="dana", at=at)
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidTransition: ...
        >>> t.version  # the refused command changed nothing
        3
        """
        # The hot path: the usual commands on a well-formed call, in one straight pass over
        # the tables prepared when the lifecycle was built. The call checks below imply those
        # of _check_call (an instant in one fixed offset compares exactly by its fields);
        # anything else takes the full checks. A command the hot path does not take as it is
        # (a value to refuse, a guard that fails) returns None and goes to the reference
        # handlers, which raise the error: both give the same answers (a property test).
        kind = type(command)
        if (kind is Transition or kind is Assign) and type(ticket) is Ticket:
            last = ticket.updated_at
            if (
                type(at) is datetime
                and type(last) is datetime
                and (tz := at.tzinfo) is last.tzinfo
                and type(tz) is timezone
                and at >= last
                and type(actor) is str
                and actor.strip()
                and ticket.type == self.name
                and (by_trigger := self._steps.get(ticket.state)) is not None
            ):
                if authorizer is not None:
                    authorizer.check(actor, command.action, ticket, command)
                if kind is Transition:
                    done = self._fast_transition(ticket, command, actor, at, by_trigger)  # type: ignore[arg-type]
                else:
                    done = self._fast_assign(ticket, command, actor, at, by_trigger)  # type: ignore[arg-type]
                return done if done is not None else self._handle(ticket, command, actor, at)
        self._check_call(ticket, command, actor, at)
        if authorizer is not None:
            authorizer.check(actor, command.action, ticket, command)
        if ticket is None:
            opened = (
                self._fast_open(command, actor, at)  # type: ignore[arg-type]
                if kind is OpenTicket
                else None
            )
            if opened is None:
                opened = self._open(command, actor, at)  # type: ignore[arg-type]
            return opened.apply_to(None), (opened,)
        if kind is Transition or kind is Assign:
            by_trigger = self._steps[ticket.state]
            if kind is Transition:
                done = self._fast_transition(ticket, command, actor, at, by_trigger)  # type: ignore[arg-type]
            else:
                done = self._fast_assign(ticket, command, actor, at, by_trigger)  # type: ignore[arg-type]
            if done is not None:
                return done
        return self._handle(ticket, command, actor, at)

    def _apply_reference(
        self,
        ticket: Ticket | None,
        command: TicketCommand,
        *,
        actor: str,
        at: datetime,
        authorizer: Authorizer | None = None,
    ) -> tuple[Ticket, Events]:
        """:meth:`apply` without its hot path: the straightforward reference it must agree with."""
        self._check_call(ticket, command, actor, at)
        if authorizer is not None:
            authorizer.check(actor, command.action, ticket, command)
        if ticket is None:
            opened = self._open(command, actor, at)  # type: ignore[arg-type]
            return opened.apply_to(None), (opened,)
        return self._handle(ticket, command, actor, at)

    def _check_call(
        self, ticket: Ticket | None, command: TicketCommand, actor: str, at: datetime
    ) -> None:
        """Raise unless the call itself is well formed (before any permission or rule)."""
        if not isinstance(at, datetime) or at.utcoffset() is None:
            to_us(at, "at")  # raises, naming the field
        if not isinstance(actor, str) or not actor.strip():
            raise InvalidValueError("actor", actor, "a non-empty principal name")
        if not isinstance(command, TicketCommand):
            raise InvalidValueError("command", command, "a ticket command such as Transition(...)")
        if ticket is None:
            if not isinstance(command, OpenTicket):
                raise InvalidValueError(
                    "ticket", None, "an existing ticket (only OpenTicket applies to None)"
                )
            return
        if not isinstance(ticket, Ticket):
            raise InvalidValueError("ticket", ticket, "a Ticket or None")
        if ticket.type != self.name:
            raise InvalidValueError(
                "ticket.type", ticket.type, f"{self.name!r}, the type this lifecycle serves"
            )
        if ticket.state not in self._triggers:
            raise InvalidValueError(
                "ticket.state", ticket.state, f"a state of lifecycle {self.name!r}"
            )
        last = ticket.updated_at
        tz = at.tzinfo
        if (
            type(at) is datetime
            and type(last) is datetime
            and last.tzinfo is tz
            and (type(tz) is timezone)
        ):
            earlier = at < last  # one fixed offset: comparing the fields is exact
        else:
            earlier = to_us(at, "at") < to_us(last, "ticket.updated_at")
        if earlier:
            raise InvalidValueError(
                "at", at, f"an instant at or after the ticket's last change {ticket.updated_at}"
            )

    def _handle(
        self, ticket: Ticket, command: TicketCommand, actor: str, at: datetime
    ) -> tuple[Ticket, Events]:
        """The reference path of a command on an existing ticket: its handler, then the fold."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise InvalidTransition(
                state=ticket.state,
                trigger=command.action,
                allowed=self._triggers[ticket.state],
                detail="a ticket is opened only once",
            )
        if ticket.state_category in FINAL_CATEGORIES and not (
            (isinstance(command, AddLink | RemoveLink) and command.reciprocal)
            # Surveys and call-backs follow the closure.
            or isinstance(command, RequestSurvey | AnswerSurvey | RecordCallback)
        ):
            raise InvalidTransition(
                state=ticket.state,
                trigger=command.action,
                allowed=(),
                detail="the ticket is final and accepts no command",
            )
        events = handler(ticket, command, actor, at)
        new = ticket
        for event in events:
            new = event.apply_to(new)
        return new, events

    # -- the hot path ---------------------------------------------------------

    def _fast_transition(
        self,
        ticket: Ticket,
        command: Transition,
        actor: str,
        at: datetime,
        by_trigger: dict[str, tuple[Step, ...]],
    ) -> tuple[Ticket, Events] | None:
        # _fast_fire written out for the commonest command (one call less per transition).
        trigger = command.trigger
        reason = command.reason
        resolution_code = command.resolution_code
        hold_reason = command.hold_reason
        if (
            ticket.state_category in FINAL_CATEGORIES
            or type(trigger) is not str
            or trigger in COMMAND_TRIGGERS
            or (steps := by_trigger.get(trigger)) is None
            or type(reason) is not str
            or (
                resolution_code is not None
                and (type(resolution_code) is not str or not resolution_code.strip())
            )
            or (
                hold_reason is not None
                and (type(hold_reason) is not str or not hold_reason.strip())
            )
        ):
            return None
        for chosen in steps:
            for check in chosen.checks:
                if not check(ticket, actor, hold_reason):
                    break
            else:
                break
        else:
            return None
        for name in chosen.requires_command:
            value = (
                reason
                if name == "reason"
                else resolution_code
                if name == "resolution_code"
                else hold_reason
            )
            if not _is_set(value):
                return None
        for name in chosen.requires_custom:
            if not _is_set(ticket.custom(name)):
                return None
        if trigger in _POLICY_TRIGGERS and (
            self._policy_failure(trigger, _Ctx(ticket, actor, at, hold_reason)) is not None
        ):
            return None
        dest = chosen.dest
        to_category = chosen.dest_category
        from_category = ticket.state_category
        hold = (chosen.hold_leaf or hold_reason or dest) if chosen.on_hold else None
        changed: StateChanged = _build_state_changed(
            ticket.id,
            actor,
            at,
            trigger,
            ticket.state,
            dest,
            from_category,
            to_category,
            hold,
            reason,
            resolution_code,
        )
        if to_category in _OUTCOME_CATEGORIES or from_category == "resolved":
            return changed.apply_to(ticket), (changed,)
        # The change writes only the state slots (what its fold would write, in one write).
        return write_move(ticket, dest, to_category, hold, at, ticket.version + 1), (changed,)

    def _fast_assign(
        self,
        ticket: Ticket,
        command: Assign,
        actor: str,
        at: datetime,
        by_trigger: dict[str, tuple[Step, ...]],
    ) -> tuple[Ticket, Events] | None:
        assignee, group, line = command.assignee, command.group, command.support_line
        if (
            ticket.state_category in FINAL_CATEGORIES
            or ticket.assignee is not None
            or type(assignee) is not str
            or not assignee.strip()
            or (group is not None and (type(group) is not str or not group.strip()))
            or (line is not None and (type(line) is not int or line < 1))
        ):
            return None
        steps = by_trigger.get("assign")
        changed = None
        if steps is not None:
            changed = self._fast_fire(ticket, "assign", steps, actor, at, "", None, None)
            if changed is None:
                return None
        event: Assigned = _build_assigned(ticket.id, actor, at, assignee, group, line)
        if changed is None:
            return event.apply_to(ticket), (event,)
        to_category = changed.to_category
        if to_category not in _OUTCOME_CATEGORIES and ticket.state_category != "resolved":
            # The state change writes only the state slots: both events in one write.
            new = write_assigned_move(
                ticket,
                assignee,
                group,
                line,
                changed.to_state,
                to_category,
                changed.hold_reason if to_category == "on_hold" else None,
                at,
                ticket.version + 2,
            )
            return new, (event, changed)
        return changed.apply_to(event.apply_to(ticket)), (event, changed)

    def _fast_fire(
        self,
        ticket: Ticket,
        trigger: str,
        steps: tuple[Step, ...],
        actor: str,
        at: datetime,
        reason: object,
        resolution_code: object,
        hold_reason: object,
    ) -> StateChanged | None:
        """The state change :meth:`_fire` would return, or ``None`` where it would raise."""
        if (
            type(reason) is not str
            or (
                resolution_code is not None
                and (type(resolution_code) is not str or not resolution_code.strip())
            )
            or (
                hold_reason is not None
                and (type(hold_reason) is not str or not hold_reason.strip())
            )
        ):
            return None
        chosen: Step | None = None
        for step in steps:
            for check in step.checks:
                if not check(ticket, actor, hold_reason):
                    break
            else:
                chosen = step
                break
        if chosen is None:
            return None
        for name in chosen.requires_command:
            value = (
                reason
                if name == "reason"
                else resolution_code
                if name == "resolution_code"
                else hold_reason
            )
            if not _is_set(value):
                return None
        for name in chosen.requires_custom:
            if not _is_set(ticket.custom(name)):
                return None
        if trigger in _POLICY_TRIGGERS and (
            self._policy_failure(trigger, _Ctx(ticket, actor, at, hold_reason)) is not None
        ):
            return None
        to = chosen.to
        dest = to.dest
        changed: StateChanged = _build_state_changed(
            ticket.id,
            actor,
            at,
            trigger,
            ticket.state,
            dest,
            ticket.state_category,
            to.dest_category,
            (chosen.hold_leaf or hold_reason or dest) if chosen.on_hold else None,
            reason,
            resolution_code,
        )
        return changed

    def _fast_open(self, command: OpenTicket, actor: str, at: datetime) -> TicketOpened | None:
        """The opening :meth:`_open` builds for a plain command (text fields, no custom
        fields, links or attachments), or ``None``: the reference then checks, and raises."""
        ticket_id = command.ticket_id
        title = command.title
        requester = command.requester
        description = command.description
        custom = command.custom_fields
        links = command.links
        attachments = command.attachments
        if (
            type(ticket_id) is not str
            or not ticket_id.strip()
            or command.type != self.name
            or type(title) is not str
            or not title.strip()
            or type(requester) is not str
            or not requester.strip()
            or type(description) is not str
            or type(custom) is not tuple
            or custom
            or type(links) is not tuple
            or links
            or type(attachments) is not tuple
            or attachments
        ):
            return None
        impact = command.impact
        urgency = command.urgency
        category = command.category
        service = command.service
        customer = command.customer
        channel = command.channel
        for value in (impact, urgency, category, service, customer, channel):
            if value is not None and (type(value) is not str or not value.strip()):
                return None
        # Every check before the derivation passed: it raises what the reference would.
        derived = self._derive(impact, urgency)
        state = self.definition.initial
        opened: TicketOpened = _build_ticket_opened(
            ticket_id,
            actor,
            at,
            self.name,
            state,
            self._categories[state],
            title,
            requester,
            description,
            impact,
            urgency,
            derived,
            derived,
            category,
            service,
            customer,
            (),
            (),
            channel,
            (),
        )
        return opened

    def open(
        self,
        command: OpenTicket,
        *,
        actor: str,
        at: datetime,
        authorizer: Authorizer | None = None,
    ) -> tuple[Ticket, Events]:
        """Open a ticket: ``apply(None, command, ...)``.

        >>> from datetime import datetime, timezone
        >>> from itsm_core.lifecycle import incident
        >>> t, _ = Lifecycle(incident()).open(
        ...     OpenTicket(ticket_id="INC-3", type="incident", title="t", requester="r"),
        ...     actor="r", at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> t.state, t.state_category
        ('new', 'new')
        """
        return self.apply(None, command, actor=actor, at=at, authorizer=authorizer)

    def replay(self, events: Iterable[Event]) -> Ticket:
        """The ticket the events describe, checked against this lifecycle.

        Replaying every event from the opening one gives exactly the live ticket.

        >>> from datetime import datetime, timezone
        >>> from itsm_core.lifecycle import incident
        >>> lc = Lifecycle(incident())
        >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> t, history = lc.open(OpenTicket(ticket_id="INC-4", type="incident", title="t",
        ...                                 requester="r"), actor="r", at=at)
        >>> lc.replay(history) == t
        True
        """
        return History(events, lifecycle=self).ticket

    def check_event(self, index: int, state: str | None, event: Event) -> None:
        """Raise unless ``event`` may follow a ticket of this lifecycle in ``state``.

        The opening must name this lifecycle and a state with its category; a
        state change must leave ``state`` by a transition of the table to its
        ``to_state`` (any candidate of its trigger). A
        :class:`~itsm_core.lifecycle.History` built with this lifecycle calls
        it for every event. The moves of the table are :attr:`moves`:

        >>> from itsm_core.lifecycle import incident
        >>> moves = Lifecycle(incident()).moves
        >>> ("assigned", "hold", "on_hold.awaiting_vendor", "on_hold") in moves
        True
        >>> ("assigned", "hold", "resolved", "resolved") in moves
        False
        """
        if isinstance(event, TicketOpened):
            if event.type != self.name:
                raise InvalidValueError(
                    f"events[{index}].type", event.type, f"{self.name!r} for this lifecycle"
                )
            if event.state not in self._triggers:
                raise InvalidValueError(
                    f"events[{index}].state", event.state, f"a state of lifecycle {self.name!r}"
                )
            if event.state_category != self.category_of(event.state):
                raise InvalidValueError(
                    f"events[{index}].state_category",
                    event.state_category,
                    f"{self.category_of(event.state)!r}, the category of {event.state!r}",
                )
        elif isinstance(event, StateChanged) and state is not None:
            if event.from_state == state and (
                (state, event.trigger, event.to_state, event.to_category) in self.moves
            ):
                return  # a move of the table: what the checks below accept, at once
            if event.from_state != state:
                raise InvalidValueError(
                    f"events[{index}].from_state",
                    event.from_state,
                    f"the ticket's state {state!r}",
                )
            candidates = self._table.get((state, event.trigger), ())
            if not any(c.dest == event.to_state for c in candidates):
                reachable = sorted({c.dest for c in candidates})
                raise InvalidValueError(
                    f"events[{index}].to_state",
                    event.to_state,
                    f"a state {event.trigger!r} leads to from {state!r} in lifecycle "
                    f"{self.name!r} ({', '.join(reachable) or 'none: no such transition'})",
                )
            if event.to_category != self.category_of(event.to_state):
                raise InvalidValueError(
                    f"events[{index}].to_category",
                    event.to_category,
                    f"{self.category_of(event.to_state)!r}, the category of {event.to_state!r}",
                )

    # -- what may happen -----------------------------------------------------

    def may(
        self,
        ticket: Ticket | None,
        command: TicketCommand,
        *,
        actor: str,
        at: datetime,
        authorizer: Authorizer | None = None,
    ) -> bool:
        """Whether :meth:`apply` would accept the command (nothing is changed either way).

        >>> from datetime import datetime, timezone
        >>> from itsm_core.lifecycle import incident
        >>> lc = Lifecycle(incident())
        >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> t, _ = lc.open(OpenTicket(ticket_id="I", type="incident", title="t", requester="r"),
        ...                actor="r", at=at)
        >>> lc.may(t, Transition(trigger="start"), actor="r", at=at)
        False
        """
        try:
            self.apply(ticket, command, actor=actor, at=at, authorizer=authorizer)
        except (InvalidTransition, InvalidValueError, PermissionDenied):
            return False
        return True

    def available_commands(
        self,
        ticket: Ticket,
        actor: str,
        *,
        at: datetime | None = None,
        authorizer: Authorizer | None = None,
    ) -> tuple[str, ...]:
        """The actions ``actor`` may take on ``ticket`` now, sorted.

        Transitions appear as ``transition:<trigger>`` when a candidate's guards
        and policies hold (a ``hold_reason`` guard counts as holding: the command
        chooses it); dedicated commands by their action (``assign``,
        ``comment.public``, ``merge``, ``approval.give``...). ``at`` defaults to
        the ticket's last change. With an ``authorizer``, actions it denies
        (``check`` called with ``command=None``) are left out.

        >>> from datetime import datetime, timezone
        >>> from itsm_core.lifecycle import incident
        >>> lc = Lifecycle(incident())
        >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> t, _ = lc.open(OpenTicket(ticket_id="I", type="incident", title="t", requester="r"),
        ...                actor="r", at=at)
        >>> [a for a in lc.available_commands(t, "dana") if a.startswith("transition:")]
        ['transition:cancel']
        """
        self.category_of(ticket.state)
        if ticket.is_final:
            return ()
        when = ticket.updated_at if at is None else at
        actions: set[str] = {
            "comment.internal",
            "comment.public",
            "link",
            "priority.classify",
            "priority.override",
            "split",
            "watch",
        }
        actions.update(f"update:{name}" for name in (*_BUILTIN_FIELDS, *self._fields))
        if ticket.links:
            actions.add("unlink")
        if ticket.watchers:
            actions.add("unwatch")
        if self.definition.policies.major_allowed:
            actions.add("priority.clear_major" if ticket.major else "priority.set_major")
        by_trigger = {
            "assign": "assign",
            "reassign": "reassign",
            "merge": "merge",
            "request_approval": "approval.request",
            "approve": "approval.give",
            "refuse": "approval.refuse",
        }
        actions.add("reassign" if ticket.assignee is not None else "assign")
        for trigger in self._triggers[ticket.state]:
            if trigger == "requester_reply":
                continue
            if not self._some_candidate_passes(ticket, trigger, actor, when):
                if trigger in ("assign", "reassign"):
                    actions.discard(trigger)
                continue
            if trigger in by_trigger:
                if trigger not in ("assign", "reassign"):
                    actions.add(by_trigger[trigger])
            else:
                actions.add(f"transition:{trigger}")
        if authorizer is not None:
            allowed: set[str] = set()
            for action in actions:
                try:
                    authorizer.check(actor, action, ticket, None)
                except PermissionDenied:
                    continue
                allowed.add(action)
            actions = allowed
        return tuple(sorted(actions))

    def _some_candidate_passes(
        self, ticket: Ticket, trigger: str, actor: str, at: datetime
    ) -> bool:
        for candidate in self._table[(ticket.state, trigger)]:
            reasons = [g for g in candidate.guards if g.kind == "hold_reason"]
            hold = reasons[0].values[0] if reasons else None
            ctx = _Ctx(ticket, actor, at, hold)
            if any(_guard_failure(g, ctx) for g in candidate.guards):
                continue
            if self._policy_failure(trigger, ctx) is None:
                return True
        return False

    def due_transitions(
        self,
        ticket: Ticket,
        now: datetime,
        calendar: BusinessCalendar | None = None,
    ) -> tuple[DueTransition, ...]:
        """The commands that time has made due by ``now`` (today: auto-close).

        Nothing happens by itself: the host asks, then applies the commands
        (as a system actor) through :meth:`apply`. ``calendar`` overrides the
        lifecycle's calendar for counting business days.

        >>> from datetime import datetime, timedelta, timezone
        >>> from itsm_core.lifecycle import incident
        >>> from itsm_core.ticket import Assign, Transition
        >>> lc = Lifecycle(incident())
        >>> at = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> t, _ = lc.open(OpenTicket(ticket_id="I", type="incident", title="t", requester="r"),
        ...                actor="r", at=at)
        >>> t, _ = lc.apply(t, Assign(assignee="d"), actor="d", at=at)
        >>> t, _ = lc.apply(t, Transition(trigger="resolve", resolution_code="fixed"),
        ...                 actor="d", at=at)
        >>> lc.due_transitions(t, at + timedelta(days=4))
        ()
        >>> [d.command.trigger for d in lc.due_transitions(t, at + timedelta(days=5))]
        ['auto_close']
        """
        to_us(now, "now")
        due_at = self.next_due_at(ticket, calendar)
        if due_at is None or now < due_at:
            return ()
        days = self.definition.policies.auto_close_after_days
        return (
            DueTransition(
                due_at=due_at,
                command=Transition(
                    trigger="auto_close",
                    reason=f"resolved for {days} business days without a reply",
                ),
            ),
        )

    def next_due_at(
        self, ticket: Ticket, calendar: BusinessCalendar | None = None
    ) -> datetime | None:
        """When the next timed transition (auto-close) becomes due, or ``None``.

        A host schedules one wake-up at this instant instead of polling.
        """
        days = self.definition.policies.auto_close_after_days
        if (
            days is None
            or ticket.major
            or ticket.resolved_at is None
            or (ticket.state, "auto_close") not in self._table
        ):
            return None
        return self._add_days(ticket.resolved_at, days, calendar)

    def reopen_deadline(
        self, ticket: Ticket, calendar: BusinessCalendar | None = None
    ) -> datetime | None:
        """The last instant a resolved ticket may be reopened (``None``: no limit or not resolved).

        After it, open a new ticket instead (see :func:`itsm_core.lifecycle.follow_up_ticket`).
        """
        days = self.definition.policies.reopen_window_days
        if days is None or ticket.resolved_at is None:
            return None
        return self._add_days(ticket.resolved_at, days, calendar)

    def _add_days(self, start: datetime, days: int, calendar: BusinessCalendar | None) -> datetime:
        cal = calendar if calendar is not None else self.calendar
        if cal is None:
            return start + timedelta(days=days)
        result: datetime = cal.add_business_days(start, days)
        return result

    # -- diagrams ------------------------------------------------------------

    def to_mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram, generated from the machine."""
        from itsm_core.lifecycle._diagrams import to_mermaid

        return to_mermaid(self)

    def to_dot(self) -> str:
        """The lifecycle as a Graphviz ``dot`` digraph, generated from the machine."""
        from itsm_core.lifecycle._diagrams import to_dot

        return to_dot(self)

    def to_markdown(self) -> str:
        """The lifecycle's states, transitions, fields and policies as Markdown tables."""
        from itsm_core.lifecycle._diagrams import to_markdown

        return to_markdown(self)

    # -- handlers ------------------------------------------------------------

    def _fire(
        self,
        ticket: Ticket,
        trigger: str,
        actor: str,
        at: datetime,
        *,
        reason: object = "",
        resolution_code: object = None,
        hold_reason: object = None,
    ) -> StateChanged:
        """The state change ``trigger`` makes, or raise; nothing is changed."""
        candidates = self._table.get((ticket.state, trigger))
        if not candidates:
            raise InvalidTransition(
                state=ticket.state, trigger=trigger, allowed=self._triggers[ticket.state]
            )
        reason = _text(reason, "command.reason", blank=True)
        resolution_code = _optional_text(resolution_code, "command.resolution_code")
        hold_reason = _optional_text(hold_reason, "command.hold_reason")
        ctx = _Ctx(ticket, actor, at, hold_reason)
        failures: list[str] = []
        chosen: CompiledTransition | None = None
        for candidate in candidates:
            if not candidate.guards:
                chosen = candidate
                break
            failed = [f for g in candidate.guards if (f := _guard_failure(g, ctx)) is not None]
            if not failed:
                chosen = candidate
                break
            failures.append(f"to {candidate.dest!r}: " + "; ".join(failed))
        if chosen is None:
            raise InvalidTransition(
                state=ticket.state,
                trigger=trigger,
                allowed=self._triggers[ticket.state],
                detail="no guard holds: " + " | ".join(failures),
            )
        values = {"reason": reason, "resolution_code": resolution_code, "hold_reason": hold_reason}
        for name in chosen.requires:
            if name in values:
                if not _is_set(values[name]):
                    raise InvalidValueError(
                        f"command.{name}",
                        values[name],
                        f"a non-empty {name.replace('_', ' ')}",
                        f"{trigger!r} from {ticket.state!r} requires it",
                    )
            elif not _is_set(ticket.custom(name)):
                raise InvalidValueError(
                    f"ticket.{name}",
                    ticket.custom(name),
                    "a value",
                    f"{trigger!r} from {ticket.state!r} requires custom field {name!r}; "
                    "set it with UpdateField first",
                )
        policy = self._policy_failure(trigger, ctx) if trigger in _POLICY_TRIGGERS else None
        if policy is not None:
            raise InvalidTransition(
                state=ticket.state,
                trigger=trigger,
                allowed=self._triggers[ticket.state],
                detail=policy,
            )
        dest = chosen.dest
        on_hold = chosen.dest_category == "on_hold"
        return StateChanged(
            ticket_id=ticket.id,
            actor=actor,
            at=at,
            trigger=trigger,
            from_state=ticket.state,
            to_state=dest,
            from_category=ticket.state_category,
            to_category=chosen.dest_category,
            hold_reason=(dest.rsplit(".", 1)[-1] if "." in dest else (hold_reason or dest))
            if on_hold
            else None,
            reason=reason,
            resolution_code=resolution_code,
        )

    def _policy_failure(self, trigger: str, ctx: _Ctx) -> str | None:
        policies = self.definition.policies
        ticket = ctx.ticket
        if trigger == "reopen":
            if not any(_relation_holds(r, ctx) for r in policies.reopen_by):
                return f"only the {' or '.join(policies.reopen_by)} may reopen"
            deadline = self.reopen_deadline(ticket)
            if deadline is not None and ctx.at > deadline:
                return (
                    f"the reopen window of {policies.reopen_window_days} business days closed "
                    f"at {deadline}; open a new ticket linked follow_up_of {ticket.id!r}"
                )
        elif trigger == "close":
            if policies.closure_confirmed_by_requester and ctx.actor != ticket.requester:
                return "closure is confirmed by the requester; others wait for auto-close"
        elif trigger == "auto_close":
            if policies.auto_close_after_days is None:
                return "auto-close is off for this lifecycle"
            if ticket.major:
                return "a major ticket is exempt from auto-close"
            due = self.next_due_at(ticket)
            if due is not None and ctx.at < due:
                return f"auto-close is due at {due}"
        return None

    def _open(self, command: OpenTicket, actor: str, at: datetime) -> TicketOpened:
        ticket_id = _text(command.ticket_id, "command.ticket_id")
        if command.type != self.name:
            raise InvalidValueError(
                "command.type", command.type, f"{self.name!r}, the type this lifecycle serves"
            )
        impact = _optional_text(command.impact, "command.impact")
        urgency = _optional_text(command.urgency, "command.urgency")
        derived = self._derive(impact, urgency)
        custom: dict[str, FieldValue] = {}
        if not isinstance(command.custom_fields, tuple):
            raise InvalidValueError(
                "command.custom_fields", command.custom_fields, "a tuple of (name, value) pairs"
            )
        for index, pair in enumerate(command.custom_fields):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise InvalidValueError(
                    f"command.custom_fields[{index}]", pair, "a (name, value) pair"
                )
            name, value = pair
            self._check_custom(name, value)
            if value is not None:
                custom[name] = value
        links = self._check_links(ticket_id, command.links)
        state = self.definition.initial
        # Every value is checked (tuples of records, no lists): the positional builder gives
        # the event the keyword constructor would, without its argument matching.
        opened: TicketOpened = _build_ticket_opened(
            ticket_id,
            actor,
            at,
            self.name,
            state,
            self._categories[state],
            _text(command.title, "command.title"),
            _text(command.requester, "command.requester"),
            _text(command.description, "command.description", blank=True),
            impact,
            urgency,
            derived,
            derived,
            _optional_text(command.category, "command.category"),
            _optional_text(command.service, "command.service"),
            _optional_text(command.customer, "command.customer"),
            tuple(sorted(custom.items())),
            links,
            _optional_text(command.channel, "command.channel"),
            _attachments(command.attachments),
        )
        return opened

    def _check_links(self, ticket_id: str, links: object) -> tuple[Link, ...]:
        if not isinstance(links, tuple):
            raise InvalidValueError("command.links", links, "a tuple of Link")
        seen: set[Link] = set()
        for index, link in enumerate(links):
            if not isinstance(link, Link) or link.kind not in LINK_KINDS:
                raise InvalidValueError(
                    f"command.links[{index}]", link, f"a Link of kind {', '.join(LINK_KINDS)}"
                )
            _text(link.ticket_id, f"command.links[{index}].ticket_id")
            if link.ticket_id == ticket_id or link in seen:
                raise InvalidValueError(
                    f"command.links[{index}]", link, "a link to another ticket, once"
                )
            seen.add(link)
        return links

    def _check_custom(self, name: object, value: object) -> FieldDef:
        spec = self._fields.get(name) if isinstance(name, str) else None
        if spec is None:
            known = ", ".join(self._fields) or "none declared"
            raise InvalidValueError("custom_fields", name, f"a declared custom field ({known})")
        if value is not None:
            if not value_has_type(value, spec.type):
                raise InvalidValueError(f"custom_fields.{name}", value, f"a {spec.type}")
            if spec.choices and value not in spec.choices:
                raise InvalidValueError(
                    f"custom_fields.{name}",
                    value,
                    f"one of {', '.join(map(repr, spec.choices))}",
                )
        return spec

    def _derive(self, impact: str | None, urgency: str | None) -> str | None:
        if impact is None or urgency is None:
            for field, name in (("impact", impact), ("urgency", urgency)):
                if name is not None:
                    enabled = self.matrix.enabled(field)
                    if name not in enabled:
                        raise InvalidValueError(field, name, f"one of {', '.join(enabled)}")
            return None
        return self.matrix.derive(impact, urgency).name

    def _effective(self, derived: str | None, override: str | None, major: bool) -> str | None:
        if derived is None:
            return MAJOR.name if major else override
        return effective_priority(
            self.matrix.priority(derived),
            self.matrix.priority(override) if override is not None else None,
            major,
        ).name

    def _on_transition(
        self, ticket: Ticket, command: Transition, actor: str, at: datetime
    ) -> Events:
        trigger = _text(command.trigger, "command.trigger")
        if trigger in COMMAND_TRIGGERS:
            raise InvalidTransition(
                state=ticket.state,
                trigger=trigger,
                allowed=self._triggers[ticket.state],
                detail=f"{trigger!r} is fired by {COMMAND_TRIGGERS[trigger]}, not by Transition",
            )
        return (
            self._fire(
                ticket,
                trigger,
                actor,
                at,
                reason=command.reason,
                resolution_code=command.resolution_code,
                hold_reason=command.hold_reason,
            ),
        )

    def _assignment(self, command: Assign | Reassign) -> tuple[str, str | None, int | None]:
        assignee = _text(command.assignee, "command.assignee")
        group = _optional_text(command.group, "command.group")
        line = command.support_line
        if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
            raise InvalidValueError("command.support_line", line, "a support line number >= 1")
        return assignee, group, line

    def _maybe_fire(
        self, ticket: Ticket, trigger: str, actor: str, at: datetime, reason: str = ""
    ) -> Events:
        if (ticket.state, trigger) not in self._table:
            return ()
        return (self._fire(ticket, trigger, actor, at, reason=reason),)

    def _on_assign(self, ticket: Ticket, command: Assign, actor: str, at: datetime) -> Events:
        assignee, group, line = self._assignment(command)
        if ticket.assignee is not None:
            raise InvalidTransition(
                state=ticket.state,
                trigger="assign",
                allowed=self._triggers[ticket.state],
                detail=f"already assigned to {ticket.assignee!r}; use Reassign",
            )
        fired = self._maybe_fire(ticket, "assign", actor, at)
        event = Assigned(
            ticket_id=ticket.id,
            actor=actor,
            at=at,
            assignee=assignee,
            group=group,
            support_line=line,
        )
        return (event, *fired)

    def _on_reassign(self, ticket: Ticket, command: Reassign, actor: str, at: datetime) -> Events:
        assignee, group, line = self._assignment(command)
        reason = _text(command.reason, "command.reason", blank=True)
        if ticket.assignee is None:
            raise InvalidTransition(
                state=ticket.state,
                trigger="reassign",
                allowed=self._triggers[ticket.state],
                detail="the ticket is not assigned yet; use Assign",
            )
        if (assignee, group, line) == (ticket.assignee, ticket.group, ticket.support_line):
            raise InvalidValueError(
                "command.assignee", assignee, "another assignee, group or support line"
            )
        fired = self._maybe_fire(ticket, "reassign", actor, at, reason)
        event = Reassigned(
            ticket_id=ticket.id,
            actor=actor,
            at=at,
            assignee=assignee,
            group=group,
            support_line=line,
            from_assignee=ticket.assignee,
            from_group=ticket.group,
            from_support_line=ticket.support_line,
            reason=reason,
        )
        return (event, *fired)

    def _on_comment(self, ticket: Ticket, command: AddComment, actor: str, at: datetime) -> Events:
        body = _text(command.body, "command.body")
        if not isinstance(command.public, bool):
            raise InvalidValueError("command.public", command.public, "True or False")
        by_requester = actor == ticket.requester
        event = CommentAdded(
            ticket_id=ticket.id,
            actor=actor,
            at=at,
            body=body,
            public=command.public,
            by_requester=by_requester,
            attachments=_attachments(command.attachments),
        )
        if (
            by_requester
            and command.public
            and self.definition.policies.requester_reply_resumes
            and (ticket.state, "requester_reply") in self._table
            and self._some_candidate_passes(ticket, "requester_reply", actor, at)
        ):
            try:
                resumed = self._fire(
                    ticket, "requester_reply", actor, at, reason="the requester replied"
                )
            except (InvalidTransition, InvalidValueError):
                return (event,)  # the reply transition needs more than a reply
            return (event, resumed)
        return (event,)

    def _priority_event(
        self,
        ticket: Ticket,
        actor: str,
        at: datetime,
        reason: str,
        *,
        impact: str | None,
        urgency: str | None,
        override: str | None,
        major: bool,
    ) -> PriorityChanged:
        derived = self._derive(impact, urgency)
        return PriorityChanged(
            ticket_id=ticket.id,
            actor=actor,
            at=at,
            impact=impact,
            urgency=urgency,
            derived=derived,
            override=override,
            effective=self._effective(derived, override, major),
            reason=reason,
        )

    def _on_classify(self, ticket: Ticket, command: Classify, actor: str, at: datetime) -> Events:
        impact = _optional_text(command.impact, "command.impact")
        urgency = _optional_text(command.urgency, "command.urgency")
        reason = _text(command.reason, "command.reason", blank=True)
        if impact is None and urgency is None:
            raise InvalidValueError("command", command, "an impact, an urgency or both")
        return (
            self._priority_event(
                ticket,
                actor,
                at,
                reason,
                impact=impact if impact is not None else ticket.impact,
                urgency=urgency if urgency is not None else ticket.urgency,
                override=ticket.priority_override,
                major=ticket.major,
            ),
        )

    def _on_override(
        self, ticket: Ticket, command: OverridePriority, actor: str, at: datetime
    ) -> Events:
        reason = _text(command.reason, "command.reason")
        override = command.priority
        if override is None:
            if ticket.priority_override is None:
                raise InvalidValueError(
                    "command.priority", None, "a priority (there is no override to remove)"
                )
        else:
            level = self.matrix.priority(_text(override, "command.priority"))
            effective_priority(level, level, False)
        return (
            self._priority_event(
                ticket,
                actor,
                at,
                reason,
                impact=ticket.impact,
                urgency=ticket.urgency,
                override=override,
                major=ticket.major,
            ),
        )

    def _on_set_major(self, ticket: Ticket, command: SetMajor, actor: str, at: datetime) -> Events:
        reason = _text(command.reason, "command.reason")
        if not self.definition.policies.major_allowed or ticket.major:
            raise InvalidTransition(
                state=ticket.state,
                trigger="priority.set_major",
                allowed=self._triggers[ticket.state],
                detail="the ticket is already major"
                if ticket.major
                else f"tickets of type {self.name!r} cannot be major",
            )
        return (
            MajorSet(ticket_id=ticket.id, actor=actor, at=at, reason=reason),
            self._priority_event(
                ticket,
                actor,
                at,
                reason,
                impact=ticket.impact,
                urgency=ticket.urgency,
                override=ticket.priority_override,
                major=True,
            ),
        )

    def _on_set_due_date(
        self, ticket: Ticket, command: SetDueDate, actor: str, at: datetime
    ) -> Events:
        metric = _text(command.metric, "command.metric")
        reason = _text(command.reason, "command.reason")
        if command.due is not None:
            to_us(command.due, "command.due")
        return (
            DueDateSet(
                ticket_id=ticket.id,
                actor=actor,
                at=at,
                metric=metric,
                due=command.due,
                reason=reason,
            ),
        )

    def _on_clear_major(
        self, ticket: Ticket, command: ClearMajor, actor: str, at: datetime
    ) -> Events:
        reason = _text(command.reason, "command.reason")
        if not ticket.major:
            raise InvalidTransition(
                state=ticket.state,
                trigger="priority.clear_major",
                allowed=self._triggers[ticket.state],
                detail="the ticket is not major",
            )
        return (
            MajorCleared(ticket_id=ticket.id, actor=actor, at=at, reason=reason),
            self._priority_event(
                ticket,
                actor,
                at,
                reason,
                impact=ticket.impact,
                urgency=ticket.urgency,
                override=ticket.priority_override,
                major=False,
            ),
        )

    def _on_update(self, ticket: Ticket, command: UpdateField, actor: str, at: datetime) -> Events:
        name = command.field
        value = command.value
        if isinstance(name, str) and name in _BUILTIN_FIELDS:
            optional = _BUILTIN_FIELDS[name]
            if optional:
                value = _optional_text(value, f"command.value ({name})")
            else:
                value = _text(value, f"command.value ({name})", blank=name == "description")
            old: FieldValue | None = getattr(ticket, name)
            custom = False
        elif isinstance(name, str) and name in self._fields:
            self._check_custom(name, value)
            old = ticket.custom(name)
            custom = True
        else:
            fields = ", ".join((*_BUILTIN_FIELDS, *self._fields))
            raise InvalidValueError("command.field", name, f"one of {fields}")
        if old == value and type(old) is type(value):
            return ()
        return (
            FieldChanged(
                ticket_id=ticket.id,
                actor=actor,
                at=at,
                field=name,
                old=old,
                new=value,
                custom=custom,
            ),
        )

    def _link_args(self, ticket: Ticket, command: AddLink | RemoveLink) -> tuple[str, str, bool]:
        if not isinstance(command.reciprocal, bool):
            raise InvalidValueError("command.reciprocal", command.reciprocal, "True or False")
        kinds = LINK_KINDS if command.reciprocal else USER_LINK_KINDS
        if command.kind not in kinds:
            raise InvalidValueError("command.kind", command.kind, f"one of {', '.join(kinds)}")
        target = _text(command.target, "command.target")
        if target == ticket.id:
            raise InvalidValueError("command.target", target, "another ticket than itself")
        return command.kind, target, command.reciprocal

    def _on_add_link(self, ticket: Ticket, command: AddLink, actor: str, at: datetime) -> Events:
        kind, target, reciprocal = self._link_args(ticket, command)
        link = Link(kind=kind, ticket_id=target)
        if link in ticket.links:
            if reciprocal:
                return ()
            raise InvalidValueError("command.target", target, f"a ticket not already {kind}")
        if not reciprocal:
            for single in ("parent", "duplicate_of"):
                if kind == single and ticket.link_targets(single):
                    raise InvalidValueError(
                        "command.kind",
                        kind,
                        f"another kind: the ticket already has a {single} "
                        f"({ticket.link_targets(single)[0]!r})",
                    )
            if any(lk.ticket_id == target and lk.kind != "related" for lk in ticket.links) and (
                kind != "related"
            ):
                raise InvalidValueError(
                    "command.target", target, "a ticket not already linked in another way"
                )
        return (
            Linked(
                ticket_id=ticket.id,
                actor=actor,
                at=at,
                kind=kind,
                target=target,
                reciprocal=reciprocal,
            ),
        )

    def _on_remove_link(
        self, ticket: Ticket, command: RemoveLink, actor: str, at: datetime
    ) -> Events:
        kind, target, reciprocal = self._link_args(ticket, command)
        if Link(kind=kind, ticket_id=target) not in ticket.links:
            if reciprocal:
                return ()
            raise InvalidValueError("command.target", target, f"a ticket linked as {kind}")
        return (
            Unlinked(
                ticket_id=ticket.id,
                actor=actor,
                at=at,
                kind=kind,
                target=target,
                reciprocal=reciprocal,
            ),
        )

    def _on_change_requester(
        self, ticket: Ticket, command: ChangeRequester, actor: str, at: datetime
    ) -> Events:
        requester = _text(command.requester, "command.requester")
        reason = _text(command.reason, "command.reason")
        if requester == ticket.requester:
            raise InvalidValueError(
                "command.requester", requester, f"someone other than {ticket.requester!r}"
            )
        event = RequesterChanged(
            ticket_id=ticket.id,
            actor=actor,
            at=at,
            requester=requester,
            from_requester=ticket.requester,
            reason=reason,
        )
        return (event,)

    def _on_link_article(
        self, ticket: Ticket, command: LinkArticle, actor: str, at: datetime
    ) -> Events:
        article_id = _text(command.article_id, "command.article_id")
        title = _text(command.title, "command.title", blank=True)
        if not isinstance(command.solved, bool):
            raise InvalidValueError("command.solved", command.solved, "True or False")
        known = {a.article_id for a in ticket.articles}
        if article_id in known and (not command.solved or ticket.solved_with_article):
            return ()
        article = ArticleLink(article_id=article_id, title=title)
        return (
            ArticleLinked(
                ticket_id=ticket.id, actor=actor, at=at, article=article, solved=command.solved
            ),
        )

    def _on_watch(self, ticket: Ticket, command: Watch, actor: str, at: datetime) -> Events:
        watcher = _text(command.watcher, "command.watcher")
        if watcher in ticket.watchers:
            return ()
        return (Watched(ticket_id=ticket.id, actor=actor, at=at, watcher=watcher),)

    def _on_unwatch(self, ticket: Ticket, command: Unwatch, actor: str, at: datetime) -> Events:
        watcher = _text(command.watcher, "command.watcher")
        if watcher not in ticket.watchers:
            return ()
        return (Unwatched(ticket_id=ticket.id, actor=actor, at=at, watcher=watcher),)

    def _on_merge(self, ticket: Ticket, command: Merge, actor: str, at: datetime) -> Events:
        into = command.into
        if not isinstance(into, Ticket):
            raise InvalidValueError("command.into", into, "the Ticket to merge into")
        if into.id == ticket.id:
            raise InvalidValueError(
                "command.into", into.id, "another ticket (a ticket cannot be merged into itself)"
            )
        if into.link_targets("merged_into") or into.is_final:
            raise InvalidValueError(
                "command.into",
                into.id,
                "a ticket that is neither merged nor final",
                f"{into.id!r} is {into.state!r}",
            )
        reason = _text(command.reason, "command.reason", blank=True)
        changed = self._fire(ticket, "merge", actor, at, reason=reason or f"merged into {into.id}")
        return (Merged(ticket_id=ticket.id, actor=actor, at=at, into=into.id), changed)

    def _on_split(self, ticket: Ticket, command: Split, actor: str, at: datetime) -> Events:
        new_id = _text(command.new_ticket_id, "command.new_ticket_id")
        if new_id == ticket.id or Link(kind="split_into", ticket_id=new_id) in ticket.links:
            raise InvalidValueError("command.new_ticket_id", new_id, "a new ticket id")
        return (
            TicketSplit(
                ticket_id=ticket.id,
                actor=actor,
                at=at,
                new_ticket_id=new_id,
                title=_text(command.title, "command.title"),
                description=_text(command.description, "command.description", blank=True),
            ),
        )

    def _check_approver(self, ticket: Ticket, actor: str, action: str) -> None:
        if ticket.approvers and actor not in ticket.approvers:
            raise PermissionDenied(
                principal=actor,
                action=action,
                reasons=(f"not among the requested approvers: {', '.join(ticket.approvers)}",),
            )

    def _on_request_approval(
        self, ticket: Ticket, command: RequestApproval, actor: str, at: datetime
    ) -> Events:
        approvers = command.approvers
        if not isinstance(approvers, tuple):
            raise InvalidValueError("command.approvers", approvers, "a tuple of principal names")
        for index, name in enumerate(approvers):
            _text(name, f"command.approvers[{index}]")
        reason = _text(command.reason, "command.reason", blank=True)
        changed = self._fire(ticket, "request_approval", actor, at, reason=reason)
        requested = ApprovalRequested(
            ticket_id=ticket.id, actor=actor, at=at, approvers=approvers, reason=reason
        )
        return (requested, changed)

    def _on_approve(self, ticket: Ticket, command: Approve, actor: str, at: datetime) -> Events:
        comment = _text(command.comment, "command.comment", blank=True)
        changed = self._fire(ticket, "approve", actor, at, reason=comment)
        self._check_approver(ticket, actor, command.action)
        return (ApprovalGiven(ticket_id=ticket.id, actor=actor, at=at, comment=comment), changed)

    def _on_refuse(self, ticket: Ticket, command: Refuse, actor: str, at: datetime) -> Events:
        reason = _text(command.reason, "command.reason")
        changed = self._fire(ticket, "refuse", actor, at, reason=reason)
        self._check_approver(ticket, actor, command.action)
        return (ApprovalRefused(ticket_id=ticket.id, actor=actor, at=at, reason=reason), changed)

    def _on_request_survey(
        self, ticket: Ticket, command: RequestSurvey, actor: str, at: datetime
    ) -> Events:
        survey = _text(command.survey, "command.survey", blank=True)
        return (SurveyRequested(ticket_id=ticket.id, actor=actor, at=at, survey=survey),)

    def _on_answer_survey(
        self, ticket: Ticket, command: AnswerSurvey, actor: str, at: datetime
    ) -> Events:
        survey = _text(command.survey, "command.survey", blank=True)
        rating = command.rating
        if not isinstance(rating, int) or isinstance(rating, bool):
            raise InvalidValueError("command.rating", rating, "an integer point of the scale")
        comment = _text(command.comment, "command.comment", blank=True)
        answered = SurveyAnswered(
            ticket_id=ticket.id, actor=actor, at=at, survey=survey, rating=rating, comment=comment
        )
        return (answered,)

    def _on_record_callback(
        self, ticket: Ticket, command: RecordCallback, actor: str, at: datetime
    ) -> Events:
        if not isinstance(command.reached, bool):
            raise InvalidValueError("command.reached", command.reached, "True or False")
        if command.confirmed is not None and not isinstance(command.confirmed, bool):
            raise InvalidValueError("command.confirmed", command.confirmed, "True, False or None")
        comment = _text(command.comment, "command.comment", blank=True)
        recorded = CallbackRecorded(
            ticket_id=ticket.id,
            actor=actor,
            at=at,
            reached=command.reached,
            confirmed=command.confirmed,
            comment=comment,
        )
        return (recorded,)


class Lifecycles(Mapping[str, Lifecycle]):
    """The lifecycles of a desk by ticket type; :meth:`apply` dispatches on the type.

    >>> from itsm_core.lifecycle import default_lifecycles
    >>> desk = default_lifecycles()
    >>> sorted(desk)[:3]
    ['documentation_request', 'emergency_change', 'incident']
    """

    __slots__ = ("_by_type",)

    def __init__(self, lifecycles: Iterable[Lifecycle]) -> None:
        by_type: dict[str, Lifecycle] = {}
        for lifecycle in lifecycles:
            if lifecycle.name in by_type:
                raise InvalidValueError(
                    "lifecycles", lifecycle.name, "one lifecycle per ticket type"
                )
            by_type[lifecycle.name] = lifecycle
        self._by_type = by_type

    def __getitem__(self, ticket_type: str) -> Lifecycle:
        try:
            return self._by_type[ticket_type]
        except (KeyError, TypeError):  # TypeError: unhashable, so no ticket type
            raise InvalidValueError(
                "type", ticket_type, f"a ticket type: {', '.join(sorted(self._by_type))}"
            ) from None

    def __contains__(self, ticket_type: object) -> bool:
        return ticket_type in self._by_type

    def get(self, ticket_type: str, default: Any = None) -> Any:
        """The lifecycle of ``ticket_type``, or ``default`` when the desk has none."""
        return self._by_type.get(ticket_type, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_type)

    def __len__(self) -> int:
        return len(self._by_type)

    def for_ticket(self, ticket: Ticket | None, command: TicketCommand) -> Lifecycle:
        """The lifecycle serving ``ticket`` (or the type an ``OpenTicket`` names)."""
        if ticket is None:
            if not isinstance(command, OpenTicket):
                raise InvalidValueError(
                    "ticket", None, "an existing ticket (only OpenTicket applies to None)"
                )
            return self[command.type]
        if not isinstance(ticket, Ticket):
            raise InvalidValueError("ticket", ticket, "a Ticket, or None with an OpenTicket")
        return self[ticket.type]

    def apply(
        self,
        ticket: Ticket | None,
        command: TicketCommand,
        *,
        actor: str,
        at: datetime,
        authorizer: Authorizer | None = None,
    ) -> tuple[Ticket, Events]:
        """:meth:`Lifecycle.apply` with the lifecycle of the ticket's type."""
        lifecycle = self.for_ticket(ticket, command)
        return lifecycle.apply(ticket, command, actor=actor, at=at, authorizer=authorizer)

    def replay(self, events: Sequence[Event]) -> Ticket:
        """:meth:`Lifecycle.replay` with the lifecycle the opening event names."""
        if not events or not isinstance(events[0], TicketOpened):
            raise InvalidValueError("events[0]", events[:1], "a TicketOpened event")
        return self[events[0].type].replay(events)


def replay(lifecycle: Lifecycle, events: Iterable[Event]) -> Ticket:
    """The ticket ``events`` describe under ``lifecycle`` (same as ``lifecycle.replay(events)``).

    >>> from itsm_core.lifecycle import incident
    >>> replay(Lifecycle(incident()), [])
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: events: expected at least one event, got []
    """
    return lifecycle.replay(events)
