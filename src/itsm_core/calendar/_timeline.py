"""The compiled timeline: sorted open intervals in epoch microseconds.

A calendar is compiled one UTC calendar month (a *period*) at a time into
merged, half-open open intervals ``[start, end)``. The :class:`Timeline` keeps a
contiguous run of compiled periods with the running sum of open time at each
interval's start and end, so every query is a bisection: O(log n), whatever the
span and however many holidays. Periods are compiled on demand and kept.

``Limits`` say how far a search may run before it is proven that no open (or no
closed) time exists any more; past them a search stops with an answer instead of
compiling years forever.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs

from itsm_core.errors import InvalidValueError, NeverOpenError

__all__ = [
    "MAX_INSTANT_US",
    "MAX_YEAR",
    "MIN_INSTANT_US",
    "MIN_YEAR",
    "Chunk",
    "Limits",
    "Timeline",
    "intersect",
    "period_start_us",
    "unite",
    "year_start_us",
]

#: First and last UTC years a timeline can compile.
MIN_YEAR = 2
MAX_YEAR = 9997

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def year_start_us(year: int) -> int:
    """Epoch microseconds of 1 January of ``year``, 00:00 UTC.

    >>> year_start_us(1971)
    31536000000000
    """
    delta = datetime(year, 1, 1, tzinfo=UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000


def period_start_us(period: int) -> int:
    """Epoch microseconds of the first instant of a period (``year * 12 + month - 1``).

    >>> period_start_us(1970 * 12 + 1)  # 1 February 1970
    2678400000000
    """
    year, month = divmod(period, 12)
    delta = datetime(year, month + 1, 1, tzinfo=UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000


#: The supported instants are ``MIN_INSTANT_US <= t < MAX_INSTANT_US``
#: (0002-01-01 to 9997-12-31 UTC).
MIN_INSTANT_US = year_start_us(MIN_YEAR)
MAX_INSTANT_US = year_start_us(MAX_YEAR + 1)

Chunk = tuple[list[int], list[int]]


def _period_of(us: int) -> int:
    moment = _EPOCH + timedelta(microseconds=us)
    return moment.year * 12 + moment.month - 1


_MIN_PERIOD = MIN_YEAR * 12
_MAX_PERIOD = MAX_YEAR * 12 + 11


def unite(a: Chunk, b: Chunk) -> Chunk:
    """The union of two sorted lists of disjoint intervals.

    >>> unite(([0, 10], [5, 20]), ([4], [12]))
    ([0], [20])
    """
    pairs = sorted(zip(a[0] + b[0], a[1] + b[1], strict=True))
    starts: list[int] = []
    ends: list[int] = []
    for s, e in pairs:
        if ends and s <= ends[-1]:
            if e > ends[-1]:
                ends[-1] = e
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


def intersect(a: Chunk, b: Chunk) -> Chunk:
    """The intersection of two sorted lists of disjoint intervals.

    >>> intersect(([0, 10], [5, 20]), ([4], [12]))
    ([4, 10], [5, 12])
    """
    (sa, ea), (sb, eb) = a, b
    starts: list[int] = []
    ends: list[int] = []
    i = j = 0
    while i < len(sa) and j < len(sb):
        lo = max(sa[i], sb[j])
        hi = min(ea[i], eb[j])
        if lo < hi:
            starts.append(lo)
            ends.append(hi)
        if ea[i] < eb[j]:
            i += 1
        else:
            j += 1
    return starts, ends


@attrs.frozen(kw_only=True)
class Limits:
    """How far searches may run, in UTC years.

    Past ``open_hi`` (before ``open_lo``) there is provably no open time; past
    ``closed_hi`` (before ``closed_lo``) no closed time. ``finite_lo`` and
    ``finite_hi`` are the years of the earliest and latest dated entries.

    >>> Limits.always(2026).open_hi == MAX_YEAR
    True
    """

    open_lo: int
    open_hi: int
    closed_lo: int
    closed_hi: int
    finite_lo: int
    finite_hi: int

    @classmethod
    def always(cls, year: int) -> Limits:
        """Limits of a calendar that may open and close in any year.

        >>> Limits.always(2026).closed_lo == MIN_YEAR
        True
        """
        return cls(
            open_lo=MIN_YEAR,
            open_hi=MAX_YEAR,
            closed_lo=MIN_YEAR,
            closed_hi=MAX_YEAR,
            finite_lo=year,
            finite_hi=year,
        )

    def _horizon(self, other: Limits) -> tuple[int, int]:
        # Beyond every dated entry (and beyond the years where zone rules are
        # tabulated) both operands repeat with a period of at most 400 years.
        hi = min(MAX_YEAR, max(self.finite_hi, other.finite_hi, 2100) + 402)
        lo = max(MIN_YEAR, min(self.finite_lo, other.finite_lo, 1850) - 402)
        return lo, hi

    def union(self, other: Limits) -> Limits:
        """The limits of the union of two calendars.

        >>> a = Limits.always(2026)
        >>> a.union(a).closed_hi
        2502
        """
        lo, hi = self._horizon(other)
        return Limits(
            open_lo=min(self.open_lo, other.open_lo),
            open_hi=max(self.open_hi, other.open_hi),
            closed_lo=max(self.closed_lo, other.closed_lo, lo),
            closed_hi=min(self.closed_hi, other.closed_hi, hi),
            finite_lo=min(self.finite_lo, other.finite_lo),
            finite_hi=max(self.finite_hi, other.finite_hi),
        )

    def intersection(self, other: Limits) -> Limits:
        """The limits of the intersection of two calendars.

        >>> a = Limits.always(2026)
        >>> a.intersection(a).open_hi
        2502
        """
        lo, hi = self._horizon(other)
        return Limits(
            open_lo=max(self.open_lo, other.open_lo, lo),
            open_hi=min(self.open_hi, other.open_hi, hi),
            closed_lo=min(self.closed_lo, other.closed_lo),
            closed_hi=max(self.closed_hi, other.closed_hi),
            finite_lo=min(self.finite_lo, other.finite_lo),
            finite_hi=max(self.finite_hi, other.finite_hi),
        )


class _State:
    """One immutable snapshot of the compiled run of periods."""

    __slots__ = ("ce", "cs", "ends", "hi", "lo", "starts", "yhi", "ylo")

    def __init__(
        self,
        ylo: int,
        yhi: int,
        starts: list[int],
        ends: list[int],
        cs: list[int],
        ce: list[int],
    ) -> None:
        self.ylo = ylo
        self.yhi = yhi
        self.lo = period_start_us(ylo) if ylo <= yhi else 0
        self.hi = period_start_us(yhi + 1) if ylo <= yhi else 0
        self.starts = starts
        self.ends = ends
        self.cs = cs  # open time before each interval (relative origin)
        self.ce = ce  # open time up to each interval's end


_EMPTY = _State(1, 0, [], [], [], [])


def _join(chunks: list[Chunk]) -> Chunk:
    """Concatenate consecutive chunks, merging intervals that touch at a boundary."""
    starts: list[int] = []
    ends: list[int] = []
    for cs, ce in chunks:
        k = 0
        if cs and ends and ends[-1] == cs[0]:
            ends[-1] = ce[0]
            k = 1
        starts.extend(cs[k:])
        ends.extend(ce[k:])
    return starts, ends


class Timeline:
    """Lazily compiled open intervals of one calendar, with running sums.

    ``chunk(period)`` gives the merged open intervals within one UTC month
    (``period = year * 12 + month - 1``).

    >>> day = 86_400_000_000
    >>> tl = Timeline(lambda p: ([period_start_us(p) + day], [period_start_us(p) + 2 * day]),
    ...               Limits.always(2026))
    >>> tl.elapsed(year_start_us(2026), year_start_us(2028)) == 24 * day
    True
    """

    __slots__ = ("_chunk_fn", "_chunks", "_state", "limits")

    def __init__(self, chunk_fn: Callable[[int], Chunk], limits: Limits) -> None:
        self._chunk_fn = chunk_fn
        self._chunks: dict[int, Chunk] = {}
        self._state = _EMPTY
        self.limits = limits

    # -- compilation ---------------------------------------------------------

    def chunk(self, period: int) -> Chunk:
        """The merged open intervals within one period (compiled once)."""
        found = self._chunks.get(period)
        if found is None:
            found = self._chunk_fn(period)
            self._chunks[period] = found
        return found

    def _cover(self, t: int) -> _State:
        state = self._state
        if state.lo <= t < state.hi:
            return state
        if not MIN_INSTANT_US <= t < MAX_INSTANT_US:
            raise InvalidValueError(
                "at", t, "an instant from 0002-01-01 to 9997-12-31 UTC (epoch microseconds)"
            )
        period = _period_of(t)
        if state.ylo > state.yhi:
            return self._append(period, period)
        if period > state.yhi:
            return self._append(state.yhi + 1, period)
        return self._prepend(period, state.ylo - 1)

    def _append(self, first: int, last: int) -> _State:
        old = self._state
        new_s, new_e = _join([self.chunk(y) for y in range(first, last + 1)])
        starts, ends, cs, ce = list(old.starts), list(old.ends), list(old.cs), list(old.ce)
        run = ce[-1] if ce else 0
        k = 0
        if new_s and ends and ends[-1] == new_s[0]:
            run += new_e[0] - new_s[0]
            ends[-1] = new_e[0]
            ce[-1] = run
            k = 1
        for a, b in zip(new_s[k:], new_e[k:], strict=True):
            starts.append(a)
            ends.append(b)
            cs.append(run)
            run += b - a
            ce.append(run)
        ylo = old.ylo if old.ylo <= old.yhi else first
        state = _State(ylo, last, starts, ends, cs, ce)
        self._state = state
        return state

    def _prepend(self, first: int, last: int) -> _State:
        old = self._state
        new_s, new_e = _join([self.chunk(y) for y in range(first, last + 1)])
        starts, ends, cs, ce = list(old.starts), list(old.ends), list(old.cs), list(old.ce)
        run = cs[0] if cs else 0
        m = len(new_s)
        if m and starts and new_e[-1] == starts[0]:
            run -= new_e[-1] - new_s[-1]
            starts[0] = new_s[-1]
            cs[0] = run
            m -= 1
        pre_cs = [0] * m
        pre_ce = [0] * m
        for k in range(m - 1, -1, -1):
            pre_ce[k] = run
            run -= new_e[k] - new_s[k]
            pre_cs[k] = run
        state = _State(
            first,
            old.yhi,
            new_s[:m] + starts,
            new_e[:m] + ends,
            pre_cs + cs,
            pre_ce + ce,
        )
        self._state = state
        return state

    def _forward(self, limit: int, count: int = 1) -> _State | None:
        """Compile ``count`` more periods after the run, none past the year ``limit``."""
        first = self._state.yhi + 1
        last = min(first + count - 1, limit * 12 + 11, _MAX_PERIOD)
        if first > last:
            return None
        return self._append(first, last)

    def _backward(self, limit: int, count: int = 1) -> _State | None:
        """Compile ``count`` more periods before the run, none before the year ``limit``."""
        last = self._state.ylo - 1
        first = max(last - count + 1, limit * 12, _MIN_PERIOD)
        if first > last:
            return None
        return self._prepend(first, last)

    @staticmethod
    def _open_before(state: _State, t: int) -> int:
        """Open time from the run's origin up to ``t`` (``t`` inside the run)."""
        i = bisect_right(state.starts, t) - 1
        if i < 0:
            return state.cs[0] if state.cs else 0
        end = state.ends[i]
        return state.ce[i] - (end - t) if t < end else state.ce[i]

    # -- queries ---------------------------------------------------------------

    def is_open(self, t: int) -> bool:
        """Whether instant ``t`` lies in an open interval."""
        state = self._state
        if not state.lo <= t < state.hi:
            state = self._cover(t)
        i = bisect_right(state.starts, t) - 1
        return i >= 0 and t < state.ends[i]

    def elapsed(self, start: int, end: int) -> int:
        """Open time between two instants; negative when ``end < start``."""
        if end < start:
            return -self.elapsed(end, start)
        self._cover(start)
        state = self._cover(end)
        return self._open_before(state, end) - self._open_before(state, start)

    def add(self, start: int, duration: int) -> int:
        """The earliest instant by which ``duration`` of open time has passed after ``start``."""
        if duration <= 0:
            return start if duration == 0 else self.subtract(start, -duration)
        state = self._state
        if not state.lo <= start < state.hi:
            state = self._cover(start)
        target = self._open_before(state, start) + duration
        step = 1
        while not state.ce or state.ce[-1] < target:
            grown = self._forward(self.limits.open_hi, step)
            if grown is None:
                raise NeverOpenError(
                    f"the calendar never accumulates the requested open time after {start} us"
                )
            state = grown
            step *= 2
        ce = state.ce
        j = bisect_left(ce, target)
        return state.ends[j] - (ce[j] - target)

    def subtract(self, end: int, duration: int) -> int:
        """The latest instant from which ``duration`` of open time passes until ``end``."""
        if duration <= 0:
            return end if duration == 0 else self.add(end, -duration)
        state = self._state
        if not state.lo <= end < state.hi:
            state = self._cover(end)
        target = self._open_before(state, end) - duration
        step = 1
        while not state.cs or state.cs[0] > target:
            grown = self._backward(self.limits.open_lo, step)
            if grown is None:
                raise NeverOpenError(
                    f"the calendar never accumulates the requested open time before {end} us"
                )
            state = grown
            step *= 2
        cs = state.cs
        k = bisect_right(cs, target) - 1
        return state.starts[k] + (target - cs[k])

    def next_open(self, t: int) -> int:
        """``t`` if open, else the start of the next open interval."""
        state = self._cover(t)
        i = bisect_right(state.starts, t) - 1
        if i >= 0 and t < state.ends[i]:
            return t
        step = 1
        while i + 1 >= len(state.starts):
            grown = self._forward(self.limits.open_hi, step)
            if grown is None:
                raise NeverOpenError(f"the calendar never opens at or after {t} us")
            state = grown
            step *= 2
        return state.starts[i + 1]

    def next_close(self, t: int) -> int:
        """``t`` if closed, else the end of the open period; ``MAX_INSTANT_US`` if never."""
        state = self._cover(t)
        i = bisect_right(state.starts, t) - 1
        if i < 0 or t >= state.ends[i]:
            return t
        step = 1
        while state.ends[i] == state.hi:
            grown = self._forward(self.limits.closed_hi, step)
            if grown is None:
                return MAX_INSTANT_US
            state = grown
            step *= 2
        return state.ends[i]

    def previous_open(self, t: int) -> int | None:
        """The start of the latest open period that started at or before ``t``."""
        state = self._cover(t)
        i = bisect_right(state.starts, t) - 1
        step = 1
        while i < 0:
            grown = self._backward(self.limits.open_lo, step)
            if grown is None:
                return None
            state = grown
            step *= 2
            i = bisect_right(state.starts, t) - 1
        while state.starts[i] == state.lo:
            grown = self._backward(self.limits.closed_lo, step)
            if grown is None:
                return None
            state = grown
            step *= 2
            i = bisect_right(state.starts, t) - 1
        return state.starts[i]

    def previous_close(self, t: int) -> int | None:
        """The end of the latest open period that ended at or before ``t``."""
        state = self._cover(t)
        i = bisect_right(state.ends, t) - 1
        limit = max(self.limits.open_lo, self.limits.closed_lo)
        step = 1
        while i < 0:
            grown = self._backward(limit, step)
            if grown is None:
                return None
            state = grown
            step *= 2
            i = bisect_right(state.ends, t) - 1
        return state.ends[i]

    def last_open_before(self, t: int) -> int:
        """The latest open microsecond strictly before ``t``."""
        state = self._cover(t - 1)
        i = bisect_left(state.starts, t) - 1
        step = 1
        while i < 0:
            grown = self._backward(self.limits.open_lo, step)
            if grown is None:
                raise NeverOpenError(f"the calendar is never open before {t} us")
            state = grown
            step *= 2
            i = bisect_left(state.starts, t) - 1
        return min(state.ends[i], t) - 1

    def last_close_before(self, limit: int) -> int:
        """The end of the last open period starting before ``limit``, clipped to ``limit``."""
        state = self._cover(limit - 1)
        i = bisect_left(state.starts, limit) - 1
        if i < 0:  # pragma: no cover - callers pass a limit after an open instant
            raise NeverOpenError("no open time before the limit")
        return min(state.ends[i], limit)

    def intervals(self, start: int, end: int) -> list[tuple[int, int]]:
        """The open intervals within ``[start, end)``, clipped to it."""
        if end <= start:
            return []
        self._cover(start)
        state = self._cover(end - 1)
        i = bisect_right(state.ends, start)
        j = bisect_left(state.starts, end)
        return [
            (max(a, start), min(b, end))
            for a, b in zip(state.starts[i:j], state.ends[i:j], strict=True)
        ]
