"""Fresh calendars queried from many threads at once give the single-threaded answers.

A calendar compiles its timeline lazily, on the first queries. Threads that race
to compile and publish it must never see a half-built or mismatched timeline:
each answer is compared with the answer of an equal calendar queried alone.
The run is bounded (a few seconds) so it stays in CI.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta

from itsm_core._time import from_us, to_us
from itsm_core.calendar import (
    BusinessCalendar,
    Closure,
    CompositeCalendar,
    DateOverride,
    WeeklySchedule,
    Window,
)
from itsm_core.errors import NeverOpenError

Calendar = BusinessCalendar | CompositeCalendar
HOUR = 3_600_000_000
DAY = 24 * HOUR
YEAR = 365 * DAY
T2026 = 1_767_225_600_000_000  # 2026-01-01T00:00Z
THREADS = 8
BUDGET_SECONDS = 3.0


def build(variant: int) -> Calendar:
    """A distinct calendar value per ``variant`` (equal values share a timeline)."""
    base = BusinessCalendar(
        name=f"stress-{variant}",
        timezone=("Europe/Moscow", "America/New_York", "Australia/Lord_Howe")[variant % 3],
        weekly=WeeklySchedule.same(["09:00-13:00", "14:00-18:00"]),
        holidays=(date(2026, 1, 1 + variant % 20),),
        closures=(Closure(day=date(2026, 3, 4), start="10:00", end="11:00"),),
        overrides=(DateOverride(day=date(2026, 3, 7), windows=(Window.parse("10:00-12:00"),)),),
    )
    if variant % 2:
        return base
    nights = BusinessCalendar(
        name=f"nights-{variant}",
        timezone="UTC",
        weekly=WeeklySchedule.same(["20:00-23:00"], days=("sat", "sun")),
    )
    return base.union(nights)


Query = tuple[str, int, int]


def queries(seed: int, count: int) -> list[Query]:
    """Queries spread over decades, so threads compile different places at once."""
    rng = random.Random(seed)
    out: list[Query] = []
    for _ in range(count):
        at = T2026 + rng.choice((0, 1, -1, 5, 50, -30)) * YEAR + rng.randrange(YEAR)
        kind = rng.choice(
            ("add", "subtract", "elapsed", "is_open", "next_open", "next_close", "add_datetime")
        )
        other = rng.choice((rng.randrange(60 * HOUR), rng.randrange(3 * YEAR)))
        out.append((kind, at, other))
    return out


def answer(cal: Calendar, query: Query) -> object:
    kind, at, other = query
    try:
        if kind == "add":
            return cal.add_us(at, other)
        if kind == "subtract":
            return cal.subtract_us(at, other)
        if kind == "elapsed":
            return cal.elapsed_us(at, at + other)
        if kind == "is_open":
            return cal.is_open_us(at)
        if kind == "add_datetime":
            shown = cal.add(from_us(at, cal.timezone), timedelta(microseconds=other))
            return (to_us(shown), shown.isoformat())
        if kind == "next_open":
            return cal.next_open_us(at)
        return cal.next_close_us(at)
    except NeverOpenError:  # pragma: no cover - these calendars always open again
        return "never"


@contextmanager
def frequent_switches() -> Iterator[None]:
    """Make the interpreter switch threads as often as it can (races show up sooner)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def race(cal: Calendar, batches: list[list[Query]]) -> list[list[object]]:
    """Every batch on its own thread, all released at the same moment."""
    gate = threading.Barrier(len(batches))

    def run(batch: list[Query]) -> list[object]:
        gate.wait()
        return [answer(cal, q) for q in batch]

    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        return list(pool.map(run, batches))


def stress(make: Callable[[int], Calendar], seconds: float) -> tuple[int, list[str]]:
    """Race fresh calendars until the budget is spent; the rounds run and every wrong answer."""
    wrong: list[str] = []
    rounds = 0
    deadline = time.monotonic() + seconds
    with frequent_switches():
        while time.monotonic() < deadline and not wrong:
            batches = [queries(rounds * 1_000 + k, 12) for k in range(THREADS)]
            expected = [[answer(make(rounds), q) for q in batch] for batch in batches]
            # The same open time under another name: a fresh, uncompiled timeline.
            got = race(fresh_copy(make, rounds), batches)
            for batch, want, have in zip(batches, expected, got, strict=True):
                for query, w, h in zip(batch, want, have, strict=True):
                    if w != h:
                        wrong.append(f"{query}: alone {w}, in threads {h}")
            rounds += 1
    return rounds, wrong


def fresh_copy(make: Callable[[int], Calendar], variant: int) -> Calendar:
    """A calendar equal in open time to ``make(variant)`` but a distinct value."""
    cal = make(variant)
    if isinstance(cal, BusinessCalendar):
        return cal.with_name(f"{cal.name}-fresh")
    left = cal.left
    assert isinstance(left, BusinessCalendar)
    return left.with_name(f"{left.name}-fresh").union(cal.right)


def test_fresh_calendars_queried_from_many_threads_give_the_single_threaded_answers() -> None:
    rounds, wrong = stress(build, BUDGET_SECONDS)
    assert rounds > 0
    assert wrong == [], f"{len(wrong)} wrong answers in {rounds} rounds, e.g. {wrong[:3]}"
