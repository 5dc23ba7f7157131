"""Rows of an export -> histories: snapshot diffing, audit replay, lifecycle checks, the result."""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import attrs

from itsm_core.errors import ConfigurationError, InvalidValueError, Problem
from itsm_core.imports._lifecycles import IMPORT_LIFECYCLES
from itsm_core.imports._profile import Profile, instant_parser, parse_instant
from itsm_core.lifecycle import History, Lifecycle
from itsm_core.ticket import (
    Assigned,
    Event,
    FieldChanged,
    GroupAssigned,
    PriorityChanged,
    Reassigned,
    StateChanged,
    Ticket,
    TicketOpened,
    Unassigned,
    event_writer,
)

__all__ = [
    "DIFFED_FACTS",
    "ImportCounts",
    "ImportResult",
    "RefusedTicket",
    "import_audit",
    "import_rows",
    "import_snapshot",
    "import_stream",
    "profile_lifecycle",
]

#: The facts compared between two updates of a ticket, in the order their events come.
DIFFED_FACTS: tuple[str, ...] = (
    "group",
    "assignee",
    "impact",
    "urgency",
    "priority",
    "title",
    "requester",
    "category",
    "service",
    "resolution_code",
    "state",
    "hold_reason",
)
_FIELD_FACTS = ("title", "requester", "category", "service")
#: Events the import rules have nothing to say about (they check openings and state changes).
_NOT_CHECKED = frozenset(
    {Assigned, FieldChanged, GroupAssigned, PriorityChanged, Reassigned, Unassigned}
)
_ROW_FACTS = ("opened_at", "opened_by", "sequence")
_INSTANT_CACHE = 100_000

Facts = dict[str, str | None]


@attrs.frozen(kw_only=True)
class RefusedTicket:
    """A ticket whose history could not be built or breaks its lifecycle: why, and where.

    ``row`` is the 1-based number of the input row where it broke (``None``
    when no single row is to blame), ``event`` the kind of event refused
    (``""`` when the rows could not be read), ``rows`` how many rows the
    ticket had. The events built up to the problem are kept in ``events``.

    >>> RefusedTicket(ticket_id="INC-9", reason="bad", row=3, event="", rows=4).ticket_id
    'INC-9'
    """

    ticket_id: str
    reason: str
    row: int | None
    event: str
    rows: int
    events: tuple[Event, ...] = ()


@attrs.frozen(kw_only=True)
class ImportResult:
    """What an import made of the rows: histories, refused tickets and counts.

    Every ticket of the input is either in ``histories`` (one validated
    :class:`~itsm_core.lifecycle.History` per ticket, checked against the
    profile's lifecycle, in input order of first appearance) or in
    ``refused``; every
    row is a ticket's row, or counted in ``skipped`` (reason -> rows).
    ``unchanged_rows`` counts rows that changed no fact the profile reads;
    ``priority_mismatches`` the rows whose exported priority differs from
    what the profile's matrix derives from their impact and urgency.

    >>> r = ImportResult(histories=(), refused=(), rows=0, skipped=(), unchanged_rows=0,
    ...                  priority_mismatches=0)
    >>> r.skipped_rows, r.tickets
    (0, 0)
    """

    histories: tuple[History, ...]
    refused: tuple[RefusedTicket, ...]
    rows: int
    skipped: tuple[tuple[str, int], ...]
    unchanged_rows: int
    priority_mismatches: int

    @property
    def skipped_rows(self) -> int:
        """How many rows were skipped, whatever the reason."""
        return sum(count for _, count in self.skipped)

    @property
    def tickets(self) -> int:
        """How many tickets the input had (imported and refused)."""
        return len(self.histories) + len(self.refused)


@attrs.frozen(kw_only=True)
class ImportCounts:
    """The counts of a streamed import (:func:`import_stream`), given after its tickets.

    >>> ImportCounts(rows=3, skipped=(("no ticket id in column 'id'", 1),), unchanged_rows=0,
    ...              priority_mismatches=0).skipped_rows
    1
    """

    rows: int
    skipped: tuple[tuple[str, int], ...]
    unchanged_rows: int
    priority_mismatches: int

    @property
    def skipped_rows(self) -> int:
        """How many rows were skipped, whatever the reason."""
        return sum(count for _, count in self.skipped)


