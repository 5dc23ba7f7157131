"""Escalation rules as data: a trigger, conditions, and ordered levels of actions."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import timedelta

import attrs

from itsm_core._time import US_PER_DAY, td_to_us
from itsm_core.errors import InvalidValueError, named_field_errors
from itsm_core.sla import BusinessDays
from itsm_core.ticket import CATEGORIES, Ticket

__all__ = [
    "REASSIGN_TARGETS",
    "ROLES",
    "Action",
    "ActionKind",
    "EscalationConditions",
    "EscalationLevel",
    "EscalationRule",
    "Trigger",
    "TriggerKind",
]

#: The roles a notification or a watcher may name, resolved against the ticket and the
#: support structure: the requester, the assignee, the members of the ticket's group, its
#: supervisor, its manager, and the people watching the ticket.
ROLES: tuple[str, ...] = ("requester", "assignee", "group", "supervisor", "manager", "watchers")
#: Where a reassign action may send the ticket.
REASSIGN_TARGETS: tuple[str, ...] = ("next_line", "group", "supervisor")


def _names(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _ints(value: Iterable[int] | int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,)
    return tuple(value)


def _check_names(field: str, values: tuple[object, ...]) -> None:
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise InvalidValueError(f"{field}[{i}]", value, "a non-empty name")


class TriggerKind(enum.StrEnum):
    """What starts the clock of a rule and what its levels measure.

    * ``sla_percent``: an SLA metric's business time reaching a percentage of
      its target (ServiceNow's 50/75/100%, Znuny's warning); levels set
      ``percent``. One clock per SLA cycle.
    * ``sla_due``: a business offset before (negative) or after the metric's
      due instant (GLPI's escalation levels); levels set ``offset``.
    * ``no_reply``: the requester waiting for a public agent reply; the wait
      starts at opening, at a public requester message or at a reopening, and
      ends at a public agent reply or when the ticket is resolved (it keeps
      counting while the ticket is on hold); levels set ``after``.
    * ``time_in_state``: time spent in matching states; a new visit is a new
      clock; levels set ``after``.
    * ``request``: an explicit :class:`~itsm_core.escalation.EscalationRequested`
      event ("the customer asks for a manager"); each request is a clock;
      levels set ``after`` (zero: at once).
    * ``reassignments``: the ticket reassigned more than ``count`` times (the
      ping-pong rule); levels set ``count``.

    >>> TriggerKind("no_reply") is TriggerKind.NO_REPLY
    True
    """

    SLA_PERCENT = "sla_percent"
    SLA_DUE = "sla_due"
    NO_REPLY = "no_reply"
    TIME_IN_STATE = "time_in_state"
    REQUEST = "request"
    REASSIGNMENTS = "reassignments"


#: Which level field measures each trigger kind.
THRESHOLD_FIELD: dict[TriggerKind, str] = {
    TriggerKind.SLA_PERCENT: "percent",
    TriggerKind.SLA_DUE: "offset",
    TriggerKind.NO_REPLY: "after",
    TriggerKind.TIME_IN_STATE: "after",
    TriggerKind.REQUEST: "after",
    TriggerKind.REASSIGNMENTS: "count",
}


@named_field_errors
@attrs.frozen(kw_only=True)
class Trigger:
    """The clock a rule watches; build one with the class methods.

    ``metric`` names the SLA metric of the ``sla_*`` kinds, in the policy
    named ``policy`` when several are evaluated (an SLA and an OLA may both
    measure ``resolution``; default: the first policy that has the metric).
    ``states``, ``categories`` and ``hold_reasons`` choose the states of
    ``time_in_state`` (any that is set must match); ``requests`` the request
    kinds of ``request`` (empty: any); ``bounces_only`` counts, for
    ``reassignments``, only the moves back to a group (or person, without
    groups) that held the ticket before. ``business`` counts the durations of
    ``no_reply``, ``time_in_state`` and ``request`` in business time (the
    SLA policy's calendar, or the calendar given at evaluation) rather than
    wall-clock time.

    >>> Trigger.sla_percent("resolution").kind
    <TriggerKind.SLA_PERCENT: 'sla_percent'>
    >>> Trigger(kind="sla_due")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: trigger.metric: expected the name of an SLA metric, got None
    """

    kind: TriggerKind = attrs.field(converter=TriggerKind)
    metric: str | None = None
    policy: str | None = None
    states: tuple[str, ...] = attrs.field(default=(), converter=_names)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_names)
    hold_reasons: tuple[str, ...] = attrs.field(default=(), converter=_names)
    requests: tuple[str, ...] = attrs.field(default=(), converter=_names)
    bounces_only: bool = False
    business: bool = True

    def __attrs_post_init__(self) -> None:
        sla = self.kind in (TriggerKind.SLA_PERCENT, TriggerKind.SLA_DUE)
        if sla and (not isinstance(self.metric, str) or not self.metric.strip()):
            raise InvalidValueError("trigger.metric", self.metric, "the name of an SLA metric")
        if self.policy is not None and (
            not sla or not isinstance(self.policy, str) or not self.policy.strip()
        ):
            raise InvalidValueError(
                "trigger.policy", self.policy, "a policy name, for SLA triggers only"
            )
        if not sla and self.metric is not None:
            raise InvalidValueError(
                "trigger.metric", self.metric, f"None (a {self.kind} trigger reads no SLA metric)"
            )
        for field in ("states", "hold_reasons", "requests"):
            _check_names(f"trigger.{field}", getattr(self, field))
        for i, category in enumerate(self.categories):
            if category not in CATEGORIES:
                raise InvalidValueError(
                    f"trigger.categories[{i}]", category, f"one of {', '.join(CATEGORIES)}"
                )
        if self.kind is TriggerKind.TIME_IN_STATE and not (
            self.states or self.categories or self.hold_reasons
        ):
            raise InvalidValueError(
                "trigger.states", self.states, "states, categories or hold reasons to watch"
            )
        if not isinstance(self.bounces_only, bool):
            raise InvalidValueError("trigger.bounces_only", self.bounces_only, "True or False")
        if not isinstance(self.business, bool):
            raise InvalidValueError("trigger.business", self.business, "True or False")

    @classmethod
    def sla_percent(cls, metric: str, *, policy: str | None = None) -> Trigger:
        """Levels at percentages of ``metric``'s target.

        >>> Trigger.sla_percent("first_response").metric
        'first_response'
        """
        return cls(kind=TriggerKind.SLA_PERCENT, metric=metric, policy=policy)

    @classmethod
    def sla_due(cls, metric: str, *, policy: str | None = None) -> Trigger:
        """Levels at business offsets from ``metric``'s due instant (negative: before).

        >>> Trigger.sla_due("resolution", policy="network OLA").policy
        'network OLA'
        """
        return cls(kind=TriggerKind.SLA_DUE, metric=metric, policy=policy)

    @classmethod
    def no_reply(cls, *, business: bool = True) -> Trigger:
        """Levels after the requester has waited so long for a public agent reply.

        >>> Trigger.no_reply().business
        True
        """
        return cls(kind=TriggerKind.NO_REPLY, business=business)

    @classmethod
    def time_in_state(
        cls,
        *,
        states: Iterable[str] | str = (),
        categories: Iterable[str] | str = (),
        hold_reasons: Iterable[str] | str = (),
        business: bool = True,
    ) -> Trigger:
        """Levels after so long in the matching states.

        >>> Trigger.time_in_state(categories="new").categories
        ('new',)
        """
        return cls(
            kind=TriggerKind.TIME_IN_STATE,
            states=_names(states),
            categories=_names(categories),
            hold_reasons=_names(hold_reasons),
            business=business,
        )

    @classmethod
    def request(cls, *kinds: str, business: bool = True) -> Trigger:
        """Levels after an explicit escalation request of one of ``kinds`` (none: any).

        >>> Trigger.request("manager").requests
        ('manager',)
        """
        return cls(kind=TriggerKind.REQUEST, requests=kinds, business=business)

    @classmethod
    def reassignments(cls, *, bounces_only: bool = False) -> Trigger:
        """Levels when the ticket has been reassigned more than ``count`` times.

        >>> Trigger.reassignments(bounces_only=True).bounces_only
        True
        """
        return cls(kind=TriggerKind.REASSIGNMENTS, bounces_only=bounces_only)

    def watches(self, state: str, category: str, hold_reason: str | None) -> bool:
        """Whether a ticket in this state counts for ``time_in_state``."""
        return (
            (not self.states or state in self.states)
            and (not self.categories or category in self.categories)
            and (not self.hold_reasons or hold_reason in self.hold_reasons)
        )


class ActionKind(enum.StrEnum):
    """What an escalation level does.

    >>> [k.value for k in ActionKind]
    ['notify', 'reassign', 'raise_priority', 'add_watcher', 'flag_major_candidate']
    """

    NOTIFY = "notify"
    REASSIGN = "reassign"
    RAISE_PRIORITY = "raise_priority"
    ADD_WATCHER = "add_watcher"
    FLAG_MAJOR_CANDIDATE = "flag_major_candidate"


@named_field_errors
@attrs.frozen(kw_only=True)
class Action:
    """One thing a level does, as data; build one with the class methods.

    * ``notify``: ``roles`` (see :data:`ROLES`), ``groups`` (their members) and
      ``people``; ``message`` is the text or template key the host sends.
    * ``reassign``: ``to`` one of :data:`REASSIGN_TARGETS`: the next support
      line (``skill`` narrows it), the named ``group``, or the supervisor of
      the ticket's group.
    * ``raise_priority``: ``by`` levels (a level is one step of the matrix's
      priorities), or ``to`` the named ``priority``; never lowers it.
    * ``add_watcher``: ``roles`` and ``people`` start watching the ticket
      (through the lifecycle's ``Watch`` command).
    * ``flag_major_candidate``: mark the ticket for the major-incident manager.

    >>> Action.notify(roles=("supervisor",), message="sla-warning").roles
    ('supervisor',)
    >>> Action(kind="reassign", to="somewhere")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: action.to: expected one of next_line, group, \
supervisor, got 'somewhere'
    """

    kind: ActionKind = attrs.field(converter=ActionKind)
    roles: tuple[str, ...] = attrs.field(default=(), converter=_names)
    groups: tuple[str, ...] = attrs.field(default=(), converter=_names)
    people: tuple[str, ...] = attrs.field(default=(), converter=_names)
    to: str | None = None
    group: str | None = None
    skill: str | None = None
    by: int | None = None
    priority: str | None = None
    message: str = ""

    def __attrs_post_init__(self) -> None:
        kind = self.kind
        for i, role in enumerate(self.roles):
            if role not in ROLES:
                raise InvalidValueError(f"action.roles[{i}]", role, f"one of {', '.join(ROLES)}")
        _check_names("action.groups", self.groups)
        _check_names("action.people", self.people)
        if kind is ActionKind.NOTIFY and not (self.roles or self.groups or self.people):
            raise InvalidValueError("action.roles", self.roles, "roles, groups or people to notify")
        if kind is ActionKind.ADD_WATCHER and not (self.roles or self.people):
            raise InvalidValueError("action.people", self.people, "roles or people to add")
        if kind is ActionKind.REASSIGN:
            if self.to not in REASSIGN_TARGETS:
                raise InvalidValueError(
                    "action.to", self.to, f"one of {', '.join(REASSIGN_TARGETS)}"
                )
            if (self.to == "group") != (self.group is not None):
                raise InvalidValueError(
                    "action.group", self.group, "a group name exactly when to='group'"
                )
            if self.group is not None:
                _check_names("action.group", (self.group,))
        if kind is ActionKind.RAISE_PRIORITY:
            if (self.by is None) == (self.priority is None):
                raise InvalidValueError(
                    "action.by", self.by, "either a number of levels or a priority name"
                )
            if self.by is not None and (
                not isinstance(self.by, int) or isinstance(self.by, bool) or self.by < 1
            ):
                raise InvalidValueError("action.by", self.by, "a number of levels of 1 or more")
            if self.priority is not None:
                _check_names("action.priority", (self.priority,))

    @classmethod
    def notify(
        cls,
        *,
        roles: Iterable[str] | str = (),
        groups: Iterable[str] | str = (),
        people: Iterable[str] | str = (),
        message: str = "",
    ) -> Action:
        """Ask the host to notify roles, the members of groups and people.

        >>> Action.notify(people="mona").people
        ('mona',)
        """
        return cls(
            kind=ActionKind.NOTIFY,
            roles=_names(roles),
            groups=_names(groups),
            people=_names(people),
            message=message,
        )

    @classmethod
    def reassign_next_line(cls, *, skill: str | None = None) -> Action:
        """Functional escalation: reassign to the next support line.

        >>> Action.reassign_next_line().to
        'next_line'
        """
        return cls(kind=ActionKind.REASSIGN, to="next_line", skill=skill)

    @classmethod
    def reassign_to_group(cls, group: str) -> Action:
        """Reassign to a named group (its dispatcher receives the ticket).

        >>> Action.reassign_to_group("vendor-x").group
        'vendor-x'
        """
        return cls(kind=ActionKind.REASSIGN, to="group", group=group)

    @classmethod
    def reassign_to_supervisor(cls) -> Action:
        """Hierarchical escalation: give the ticket to its group's supervisor.

        >>> Action.reassign_to_supervisor().to
        'supervisor'
        """
        return cls(kind=ActionKind.REASSIGN, to="supervisor")

    @classmethod
    def raise_priority(cls, by: int = 1) -> Action:
        """Raise the effective priority by ``by`` levels (stops at the most urgent).

        >>> Action.raise_priority().by
        1
        """
        return cls(kind=ActionKind.RAISE_PRIORITY, by=by)

    @classmethod
    def raise_priority_to(cls, priority: str) -> Action:
        """Raise the effective priority to ``priority`` (nothing when it is already as urgent).

        >>> Action.raise_priority_to("P1").priority
        'P1'
        """
        return cls(kind=ActionKind.RAISE_PRIORITY, priority=priority)

    @classmethod
    def add_watcher(
        cls, *, roles: Iterable[str] | str = (), people: Iterable[str] | str = ()
    ) -> Action:
        """Add watchers to the ticket.

        >>> Action.add_watcher(roles="manager").roles
        ('manager',)
        """
        return cls(kind=ActionKind.ADD_WATCHER, roles=_names(roles), people=_names(people))

    @classmethod
    def flag_major_candidate(cls) -> Action:
        """Flag the ticket as a major-incident candidate.

        >>> Action.flag_major_candidate().kind.value
        'flag_major_candidate'
        """
        return cls(kind=ActionKind.FLAG_MAJOR_CANDIDATE)

    def describe(self) -> str:
        """A short human description.

        >>> Action.notify(roles=("manager",)).describe()
        'notify manager'
        >>> Action.raise_priority(2).describe()
        'raise priority by 2 levels'
        """
        kind = self.kind
        if kind is ActionKind.NOTIFY or kind is ActionKind.ADD_WATCHER:
            who = ", ".join((*self.roles, *self.groups, *self.people))
            return f"notify {who}" if kind is ActionKind.NOTIFY else f"add watcher {who}"
        if kind is ActionKind.REASSIGN:
            if self.to == "group":
                return f"reassign to group {self.group}"
            return (
                "reassign to the next line"
                if self.to == "next_line"
                else ("reassign to the supervisor")
            )
        if kind is ActionKind.RAISE_PRIORITY:
            if self.priority is not None:
                return f"raise priority to {self.priority}"
            return f"raise priority by {self.by} level" + ("s" if self.by != 1 else "")
        return "flag as a major-incident candidate"


def _actions(value: Iterable[Action] | Action) -> tuple[Action, ...]:
    if isinstance(value, Action):
        return (value,)
    return tuple(value)


@named_field_errors
@attrs.frozen(kw_only=True)
class EscalationConditions:
    """Which tickets a rule watches; every field that is set must match (empty: anything).

    Conditions are checked on the ticket as it was at the instant a level was
    reached (the ticket folded from the events up to that instant). ``lines``
    match the ticket's support line, or the line of its group in the support
    structure when the ticket records none; ``major`` matches the major flag.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> t = Ticket(id="INC-1", type="incident", state="new", state_category="new",
    ...            title="t", requester="r", opened_at=at, updated_at=at,
    ...            effective_priority="P2")
    >>> EscalationConditions(types="incident", priorities=("P1", "P2")).matches(t)
    True
    """

    types: tuple[str, ...] = attrs.field(default=(), converter=_names)
    priorities: tuple[str, ...] = attrs.field(default=(), converter=_names)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_names)
    services: tuple[str, ...] = attrs.field(default=(), converter=_names)
    groups: tuple[str, ...] = attrs.field(default=(), converter=_names)
    lines: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    major: bool | None = None

    def __attrs_post_init__(self) -> None:
        for field in ("types", "priorities", "categories", "services", "groups"):
            _check_names(f"conditions.{field}", getattr(self, field))
        for i, line in enumerate(self.lines):
            if not isinstance(line, int) or isinstance(line, bool) or line < 1:
                raise InvalidValueError(
                    f"conditions.lines[{i}]", line, "a line number of 1 or more"
                )

    def matches(self, ticket: Ticket, *, line: int | None = None) -> bool:
        """Whether ``ticket`` (on support ``line``, defaulting to its own) is watched."""
        if line is None:
            line = ticket.support_line
        return (
            (not self.types or ticket.type in self.types)
            and (not self.priorities or ticket.effective_priority in self.priorities)
            and (not self.categories or ticket.category in self.categories)
            and (not self.services or ticket.service in self.services)
            and (not self.groups or ticket.group in self.groups)
            and (not self.lines or line in self.lines)
            and (self.major is None or ticket.major is self.major)
        )


@named_field_errors
@attrs.frozen(kw_only=True)
class EscalationLevel:
    """One level of a rule: its threshold and its actions.

    Exactly one threshold is set, the one its rule's trigger measures (see
    :class:`TriggerKind`): ``percent`` of an SLA target (1 to 1000),
    ``offset`` from the SLA due instant (negative: before; business time, or
    :class:`~itsm_core.sla.BusinessDays` as GLPI's levels in days), ``after`` a
    duration (zero or more), or ``count`` reassignments (the level is reached
    by the ``count + 1``-th). ``conditions`` narrow the rule's conditions for
    this level alone (GLPI's criteria per level), checked the same way.

    >>> from datetime import timedelta
    >>> EscalationLevel(percent=75, actions=Action.notify(roles="supervisor")).threshold
    75
    >>> EscalationLevel(after=timedelta(hours=-1), actions=Action.flag_major_candidate())
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: level.after: expected a duration of zero or more, \
got datetime.timedelta(days=-1, seconds=82800)
    """

    actions: tuple[Action, ...] = attrs.field(converter=_actions)
    percent: int | None = None
    offset: timedelta | BusinessDays | None = None
    after: timedelta | None = None
    count: int | None = None
    name: str = ""
    conditions: EscalationConditions = EscalationConditions()

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.conditions, EscalationConditions):
            raise InvalidValueError("level.conditions", self.conditions, "EscalationConditions")
        if not self.actions:
            raise InvalidValueError("level.actions", self.actions, "at least one action")
        for i, action in enumerate(self.actions):
            if not isinstance(action, Action):
                raise InvalidValueError(f"level.actions[{i}]", action, "an Action")
        set_fields = [
            f for f in ("percent", "offset", "after", "count") if getattr(self, f) is not None
        ]
        if len(set_fields) != 1:
            raise InvalidValueError(
                "level", set_fields, "exactly one of percent, offset, after or count"
            )
        if self.percent is not None and (
            not isinstance(self.percent, int)
            or isinstance(self.percent, bool)
            or not 1 <= self.percent <= 1000
        ):
            raise InvalidValueError("level.percent", self.percent, "a whole percentage, 1 to 1000")
        if self.offset is not None and not isinstance(self.offset, BusinessDays):
            td_to_us(self.offset, "level.offset")
        if self.after is not None and td_to_us(self.after, "level.after") < 0:
            raise InvalidValueError("level.after", self.after, "a duration of zero or more")
        if self.count is not None and (
            not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 0
        ):
            raise InvalidValueError("level.count", self.count, "a count of zero or more")

    @property
    def measure(self) -> str:
        """The name of the threshold field that is set."""
        for field in ("percent", "offset", "after", "count"):
            if getattr(self, field) is not None:
                return field
        raise AssertionError("unreachable: validated")  # pragma: no cover

    @property
    def threshold(self) -> int:
        """The threshold as an int: a percentage, microseconds, or a count."""
        if self.percent is not None:
            return self.percent
        if self.count is not None:
            return self.count
        if isinstance(self.offset, BusinessDays):  # an ordering key: days of 24 hours
            return self.offset.days * US_PER_DAY + (1 if self.offset.end_of_day else 0)
        return td_to_us(self.offset if self.offset is not None else self.after)  # type: ignore[arg-type]


def _levels(value: Iterable[EscalationLevel] | EscalationLevel) -> tuple[EscalationLevel, ...]:
    if isinstance(value, EscalationLevel):
        return (value,)
    return tuple(value)


@named_field_errors
@attrs.frozen(kw_only=True)
class EscalationRule:
    """A named rule: a trigger, the tickets it watches and its ordered levels.

    The name is the rule's identity: the history records which levels of which
    rule fired, so renaming a rule makes its levels fire again. Levels are
    ordered by their threshold, strictly increasing, so they fire in order.

    >>> rule = EscalationRule(
    ...     name="resolution warnings",
    ...     trigger=Trigger.sla_percent("resolution"),
    ...     levels=(EscalationLevel(percent=50, actions=Action.notify(roles="assignee")),
    ...             EscalationLevel(percent=100, actions=Action.notify(roles="manager"))),
    ... )
    >>> [level.percent for level in rule.levels]
    [50, 100]
    """

    name: str
    trigger: Trigger
    levels: tuple[EscalationLevel, ...] = attrs.field(converter=_levels)
    conditions: EscalationConditions = EscalationConditions()
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidValueError("rule.name", self.name, "a non-empty name")
        if not isinstance(self.trigger, Trigger):
            raise InvalidValueError("rule.trigger", self.trigger, "a Trigger")
        if not isinstance(self.conditions, EscalationConditions):
            raise InvalidValueError("rule.conditions", self.conditions, "EscalationConditions")
        if not self.levels:
            raise InvalidValueError("rule.levels", self.levels, "at least one level")
        wanted = THRESHOLD_FIELD[self.trigger.kind]
        previous: int | None = None
        for i, level in enumerate(self.levels):
            if not isinstance(level, EscalationLevel):
                raise InvalidValueError(f"rule.levels[{i}]", level, "an EscalationLevel")
            if level.measure != wanted:
                raise InvalidValueError(
                    f"rule.levels[{i}].{level.measure}",
                    getattr(level, level.measure),
                    f"a level measured by {wanted!r} for a {self.trigger.kind} trigger",
                )
            if isinstance(level.offset, BusinessDays) != isinstance(
                self.levels[0].offset, BusinessDays
            ):
                raise InvalidValueError(
                    f"rule.levels[{i}].offset",
                    level.offset,
                    "offsets of one kind in a rule (all business days, or all business time)",
                )
            if previous is not None and level.threshold <= previous:
                raise InvalidValueError(
                    f"rule.levels[{i}].{wanted}",
                    getattr(level, wanted),
                    "a threshold above the previous level's (levels are in firing order)",
                )
            previous = level.threshold

    @classmethod
    def ping_pong(
        cls,
        more_than: int = 3,
        *,
        name: str = "ping-pong",
        bounces_only: bool = False,
        conditions: EscalationConditions | None = None,
    ) -> EscalationRule:
        """The ping-pong rule: reassigned more than ``more_than`` times, the supervisor takes it.

        The supervisor of the ticket's group is notified and becomes its assignee.

        >>> EscalationRule.ping_pong(2).levels[0].count
        2
        """
        return cls(
            name=name,
            trigger=Trigger.reassignments(bounces_only=bounces_only),
            levels=(
                EscalationLevel(
                    count=more_than,
                    actions=(
                        Action.notify(roles="supervisor", message="ping-pong"),
                        Action.reassign_to_supervisor(),
                    ),
                ),
            ),
            conditions=conditions if conditions is not None else EscalationConditions(),
            description="A ticket bounced between groups goes to the supervisor.",
        )

    @classmethod
    def sla_warnings(
        cls,
        metric: str,
        *,
        name: str | None = None,
        conditions: EscalationConditions | None = None,
    ) -> EscalationRule:
        """ServiceNow's pattern: notify the assignee at 50%, the supervisor at 75%, the
        manager at 100% of ``metric``'s target (the last level also raises priority).

        >>> [lv.percent for lv in EscalationRule.sla_warnings("resolution").levels]
        [50, 75, 100]
        """
        return cls(
            name=name if name is not None else f"{metric} warnings",
            trigger=Trigger.sla_percent(metric),
            levels=(
                EscalationLevel(percent=50, actions=Action.notify(roles="assignee")),
                EscalationLevel(
                    percent=75, actions=Action.notify(roles=("assignee", "supervisor"))
                ),
                EscalationLevel(
                    percent=100,
                    actions=(
                        Action.notify(roles=("assignee", "supervisor", "manager")),
                        Action.raise_priority(),
                    ),
                ),
            ),
            conditions=conditions if conditions is not None else EscalationConditions(),
        )
