"""Satisfaction, first-contact resolution and workload statistics from ONE walk per ticket.

:meth:`Satisfaction.of`, :meth:`FirstContact.of` and :meth:`Stats.of` each walk
every history on their own (the plain path, through :func:`walk`, which folds a
full ticket per event). A report wants all three over the same tickets:
:meth:`ServiceFigures.of` walks each history once and fills the three
accumulators from that one walk. Over a validated
:class:`~itsm_core.lifecycle.History` whose events are all of the ticket
module's own kinds or of kinds of other rooms that change no ticket field, the
walk follows only the handful of ticket fields the accumulators read
(assignee, group, support line, priority, type, service, category, channel,
state category, first response) instead of folding whole tickets, and reads
the instants the history already holds. A ``FieldChanged`` is followed when it
sets one of those dimensions or a field the walk does not read (a custom
field, the title, the requester...). Kinds of other rooms that do change
fields are read from the history's own fold (kept by the history, so shared
with whoever else folded it); raw event lists and a ``FieldChanged`` of any
other field go through :func:`walk`. The answers are exactly the three
separate ones (a property test compares them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from itsm_core.calendar import CalendarLike
from itsm_core.errors import InvalidValueError
from itsm_core.lifecycle import History
from itsm_core.metrics._first_contact import FcrDefinition, FirstContact, FirstContactKey
from itsm_core.metrics._satisfaction import (
    RatingScale,
    Satisfaction,
    SatisfactionKey,
    SatisfactionTally,
)
from itsm_core.metrics._stats import Stats, StatsKey, Tally, check_grouping
from itsm_core.metrics._walk import DIMENSIONS, TicketWalk, check_dimensions, walk
from itsm_core.ticket import (
    ApprovalGiven,
    ApprovalRefused,
    ApprovalRequested,
    ArticleLinked,
    Assigned,
    CallbackRecorded,
    CommentAdded,
    DueDateSet,
    Event,
    FieldChanged,
    GroupAssigned,
    Linked,
    MajorCleared,
    MajorSet,
    Merged,
    PriorityChanged,
    Reassigned,
    RequesterChanged,
    StateChanged,
    SurveyAnswered,
    SurveyRequested,
    Ticket,
    TicketOpened,
    TicketSplit,
    Unassigned,
    Unlinked,
    Unwatched,
    Watched,
    changes_no_field,
)

__all__ = ["ServiceFigures"]

Dims = tuple[tuple[str, str], ...]

# The event kinds the one walk follows without folding tickets: those that set none of
# the fields it reads, and those whose effect on them it writes out below. A FieldChanged
# may set any field: it is followed when it sets a dimension or a field the walk does not
# read (``_followed_field``); kinds of other rooms may do anything.
_INERT: frozenset[type] = frozenset(
    {
        RequesterChanged,
        ArticleLinked,
        Linked,
        Unlinked,
        Merged,
        TicketSplit,
        Watched,
        Unwatched,
        ApprovalRequested,
        ApprovalGiven,
        ApprovalRefused,
        MajorSet,
        MajorCleared,
        DueDateSet,
    }
)
_FOLLOWED: frozenset[type] = _INERT | {
    Assigned,
    Reassigned,
    GroupAssigned,
    Unassigned,
    PriorityChanged,
    StateChanged,
    CommentAdded,
    SurveyRequested,
    SurveyAnswered,
    CallbackRecorded,
}


#: The ticket dimensions a FieldChanged may set, followed by the one walk.
_DIM_FIELDS = frozenset({"type", "service", "category", "channel"})
#: Ticket fields the walk never reads: a FieldChanged setting one changes nothing it counts.
_UNREAD_FIELDS = frozenset(
    {
        "title",
        "requester",
        "description",
        "customer",
        "impact",
        "urgency",
        "derived_priority",
        "priority_override",
        "resolution_code",
        "resolution",
        "approval",
    }
)


def _followed_field(event: FieldChanged) -> bool:
    """Whether the one walk follows ``event``: a custom field, a dimension or an unread field."""
    field = event.field  # a field FieldChanged.check let through: the history checked it
    return event.custom or field in _DIM_FIELDS or field in _UNREAD_FIELDS


class _Sums:
    """The three accumulators' buckets while histories are walked (one walk per history)."""

    __slots__ = (
        "calendar",
        "fcr",
        "fcr_found",
        "fcr_wanted",
        "name_of",
        "sat_found",
        "sat_wanted",
        "scale",
        "stats_found",
        "stats_wanted",
        "survey",
        "union",
    )

    def __init__(
        self,
        calendar: CalendarLike,
        name_of: Callable[[int], str],
        scale: RatingScale,
        survey: str,
        fcr: FcrDefinition,
        by: tuple[str, ...],
        stats_by: tuple[str, ...],
    ) -> None:
        self.calendar = calendar
        self.name_of = name_of
        self.scale = scale
        self.survey = survey
        self.fcr = fcr
        self.sat_wanted = self.fcr_wanted = frozenset(by)
        self.stats_wanted = frozenset(stats_by)
        self.union = self.sat_wanted | self.stats_wanted
        self.stats_found: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.sat_found: dict[tuple[str, str, str], tuple[list[int], Counter[int]]] = {}
        self.fcr_found: dict[FirstContactKey, list[int]] = {}

    # -- what every walk reports --------------------------------------------------

    def count(self, measure: str, at_us: int, dims: Dims, value_us: int | None = None) -> None:
        """A workload fact (a count, or a business time with ``value_us``)."""
        name = ""  # the period, named at the first dimension the statistics keep
        wanted = self.stats_wanted
        found = self.stats_found
        for dim, value in dims:
            if dim not in wanted:
                continue
            if not name:
                name = self.name_of(at_us)
            bucket = found.get((dim, value, name))
            if bucket is None:
                bucket = found[(dim, value, name)] = {}
            if value_us is None:
                bucket[measure] = bucket.get(measure, 0) + 1
            else:
                times = bucket.get(measure)
                if times is None:
                    bucket[measure] = [value_us]
                else:
                    times.append(value_us)

    def _satisfaction(
        self, at_us: int, dims: Dims, counts: tuple[int, ...], rating: int | None = None
    ) -> None:
        name = self.name_of(at_us)
        wanted = self.sat_wanted
        found = self.sat_found
        for dim, value in dims:
            if dim in wanted:
                bucket = found.get((dim, value, name))
                if bucket is None:
                    bucket = found[(dim, value, name)] = ([0, 0, 0, 0, 0], Counter())
                numbers = bucket[0]
                for column, n in enumerate(counts):
                    numbers[column] += n
                if rating is not None:
                    bucket[1][rating] += 1

    def ticket_done(
        self,
        index: int,
        surveys: Iterable[tuple[str, int, Dims, int | None, int]],
        callbacks: Iterable[tuple[int, Dims, bool, bool | None]],
        seen: TicketWalk | None,
    ) -> None:
        """A walked ticket's surveys, call-backs and first resolution (``seen``: resolved)."""
        scale = self.scale
        for name, at_us, where, rating, j in surveys:
            if name != self.survey:
                continue
            if rating is not None and not scale.contains(rating):
                raise InvalidValueError(
                    f"histories[{index}][{j}].rating",
                    rating,
                    f"a point of scale {scale.name!r} from {scale.low} to {scale.high}",
                )
            self._satisfaction(at_us, where, (1, int(rating is not None), 0, 0, 0), rating)
        for at_us, where, reached, confirmed in callbacks:
            self._satisfaction(at_us, where, (0, 0, 1, int(reached), int(bool(confirmed))))
        if seen is None:
            return
        verdict = self.fcr.holds(seen)
        if verdict is None:  # pragma: no cover - only resolved tickets come here
            return
        assert seen.first_resolution is not None
        at_us, where, _, _ = seen.first_resolution
        name = self.name_of(at_us)
        wanted = self.fcr_wanted
        for dim, value in where:
            if dim in wanted:
                key = FirstContactKey(by=dim, value=value, period=name)
                bucket = self.fcr_found.get(key)
                if bucket is None:
                    bucket = self.fcr_found[key] = [0, 0]
                bucket[0] += 1
                bucket[1] += int(verdict)

    # -- the two walks ------------------------------------------------------------

    def add(self, events: Sequence[Event] | Iterable[Event], index: int) -> None:
        """Walk one history (``index``: its position, naming a bad event) into the buckets."""
        if isinstance(events, History):
            modes = {_MODES.get(cls) or _mode(cls) for cls in set(map(type, events.events))}
            if _FIELD in modes and not all(
                _followed_field(e) for e in events.events if type(e) is FieldChanged
            ):
                modes.add(_PLAIN)
            if _PLAIN not in modes:
                if _FROM_FOLD not in modes or all(
                    changes_no_field(e) for e in events.events if _MODES[type(e)] == _FROM_FOLD
                ):
                    self._followed(events, index, None)
                    return
                try:
                    events.ticket_after(-1)  # folded once (and kept by the history)
                except Exception:  # the plain walk below raises it, naming the event
                    pass
                else:
                    self._followed(events, index, events.ticket_after)
                    return
        seen = walk(events, index, self.calendar)
        for obs in seen.observations:
            self.count(obs.measure, obs.at_us, obs.dims, obs.value_us)
        resolved = seen if seen.first_resolution is not None else None
        self.ticket_done(index, seen.surveys, seen.callbacks, resolved)

    def _followed(
        self, h: History, index: int, ticket_after: Callable[[int], Ticket] | None
    ) -> None:
        """:func:`walk`'s facts, following only the ticket fields they read.

        Events of the kinds in ``_FOLLOWED`` are read directly; for the others
        (kinds of other rooms) the fields come from the history's own fold,
        ``ticket_after`` (``None``: every one of them changes nothing).
        """
        events = h.events
        instants = h.instants_us
        union = self.union
        elapsed = self.calendar.elapsed_us
        count = self.count
        opened = events[0]
        assert isinstance(opened, TicketOpened)
        opened_us = instants[0]
        want_agent, want_group = "agent" in union, "group" in union

        # type, service, category and channel as the walk's ticket has them, and its priority
        fields: dict[str, Any] = {
            "type": opened.type,
            "service": opened.service,
            "category": opened.category,
            "channel": opened.channel,
        }
        priority = opened.effective_priority

        def ticket_dims() -> Dims:
            values = (
                ("all", ""),
                ("type", fields["type"]),
                ("service", fields["service"] or ""),
                ("category", fields["category"] or ""),
                ("channel", fields["channel"] or ""),
                ("priority", priority or ""),
            )
            return tuple(pair for pair in values if pair[0] in union)

        only = ticket_dims()

        def people(agent: str | None, group: str | None) -> Dims:
            found = only
            if want_agent:
                found = (*found, ("agent", agent or ""))
            if want_group:
                found = (*found, ("group", group or ""))
            return found

        count("arrived", opened_us, only)
        agent: str | None = None
        group: str | None = None
        line: int | None = None
        responded = False
        state_category: str = opened.state_category
        seen_agents: set[str] = set()
        seen_groups: set[str] = set()
        assigned_once = False
        resolved_once: tuple[int, Dims, int | None, int] | None = None
        resolver: tuple[str | None, str | None] = (None, None)
        # a ticket may open on hold (an imported one, first seen waiting): held from its opening
        hold_since: int | None = opened_us if state_category == "on_hold" else None
        reassigned_before = False
        reopened = False
        surveys: dict[str, list[Any]] = {}
        callbacks: list[tuple[int, Dims, bool, bool | None]] = []
        for j in range(1, len(events)):
            event = events[j]
            cls = type(event)
            if cls in _INERT:
                continue
            at = instants[j]
            if cls is StateChanged:
                before = state_category
                state_category = event.to_category  # type: ignore[attr-defined]
                if before == "on_hold" and state_category != "on_hold":
                    assert hold_since is not None
                    count("on_hold", at, people(agent, group), elapsed(hold_since, at))
                    hold_since = None
                if state_category == "on_hold" and before != "on_hold":
                    hold_since = at
                if state_category == "resolved" and before != "resolved":
                    resolver = (agent or event.actor, group)
                    if resolved_once is None:
                        dims = people(*resolver)
                        took = elapsed(opened_us, at)
                        resolved_once = (at, dims, line, took)
                        count("resolved", at, dims)
                        count("resolution", at, dims, took)
                if event.is_reopening:  # type: ignore[attr-defined]
                    reopened = True
                    count("reopened", at, people(*resolver))
                continue
            if cls is CommentAdded:
                if not responded and event.is_agent_reply:  # type: ignore[attr-defined]
                    responded = True
                    count("first_response", at, people(event.actor, group), elapsed(opened_us, at))
                continue
            if cls is PriorityChanged:
                priority = event.effective  # type: ignore[attr-defined]
                only = ticket_dims()
                continue
            if cls is FieldChanged:  # a custom, unread or dimension field (_followed_field)
                if not event.custom and event.field in _DIM_FIELDS:  # type: ignore[attr-defined]
                    fields[event.field] = event.new  # type: ignore[attr-defined]
                    only = ticket_dims()
                continue
            if cls is SurveyRequested or cls is SurveyAnswered:
                name = event.survey  # type: ignore[attr-defined]
                entry = surveys.get(name)
                if entry is None:
                    entry = surveys[name] = [at, people(agent, group), None, j]
                if cls is SurveyAnswered:
                    entry[2] = event.rating  # type: ignore[attr-defined]
                    entry[3] = j
                continue
            if cls is CallbackRecorded:
                reached, confirmed = event.reached, event.confirmed  # type: ignore[attr-defined]
                callbacks.append((at, people(agent, group), reached, confirmed))
                continue
            was_agent, was_group = agent, group
            if cls is Unassigned:
                agent = group = line = None
            elif cls is Assigned or cls is Reassigned or cls is GroupAssigned:
                agent = None if cls is GroupAssigned else event.assignee  # type: ignore[attr-defined]
                group, line = event.group, event.support_line  # type: ignore[attr-defined]
            else:  # a kind of another room: what it changed is in the history's fold
                if ticket_after is None:  # it changes no field (changes_no_field)
                    continue
                ticket = ticket_after(j)
                agent, group, line = ticket.assignee, ticket.group, ticket.support_line
                state_category = ticket.state_category
                fields.update(
                    type=ticket.type,
                    service=ticket.service,
                    category=ticket.category,
                    channel=ticket.channel,
                )
                priority = ticket.effective_priority
                only = ticket_dims()
                if not responded and ticket.first_response_at is not None:
                    count("first_response", at, people(agent, group), elapsed(opened_us, at))
                responded = ticket.first_response_at is not None
            if agent is not None and agent not in seen_agents:
                seen_agents.add(agent)
                count("handled", at, (("agent", agent),))
                if not assigned_once:
                    assigned_once = True
                    count("handled", at, only)
            if group is not None and group not in seen_groups:
                seen_groups.add(group)
                count("handled", at, (("group", group),))
            away: Dims = ()
            if was_agent is not None and agent != was_agent:
                away = (("agent", was_agent),)
            if was_group is not None and group != was_group:
                away = (*away, ("group", was_group))
            if away:
                count("reassigned_away", at, (*only, *away))
                if resolved_once is None:
                    reassigned_before = True
        seen = None
        if resolved_once is not None:
            seen = TicketWalk(
                ticket_id=h.ticket_id,
                opened_us=opened_us,
                observations=(),
                surveys=(),
                callbacks=(),
                first_resolution=resolved_once,
                reassigned_before_resolution=reassigned_before,
                reopened=reopened,
                states=(),
            )
        self.ticket_done(
            index, ((name, *entry) for name, entry in sorted(surveys.items())), callbacks, seen
        )


