"""Desk documents: a whole service desk declared in one TOML- or JSON-shaped dict."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import attrs
import cattrs
from cattrs.errors import BaseValidationError

from itsm_core.calendar import BusinessCalendar, CompositeCalendar, country_holidays
from itsm_core.desk import Desk
from itsm_core.desk._desk import routing_group_problem
from itsm_core.errors import ConfigurationError, InvalidValueError, ItsmError, Problem
from itsm_core.escalation import EscalationRule, SupportStructure
from itsm_core.lifecycle import (
    LifecycleDef,
    Policies,
    default_definitions,
    validate_definition,
)
from itsm_core.metrics import CreditRule
from itsm_core.permissions import Directory, Policy, Principal, default_policy
from itsm_core.priority import MAJOR, PriorityMatrix
from itsm_core.routing import RoutingConfig
from itsm_core.serialization._converter import (
    CALENDAR_NAMES,
    CONVERTER_EXTENSIONS,
    Calendar,
    make_converter,
    problems_of,
)
from itsm_core.sla import SlaPolicy

__all__ = [
    "DESK_KEYS",
    "SCHEMA_VERSION",
    "Desk",
    "Migration",
    "dump_desk",
    "load_desk",
    "migrate_desk",
]

#: The version of the desk document format this library writes and reads.
SCHEMA_VERSION = 1
#: The top-level keys of a desk document.
DESK_KEYS: tuple[str, ...] = (
    "schema_version",
    "name",
    "calendar",
    "calendars",
    "priority",
    "lifecycles",
    "sla",
    "escalation",
    "permissions",
    "people",
    "automation_actor",
    "routing",
)
#: A migration takes a document of one version and returns it in the next version.
Migration = Callable[[dict[str, Any]], dict[str, Any]]

_PRESETS: dict[str, Callable[[], PriorityMatrix]] = {
    "itil_3x3": PriorityMatrix.itil_3x3,
    "four_by_four": PriorityMatrix.four_by_four,
    "glpi_5x5": PriorityMatrix.glpi_5x5,
}
_DEFAULT_LIFECYCLES = {d.name: d for d in default_definitions()}
_STAND_IN = BusinessCalendar.always_open("UTC")
_SECTION_KEYS = {
    "sla": ("policies", "credits"),
    "escalation": ("structure", "rules"),
    "permissions": ("default_roles", "roles", "grants", "hierarchy", "restricted_fields"),
}


# ---------------------------------------------------------------------------- migrations


def migrate_desk(
    document: Mapping[str, Any], *, migrations: Mapping[int, Migration] | None = None
) -> dict[str, Any]:
    """The document brought to :data:`SCHEMA_VERSION` by ``migrations``.

    ``migrations`` maps a version to the function that turns a document of
    that version into one of the next version; they run in order, before the
    document is structured. A document without ``schema_version`` is taken to
    be of the current version.

    >>> def rename_holidays(doc):
    ...     doc = dict(doc, schema_version=1)
    ...     doc["calendars"] = {name: {("holidays" if k == "days_off" else k): v
    ...                                for k, v in cal.items()}
    ...                         for name, cal in doc.get("calendars", {}).items()}
    ...     return doc
    >>> old = {"schema_version": 0, "calendars": {"c": {"timezone": "UTC", "days_off": []}}}
    >>> migrate_desk(old, migrations={0: rename_holidays})["calendars"]
    {'c': {'timezone': 'UTC', 'holidays': []}}
    """
    doc = dict(document)
    version = doc.get("schema_version", SCHEMA_VERSION)
    steps = dict(migrations or {})
    while isinstance(version, int) and not isinstance(version, bool) and version < SCHEMA_VERSION:
        step = steps.get(version)
        if step is None:
            raise ConfigurationError(
                [Problem("schema_version", f"no migration from version {version} is known")]
            )
        doc = dict(step(doc))
        new_version = doc.get("schema_version")
        if not isinstance(new_version, int) or new_version <= version:
            raise ConfigurationError(
                [
                    Problem(
                        "schema_version",
                        f"the migration from version {version} did not raise the version",
                    )
                ]
            )
        version = new_version
    if isinstance(version, bool) or not isinstance(version, int) or version != SCHEMA_VERSION:
        raise ConfigurationError(
            [Problem("schema_version", f"expected {SCHEMA_VERSION}, got {version!r}")]
        )
    return doc


# ---------------------------------------------------------------------------- loading


class _Loader:
    def __init__(self, conv: cattrs.Converter) -> None:
        self.conv = conv
        self.problems: list[Problem] = []

    def structure(self, data: Any, cls: Any, path: str) -> Any:
        try:
            return self.conv.structure(data, cls)
        except (BaseValidationError, ItsmError) as exc:
            self.problems += problems_of(exc, path)
            return None

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def table(self, data: Any, path: str, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            self.problem(path, f"expected a table, got {_short(data)}")
            return {}
        if keys is not None:
            for key in data:
                if key not in keys:
                    self.problem(_sub(path, key), f"unknown key; expected one of {', '.join(keys)}")
        return dict(data)

    def items(self, data: Any, path: str) -> list[Any]:
        if data is None:
            return []
        if not isinstance(data, list | tuple):
            self.problem(path, f"expected a list, got {_short(data)}")
            return []
        return list(data)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _sub(path: str, key: object) -> str:
    if isinstance(key, str) and re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _calendars(loader: _Loader, raw: Any) -> dict[str, Calendar]:
    tables = loader.table(raw, "calendars")
    done: dict[str, Calendar] = {}
    pending: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        path = _sub("calendars", name)
        if not isinstance(name, str) or not name:
            loader.problem(path, "expected a calendar name as key")
            continue
        if not isinstance(table, Mapping):
            loader.problem(path, f"expected a calendar table, got {_short(table)}")
            continue
        data = dict(table)
        if "operation" in data:
            pending[name] = data
            continue
        data.setdefault("name", name)
        extra = data.pop("country_holidays", None)
        calendar = loader.structure(data, BusinessCalendar, path)
        if calendar is not None and extra is not None:
            calendar = _with_country_holidays(loader, calendar, extra, f"{path}.country_holidays")
        if calendar is not None:
            done[name] = calendar
    # Unions and intersections may name other calendars: resolve them in rounds.
    while pending:
        progress = False
        for name, data in list(pending.items()):
            operands = [data.get("left"), data.get("right")]
            waiting = [o for o in operands if isinstance(o, str) and o in pending]
            if waiting:
                continue
            token = CALENDAR_NAMES.set(dict(done))
            try:
                calendar = loader.structure(data, CompositeCalendar, _sub("calendars", name))
            finally:
                CALENDAR_NAMES.reset(token)
            if calendar is not None:
                done[name] = calendar
            del pending[name]
            progress = True
        if not progress:
            for name in pending:
                loader.problem(_sub("calendars", name), "calendars that name each other in a cycle")
            break
    return done


def _with_country_holidays(
    loader: _Loader, calendar: BusinessCalendar, spec: Any, path: str
) -> BusinessCalendar | None:
    table = loader.table(spec, path, ("country", "years", "subdivision"))
    if not table:
        return calendar if isinstance(spec, Mapping) and not spec else None
    years = table.get("years")
    wanted = years if isinstance(years, list | tuple) else [years]
    if years is None:
        loader.problem(f"{path}.years", "missing; list the years whose holidays to add")
        return None
    for i, year in enumerate(wanted):
        if isinstance(year, int) and not isinstance(year, bool) and not 1900 <= year <= 2200:
            loader.problem(f"{path}.years[{i}]", f"expected a year from 1900 to 2200, got {year}")
            return None
    try:
        days = country_holidays(
            table.get("country"),  # type: ignore[arg-type]
            table.get("years", ()),
            subdivision=table.get("subdivision"),
        )
    except InvalidValueError as exc:
        loader.problems += problems_of(exc, path)
        return None
    except ItsmError as exc:  # pragma: no cover - the optional package is missing
        loader.problem(path, str(exc))
        return None
    return calendar.with_holidays(days)


def _matrix(loader: _Loader, raw: Any) -> PriorityMatrix | None:
    if raw is None:
        return PriorityMatrix.itil_3x3()
    if isinstance(raw, Mapping) and "preset" in raw:
        preset = raw["preset"]
        if len(raw) != 1:
            loader.problem("priority", "a preset stands alone; give either preset or the table")
            return None
        if not isinstance(preset, str) or preset not in _PRESETS:
            loader.problem(
                "priority.preset", f"expected one of {', '.join(_PRESETS)}, got {_short(preset)}"
            )
            return None
        return _PRESETS[preset]()
    matrix: PriorityMatrix | None = loader.structure(raw, PriorityMatrix, "priority")
    return matrix


def _lifecycles(loader: _Loader, raw: Any) -> tuple[LifecycleDef, ...]:
    if raw is None:
        return default_definitions()
    found: list[LifecycleDef] = []
    names = ", ".join(_DEFAULT_LIFECYCLES)
    for i, item in enumerate(loader.items(raw, "lifecycles")):
        path = f"lifecycles[{i}]"
        definition: LifecycleDef | None = None
        if isinstance(item, str):
            definition = _DEFAULT_LIFECYCLES.get(item)
            if definition is None:
                loader.problem(path, f"expected a default lifecycle ({names}), got {item!r}")
        elif isinstance(item, Mapping) and "default" in item:
            name = item["default"]
            base = _DEFAULT_LIFECYCLES.get(name) if isinstance(name, str) else None
            table = loader.table(item, path, ("default", "policies"))
            if base is None:
                loader.problem(
                    f"{path}.default",
                    f"expected a default lifecycle ({names}), got {_short(item['default'])}",
                )
            else:
                policies = loader.structure(table.get("policies", {}), Policies, f"{path}.policies")
                if policies is not None:
                    definition = attrs.evolve(base, policies=policies)
        else:
            definition = loader.structure(item, LifecycleDef, path)
        if definition is None:
            continue
        for problem in validate_definition(definition):
            rest = problem.path.removeprefix("lifecycle").lstrip(".")
            loader.problem(f"{path}.{rest}" if rest else path, problem.message)
        if any(d.name == definition.name for d in found):
            loader.problem(path, f"a second lifecycle for ticket type {definition.name!r}")
        found.append(definition)
    return tuple(found)


def _permissions(loader: _Loader, raw: Any) -> Policy | None:
    table = loader.table(raw, "permissions", _SECTION_KEYS["permissions"])
    use_defaults = table.pop("default_roles", True)
    if not isinstance(use_defaults, bool):
        loader.problem("permissions.default_roles", f"expected true or false, got {use_defaults!r}")
        return None
    if not use_defaults:
        policy: Policy | None = loader.structure(table, Policy, "permissions")
        return policy
    if not table:
        return _default_policy()
    base = _default_policy()
    roles = table.get("roles", [])
    grants = table.get("grants", [])
    if not isinstance(roles, list) or not isinstance(grants, list):
        reported: Policy | None = loader.structure(table, Policy, "permissions")
        return reported  # the bad lists are reported
    offsets = {"roles": len(base.roles), "grants": len(base.grants)}
    # The default roles and grant go in built: only the document's own are structured.
    merged = dict(table, roles=[*base.roles, *roles], grants=[*base.grants, *grants])
    before = len(loader.problems)
    policy = loader.structure(merged, Policy, "permissions")
    for index in range(before, len(loader.problems)):
        loader.problems[index] = _shift(loader.problems[index], offsets)
    return policy


@cache
def _default_policy() -> Policy:
    """The default policy, for a desk that changes nothing of it (a value: shared)."""
    return default_policy()


def _shift(problem: Problem, offsets: Mapping[str, int]) -> Problem:
    """Problem paths in the user's lists, past the default roles and baseline grant."""
    match = re.match(r"^permissions\.(roles|grants)\[(\d+)\](.*)$", problem.path)
    if match is None:
        return problem
    index = int(match[2]) - offsets[match[1]]
    where = f"default {match[1]}" if index < 0 else f"{match[1]}[{index}]"
    return Problem(f"permissions.{where}{match[3]}", problem.message)


