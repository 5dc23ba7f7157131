"""Compile a validated business calendar into open intervals, one period at a time.

Everything is decided per local date ``D`` (an ordinal, ``date.toordinal()``):

1. the windows *starting* on ``D`` are ``D``'s override if it has one, else the
   weekly windows of ``D``'s weekday;
2. ``open(D)`` is, if ``D`` is a whole-date holiday, nothing; otherwise the parts
   on ``D`` of the windows starting on ``D``, plus (unless ``D`` has an override)
   the parts after midnight of the windows starting on ``D - 1``; overlaps merge;
3. the partial closures of ``D`` are removed;
4. each local range becomes an instant range by the compatible rule (zoneinfo's
   ``fold=0``: a skipped time moves forward by the gap, a repeated time is the
   earlier instant); empty ranges are dropped and all ranges are merged.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from itsm_core._time import US_PER_DAY, US_PER_SECOND
from itsm_core.calendar._timeline import (
    MAX_YEAR,
    MIN_YEAR,
    Chunk,
    Limits,
    period_start_us,
    unite,
)

__all__ = ["Plan", "merge_ranges", "subtract_ranges"]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAYS_IN_A_LEAP_YEAR = 366
Ranges = list[tuple[int, int]]


def merge_ranges(ranges: Sequence[tuple[int, int]]) -> Ranges:
    """Sorted union of ``(start, end)`` ranges; touching ranges merge.

    >>> merge_ranges([(5, 9), (0, 2), (2, 3), (8, 12)])
    [(0, 3), (5, 12)]
    """
    merged: Ranges = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract_ranges(ranges: Ranges, holes: Sequence[tuple[int, int]]) -> Ranges:
    """``ranges`` (sorted, disjoint) minus each of ``holes``.

    >>> subtract_ranges([(0, 10)], [(2, 3), (8, 20)])
    [(0, 2), (3, 8)]
    """
    for hole_start, hole_end in holes:
        kept: Ranges = []
        for start, end in ranges:
            if hole_end <= start or end <= hole_start:
                kept.append((start, end))
                continue
            if start < hole_start:
                kept.append((start, hole_start))
            if hole_end < end:
                kept.append((hole_end, end))
        ranges = kept
    return ranges


class Plan:
    """The calendar's rules in the form the compiler reads fast."""

    __slots__ = (
        "closures",
        "holidays",
        "overrides",
        "plain",
        "range_ends",
        "range_starts",
        "recurring",
        "weekly",
        "zone",
    )

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        weekly: tuple[Ranges, ...],
        holidays: frozenset[int],
        ranges: Sequence[tuple[int, int]],
        recurring: frozenset[tuple[int, int]],
        closures: dict[int, Ranges],
        overrides: dict[int, Ranges],
    ) -> None:
        self.zone = zone
        self.weekly = weekly
        self.holidays = holidays
        merged = merge_ranges([(first, last + 1) for first, last in ranges])
        self.range_starts = [start for start, _ in merged]
        self.range_ends = [end for _, end in merged]
        self.recurring = recurring
        self.closures = closures
        self.overrides = overrides
        # open(D) of a date with no holiday, closure or override nearby depends on
        # its weekday alone.
        self.plain = tuple(
            merge_ranges(
                [(s, min(e, US_PER_DAY)) for s, e in weekly[wd]]
                + [(0, e - US_PER_DAY) for _, e in weekly[(wd - 1) % 7] if e > US_PER_DAY]
            )
            for wd in range(7)
        )

    def is_holiday(self, ordinal: int) -> bool:
        """Whether the local date is closed as a whole."""
        if ordinal in self.holidays:
            return True
        if self.recurring:
            day = date.fromordinal(ordinal)
            if (day.month, day.day) in self.recurring:
                return True
        i = bisect_right(self.range_starts, ordinal) - 1
        return i >= 0 and ordinal < self.range_ends[i]

    def starting(self, ordinal: int) -> Ranges:
        """The windows starting on the local date (override or weekly)."""
        found = self.overrides.get(ordinal)
        if found is not None:
            return found
        return self.weekly[(ordinal - 1) % 7]

    def local_open(self, ordinal: int) -> Ranges:
        """``open(D)``: local ranges in microseconds after D's midnight, within one day."""
        if self.is_holiday(ordinal):
            return []
        if (
            ordinal not in self.overrides
            and ordinal - 1 not in self.overrides
            and ordinal not in self.closures
        ):
            return self.plain[(ordinal - 1) % 7]
        parts = [(s, min(e, US_PER_DAY)) for s, e in self.starting(ordinal)]
        if ordinal not in self.overrides:
            parts += [(0, e - US_PER_DAY) for _, e in self.starting(ordinal - 1) if e > US_PER_DAY]
        ranges = merge_ranges(parts)
        holes = self.closures.get(ordinal)
        return subtract_ranges(ranges, holes) if holes else ranges

    def instant(self, ordinal: int, offset_us: int) -> int:
        """Epoch microseconds of local date + time by the compatible rule."""
        if offset_us == US_PER_DAY:
            ordinal, offset_us = ordinal + 1, 0
        naive = datetime.fromordinal(ordinal) + timedelta(microseconds=offset_us)
        shift = self.zone.utcoffset(naive)
        local_us = (ordinal - _EPOCH_ORDINAL) * US_PER_DAY + offset_us
        if shift is None:  # pragma: no cover - ZoneInfo always has an offset
            return local_us
        return local_us - (shift.days * 86_400 + shift.seconds) * US_PER_SECOND - shift.microseconds

    def chunk(self, period: int) -> Chunk:
        """The merged open intervals of one period (seven UTC days, see ``period_start_us``)."""
        lo, hi = period_start_us(period), period_start_us(period + 1)
        first = _EPOCH_ORDINAL + lo // US_PER_DAY - 2
        last = _EPOCH_ORDINAL + hi // US_PER_DAY + 1
        starts: list[int] = []
        ends: list[int] = []
        sorted_so_far = True
        for ordinal in range(first, last + 1):
            for s, e in self.local_open(ordinal):
                a = self.instant(ordinal, s)
                b = self.instant(ordinal, e)
                if b <= a or b <= lo or a >= hi:
                    continue
                if ends and a < ends[-1]:
                    sorted_so_far = False
                starts.append(max(a, lo))
                ends.append(min(b, hi))
        if not sorted_so_far:
            return unite((starts, ends), ([], []))
        # Merge ranges that touch (the end of one day and the start of the next).
        out_s: list[int] = []
        out_e: list[int] = []
        for a, b in zip(starts, ends, strict=True):
            if out_e and a == out_e[-1]:
                out_e[-1] = b
            else:
                out_s.append(a)
                out_e.append(b)
        return out_s, out_e


