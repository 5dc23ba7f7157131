"""``st.from_type`` draws every public type of the library.

:func:`register_strategies` registers a strategy for each public type; the
``hypothesis`` entry point of the package (the stand-alone module
``_itsm_core_hypothesis``) calls it as soon as both Hypothesis and itsm_core are
imported, in either order, without making ``import hypothesis`` import
itsm_core. Call it yourself where entry points are turned off
(``HYPOTHESIS_NO_PLUGINS``). The strategies are built on the first
``st.from_type`` that needs one.

Records without a strategy of their own are drawn from the ones that have one
(a :class:`~itsm_core.sla.Condition` is a condition of a drawn policy, a
:class:`~itsm_core.calendar.Window` a window of a drawn calendar...); SLA
statuses, clocks and cycles are what ``evaluate`` answers over the preset
calendars; events and commands are built field by field from their types, with
aware datetimes, finite numbers and short texts, so they shrink towards empty
texts, zeros and the first instant of 2026.
"""

from __future__ import annotations

import functools
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from itsm_core.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    Closure,
    CompositeCalendar,
    DateOverride,
    DateRange,
    MonthDay,
    WeeklySchedule,
    Window,
)
from itsm_core.desk import Due, Outcome, TicketStatus
from itsm_core.escalation import (
    Action,
    DueEscalation,
    EscalationConditions,
    EscalationLevel,
    EscalationRule,
    Route,
    SupportGroup,
    SupportStructure,
    Trigger,
)
from itsm_core.lifecycle import (
    RELATIONS,
    DueTransition,
    FieldDef,
    FollowUp,
    Guard,
    LifecycleDef,
    Policies,
    StateDef,
    TransitionDef,
    default_definitions,
)
from itsm_core.metrics import Compliance, ComplianceKey, CreditRule, ServiceCredit, service_credit
from itsm_core.permissions import Decision, TicketView, default_policy
from itsm_core.priority import Cell, Level, PriorityLevel, PriorityMatrix, RequesterMask
from itsm_core.routing import DEFAULT_CHANNELS, Agent, GroupRouting, RoutingConfig
from itsm_core.sla import (
    Applicability,
    Condition,
    Cycle,
    Metric,
    MetricClock,
    SlaPolicy,
    SlaStatus,
    TimelineEntry,
)
from itsm_core.testing._memo import memoized, sampled
from itsm_core.ticket import (
    ArticleLink,
    Attachment,
    Event,
    FieldValue,
    Link,
    Ticket,
    TicketCommand,
)

__all__ = ["aware_datetimes", "desks", "events", "register_strategies", "ticket_commands_any"]