def _declared_metrics(policies: Any) -> set[str]:
    """Metric names the document declares, whether or not their policy loaded."""
    names: set[str] = set()
    for policy in policies if isinstance(policies, list | tuple) else ():
        metrics = policy.get("metrics") if isinstance(policy, Mapping) else None
        if isinstance(metrics, Mapping):
            names |= {name for name in metrics if isinstance(name, str)}
    return names


def _cross_checks(loader: _Loader, desk: dict[str, Any], declared_metrics: set[str]) -> None:
    """Names across sections; a section that failed already is not blamed again."""
    failed = {p.path.split(".")[0].split("[")[0] for p in loader.problems}
    matrix: PriorityMatrix | None = desk.get("matrix")
    priorities = None
    if matrix is not None:
        priorities = {p.name for p in matrix.priorities} | {MAJOR.name}
    types = {d.name for d in desk.get("lifecycle_definitions", ())}
    if "lifecycles" in failed:
        types = set()
    metrics: set[str] = set(declared_metrics)
    for i, policy in enumerate(desk.get("sla_policies", ())):
        if policy is None:
            continue
        path = f"sla.policies[{i}]"
        for metric in policy.metrics:
            metrics.add(metric.name)
            for name, _ in metric.targets:
                if priorities is not None and name not in priorities:
                    loader.problem(
                        f"{path}.metrics.{metric.name}.targets.{name}",
                        f"unknown priority; expected one of {', '.join(sorted(priorities))}",
                    )
        for j, ticket_type in enumerate(policy.applies_to.types):
            if types and ticket_type not in types:
                loader.problem(
                    f"{path}.applies_to.types[{j}]",
                    f"no lifecycle serves {ticket_type!r}; expected one of "
                    + ", ".join(sorted(types)),
                )
        for j, name in enumerate(policy.applies_to.priorities):
            if priorities is not None and name not in priorities:
                loader.problem(
                    f"{path}.applies_to.priorities[{j}]",
                    f"unknown priority {name!r}; expected one of {', '.join(sorted(priorities))}",
                )
    names = [p.name for p in desk.get("sla_policies", ()) if p is not None]
    for i, name in enumerate(names):
        if name in names[:i]:
            loader.problem(f"sla.policies[{i}].name", f"a second policy called {name!r}")
    support: SupportStructure | None = desk.get("support")
    groups = {g.name for g in support.groups} if support is not None else None
    if any(p.path.startswith("escalation.structure") for p in loader.problems):
        return
    unknown = routing_group_problem(desk.get("routing"), support)
    if unknown is not None:
        path, name, expected = unknown
        loader.problem(path, f"unknown group {name!r}; expected {expected}")
    for i, rule in enumerate(desk.get("escalation_rules", ())):
        if rule is None:
            continue
        path = f"escalation.rules[{i}]"
        if rule.trigger.metric is not None and rule.trigger.metric not in metrics:
            loader.problem(
                f"{path}.trigger.metric",
                f"no SLA policy measures {rule.trigger.metric!r}; expected one of "
                + (", ".join(sorted(metrics)) or "no metric"),
            )
        for j, level in enumerate(rule.levels):
            for k, action in enumerate(level.actions):
                named = [*action.groups, *([action.group] if action.group else [])]
                for group in named:
                    if groups is not None and group not in groups:
                        loader.problem(
                            f"{path}.levels[{j}].actions[{k}]",
                            f"unknown group {group!r}; expected one of {', '.join(sorted(groups))}",
                        )
                    elif groups is None:
                        loader.problem(
                            f"{path}.levels[{j}].actions[{k}]",
                            f"names group {group!r} but escalation.structure declares no groups",
                        )


