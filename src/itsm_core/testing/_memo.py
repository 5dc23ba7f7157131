"""Strategy factories that build each strategy once per distinct set of arguments.

Building a strategy costs more than drawing from it (Hypothesis validates it and
works out its properties on the first draw), so a factory called inside a
composite or a test on every example should hand back the strategy it built
the first time. Sequences among the arguments are compared by value (a list of
zones and the same tuple give the same strategy); strategies passed as arguments
are compared by identity, as Hypothesis compares them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache, wraps
from typing import Any, ParamSpec, TypeVar

from hypothesis import strategies as st

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


@cache
def sampled(values: tuple[T, ...]) -> st.SearchStrategy[T]:
    """``st.sampled_from(values)``, built once per tuple (Hypothesis builds one per call).

    >>> sampled(("a", "b")) is sampled(("a", "b"))
    True
    """
    return st.sampled_from(values)


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def memoized(factory: Callable[P, R]) -> Callable[P, R]:
    """``factory`` returning the strategy it built for equal arguments before.

    >>> calls = []
    >>> @memoized
    ... def doubled(values):
    ...     calls.append(values)
    ...     return [v for v in values]
    >>> doubled([1, 2]) is doubled((1, 2)), calls
    (True, [(1, 2)])
    >>> doubled([[]]) is doubled([[]])  # lists inside are compared by value too
    True
    >>> doubled([{}]) is doubled([{}])  # unhashable arguments: built each time
    False
    """

    @lru_cache(maxsize=256)
    def build(args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]) -> R:
        return factory(*args, **dict(kwargs))

    @wraps(factory)
    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        frozen_args = tuple(_frozen(value) for value in args)
        frozen_kwargs = tuple(sorted((name, _frozen(value)) for name, value in kwargs.items()))
        try:
            hash((frozen_args, frozen_kwargs))
        except TypeError:
            return factory(*args, **kwargs)
        return build(frozen_args, frozen_kwargs)

    return cached
