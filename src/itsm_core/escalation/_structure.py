"""The support structure as data: groups on support lines and the routing rules between them."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from itsm_core.errors import ConfigurationError, InvalidValueError, Problem, named_field_errors
from itsm_core.ticket import Assign, Ticket

__all__ = ["EXTERNAL_LINE", "LINE_NAMES", "Route", "SupportGroup", "SupportStructure"]

#: The line number conventionally given to external contractors (after the third line).
EXTERNAL_LINE = 4
#: How the usual lines are called, for messages and tables.
LINE_NAMES: dict[int, str] = {1: "first line", 2: "second line", 3: "third line", 4: "external"}


def _names(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _text_problems(path: str, values: tuple[object, ...]) -> list[Problem]:
    return [
        Problem(f"{path}[{i}]", f"expected a non-empty name, got {v!r}")
        for i, v in enumerate(values)
        if not isinstance(v, str) or not v.strip()
    ]


@named_field_errors
@attrs.frozen(kw_only=True)
class SupportGroup:
    """A support group: its line, its people and what it covers.

    ``line`` is 1 for the first line (the help desk that registers requests and
    solves the typical ones), 2 for the second (administrators), 3 for the
    third (experts who may change code); external contractors conventionally
    take :data:`EXTERNAL_LINE` with ``external=True``. ``categories``,
    ``services`` and ``skills`` say what the group covers (empty: anything).
    ``supervisor`` leads the group and receives hierarchical escalations;
    ``manager`` is the next rung. ``dispatcher`` receives the tickets routed
    to the group (default: the first member, else the supervisor).
    ``escalates_to`` names the group that functional escalation goes to,
    overriding the search by line.

    >>> desk = SupportGroup(name="help-desk", line=1, members=("dana", "eli"),
    ...                     supervisor="sam", manager="mona")
    >>> desk.receiver, desk.covers(category="printing")
    ('dana', True)
    """

    name: str
    line: int
    members: tuple[str, ...] = attrs.field(default=(), converter=_names)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_names)
    services: tuple[str, ...] = attrs.field(default=(), converter=_names)
    skills: tuple[str, ...] = attrs.field(default=(), converter=_names)
    supervisor: str | None = None
    manager: str | None = None
    dispatcher: str | None = None
    escalates_to: str | None = None
    external: bool = False
    description: str = ""

    def problems(self, path: str = "group") -> list[Problem]:
        """Every problem of this group (empty when it is valid)."""
        problems: list[Problem] = []
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(
                Problem(f"{path}.name", f"expected a non-empty name, got {self.name!r}")
            )
        if not isinstance(self.line, int) or isinstance(self.line, bool) or self.line < 1:
            problems.append(
                Problem(f"{path}.line", f"expected a line number of 1 or more, got {self.line!r}")
            )
        for field in ("members", "categories", "services", "skills"):
            problems += _text_problems(f"{path}.{field}", getattr(self, field))
        for field in ("supervisor", "manager", "dispatcher", "escalates_to"):
            value = getattr(self, field)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                problems.append(
                    Problem(f"{path}.{field}", f"expected a non-empty name or None, got {value!r}")
                )
        if not isinstance(self.external, bool):
            problems.append(Problem(f"{path}.external", f"expected a bool, got {self.external!r}"))
        if self.receiver is None:
            problems.append(
                Problem(path, "a group needs a dispatcher, a supervisor or at least one member")
            )
        return problems

    @property
    def receiver(self) -> str | None:
        """Who receives tickets routed to the group: dispatcher, first member, supervisor."""
        if self.dispatcher is not None:
            return self.dispatcher
        return self.members[0] if self.members else self.supervisor

    def covers(
        self,
        *,
        category: str | None = None,
        service: str | None = None,
        skill: str | None = None,
    ) -> bool:
        """Whether the group covers a category, a service and a skill (``None``: any).

        >>> net = SupportGroup(name="network", line=2, members=("nik",),
        ...                    categories=("network",), skills=("cisco",))
        >>> net.covers(category="network", skill="cisco"), net.covers(category="printing")
        (True, False)
        """
        if category is not None and self.categories and category not in self.categories:
            return False
        if service is not None and self.services and service not in self.services:
            return False
        return skill is None or skill in self.skills

    def specific_to(self, *, category: str | None = None, service: str | None = None) -> bool:
        """Whether the group names ``category`` or ``service`` explicitly (not just "anything").

        >>> SupportGroup(name="n", line=2, members=("x",), services=("mail",)).specific_to(
        ...     service="mail")
        True
        """
        return (category is not None and category in self.categories) or (
            service is not None and service in self.services
        )


@named_field_errors
@attrs.frozen(kw_only=True)
class Route:
    """A routing rule: tickets of these types, categories and services go to ``group``.

    Every field that is set must match (empty: anything). Routes are tried in
    order at registration; the first that matches wins.

    >>> Route(group="network", categories=("network", "vpn")).categories
    ('network', 'vpn')
    """

    group: str
    types: tuple[str, ...] = attrs.field(default=(), converter=_names)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_names)
    services: tuple[str, ...] = attrs.field(default=(), converter=_names)

    def matches(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` takes this route."""
        return (
            (not self.types or ticket.type in self.types)
            and (not self.categories or ticket.category in self.categories)
            and (not self.services or ticket.service in self.services)
        )