def load_desk(
    document: Mapping[str, Any], *, migrations: Mapping[int, Migration] | None = None
) -> Desk:
    """Load and validate a desk document; every problem is reported at once with its path.

    The document is migrated first (see :func:`migrate_desk`), then each
    section is structured, then names are checked across sections (policies
    naming calendars, targets naming priorities, rules naming metrics and
    groups). Any problem raises :class:`~itsm_core.errors.ConfigurationError`
    listing them all.

    >>> load_desk({"sla": {"policies": [{"name": "p", "calendar": "office",
    ...     "metrics": {"resolution": {"targets": {"P1": "eight"}}}}]}})
    Traceback (most recent call last):
    ...
    itsm_core.errors.ConfigurationError: 2 problems in the configuration:
      sla.policies[0].calendar: expected a calendar declared in calendars (none declared), \
got "office"
      sla.policies[0].metrics.resolution.targets.P1: expected a business duration such as \
"8h" or "90m", business days "5bd", the end of the business day "eod" or "2bd eod", or \
wall-clock time "24h wall", got "eight"
    """
    if not isinstance(document, Mapping):
        raise ConfigurationError(
            [Problem("", f"expected a desk document (a table), got {_short(document)}")]
        )
    doc = migrate_desk(document, migrations=migrations)
    loader = _Loader(_converter())
    loader.table(doc, "", DESK_KEYS)
    desk: dict[str, Any] = {}
    name = doc.get("name", "")
    if not isinstance(name, str):
        loader.problem("name", f"expected a string, got {_short(name)}")
    desk["name"] = name if isinstance(name, str) else ""
    calendars = _calendars(loader, doc.get("calendars"))
    desk["calendars"] = calendars
    default = doc.get("calendar", next(iter(calendars), None))
    raw = doc.get("calendars")
    declared = set(raw) if isinstance(raw, Mapping) else set()
    # ``"calendar": null`` is refused: a dump leaves no key, which reads as the first calendar.
    if (default is not None or "calendar" in doc) and (
        not isinstance(default, str) or default not in declared
    ):
        loader.problem(
            "calendar",
            f"expected a calendar declared in calendars ({', '.join(calendars) or 'none'}), "
            f"got {_short(default)}",
        )
    desk["calendar"] = default if isinstance(default, str) and default in calendars else None
    desk["matrix"] = _matrix(loader, doc.get("priority"))
    desk["lifecycle_definitions"] = _lifecycles(loader, doc.get("lifecycles"))
    sla = loader.table(doc.get("sla"), "sla", _SECTION_KEYS["sla"])
    # A declared calendar that failed has its problems reported already: policies naming
    # it get a stand-in, so the one mistake is not reported again at each use.
    stand_ins = {name: _STAND_IN for name in declared if name not in calendars}
    token = CALENDAR_NAMES.set({**stand_ins, **calendars})
    try:
        desk["sla_policies"] = tuple(
            loader.structure(item, SlaPolicy, f"sla.policies[{i}]")
            for i, item in enumerate(loader.items(sla.get("policies"), "sla.policies"))
        )
    finally:
        CALENDAR_NAMES.reset(token)
    desk["credit_rules"] = tuple(
        loader.structure(item, CreditRule, f"sla.credits[{i}]")
        for i, item in enumerate(loader.items(sla.get("credits"), "sla.credits"))
    )
    escalation = loader.table(doc.get("escalation"), "escalation", _SECTION_KEYS["escalation"])
    if escalation.get("structure") is not None:
        desk["support"] = loader.structure(
            escalation["structure"], SupportStructure, "escalation.structure"
        )
    desk["escalation_rules"] = tuple(
        loader.structure(item, EscalationRule, f"escalation.rules[{i}]")
        for i, item in enumerate(loader.items(escalation.get("rules"), "escalation.rules"))
    )
    desk["permissions"] = _permissions(loader, doc.get("permissions"))
    automation = doc.get("automation_actor", "automation")
    if not isinstance(automation, str) or not automation.strip():
        loader.problem(
            "automation_actor", f"expected a non-empty principal id, got {_short(automation)}"
        )
    else:
        desk["automation_actor"] = automation
    people = [
        loader.structure(item, Principal, f"people[{i}]")
        for i, item in enumerate(loader.items(doc.get("people"), "people"))
    ]
    ids = [p.id for p in people if p is not None]
    for i, person in enumerate(ids):
        if person in ids[:i]:
            loader.problem(f"people[{i}].id", f"a second person called {person!r}")
    if doc.get("routing") is not None:
        desk["routing"] = loader.structure(doc["routing"], RoutingConfig, "routing")
    _cross_checks(loader, desk, _declared_metrics(sla.get("policies")))
    if loader.problems:
        raise ConfigurationError(loader.problems)
    desk["directory"] = Directory(tuple(p for p in people if p is not None))
    return Desk(**desk)


