"""The records of a permission policy: permissions, roles, scopes, grants, principals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from itsm_core.errors import InvalidValueError, Problem

__all__ = [
    "ACTIONS",
    "ANYONE",
    "EFFECTS",
    "RELATIONS",
    "Directory",
    "Grant",
    "Permission",
    "Principal",
    "Role",
    "Scope",
    "pattern_matches",
]

#: The actions a policy speaks of, with what each lets a principal do. The
#: lifecycle commands name theirs (``command.action``); the others are checked
#: by the host. ``<field>`` and ``<trigger>`` stand for any field or trigger.
ACTIONS: dict[str, str] = {
    "view": "see the ticket (and be shown it in lists)",
    "view.internal": "see internal comments",
    "view.field:<field>": "see a restricted field (`Policy.restricted_fields`)",
    "create": "open a ticket (`OpenTicket`)",
    "comment.public": "add a comment the requester sees",
    "comment.internal": "add an internal comment (staff only)",
    "update:<field>": "change a descriptive or custom field (`UpdateField`)",
    "assign": "give an unassigned ticket to anyone (`Assign`)",
    "take": "assign an unassigned ticket to oneself",
    "reassign": "move an assigned ticket to anyone (`Reassign`)",
    "steal": "reassign a ticket someone else holds to oneself",
    "priority.classify": "set impact and urgency (`Classify`)",
    "priority.override": "override the derived priority (`OverridePriority`)",
    "priority.set_major": "declare a major incident (`SetMajor`)",
    "priority.clear_major": "lift the major tier (`ClearMajor`)",
    "transition:<trigger>": "fire a lifecycle trigger (`Transition`), optionally from/to states",
    "link": "link tickets (`AddLink`)",
    "watch": "add anyone as a watcher (`Watch`)",
    "watch.self": "start watching a ticket oneself",
    "unwatch": "remove any watcher (`Unwatch`)",
    "unwatch.self": "stop watching a ticket oneself",
    "unlink": "remove a link (`RemoveLink`)",
    "merge": "merge the ticket into another (`Merge`)",
    "split": "split part of the ticket off (`Split`)",
    "approval.request": "ask for approval (`RequestApproval`)",
    "approval.give": "approve (`Approve`)",
    "approval.refuse": "refuse approval (`Refuse`)",
    "sla.override": "pause, extend or waive an SLA target (checked by the host)",
    "sla.set_due": "set or clear a metric's due instant by hand, with a reason (`set_due_date`)",
    "spend": "spend money on a fix, up to a limit (checked by the host with an amount)",
    "survey.request": "send the requester a satisfaction survey (`RequestSurvey`)",
    "survey.answer": "answer a satisfaction survey (`AnswerSurvey`)",
    "survey.callback": "record a quality-control call-back (`RecordCallback`)",
    "requester.change": "correct the ticket's requester, with a reason (`ChangeRequester`)",
    "article.link": "link a knowledge-base article, or mark it as the solution (`LinkArticle`)",
}

#: The relation that always holds.
ANYONE = "anyone"

#: How a principal may be related to a ticket; a permission or grant lists the
#: relations of which at least one must hold.
RELATIONS: dict[str, str] = {
    "anyone": "always holds",
    "requester": "the principal opened the ticket (is its requester)",
    "watcher": "the principal is one of the ticket's watchers",
    "assignee": "the ticket is assigned to the principal",
    "assignee_group": "the principal is a member of the ticket's group",
    "approver": "the principal is one of the ticket's named approvers",
    "same_organization": "the principal's organization is the ticket's customer",
    "same_department": "the principal works in the requester's department",
}

#: What a grant does with its role's permissions.
EFFECTS: tuple[str, ...] = ("allow", "deny")

_CATEGORY_PREFIX = "category:"


def pattern_problem(pattern: object) -> str | None:
    """Why ``pattern`` is not a valid name pattern (``None`` when it is).

    A pattern is a name, or a prefix followed by a single trailing ``*``
    (``"transition:*"``, ``"comment.*"``), or ``"*"`` alone.
    """
    if not isinstance(pattern, str) or not pattern:
        return f"expected a non-empty name or pattern, got {pattern!r}"
    if any(ch.isspace() for ch in pattern):
        return f"expected no whitespace, got {pattern!r}"
    if "*" in pattern[:-1]:
        return f"'*' may only end a pattern (as in 'transition:*'), got {pattern!r}"
    return None


def pattern_matches(pattern: str, name: str) -> bool:
    """Whether a name pattern matches ``name``: exact, or ``prefix*``, or ``*``.

    >>> pattern_matches("transition:*", "transition:resolve")
    True
    >>> pattern_matches("comment.*", "comment"), pattern_matches("view", "view.internal")
    (False, False)
    """
    if not isinstance(pattern, str) or not isinstance(name, str):
        bad, field = (pattern, "pattern") if not isinstance(pattern, str) else (name, "name")
        raise InvalidValueError(field, bad, "an action or state name")
    if pattern[-1:] == "*":
        return name.startswith(pattern[:-1])
    return pattern == name


def state_matches(pattern: str, state: str, category: str | None) -> bool | None:
    """Whether a state pattern matches a state; ``None`` when the category is unknown."""
    if pattern.startswith(_CATEGORY_PREFIX):
        if category is None:
            return None
        return category == pattern[len(_CATEGORY_PREFIX) :]
    return pattern_matches(pattern, state)


def _names(value: object, field: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError(field, value, "a sequence of names")
    items = tuple(value)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise InvalidValueError(f"{field}[{index}]", item, "a non-empty name")
    return items


def _tuple_of_names(value: object) -> tuple[str, ...]:
    # Converter: keep bad input as it is, for the validators to report with a path.
    if isinstance(value, str) or not isinstance(value, Iterable):
        return value  # type: ignore[return-value]
    return tuple(value)


def _is_amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def relation_problems(relations: object, path: str) -> list[Problem]:
    """Problems of a relations list (empty: fine)."""
    if isinstance(relations, str) or not isinstance(relations, tuple):
        return [Problem(path, f"expected a list of relations, got {relations!r}")]
    if not relations:
        return [Problem(path, "expected at least one relation (use 'anyone' for no condition)")]
    return [
        Problem(f"{path}[{i}]", f"unknown relation {r!r}; expected one of {', '.join(RELATIONS)}")
        for i, r in enumerate(relations)
        if r not in RELATIONS
    ]


@attrs.frozen(kw_only=True)
class Permission:
    """One permission of a role: an action pattern and the conditions under which it counts.

    - ``action``: an action of :data:`ACTIONS` or a pattern (``"update:*"``,
      ``"transition:*"``, ``"*"``); ``*`` may only end the pattern.
    - ``relations``: at least one must hold between the principal and the
      ticket (see :data:`RELATIONS`; default ``("anyone",)``).
    - ``from_states`` / ``to_states``: for transitions, patterns of the states
      the ticket leaves and reaches (state names, ``prefix*``, ``*`` or
      ``category:<category>``); empty means any, as Request Tracker's ``*``.
    - ``limit``: for amount-bearing actions (``spend``), the largest amount
      this permission covers; a larger amount is not covered (denied unless
      another grant covers it).
    - ``report_above``: amounts above it are allowed with the obligation
      ``"report"`` (the decision says so; the host files the report).

    Amounts are non-negative integers in whatever unit the host uses
    consistently (whole currency units or cents).

    >>> Permission(action="spend", report_above=500).covers("spend")
    True
    >>> Permission(action="comment.*").covers("comment.internal")
    True
    >>> Permission(action="update:*", from_states=("new",))
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: permission.from_states: expected no states for \
action 'update:*' (only transitions have states), got ('new',)
    """

    action: str
    relations: tuple[str, ...] = attrs.field(default=(ANYONE,), converter=_tuple_of_names)
    from_states: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)
    to_states: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)
    limit: int | None = None
    report_above: int | None = None

    def __attrs_post_init__(self) -> None:
        problem = pattern_problem(self.action)
        if problem is not None:
            raise InvalidValueError("permission.action", self.action, "an action name or pattern")
        for found in relation_problems(self.relations, "permission.relations"):
            raise InvalidValueError(
                found.path, self.relations, f"known relations ({found.message})"
            )
        for field in ("from_states", "to_states"):
            states = _names(getattr(self, field), f"permission.{field}")
            for state in states:
                if pattern_problem(state) is not None:
                    raise InvalidValueError(
                        f"permission.{field}",
                        state,
                        "a state name, 'prefix*', '*' or 'category:<c>'",
                    )
            if states and not self.may_be_transition:
                raise InvalidValueError(
                    f"permission.{field}",
                    states,
                    f"no states for action {self.action!r} (only transitions have states)",
                )
        for field in ("limit", "report_above"):
            value = getattr(self, field)
            if value is not None and not _is_amount(value):
                raise InvalidValueError(f"permission.{field}", value, "a non-negative integer")

    @property
    def may_be_transition(self) -> bool:
        """Whether the action pattern can match a ``transition:<trigger>`` action."""
        return (
            self.action == "*"
            or pattern_matches(self.action, "transition:")
            or (self.action.startswith("transition:"))
        )

    @property
    def conditional(self) -> bool:
        """Whether anything besides the action restricts this permission."""
        return (
            self.relations != (ANYONE,)
            or bool(self.from_states or self.to_states)
            or self.limit is not None
            or self.report_above is not None
        )

    def covers(self, action: str) -> bool:
        """Whether the action pattern matches ``action`` (conditions aside)."""
        return pattern_matches(self.action, action)

    def describe(self) -> str:
        """A short human form, e.g. ``spend (report above 500)``.

        >>> Permission(action="view", relations=("requester", "watcher")).describe()
        'view (if requester or watcher)'
        >>> Permission(action="transition:*", to_states=("category:closed",)).describe()
        'transition:* (to category:closed)'
        """
        parts: list[str] = []
        if self.relations != (ANYONE,):
            parts.append("if " + " or ".join(self.relations))
        if self.from_states:
            parts.append("from " + ", ".join(self.from_states))
        if self.to_states:
            parts.append("to " + ", ".join(self.to_states))
        if self.limit is not None:
            parts.append(f"up to {self.limit}")
        if self.report_above is not None:
            parts.append(f"report above {self.report_above}")
        return self.action + (f" ({'; '.join(parts)})" if parts else "")


@attrs.frozen(kw_only=True)
class Role:
    """A named set of permissions that may include other roles (ServiceNow's contained roles).

    A role has the permissions of the roles it ``includes``, transitively; an
    inclusion cycle is a :class:`~itsm_core.errors.ConfigurationError` when the
    policy is built.

    >>> Role(name="reader", permissions=(Permission(action="view"),)).name
    'reader'
    >>> Role(name="", permissions=())
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: role.name: expected a non-empty name without \
whitespace, got ''
    """

    name: str
    permissions: tuple[Permission, ...] = attrs.field(default=(), converter=_tuple_of_names)
    includes: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_name(self.name, "role.name")
        if not isinstance(self.permissions, tuple):
            raise InvalidValueError("role.permissions", self.permissions, "a list of Permission")
        for index, permission in enumerate(self.permissions):
            if not isinstance(permission, Permission):
                raise InvalidValueError(
                    f"role.permissions[{index}]", permission, "a Permission(action=...)"
                )
        for index, name in enumerate(_names(self.includes, "role.includes")):
            _check_name(name, f"role.includes[{index}]")
        if not isinstance(self.description, str):
            raise InvalidValueError("role.description", self.description, "a string")


def _check_name(name: object, field: str) -> None:
    if not isinstance(name, str) or not name or any(ch.isspace() for ch in name):
        raise InvalidValueError(field, name, "a non-empty name without whitespace")


@attrs.frozen(kw_only=True)
class Scope:
    """Where a grant applies: which tickets, by group, department, tenant and type.

    Every non-empty axis must match (an empty axis matches every ticket):

    - ``groups``: the ticket's group (the assignee group or queue);
    - ``departments``: the department of the ticket's requester (from the
      directory);
    - ``tenants``: the ticket's customer organization (``ticket.customer``,
      else the requester's organization from the directory);
    - ``types``: the ticket's type (``incident``, ``normal_change``...).

    With ``recursive=True`` the groups, departments and tenants also match
    their sub-units in the policy's hierarchy (GLPI's recursive entities).

    >>> Scope(groups=("network",), recursive=True).is_everywhere
    False
    >>> Scope().is_everywhere
    True
    """

    groups: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)
    departments: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)
    tenants: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)
    types: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)
    recursive: bool = False

    def __attrs_post_init__(self) -> None:
        for field in ("groups", "departments", "tenants", "types"):
            _names(getattr(self, field), f"scope.{field}")
        if not isinstance(self.recursive, bool):
            raise InvalidValueError("scope.recursive", self.recursive, "true or false")

    @property
    def is_everywhere(self) -> bool:
        """Whether the scope matches every ticket."""
        return not (self.groups or self.departments or self.tenants or self.types)

    def describe(self) -> str:
        """A short human form.

        >>> Scope(groups=("network",), recursive=True).describe()
        'in groups network (and sub-units)'
        """
        if self.is_everywhere:
            return "everywhere"
        parts = [
            f"in {label} {', '.join(values)}"
            for label, values in (
                ("groups", self.groups),
                ("departments", self.departments),
                ("tenants", self.tenants),
                ("types", self.types),
            )
            if values
        ]
        text = " and ".join(parts)
        return text + (" (and sub-units)" if self.recursive else "")


@attrs.frozen(kw_only=True)
class Grant:
    """A role given to a principal or to the members of a principal group.

    Exactly one of ``principal`` (an id, or ``"*"`` for everyone) and
    ``group`` (members of that group, including members of its sub-groups)
    names who receives it. ``scope`` limits the tickets, ``relations`` adds a
    relationship condition on top of the permissions' own, and
    ``effect="deny"`` turns the grant into an explicit deny: the role's
    permissions are then refused, whatever any allow grant says.

    >>> Grant(role="dispatcher", group="service-desk").subject
    'group service-desk'
    >>> Grant(role="dispatcher", principal="ann", group="desk")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: grant: expected exactly one of principal and group, \