_ZONES = (UTC, timezone(timedelta(hours=3)), ZoneInfo("Europe/Moscow"), ZoneInfo("Europe/London"))
_TEXT = st.text(max_size=8)
_SCALARS: st.SearchStrategy[FieldValue] = st.one_of(
    _TEXT,
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Aware datetimes from 2026 on, in UTC, a fixed offset or a zone with DST.

    Repeated and skipped wall times of the zones are included (with either
    ``fold``); shrinks towards 2026-01-01T00:00 UTC.

    Two draws a datetime: the zone with the kind of wall time (whole minutes,
    whole seconds, any microsecond, or a tricky one: either side of a DST
    transition of the zones, inside its gap or fold, a year's or the range's
    edge, a leap day), then the wall time (with its ``fold``) as one integer.

    >>> from hypothesis import find
    >>> find(aware_datetimes(), lambda dt: True).isoformat()
    '2026-01-01T00:00:00+00:00'
    >>> def fold_matters(dt):
    ...     return dt.fold == 1 and dt.utcoffset() != dt.replace(fold=0).utcoffset()
    >>> at = find(aware_datetimes(), fold_matters)  # a wall time London skips
    >>> at.isoformat(), at.fold, str(at.tzinfo)
    ('2026-03-29T01:00:00+01:00', 1, 'Europe/London')
    """
    return _AWARE_DATETIMES


_FIRST_WALL = datetime.min.replace(year=2026)  # noqa: DTZ901 - a wall time, zone drawn
_LAST_WALL = datetime.min.replace(year=2036, month=12, day=31)  # noqa: DTZ901


@functools.cache
def _tricky_walls() -> tuple[tuple[datetime, int], ...]:
    """Wall times (with either fold) around the zones' DST transitions and calendar edges."""
    walls = {_FIRST_WALL, _LAST_WALL, _LAST_WALL - timedelta(microseconds=1)}
    for year in range(2026, 2037):
        first = _FIRST_WALL.replace(year=year)
        walls |= {first, first - timedelta(microseconds=1)}
        if year % 4 == 0:
            walls.add(first.replace(month=2, day=29, hour=12))
    hour, tiny = timedelta(hours=1), timedelta(microseconds=1)
    for zone in _ZONES:
        at = _FIRST_WALL.replace(tzinfo=UTC)
        while at < _LAST_WALL.replace(tzinfo=UTC):
            before, after = (
                at.astimezone(zone).utcoffset(),
                (at + hour).astimezone(zone).utcoffset(),
            )
            if before is not None and after is not None and before != after:
                # The change is inside this UTC hour: find the minute, then its walls.
                change = next(
                    at + timedelta(minutes=m)
                    for m in range(1, 61)
                    if (at + timedelta(minutes=m)).astimezone(zone).utcoffset() == after
                )
                low, high = sorted((change + before, change + after))
                for wall in (low - tiny, low, low + (high - low) / 2, high - tiny, high):
                    walls.add(wall.replace(tzinfo=None))
            at += hour * (1 if before != (at + 24 * hour).astimezone(zone).utcoffset() else 24)
    inside = sorted(wall for wall in walls if _FIRST_WALL <= wall <= _LAST_WALL)
    return tuple((wall, fold) for wall in inside for fold in (0, 1))


@functools.cache
def _tricky_index() -> st.SearchStrategy[int]:
    return st.integers(0, len(_tricky_walls()) - 1)


_SPAN = _LAST_WALL - _FIRST_WALL
# A drawn value v is a count of units from the first wall time: v // 2 units, fold v % 2.
_UNITS = {
    "minute": timedelta(minutes=1),
    "second": timedelta(seconds=1),
    "micro": timedelta(microseconds=1),
}
_UNIT_VALUES = {name: st.integers(0, 2 * (_SPAN // unit) + 1) for name, unit in _UNITS.items()}
_WALL_KINDS = ("minute", "second", "micro", "micro", "micro", "tricky")
_ZONE_KINDS = tuple((zone, kind) for zone in _ZONES for kind in _WALL_KINDS)


@st.composite
def _aware(draw: st.DrawFn) -> datetime:
    zone, kind = draw(sampled(_ZONE_KINDS))
    if kind == "tricky":
        wall, fold = _tricky_walls()[draw(_tricky_index())]
    else:
        value = draw(_UNIT_VALUES[kind])
        wall, fold = _FIRST_WALL + _UNITS[kind] * (value // 2), value % 2
    return wall.replace(tzinfo=zone, fold=fold)


_AWARE_DATETIMES = _aware()


def _of(t: Any) -> st.SearchStrategy[Any]:
    """A strategy for a field type of an event or a command."""
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: _TEXT,
        int: st.integers(-(2**31), 2**31),
        bool: st.booleans(),
        datetime: aware_datetimes(),
        date: st.dates(),
        timedelta: st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
        Decimal: st.decimals(allow_nan=False, allow_infinity=False, places=2),
        type(None): st.none(),
    }
    if t in simple:
        return simple[t]
    if t == FieldValue:
        return _SCALARS
    if t == FieldValue | None:
        return st.one_of(st.none(), _SCALARS)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(_of(args[0]), max_size=3).map(tuple)
    if origin is tuple:
        return st.tuples(*(_of(a) for a in args))
    if args and origin in (typing.Union, type(int | str)):
        return st.one_of(*(_of(a) for a in args))
    if t is Ticket:
        return st.deferred(lambda: st.from_type(Ticket))
    if t is Link:
        return st.builds(Link, kind=st.sampled_from(("parent", "related")), ticket_id=_TEXT)
    if t is Attachment:
        return _ATTACHMENTS
    if t is ArticleLink:
        return st.builds(ArticleLink, article_id=_NAME, title=_TEXT)
    # Deferred: the type's own strategy may be registered after this one is built.
    return st.deferred(lambda: st.from_type(t))


_NAME = _TEXT.filter(str.strip)
_CAPACITIES = st.one_of(st.none(), st.integers(1, 20))
_ATTACHMENTS = st.builds(
    Attachment,
    id=_NAME,
    file_name=_NAME,
    size=st.integers(0, 2**40),
    media_type=st.sampled_from(("application/octet-stream", "image/png", "text/plain")),
)


def _record(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    fields = {a.name: _of(hints[a.name]) for a in attrs.fields(cls) if a.init}
    return st.builds(cls, **fields)


def _family(base: type) -> list[type]:
    found: list[type] = []
    stack: list[type] = list(base.__subclasses__())
    while stack:
        cls = stack.pop(0)
        stack.extend(cls.__subclasses__())
        # Skip the classes that slotted attrs classes replaced (not yet collected).
        if "__attrs_attrs__" in cls.__dict__ and cls.__module__.startswith("itsm_core."):
            found.append(cls)
    return found


@memoized
def events() -> st.SearchStrategy[Event]:
    """Any event of the library (ticket and escalation events), built field by field.

    The fields are arbitrary: the events round-trip through their plain form
    but need not make a valid history (use ``ticket_histories`` for that).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(events())
    ... def test(event):
    ...     assert event.at.tzinfo is not None
    >>> test()
    """
    return st.one_of(*(_record(cls) for cls in _family(Event)))


@memoized
def ticket_commands_any() -> st.SearchStrategy[TicketCommand]:
    """Any command of the library, built field by field (legal for some ticket or not).

    >>> from hypothesis import find
    >>> find(ticket_commands_any(), lambda c: c.action == "watch").action
    'watch'
    """
    return st.one_of(*(_record(cls) for cls in _family(TicketCommand)))


def _hhmm(quarter: int) -> str:
    return f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"


def _pick(strategy: st.SearchStrategy[Any], get: Any) -> st.SearchStrategy[Any]:
    """Items of the values ``strategy`` draws, as ``get(value)`` lists them.

    One index draw picks the item (shrinking towards the first), without building
    a new ``sampled_from`` strategy for every value as a ``flatmap`` would.
    """

    lists = strategy.map(get).filter(bool)

    @st.composite
    def pick(draw: st.DrawFn) -> Any:
        items = draw(lists)
        return items[draw(st.integers(0, len(items) - 1))]

    return pick()


def _policies() -> st.SearchStrategy[Policies]:
    days = st.one_of(st.none(), st.integers(0, 30))
    return st.builds(
        Policies,
        reopen_window_days=days,
        reopen_by=st.lists(st.sampled_from(RELATIONS), max_size=2, unique=True).map(tuple),
        closure_confirmed_by_requester=st.booleans(),
        auto_close_after_days=days,
        requester_reply_resumes=st.booleans(),
        major_allowed=st.booleans(),
    )


def _lifecycle_definitions() -> st.SearchStrategy[LifecycleDef]:
    return st.builds(
        lambda definition, policies: attrs.evolve(definition, policies=policies),
        st.sampled_from(default_definitions()),
        _policies(),
    )


def _states(definition: LifecycleDef) -> list[StateDef]:
    found: list[StateDef] = []
    stack = list(definition.states)
    while stack:
        state = stack.pop(0)
        found.append(state)
        stack.extend(state.children)
    return found


def _statuses() -> st.SearchStrategy[SlaStatus]:
    """Statuses over the preset calendars: cheap, and as varied as the SLA rules make them."""
    from itsm_core.testing._sla_strategies import sla_statuses

    return sla_statuses()


@functools.cache
def _front_desk() -> Any:
    """A desk with the standard policy over the shared 8x5 Moscow preset calendar."""
    from itsm_core.desk import Desk
    from itsm_core.testing._sla_strategies import PRESET_CALENDARS, standard_policy

    office = PRESET_CALENDARS[1]
    return Desk(
        calendars={"office": office}, calendar="office", sla_policies=(standard_policy(office),)
    )


def _desk_histories() -> st.SearchStrategy[Any]:
    from itsm_core.testing._ticket_strategies import ticket_histories

    return ticket_histories(_front_desk().lifecycles(), max_steps=6)


def _ticket_statuses() -> st.SearchStrategy[TicketStatus]:
    """What the desk's ``status`` answers about a drawn ticket, up to 10 days after it changed."""
    return st.builds(
        lambda history, later: _front_desk().status(
            history.events, history.events[-1].at + timedelta(microseconds=later)
        ),
        _desk_histories(),
        st.integers(0, 10 * 86_400_000_000),
    )


def _outcomes() -> st.SearchStrategy[Outcome]:
    """Outcomes built from their fields: a drawn ticket's history and its last events."""
    return st.builds(
        lambda history, n: Outcome(
            history=_front_desk().history(history.events),
            ticket=history.ticket,
            events=history.events[-n:],
        ),
        _desk_histories(),
        st.integers(1, 3),
    )


def _cycles(status: SlaStatus) -> st.SearchStrategy[Cycle]:
    """A cycle of the status, or one built field by field when no clock has started."""
    found = [cycle for clock in status.clocks for cycle in clock.cycles]
    return st.sampled_from(found) if found else _record(Cycle)


def _credit_rules() -> st.SearchStrategy[CreditRule]:
    percent = st.decimals(min_value=0, max_value=100, places=2)
    return st.builds(
        CreditRule,
        metric=st.sampled_from(("first_response", "next_response", "resolution")),
        below_percent=percent,
        credit_percent=percent,
        policy=st.one_of(st.none(), st.just("policy")),
    )


def _compliance() -> st.SearchStrategy[Compliance]:
    return st.lists(_statuses(), max_size=3).map(Compliance.of)


def _service_credits() -> st.SearchStrategy[ServiceCredit]:
    return st.builds(
        lambda compliance, rules, fee: service_credit(
            compliance,
            period=(compliance.periods() or ("2026-01",))[0],
            fee=fee,
            rules=rules,
        ),
        _compliance(),
        st.lists(_credit_rules(), max_size=3),
        st.decimals(min_value=0, max_value=10**6, places=2),
    )


@memoized
def desks() -> st.SearchStrategy[Any]:
    """Whole service desks that a desk document can hold (``dump_desk``/``load_desk``).

    Up to three named calendars, a preset matrix, some default lifecycles, up to
    two SLA policies over the declared calendars, credit rules, a support
    structure and escalation rules reading the policies' metrics, a permission
    policy and a directory. Shrinks towards the empty desk of defaults.

    >>> from hypothesis import given, settings
    >>> from itsm_core.serialization import dump_desk, load_desk
    >>> @settings(max_examples=10, deadline=None)
    ... @given(desks())
    ... def test(desk):
    ...     assert load_desk(dump_desk(desk)) == desk
    >>> test()
    """
    from itsm_core.serialization import Desk
    from itsm_core.testing._calendar_strategies import business_calendars
    from itsm_core.testing._escalation_strategies import escalation_rules, support_structures
    from itsm_core.testing._permission_strategies import directories, permission_policies
    from itsm_core.testing._sla_strategies import sla_policies

    @st.composite
    def build(draw: st.DrawFn) -> Desk:
        names = draw(
            st.lists(st.sampled_from(("support", "vendor", "night")), max_size=3, unique=True)
        )
        calendars = {
            name: draw(business_calendars()).with_name(draw(sampled((name, "", "Office"))))
            for name in names
        }
        choices = list(calendars.values())
        over = st.sampled_from(choices) if choices else business_calendars()
        policies = [
            attrs.evolve(policy, name=f"policy {i}")
            for i, policy in enumerate(draw(st.lists(sla_policies(calendars=over), max_size=2)))
        ]
        definitions = draw(
            st.lists(st.sampled_from(default_definitions()), max_size=3, unique_by=lambda d: d.name)
        )
        structure = draw(st.one_of(st.none(), support_structures()))
        rules = (
            draw(st.lists(escalation_rules(), max_size=2))
            if policies and structure is not None
            else []
        )
        return Desk(
            name=draw(sampled(("", "Kiosk support"))),
            calendars=calendars,
            calendar=names[0] if names else None,
            matrix=draw(
                st.sampled_from((PriorityMatrix.itil_3x3(), PriorityMatrix.four_by_four()))
            ),
            lifecycle_definitions=tuple(definitions) or default_definitions(),
            sla_policies=tuple(policies),
            credit_rules=tuple(draw(st.lists(_credit_rules(), max_size=2))),
            support=structure,
            escalation_rules=tuple(rules),
            permissions=draw(st.one_of(st.builds(default_policy), permission_policies())),
            directory=draw(directories()),
            routing=draw(_routing(structure)),
        )

    return build()


def _routing(structure: SupportStructure | None) -> st.SearchStrategy[RoutingConfig | None]:
    """No routing, or routing over the structure's groups that have members."""
    groups = [g for g in structure.groups if g.members] if structure is not None else []
    if not groups:
        return st.none()
    staff = sorted({m for g in groups for m in g.members})

    chosen_groups = st.lists(st.sampled_from(groups), max_size=3, unique_by=lambda g: g.name)

    @st.composite
    def build(draw: st.DrawFn) -> RoutingConfig:
        chosen = draw(chosen_groups)
        return RoutingConfig(
            staff=tuple(Agent(name=name, capacity=draw(_CAPACITIES)) for name in staff),
            groups=tuple(
                GroupRouting(
                    group=g.name,
                    members=g.members,
                    strategy=draw(sampled(("round_robin", "least_loaded"))),
                    support_line=g.line,
                )
                for g in chosen
            ),
            channels=draw(sampled((DEFAULT_CHANNELS, ("phone", "portal")))),
        )

    return st.one_of(st.none(), build())


def register_strategies() -> None:
    """Register a strategy for every public type with ``st.from_type``.

    The ``hypothesis`` entry point calls it once Hypothesis and itsm_core are
    both imported; calling it again is harmless. It only registers: each
    strategy is built when ``st.from_type`` first asks for it.

    >>> from hypothesis import given, settings, strategies as st
    >>> from itsm_core.calendar import BusinessCalendar
    >>> register_strategies()
    >>> @settings(max_examples=10)
    ... @given(st.from_type(BusinessCalendar))
    ... def test(calendar):
    ...     assert calendar.timezone
    >>> test()
    """
    for cls in _public_types():
        st.register_type_strategy(cls, _lazy(cls))


def _lazy(cls: type) -> Any:
    def resolve(_: Any) -> st.SearchStrategy[Any]:
        return _strategies()[cls]

    return resolve


def _public_types() -> list[type]:
    """Every type :func:`register_strategies` covers (importable without Hypothesis)."""
    from itsm_core.permissions import Directory, Grant, Permission, Policy, Principal, Role, Scope
    from itsm_core.priority import Scale
    from itsm_core.serialization import Desk

    own = [Scale, PriorityMatrix, Ticket, Permission, Role, Scope, Grant, Policy, Principal, Desk]
    own += [TicketStatus, Due, Outcome]
    return [*own, Directory, *_STRATEGY_TYPES, *_family(Event), *_family(TicketCommand)]


@functools.cache
def _strategies() -> dict[type, st.SearchStrategy[Any]]:
    """Build the strategies, once, when ``st.from_type`` first asks for one.

    Building is deferred because the strategy modules import Hypothesis, which
    runs this entry point while it is itself being imported.
    """
    from itsm_core.testing._calendar_strategies import (
        business_calendars,
        calendars,
        windows,
    )
    from itsm_core.testing._escalation_strategies import (
        ESCALATION_ACTIONS,
        ESCALATION_CONDITIONS,
        escalation_rules,
        escalation_triggers,
        support_structures,
    )
    from itsm_core.testing._permission_strategies import (
        strategies_by_type as permission_strategies_by_type,
    )
    from itsm_core.testing._priority_strategies import (
        priority_levels,
        priority_matrices,
        requester_masks,
        scales,
    )
    from itsm_core.testing._sla_strategies import PRIORITIES, preset_calendars, sla_policies

    plain = business_calendars()
    composite = st.builds(
        CompositeCalendar,
        operation=st.sampled_from(["union", "intersection"]),
        left=plain,
        right=plain,
    )
    policies = sla_policies(calendars=calendars())
    # A policy's metrics and conditions do not depend on its calendar: they are drawn
    # from policies over the preset calendars, the same values without a random calendar.
    metrics = _pick(sla_policies(calendars=preset_calendars()), lambda p: p.metrics)
    conditions = _pick(
        metrics, lambda m: [*m.start, *m.stop, *m.pause, *m.resume, *m.cancel, *m.reset]
    )
    definitions = _lifecycle_definitions()
    defaults = default_definitions()
    all_transitions = [t for d in defaults for t in d.transitions]
    days = st.dates(min_value=date(2011, 9, 1), max_value=date(2027, 12, 31))
    quarter = st.integers(0, 95)
    statuses = _statuses()
    rules = escalation_rules()
    levels = _pick(rules, lambda r: r.levels)
    structures = support_structures()
    names = st.lists(st.sampled_from(PRIORITIES), max_size=2, unique=True).map(tuple)
    matrices = priority_matrices()
    strategies: dict[type, st.SearchStrategy[Any]] = {
        BusinessCalendar: plain,
        CompositeCalendar: composite,
        WeeklySchedule: st.builds(
            WeeklySchedule,
            **{day: st.lists(windows(), max_size=2).map(tuple) for day in WEEKDAYS},
        ),
        Window: windows(),
        MonthDay: st.builds(MonthDay, month=st.integers(1, 12), day=st.integers(1, 28)),
        DateRange: st.builds(
            lambda first, n: DateRange(first=first, last=first + timedelta(days=n)),
            days,
            st.integers(0, 30),
        ),
        Closure: st.builds(
            lambda day, a, b: Closure(day=day, start=_hhmm(min(a, b)), end=_hhmm(max(a, b) + 1)),
            days,
            quarter,
            quarter,
        ),
        DateOverride: st.builds(
            DateOverride, day=days, windows=st.lists(windows(), max_size=2).map(tuple)
        ),
        # A matrix's impact levels are a scale's levels: drawn from a scale alone.
        Level: _pick(scales("impact"), lambda scale: scale.levels),
        PriorityLevel: _pick(priority_levels(), lambda levels: levels),
        Cell: _pick(matrices, lambda m: m.cells),
        RequesterMask: matrices.flatmap(requester_masks),
        Link: _of(Link),
        Attachment: _of(Attachment),
        ArticleLink: _of(ArticleLink),
        LifecycleDef: definitions,
        StateDef: st.sampled_from([state for d in defaults for state in _states(d)]),
        TransitionDef: st.sampled_from(all_transitions),
        Guard: st.sampled_from([g for t in all_transitions for g in t.guards]),
        FieldDef: st.sampled_from([f for d in defaults for f in d.fields]),
        Policies: _policies(),
        SlaPolicy: policies,
        Metric: metrics,
        Condition: conditions,
        Applicability: st.builds(Applicability, types=st.just(("incident",)), priorities=names),
        SlaStatus: statuses,
        MetricClock: _pick(statuses, lambda s: s.clocks),
        Cycle: statuses.flatmap(_cycles),
        Compliance: _compliance(),
        ComplianceKey: st.builds(
            ComplianceKey,
            period=st.sampled_from(("2026-03", "2026-W10", "2026-03-02", "2026")),
            policy=_TEXT,
            metric=_TEXT,
            priority=_TEXT,
            group=_TEXT,
        ),
        CreditRule: _credit_rules(),
        ServiceCredit: _service_credits(),
        SupportStructure: structures,
        SupportGroup: _pick(structures, lambda s: s.groups),
        Route: structures.flatmap(
            lambda s: st.builds(
                Route,
                group=st.sampled_from([g.name for g in s.groups]),
                types=st.lists(st.sampled_from(("incident", "problem")), max_size=2).map(tuple),
                categories=st.lists(_TEXT.filter(str.strip), max_size=2).map(tuple),
            )
        ),
        EscalationRule: rules,
        EscalationLevel: levels,
        # The conditions, triggers and actions the rules draw, without drawing whole rules.
        EscalationConditions: sampled(ESCALATION_CONDITIONS),
        Trigger: escalation_triggers(),
        Action: sampled(ESCALATION_ACTIONS),
        Event: events(),
        TicketCommand: ticket_commands_any(),
    }
    for cls in [*_family(Event), *_family(TicketCommand), *_BUILT]:
        strategies[cls] = _record(cls)
    strategies[TicketView] = st.builds(
        TicketView,
        ticket_id=_TEXT,
        fields=st.dictionaries(_TEXT, _SCALARS, max_size=3).map(lambda d: tuple(d.items())),
        hidden=st.lists(_TEXT, max_size=2).map(tuple),
        internal=st.booleans(),
    )
    from itsm_core.priority import Scale
    from itsm_core.serialization import Desk
    from itsm_core.testing._ticket_strategies import tickets

    strategies[Desk] = desks()
    ticket_statuses = _ticket_statuses()
    strategies[TicketStatus] = ticket_statuses
    strategies[Due] = _pick(ticket_statuses, lambda status: status.due)
    strategies[Outcome] = _outcomes()
    strategies[Scale] = scales()
    strategies[PriorityMatrix] = matrices
    strategies[Ticket] = tickets()
    # The strategies themselves, not ``st.from_type`` again: ``register_strategies`` may
    # register this module's resolvers anew after the permission module's own.
    strategies.update(permission_strategies_by_type())
    return strategies


#: The types whose strategies :func:`_strategies` builds here (besides events and commands).
_STRATEGY_TYPES: tuple[type, ...] = (
    BusinessCalendar,
    CompositeCalendar,
    WeeklySchedule,
    Window,
    MonthDay,
    DateRange,
    Closure,
    DateOverride,
    Level,
    PriorityLevel,
    Cell,
    RequesterMask,
    Link,
    Attachment,
    ArticleLink,
    LifecycleDef,
    StateDef,
    TransitionDef,
    Guard,
    FieldDef,
    Policies,
    DueTransition,
    SlaPolicy,
    Metric,
    Condition,
    Applicability,
    SlaStatus,
    MetricClock,
    Cycle,
    Compliance,
    ComplianceKey,
    CreditRule,
    ServiceCredit,
    SupportStructure,
    SupportGroup,
    Route,
    EscalationRule,
    EscalationLevel,
    EscalationConditions,
    Trigger,
    Action,
    TicketView,
    Event,
    TicketCommand,
    DueEscalation,
    FollowUp,
    Decision,
    TimelineEntry,
)
#: Records built field by field (see :func:`_record`).
_BUILT: tuple[type, ...] = (DueTransition, DueEscalation, FollowUp, Decision, TimelineEntry)