# ---------------------------------------------------------------------------- dumping


def dump_desk(desk: Desk) -> dict[str, Any]:
    """The desk document of a desk: JSON-safe, and ``load_desk`` gives the desk back.

    Defaults are left out: default lifecycles are named, a preset matrix is
    written in full, calendars are referred to by name where a policy uses a
    declared one.

    >>> desk = load_desk({"calendars": {"office": {"timezone": "UTC"}}})
    >>> dump_desk(desk)
    {'schema_version': 1, 'calendars': {'office': {'timezone': 'UTC'}}, \
'calendar': 'office'}
    >>> load_desk(dump_desk(desk)) == desk
    True
    """
    conv = _converter()
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if desk.name:
        doc["name"] = desk.name
    calendars: dict[str, Any] = {}
    token = CALENDAR_NAMES.set({})
    try:
        for name, calendar in desk.calendars.items():
            if isinstance(calendar, CompositeCalendar):
                CALENDAR_NAMES.set({k: v for k, v in desk.calendars.items() if k != name})
                data = conv.unstructure(calendar, CompositeCalendar)
            else:
                data = conv.unstructure(calendar, BusinessCalendar)
                if data.get("name", "") == name:
                    del data["name"]
                elif "name" not in data:
                    data["name"] = ""
            calendars[name] = data
        if calendars:
            doc["calendars"] = calendars
        if desk.calendar is not None:
            doc["calendar"] = desk.calendar
        if desk.matrix != PriorityMatrix.itil_3x3():
            doc["priority"] = desk.matrix.to_dict()
        if desk.lifecycle_definitions != default_definitions():
            doc["lifecycles"] = [_dump_lifecycle(conv, d) for d in desk.lifecycle_definitions]
        CALENDAR_NAMES.set(desk.calendars)
        sla: dict[str, Any] = {}
        if desk.sla_policies:
            sla["policies"] = [conv.unstructure(p, SlaPolicy) for p in desk.sla_policies]
        if desk.credit_rules:
            sla["credits"] = [conv.unstructure(r, CreditRule) for r in desk.credit_rules]
    finally:
        CALENDAR_NAMES.reset(token)
    if sla:
        doc["sla"] = sla
    escalation: dict[str, Any] = {}
    if desk.support is not None:
        escalation["structure"] = conv.unstructure(desk.support, SupportStructure)
    if desk.escalation_rules:
        escalation["rules"] = [conv.unstructure(r, EscalationRule) for r in desk.escalation_rules]
    if escalation:
        doc["escalation"] = escalation
    permissions = _dump_permissions(desk.permissions)
    if permissions is not None:
        doc["permissions"] = permissions
    if desk.directory.principals:
        doc["people"] = [conv.unstructure(p, Principal) for p in desk.directory.principals]
    if desk.automation_actor != "automation":
        doc["automation_actor"] = desk.automation_actor
    if desk.routing is not None:
        doc["routing"] = conv.unstructure(desk.routing, RoutingConfig)
    return doc


