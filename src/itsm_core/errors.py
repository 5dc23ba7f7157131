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
    "named_field_errors",
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


_BARE = (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError)


def _conforms(value: object, hint: Any) -> bool:
    """Whether ``value`` fits the annotation ``hint`` (unknown forms fit: only a hint)."""
    import types
    import typing

    if hint is Any or hint is object:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return any(_conforms(value, a) for a in args)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin is tuple:
        # a list is accepted where a tuple is: records turn sequences into tuples
        if not isinstance(value, tuple | list):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0]) for v in value)
        return not args or (len(args) == len(value) and all(map(_conforms, value, args)))
    if origin is not None:
        return isinstance(value, origin) if isinstance(origin, type) else True
    if hint is None or hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _hints(cls: type) -> dict[str, Any]:
    import importlib
    import typing

    import attrs

    namespace = vars(importlib.import_module(cls.__module__))
    hints: dict[str, Any] = {}
    for field in attrs.fields(cls):
        annotation = field.type
        try:
            if isinstance(annotation, str):
                annotation = eval(annotation, dict(namespace), dict(vars(typing)))
        except Exception:
            continue
        hints[field.alias] = annotation
    return hints


def named_field_errors(cls: type[Any]) -> type[Any]:
    """Make a record's constructor raise :class:`InvalidValueError` naming the field.

    A value of the wrong type that a validator or a check of the record trips
    over (a bare ``TypeError``, ``AttributeError``...) becomes an
    :class:`InvalidValueError` naming the first field whose value does not fit
    its annotation (the record's name when every value fits), with the bare
    error as detail. Errors of the family pass through unchanged.

    >>> import attrs
    >>> @named_field_errors
    ... @attrs.frozen(kw_only=True)
    ... class Span:
    ...     start: int
    ...     end: int
    ...     def __attrs_post_init__(self) -> None:
    ...         if self.end < self.start:
    ...             raise InvalidValueError("end", self.end, f"at least start ({self.start})")
    >>> Span(start=1, end="2")
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: end: expected a value of type int, got '2' \
('<' not supported between instances of 'str' and 'int')
    >>> Span(start=2, end=1)
    Traceback (most recent call last):
    ...
    itsm_core.errors.InvalidValueError: end: expected at least start (2), got 1
    """
    init = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except ItsmError:
            raise
        except _BARE as exc:
            hints = _hints(type(self))
            for name, value in kwargs.items():
                hint = hints.get(name)
                if hint is not None and not _conforms(value, hint):
                    text = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
                    raise InvalidValueError(
                        name, value, f"a value of type {text}", str(exc)
                    ) from None
            raise InvalidValueError(
                cls.__name__, kwargs, "fields of the documented types", str(exc)
            ) from None

    __init__.__doc__ = init.__doc__
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = __init__
    return cls
