"""SLA policies as data: conditions, metrics with targets per priority, applicability."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from itsm_core._time import td_to_us
from itsm_core.calendar import BusinessCalendar, CalendarLike, CompositeCalendar
from itsm_core.errors import InvalidValueError, named_field_errors
from itsm_core.sla._durations import (
    BusinessDays,
    BusinessDuration,
    SlaDuration,
    as_sla_duration,
    resolve_us,
)
from itsm_core.ticket import CATEGORIES, Ticket

__all__ = [
    "EVENT_KINDS",
    "Applicability",
    "ClassifiedStart",
    "Condition",
    "Metric",
    "MissingTarget",
    "OnPriorityChange",
    "SlaKind",
    "SlaPolicy",
    "StartAt",
    "select_policy",
]

#: The event kinds conditions may name: the snake_case names of the ticket events.
EVENT_KINDS: tuple[str, ...] = (
    "ticket_opened",
    "assigned",
    "reassigned",
    "state_changed",
    "priority_changed",
    "major_set",
    "major_cleared",
    "comment_added",
    "field_changed",
    "linked",
    "unlinked",
    "merged",
    "ticket_split",
    "approval_requested",
    "approval_given",
    "approval_refused",
)


class SlaKind(enum.StrEnum):
    """What kind of agreement a policy measures.

    >>> SlaKind("ola") is SlaKind.OLA
    True
    """

    SLA = "sla"
    OLA = "ola"
    UNDERPINNING_CONTRACT = "underpinning_contract"


class OnPriorityChange(enum.StrEnum):
    """What a running cycle does when the ticket's effective priority changes.

    ``recompute`` (the default) measures the cycle from its start against the
    new priority's target; ``keep`` keeps the target of the priority the cycle
    started with.

    >>> OnPriorityChange.RECOMPUTE.value
    'recompute'
    """

    RECOMPUTE = "recompute"
    KEEP = "keep"


class MissingTarget(enum.StrEnum):
    """What a running cycle does when the priority changes to one with no target.

    ``keep`` keeps measuring against the old target, ``stop`` ends the cycle
    as cancelled (the agreement no longer covers the ticket), ``refuse``
    makes :func:`~itsm_core.sla.evaluate` refuse the history (the desk then
    refuses the priority change).

    >>> MissingTarget("stop") is MissingTarget.STOP
    True
    """

    KEEP = "keep"
    STOP = "stop"
    REFUSE = "refuse"


class StartAt(enum.StrEnum):
    """When a started cycle begins to count.

    ``event``: at the start event (the default); ``next_opening``: at the
    first business instant at or after it (Request Tracker's first business
    minute). A metric's ``start_offset`` then delays it by business time.

    >>> StartAt.NEXT_OPENING.value
    'next_opening'
    """

    EVENT = "event"
    NEXT_OPENING = "next_opening"


class ClassifiedStart(enum.StrEnum):
    """When a clock starts for a ticket whose priority had no target at its start event.

    ``classification`` (the default): at the priority change that gives it a
    target; ``opening``: back at the start event, as if the priority had
    been known then. Either way the clock is never pending for ever.

    >>> ClassifiedStart("opening") is ClassifiedStart.OPENING
    True
    """

    CLASSIFICATION = "classification"
    OPENING = "opening"


def _names(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _check_choices(field: str, values: tuple[str, ...], choices: tuple[str, ...]) -> None:
    for i, value in enumerate(values):
        if value not in choices:
            raise InvalidValueError(f"{field}[{i}]", value, f"one of {', '.join(choices)}")


@named_field_errors
@attrs.frozen(kw_only=True)
class Condition:
    """A declarative match on one event and the ticket's state right after it.

    Every field that is set must match (an empty tuple or ``None`` matches
    anything): ``event`` the event kinds (see :data:`EVENT_KINDS`), ``category``
    / ``state`` / ``hold_reason`` the ticket's state after the event,
    ``from_category`` the category before it, ``trigger`` the lifecycle trigger
    of a state change, ``public`` and ``by_requester`` the comment's flags.
    A list of conditions matches when any of them does.

    >>> agent_reply = Condition(event="comment_added", public=True, by_requester=False)
    >>> agent_reply.event
    ('comment_added',)
    >>> Condition(category="paused")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: condition.category[0]: expected one of new, active, \
