"""The Desk: one frozen value holding a whole service desk, and its five verbs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeAlias

import attrs
import pendulum

from itsm_core._time import from_us, to_us, us_to_td
from itsm_core.calendar import BusinessCalendar, CalendarLike, CompositeCalendar
from itsm_core.desk._records import (
    AutomationRefused,
    Due,
    DueKind,
    Outcome,
    ReopenWindowEnded,
    SlaThresholdReached,
    TicketStatus,
)
from itsm_core.errors import (
    InvalidTransition,
    InvalidValueError,
    PermissionDenied,
    named_field_errors,
)
from itsm_core.escalation import (
    DueEscalation,
    EscalationRule,
    SupportStructure,
    apply_escalations,
    plan_escalations,
)
from itsm_core.lifecycle import (
    History,
    Lifecycle,
    LifecycleDef,
    Lifecycles,
    default_definitions,
    default_lifecycles,
    follow_ups,
)
from itsm_core.metrics import CreditRule
from itsm_core.permissions import Directory, Policy, PolicyAuthorizer, default_policy
from itsm_core.priority import MAJOR, PriorityMatrix
from itsm_core.routing import Notification, RoutingConfig, RoutingDecision, RoutingState
from itsm_core.sla import (
    Cycle,
    MissingTarget,
    SlaPolicy,
    SlaStatus,
    clock_calendar,
    evaluate,
    select_policy,
    select_policy_for_history,
)
from itsm_core.ticket import (
    Event,
    PriorityChanged,
    StateChanged,
    Ticket,
    TicketCommand,
    TicketOpened,
)

__all__ = ["Calendar", "Desk"]

#: A calendar a desk declares.
Calendar: TypeAlias = BusinessCalendar | CompositeCalendar
_UTC = "UTC"


def _frozen_mapping(value: Mapping[str, Calendar]) -> Mapping[str, Calendar]:
    return MappingProxyType(dict(value))


def _routing(_: Any, __: Any, value: Any) -> None:
    if value is not None and not isinstance(value, RoutingConfig):
        raise InvalidValueError("routing", value, "a RoutingConfig or None")


def _actor(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError("automation_actor", value, "a non-empty principal id")
    return value


@named_field_errors
@attrs.frozen(kw_only=True)
class Desk:
    """A whole service desk as one value, and the front door a host talks to.

    The fields hold what a desk document declares: ``calendars`` by name and
    the desk's own ``calendar``, the priority ``matrix``, the
    ``lifecycle_definitions``, the ``sla_policies`` (in order: see
    :meth:`choose_policy`), ``credit_rules``, the ``support`` structure and
    ``escalation_rules``, the ``permissions`` policy and its ``directory``,
    ``automation_actor``, the principal :meth:`advance` acts as (grant it
    the ``automation`` role), and ``routing``, who gets tickets and who is
    told (``None``: no routing; see :meth:`route`). With routing,
    :meth:`apply` checks each command's channel, service and category
    first, and :meth:`apply` and :meth:`advance` list the notifications the
    new events ask for in :attr:`Outcome.notifications`.

    The verbs are pure: the host passes the history it stored and ``now``
    (or ``at``), and gets values back.

    * :meth:`apply` a command (authorized first, deny by default);
    * :meth:`status` of a ticket: its policy, every clock, what is due;
    * :meth:`due`: everything due at ``now``, in one record type;
    * :meth:`next_wakeup`: when to call again;
    * :meth:`advance`: carry out what is due, as ``automation_actor``.

    >>> desk = Desk(calendars={"office": BusinessCalendar.eight_by_five("UTC")},
    ...             calendar="office")
    >>> desk.default_calendar.timezone, len(desk.lifecycles())
    ('UTC', 8)
    """

    name: str = ""
    calendars: Mapping[str, Calendar] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )
    calendar: str | None = None
    matrix: PriorityMatrix = attrs.field(factory=PriorityMatrix.itil_3x3)
    lifecycle_definitions: tuple[LifecycleDef, ...] = default_definitions()
    sla_policies: tuple[SlaPolicy, ...] = ()
    credit_rules: tuple[CreditRule, ...] = ()
    support: SupportStructure | None = None
    escalation_rules: tuple[EscalationRule, ...] = ()
    permissions: Policy = attrs.field(factory=default_policy)
    directory: Directory = attrs.field(factory=lambda: Directory(()))
    automation_actor: str = attrs.field(default="automation", converter=_actor)
    routing: RoutingConfig | None = attrs.field(default=None, validator=_routing)
    # Built on first use and kept (the lifecycles' machines, the authorizer): each value
    # is stored once complete, so a desk is safe to share between threads.
    _built: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False, eq=False, hash=False)

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # Pickled by its fields (calendars as a plain dict; built parts are rebuilt on use),
        # so a desk travels to worker processes.
        fields = {a.name: getattr(self, a.name) for a in attrs.fields(Desk) if a.init}
        fields["calendars"] = dict(self.calendars)
        return (_rebuild, (fields,))

    def __attrs_post_init__(self) -> None:
        if self.calendar is not None and self.calendar not in self.calendars:
            names = ", ".join(self.calendars) or "none declared"
            raise InvalidValueError("calendar", self.calendar, f"a declared calendar ({names})")
        problem = routing_group_problem(self.routing, self.support)
        if problem is not None:
            path, group, expected = problem
            raise InvalidValueError(path, group, expected)
        self._check_policy_priorities()

    def _check_policy_priorities(self) -> None:
        """Every priority an SLA policy names is one of the matrix's (or the major tier).

        A target keyed to a priority the matrix does not know (``"p3"`` for
        ``"P3"``) would never match: refused here, as a desk document is.
        """
        known = sorted({p.name for p in self.matrix.priorities} | {MAJOR.name})
        expected = f"a priority of the desk's matrix: one of {', '.join(known)}"
        for i, policy in enumerate(self.sla_policies):
            for metric in policy.metrics:
                for name, _ in metric.targets:
                    if name not in known:
                        path = f"sla_policies[{i}].metrics.{metric.name}.targets"
                        raise InvalidValueError(path, name, expected)
            for j, name in enumerate(policy.applies_to.priorities):
                if name not in known:
                    path = f"sla_policies[{i}].applies_to.priorities[{j}]"
                    raise InvalidValueError(path, name, expected)

    # -- the parts ----------------------------------------------------------

    @property
    def default_calendar(self) -> Calendar | None:
        """The desk's own calendar (``None`` when it declares none)."""
        return None if self.calendar is None else self.calendars[self.calendar]

    def lifecycles(self) -> Lifecycles:
        """The lifecycles, built once with the desk's matrix and calendar.

        >>> sorted(Desk().lifecycles())[:2]
        ['documentation_request', 'emergency_change']
        """
        built = self._built.get("lifecycles")
        if built is None:
            calendar = self.default_calendar
            business = calendar if isinstance(calendar, BusinessCalendar) else None
            if self.lifecycle_definitions == default_definitions():
                built = default_lifecycles(matrix=self.matrix, calendar=business)
            else:
                built = Lifecycles(
                    Lifecycle(d, matrix=self.matrix, calendar=business)
                    for d in self.lifecycle_definitions
                )
            self._built["lifecycles"] = built
        lifecycles: Lifecycles = built
        return lifecycles

    def authorizer(self) -> PolicyAuthorizer:
        """The one authorizer every verb uses: the permission policy over the directory."""
        built = self._built.get("authorizer")
        if built is None:
            built = self._built["authorizer"] = self.permissions.authorizer(
                self.directory, lifecycles=self.lifecycles()
            )
        authorizer: PolicyAuthorizer = built
        return authorizer

    def history(self, events: History | Iterable[Event]) -> History:
        """``events`` checked into a :class:`~itsm_core.lifecycle.History` with their lifecycle.

        A ``History`` is taken as it is (it was checked when it was built).
        """
        if isinstance(events, History):
            return events
        items = tuple(events)
        if not items or not isinstance(items[0], TicketOpened):
            return History(items)  # raises, naming what is wrong
        lifecycle = self.lifecycles().get(items[0].type)
        if lifecycle is None:
            raise InvalidValueError(
                "events[0].type",
                items[0].type,
                f"a ticket type of the desk: {', '.join(sorted(self.lifecycles()))}",
            )
        return History(items, lifecycle=lifecycle)

    def choose_policy(self, ticket: Ticket) -> tuple[SlaPolicy | None, str]:
        """The SLA policy of ``ticket`` and why: the desk's ONE rule, used by every verb.

        The rule: the first policy, in the desk's order, whose
        ``applies_to`` covers the ticket as it is (type, effective priority,
        category, service, customer, group). Order the policies from the most
        specific to the fallback. Escalation's SLA triggers read the same
        policy, so a warning and a threshold never disagree about the target.
        """
        policy = select_policy(self.sla_policies, ticket)
        if policy is None:
            return None, (
                f"no SLA policy of the desk applies to this {ticket.type} "
                f"(priority {ticket.effective_priority}, group {ticket.group})"
            )
        rank = self.sla_policies.index(policy) + 1
        return policy, (
            f"{policy.name!r} is the first SLA policy (number {rank} of "
            f"{len(self.sla_policies)}) whose applicability covers this {ticket.type}"
        )

    def _check_missing_targets(self, before: Ticket, history: History, at: datetime) -> None:
        """Refuse a priority change that a metric refuses (``on_missing_target="refuse"``).

        The SLA fold raises on such a history; evaluating it here makes the
        desk refuse the command instead of recording a history no verb reads.
        """
        for ticket in (before, history.ticket):
            policy = self.policy_for(ticket)
            if policy is not None and any(
                m.on_missing_target is MissingTarget.REFUSE for m in policy.metrics
            ):
                evaluate(history, policy, at, customer_calendar=self.calendar_for(policy, ticket))

    def policy_for(self, ticket: Ticket, *, customer: str | None = None) -> SlaPolicy | None:
        """The SLA policy of ``ticket`` (the first one whose applicability covers it).

        Same rule as :meth:`choose_policy`, without the reason; ``customer``
        replaces the ticket's own customer.
        """
        return select_policy(self.sla_policies, ticket, customer=customer)

    def calendar_for(self, policy: SlaPolicy, ticket: Ticket) -> CalendarLike:
        """The calendar ``policy``'s clocks count on for ``ticket`` (maybe its customer's).

        The customer's calendar is the desk calendar named like the ticket's ``customer``.
        """
        customer = self.calendars.get(ticket.customer) if ticket.customer else None
        return clock_calendar(policy, customer)

    def _customer_calendar(self, ticket: Ticket) -> Calendar | None:
        return self.calendars.get(ticket.customer) if ticket.customer else None

    # -- the verbs ----------------------------------------------------------

    def apply(
        self,
        history: History | Iterable[Event] | None,
        command: TicketCommand,
        *,
        actor: str,
        at: datetime,
    ) -> Outcome:
        """Apply ``command`` by ``actor`` at ``at`` to the ticket ``history`` describes.

        ``history`` is ``None`` (or empty) only for an ``OpenTicket``. The
        desk's authorizer decides first (deny by default); an illegal or
        refused command raises and nothing changes. The outcome has the new
        history, the ticket, the events to store and the follow-up commands
        for other tickets.
        """
        items: History | tuple[Event, ...] | None = (
            history if history is None or isinstance(history, History) else tuple(history)
        )
        h = self.history(items) if items else None
        ticket = h.ticket if h is not None else None
        lifecycle = self.lifecycles().for_ticket(ticket, command)
        if self.routing is not None:
            self.routing.check_command(ticket, command)
        new, events = lifecycle.apply(
            ticket, command, actor=actor, at=at, authorizer=self.authorizer()
        )
        longer = h.append(*events) if h is not None else History(events, lifecycle=lifecycle)
        if ticket is not None and any(isinstance(e, PriorityChanged) for e in events):
            self._check_missing_targets(ticket, longer, at)
        return Outcome(
            history=longer,
            ticket=new,
            events=events,
            follow_ups=follow_ups(new, events),
            notifications=self._notify(longer, len(h) if h is not None else 0),
        )

    def route(
        self,
        history: History | Iterable[Event],
        now: datetime,
        *,
        loads: Mapping[str, int] | None = None,
        state: RoutingState | None = None,
        group: str | None = None,
    ) -> RoutingDecision:
        """Who should get the ticket at ``now``, and why, by the desk's routing.

        ``loads`` are the open tickets each agent holds (given by the host),
        ``state`` the routing state of the previous decision (store
        ``decision.state``), ``group`` a group to route in instead of the
        ticket's own. Nothing changes: a dispatcher confirms with
        ``desk.apply(history, decision.command(ticket), ...)`` or overrides.
        """
        if self.routing is None:
            raise InvalidValueError("routing", None, "a desk with a routing configuration")
        ticket = self.history(history).until(now).ticket
        return self.routing.route(ticket, at=now, loads=loads, state=state, group=group)

    def _notify(self, history: History, since: int) -> tuple[Notification, ...]:
        """The notifications the routing's rules ask for on ``history[since:]``."""
        if self.routing is None:
            return ()
        return self.routing.notify(history, since=since)

    def status(self, history: History | Iterable[Event], now: datetime) -> TicketStatus:
        """The ticket as of ``now``: its priority, SLA policy (and why), clocks and what is due.

        The SLA is evaluated once per call; events after ``now`` are ignored.
        Instants are shown in the policy's calendar timezone (else the desk
        calendar's, else UTC).
        """
        now_us = to_us(now, "now")
        h = self.history(history).until(now)
        ticket = h.ticket
        policy, reason = self.choose_policy(ticket)
        customer = self._customer_calendar(ticket)
        business: CalendarLike | None = self.default_calendar
        status = None
        due: list[Due] = []
        upcoming: list[int] = []
        if policy is not None:
            business = clock_calendar(policy, customer)
            status = evaluate(h, policy, now, customer_calendar=customer)
            self._sla_due(h, policy, business, status.clocks, now_us, due, upcoming)
        tz = business.timezone if business is not None else _UTC
        plan = plan_escalations(
            h,
            self.escalation_rules,
            now,
            policy=self.sla_policies,
            structure=self.support,
            calendar=business,
            customer_calendar=customer,
            status=status,
        )
        due += [
            Due(
                kind=DueKind.ESCALATION,
                at=from_us(d.due_us, tz),
                reason=d.reason,
                escalation=d,
            )
            for d in plan.due
        ]
        if plan.wakeup is not None:
            upcoming.append(to_us(plan.wakeup))
        self._transitions_due(h, ticket, now_us, tz, due, upcoming)
        self._reopen_window_due(h, ticket, now_us, tz, due, upcoming)
        due.sort(key=lambda d: (to_us(d.at), d.kind.value))
        if due:
            wake: pendulum.DateTime | None = from_us(now_us, tz)
        else:
            later = [u for u in upcoming if u >= now_us]
            wake = from_us(min(later), tz) if later else None
        return TicketStatus(
            ticket=ticket,
            now=from_us(now_us, tz),
            priority=ticket.effective_priority,
            policy=None if policy is None else policy.name,
            policy_reason=reason,
            sla=status,
            due=tuple(due),
            next_wakeup=wake,
        )

    def clocks(self, history: History | Iterable[Event], now: datetime) -> SlaStatus | None:
        """The SLA part of :meth:`status` alone: the chosen policy's clocks (``None``: no policy).

        For reports over many tickets, where what is due does not matter. The
        same policy rule and calendar rule as every verb; one evaluation.
        """
        h = self.history(history).until(now)
        # the policy read from the events that can change it (no fold of the whole ticket),
        # the same answer as choose_policy(h.ticket)
        policy = select_policy_for_history(self.sla_policies, h)
        if policy is None:
            return None
        # the customer's calendar counts only for a policy that says so
        customer = self._customer_calendar(h.ticket) if policy.use_customer_calendar else None
        return evaluate(h, policy, now, customer_calendar=customer)

    def due(self, history: History | Iterable[Event], now: datetime) -> tuple[Due, ...]:
        """Everything due at ``now``, in the order it became due: ``status(...).due``."""
        return self.status(history, now).due

    def next_wakeup(
        self, history: History | Iterable[Event], now: datetime
    ) -> pendulum.DateTime | None:
        """The earliest instant at or after ``now`` at which something is due, if no event comes.

        Nothing is due strictly before it and something is due at it (an
        SLA threshold, the breach, an escalation level, a timed transition);
        ``now`` itself when something is due already; ``None`` when only a
        new event can make anything due. One SLA evaluation.
        """
        return self.status(history, now).next_wakeup

    def advance(self, history: History | Iterable[Event], now: datetime) -> Outcome:
        """Carry out what is due at ``now`` as :attr:`automation_actor`, through the authorizer.

        SLA thresholds and breaches are recorded (:class:`SlaThresholdReached`);
        escalation levels fire (their actions checked by the desk's
        authorizer; a refused action is listed in the ``Escalated`` event);
        timed transitions are applied, or, when refused, recorded as
        :class:`AutomationRefused`. Nothing due is ever dropped silently. The
        history must not hold events after ``now``.
        """
        h = self.history(history)
        if h.instants_us[-1] > to_us(now, "now"):
            raise InvalidValueError(
                "now", now, f"an instant at or after the last event ({h[-1].at})"
            )
        status = self.status(h, now)
        start = len(h)
        actor = self.automation_actor
        produced: list[Event] = []
        ticket = status.ticket
        escalations: list[DueEscalation] = []
        for item in status.due:
            if item.escalation is not None:
                escalations.append(item.escalation)
            elif item.kind is DueKind.REOPEN_WINDOW_END:
                produced.append(
                    ReopenWindowEnded(ticket_id=ticket.id, actor=actor, at=now, ended_at=item.at)
                )
            elif item.kind is DueKind.SLA_THRESHOLD or item.kind is DueKind.SLA_BREACH:
                produced.append(
                    SlaThresholdReached(
                        ticket_id=ticket.id,
                        actor=actor,
                        at=now,
                        policy=str(status.policy),
                        metric=str(item.metric),
                        cycle=int(item.cycle or 0),
                        percent=int(item.percent or 0),
                        reached_at=item.at,
                    )
                )
        if produced:
            h = h.append(*produced)
        if escalations:
            ticket, events = apply_escalations(
                h,
                escalations,
                lifecycle=self.lifecycles(),
                at=now,
                structure=self.support,
                actor=actor,
                authorizer=self.authorizer(),
            )
            h = h.append(*events)
            produced += events
        for item in status.due:
            if item.command is None:
                continue
            ticket = h.ticket
            try:
                ticket, events = self.lifecycles()[ticket.type].apply(
                    ticket, item.command, actor=actor, at=now, authorizer=self.authorizer()
                )
            except (PermissionDenied, InvalidTransition) as exc:
                events = (
                    AutomationRefused(
                        ticket_id=ticket.id,
                        actor=actor,
                        at=now,
                        action=item.command.action,
                        reason=str(exc),
                        due_at=item.at,
                    ),
                )
            h = h.append(*events)
            produced += events
        ticket = h.ticket
        return Outcome(
            history=h,
            ticket=ticket,
            events=tuple(produced),
            follow_ups=follow_ups(ticket, produced),
            notifications=self._notify(h, start),
        )

    # -- what is due --------------------------------------------------------

    def _sla_due(
        self,
        h: History,
        policy: SlaPolicy,
        calendar: CalendarLike,
        clocks: Iterable[Any],
        now_us: int,
        due: list[Due],
        upcoming: list[int],
    ) -> None:
        """SLA thresholds and breaches reached and not yet recorded; the next one ahead."""
        seen = {
            (e.metric, e.cycle, e.percent)
            for e in h
            if isinstance(e, SlaThresholdReached) and e.policy == policy.name
        }
        percents = sorted({*policy.thresholds, 100})
        tz = calendar.timezone
        for clock in clocks:
            for cycle in clock.cycles:
                if cycle.hidden:
                    continue  # counting with its deadline hidden until the state is left
                for percent in percents:
                    at = _reached(calendar, cycle, percent)
                    if at is None:
                        break  # a later percentage is not reached either
                    if at > now_us:
                        if cycle.running:
                            upcoming.append(at)
                        break
                    if (clock.metric, cycle.number, percent) in seen:
                        continue
                    breach = percent == 100
                    due.append(
                        Due(
                            kind=DueKind.SLA_BREACH if breach else DueKind.SLA_THRESHOLD,
                            at=from_us(at, tz),
                            reason=(
                                f"{clock.metric} reached its {us_to_td(cycle.target_us)} target"
                                if breach
                                else f"{clock.metric} reached {percent}% of its "
                                f"{us_to_td(cycle.target_us)} target"
                            )
                            + f" (cycle {cycle.number}, policy {policy.name!r})",
                            metric=clock.metric,
                            cycle=cycle.number,
                            percent=percent,
                        )
                    )

    def _transitions_due(
        self,
        h: History,
        ticket: Ticket,
        now_us: int,
        tz: str,
        due: list[Due],
        upcoming: list[int],
    ) -> None:
        """Timed transitions (auto-close) due, unless refused since the last state change."""
        lifecycle = self.lifecycles()[ticket.type]
        at = lifecycle.next_due_at(ticket)
        if at is None:
            return
        at_us = to_us(at)
        if _since_state_change(
            h, lambda e: isinstance(e, AutomationRefused) and to_us(e.due_at) == at_us
        ):
            return  # refused once: recorded, not retried until the ticket moves
        if at_us > now_us:
            upcoming.append(at_us)
            return
        for item in lifecycle.due_transitions(ticket, from_us(now_us, tz)):
            due.append(
                Due(
                    kind=DueKind.TRANSITION,
                    at=from_us(to_us(item.due_at), tz),
                    reason=item.command.reason,
                    command=item.command,
                )
            )

    def _reopen_window_due(
        self,
        h: History,
        ticket: Ticket,
        now_us: int,
        tz: str,
        due: list[Due],
        upcoming: list[int],
    ) -> None:
        """The end of a resolved ticket's reopen window, unless recorded since it was resolved."""
        if ticket.state_category != "resolved":
            return
        end = self.lifecycles()[ticket.type].reopen_deadline(ticket)
        if end is None:
            return
        end_us = to_us(end)
        if _since_state_change(h, lambda e: isinstance(e, ReopenWindowEnded)):
            return
        if end_us > now_us:
            upcoming.append(end_us)
            return
        days = self.lifecycles()[ticket.type].definition.policies.reopen_window_days
        due.append(
            Due(
                kind=DueKind.REOPEN_WINDOW_END,
                at=from_us(end_us, tz),
                reason=f"resolved {days} business days ago: a reply now opens a follow-up",
            )
        )


