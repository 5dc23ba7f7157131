"""One validated history: the ordered events of one ticket, and the ticket after each.

:class:`History` is the one fold of events in the library: the lifecycle's
replay, the SLA clocks, escalation and the desk all read a ``History``
instead of walking raw events on their own.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol, overload

from itsm_core._time import to_us
from itsm_core.errors import InvalidValueError, ItsmError
from itsm_core.ticket import Event, FieldChanged, StateChanged, Ticket, TicketOpened

__all__ = ["EventRules", "History"]

#: ``(state, category, hold_reason)`` of the ticket after an event.
StateAfter = tuple[str, str, str | None]


class EventRules(Protocol):
    """What a :class:`History` asks of a lifecycle: may ``event`` follow a ticket in ``state``.

    ``state`` is the ticket's state before the event (``None`` before the
    opening). Raise :class:`~itsm_core.errors.InvalidValueError` naming
    ``events[index].<field>`` when it may not.
    """

    def check_event(self, index: int, state: str | None, event: Event) -> None:
        """Raise unless ``event`` may follow a ticket in ``state``."""


def _instant(event: Event, index: int, field: str) -> int:
    return to_us(event.at, f"{field}[{index}].at")


class History(Sequence[Event]):
    """The events of ONE ticket, validated once, and the ticket after each of them.

    A history is checked when it is built: every item is an
    :class:`~itsm_core.ticket.Event`, the first one (and only the first)
    opens the ticket, every event names the same ticket, instants never go
    back (compared as instants, so a DST fall-back hour is in order), every
    ``FieldChanged`` sets a field a ticket can take
    (:meth:`~itsm_core.ticket.FieldChanged.check`), and
    with ``lifecycle`` every state change is a transition the lifecycle
    allows from the state the ticket is in. An impossible history raises
    :class:`~itsm_core.errors.InvalidValueError` naming ``events[i].field``.

    It is an immutable sequence of events; :meth:`append` returns a longer
    history checking only the new events. :attr:`ticket` is the ticket after
    the last event, :meth:`ticket_after` after any event.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.ticket import CommentAdded
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> opened = TicketOpened(ticket_id="INC-1", actor="ann", at=at, type="incident",
    ...     state="new", state_category="new", title="No mail", requester="ann")
    >>> reply = CommentAdded(ticket_id="INC-1", actor="dana", at=at + timedelta(minutes=5),
    ...     body="On it", public=True, by_requester=False)
    >>> history = History([opened, reply])
    >>> len(history), history.ticket.first_response_at == reply.at
    (2, True)
    >>> History([reply])
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: events[0]: expected a TicketOpened event first, \
got 'CommentAdded'
    >>> History([opened, CommentAdded(ticket_id="INC-2", actor="bob", at=at, body="me too",
    ...     public=True, by_requester=False)])
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: events[1].ticket_id: expected 'INC-1', the ticket of \
this history, got 'INC-2'
    """

    __slots__ = ("_at", "_events", "_field", "_lifecycle", "_states", "_tickets")

    _events: tuple[Event, ...]
    _at: tuple[int, ...]
    _states: tuple[StateAfter, ...]
    _tickets: list[Ticket]
    _lifecycle: EventRules | None
    _field: str

    def __init__(
        self,
        events: Iterable[Event],
        *,
        lifecycle: EventRules | None = None,
        field: str = "events",
    ) -> None:
        self._field = field
        self._events = ()
        self._at = ()
        self._states = ()
        self._tickets = []
        self._lifecycle = lifecycle
        self._extend(tuple(events))
        if not self._events:
            raise InvalidValueError(field, [], "at least one event")

    @classmethod
    def of(cls, events: History | Iterable[Event], *, field: str = "events") -> History:
        """``events`` as a history: a history is returned as it is, anything else is checked.

        ``field`` is the name problems are reported under (``history[3].at``...).

        >>> History.of([])
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: events: expected at least one event, got []
        """
        return events if isinstance(events, History) else cls(events, field=field)

    def _extend(self, new: tuple[Event, ...]) -> None:
        events, at, states = list(self._events), list(self._at), list(self._states)
        lifecycle = self._lifecycle
        ticket_id = events[0].ticket_id if events else ""
        state, category, hold = states[-1] if states else ("", "", None)
        last = at[-1] if at else None
        for index, event in enumerate(new, start=len(events)):
            if not isinstance(event, Event):
                raise InvalidValueError(f"{self._field}[{index}]", event, "an Event")
            if isinstance(event, TicketOpened):
                if index:
                    raise InvalidValueError(
                        f"{self._field}[{index}]", "TicketOpened", "one opening, as the first event"
                    )
                ticket_id = event.ticket_id
            elif not index:
                raise InvalidValueError(
                    f"{self._field}[0]", type(event).__name__, "a TicketOpened event first"
                )
            elif event.ticket_id != ticket_id:
                raise InvalidValueError(
                    f"{self._field}[{index}].ticket_id",
                    event.ticket_id,
                    f"{ticket_id!r}, the ticket of this history",
                )
            try:
                instant = to_us(event.at)
            except ItsmError:  # the field's name is written only for the error
                instant = _instant(event, index, self._field)
            if last is not None and instant < last:
                raise InvalidValueError(
                    f"{self._field}[{index}].at",
                    event.at,
                    "events in time order (not before the previous one)",
                )
            if lifecycle is not None:
                lifecycle.check_event(index, state if index else None, event)
            if isinstance(event, FieldChanged):
                event.check(f"{self._field}[{index}]")
            elif isinstance(event, StateChanged):
                state, category = event.to_state, event.to_category
                hold = event.hold_reason if category == "on_hold" else None
            elif isinstance(event, TicketOpened):
                state, category, hold = event.state, event.state_category, None
            events.append(event)
            at.append(instant)
            states.append((state, category, hold))
            last = instant
        self._events, self._at, self._states = tuple(events), tuple(at), tuple(states)

    def append(self, *events: Event) -> History:
        """A new history with ``events`` added; only they are checked.

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        >>> h = History([TicketOpened(ticket_id="T", actor="a", at=at, type="incident",
        ...     state="new", state_category="new", title="t", requester="a")])
        >>> h.append(TicketOpened(ticket_id="T", actor="a", at=at, type="incident",
        ...     state="new", state_category="new", title="t", requester="a"))
        Traceback (most recent call last):
        ...
        itsm_core.errors.InvalidValueError: events[1]: expected one opening, as the first event, \
