"""The itsm_core error family.

Every error the library raises on purpose derives from :class:`ItsmError` and
also from the builtin that fits it, so callers may catch either::

    >>> from itsm_core.errors import InvalidValueError, ItsmError
    >>> try:
    ...     raise InvalidValueError("calendar.timezone", "Mars/Olympus", "an IANA timezone name")
    ... except ValueError as exc:
    ...     print(exc)
    calendar.timezone: expected an IANA timezone name, got 'Mars/Olympus'
    >>> issubclass(InvalidValueError, ItsmError)
    True

Each error carries structured attributes (the field path, the state, the
trigger...) besides its message, so a host can build its own message or map it
to an HTTP status without parsing text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "ConfigurationError",
    "InvalidTransition",
    "InvalidValueError",
    "ItsmError",
    "NaiveDatetimeError",
    "NeverOpenError",
    "PermissionDenied",
    "Problem",
]


class ItsmError(Exception):
    """Root of every error raised on purpose by itsm_core.

    >>> issubclass(NaiveDatetimeError, ItsmError)
    True
    """


class InvalidValueError(ItsmError, ValueError):
    """A value is not what the field accepts.

    ``field`` is the dotted path of the offending field, ``value`` what was
    given and ``expected`` a phrase describing what would be valid.

    >>> err = InvalidValueError("priority.matrix.cells.high.low", "P9", "one of P1, P2, P3")
    >>> err.field, err.value, err.expected
    ('priority.matrix.cells.high.low', 'P9', 'one of P1, P2, P3')
    """

    def __init__(self, field: str, value: object, expected: str, detail: str = "") -> None:
        self.field = field
        self.value = value
        self.expected = expected
        self.detail = detail
        message = f"{field}: expected {expected}, got {value!r}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class NaiveDatetimeError(InvalidValueError):
    """A datetime without a timezone crossed the API.

    Only timezone-aware datetimes (stdlib or pendulum) are accepted; attach a
    timezone with ``dt.replace(tzinfo=ZoneInfo(...))`` or parse with an offset.

    >>> from datetime import datetime
    >>> print(NaiveDatetimeError("start", datetime(2026, 3, 6, 9, 0)))
    start: expected a timezone-aware datetime, got datetime.datetime(2026, 3, 6, 9, 0) \
(attach a timezone, e.g. dt.replace(tzinfo=ZoneInfo('Europe/Moscow')))
    """

    def __init__(self, field: str, value: object) -> None:
        super().__init__(
            field,
            value,
            "a timezone-aware datetime",
            "attach a timezone, e.g. dt.replace(tzinfo=ZoneInfo('Europe/Moscow'))",
        )


class NeverOpenError(ItsmError, ValueError):
    """A calendar was asked to count open time but is never open.

    >>> print(NeverOpenError("calendar 'closed' has no open time in any week"))
    calendar 'closed' has no open time in any week
    """


class InvalidTransition(ItsmError, ValueError):
    """A command is not allowed from the ticket's current state.

    >>> err = InvalidTransition(state="closed", trigger="resolve", allowed=("reopen",))
    >>> print(err)
    cannot 'resolve' a ticket in state 'closed'; allowed here: reopen
    >>> err.state, err.trigger, err.allowed
    ('closed', 'resolve', ('reopen',))
    """

    def __init__(
        self, *, state: str, trigger: str, allowed: Sequence[str] = (), detail: str = ""
    ) -> None:
        self.state = state
        self.trigger = trigger
        self.allowed = tuple(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "nothing (final state)"
        message = f"cannot {trigger!r} a ticket in state {state!r}; allowed here: {allowed_text}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class PermissionDenied(ItsmError, PermissionError):
    """A principal may not perform an action; nothing was changed.

    >>> err = PermissionDenied(principal="alice", action="close", reasons=("no grant allows it",))
    >>> print(err)
    'alice' may not 'close': no grant allows it
    """

    def __init__(self, *, principal: str, action: str, reasons: Sequence[str] = ()) -> None:
        self.principal = principal
        self.action = action
        self.reasons = tuple(reasons)
        why = "; ".join(self.reasons) if self.reasons else "denied by default"
        super().__init__(f"{principal!r} may not {action!r}: {why}")


class Problem:
    """One problem found while validating a document: where and what.

    >>> print(Problem("sla.policies[2].name", "expected a string, got 3"))
    sla.policies[2].name: expected a string, got 3
    """

    __slots__ = ("message", "path")

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.message!r})"

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.path, self.message) == (other.path, other.message)

    def __hash__(self) -> int:
        return hash((self.path, self.message))


class ConfigurationError(ItsmError, ValueError):
    """A configuration document or value failed validation.

    Every problem is reported at once, each with its path.

    >>> err = ConfigurationError([Problem("a.b", "expected a duration such as '8h', got 'eight'")])
    >>> print(err)
    1 problem in the configuration:
      a.b: expected a duration such as '8h', got 'eight'
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{count} {noun} in the configuration:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))