def _dump_lifecycle(conv: cattrs.Converter, definition: LifecycleDef) -> Any:
    base = _DEFAULT_LIFECYCLES.get(definition.name)
    if base == definition:
        return definition.name
    if base is not None and attrs.evolve(base, policies=definition.policies) == definition:
        policies = conv.unstructure(definition.policies, Policies)
        return {"default": definition.name, "policies": policies}
    return conv.unstructure(definition, LifecycleDef)


def _dump_permissions(policy: Policy) -> dict[str, Any] | None:
    data = policy.to_dict()
    base = default_policy().to_dict()
    n_roles, n_grants = len(base["roles"]), len(base["grants"])
    if data["roles"][:n_roles] == base["roles"] and data["grants"][:n_grants] == base["grants"]:
        data["roles"] = data["roles"][n_roles:]
        data["grants"] = data["grants"][n_grants:]
        extra = {k: v for k, v in data.items() if v}
        return extra or None
    return {"default_roles": False, **data}


_CONVERTER: list[cattrs.Converter] = []


def _converter() -> cattrs.Converter:
    if not _CONVERTER:
        _CONVERTER.append(make_converter())
    return _CONVERTER[0]


def _desk_hooks(conv: cattrs.Converter) -> None:
    """A converter structures a desk document into a :class:`Desk` and back."""
    conv.register_structure_hook(
        Desk, lambda value, _: value if isinstance(value, Desk) else load_desk(value)
    )
    conv.register_unstructure_hook(Desk, dump_desk)


CONVERTER_EXTENSIONS.append(_desk_hooks)