on_hold, resolved, closed, cancelled, got 'paused'
    """

    event: tuple[str, ...] = attrs.field(default=(), converter=_names)
    category: tuple[str, ...] = attrs.field(default=(), converter=_names)
    from_category: tuple[str, ...] = attrs.field(default=(), converter=_names)
    state: tuple[str, ...] = attrs.field(default=(), converter=_names)
    hold_reason: tuple[str, ...] = attrs.field(default=(), converter=_names)
    trigger: tuple[str, ...] = attrs.field(default=(), converter=_names)
    public: bool | None = None
    by_requester: bool | None = None

    def __attrs_post_init__(self) -> None:
        _check_choices("condition.event", self.event, EVENT_KINDS)
        _check_choices("condition.category", self.category, CATEGORIES)
        _check_choices("condition.from_category", self.from_category, CATEGORIES)


def _conditions(value: Iterable[Condition] | Condition) -> tuple[Condition, ...]:
    if isinstance(value, Condition):
        return (value,)
    return tuple(value)


def _positive(value: object, field: str) -> SlaDuration:
    duration = as_sla_duration(value, field)
    if isinstance(duration, BusinessDays):
        positive = duration.days > 0 or duration.end_of_day
    else:
        positive = td_to_us(duration.value, field) > 0
    if not positive:
        raise InvalidValueError(field, value, "a positive duration")
    return duration


def _targets(
    value: Mapping[str, SlaDuration | timedelta] | Iterable[tuple[str, SlaDuration | timedelta]],
) -> tuple[tuple[str, SlaDuration], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(
        sorted(
            ((str(k), _positive(v, f"metric.targets.{k}")) for k, v in items),
            key=lambda pair: pair[0],
        )
    )


def _default_target(value: object) -> SlaDuration | None:
    return None if value is None else _positive(value, "metric.default_target")


def _offset(value: object) -> BusinessDuration | None:
    if value is None:
        return None
    duration = as_sla_duration(value, "metric.start_offset")
    if not isinstance(duration, BusinessDuration) or td_to_us(duration.value) < 0:
        raise InvalidValueError("metric.start_offset", value, "a business duration of zero or more")
    return duration


_OPENED = Condition(event="ticket_opened")
_REOPENED = Condition(
    event="state_changed", from_category="resolved", category=("new", "active", "on_hold")
)
_DONE = Condition(event="state_changed", category=("resolved", "closed"))
_CANCELLED = Condition(event="state_changed", category="cancelled")
_AGENT_REPLY = Condition(event="comment_added", public=True, by_requester=False)
_REQUESTER_MESSAGE = Condition(event="comment_added", public=True, by_requester=True)
_AWAITING_REQUESTER = Condition(category="on_hold", hold_reason="awaiting_requester")


@named_field_errors
@attrs.frozen(kw_only=True)
class Metric:
    """One measured clock: targets per priority and its start/stop/pause conditions.

    A cycle starts when a ``start`` condition matches (and no ``stop`` one
    does) while no cycle runs; it stops at a ``stop`` match (met when its
    business time is within the target, breached otherwise), is cancelled at
    a ``cancel`` match, and a ``reset`` match ends it and starts a new one.
    It pauses at a ``pause`` match and resumes at a ``resume`` match or, when
    no ``resume`` is given, at the first event after which no ``pause``
    condition matches. After a stop, a new ``start`` match begins a new cycle.

    ``targets`` maps effective priority names to durations: a plain
    ``timedelta`` or :class:`BusinessDuration` is business time,
    :class:`BusinessDays` business days (or an end of business day) and
    :class:`WallDuration` wall-clock time, each measured from the cycle's
    start; ``default_target`` serves the priorities not listed. A ticket whose
    priority has no target at the start event starts its clock when a
    priority change gives it one, at that change or back at the start event
    (``classified_start``). A running cycle whose priority changes to one
    with no target keeps the old target, stops, or refuses the history
    (``on_missing_target``).

    ``start_at`` and ``start_offset`` say when a started cycle begins to
    count: at the event or at the first business instant after it, then
    ``start_offset`` of business time later. ``hide_due_in`` names states in
    which the clock keeps counting but shows no due instant (and so wakes
    nobody) until the ticket leaves them.

    >>> from datetime import timedelta
    >>> m = Metric.resolution({"P1": timedelta(hours=4), "P2": timedelta(hours=8)})
    >>> m.name, m.target_us("P1"), m.target_us("P9")
    ('resolution', 14400000000, None)
    """

    name: str
    targets: tuple[tuple[str, SlaDuration], ...] = attrs.field(converter=_targets)
    default_target: SlaDuration | None = attrs.field(default=None, converter=_default_target)
    start: tuple[Condition, ...] = attrs.field(converter=_conditions)
    stop: tuple[Condition, ...] = attrs.field(converter=_conditions)
    pause: tuple[Condition, ...] = attrs.field(default=(), converter=_conditions)
    resume: tuple[Condition, ...] = attrs.field(default=(), converter=_conditions)
    cancel: tuple[Condition, ...] = attrs.field(default=(), converter=_conditions)
    reset: tuple[Condition, ...] = attrs.field(default=(), converter=_conditions)
    on_priority_change: OnPriorityChange = attrs.field(
        default=OnPriorityChange.RECOMPUTE, converter=OnPriorityChange
    )
    on_missing_target: MissingTarget = attrs.field(
        default=MissingTarget.KEEP, converter=MissingTarget
    )
    start_at: StartAt = attrs.field(default=StartAt.EVENT, converter=StartAt)
    start_offset: BusinessDuration | None = attrs.field(default=None, converter=_offset)
    classified_start: ClassifiedStart = attrs.field(
        default=ClassifiedStart.CLASSIFICATION, converter=ClassifiedStart
    )
    hide_due_in: tuple[str, ...] = attrs.field(default=(), converter=_names)

    def __attrs_post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise InvalidValueError("metric.name", self.name, "a non-empty name")
        if not self.start:
            raise InvalidValueError("metric.start", self.start, "at least one condition")
        if not self.stop:
            raise InvalidValueError("metric.stop", self.stop, "at least one condition")

    def target(self, priority: str | None) -> SlaDuration | None:
        """The target of an effective priority (``None``: no target)."""
        for name, duration in self.targets:
            if name == priority:
                return duration
        return self.default_target

    def target_us(
        self, priority: str | None, calendar: CalendarLike | None = None, start_us: int = 0
    ) -> int | None:
        """The business time of the target of an effective priority (``None``: no target).

        A business-days, end-of-day or wall-clock target measures the business
        time between ``start_us`` and the instant it designates on ``calendar``
        (percentages are of that); a plain business duration needs neither.
        """
        duration = self.target(priority)
        if duration is None:
            return None
        if isinstance(duration, BusinessDuration):
            return td_to_us(duration.value)
        if calendar is None:
            raise InvalidValueError(
                "calendar", None, f"a calendar to measure the target {duration!r} on"
            )
        return resolve_us(duration, calendar, start_us)

    @classmethod
    def first_response(
        cls,
        targets: Mapping[str, timedelta | SlaDuration],
        *,
        name: str = "first_response",
        pause_on: Iterable[Condition] | Condition = (),
        resolution_counts: bool = True,
        **options: Any,
    ) -> Metric:
        """Time to the first public reply by an agent.

        Starts when the ticket opens; stops at the first public comment not by
        the requester, or when the ticket is resolved or closed; cancelled with
        the ticket. ``pause_on`` pauses it (it never pauses by default); with
        ``resolution_counts=False`` resolving without a reply cancels the
        cycle instead of meeting it.

        >>> from datetime import timedelta
        >>> Metric.first_response({"P1": timedelta(minutes=15)}).stop[0].event
        ('comment_added',)
        >>> strict = Metric.first_response({"P1": timedelta(minutes=15)},
        ...     pause_on=Condition(category="on_hold"), resolution_counts=False)
        >>> len(strict.stop), strict.pause[0].category, strict.cancel[-1].category
        (1, ('on_hold',), ('resolved', 'closed'))
        """
        options.setdefault("pause", _conditions(pause_on))
        options.setdefault("cancel", (_CANCELLED,) if resolution_counts else (_CANCELLED, _DONE))
        stop = (_AGENT_REPLY, _DONE) if resolution_counts else (_AGENT_REPLY,)
        return cls(name=name, targets=targets, start=(_OPENED,), stop=stop, **options)

    @classmethod
    def next_response(
        cls,
        targets: Mapping[str, timedelta | SlaDuration],
        *,
        name: str = "next_response",
        **options: Any,
    ) -> Metric:
        """Update time: from each public message of the requester to the next agent reply.

        Every requester message that finds no cycle running starts one; the next
        public agent reply (or resolving the ticket) stops it.

        >>> from datetime import timedelta
        >>> Metric.next_response({"P2": timedelta(hours=4)}).start[0].by_requester
        True
        """
        options.setdefault("cancel", (_CANCELLED,))
        return cls(
            name=name,
            targets=targets,
            start=(_REQUESTER_MESSAGE,),
            stop=(_AGENT_REPLY, _DONE),
            **options,
        )

    @classmethod
    def resolution(
        cls,
        targets: Mapping[str, timedelta | SlaDuration],
        *,
        name: str = "resolution",
        **options: Any,
    ) -> Metric:
        """Time to resolve: starts at opening, pauses while awaiting the requester.

        Stops when the ticket is resolved or closed; a reopening starts a new
        cycle; cancelled with the ticket.

        >>> from datetime import timedelta
        >>> Metric.resolution({"P3": timedelta(hours=8)}).pause[0].hold_reason
        ('awaiting_requester',)
        """
        options.setdefault("pause", (_AWAITING_REQUESTER,))
        options.setdefault("cancel", (_CANCELLED,))
        return cls(name=name, targets=targets, start=(_OPENED, _REOPENED), stop=(_DONE,), **options)


@named_field_errors
@attrs.frozen(kw_only=True)
class Applicability:
    """Which tickets a policy applies to; an empty field matches anything.

    >>> Applicability(types=("incident",)).types
    ('incident',)
    """

    types: tuple[str, ...] = attrs.field(default=(), converter=_names)
    priorities: tuple[str, ...] = attrs.field(default=(), converter=_names)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_names)
    services: tuple[str, ...] = attrs.field(default=(), converter=_names)
    customers: tuple[str, ...] = attrs.field(default=(), converter=_names)
    groups: tuple[str, ...] = attrs.field(default=(), converter=_names)

    def matches(self, ticket: Ticket, *, customer: str | None = None) -> bool:
        """Whether ``ticket`` is covered; ``customer`` defaults to the ticket's own."""
        return self.covers(
            type=ticket.type,
            priority=ticket.effective_priority,
            category=ticket.category,
            service=ticket.service,
            customer=ticket.customer if customer is None else customer,
            group=ticket.group,
        )

    def covers(
        self,
        *,
        type: str,
        priority: str | None,
        category: str | None,
        service: str | None,
        customer: str | None,
        group: str | None,
    ) -> bool:
        """Whether a ticket with these field values is covered (what :meth:`matches` asks).

        >>> Applicability(types="incident", priorities=("P1", "P2")).covers(
        ...     type="incident", priority="P3", category=None, service=None, customer=None,
        ...     group=None)
        False
        """
        return (
            (not self.types or type in self.types)
            and (not self.priorities or priority in self.priorities)
            and (not self.categories or category in self.categories)
            and (not self.services or service in self.services)
            and (not self.customers or customer in self.customers)
            and (not self.groups or group in self.groups)
        )