def calendar_limits(
    *,
    weekly: tuple[Ranges, ...],
    recurring: frozenset[tuple[int, int]],
    dated_years: Sequence[int],
) -> Limits:
    """How far a search over the calendar may go (see :class:`Limits`).

    After its last dated entry (one-off holiday, range, closure, override) a
    calendar repeats its weekly windows minus its recurring holidays. It opens
    again iff it has a weekly window and the recurring holidays do not cover every
    day of the year; it closes again iff its weekly windows leave a gap in the
    week or it has a recurring holiday.

    >>> calendar_limits(weekly=([],) * 7, recurring=frozenset(), dated_years=[]).open_hi
    1
    """
    finite_lo = min(dated_years, default=MAX_YEAR)
    finite_hi = max(dated_years, default=MIN_YEAR)
    has_window = any(weekly)
    # ``recurring`` holds valid (month, day) pairs only: all 366 of them close every day.
    opens_again = has_window and len(recurring) < _DAYS_IN_A_LEAP_YEAR
    week: Ranges = []
    for weekday, ranges in enumerate(weekly):
        for s, e in ranges:
            a, b = weekday * US_PER_DAY + s, weekday * US_PER_DAY + e
            week.append((a, b))
            if b > 7 * US_PER_DAY:
                week.append((0, b - 7 * US_PER_DAY))
    covered = merge_ranges(week)
    full_week = len(covered) == 1 and covered[0][0] == 0 and covered[0][1] >= 7 * US_PER_DAY
    closes_again = not full_week or bool(recurring)
    if dated_years:
        open_lo, open_hi = finite_lo - 2, finite_hi + 2
    else:
        open_lo, open_hi = MAX_YEAR + 1, MIN_YEAR - 1
    return Limits(
        open_lo=MIN_YEAR if opens_again else open_lo,
        open_hi=MAX_YEAR if opens_again else open_hi,
        closed_lo=MIN_YEAR if closes_again else open_lo,
        closed_hi=MAX_YEAR if closes_again else open_hi,
        finite_lo=finite_lo,
        finite_hi=finite_hi,
    )