def _groups(value: Iterable[SupportGroup]) -> tuple[SupportGroup, ...]:
    return tuple(value)


def _routes(value: Iterable[Route]) -> tuple[Route, ...]:
    return tuple(value)


@named_field_errors
@attrs.frozen(kw_only=True)
class SupportStructure:
    """The support groups of a desk and the routes that send tickets to them.

    Validated when built (a :class:`~itsm_core.errors.ConfigurationError`
    lists every problem): unique group names, routes, ``escalates_to`` and
    ``default_group`` naming known groups. :meth:`route` picks the group a new
    ticket goes to; :meth:`next_line` the group that functional escalation
    goes to. ``manager`` heads the desk: the ``manager`` role of a group that
    names none of its own.

    >>> desk = SupportStructure(
    ...     groups=(
    ...         SupportGroup(name="help-desk", line=1, members=("dana",), supervisor="sam"),
    ...         SupportGroup(name="admins", line=2, members=("ari",), categories=("access",)),
    ...         SupportGroup(name="experts", line=3, members=("eve",)),
    ...     ),
    ...     default_group="help-desk",
    ... )
    >>> desk.next_line("help-desk", category="access").name
    'admins'
    >>> desk.next_line("admins").name, desk.next_line("experts")
    ('experts', None)
    """

    groups: tuple[SupportGroup, ...] = attrs.field(converter=_groups)
    routes: tuple[Route, ...] = attrs.field(default=(), converter=_routes)
    default_group: str | None = None
    manager: str | None = None
    _by_name: dict[str, SupportGroup] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        by_name: dict[str, SupportGroup] = {}
        for i, group in enumerate(self.groups):
            if not isinstance(group, SupportGroup):
                problems.append(Problem(f"groups[{i}]", f"expected a SupportGroup, got {group!r}"))
                continue
            problems += group.problems(f"groups[{i}]")
            if group.name in by_name:
                problems.append(
                    Problem(f"groups[{i}].name", f"expected a unique name, got {group.name!r}")
                )
            by_name[group.name] = group
        known = ", ".join(sorted(by_name)) or "no group"
        for i, group in enumerate(self.groups):
            if (
                isinstance(group, SupportGroup)
                and group.escalates_to is not None
                and group.escalates_to not in by_name
            ):
                problems.append(
                    Problem(
                        f"groups[{i}].escalates_to",
                        f"expected one of {known}, got {group.escalates_to!r}",
                    )
                )
        for i, route in enumerate(self.routes):
            if not isinstance(route, Route):
                problems.append(Problem(f"routes[{i}]", f"expected a Route, got {route!r}"))
            elif route.group not in by_name:
                problems.append(
                    Problem(f"routes[{i}].group", f"expected one of {known}, got {route.group!r}")
                )
        if self.default_group is not None and self.default_group not in by_name:
            problems.append(
                Problem("default_group", f"expected one of {known}, got {self.default_group!r}")
            )
        if problems:
            raise ConfigurationError(problems)
        object.__setattr__(self, "_by_name", by_name)

    def group(self, name: str) -> SupportGroup:
        """The group called ``name``.

        >>> SupportStructure(groups=()).group("nobody")
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: group: expected one of no group, got 'nobody'
        """
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._by_name)) or "no group"
            raise InvalidValueError("group", name, f"one of {known}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._by_name

    def line_of(self, name: str | None) -> int | None:
        """The line of group ``name`` (``None`` for no group or an unknown one)."""
        group = self._by_name.get(name) if isinstance(name, str) else None
        return None if group is None else group.line

    def on_line(self, line: int) -> tuple[SupportGroup, ...]:
        """The groups of one line, in the order they were declared."""
        return tuple(g for g in self.groups if g.line == line)

    def route(self, ticket: Ticket) -> SupportGroup | None:
        """The group a ticket goes to at registration: the first matching route, else default.

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> t = Ticket(id="SR-1", type="service_request", state="new", state_category="new",
        ...            title="Password reset", requester="ann", opened_at=at, updated_at=at,
        ...            category="access")
        >>> desk = SupportStructure(
        ...     groups=(SupportGroup(name="help-desk", line=1, members=("dana",)),
        ...             SupportGroup(name="admins", line=2, members=("ari",))),
        ...     routes=(Route(group="admins", categories=("vpn",)),),
        ...     default_group="help-desk")
        >>> desk.route(t).name
        'help-desk'
        """
        for route in self.routes:
            if route.matches(ticket):
                return self._by_name[route.group]
        return None if self.default_group is None else self._by_name[self.default_group]

    def assignment(self, ticket: Ticket) -> Assign | None:
        """The :class:`~itsm_core.ticket.Assign` command that registers ``ticket`` with its route.

        ``None`` when no route and no default group applies.

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> t = Ticket(id="SR-1", type="service_request", state="new", state_category="new",
        ...            title="Password reset", requester="ann", opened_at=at, updated_at=at)
        >>> desk = SupportStructure(
        ...     groups=(SupportGroup(name="help-desk", line=1, members=("dana",)),),
        ...     default_group="help-desk")
        >>> desk.assignment(t)
        Assign(assignee='dana', group='help-desk', support_line=1)
        """
        group = self.route(ticket)
        if group is None:
            return None
        return Assign(assignee=group.receiver or "", group=group.name, support_line=group.line)

    def next_line(
        self,
        group: str,
        *,
        category: str | None = None,
        service: str | None = None,
        skill: str | None = None,
    ) -> SupportGroup | None:
        """The group functional escalation goes to from ``group`` (``None``: no line above).

        ``escalates_to`` wins when set. Otherwise the groups of the nearest
        higher line that cover the category, service and skill are candidates;
        one that names the category or service explicitly is preferred to one
        that covers anything; ties go to the first declared.

        >>> desk = SupportStructure(groups=(
        ...     SupportGroup(name="desk", line=1, members=("d",)),
        ...     SupportGroup(name="admins", line=2, members=("a",)),
        ...     SupportGroup(name="dba", line=2, members=("b",), categories=("database",)),
        ... ))
        >>> desk.next_line("desk", category="database").name, desk.next_line("desk").name
        ('dba', 'admins')
        """
        current = self.group(group)
        if current.escalates_to is not None:
            return self._by_name[current.escalates_to]
        higher = sorted({g.line for g in self.groups if g.line > current.line})
        for line in higher:
            candidates = [
                g
                for g in self.groups
                if g.line == line and g.covers(category=category, service=service, skill=skill)
            ]
            if candidates:
                specific = [
                    g for g in candidates if g.specific_to(category=category, service=service)
                ]
                return (specific or candidates)[0]
        return None

    def next_line_for(self, ticket: Ticket, *, skill: str | None = None) -> SupportGroup | None:
        """:meth:`next_line` from the ticket's group, for its category and service.

        A ticket without a known group goes to its route's group, where
        registration would have sent it.

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> t = Ticket(id="INC-1", type="incident", state="new", state_category="new",
        ...            title="t", requester="r", opened_at=at, updated_at=at, group="desk")
        >>> desk = SupportStructure(groups=(
        ...     SupportGroup(name="desk", line=1, members=("d",)),
        ...     SupportGroup(name="admins", line=2, members=("a",)),
        ... ), default_group="desk")
        >>> desk.next_line_for(t).name
        'admins'
        """
        if ticket.group is None or ticket.group not in self._by_name:
            return self.route(ticket)
        return self.next_line(
            ticket.group, category=ticket.category, service=ticket.service, skill=skill
        )

    def supervisor_of(self, group: str | None) -> str | None:
        """The supervisor of ``group`` (``None`` when unknown or unset)."""
        found = self._by_name.get(group) if isinstance(group, str) else None
        return None if found is None else found.supervisor

    def manager_of(self, group: str | None) -> str | None:
        """The manager of ``group``, else the desk's manager (``None`` when neither is set)."""
        found = self._by_name.get(group) if isinstance(group, str) else None
        if found is not None and found.manager is not None:
            return found.manager
        return self.manager

    def members_of(self, group: str) -> tuple[str, ...]:
        """The members of ``group``; an unknown name raises."""
        return self.group(group).members
