"""Assignment strategies as data, and the explained decision they produce."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from itsm_core.errors import InvalidValueError
from itsm_core.routing._staff import Agent, Validator, names
from itsm_core.ticket import Assign, Reassign, Ticket

__all__ = [
    "FALLBACKS",
    "OUTCOMES",
    "STRATEGIES",
    "Candidate",
    "GroupRouting",
    "RoutingDecision",
    "RoutingState",
    "choose",
]

#: How a group picks among its available members.
STRATEGIES: dict[str, str] = {
    "fixed": "always the agent named in `fixed`, when available",
    "round_robin": "the next available member after the last one chosen (the state's position)",
    "least_loaded": "the available member with the fewest open tickets (ties: member order)",
    "skills": "the available member whose skills match most of the ticket's service and "
    "category (ties: fewest open tickets, then member order)",
}
#: What happens when no member of the group is available.
FALLBACKS: dict[str, str] = {
    "queue": "the ticket waits in the group's queue, unassigned",
    "supervisor": "the ticket goes to the group's supervisor",
    "group": "the ticket is routed in `fallback_group` (its own fallback applies there)",
}
#: The outcomes of a routing decision.
OUTCOMES: tuple[str, ...] = ("assigned", "supervisor", "queued")


def _choice(vocabulary: Mapping[str, str] | tuple[str, ...], field: str) -> Validator:
    def check(_: Any, __: Any, value: Any) -> None:
        if value not in vocabulary:
            raise InvalidValueError(field, value, f"one of {', '.join(vocabulary)}")

    return check


def _optional_name(field: str) -> Validator:
    def check(_: Any, __: Any, value: Any) -> None:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidValueError(field, value, "a non-empty name or None")

    return check


def _group_name(_: Any, __: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError("group_routing.group", value, "a non-empty group name")


def _line(_: Any, __: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise InvalidValueError("group_routing.support_line", value, "a support line >= 1 or None")


def _group_routing_members(value: object) -> tuple[str, ...]:
    return names(value, "group_routing.members")


@attrs.frozen(kw_only=True)
class GroupRouting:
    """How tickets given to ``group`` find an agent: a strategy over ``members``, and a fallback.

    ``strategy`` is one of :data:`STRATEGIES`; ``fixed`` names the agent of the
    ``fixed`` strategy. When no member is available, ``fallback`` (one of
    :data:`FALLBACKS`) queues the ticket, gives it to ``supervisor`` or routes
    it in ``fallback_group``. ``supervisor`` and ``manager`` are also whom
    notification rules name.

    >>> GroupRouting(group="first-line", members=("olga", "pavel"), support_line=1).strategy
    'round_robin'
    >>> GroupRouting(group="g", strategy="random")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: group_routing.strategy: expected one of fixed, \
round_robin, least_loaded, skills, got 'random'
    """

    group: str = attrs.field(validator=_group_name)
    strategy: str = attrs.field(
        default="round_robin", validator=_choice(STRATEGIES, "group_routing.strategy")
    )
    members: tuple[str, ...] = attrs.field(default=(), converter=_group_routing_members)
    fixed: str | None = attrs.field(default=None, validator=_optional_name("group_routing.fixed"))
    support_line: int | None = attrs.field(default=None, validator=_line)
    fallback: str = attrs.field(
        default="queue", validator=_choice(FALLBACKS, "group_routing.fallback")
    )
    fallback_group: str | None = attrs.field(
        default=None, validator=_optional_name("group_routing.fallback_group")
    )
    supervisor: str | None = attrs.field(
        default=None, validator=_optional_name("group_routing.supervisor")
    )
    manager: str | None = attrs.field(
        default=None, validator=_optional_name("group_routing.manager")
    )

    def __attrs_post_init__(self) -> None:
        if self.strategy == "fixed" and self.fixed is None:
            raise InvalidValueError("group_routing.fixed", None, "the agent of the fixed strategy")
        if self.fallback == "supervisor" and self.supervisor is None:
            raise InvalidValueError(
                "group_routing.supervisor", None, "a supervisor for the supervisor fallback"
            )
        if self.fallback == "group" and self.fallback_group in (None, self.group):
            raise InvalidValueError(
                "group_routing.fallback_group", self.fallback_group, "another group to route to"
            )

    @property
    def candidates(self) -> tuple[str, ...]:
        """The agents the strategy chooses among (the fixed agent, or the members)."""
        return (self.fixed,) if self.strategy == "fixed" and self.fixed else self.members


def _positions(value: object) -> tuple[tuple[str, int], ...]:
    items = dict(value) if isinstance(value, Mapping) else value
    if isinstance(items, Mapping):
        items = tuple(items.items())
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise InvalidValueError("routing_state.positions", value, "(group, position) pairs")
    out: dict[str, int] = {}
    for index, pair in enumerate(items):
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not isinstance(pair[0], str)
            or not isinstance(pair[1], int)
            or isinstance(pair[1], bool)
            or pair[1] < 0
        ):
            raise InvalidValueError(
                f"routing_state.positions[{index}]", pair, "a (group, position >= 0) pair"
            )
        out[pair[0]] = pair[1]
    return tuple(sorted(out.items()))


@attrs.frozen(kw_only=True)
class RoutingState:
    """What routing remembers between tickets: each round-robin group's next position.

    The host stores it and passes it back; equal inputs give equal decisions.

    >>> RoutingState().position("first-line")
    0
    >>> RoutingState().advanced("first-line", 2).positions
    (('first-line', 2),)
    """

    positions: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_positions)

    def position(self, group: str) -> int:
        """The index in ``group``'s members where the next round-robin search starts."""
        return dict(self.positions).get(group, 0)

    def advanced(self, group: str, position: int) -> RoutingState:
        """The state with ``group``'s position set to ``position``."""
        return RoutingState(positions=(*self.positions, (group, position)))