got 'TicketOpened'
        """
        longer = object.__new__(History)
        longer._events, longer._at, longer._states = self._events, self._at, self._states
        longer._tickets = list(self._tickets)
        longer._lifecycle = self._lifecycle
        longer._field = self._field
        longer._extend(events)
        return longer

    def until(self, now: datetime) -> History:
        """The events up to and including ``now`` (the same history when none comes later).

        Raises when the ticket does not exist yet at ``now``.
        """
        now_us = to_us(now, "now")
        count = len(self._at)
        while count and self._at[count - 1] > now_us:
            count -= 1
        if count == len(self._at):
            return self
        if not count:
            raise InvalidValueError(
                "now", now, f"an instant at or after the opening {self.opened_at}"
            )
        shorter = object.__new__(History)
        shorter._events, shorter._at = self._events[:count], self._at[:count]
        shorter._states = self._states[:count]
        shorter._tickets = self._tickets[:count]
        shorter._lifecycle = self._lifecycle
        shorter._field = self._field
        return shorter

    # -- the sequence -------------------------------------------------------

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Event, ...]: ...

    def __getitem__(self, index: int | slice) -> Event | tuple[Event, ...]:
        return self._events[index]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, History):
            return self._events == other._events
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._events)

    def __repr__(self) -> str:
        return f"History({self.ticket_id!r}, events={len(self._events)})"

    # -- what it tells ------------------------------------------------------

    @property
    def events(self) -> tuple[Event, ...]:
        """The events, in order."""
        return self._events

    @property
    def ticket_id(self) -> str:
        """The id of the ticket."""
        return self._events[0].ticket_id

    @property
    def opened_at(self) -> datetime:
        """When the ticket was opened."""
        return self._events[0].at

    @property
    def instants_us(self) -> tuple[int, ...]:
        """Each event's instant in epoch microseconds (the integer API, for hot paths)."""
        return self._at

    @property
    def states(self) -> tuple[StateAfter, ...]:
        """``(state, category, hold_reason)`` after each event, without folding tickets."""
        return self._states

    def ticket_after(self, index: int) -> Ticket:
        """The ticket right after event ``index`` (folded once, then remembered).

        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        >>> h = History([TicketOpened(ticket_id="T", actor="a", at=at, type="incident",
        ...     state="new", state_category="new", title="t", requester="a")])
        >>> h.ticket_after(0).version, h.ticket_after(-1).title
        (1, 't')
        """
        if index < 0:
            index += len(self._events)
        if not 0 <= index < len(self._events):
            raise InvalidValueError("index", index, f"0 to {len(self._events) - 1}")
        tickets = self._tickets
        while len(tickets) <= index:
            previous = tickets[-1] if tickets else None
            tickets.append(self._events[len(tickets)].apply_to(previous))
        return tickets[index]

    @property
    def tickets(self) -> tuple[Ticket, ...]:
        """The ticket after each event."""
        self.ticket_after(-1)
        return tuple(self._tickets)

    @property
    def ticket(self) -> Ticket:
        """The ticket after the last event."""
        return self.ticket_after(-1)

    def index_at(self, at_us: int) -> int:
        """The index of the last event at or before ``at_us`` (``-1``: before the opening)."""
        return bisect_right(self._at, at_us) - 1

    def state_at(self, at_us: int) -> StateAfter | None:
        """``(state, category, hold_reason)`` as of ``at_us`` (``None`` before the opening)."""
        index = self.index_at(at_us)
        return None if index < 0 else self._states[index]
