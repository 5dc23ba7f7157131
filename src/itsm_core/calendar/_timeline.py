"""The compiled timeline: sorted open intervals in epoch microseconds.

A calendar is compiled one *period* (seven UTC days) at a time into merged,
half-open open intervals ``[start, end)``. The :class:`Timeline` keeps
*runs*: contiguous stretches of compiled periods, each with the running sum of
open time at every interval's start and end, so a query inside a run is a
bisection. A query that lands away from every run compiles only its own period
and starts a new run; runs grow (doubling) only as far as a query needs, and
merge when they meet. So a query costs the same wherever it lands, however many
holidays, and a far-away query never compiles the years in between.

Thread safety: runs and the set of runs are immutable once built. A query reads
one run and works on it alone; growing builds new runs and publishes a new set
with a single attribute store. Two threads racing to compile may each publish,
and one of the two compilations is then forgotten (work lost, never a wrong
answer). The warm path takes no lock, also on free-threaded builds.

``Limits`` say how far a search may run before it is proven that no open (or no
closed) time exists any more; past them a search stops with an answer instead of
compiling years forever.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, datetime

import attrs

from itsm_core.errors import InvalidValueError, NeverOpenError

__all__ = [
    "MAX_INSTANT_US",
    "MAX_YEAR",
    "MIN_INSTANT_US",
    "MIN_YEAR",
    "PERIOD_US",
    "Chunk",
    "Limits",
    "Timeline",
    "intersect",
    "period_of",
    "period_start_us",
    "unite",
    "year_start_us",
]

#: First and last UTC years a timeline can compile.
MIN_YEAR = 2
MAX_YEAR = 9997

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_YEAR_US = 31_556_952_000_000  # the mean Gregorian year


def year_start_us(year: int) -> int:
    """Epoch microseconds of 1 January of ``year``, 00:00 UTC.

    >>> year_start_us(1971)
    31536000000000
    """
    delta = datetime(year, 1, 1, tzinfo=UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000


#: The supported instants are ``MIN_INSTANT_US <= t < MAX_INSTANT_US``
#: (0002-01-01 to 9997-12-31 UTC).
MIN_INSTANT_US = year_start_us(MIN_YEAR)
MAX_INSTANT_US = year_start_us(MAX_YEAR + 1)

Chunk = tuple[list[int], list[int]]


#: The length of a period, the unit of compilation: seven UTC days.
PERIOD_US = 7 * 86_400_000_000
_MIN_PERIOD = MIN_INSTANT_US // PERIOD_US
_MAX_PERIOD = (MAX_INSTANT_US - 1) // PERIOD_US


def period_of(us: int) -> int:
    """The period holding an instant: ``us // PERIOD_US``.

    >>> period_of(PERIOD_US - 1), period_of(PERIOD_US)
    (0, 1)
    """
    return us // PERIOD_US


def period_start_us(period: int) -> int:
    """The first instant of a period, clipped to the supported range.

    >>> period_start_us(1) == PERIOD_US
    True
    >>> period_start_us(_MAX_PERIOD + 1) == MAX_INSTANT_US
    True
    """
    return min(max(period * PERIOD_US, MIN_INSTANT_US), MAX_INSTANT_US)


def _first_period(year: int) -> int:
    """The period holding 1 January of ``year`` (clipped to the supported range)."""
    year = min(max(year, MIN_YEAR), MAX_YEAR + 1)
    return max(year_start_us(year) // PERIOD_US, _MIN_PERIOD)


def _last_period(year: int) -> int:
    """The period holding 31 December of ``year`` (clipped to the supported range)."""
    year = min(max(year, MIN_YEAR - 1), MAX_YEAR)
    return min((year_start_us(year + 1) - 1) // PERIOD_US, _MAX_PERIOD)


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

    A composite's limits may rest on periodicity instead: past ``horizon_hi``
    (before ``horizon_lo``) the calendar repeats every 400 years, so a limit at
    or past the horizon means "400 years past wherever the search starts" (see
    :meth:`ahead` and :meth:`behind`).

    >>> Limits.always(2026).open_hi == MAX_YEAR
    True
    """

    open_lo: int
    open_hi: int
    closed_lo: int
    closed_hi: int
    finite_lo: int
    finite_hi: int
    horizon_lo: int = MIN_YEAR - 1
    horizon_hi: int = MAX_YEAR + 1

    def ahead(self, limit: int, t: int) -> int:
        """The last year a forward search from instant ``t`` must look at, given ``limit``.

        >>> a = Limits.always(2026).intersection(Limits.always(2026))
        >>> a.ahead(a.open_hi, year_start_us(2026)), a.ahead(a.open_hi, year_start_us(5000))
        (2502, 5402)
        """
        if limit < self.horizon_hi:
            return limit
        return min(MAX_YEAR, max(limit, 1970 + t // _YEAR_US + 402))

    def behind(self, limit: int, t: int) -> int:
        """The first year a backward search from instant ``t`` must look at, given ``limit``.

        >>> a = Limits.always(2026).union(Limits.always(2026))
        >>> a.behind(a.closed_lo, year_start_us(2026)), a.behind(a.closed_lo, year_start_us(500))
        (1448, 98)
        """
        if limit > self.horizon_lo:
            return limit
        return max(MIN_YEAR, min(limit, 1970 + t // _YEAR_US - 402))

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
            horizon_lo=max(lo, self.horizon_lo, other.horizon_lo),
            horizon_hi=min(hi, self.horizon_hi, other.horizon_hi),
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
            horizon_lo=max(lo, self.horizon_lo, other.horizon_lo),
            horizon_hi=min(hi, self.horizon_hi, other.horizon_hi),
        )


class _Run:
    """Compiled periods ``first..last``: open intervals and running sums (immutable).

    ``cs[k]``/``ce[k]`` are the open time accumulated at the start/end of
    interval ``k``, counted from the run's own origin; ``base`` is the sum at
    ``lo`` (the run's first instant) and ``top`` the sum at ``hi``.
    """

    __slots__ = ("base", "ce", "cs", "ends", "first", "hi", "last", "lo", "starts", "top")

    def __init__(
        self,
        first: int,
        last: int,
        starts: list[int],
        ends: list[int],
        cs: list[int],
        ce: list[int],
        base: int,
        top: int,
    ) -> None:
        self.first = first
        self.last = last
        self.lo = period_start_us(first) if first <= last else 0
        self.hi = period_start_us(last + 1) if first <= last else 0
        self.starts = starts
        self.ends = ends
        self.cs = cs
        self.ce = ce
        self.base = base
        self.top = top


_NO_RUN = _Run(1, 0, [], [], [], [], 0, 0)


class _Runs:
    """The published set of runs: disjoint, sorted by ``first`` (immutable)."""

    __slots__ = ("firsts", "runs")

    def __init__(self, runs: tuple[_Run, ...]) -> None:
        self.runs = runs
        self.firsts = [run.first for run in runs]


def _compiled(first: int, last: int, chunk: Callable[[int], Chunk]) -> _Run:
    """A run of the periods ``first..last`` from their chunks, counted from zero."""
    starts: list[int] = []
    ends: list[int] = []
    for period in range(first, last + 1):
        c_starts, c_ends = chunk(period)
        k = 0
        if c_starts and ends and ends[-1] == c_starts[0]:
            ends[-1] = c_ends[0]
            k = 1
        starts.extend(c_starts[k:])
        ends.extend(c_ends[k:])
    cs: list[int] = []
    ce: list[int] = []
    run = 0
    for a, b in zip(starts, ends, strict=True):
        cs.append(run)
        run += b - a
        ce.append(run)
    return _Run(first, last, starts, ends, cs, ce, 0, run)


def _chain(segments: list[_Run], keep: int) -> _Run:
    """Adjacent runs joined into one, counted from the origin of ``segments[keep]``."""
    if len(segments) == 1:
        return segments[0]
    shifts = [0] * len(segments)
    for k in range(keep + 1, len(segments)):
        shifts[k] = segments[k - 1].top + shifts[k - 1] - segments[k].base
    for k in range(keep - 1, -1, -1):
        shifts[k] = segments[k + 1].base + shifts[k + 1] - segments[k].top
    starts: list[int] = []
    ends: list[int] = []
    cs: list[int] = []
    ce: list[int] = []
    for seg, d in zip(segments, shifts, strict=True):
        k = 0
        if seg.starts and ends and ends[-1] == seg.starts[0]:
            # An interval open across the boundary: one interval, not two.
            ends[-1] = seg.ends[0]
            ce[-1] = seg.ce[0] + d
            k = 1
        starts += seg.starts[k:]
        ends += seg.ends[k:]
        if d:
            cs += [c + d for c in seg.cs[k:]]
            ce += [c + d for c in seg.ce[k:]]
        else:
            cs += seg.cs[k:]
            ce += seg.ce[k:]
    return _Run(
        segments[0].first,
        segments[-1].last,
        starts,
        ends,
        cs,
        ce,
        segments[0].base + shifts[0],
        segments[-1].top + shifts[-1],
    )


def _open_before(run: _Run, t: int) -> int:
    """The running sum at ``t`` (``run.lo <= t <= run.hi``)."""
    i = bisect_right(run.starts, t) - 1
    if i < 0:
        return run.base
    end = run.ends[i]
    return run.ce[i] - (end - t) if t < end else run.ce[i]


def _check(t: int) -> None:
    if not MIN_INSTANT_US <= t < MAX_INSTANT_US:
        raise InvalidValueError(
            "at", t, "an instant from 0002-01-01 to 9997-12-31 UTC (epoch microseconds)"
        )


class Timeline:
    """Lazily compiled open intervals of one calendar, in runs with running sums.

    ``chunk(period)`` gives the merged open intervals within one period (seven
    UTC days from ``period_start_us(period)``). Safe to query from many threads.

    >>> day = 86_400_000_000
    >>> tl = Timeline(lambda p: ([period_start_us(p) + day], [period_start_us(p) + 2 * day]),
    ...               Limits.always(2026))
    >>> tl.elapsed(period_start_us(2900), period_start_us(2910)) == 10 * day
    True
    >>> tl.add(period_start_us(2900), 3 * day) == period_start_us(2902) + 2 * day
    True
    """

    __slots__ = ("_chunk_fn", "_chunks", "_last", "_runs", "limits")

    def __init__(self, chunk_fn: Callable[[int], Chunk], limits: Limits) -> None:
        self._chunk_fn = chunk_fn
        self._chunks: dict[int, Chunk] = {}
        self._runs = _Runs(())
        self._last = _NO_RUN
        self.limits = limits

    # -- compilation ---------------------------------------------------------

    def chunk(self, period: int) -> Chunk:
        """The merged open intervals within one period (compiled once)."""
        found = self._chunks.get(period)
        if found is None:
            found = self._chunk_fn(period)
            self._chunks[period] = found
        return found

    def _span(self, first: int, last: int, anchor: _Run | None) -> _Run:
        """A run covering periods ``first..last`` (and ``anchor``), published.

        The result keeps ``anchor``'s origin, so running sums a caller computed
        on ``anchor`` stay valid. Runs of the published set that touch the span
        are reused; the rest is compiled.
        """
        snap = self._runs
        if anchor is not None:
            first, last = min(first, anchor.first), max(last, anchor.last)
        # Published runs overlapping or adjacent to the span; those that overlap
        # the anchor (published by another thread meanwhile) are not reused.
        reused: list[_Run] = []
        for run in snap.runs[max(0, bisect_right(snap.firsts, first - 1) - 1) :]:
            if run.first > last + 1:
                break
            if run.last < first - 1 or run is anchor:
                continue
            if anchor is not None and run.first <= anchor.last and anchor.first <= run.last:
                continue
            reused.append(run)
        if anchor is not None:
            reused.append(anchor)
            reused.sort(key=lambda run: run.first)
        if reused:
            first, last = min(first, reused[0].first), max(last, reused[-1].last)
        segments: list[_Run] = []
        cursor = first
        for run in reused:
            if run.first > cursor:
                segments.append(_compiled(cursor, run.first - 1, self.chunk))
            segments.append(run)
            cursor = run.last + 1
        if cursor <= last:
            segments.append(_compiled(cursor, last, self.chunk))
        if anchor is not None:
            keep = next(k for k, seg in enumerate(segments) if seg is anchor)
        else:
            keep = max(range(len(segments)), key=lambda k: len(segments[k].starts))
        result = _chain(segments, keep)
        kept = tuple(r for r in snap.runs if r.last < result.first or r.first > result.last)
        at = bisect_left([r.first for r in kept], result.first)
        self._runs = _Runs((*kept[:at], result, *kept[at:]))
        self._last = result
        return result

    def _run_at(self, t: int) -> _Run:
        """A run holding instant ``t``."""
        run = self._last
        if run.lo <= t < run.hi:
            return run
        _check(t)
        period = period_of(t)
        snap = self._runs
        i = bisect_right(snap.firsts, period) - 1
        if i >= 0 and snap.runs[i].last >= period:
            run = snap.runs[i]
            self._last = run
            return run
        return self._span(period, period, None)

    def _run_over(self, start: int, end: int) -> _Run:
        """A run holding both instants (``start <= end``)."""
        run = self._last
        if run.lo <= start and end < run.hi:
            return run
        _check(start)
        _check(end)
        run = self._run_at(start)
        if end < run.hi:
            return run
        return self._span(run.first, period_of(end), None)

    def _forward(self, run: _Run, limit: int, count: int) -> _Run | None:
        """``run`` with ``count`` more periods after it, none past the year ``limit``."""
        first = run.last + 1
        last = min(run.last + count, _last_period(limit))
        if first > last:
            return None
        return self._span(first, last, run)

    def _backward(self, run: _Run, limit: int, count: int) -> _Run | None:
        """``run`` with ``count`` more periods before it, none before the year ``limit``."""
        last = run.first - 1
        first = max(run.first - count, _first_period(limit))
        if first > last:
            return None
        return self._span(first, last, run)

    # -- queries ---------------------------------------------------------------

    def is_open(self, t: int) -> bool:
        """Whether instant ``t`` lies in an open interval."""
        run = self._last
        if not run.lo <= t < run.hi:
            run = self._run_at(t)
        i = bisect_right(run.starts, t) - 1
        return i >= 0 and t < run.ends[i]

    def elapsed(self, start: int, end: int) -> int:
        """Open time between two instants; negative when ``end < start``."""
        if end < start:
            return -self.elapsed(end, start)
        run = self._last
        if not (run.lo <= start and end < run.hi):
            run = self._run_over(start, end)
        return _open_before(run, end) - _open_before(run, start)

    def add(self, start: int, duration: int) -> int:
        """The earliest instant by which ``duration`` of open time has passed after ``start``."""
        if duration <= 0:
            return start if duration == 0 else self.subtract(start, -duration)
        run = self._last
        if not run.lo <= start < run.hi:
            run = self._run_at(start)
        target = _open_before(run, start) + duration
        step = 1
        limits = self.limits
        while run.top < target:
            grown = self._forward(run, limits.ahead(limits.open_hi, start), step)
            if grown is None:
                raise NeverOpenError(
                    f"the calendar never accumulates the requested open time after {start} us"
                )
            run = grown
            step *= 2
        ce = run.ce
        j = bisect_left(ce, target)
        return run.ends[j] - (ce[j] - target)

    def subtract(self, end: int, duration: int) -> int:
        """The latest instant from which ``duration`` of open time passes until ``end``."""
        if duration <= 0:
            return end if duration == 0 else self.add(end, -duration)
        run = self._last
        if not run.lo <= end < run.hi:
            run = self._run_at(end)
        target = _open_before(run, end) - duration
        step = 1
        limits = self.limits
        while not run.cs or run.base > target:
            grown = self._backward(run, limits.behind(limits.open_lo, end), step)
            if grown is None:
                raise NeverOpenError(
                    f"the calendar never accumulates the requested open time before {end} us"
                )
            run = grown
            step *= 2
        cs = run.cs
        k = bisect_right(cs, target) - 1
        return run.starts[k] + (target - cs[k])

    def next_open(self, t: int) -> int:
        """``t`` if open, else the start of the next open interval."""
        run = self._run_at(t)
        i = bisect_right(run.starts, t) - 1
        if i >= 0 and t < run.ends[i]:
            return t
        step = 1
        limits = self.limits
        while i + 1 >= len(run.starts):
            grown = self._forward(run, limits.ahead(limits.open_hi, t), step)
            if grown is None:
                raise NeverOpenError(f"the calendar never opens at or after {t} us")
            run = grown
            step *= 2
            i = bisect_right(run.starts, t) - 1
        return run.starts[i + 1]

    def next_close(self, t: int) -> int:
        """``t`` if closed, else the end of the open period; ``MAX_INSTANT_US`` if never."""
        run = self._run_at(t)
        i = bisect_right(run.starts, t) - 1
        if i < 0 or t >= run.ends[i]:
            return t
        step = 1
        limits = self.limits
        while run.ends[i] == run.hi:
            grown = self._forward(run, limits.ahead(limits.closed_hi, t), step)
            if grown is None:
                return MAX_INSTANT_US
            run = grown
            step *= 2
            i = bisect_right(run.starts, t) - 1
        return run.ends[i]

    def previous_open(self, t: int) -> int | None:
        """The start of the latest open period that started at or before ``t``."""
        run = self._run_at(t)
        i = bisect_right(run.starts, t) - 1
        step = 1
        limits = self.limits
        while i < 0:
            grown = self._backward(run, limits.behind(limits.open_lo, t), step)
            if grown is None:
                return None
            run = grown
            step *= 2
            i = bisect_right(run.starts, t) - 1
        while run.starts[i] == run.lo:
            grown = self._backward(run, limits.behind(limits.closed_lo, t), step)
            if grown is None:
                return None
            run = grown
            step *= 2
            i = bisect_right(run.starts, t) - 1
        return run.starts[i]

    def previous_close(self, t: int) -> int | None:
        """The end of the latest open period that ended at or before ``t``."""
        run = self._run_at(t)
        i = bisect_right(run.ends, t) - 1
        limits = self.limits
        limit = max(limits.behind(limits.open_lo, t), limits.behind(limits.closed_lo, t))
        step = 1
        while i < 0:
            grown = self._backward(run, limit, step)
            if grown is None:
                return None
            run = grown
            step *= 2
            i = bisect_right(run.ends, t) - 1
        return run.ends[i]

    def last_open_before(self, t: int) -> int:
        """The latest open microsecond strictly before ``t``."""
        run, i = self._last_starting_before(t)
        return min(run.ends[i], t) - 1

    def _last_starting_before(self, t: int) -> tuple[_Run, int]:
        """A run and the index in it of the last open interval starting before ``t``."""
        run = self._run_at(t - 1)
        i = bisect_left(run.starts, t) - 1
        step = 1
        limits = self.limits
        while i < 0:
            grown = self._backward(run, limits.behind(limits.open_lo, t), step)
            if grown is None:
                raise NeverOpenError(f"the calendar is never open before {t} us")
            run = grown
            step *= 2
            i = bisect_left(run.starts, t) - 1
        return run, i

    def last_close_before(self, limit: int) -> int:
        """The end of the last open period starting before ``limit``, clipped to ``limit``."""
        run, i = self._last_starting_before(limit)
        return min(run.ends[i], limit)

    def intervals(self, start: int, end: int) -> list[tuple[int, int]]:
        """The open intervals within ``[start, end)``, clipped to it."""
        if end <= start:
            return []
        run = self._run_over(start, end - 1)
        i = bisect_right(run.ends, start)
        j = bisect_left(run.starts, end)
        return [
            (max(a, start), min(b, end))
            for a, b in zip(run.starts[i:j], run.ends[i:j], strict=True)
        ]