# How the one walk reads an event kind: directly (its effect on the fields read is
# written out above), from the history's fold (a kind of another room, which can only
# change fields through the fold), by the plain walk for the whole history (a subclass
# of a kind the walk tells apart counts as that kind there), or, for ``FieldChanged``,
# directly when every one of them sets a field ``_followed_field`` names (another may
# rename the ticket or set a field the walk reads), else by the plain walk.
_DIRECT, _FROM_FOLD, _PLAIN, _FIELD = 1, 2, 3, 4
_MODES: dict[type, int] = {
    **dict.fromkeys(_FOLLOWED | {TicketOpened}, _DIRECT),
    FieldChanged: _FIELD,
}
_TOLD_APART = (TicketOpened, StateChanged, CommentAdded, SurveyRequested, SurveyAnswered,
               CallbackRecorded, FieldChanged)  # fmt: skip


def _mode(cls: type) -> int:
    mode = _PLAIN if issubclass(cls, _TOLD_APART) else _FROM_FOLD
    if len(_MODES) < 4096:
        _MODES[cls] = mode
    return mode


@attrs.frozen(kw_only=True)
class ServiceFigures:
    """Satisfaction, first-contact resolution and workload of the same tickets; ``+`` merges.

    :meth:`of` walks each history once for all three, with exactly the
    answers of :meth:`Satisfaction.of`, :meth:`FirstContact.of` and
    :meth:`Stats.of` called one by one. ``satisfaction`` and
    ``first_contact`` are grouped by the same dimensions; ``stats`` may use
    others.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core.ticket import SurveyAnswered, TicketOpened
    >>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> history = [
    ...     TicketOpened(ticket_id="I-1", actor="r", at=at, type="incident", state="new",
    ...                  state_category="new", title="t", requester="r"),
    ...     SurveyAnswered(ticket_id="I-1", actor="r", at=at, rating=2),
    ... ]
    >>> figures = ServiceFigures.of([history], calendar=BusinessCalendar.always_open("UTC"))
    >>> figures.satisfaction.csat(), figures.first_contact.rate(), figures.stats.tally().arrived
    (0.0, None, 1)
    """

    satisfaction: Satisfaction
    first_contact: FirstContact
    stats: Stats

    @classmethod
    def of(
        cls,
        histories: Iterable[Sequence[Event]],
        *,
        calendar: CalendarLike,
        scale: RatingScale | None = None,
        survey: str = "",
        definition: FcrDefinition | None = None,
        period: str = "month",
        timezone: str | None = None,
        by: Iterable[str] = DIMENSIONS,
        stats_by: Iterable[str] | None = None,
    ) -> ServiceFigures:
        """All three over many tickets' histories, one walk per history.

        ``scale`` (default: five points) and ``survey`` are the satisfaction
        survey's, ``definition`` (default: :class:`FcrDefinition()`) the
        first-contact rule; ``by`` groups satisfaction and first contact,
        ``stats_by`` the statistics (default: ``by``). Bad arguments and bad
        histories raise what the three would raise.
        """
        scale = RatingScale.five_point() if scale is None else scale
        if not isinstance(scale, RatingScale):
            raise InvalidValueError("scale", scale, "a RatingScale")
        rule = FcrDefinition() if definition is None else definition
        if not isinstance(rule, FcrDefinition):
            raise InvalidValueError("definition", rule, "an FcrDefinition")
        histories, period, dims, name_of = check_grouping(histories, calendar, period, timezone, by)
        stats_dims = dims if stats_by is None else check_dimensions(stats_by)
        assert isinstance(calendar, CalendarLike)
        sums = _Sums(calendar, name_of, scale, survey, rule, dims, stats_dims)
        for index, events in enumerate(histories):
            sums.add(events, index)
        satisfaction = [
            (
                SatisfactionKey(by=dim, value=value, period=name),
                SatisfactionTally(
                    requested=numbers[0],
                    answered=numbers[1],
                    callbacks=numbers[2],
                    reached=numbers[3],
                    confirmed=numbers[4],
                    ratings=ratings.items(),
                ),
            )
            for (dim, value, name), (numbers, ratings) in sums.sat_found.items()
        ]
        stats = [
            (StatsKey(by=dim, value=value, period=name), Tally(**bucket))
            for (dim, value, name), bucket in sums.stats_found.items()
        ]
        return cls(
            satisfaction=Satisfaction(
                scale=scale, survey=survey, entries=satisfaction, by=dims, period=period
            ),
            first_contact=FirstContact(
                definition=rule,
                entries=[(k, (v[0], v[1])) for k, v in sums.fcr_found.items()],
                by=dims,
                period=period,
            ),
            stats=Stats(entries=stats, by=stats_dims, period=period),
        )

    def __add__(self, other: ServiceFigures) -> ServiceFigures:
        if not isinstance(other, ServiceFigures):
            return NotImplemented
        return ServiceFigures(
            satisfaction=self.satisfaction + other.satisfaction,
            first_contact=self.first_contact + other.first_contact,
            stats=self.stats + other.stats,
        )