def _metrics(value: Iterable[Metric]) -> tuple[Metric, ...]:
    metrics = tuple(value)
    seen: set[str] = set()
    for i, metric in enumerate(metrics):
        if metric.name in seen:
            raise InvalidValueError(
                f"policy.metrics[{i}].name", metric.name, "a unique metric name"
            )
        seen.add(metric.name)
    return metrics


def _thresholds(value: Iterable[int]) -> tuple[int, ...]:
    thresholds = tuple(sorted(set(value)))
    for t in thresholds:
        if not isinstance(t, int) or isinstance(t, bool) or not 0 < t <= 1000:
            raise InvalidValueError("policy.thresholds", t, "whole percentages from 1 to 1000")
    return thresholds


@named_field_errors
@attrs.frozen(kw_only=True)
class SlaPolicy:
    """An agreement: its metrics, the calendar they count over and what it applies to.

    ``calendar`` is the business calendar of the clocks; with
    ``use_customer_calendar`` a calendar passed at evaluation for the ticket's
    customer takes its place. ``thresholds`` are the warning percentages that
    :func:`next_deadline` wakes the host for.

    >>> from datetime import timedelta
    >>> from itsm_core.calendar import BusinessCalendar
    >>> policy = SlaPolicy(
    ...     name="8x5 incidents",
    ...     calendar=BusinessCalendar.eight_by_five("Europe/Moscow"),
    ...     metrics=(Metric.resolution({"P3": timedelta(hours=8)}),),
    ...     applies_to=Applicability(types="incident"),
    ... )
    >>> policy.kind, policy.thresholds
    (<SlaKind.SLA: 'sla'>, (50, 75, 90, 100))
    """

    name: str
    calendar: BusinessCalendar | CompositeCalendar
    metrics: tuple[Metric, ...] = attrs.field(converter=_metrics)
    kind: SlaKind = attrs.field(default=SlaKind.SLA, converter=SlaKind)
    applies_to: Applicability = Applicability()
    use_customer_calendar: bool = False
    thresholds: tuple[int, ...] = attrs.field(default=(50, 75, 90, 100), converter=_thresholds)

    def __attrs_post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise InvalidValueError("policy.name", self.name, "a non-empty name")
        if not isinstance(self.calendar, BusinessCalendar | CompositeCalendar):
            raise InvalidValueError(
                "policy.calendar", self.calendar, "a BusinessCalendar or CompositeCalendar"
            )
        if not self.metrics:
            raise InvalidValueError("policy.metrics", self.metrics, "at least one metric")

    def metric(self, name: str) -> Metric:
        """The metric called ``name``."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        choices = ", ".join(m.name for m in self.metrics)
        raise InvalidValueError("metric", name, f"one of {choices}")


def select_policy(
    policies: Iterable[SlaPolicy], ticket: Ticket, *, customer: str | None = None
) -> SlaPolicy | None:
    """The first policy whose applicability covers ``ticket`` (``None`` when none does).

    Order the policies from the most specific to the fallback (an empty
    :class:`Applicability` covers every ticket).

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> def policy(name, **covers):
    ...     return SlaPolicy(name=name, calendar=BusinessCalendar.always_open("UTC"),
    ...                      metrics=(Metric.resolution({"P1": timedelta(hours=4)}),),
    ...                      applies_to=Applicability(**covers))
    >>> policies = [policy("gold", customers="acme"), policy("P1 incidents", priorities="P1",
    ...             types="incident"), policy("fallback")]
    >>> t = Ticket(id="I-1", type="incident", state="new", state_category="new", title="t",
    ...            requester="ann", opened_at=at, updated_at=at, effective_priority="P1")
    >>> select_policy(policies, t).name, select_policy(policies, t, customer="acme").name
    ('P1 incidents', 'gold')
    >>> print(select_policy(policies[:1], t))
    None
    """
    for policy in policies:
        if policy.applies_to.matches(ticket, customer=customer):
            return policy
    return None