@attrs.frozen(kw_only=True)
class Candidate:
    """One agent routing considered: in which group, whether chosen, and why (or why not).

    >>> print(Candidate(agent="olga", group="first-line", chosen=True, reason="next in turn"))
    first-line/olga: chosen, next in turn
    """

    agent: str
    group: str
    chosen: bool
    reason: str

    def __str__(self) -> str:
        return f"{self.group}/{self.agent}: {'chosen' if self.chosen else 'not'}, {self.reason}"


@attrs.frozen(kw_only=True)
class RoutingDecision:
    """Where a ticket goes and why: the agent (or the queue), and every candidate's reason.

    ``outcome`` is one of :data:`OUTCOMES`; ``fallback`` tells whether a
    fallback fired (nobody was available in the group first asked);
    ``state`` is the routing state to store for the next decision.

    >>> import pendulum
    >>> from itsm_core.routing import Agent, RoutingConfig
    >>> config = RoutingConfig(staff=(Agent(name="ann", capacity=1),), groups=(
    ...     GroupRouting(group="desk", members=("ann",), fallback="supervisor",
    ...                  supervisor="sam"),))
    >>> at = pendulum.datetime(2026, 3, 2, 9)
    >>> ticket = Ticket(id="I-9", type="incident", state="new", state_category="new",
    ...                 title="t", requester="r", opened_at=at, updated_at=at, group="desk")
    >>> decision = config.route(ticket, at=at, loads={"ann": 1})
    >>> decision.outcome, decision.assignee, decision.fallback
    ('supervisor', 'sam', True)
    >>> print(decision.explain())
    I-9 -> sam in desk: nobody available in desk; escalated to the supervisor sam
      desk/ann: not, at capacity (1 of 1 open tickets)
    """

    ticket_id: str
    group: str
    assignee: str | None
    outcome: str
    support_line: int | None
    fallback: bool
    reason: str
    candidates: tuple[Candidate, ...] = ()
    state: RoutingState = attrs.field(factory=RoutingState)

    def command(self, ticket: Ticket, *, reason: str = "") -> Assign | Reassign | None:
        """The command that carries the decision out on ``ticket`` (``None``: leave it queued).

        An unassigned ticket gets :class:`~itsm_core.ticket.Assign`, an
        assigned one :class:`~itsm_core.ticket.Reassign` with ``reason`` (the
        decision's own reason by default); nothing when the ticket already sits
        where the decision puts it.
        """
        if self.assignee is None:
            return None
        where = (self.assignee, self.group, self.support_line)
        if ticket.assignee is None:
            return Assign(assignee=self.assignee, group=self.group, support_line=self.support_line)
        if where == (ticket.assignee, ticket.group, ticket.support_line):
            return None
        return Reassign(
            assignee=self.assignee,
            group=self.group,
            support_line=self.support_line,
            reason=reason or self.reason,
        )

    def explain(self) -> str:
        """The decision in words, one line per candidate.

        >>> d = RoutingDecision(ticket_id="I-1", group="g", assignee=None, outcome="queued",
        ...                     support_line=None, fallback=True, reason="nobody available",
        ...                     candidates=(Candidate(agent="a", group="g", chosen=False,
        ...                                           reason="on vacation"),))
        >>> print(d.explain())
        I-1 -> queued in g: nobody available
          g/a: not, on vacation
        """
        head = (
            f"{self.ticket_id} -> {self.assignee} in {self.group}"
            if self.assignee is not None
            else f"{self.ticket_id} -> queued in {self.group}"
        )
        return "\n".join([f"{head}: {self.reason}", *(f"  {c}" for c in self.candidates)])


