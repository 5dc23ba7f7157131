"""The routing configuration a desk carries, and the decisions made with it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle import History
from itsm_core.routing._assignment import (
    Candidate,
    GroupRouting,
    RoutingDecision,
    RoutingState,
    choose,
)
from itsm_core.routing._catalog import DEFAULT_CHANNELS, ServiceCatalog, check_channel
from itsm_core.routing._notifications import (
    Notification,
    NotificationRule,
    default_notification_rules,
    notifications_for,
)
from itsm_core.routing._staff import Agent, DutyRole, names
from itsm_core.ticket import Event, OpenTicket, Ticket, TicketCommand, UpdateField

__all__ = ["RoutingConfig"]


def _records(value: object, kind: type, field: str) -> tuple[Any, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError(field, value, f"a list of {kind.__name__}")
    out = tuple(value)
    for index, item in enumerate(out):
        if not isinstance(item, kind):
            raise InvalidValueError(f"{field}[{index}]", item, f"a {kind.__name__}")
    return out


def _staff(value: object) -> tuple[Agent, ...]:
    return _records(value, Agent, "routing.staff")


def _groups(value: object) -> tuple[GroupRouting, ...]:
    return _records(value, GroupRouting, "routing.groups")


def _duties(value: object) -> tuple[DutyRole, ...]:
    return _records(value, DutyRole, "routing.duties")


def _rules(value: object) -> tuple[NotificationRule, ...]:
    return _records(value, NotificationRule, "routing.notifications")


def _channels(value: object) -> tuple[str, ...]:
    return names(value, "routing.channels")


def _catalog(_: Any, __: Any, value: Any) -> None:
    if value is not None and not isinstance(value, ServiceCatalog):
        raise InvalidValueError("routing.catalog", value, "a ServiceCatalog or None")


@attrs.frozen(kw_only=True)
class RoutingConfig:
    """Who works when, how each group assigns, who is told what, and what tickets may say.

    ``staff`` are the agents; ``groups`` the routing of each group; ``duties``
    the roles held by shift; ``notifications`` the notification rules (the
    seeds' default preset unless given); ``channels`` the intake vocabulary;
    ``catalog`` the service catalog (``None``: services and categories are
    free text). Names are checked across the whole configuration.

    >>> RoutingConfig(groups=(GroupRouting(group="g", members=("ghost",)),))
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: routing.groups[0].members[0]: expected an agent \
of routing.staff, got 'ghost'
    """

    staff: tuple[Agent, ...] = attrs.field(default=(), converter=_staff)
    groups: tuple[GroupRouting, ...] = attrs.field(default=(), converter=_groups)
    duties: tuple[DutyRole, ...] = attrs.field(default=(), converter=_duties)
    notifications: tuple[NotificationRule, ...] = attrs.field(
        factory=default_notification_rules, converter=_rules
    )
    channels: tuple[str, ...] = attrs.field(default=DEFAULT_CHANNELS, converter=_channels)
    catalog: ServiceCatalog | None = attrs.field(default=None, validator=_catalog)

    def __attrs_post_init__(self) -> None:
        staff = names([a.name for a in self.staff], "routing.staff")
        names([g.group for g in self.groups], "routing.groups")
        names([d.name for d in self.duties], "routing.duties")
        names([r.name for r in self.notifications], "routing.notifications")
        known = set(staff)
        groups = {g.group for g in self.groups}
        for i, group in enumerate(self.groups):
            for j, member in enumerate(group.members):
                if member not in known:
                    raise InvalidValueError(
                        f"routing.groups[{i}].members[{j}]", member, "an agent of routing.staff"
                    )
            if group.fixed is not None and group.fixed not in known:
                raise InvalidValueError(
                    f"routing.groups[{i}].fixed", group.fixed, "an agent of routing.staff"
                )
            if group.fallback_group is not None and group.fallback_group not in groups:
                raise InvalidValueError(
                    f"routing.groups[{i}].fallback_group",
                    group.fallback_group,
                    "a group of routing.groups",
                )
        for i, duty in enumerate(self.duties):
            for j, holder in enumerate(duty.holders):
                if holder not in known:
                    raise InvalidValueError(
                        f"routing.duties[{i}].holders[{j}]", holder, "an agent of routing.staff"
                    )
        if self.catalog is not None:
            for i, service in enumerate(self.catalog.services):
                for j, group_name in enumerate(service.groups):
                    if group_name not in groups:
                        raise InvalidValueError(
                            f"routing.catalog.services[{i}].groups[{j}]",
                            group_name,
                            "a group of routing.groups",
                        )

    # -- look-ups --------------------------------------------------------------------

    def agent(self, name: str) -> Agent | None:
        """The agent called ``name``, ``None`` when the staff has none."""
        return next((a for a in self.staff if a.name == name), None)

    def group(self, name: str) -> GroupRouting | None:
        """The routing of group ``name``, ``None`` when it has none."""
        return next((g for g in self.groups if g.group == name), None)

    def group_contacts(self) -> dict[str, tuple[tuple[str, ...], str | None, str | None]]:
        """Each group's ``(members, supervisor, manager)``, as notifications resolve them."""
        return {g.group: (g.members, g.supervisor, g.manager) for g in self.groups}

    def available(self, at: datetime, *, loads: Mapping[str, int] | None = None) -> tuple[str, ...]:
        """The agents who can take a ticket at ``at`` (working, under capacity), in staff order."""
        counts = loads or {}
        return tuple(a.name for a in self.staff if a.is_available(at, load=counts.get(a.name, 0)))

    def on_duty(self, role: str, at: datetime) -> tuple[str, ...]:
        """Who holds duty role ``role`` at ``at``: its holders who are working then, in order.

        >>> import pendulum
        >>> from itsm_core.calendar import BusinessCalendar, WeeklySchedule
        >>> day = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(["08:00-20:00"]))
        >>> night = BusinessCalendar(timezone="UTC", weekly=WeeklySchedule.same(
        ...     ["20:00-24:00", "00:00-08:00"]))
        >>> config = RoutingConfig(
        ...     staff=(Agent(name="olga", calendar=day), Agent(name="nik", calendar=night)),
        ...     duties=(DutyRole(name="dispatcher", holders=("olga", "nik")),))
        >>> config.on_duty("dispatcher", pendulum.datetime(2026, 3, 2, 23))
        ('nik',)
        """
        duty = next((d for d in self.duties if d.name == role), None)
        if duty is None:
            known = ", ".join(d.name for d in self.duties) or "none"
            raise InvalidValueError("role", role, f"a duty role of the configuration ({known})")
        return tuple(
            name
            for name in duty.holders
            if (agent := self.agent(name)) is not None and agent.is_working(at)
        )

    # -- intake checks -----------------------------------------------------------------

    def check_command(self, ticket: Ticket | None, command: TicketCommand) -> None:
        """Check ``command``'s channel, service and category against the configuration.

        Opening checks the channel and the catalog; recategorising
        (``UpdateField`` of ``service`` or ``category``) checks the new pair.
        Other commands pass. Errors name the command's field.
        """
        if isinstance(command, OpenTicket):
            check_channel(command.channel, self.channels, "command.channel")
            if self.catalog is not None:
                self.catalog.check(
                    service=command.service, category=command.category, field="command."
                )
        elif (
            isinstance(command, UpdateField)
            and command.field in ("service", "category")
            and self.catalog is not None
        ):
            service = ticket.service if ticket is not None else None
            category = ticket.category if ticket is not None else None
            if command.field == "service":
                service = command.value  # type: ignore[assignment]
            else:
                category = command.value  # type: ignore[assignment]
            self.catalog.check(service=service, category=category, field="command.value.")

    # -- routing ---------------------------------------------------------------------

    def group_for(self, ticket: Ticket) -> str:
        """The group a ticket is routed in: its own, else its service's first supporting group."""
        if ticket.group is not None:
            return ticket.group
        if self.catalog is not None and ticket.service is not None:
            service = self.catalog.service(ticket.service)
            if service is not None and service.groups:
                return service.groups[0]
        raise InvalidValueError(
            "ticket.group", None, "a group, or a service of the catalog with supporting groups"
        )

    def route(
        self,
        ticket: Ticket,
        *,
        at: datetime,
        loads: Mapping[str, int] | None = None,
        state: RoutingState | None = None,
        group: str | None = None,
        exclude: tuple[str, ...] | None = None,
    ) -> RoutingDecision:
        """Decide who gets ``ticket`` at ``at``, and why; the same inputs give the same decision.

        ``group`` defaults to :meth:`group_for`; ``loads`` are the open tickets
        each agent holds now (given by the host); ``state`` is the routing
        state of the previous decision (round-robin positions); ``exclude``
        defaults to the current assignee. When nobody in the group is
        available its fallback fires: the queue, the supervisor, or another
        group (whose own fallback applies in turn).
        """
        counts = loads or {}
        current = state or RoutingState()
        skip = exclude if exclude is not None else ((ticket.assignee,) if ticket.assignee else ())
        agents = {a.name: a for a in self.staff}
        wanted = tuple(w for w in (ticket.service, ticket.category) if w is not None)
        name = group if group is not None else self.group_for(ticket)
        visited: list[str] = []
        rows: list[Candidate] = []
        while True:
            routing = self.group(name)
            if routing is None:
                known = ", ".join(g.group for g in self.groups) or "none"
                raise InvalidValueError("group", name, f"a group of the configuration ({known})")
            visited.append(name)
            chosen, position, considered = choose(
                routing,
                agents,
                at=at,
                loads=counts,
                position=current.position(name),
                wanted=wanted,
                exclude=skip,
            )
            rows += considered
            fell_back = len(visited) > 1
            assignee: str | None
            if chosen is not None:
                if routing.strategy == "round_robin":
                    current = current.advanced(name, position)
                outcome, assignee = "assigned", chosen
                why = f"{routing.strategy.replace('_', ' ')} in {name}"
                if fell_back:
                    why = f"nobody available in {visited[0]}; {why}"
            elif routing.fallback == "group" and routing.fallback_group not in visited:
                assert routing.fallback_group is not None  # checked by GroupRouting
                name = routing.fallback_group
                continue
            else:
                fell_back = True
                nobody = f"nobody available in {', '.join(visited)}"
                if routing.fallback == "supervisor":
                    outcome, assignee = "supervisor", routing.supervisor
                    why = f"{nobody}; escalated to the supervisor {routing.supervisor}"
                else:
                    outcome, assignee = "queued", None
                    why = f"{nobody}; queued in {name}"
            return RoutingDecision(
                ticket_id=ticket.id,
                group=name,
                assignee=assignee,
                outcome=outcome,
                support_line=routing.support_line,
                fallback=fell_back,
                reason=why,
                candidates=tuple(rows),
                state=current,
            )

    # -- notifications -------------------------------------------------------------------

    def notify(
        self,
        events: History | Iterable[Event],
        *,
        ticket: Ticket | None = None,
        since: int = 0,
    ) -> tuple[Notification, ...]:
        """The notifications this configuration's rules ask for on a ticket's new events.

        ``events`` is a :class:`~itsm_core.lifecycle.History` whose new events
        start at index ``since`` (what the desk passes), or plain new events
        following ``ticket``. See :func:`~itsm_core.routing.notifications_for`;
        groups resolve through :meth:`group_contacts`.
        """
        return notifications_for(
            self.notifications, events, ticket=ticket, since=since, groups=self.group_contacts()
        )