def _since_state_change(h: History, recorded: Callable[[Event], bool]) -> bool:
    """Whether an event ``recorded`` accepts comes after the ticket's last state change."""
    for event in reversed(h.events):
        if isinstance(event, StateChanged):
            return False
        if recorded(event):
            return True
    return False


def routing_group_problem(
    routing: RoutingConfig | None, support: SupportStructure | None
) -> tuple[str, str, str] | None:
    """The first routing group the support structure does not declare, as (path, name, expected).

    ``None`` when every group is declared, or when there is no routing or no structure.
    """
    if routing is None or support is None:
        return None
    declared = [g.name for g in support.groups]
    for index, group in enumerate(routing.groups):
        if group.group not in declared:
            return (
                f"routing.groups[{index}].group",
                group.group,
                f"a group of the support structure ({', '.join(declared) or 'none declared'})",
            )
    return None


def _rebuild(fields: dict[str, Any]) -> Desk:
    return Desk(**fields)


def _reached(calendar: CalendarLike, cycle: Cycle, percent: int) -> int | None:
    """When ``cycle`` reaches ``percent`` of its target (the breach at 100: its own record)."""
    if percent == 100:
        if cycle.breached_us is not None:
            return cycle.breached_us
        return cycle.due_us if cycle.running else None
    needed = -(-cycle.target_us * percent // 100)
    return cycle.reaches_us(calendar, needed)