class _Refusal(Exception):
    def __init__(self, reason: str, row: int | None, event: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.row = row
        self.event = event


class _Rules:
    """What a :class:`History` of an import checks: the opening and every move of the lifecycle.

    Checked again, independently of how the diff chose the events: the opening
    names the lifecycle and a state of the right category, and every state
    change is a candidate of its trigger from the state the ticket is in.
    """

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        # Every (state, trigger, destination, its category) the lifecycle allows: one set
        # lookup per state change instead of a walk over the trigger's candidates.
        self.allowed = lifecycle.moves

    def check_event(self, index: int, state: str | None, event: Event) -> None:
        kind = type(event)
        if kind is StateChanged:
            changed = cast(StateChanged, event)
            key = (state, changed.trigger, changed.to_state, changed.to_category)
            if state is None or (changed.from_state == state and key in self.allowed):
                return
        elif kind in _NOT_CHECKED:
            return
        self.check_event_reference(index, state, event)  # raises, or checks an opening

    def check_event_reference(self, index: int, state: str | None, event: Event) -> None:
        """:meth:`check_event` the straightforward way (it raises what this raises)."""
        lc = self.lifecycle
        if isinstance(event, TicketOpened):
            if event.type != lc.name or event.state_category != lc.category_of(event.state):
                raise InvalidValueError(
                    f"events[{index}]", event.type, f"an opening of lifecycle {lc.name!r}"
                )
        elif isinstance(event, StateChanged) and state is not None:
            candidates = lc.transitions_from(state, event.trigger)
            if event.from_state != state or not any(
                c.dest == event.to_state and c.dest_category == event.to_category
                for c in candidates
            ):
                raise InvalidValueError(
                    f"events[{index}].to_state",
                    event.to_state,
                    f"a state {event.trigger!r} leads to from {state!r} in {lc.name!r}",
                )


def profile_lifecycle(profile: Profile, lifecycle: Lifecycle | None = None) -> Lifecycle:
    """The lifecycle a profile checks histories against, its value maps checked against it.

    ``lifecycle`` overrides the profile's built-in one. A mapped state that is
    not a state of the lifecycle is a :class:`~itsm_core.errors.ConfigurationError`.

    >>> from itsm_core.imports import PROFILES
    >>> profile_lifecycle(PROFILES["servicenow_snapshot"]).name
    'servicenow_incident'
    """
    if lifecycle is None:
        definition = IMPORT_LIFECYCLES.get(profile.lifecycle)
        if definition is None:
            raise ConfigurationError(
                [
                    Problem(
                        "profile.lifecycle",
                        f"expected one of {', '.join(IMPORT_LIFECYCLES)} (or pass a "
                        f"lifecycle), got {profile.lifecycle!r}",
                    )
                ]
            )
        lifecycle = Lifecycle(definition, matrix=profile.matrix)
    problems: list[Problem] = []
    names = set(lifecycle.states)
    parents = {s.rsplit(".", 1)[0] for s in lifecycle.states if "." in s}
    for source, state in profile.value_map("state").items():
        if state not in names and state not in parents:
            problems.append(
                Problem(
                    f"profile.values.state.{source}",
                    f"expected a state of lifecycle {lifecycle.name!r}: "
                    f"{', '.join(lifecycle.states)}; got {state!r}",
                )
            )
    if problems:
        raise ConfigurationError(problems)
    return lifecycle


class _Reader:
    """Everything derived once per import from the profile and the lifecycle."""

    def __init__(self, profile: Profile, lifecycle: Lifecycle) -> None:
        self.profile = profile
        self.lc = lifecycle
        self.missing = frozenset(profile.missing)
        self.maps = {fact: profile.value_map(fact) for fact, _ in profile.values}
        self.leaves = frozenset(lifecycle.states)
        self.moves: dict[tuple[str, str], str] = {}
        for state in lifecycle.states:
            for trigger in lifecycle.triggers_from(state):
                for candidate in lifecycle.transitions_from(state, trigger):
                    self.moves.setdefault((state, candidate.dest), trigger)
        self.count_any = profile.reassignments == "any"
        self.mismatches = 0
        self.columns = dict(profile.columns)
        self.constants = dict(profile.constants)
        # Exports repeat their timestamps (an opening time on every row of a ticket):
        # parsed ones are remembered, up to a bound.
        self.instants: dict[str, datetime] = {}
        self.parse = instant_parser(profile.timestamps)
        # The matrix's answer per (impact, urgency): asked twice per row, of a few levels.
        self.derived: dict[tuple[str, str], str | None] = {}
        self.rows = 0
        self.unchanged = 0
        self.skipped: Counter[str] = Counter()

    # -- values ----------------------------------------------------------------

    def value(self, fact: str, raw: str | None, row: int) -> str | None:
        if raw is None:
            return None
        text = raw.strip()
        if text in self.missing:
            return None
        table = self.maps.get(fact)
        if not table:
            return text
        if text not in table:
            shown = ", ".join(repr(k) for k in table)
            raise _Refusal(
                f"{fact} {text!r} is not in the profile's values.{fact} ({shown}); "
                f"add it to the profile",
                row,
            )
        return table[text] or None

    def instant(self, text: str | None, fact: str, row: int) -> datetime:
        if text is None or text.strip() in self.missing:
            raise _Refusal(f"{fact}: missing timestamp", row)
        known = self.instants.get(text)
        if known is not None:
            return known
        try:
            parsed = self.parse(text, fact)
        except InvalidValueError as exc:
            raise _Refusal(str(exc), row) from None
        if len(self.instants) >= _INSTANT_CACHE:
            # Full: start again (an export sorted by ticket moves on through time, so the
            # timestamps met lately are the ones that come back).
            self.instants.clear()
        self.instants[text] = parsed
        return parsed

    def state(self, facts: Facts, row: int) -> str | None:
        state = facts.get("state")
        if state is None:
            return None
        if state in self.leaves:
            return state
        hold = facts.get("hold_reason")
        if hold is not None and f"{state}.{hold}" in self.leaves:
            return f"{state}.{hold}"
        raise _Refusal(
            f"state {state!r} (hold reason {hold!r}) is not a resting state of lifecycle "
            f"{self.lc.name!r}: {', '.join(self.lc.states)}",
            row,
        )

    # -- priority ----------------------------------------------------------------

    def derive(self, impact: str | None, urgency: str | None) -> str | None:
        if impact is None or urgency is None:
            return None
        key = (impact, urgency)
        if key in self.derived:
            return self.derived[key]
        try:
            found: str | None = self.lc.matrix.derive(impact, urgency, allow_disabled=True).name
        except (InvalidValueError, ConfigurationError):
            found = None
        if len(self.derived) < _INSTANT_CACHE:
            self.derived[key] = found
        return found

    def priority(self, facts: Facts, ticket: Ticket | None) -> tuple[Any, ...]:
        """(impact, urgency, derived, override, effective) of the facts."""
        has = self.has
        impact = facts.get("impact") if has["impact"] else (ticket.impact if ticket else None)
        urgency = facts.get("urgency") if has["urgency"] else (ticket.urgency if ticket else None)
        derived = self.derive(impact, urgency)
        if has["priority"]:
            effective = facts.get("priority")
            override = effective if effective != derived else None
        else:
            effective, override = derived, None
        return impact, urgency, derived, override, effective

    def facts(self, cells: tuple[Any, ...], row: int) -> Facts:
        """The facts of one row from its planned cells (see ``plan``)."""
        out: Facts = {}
        missing = self.missing
        for (fact, column, constant, table), raw in zip(self.plan, cells, strict=True):
            if column is None:
                raw = constant
            if raw is None:
                out[fact] = None
                continue
            text = raw.strip() if isinstance(raw, str) else str(raw)
            if text in missing:
                out[fact] = None
            elif table:
                if text not in table:
                    out[fact] = self.value(fact, text, row)  # raises, naming the profile key
                else:
                    out[fact] = table[text] or None
            else:
                out[fact] = text
        return out

    def check_priority(self, facts: Facts) -> None:
        if self.has["priority"] and self.profile.matrix is not None:
            derived = self.derive(facts.get("impact"), facts.get("urgency"))
            if derived != facts.get("priority"):
                self.mismatches += 1

    # -- events ------------------------------------------------------------------

    has: dict[str, bool]
    #: Snapshot facts read from a row: (fact, column or None, constant, value map).
    plan: list[tuple[str, str | None, str | None, dict[str, str] | None]]
    plan_columns: tuple[str, ...]
    #: The fast path's reading of a snapshot row, and its caches.
    projection: _Projection
    fast: _Fast

    def opening(self, ticket_id: str, facts: Facts, at: datetime, actor: str) -> TicketOpened:
        impact, urgency, derived, _, effective = self.priority(facts, None)
        initial = self.lc.definition.initial
        return TicketOpened(
            ticket_id=ticket_id,
            actor=actor,
            at=at,
            type=self.lc.name,
            state=initial,
            state_category=self.lc.category_of(initial),
            title=facts.get("title") or "",
            requester=facts.get("requester") or actor,
            impact=impact,
            urgency=urgency,
            derived_priority=derived,
            effective_priority=effective,
            category=facts.get("category"),
            service=facts.get("service"),
        )

    def diff(self, ticket: Ticket, facts: Facts, at: datetime, actor: str, row: int) -> list[Event]:
        """The events that take ``ticket`` to the ``facts`` of one update."""
        events: list[Event] = []
        base: dict[str, Any] = {"ticket_id": ticket.id, "actor": actor, "at": at}
        has = self.has
        group = facts.get("group") if has["group"] else ticket.group
        person = facts.get("assignee") if has["assignee"] else ticket.assignee
        g0, p0 = ticket.group, ticket.assignee
        if (group, person) != (g0, p0):
            moved = g0 is not None and g0 != group
            if group is None and person is None:
                events.append(
                    Unassigned(
                        **base,
                        from_assignee=p0,
                        from_group=g0,
                        from_support_line=ticket.support_line,
                    )
                )
            elif person is None:
                events.append(
                    GroupAssigned(
                        **base,
                        group=group or "",
                        from_group=g0,
                        from_assignee=p0,
                        from_support_line=ticket.support_line,
                        counted=moved,
                    )
                )
            elif p0 is None and not moved:
                events.append(Assigned(**base, assignee=person, group=group))
            else:
                events.append(
                    Reassigned(
                        **base,
                        assignee=person,
                        group=group,
                        support_line=None,
                        from_assignee=p0,
                        from_group=g0,
                        from_support_line=ticket.support_line,
                        counted=moved or (self.count_any and p0 is not None),
                    )
                )
        if has["impact"] or has["urgency"] or has["priority"]:
            impact, urgency, derived, override, effective = self.priority(facts, ticket)
            if (impact, urgency, effective) != (
                ticket.impact,
                ticket.urgency,
                ticket.effective_priority,
            ):
                events.append(
                    PriorityChanged(
                        **base,
                        impact=impact,
                        urgency=urgency,
                        derived=derived,
                        override=override,
                        effective=effective,
                    )
                )
        for fact in _FIELD_FACTS:
            if has[fact]:
                new = facts.get(fact)
                if fact in ("title", "requester"):
                    new = new or ("" if fact == "title" else ticket.requester)
                old = getattr(ticket, fact)
                if new != old:
                    events.append(FieldChanged(**base, field=fact, old=old, new=new))
        state = self.state(facts, row) if has["state"] else None
        code = facts.get("resolution_code") if has["resolution_code"] else None
        if state is not None and state != ticket.state:
            to_category = self.lc.category_of(state)
            trigger = self.moves.get((ticket.state, state))
            if trigger is None:
                raise _Refusal(
                    f"lifecycle {self.lc.name!r} has no move from {ticket.state!r} to "
                    f"{state!r} (from {ticket.state!r}: "
                    f"{', '.join(self.lc.triggers_from(ticket.state)) or 'none, final'})",
                    row,
                    "StateChanged",
                )
            self.check_policy(trigger, ticket, actor, row)
            resolving = to_category == "resolved" and ticket.state_category != "resolved"
            events.append(
                StateChanged(
                    **base,
                    trigger=trigger,
                    from_state=ticket.state,
                    to_state=state,
                    from_category=ticket.state_category,
                    to_category=to_category,
                    hold_reason=state.rsplit(".", 1)[-1] if to_category == "on_hold" else None,
                    resolution_code=code if resolving else None,
                )
            )
        elif (
            has["resolution_code"]
            and ticket.state_category == "resolved"
            and code != ticket.resolution_code
        ):
            events.append(
                FieldChanged(**base, field="resolution_code", old=ticket.resolution_code, new=code)
            )
        return events

    def check_policy(self, trigger: str, ticket: Ticket, actor: str, row: int) -> None:
        self.check_policy_of(trigger, ticket.requester, ticket.assignee, actor, row)

    def may_refuse(self, trigger: str) -> bool:
        """Whether :meth:`check_policy_of` can refuse some actor ``trigger``.

        A reopening anyone may make and a closure the requester need not
        confirm are never refused.
        """
        policies = self.lc.definition.policies
        if trigger.startswith("reopen"):
            return "anyone" not in policies.reopen_by
        return trigger.startswith("close") and policies.closure_confirmed_by_requester

    def check_policy_of(
        self, trigger: str, requester: str, assignee: str | None, actor: str, row: int
    ) -> None:
        """Refuse a reopening or closure by an actor the lifecycle's policies do not allow."""
        policies = self.lc.definition.policies
        if trigger.startswith("reopen"):
            relations = {
                "anyone",
                *(("requester",) if actor == requester else ()),
                *(("assignee",) if actor == assignee else ()),
            }
            if not relations & set(policies.reopen_by):
                raise _Refusal(
                    f"{actor!r} may not reopen: lifecycle {self.lc.name!r} lets only the "
                    f"{' or '.join(policies.reopen_by)} reopen",
                    row,
                    "StateChanged",
                )
        if (
            trigger.startswith("close")
            and policies.closure_confirmed_by_requester
            and actor != requester
        ):
            raise _Refusal(
                f"{actor!r} may not close: lifecycle {self.lc.name!r} lets only the requester "
                "confirm closure",
                row,
                "StateChanged",
            )


def _fold(events: list[Event], ticket: Ticket, new: Iterable[Event], row: int) -> Ticket:
    for event in new:
        if event.at < ticket.updated_at:
            raise _Refusal(
                f"at {event.at.isoformat()} is before the ticket's previous change "
                f"{ticket.updated_at.isoformat()}; the export's order and times disagree",
                row,
                type(event).__name__,
            )
        events.append(event)
        ticket = event.apply_to(ticket)
    return ticket


def _check_columns(first: Mapping[str, Any], profile: Profile, facts: Sequence[str]) -> None:
    problems = []
    present = list(first)
    for fact in facts:
        column = profile.column(fact)
        if column is not None and column not in first:
            problems.append(
                Problem(
                    f"profile.columns.{fact}",
                    f"column {column!r} is not in the export (its columns: "
                    f"{', '.join(present[:40])}); map {fact} to one of them in the profile",
                )
            )
    if problems:
        raise ConfigurationError(problems)


def _whole(raw: str, column: str, row: int) -> int:
    """The whole number a sequence cell holds (digits, an optional leading minus)."""
    text = raw.strip()
    digits = text[1:] if text[:1] == "-" else text
    if digits.isdecimal():
        return int(text)
    raise _Refusal(f"sequence {text!r} in column {column!r} is not a whole number", row)


def _sort_key(reader: _Reader, ticket_rows: list[tuple[int, Mapping[str, Any]]]) -> Any:
    """Rows of a ticket in order: by the sequence column, else by their instant (stable)."""
    seq_col = reader.columns.get("sequence")

    def key(item: tuple[int, Mapping[str, Any]]) -> tuple[Any, int]:
        index, row = item
        if seq_col is not None:
            return (_whole(str(row.get(seq_col) or ""), seq_col, index), index)
        return (reader.instant(_raw(reader, row, "at"), "at", index), index)

    return key


Block = tuple[str, list[tuple[int, Mapping[str, Any]]], str]


def _ticket_ids(
    reader: _Reader, rows: Iterable[tuple[int, Mapping[str, Any]]]
) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    """(row number, ticket id, row) of every ``(row number, row)`` that names a ticket; the
    others are counted."""
    id_col = reader.columns.get("ticket_id", "")
    facts = (
        SNAPSHOT_FACTS_FOR_CHECK
        if reader.profile.shape == "snapshot"
        else ("ticket_id", "at", "actor", "sequence", "field", "old", "new")
    )
    read = 0
    for index, row in rows:
        read += 1
        reader.rows = read
        if read == 1:
            _check_columns(row, reader.profile, facts)
        raw = row.get(id_col)
        ticket_id = raw.strip() if isinstance(raw, str) else None
        if not ticket_id or ticket_id in reader.missing:
            reader.skipped[f"no ticket id in column {id_col!r}"] += 1
            continue
        yield index, ticket_id, row


def _grouped(reader: _Reader, rows: Iterable[Mapping[str, Any]]) -> Iterator[Block]:
    """Every ticket's rows, whatever their order (all rows are held in memory)."""
    groups: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for index, ticket_id, row in _ticket_ids(reader, enumerate(rows, 1)):
        groups.setdefault(ticket_id, []).append((index, row))
    for ticket_id in list(groups):
        yield ticket_id, groups.pop(ticket_id), ""


def _consecutive(reader: _Reader, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> Iterator[Block]:
    """Every ticket's ``(row number, row)``, read as they come: a ticket's rows must be
    together."""
    seen: dict[str, int] = {}
    current: str | None = None
    block: list[tuple[int, Mapping[str, Any]]] = []
    problem = ""
    for index, ticket_id, row in _ticket_ids(reader, rows):
        if ticket_id != current:
            if current is not None:
                yield current, block, problem
            current, block = ticket_id, []
            problem = (
                f"the rows of ticket {ticket_id!r} are not together (it was seen at row "
                f"{seen[ticket_id]}); sort the export by ticket, or import it whole"
                if ticket_id in seen
                else ""
            )
            seen.setdefault(ticket_id, index)
        block.append((index, row))
    if current is not None:
        yield current, block, problem


SNAPSHOT_FACTS_FOR_CHECK = ("ticket_id", "at", "actor", *_ROW_FACTS, *DIFFED_FACTS)


def _raw(reader: _Reader, row: Mapping[str, Any], fact: str) -> str | None:
    column = reader.columns.get(fact)
    if column is None:
        return reader.constants.get(fact)
    value = row.get(column)
    return value if isinstance(value, str) else (None if value is None else str(value))


def _snapshot_ticket(
    reader: _Reader,
    ticket_id: str,
    rows: list[tuple[int, Mapping[str, Any]]],
    events: list[Event],
) -> tuple[tuple[Event, ...], int]:
    rows = sorted(rows, key=_sort_key(reader, rows))
    ticket: Ticket | None = None
    unchanged = 0
    columns = reader.plan_columns
    previous: tuple[Any, ...] | None = None
    mismatch = False
    for index, row in rows:
        get = row.get
        cells = tuple([get(c) for c in columns])
        if cells == previous:
            # The same facts as the row before: nothing to diff (the fast path).
            unchanged += 1
            reader.mismatches += mismatch
            continue
        previous = cells
        facts = reader.facts(cells, index)
        before = reader.mismatches
        reader.check_priority(facts)
        mismatch = reader.mismatches != before
        at = reader.instant(_raw(reader, row, "at"), "at", index)
        actor = reader.value("actor", _raw(reader, row, "actor"), index) or "unknown"
        first = ticket is None
        if ticket is None:
            opened_text = _raw(reader, row, "opened_at")
            opened_at = (
                reader.instant(opened_text, "opened_at", index)
                if reader.value("opened_at", opened_text, index) is not None
                else at
            )
            opener = reader.value("opened_by", _raw(reader, row, "opened_by"), index) or actor
            opened = reader.opening(ticket_id, facts, opened_at, opener)
            events.append(opened)
            ticket = opened.apply_to(None)
        new = reader.diff(ticket, facts, at, actor, index)
        if not new and not first:
            unchanged += 1
        ticket = _fold(events, ticket, new, index)
    return tuple(events), unchanged


# ---------------------------------------------------------------------------- the fast path
#
# Snapshot rows the way ``_snapshot_ticket`` reads them, written for speed: each row is read
# once as one tuple of the cells the profile maps (``_Projection``), rows equal in the diffed
# cells are skipped by comparing tuples, each distinct cell is converted once (value maps,
# missing values), and the diff follows the ticket's facts in local variables instead of
# folding a Ticket after every event. It builds the same events, refuses the same tickets
# with the same reasons and counts the same rows (tests/test_imports_fast_path.py).

_NOTHING: Any = object()
_GET = dict.__getitem__
#: The facts of ``_Fast.positions``, in the order ``_snapshot_cells`` unpacks them.
_POSITIONS = (
    "group",
    "assignee",
    "impact",
    "urgency",
    "priority",
    "title",
    "requester",
    "category",
    "service",
    "state",
    "hold_reason",
    "resolution_code",
)
#: How many distinct cells of one column are remembered (per import).
_CELL_CACHE = 4096


class _Projection:
    """The cells the fast path reads from a snapshot row, and where each one is.

    ``cells`` of a row are the plan's columns (as ``_snapshot_ticket`` compares
    them, ``""`` for a fact given by a constant), then the columns of ``at``,
    ``actor``, ``opened_at``, ``opened_by`` and ``sequence``, then the
    constants of the facts without a column.
    """

    def __init__(self, reader: _Reader) -> None:
        columns, constants = reader.columns, reader.constants
        plan_columns = list(reader.plan_columns)
        self.width = len(plan_columns)
        self.names: list[str] = plan_columns + [
            columns[fact] for fact in ("at", "actor", *_ROW_FACTS) if fact in columns
        ]
        consts: list[str | None] = []

        def place(fact: str) -> int:
            if fact in columns:
                return self.names.index(columns[fact], self.width)
            consts.append(constants.get(fact))
            return len(self.names) + len(consts) - 1

        self.at = place("at")
        self.actor = place("actor")
        self.opened_at = place("opened_at")
        self.opened_by = place("opened_by")
        self.sequence = place("sequence") if "sequence" in columns else None
        # The raw value of each planned fact: its column's cell, else its constant.
        self.raw: list[int] = []
        for index, (fact, column, _, _) in enumerate(reader.plan):
            self.raw.append(index if column is not None else place(fact))
        self.plain = self.raw == list(range(self.width))
        self.consts = tuple(consts)
        self.get = operator.itemgetter(*self.names)

    def of_mapping(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        try:
            cells: tuple[Any, ...] = self.get(row)
        except KeyError:
            cells = tuple([row.get(name) for name in self.names])
        return cells + self.consts if self.consts else cells


def _sequence_rows(
    rows: Iterable[Sequence[Any]], columns: Sequence[str]
) -> Iterator[Mapping[str, Any]]:
    """Sequence rows with their header as the dicts ``csv.DictReader`` would make of them."""
    names = list(columns)
    width = len(names)
    for row in rows:
        if not row:
            continue  # a blank line, as csv.DictReader skips it
        found = dict(zip(names, row, strict=False))
        if len(row) < width:
            for name in names[len(row) :]:
                found[name] = None
        yield found


def _check_header(columns: object) -> list[str]:
    names = (
        list(columns)
        if isinstance(columns, Iterable) and not isinstance(columns, str | bytes)
        else None
    )
    if names is None or not all(isinstance(name, str) for name in names):
        raise InvalidValueError("columns", columns, "the export's column names (strings)")
    return names


Run = tuple[str, int, list[tuple[int, tuple[Any, ...]]]]


def _snapshot_rows(
    reader: _Reader, rows: Iterable[Any], columns: Sequence[str] | None, numbered: bool
) -> Iterator[Run]:
    """Runs of consecutive rows of one ticket: (ticket id, first row number, [(row number, cells)]).

    Rows that name no ticket are counted (and do not end a run); ``reader.rows``
    counts the rows read. ``numbered``: each row comes as ``(row number, row)``.
    """
    projection = reader.projection
    id_col = reader.columns.get("ticket_id", "")
    missing = reader.missing
    skipped = f"no ticket id in column {id_col!r}"
    read = 0
    current: str | None = None
    run: list[tuple[int, tuple[Any, ...]]] = []
    append = run.append
    if columns is None:
        get, consts = projection.get, projection.consts
        names = projection.names
        for index, row in rows if numbered else enumerate(rows, 1):
            read += 1
            if read == 1:
                reader.rows = read
                _check_columns(row, reader.profile, SNAPSHOT_FACTS_FOR_CHECK)
            raw = row.get(id_col)
            ticket_id = raw.strip() if isinstance(raw, str) else None
            if not ticket_id or ticket_id in missing:
                reader.skipped[skipped] += 1
                continue
            try:
                cells = get(row)
            except KeyError:
                cells = tuple([row.get(name) for name in names])
            if consts:
                cells += consts
            if ticket_id != current:
                if run:
                    reader.rows = read
                    yield current, run[0][0], run  # type: ignore[misc]
                current, run = ticket_id, [(index, cells)]
                append = run.append
            else:
                append((index, cells))
        reader.rows = read
        if run:
            yield current, run[0][0], run  # type: ignore[misc]
        return
    header = {name: i for i, name in enumerate(columns)}  # the last of a repeated name
    where = [header.get(name) for name in projection.names]
    id_at = header.get(id_col)
    full = None not in where
    getter = operator.itemgetter(*[i for i in where if i is not None]) if full else None
    need = max([i for i in where if i is not None], default=-1) + 1
    consts = projection.consts
    # numbered rows come without blank lines; others skip them, as csv.DictReader does
    for index, row in rows if numbered else enumerate(filter(None, rows), 1):
        read += 1
        if read == 1:
            reader.rows = read
            _check_columns(dict.fromkeys(columns), reader.profile, SNAPSHOT_FACTS_FOR_CHECK)
        size = len(row)
        raw = row[id_at] if id_at is not None and id_at < size else None
        ticket_id = raw.strip() if isinstance(raw, str) else None
        if not ticket_id or ticket_id in missing:
            reader.skipped[skipped] += 1
            continue
        if getter is not None and size >= need:
            cells = getter(row)
        else:
            cells = tuple([row[i] if i is not None and i < size else None for i in where])
        if consts:
            cells += consts
        if ticket_id != current:
            if run:
                reader.rows = read
                yield current, run[0][0], run  # type: ignore[misc]
            current, run = ticket_id, [(index, cells)]
            append = run.append
        else:
            append((index, cells))
    reader.rows = read
    if run:
        yield current, run[0][0], run  # type: ignore[misc]


FastBlock = tuple[str, list[tuple[int, tuple[Any, ...]]], str]


def _snapshot_blocks(
    reader: _Reader,
    rows: Iterable[Any],
    columns: Sequence[str] | None,
    *,
    together: bool,
    numbered: bool = False,
) -> Iterator[FastBlock]:
    """Each ticket's rows as cells: all rows held (``together=False``) or as they come."""
    if not together:
        groups: dict[str, list[tuple[int, tuple[Any, ...]]]] = {}
        for ticket_id, _, run in _snapshot_rows(reader, rows, columns, numbered):
            found = groups.get(ticket_id)
            if found is None:
                groups[ticket_id] = run
            else:
                found += run
        for ticket_id in list(groups):
            yield ticket_id, groups.pop(ticket_id), ""
        return
    seen: dict[str, int] = {}
    for ticket_id, start, run in _snapshot_rows(reader, rows, columns, numbered):
        if ticket_id in seen:
            yield (
                ticket_id,
                run,
                f"the rows of ticket {ticket_id!r} are not together (it was seen at row "
                f"{seen[ticket_id]}); sort the export by ticket, or import it whole",
            )
        else:
            seen[ticket_id] = start
            yield ticket_id, run, ""


class _Fast:
    """What the fast path derives once per import: caches and the positions of the facts."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        plan = reader.plan
        self.caches: list[dict[Any, str | None]] = [{} for _ in plan]
        where = {fact: index for index, (fact, _, _, _) in enumerate(plan)}
        self.where = where
        self.actors: dict[Any, str] = {}
        self.sequences: dict[Any, int] = {}
        self.leaves: dict[tuple[str, str | None], str] = {}
        self.categories: dict[str, str] = {}
        # The triggers whose actor the lifecycle's policies may refuse.
        self.checked = frozenset(
            trigger
            for state in reader.lc.states
            for trigger in reader.lc.triggers_from(state)
            if reader.may_refuse(trigger)
        )
        self.matrix = reader.has["priority"] and reader.profile.matrix is not None
        #: Where each diffed fact is in a row's converted cells (-1: the profile has none).
        self.positions = tuple(where.get(fact, -1) for fact in _POSITIONS)
        self.initial = reader.lc.definition.initial
        self.initial_category = reader.lc.category_of(self.initial)
        #: The events written without ``__init__`` (its values are checked text, instants
        #: and levels): built at the first import, not when the module loads.
        self.write: dict[type[Event], Callable[..., Event]] = {
            cls: event_writer(cls) for cls in _DIFFED_EVENTS
        }

    def convert(self, index: int, raw: Any, row: int) -> str | None:
        """The fact of planned cell ``index`` (``_Reader.facts`` for one cell), remembered."""
        reader = self.reader
        fact, _, _, table = reader.plan[index]
        value: str | None
        if raw is None:
            value = None
        else:
            text = _text(raw).strip()
            if text in reader.missing:
                value = None
            elif table:
                if text not in table:
                    reader.value(fact, text, row)  # raises, naming the profile key
                value = table[text] or None
            else:
                value = text
        cache = self.caches[index]
        if len(cache) < _CELL_CACHE:
            cache[raw] = value
        return value

    def actor(self, raw: Any, row: int) -> str:
        found = self.reader.value("actor", _text(raw), row) or "unknown"
        if len(self.actors) < _CELL_CACHE:
            self.actors[raw] = found
        return found

    def sequence(self, raw: Any, row: int) -> int:
        column = self.reader.columns["sequence"]
        found = _whole(_text(raw) or "", column, row)
        if len(self.sequences) < _CELL_CACHE:
            self.sequences[raw] = found
        return found

    def leaf(self, state: str, hold: str | None, row: int) -> str:
        found = self.reader.state({"state": state, "hold_reason": hold}, row)
        assert found is not None
        self.leaves[state, hold] = found
        return found

    def category(self, state: str) -> str:
        found = self.reader.lc.category_of(state)
        self.categories[state] = found
        return found


class _NotText(Exception):
    """A cell the fast path reads is not text (a JSON number...): the ticket takes the reference."""


def _snapshot_fast(
    reader: _Reader,
    ticket_id: str,
    rows: list[tuple[int, tuple[Any, ...]]],
    events: list[Event],
) -> tuple[tuple[Event, ...], int]:
    """``_snapshot_ticket`` over projected cells (see the fast path above).

    A cell that is not text, met where the fast path first reads it, hands the
    whole ticket to ``_snapshot_ticket`` (which reads it with ``str``), as if
    the fast path had never seen it.
    """
    mismatches = reader.mismatches
    try:
        return _snapshot_cells(reader, ticket_id, rows, events)
    except (_NotText, TypeError):  # TypeError: an unhashable cell (a JSON list...)
        reader.mismatches = mismatches
        del events[:]
        names = reader.projection.names
        rows_read: list[tuple[int, Mapping[str, Any]]] = [
            (i, dict(zip(names, c, strict=False))) for i, c in rows
        ]
        return _snapshot_ticket(reader, ticket_id, rows_read, events)


def _text(raw: Any) -> Any:
    if raw is None or isinstance(raw, str):
        return raw
    raise _NotText


#: The kinds of event the fast path writes (through :func:`~itsm_core.ticket.event_writer`).
_DIFFED_EVENTS = (
    TicketOpened,
    Unassigned,
    GroupAssigned,
    Assigned,
    Reassigned,
    PriorityChanged,
    StateChanged,
    FieldChanged,
)


def _snapshot_cells(
    reader: _Reader,
    ticket_id: str,
    rows: list[tuple[int, tuple[Any, ...]]],
    events: list[Event],
) -> tuple[tuple[Event, ...], int]:
    projection = reader.projection
    fast = reader.fast
    write = fast.write
    # -- order: by the sequence column, else by the instant; ties in input order
    keyed: list[tuple[Any, int, tuple[Any, ...]]]
    if projection.sequence is not None:
        at_seq, sequences = projection.sequence, fast.sequences
        try:  # every number remembered: one comprehension
            keyed = [(sequences[cells[at_seq]], index, cells) for index, cells in rows]
        except KeyError:
            keyed = []
            for index, cells in rows:
                raw = cells[at_seq]
                number = sequences.get(raw)
                if number is None:
                    number = fast.sequence(raw, index)
                keyed.append((number, index, cells))
    else:
        at_pos, instants = projection.at, reader.instants
        keyed = []
        for index, cells in rows:
            text = cells[at_pos]
            found = instants.get(text)
            if found is None:
                found = reader.instant(_text(text), "at", index)
            keyed.append((found, index, cells))
    keyed.sort()  # the row numbers are unique: cells are never compared
    # -- the facts this diff reads, and the ticket's as it goes
    width, raw_at, plain = projection.width, projection.raw, projection.plain
    caches, convert = fast.caches, fast.convert
    at_pos, actor_pos = projection.at, projection.actor
    instants, actors, instant = reader.instants, fast.actors, reader.instant
    jg, ja, ji, ju, jp, jt, jr, jc, js, jst, jh, jrc = fast.positions
    priced = ji >= 0 or ju >= 0 or jp >= 0
    matrix, derive, count_any = fast.matrix, reader.derive, reader.count_any
    derived_of: dict[Any, str | None] = reader.derived
    leaves, categories, moves, checked = fast.leaves, fast.categories, reader.moves, fast.checked
    lc = reader.lc
    unchanged = 0
    mismatch = False
    previous: Any = _NOTHING
    first = True
    # The ticket's facts (set by the opening).
    g0: str | None = None
    p0: str | None = None
    imp = urg = eff = cat = svc = code0 = None
    title = requester = state0 = cat0 = ""
    updated: datetime | None = None
    for _, index, cells in keyed:
        compared = cells[:width]
        if compared == previous:
            unchanged += 1
            reader.mismatches += mismatch
            continue
        previous = compared
        raws = compared if plain else tuple([cells[i] for i in raw_at])
        try:
            f = list(map(_GET, caches, raws))
        except KeyError:  # a cell not met yet: converted (and remembered), in plan order
            f = [cache.get(raw, _NOTHING) for cache, raw in zip(caches, raws)]  # noqa: B905
            for j, value in enumerate(f):
                if value is _NOTHING:
                    f[j] = convert(j, raws[j], index)
        # The matrix's priority for the row's impact and urgency (a fact without a column
        # stays None on the ticket, so this is also the priority the diff derives).
        impact = f[ji] if ji >= 0 else None
        urgency = f[ju] if ju >= 0 else None
        if priced:
            derived = derived_of.get((impact, urgency), _NOTHING)
            if derived is _NOTHING:
                derived = derive(impact, urgency)
        if matrix:
            mismatch = derived != f[jp]
            reader.mismatches += mismatch
        else:
            mismatch = False
        text = cells[at_pos]
        at = instants.get(text)
        if at is None:
            at = instant(_text(text), "at", index)
        raw = cells[actor_pos]
        actor = actors.get(raw)
        if actor is None:
            actor = fast.actor(raw, index)
        if first:
            opened_text = _text(cells[projection.opened_at])
            opened_at = (
                instant(opened_text, "opened_at", index)
                if reader.value("opened_at", opened_text, index) is not None
                else at
            )
            opener = reader.value("opened_by", _text(cells[projection.opened_by]), index) or actor
            if not priced:
                derived = None
            eff = f[jp] if jp >= 0 else derived
            imp, urg = impact, urgency
            title = (f[jt] if jt >= 0 else None) or ""
            requester = (f[jr] if jr >= 0 else None) or opener
            cat = f[jc] if jc >= 0 else None
            svc = f[js] if js >= 0 else None
            state0, cat0 = fast.initial, fast.initial_category
            events.append(
                write[TicketOpened](
                    ticket_id=ticket_id,
                    actor=opener,
                    at=opened_at,
                    type=lc.name,
                    state=state0,
                    state_category=cat0,
                    title=title,
                    requester=requester,
                    impact=imp,
                    urgency=urg,
                    derived_priority=derived,
                    effective_priority=eff,
                    category=cat,
                    service=svc,
                )
            )
            updated = opened_at
        new: list[Event] = []
        requester_before, assignee_before = requester, p0
        # -- assignment
        group = f[jg] if jg >= 0 else g0
        person = f[ja] if ja >= 0 else p0
        if group != g0 or person != p0:
            moved = g0 is not None and g0 != group
            if group is None and person is None:
                new.append(
                    write[Unassigned](
                        ticket_id=ticket_id,
                        actor=actor,
                        at=at,
                        from_assignee=p0,
                        from_group=g0,
                        from_support_line=None,
                    )
                )
            elif person is None:
                new.append(
                    write[GroupAssigned](
                        ticket_id=ticket_id,
                        actor=actor,
                        at=at,
                        group=group or "",
                        from_group=g0,
                        from_assignee=p0,
                        from_support_line=None,
                        counted=moved,
                    )
                )
                group = group or ""
            elif p0 is None and not moved:
                new.append(
                    write[Assigned](
                        ticket_id=ticket_id, actor=actor, at=at, assignee=person, group=group
                    )
                )
            else:
                new.append(
                    write[Reassigned](
                        ticket_id=ticket_id,
                        actor=actor,
                        at=at,
                        assignee=person,
                        group=group,
                        support_line=None,
                        from_assignee=p0,
                        from_group=g0,
                        from_support_line=None,
                        counted=moved or (count_any and p0 is not None),
                    )
                )
            g0, p0 = group, person
        # -- priority
        if priced:
            if jp >= 0:
                effective = f[jp]
                override = effective if effective != derived else None
            else:
                effective, override = derived, None
            if impact != imp or urgency != urg or effective != eff:
                new.append(
                    write[PriorityChanged](
                        ticket_id=ticket_id,
                        actor=actor,
                        at=at,
                        impact=impact,
                        urgency=urgency,
                        derived=derived,
                        override=override,
                        effective=effective,
                    )
                )
                imp, urg, eff = impact, urgency, effective
        # -- descriptive fields
        if jt >= 0:
            value = f[jt] or ""
            if value != title:
                new.append(_field(write, ticket_id, actor, at, "title", title, value))
                title = value
        if jr >= 0:
            value = f[jr] or requester
            if value != requester:
                new.append(_field(write, ticket_id, actor, at, "requester", requester, value))
                requester = value
        if jc >= 0 and f[jc] != cat:
            new.append(_field(write, ticket_id, actor, at, "category", cat, f[jc]))
            cat = f[jc]
        if js >= 0 and f[js] != svc:
            new.append(_field(write, ticket_id, actor, at, "service", svc, f[js]))
            svc = f[js]
        # -- state and resolution
        state: str | None = None
        if jst >= 0:
            named = f[jst]
            if named is not None:
                hold = f[jh] if jh >= 0 else None
                state = leaves.get((named, hold))
                if state is None:
                    state = fast.leaf(named, hold, index)
        code = f[jrc] if jrc >= 0 else None
        if state is not None and state != state0:
            to_category = categories.get(state) or fast.category(state)
            trigger = moves.get((state0, state))
            if trigger is None:
                raise _Refusal(
                    f"lifecycle {lc.name!r} has no move from {state0!r} to "
                    f"{state!r} (from {state0!r}: "
                    f"{', '.join(lc.triggers_from(state0)) or 'none, final'})",
                    index,
                    "StateChanged",
                )
            if trigger in checked:
                reader.check_policy_of(trigger, requester_before, assignee_before, actor, index)
            resolving = to_category == "resolved" and cat0 != "resolved"
            new.append(
                write[StateChanged](
                    ticket_id=ticket_id,
                    actor=actor,
                    at=at,
                    trigger=trigger,
                    from_state=state0,
                    to_state=state,
                    from_category=cat0,
                    to_category=to_category,
                    hold_reason=state.rsplit(".", 1)[-1] if to_category == "on_hold" else None,
                    resolution_code=code if resolving else None,
                )
            )
            if resolving:
                code0 = code
            elif cat0 == "resolved" and to_category in ("new", "active", "on_hold"):
                code0 = None
            state0, cat0 = state, to_category
        elif jrc >= 0 and cat0 == "resolved" and code != code0:
            new.append(_field(write, ticket_id, actor, at, "resolution_code", code0, code))
            code0 = code
        # -- the row's events, in time
        if new:
            assert updated is not None
            if at < updated:
                raise _Refusal(
                    f"at {at.isoformat()} is before the ticket's previous change "
                    f"{updated.isoformat()}; the export's order and times disagree",
                    index,
                    type(new[0]).__name__,
                )
            events += new
            updated = at
        elif not first:
            unchanged += 1
        first = False
    return tuple(events), unchanged


def _field(
    write: Mapping[type[Event], Callable[..., Event]],
    ticket_id: str,
    actor: str,
    at: datetime,
    field: str,
    old: Any,
    new: Any,
) -> Event:
    return write[FieldChanged](
        ticket_id=ticket_id, actor=actor, at=at, field=field, old=old, new=new
    )


def _reader(profile: Profile, lifecycle: Lifecycle | None, shape: str) -> _Reader:
    if not isinstance(profile, Profile):
        raise InvalidValueError("profile", profile, "a Profile (see profile_from_dict)")
    if profile.shape != shape:
        raise InvalidValueError("profile.shape", profile.shape, f"{shape!r} for import_{shape}")
    reader = _Reader(profile, profile_lifecycle(profile, lifecycle))
    if shape == "snapshot":
        reader.has = {
            fact: profile.column(fact) is not None or profile.constant(fact) is not None
            for fact in DIFFED_FACTS
        }
        reader.plan = [
            (fact, reader.columns.get(fact), reader.constants.get(fact), reader.maps.get(fact))
            for fact in DIFFED_FACTS
            if reader.has[fact]
        ]
        reader.plan_columns = tuple(column or "" for _, column, _, _ in reader.plan)
        reader.projection = _Projection(reader)
        reader.fast = _Fast(reader)
    else:
        mapped = {fact for _, fact in profile.fields}
        reader.has = {fact: fact in mapped for fact in DIFFED_FACTS}
    return reader


def import_snapshot(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    profile: Profile,
    *,
    lifecycle: Lifecycle | None = None,
    columns: Sequence[str] | None = None,
) -> ImportResult:
    """Histories from a snapshot export: one full row per update of a ticket.

    The rows of each ticket are ordered by the profile's ``sequence`` column
    (else by their instant, ties in input order) and diffed one after the other; the first row
    opens the ticket (at ``opened_at`` when the export has it). A ticket whose
    rows cannot be read or whose history breaks the lifecycle is refused with
    its reason; a row without a ticket id is skipped and counted.

    With ``columns`` (the export's header), each row is a sequence of cells in
    that order, as ``csv.reader`` gives them, read as ``csv.DictReader`` would
    read it (a short row's missing cells are ``None``, a blank row is skipped);
    it saves building a dict per row.

    >>> from itsm_core.imports import PROFILE_DATA, profile_from_dict
    >>> data = dict(PROFILE_DATA["servicenow_snapshot"])
    >>> data["columns"] = {k: v for k, v in data["columns"].items()
    ...                    if k in ("ticket_id", "at", "actor", "state", "group", "assignee")}
    >>> SMALL = profile_from_dict(data)
    >>> rows = [
    ...     {"number": "INC1", "incident_state": "New", "sys_updated_at": "1/3/2016 09:00",
    ...      "sys_updated_by": "ann", "assignment_group": "Desk", "assigned_to": "?"},
    ...     {"number": "INC1", "incident_state": "Resolved", "sys_updated_at": "1/3/2016 10:00",
    ...      "sys_updated_by": "dan", "assignment_group": "Desk", "assigned_to": "dan"},
    ...     {"number": "INC1", "incident_state": "Active", "sys_updated_at": "1/3/2016 11:00",
    ...      "sys_updated_by": "ann", "assignment_group": "Desk", "assigned_to": "dan"},
    ... ]
    >>> result = import_snapshot(rows, SMALL)
    >>> [type(e).__name__ for e in result.histories[0]]
    ['TicketOpened', 'GroupAssigned', 'Assigned', 'StateChanged', 'StateChanged']
    >>> result.histories[0].ticket.reopenings
    1
    """
    reader = _reader(profile, lifecycle, "snapshot")
    header = None if columns is None else _check_header(columns)
    blocks = _snapshot_blocks(reader, rows, header, together=False)
    return _collect(reader, _tickets(reader, blocks, _snapshot_fast))


def _audit_ticket(
    reader: _Reader,
    ticket_id: str,
    rows: list[tuple[int, Mapping[str, Any]]],
    events: list[Event],
) -> tuple[tuple[Event, ...], int]:
    rows = sorted(rows, key=_sort_key(reader, rows))
    fields = dict(reader.profile.fields)
    # Change sets: consecutive rows of one instant, actor and sequence.
    sets: list[
        tuple[int, str | None, str, str | None, list[tuple[str, str | None, str | None]]]
    ] = []
    for index, row in rows:
        name = (_raw(reader, row, "field") or "").strip()
        fact = fields.get(name)
        if fact is None:
            reader.skipped[f"field {name!r} is not in the profile's fields"] += 1
            continue
        at_text = _raw(reader, row, "at")
        actor = reader.value("actor", _raw(reader, row, "actor"), index) or "unknown"
        seq = _raw(reader, row, "sequence")
        old = reader.value(fact, _raw(reader, row, "old"), index)
        new = reader.value(fact, _raw(reader, row, "new"), index)
        key = (at_text, actor, seq)
        if sets and (sets[-1][1], sets[-1][2], sets[-1][3]) == key:
            sets[-1][4].append((fact, old, new))
        else:
            sets.append((index, at_text, actor, seq, [(fact, old, new)]))
    if not sets:
        raise _Refusal("no row of this ticket names a field of the profile", rows[0][0])
    first_index, first_at, first_actor, _, first_changes = sets[0]
    facts: Facts = {}
    if all(old is None for _, old, _ in first_changes):
        for fact, _, new in first_changes:
            facts[fact] = new
        changes = sets[1:]
    else:
        for _, _, _, _, items in sets:
            for fact, old, _ in items:
                facts.setdefault(fact, old)
        changes = sets
    for fact, value in reader.constants.items():
        if fact in DIFFED_FACTS and facts.get(fact) is None:
            facts[fact] = reader.value(fact, value, first_index)
    first_row = dict(rows[0][1])
    opened_text = _raw(reader, first_row, "opened_at")
    if reader.value("opened_at", opened_text, first_index) is not None:
        opened_at = reader.instant(opened_text, "opened_at", first_index)
    else:
        opened_at = reader.instant(first_at, "at", first_index)
    opener = reader.value("opened_by", _raw(reader, first_row, "opened_by"), first_index)
    opened = reader.opening(ticket_id, facts, opened_at, opener or first_actor)
    events.append(opened)
    ticket = opened.apply_to(None)
    ticket = _fold(
        events,
        ticket,
        reader.diff(ticket, facts, opened_at, opener or first_actor, first_index),
        first_index,
    )
    reader.check_priority(facts)
    unchanged = 0
    for index, at_text, actor, _, items in changes:
        for fact, _, new in items:
            facts[fact] = new
        reader.check_priority(facts)
        at = reader.instant(at_text, "at", index)
        new_events = reader.diff(ticket, facts, at, actor, index)
        if not new_events:
            unchanged += 1
        ticket = _fold(events, ticket, new_events, index)
    return tuple(events), unchanged


def import_audit(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    profile: Profile,
    *,
    lifecycle: Lifecycle | None = None,
    columns: Sequence[str] | None = None,
) -> ImportResult:
    """Histories from an audit (changelog) export: one row per changed field.

    Rows of one ticket with the same instant, actor and sequence form one
    update. The ticket opens with the values of its first update when that
    update has no old values (an insert, as ServiceNow's ``sys_audit``
    records it); otherwise with each field's first old value (as Jira's
    changelog has it), at ``opened_at``. A row naming a field the profile
    does not read is skipped and counted by field.

    >>> from itsm_core.imports import PROFILES
    >>> rows = [
    ...     {"documentkey": "INC1", "fieldname": "incident_state", "oldvalue": "",
    ...      "newvalue": "1", "sys_created_on": "2016-03-01 09:00:00", "user": "ann",
    ...      "record_checkpoint": "0"},
    ...     {"documentkey": "INC1", "fieldname": "incident_state", "oldvalue": "1",
    ...      "newvalue": "6", "sys_created_on": "2016-03-01 10:00:00", "user": "dan",
    ...      "record_checkpoint": "1"},
    ...     {"documentkey": "INC1", "fieldname": "work_notes", "oldvalue": "",
    ...      "newvalue": "done", "sys_created_on": "2016-03-01 10:00:00", "user": "dan",
    ...      "record_checkpoint": "1"},
    ... ]
    >>> result = import_audit(rows, PROFILES["servicenow_audit"])
    >>> [e.to_state for e in result.histories[0][1:]], result.skipped
    (['resolved'], (("field 'work_notes' is not in the profile's fields", 1),))
    """
    reader = _reader(profile, lifecycle, "audit")
    return _collect(reader, _tickets(reader, _grouped(reader, _mappings(rows, columns))))


def _tickets(
    reader: _Reader, blocks: Iterable[Block] | Iterable[FastBlock], build: Any = None
) -> Iterator[History | RefusedTicket]:
    """Each ticket's history, or its refusal, as its rows are read."""
    if build is None:
        build = _snapshot_ticket if reader.profile.shape == "snapshot" else _audit_ticket
    rules = _Rules(reader.lc)
    for ticket_id, rows, problem in blocks:
        events: list[Event] = []
        try:
            if problem:
                raise _Refusal(problem, rows[0][0])
            built, same = build(reader, ticket_id, rows, events)
            history = History(built, lifecycle=rules)
        except _Refusal as exc:
            yield RefusedTicket(
                ticket_id=ticket_id,
                reason=exc.reason,
                row=exc.row,
                event=exc.event,
                rows=len(rows),
                events=tuple(events),
            )
            continue
        except InvalidValueError as exc:  # pragma: no cover - the diff builds valid moves
            yield RefusedTicket(
                ticket_id=ticket_id,
                reason=str(exc),
                row=None,
                event="",
                rows=len(rows),
                events=tuple(events),
            )
            continue
        reader.unchanged += same
        yield history


def _counts(reader: _Reader) -> ImportCounts:
    return ImportCounts(
        rows=reader.rows,
        skipped=tuple(sorted(reader.skipped.items())),
        unchanged_rows=reader.unchanged,
        priority_mismatches=reader.mismatches,
    )


def _collect(reader: _Reader, items: Iterable[History | RefusedTicket]) -> ImportResult:
    histories: list[History] = []
    refused: list[RefusedTicket] = []
    for item in items:
        (histories if isinstance(item, History) else refused).append(item)  # type: ignore[arg-type]
    counts = _counts(reader)
    return ImportResult(
        histories=tuple(histories),
        refused=tuple(refused),
        rows=counts.rows,
        skipped=counts.skipped,
        unchanged_rows=counts.unchanged_rows,
        priority_mismatches=counts.priority_mismatches,
    )


def import_stream(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    profile: Profile,
    *,
    lifecycle: Lifecycle | None = None,
    columns: Sequence[str] | None = None,
    numbered: bool = False,
) -> Iterator[History | RefusedTicket | ImportCounts]:
    """Histories as the rows are read, in bounded memory, then the counts.

    For exports too large to hold: the rows of each ticket must come
    together (sort the export by ticket first, e.g. with an external sort);
    each ticket's :class:`~itsm_core.lifecycle.History` or
    :class:`RefusedTicket` is yielded when its rows end, and the last item is
    an :class:`ImportCounts`. A ticket whose rows come back after another
    ticket's is refused for that second block, with the reason (the history
    yielded for its first block is then incomplete: sort first). Rows may be
    sequences of cells with their header as ``columns``, as for
    :func:`import_snapshot`. With ``numbered``, each row comes as
    ``(row number, row)``: rows an external sort has grouped keep the numbers
    they have in the export, which a refused ticket names.

    >>> from itsm_core.imports import PROFILES
    >>> header = ["number", "incident_state", "sys_updated_at", "sys_updated_by",
    ...           "sys_mod_count", "opened_at", "opened_by", "caller_id", "assignment_group",
    ...           "assigned_to", "impact", "urgency", "priority", "category", "cmdb_ci",
    ...           "closed_code"]
    >>> same = ["1/3/2016 08:55", "ann", "carl", "?", "?", "2 - Medium", "2 - Medium",
    ...         "3 - Moderate", "Network", "?"]
    >>> lines = [["INC1", "New", "1/3/2016 09:00", "ann", "0", *same, "?"],
    ...          ["INC1", "Resolved", "1/3/2016 10:00", "dan", "1", *same, "code 1"]]
    >>> history, counts = import_stream(lines, PROFILES["servicenow_snapshot"], columns=header)
    >>> [type(e).__name__ for e in history], history[-1].resolution_code, counts.rows
    (['TicketOpened', 'StateChanged'], 'code 1', 2)
    >>> from itsm_core.imports import PROFILES
    >>> rows = [
    ...     {"documentkey": "A", "fieldname": "incident_state", "oldvalue": "",
    ...      "newvalue": "1", "sys_created_on": "2016-03-01 09:00:00", "user": "ann",
    ...      "record_checkpoint": "0"},
    ...     {"documentkey": "B", "fieldname": "incident_state", "oldvalue": "",
    ...      "newvalue": "1", "sys_created_on": "2016-03-01 09:00:00", "user": "ann",
    ...      "record_checkpoint": "0"},
    ...     {"documentkey": "A", "fieldname": "incident_state", "oldvalue": "1",
    ...      "newvalue": "6", "sys_created_on": "2016-03-01 10:00:00", "user": "dan",
    ...      "record_checkpoint": "1"},
    ... ]
    >>> [type(item).__name__ for item in import_stream(rows, PROFILES["servicenow_audit"])]
    ['History', 'History', 'RefusedTicket', 'ImportCounts']
    """
    reader = _reader(profile, lifecycle, profile.shape if isinstance(profile, Profile) else "")
    if reader.profile.shape == "snapshot":
        header = None if columns is None else _check_header(columns)
        blocks = _snapshot_blocks(reader, rows, header, together=True, numbered=numbered)
        yield from _tickets(reader, blocks, _snapshot_fast)
    else:
        yield from _tickets(
            reader, _consecutive(reader, _numbered_mappings(rows, columns, numbered))
        )
    yield _counts(reader)


def import_rows(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    profile: Profile,
    *,
    lifecycle: Lifecycle | None = None,
    columns: Sequence[str] | None = None,
) -> ImportResult:
    """:func:`import_snapshot` or :func:`import_audit`, as the profile's ``shape`` says.

    >>> from itsm_core.imports import PROFILES
    >>> import_rows([], PROFILES["servicenow_audit"]).tickets
    0
    """
    if isinstance(profile, Profile) and profile.shape == "audit":
        return import_audit(rows, profile, lifecycle=lifecycle, columns=columns)
    return import_snapshot(rows, profile, lifecycle=lifecycle, columns=columns)


def _mappings(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]], columns: Sequence[str] | None
) -> Iterable[Mapping[str, Any]]:
    if columns is None:
        return rows  # type: ignore[return-value]
    return _sequence_rows(rows, _check_header(columns))  # type: ignore[arg-type]


def _numbered_mappings(
    rows: Iterable[Any], columns: Sequence[str] | None, numbered: bool
) -> Iterable[tuple[int, Mapping[str, Any]]]:
    """``(row number, row as a mapping)``: numbered as they come, or as ``numbered`` rows say."""
    if not numbered:
        return enumerate(_mappings(rows, columns), 1)
    if columns is None:
        return rows
    names = _check_header(columns)
    return ((number, found) for number, row in rows for found in _sequence_rows((row,), names))


def _import_snapshot_reference(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    profile: Profile,
    *,
    lifecycle: Lifecycle | None = None,
    columns: Sequence[str] | None = None,
) -> ImportResult:
    """:func:`import_snapshot` the general way: rows as dicts, a ticket folded event by event.

    The reference of the fast path (``tests/test_imports_fast_path.py``); its
    timestamps are read by :func:`~itsm_core.imports.parse_instant` itself.
    """
    reader = _reader(profile, lifecycle, "snapshot")
    reader.parse = _plain_parse(reader.profile)
    return _collect(reader, _tickets(reader, _grouped(reader, _mappings(rows, columns))))


def _import_stream_reference(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    profile: Profile,
    *,
    lifecycle: Lifecycle | None = None,
    columns: Sequence[str] | None = None,
    numbered: bool = False,
) -> Iterator[History | RefusedTicket | ImportCounts]:
    """:func:`import_stream` the general way (the reference of its fast path)."""
    reader = _reader(profile, lifecycle, profile.shape if isinstance(profile, Profile) else "")
    reader.parse = _plain_parse(reader.profile)
    yield from _tickets(reader, _consecutive(reader, _numbered_mappings(rows, columns, numbered)))
    yield _counts(reader)


def _plain_parse(profile: Profile) -> Callable[[str, str], datetime]:
    """The timestamps of ``profile`` read by ``parse_instant`` (the reference's reading)."""
    stamps = profile.timestamps

    def parse(text: str, field: str = "at") -> datetime:
        return parse_instant(text, stamps, field)

    return parse