got {'principal': 'ann', 'group': 'desk'}
    """

    role: str
    principal: str | None = None
    group: str | None = None
    scope: Scope = Scope()
    relations: tuple[str, ...] = attrs.field(default=(ANYONE,), converter=_tuple_of_names)
    effect: str = "allow"
    note: str = ""

    def __attrs_post_init__(self) -> None:
        _check_name(self.role, "grant.role")
        if (self.principal is None) == (self.group is None):
            raise InvalidValueError(
                "grant",
                {"principal": self.principal, "group": self.group},
                "exactly one of principal and group",
            )
        if self.principal is not None:
            _check_name(self.principal, "grant.principal")
        if self.group is not None:
            _check_name(self.group, "grant.group")
        if not isinstance(self.scope, Scope):
            raise InvalidValueError("grant.scope", self.scope, "a Scope")
        for found in relation_problems(self.relations, "grant.relations"):
            raise InvalidValueError(
                found.path, self.relations, f"known relations ({found.message})"
            )
        if self.effect not in EFFECTS:
            raise InvalidValueError("grant.effect", self.effect, "'allow' or 'deny'")
        if not isinstance(self.note, str):
            raise InvalidValueError("grant.note", self.note, "a string")

    @property
    def deny(self) -> bool:
        """Whether this is an explicit deny grant."""
        return self.effect == "deny"

    @property
    def subject(self) -> str:
        """Who receives the grant, in words."""
        if self.group is not None:
            return f"group {self.group}"
        return "everyone" if self.principal == "*" else f"principal {self.principal}"

    def describe(self) -> str:
        """A short human form, used by decisions.

        >>> Grant(role="requester", principal="*").describe()
        "allow role 'requester' to everyone"
        """
        text = f"{self.effect} role {self.role!r} to {self.subject}"
        if not self.scope.is_everywhere:
            text += f" {self.scope.describe()}"
        if self.relations != (ANYONE,):
            text += " if " + " or ".join(self.relations)
        if self.note:
            text += f" ({self.note})"
        return text


@attrs.frozen(kw_only=True)
class Principal:
    """The facts about a principal that the host's directory supplies (no I/O here).

    ``groups`` are the principal groups it belongs to (assignment groups,
    teams); ``department`` and ``organization`` (the tenant or customer) place
    it in the organisation.

    >>> Principal(id="ann", groups=("service-desk",), organization="acme").groups
    ('service-desk',)
    """

    id: str
    groups: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_names)
    department: str | None = None
    organization: str | None = None

    def __attrs_post_init__(self) -> None:
        _check_name(self.id, "principal.id")
        _names(self.groups, "principal.groups")
        for field in ("department", "organization"):
            value = getattr(self, field)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InvalidValueError(f"principal.{field}", value, "a non-empty name or None")


def _principal_tuple(value: Iterable[Principal]) -> tuple[Principal, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError("directory.principals", value, "a sequence of Principal")
    return tuple(value)


@attrs.frozen
class Directory:
    """The host's directory: principal records by id, looked up without I/O.

    An id the directory does not know is a bare principal: no groups, no
    department, no organization (so only grants to it by id or to everyone
    can apply).

    >>> d = Directory([Principal(id="ann", department="it")])
    >>> d.get("ann").department, d.get("zed")
    ('it', Principal(id='zed', groups=(), department=None, organization=None))
    >>> "ann" in d, len(d)
    (True, 1)
    """

    principals: tuple[Principal, ...] = attrs.field(converter=_principal_tuple)
    _by_id: dict[str, Principal] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_id: dict[str, Principal] = {}
        for index, principal in enumerate(self.principals):
            if not isinstance(principal, Principal):
                raise InvalidValueError(
                    f"directory.principals[{index}]", principal, "a Principal(id=...)"
                )
            if principal.id in by_id:
                raise InvalidValueError(
                    f"directory.principals[{index}].id", principal.id, "ids that appear once"
                )
            by_id[principal.id] = principal
        object.__setattr__(self, "_by_id", by_id)

    def get(self, principal_id: str) -> Principal:
        """The principal with this id (a bare one when unknown)."""
        if not isinstance(principal_id, str):
            raise InvalidValueError("principal", principal_id, "a principal id")
        found = self._by_id.get(principal_id)
        return found if found is not None else Principal(id=principal_id)

    def __contains__(self, principal_id: object) -> bool:
        return principal_id in self._by_id

    def __len__(self) -> int:
        return len(self.principals)

    def ids_where(self, field: str, values: Iterable[str]) -> tuple[str, ...]:
        """The sorted ids whose ``department`` or ``organization`` is one of ``values``.

        >>> Directory([Principal(id="b", department="it"), Principal(id="a", department="it")]
        ...           ).ids_where("department", ["it"])
        ('a', 'b')
        """
        if field not in ("department", "organization"):
            raise InvalidValueError("field", field, "'department' or 'organization'")
        wanted = frozenset(values)
        return tuple(sorted(p.id for p in self.principals if getattr(p, field) in wanted))

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]]) -> Directory:
        """A directory from plain records (``{"id": ..., "groups": [...], ...}``).

        >>> Directory.from_records([{"id": "ann", "groups": ["desk"]}]).get("ann").groups
        ('desk',)
        """
        principals: list[Principal] = []
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise InvalidValueError(f"directory[{index}]", record, "a mapping with an 'id'")
            unknown = set(record) - {"id", "groups", "department", "organization"}
            if unknown:
                raise InvalidValueError(
                    f"directory[{index}]",
                    sorted(unknown),
                    "only the keys id, groups, department, organization",
                )
            principals.append(
                Principal(
                    id=record.get("id"),  # type: ignore[arg-type]
                    groups=record.get("groups", ()),
                    department=record.get("department"),  # type: ignore[arg-type]
                    organization=record.get("organization"),  # type: ignore[arg-type]
                )
            )
        return cls(principals)


#: Ticket fields a principal sees only with ``view.field:<field>``: the inner
#: workings of the desk, hidden from requesters by default.
DEFAULT_RESTRICTED_FIELDS: tuple[str, ...] = (
    "support_line",
    "derived_priority",
    "priority_override",
    "reassignments",
    "approvers",
)

EMPTY_DIRECTORY = Directory(())


def directory_or_empty(directory: Directory | None) -> Directory:
    """``directory``, or the empty directory for ``None``; anything else is refused."""
    if directory is None:
        return EMPTY_DIRECTORY
    if not isinstance(directory, Directory):
        raise InvalidValueError("directory", directory, "a Directory or None")
    return directory
