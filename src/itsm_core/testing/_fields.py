"""Several small numbers from one Hypothesis draw, for strategies that need many.

Hypothesis spends tens of microseconds per draw (and per span it records), so a
strategy that builds a value from many small choices is cheaper when it reads
them from a few drawn bytes. A drawn zero makes every field zero, and the bytes
shrink towards zero: a strategy whose field 0 means "the first item of the pool,
nothing optional, the original order" shrinks towards that value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

__all__ = ["Fields"]

T = TypeVar("T")

# Hypothesis draws bytes uniformly (its integers favour small values), so every field
# read from them is about uniform.
_BYTES = 8
_WORD = st.binary(min_size=_BYTES, max_size=_BYTES)
_ROOM = 2 ** (8 * _BYTES)
# A field is read only while the word holds at least this many times its count, so
# that its values are equally likely to within about one part in sixteen.
_SLACK = 16


class Fields:
    """Small numbers read one after another from drawn bytes, drawing more when needed.

    Examples:
        >>> from hypothesis import find, strategies as st
        >>> @st.composite
        ... def pairs(draw):
        ...     fields = Fields(draw)
        ...     return fields.take(10), fields.take(3)
        >>> find(pairs(), lambda pair: True)  # shrinks to every field 0
        (0, 0)
        >>> find(pairs(), lambda pair: pair[1] == 2)[1]
        2
    """

    __slots__ = ("_draw", "_room", "_value")

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw
        self._value = 0
        self._room = 1

    def take(self, count: int) -> int:
        """A number in ``range(count)`` (0 when ``count`` is 0 or 1)."""
        if count <= 1:
            return 0
        if self._room < count * _SLACK:
            self._value = int.from_bytes(self._draw(_WORD))
            self._room = _ROOM
        self._value, field = divmod(self._value, count)
        self._room //= count
        return field

    def flag(self) -> bool:
        """A coin toss (shrinks to ``False``)."""
        return self.take(2) == 1

    def choice(self, pool: Sequence[T]) -> T:
        """An item of ``pool`` (shrinks to the first)."""
        return pool[self.take(len(pool))]

    def maybe(self, pool: Sequence[T]) -> T | None:
        """``None`` (where it shrinks to) or an item of ``pool``."""
        index = self.take(len(pool) + 1)
        return pool[index - 1] if index else None