def choose(
    routing: GroupRouting,
    agents: Mapping[str, Agent],
    *,
    at: datetime,
    loads: Mapping[str, int],
    position: int = 0,
    wanted: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> tuple[str | None, int, tuple[Candidate, ...]]:
    """The agent ``routing``'s strategy picks at ``at``, the next position, and each reason.

    ``wanted`` are the ticket's service and category (for ``skills``);
    ``exclude`` are agents not to choose (the current assignee). ``None`` is
    chosen exactly when no candidate is available.

    >>> import pendulum
    >>> agents = {n: Agent(name=n, capacity=3) for n in ("a", "b", "c")}
    >>> chosen, _, why = choose(GroupRouting(group="g", strategy="least_loaded",
    ...                                      members=("a", "b", "c")), agents,
    ...                         at=pendulum.datetime(2026, 3, 2), loads={"a": 3, "b": 2, "c": 1})
    >>> chosen, [c.reason for c in why]
    ('c', ['at capacity (3 of 3 open tickets)', '2 open tickets, more than 1', '1 open tickets, \
the fewest'])
    """
    group = routing.group
    order = routing.candidates
    blocked: dict[str, str] = {}
    for name in order:
        agent = agents.get(name)
        if agent is None:
            blocked[name] = "not on the staff"
        elif name in exclude:
            blocked[name] = "already holds the ticket"
        else:
            why = agent.unavailable_reason(at, load=loads.get(name, 0))
            if why is not None:
                blocked[name] = why
    available = [i for i, name in enumerate(order) if name not in blocked]
    scores: dict[str, int] = {}
    if routing.strategy == "skills" and wanted:
        for i in list(available):
            name = order[i]
            scores[name] = sum(1 for w in wanted if w in agents[name].skills)
            if scores[name] == 0:
                blocked[name] = f"no skill for {' or '.join(map(repr, wanted))}"
                available.remove(i)
    chosen_index: int | None = None
    if available:
        if routing.strategy == "round_robin":
            n = len(order)
            start = position % n
            chosen_index = min(available, key=lambda i: (i - start) % n)
        elif routing.strategy in ("least_loaded", "skills"):
            chosen_index = min(
                available,
                key=lambda i: (-scores.get(order[i], 0), loads.get(order[i], 0), i),
            )
        else:  # fixed: its only candidate
            chosen_index = available[0]
    chosen = order[chosen_index] if chosen_index is not None else None
    new_position = (chosen_index + 1) % len(order) if chosen_index is not None else position
    rows = tuple(
        Candidate(
            agent=name,
            group=group,
            chosen=name == chosen,
            reason=blocked.get(name)
            or _why(routing.strategy, name, chosen, agents, loads, scores, wanted),
        )
        for name in order
    )
    return chosen, new_position, rows


def _why(
    strategy: str,
    name: str,
    chosen: str | None,
    agents: Mapping[str, Agent],
    loads: Mapping[str, int],
    scores: Mapping[str, int],
    wanted: tuple[str, ...],
) -> str:
    load = loads.get(name, 0)
    if strategy == "fixed":
        return "the group's fixed agent, available"
    if strategy == "round_robin":
        return "next in turn" if name == chosen else f"available, but {chosen} came first in turn"
    assert chosen is not None  # an available candidate exists, so one was chosen
    best = loads.get(chosen, 0)
    if strategy == "skills" and wanted:
        mine, top = scores.get(name, 0), scores.get(chosen, 0)
        if name == chosen:
            return f"matches {mine} of {len(wanted)} wanted skills, {load} open tickets"
        if mine < top:
            return f"matches {mine} of {len(wanted)} wanted skills, fewer than {top}"
    if name == chosen:
        return f"{load} open tickets, the fewest"
    if load > best:
        return f"{load} open tickets, more than {best}"
    return f"{load} open tickets, as few, but {chosen} comes first among the members"
