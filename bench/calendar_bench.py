"""Business-time arithmetic against businesstimedelta and pandas CustomBusinessHour.

One calendar for everyone: Monday to Friday 09:00-18:00 with a 13:00-14:00 break,
Europe/Moscow, the Russian national holidays of the ``holidays`` package. The
same random starts (whole seconds, 2016-2025) go to every library.

* ``add`` of 8 h and 40 h: ours through the integer API the SLA engine uses
  (``add_us``) and through the datetime API (``add``), businesstimedelta
  (``start + BusinessTimeDelta``) and pandas (``Timestamp + CustomBusinessHour``).
* ``elapsed`` over 1 day, 30 days, 1 year, 10 years: ours and businesstimedelta
  (``Rules.difference``); pandas cannot measure business time between instants.
* The cost of ``add`` with 0, 100 and 10,000 holidays.
* The first query on a fresh calendar (nothing compiled yet), and a query far
  from the earlier ones (50 years later, and in the year 5000) on a calendar
  that has already answered around its start; peers answer the same first or
  far ``add`` (pandas cannot represent the year 5000).
* The datetime API against the integer one (``add`` over ``add_us``), with its
  floor: ``add_us`` plus only reading the start's fields and building a
  ``pendulum.DateTime`` from a fixed pickled state (the cheapest constructor), no
  conversion at all. The edge conversions against their exact references and
  against pendulum (``to_us`` / ``to_us_exact``, ``from_us`` / ``from_us_exact`` /
  ``pendulum.instance(...).in_timezone(...)``).

The slow peers are timed on a subset of the starts (the sizes are in the JSON);
every answer they give on the subsets is checked against ours. For ``add`` they
are timed in the same run as ours, round by round, and the ratios against them
use ours on the same instants; ``add`` is also compared with the same operation
through the exact conversions (``datetime_op_exact``), and the ways to build a
``pendulum.DateTime`` with each other. Interleaved figures are CPU time of the
thread (see ``_interleaved``).
"""

from __future__ import annotations

import gc
import operator
import random
import statistics
import time as clock
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

import pendulum

from bench._runner import BenchReport, Figure, measure
from itsm_core._time import datetime_op_exact, from_us, from_us_exact, to_us, to_us_exact
from itsm_core.calendar import BusinessCalendar, WeeklySchedule, country_holidays

TZ = "Europe/Moscow"
_EPOCH = pendulum.datetime(1970, 1, 1)
HOUR_US = 3_600_000_000
DAY = timedelta(days=1)
SPANS = {
    "1d": timedelta(days=1),
    "30d": timedelta(days=30),
    "1y": timedelta(days=365),
    "10y": timedelta(days=3652),
}


def _starts(count: int, seed: int = 20260306) -> list[pendulum.DateTime]:
    rng = random.Random(seed)
    base = pendulum.datetime(2016, 1, 1, tz=TZ)
    seconds = 10 * 365 * 86_400
    return [base.add(seconds=rng.randrange(seconds)) for _ in range(count)]


def _ours(holidays: tuple[date, ...]) -> BusinessCalendar:
    return BusinessCalendar(
        name="bench",
        timezone=TZ,
        weekly=WeeklySchedule.same(["09:00-13:00", "14:00-18:00"]),
        holidays=holidays,
    )


def _peers(holidays: tuple[date, ...]) -> tuple[Any, Any, Callable[[int], Any]]:
    import businesstimedelta as btd
    import pandas as pd
    import pytz

    tz = pytz.timezone(TZ)
    rules = btd.Rules(
        [
            btd.WorkDayRule(
                start_time=time(9), end_time=time(18), working_days=[0, 1, 2, 3, 4], tz=tz
            ),
            btd.LunchTimeRule(
                start_time=time(13), end_time=time(14), working_days=[0, 1, 2, 3, 4], tz=tz
            ),
        ]
        # Its holiday rule fails on dates past its last holiday: none when there are none.
        + ([btd.HolidayRule(frozenset(holidays), tz=tz)] if holidays else [])
    )

    def pandas_offset(hours: int) -> Any:
        return pd.offsets.CustomBusinessHour(
            n=hours,
            start=["09:00", "14:00"],
            end=["13:00", "18:00"],
            weekmask="Mon Tue Wed Thu Fri",
            holidays=list(holidays),
        )

    return btd, rules, pandas_offset


def _time(fn: Callable[[], object], ops: int, rounds: int) -> Figure:
    return measure(fn, ops=ops, rounds=rounds, warmup=1 if rounds > 1 else 0)


def _interleaved(
    batches: dict[str, Callable[[], object]],
    ops: int,
    rounds: int,
    ops_of: dict[str, int] | None = None,
) -> dict[str, Figure]:
    """Time several batches round-robin, so a busy machine slows them alike.

    Each batch is timed in CPU time of this thread (``time.thread_time_ns``),
    not wall time: on a shared machine a batch is descheduled now and then,
    and the longer batch is more often the one descheduled (a batch of 2 ms
    read 6.5 ms in a third of the rounds while one of 1 ms read 1 ms), which
    wall time charges to it. The garbage collector runs before each batch, not
    during it by chance: every round allocates alike, so a full collection
    would otherwise land on the same batch round after round (a batch that
    builds 10,000 DateTimes looked three times slower than its twin). A batch
    still pays the young collections its own allocations trigger. ``ops_of``
    gives the operations of batches that do not perform ``ops`` (peers timed
    on a subset).
    """
    sizes = {key: (ops_of or {}).get(key, ops) for key in batches}
    for fn in batches.values():
        fn()  # warm-up (compiles the timelines)
    per_op: dict[str, list[float]] = {key: [] for key in batches}
    for _ in range(rounds):
        for key, fn in batches.items():
            gc.collect()
            start = clock.thread_time_ns()
            fn()
            per_op[key].append((clock.thread_time_ns() - start) / 1000 / sizes[key])
    return {
        key: Figure(
            median_us=statistics.median(values),
            min_us=min(values),
            max_us=max(values),
            rounds=rounds,
            ops=sizes[key],
        )
        for key, values in per_op.items()
    }


def _each(
    fn: Callable[..., object], items: list[Any], *extra: Any, out: list[Any] | None = None
) -> Callable[[], object]:
    """A batch: ``fn(item, *extra)`` for every item (results kept in ``out`` when given)."""

    def batch() -> object:
        results = [fn(item, *extra) for item in items]
        if out is not None:
            out[:] = results
        return results

    return batch


def _over(start: Any, measure_span: Callable[[Any, Any], object], span: Any) -> object:
    """``measure_span(start, start + span)``."""
    return measure_span(start, start + span)


def _one_by_one(fns: list[Callable[[], object]]) -> Figure:
    """Time each call once (each on a fresh object): median, min and max of the calls."""
    times: list[float] = []
    for fn in fns:
        start = clock.perf_counter_ns()
        fn()
        times.append((clock.perf_counter_ns() - start) / 1000)
    return Figure(
        median_us=statistics.median(times),
        min_us=min(times),
        max_us=max(times),
        rounds=len(times),
        ops=1,
    )


def _floor(
    add_us: Callable[[int, int], int], pairs: list[tuple[datetime, int]], duration_us: int
) -> Callable[[], object]:
    """``add_us`` plus what any datetime API must do: read the start, build a DateTime.

    The start's fields are read (and cancel out), the result is a fixed
    ``pendulum.DateTime`` built from a pickled state; nothing is converted.
    """
    tz = pendulum.timezone(TZ)
    state = datetime(2026, 3, 6, 12, tzinfo=UTC).__reduce__()[1][0]
    new = pendulum.DateTime

    def batch() -> object:
        return [
            new(state, tz)  # type: ignore[call-arg, arg-type]
            if add_us(
                us + s.toordinal() + s.hour + s.minute + s.second + s.microsecond, duration_us
            )
            else None
            for s, us in pairs
        ]

    return batch


def _pendulum_show(us: int) -> pendulum.DateTime:
    """What a user of pendulum would write to show an epoch-microsecond instant."""
    return pendulum.instance(_EPOCH + timedelta(microseconds=us)).in_timezone(TZ)


def _from_state(state_tz: tuple[bytes, Any]) -> pendulum.DateTime:
    state, tz = state_tz
    return pendulum.DateTime(state, tz)  # type: ignore[call-arg, arg-type]


def _from_fields(s: datetime) -> pendulum.DateTime:
    return pendulum.DateTime(
        s.year, s.month, s.day, s.hour, s.minute, s.second, s.microsecond, s.tzinfo
    )


def _fromtimestamp_instance(seconds_tz: tuple[int, Any]) -> pendulum.DateTime:
    seconds, tz = seconds_tz
    return pendulum.instance(datetime.fromtimestamp(seconds, tz))


def _pendulum_fromtimestamp(seconds_tz: tuple[int, Any]) -> pendulum.DateTime:
    seconds, tz = seconds_tz
    return pendulum.DateTime.fromtimestamp(seconds, tz)


def _conversions(
    report: BenchReport,
    cal: BusinessCalendar,
    starts: list[pendulum.DateTime],
    n: int,
    rounds: int,
) -> None:
    """The edge conversions, fast against exact (and pendulum), interleaved.

    Also the ways to build a ``pendulum.DateTime`` of known local fields (the
    cheapest is what ``from_us`` uses), and ``add`` against the same operation
    through the exact conversions (``datetime_op_exact``).
    """
    starts_us = [to_us(s) for s in starts]
    tz = pendulum.timezone(TZ)
    states = [(datetime.__reduce__(s)[1][0], tz) for s in starts]
    seconds = [(s.int_timestamp, tz) for s in starts]
    exact_add = datetime_op_exact(cal.add_us, TZ)
    eight = timedelta(hours=8)
    report.figures.update(
        _interleaved(
            {
                "add 8h ours add (datetime)": _each(cal.add, starts, eight),
                "add 8h through the exact conversions (datetime_op_exact)": _each(
                    exact_add, starts, eight
                ),
                "DateTime(pickled state, tz)": _each(_from_state, states),
                "DateTime(year, ..., microsecond, tz)": _each(_from_fields, starts),
                "pendulum.instance(datetime.fromtimestamp(s, tz))": _each(
                    _fromtimestamp_instance, seconds
                ),
                "pendulum.DateTime.fromtimestamp(s, tz)": _each(_pendulum_fromtimestamp, seconds),
            },
            n,
            rounds,
        )
    )
    report.ratio(
        "add (datetime) vs add through the exact conversions",
        "add 8h through the exact conversions (datetime_op_exact)",
        "add 8h ours add (datetime)",
    )
    for other in (
        "DateTime(year, ..., microsecond, tz)",
        "pendulum.instance(datetime.fromtimestamp(s, tz))",
        "pendulum.DateTime.fromtimestamp(s, tz)",
    ):
        report.ratio(f"DateTime(pickled state) vs {other}", other, "DateTime(pickled state, tz)")
    report.figures.update(
        _interleaved(
            {
                "to_us (remembered midnights)": _each(to_us, starts),
                "to_us_exact (utcoffset)": _each(to_us_exact, starts),
                "from_us (pickled state)": _each(from_us, starts_us, TZ),
                "from_us_exact (fromtimestamp, fields)": _each(from_us_exact, starts_us, TZ),
                "pendulum instance().in_timezone()": _each(_pendulum_show, starts_us),
            },
            n,
            rounds,
        )
    )
    report.ratio("to_us vs to_us_exact", "to_us_exact (utcoffset)", "to_us (remembered midnights)")
    report.ratio(
        "from_us vs from_us_exact",
        "from_us_exact (fromtimestamp, fields)",
        "from_us (pickled state)",
    )
    report.ratio(
        "from_us vs pendulum", "pendulum instance().in_timezone()", "from_us (pickled state)"
    )


def _btd_add_8h(btd: Any, rules: Any, at: datetime) -> object:
    return at + btd.BusinessTimeDelta(rules, hours=8)


def _pandas_add(pd: Any, offset: Any, at: datetime) -> object:
    return pd.Timestamp(at) + offset


def _fresh_and_far(
    report: BenchReport, holidays: tuple[date, ...], starts: list[pendulum.DateTime], count: int
) -> None:
    """First query on fresh calendars; far queries on calendars warmed at their start."""
    import pandas as pd
    import pytz

    tz = pytz.timezone(TZ)
    eight = 8 * HOUR_US
    years_50 = 50 * 365 * 86_400 * 1_000_000 + 12 * 86_400 * 1_000_000  # 50 years, leap days
    sample = starts[:count]
    sample_us = [to_us(s) for s in sample]

    fresh = [_ours(holidays).with_name(f"fresh {k}") for k in range(count)]
    report.figures["first query: ours add_us 8h on a fresh calendar"] = _one_by_one(
        [partial(c.add_us, at, eight) for c, at in zip(fresh, sample_us, strict=True)]
    )
    to_5000 = to_us(pendulum.datetime(5000, 1, 1, tz=TZ)) - to_us(pendulum.datetime(2020, 1, 1))
    for label, shift in (("50 years later", years_50), ("in the year 5000", to_5000)):
        warm = [_ours(holidays).with_name(f"far {label} {k}") for k in range(count)]
        for c, at in zip(warm, sample_us, strict=True):
            c.add_us(at, eight)  # answered around its start: that much is compiled
        report.figures[f"far query {label}: ours add_us 8h"] = _one_by_one(
            [partial(c.add_us, at + shift, eight) for c, at in zip(warm, sample_us, strict=True)]
        )
    btd, _, pandas_offset = _peers(holidays)
    btd_starts = [datetime.fromtimestamp(s.int_timestamp, tz) for s in sample]
    fresh_rules = [_peers(holidays)[1] for _ in range(count)]
    report.figures["first query: businesstimedelta add 8h"] = _one_by_one(
        [partial(_btd_add_8h, btd, r, at) for r, at in zip(fresh_rules, btd_starts, strict=True)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh_offsets = [pandas_offset(8) for _ in range(count)]
        report.figures["first query: pandas add 8h"] = _one_by_one(
            [
                partial(_pandas_add, pd, o, at)
                for o, at in zip(fresh_offsets, btd_starts, strict=True)
            ]
        )
        far_starts = [s + timedelta(microseconds=years_50) for s in btd_starts]
        report.figures["far query 50 years later: pandas add 8h"] = _one_by_one(
            [
                partial(_pandas_add, pd, o, at)
                for o, at in zip(fresh_offsets, far_starts, strict=True)
            ]
        )
    # businesstimedelta's holiday rule fails past its last holiday (2036): none far away.
    rules = _peers(())[1]
    report.figures["far query 50 years later: businesstimedelta add 8h"] = _one_by_one(
        [partial(_btd_add_8h, btd, rules, at) for at in far_starts]
    )
    report.ratio(
        "first query vs businesstimedelta",
        "first query: businesstimedelta add 8h",
        "first query: ours add_us 8h on a fresh calendar",
    )
    report.ratio(
        "first query vs pandas",
        "first query: pandas add 8h",
        "first query: ours add_us 8h on a fresh calendar",
    )
    report.ratio(
        "far query 50 years later vs businesstimedelta",
        "far query 50 years later: businesstimedelta add 8h",
        "far query 50 years later: ours add_us 8h",
    )
    report.ratio(
        "far query 50 years later vs pandas",
        "far query 50 years later: pandas add 8h",
        "far query 50 years later: ours add_us 8h",
    )
    report.ratio(
        "far query in the year 5000 vs businesstimedelta (50 years later)",
        "far query 50 years later: businesstimedelta add 8h",
        "far query in the year 5000: ours add_us 8h",
    )
    for key in (
        "first query: ours add_us 8h on a fresh calendar",
        "far query 50 years later: ours add_us 8h",
        "far query in the year 5000: ours add_us 8h",
    ):
        report.values[f"{key} (ms, median)"] = round(report.figures[key].median_us / 1000, 4)


def run(quick: bool) -> BenchReport:
    import pandas as pd
    import pytz

    report = BenchReport("calendar")
    n = 1_000 if quick else 10_000
    peer_n = 100 if quick else 1_000
    rounds = 3 if quick else 7
    holidays = country_holidays("RU", range(2015, 2037))
    cal = _ours(holidays)
    btd, rules, pandas_offset = _peers(holidays)
    tz = pytz.timezone(TZ)

    starts = _starts(n)
    starts_us = [to_us(s) for s in starts]
    btd_starts = [datetime.fromtimestamp(s.int_timestamp, tz) for s in starts[:peer_n]]
    pd_starts = [pd.Timestamp(s) for s in btd_starts]
    report.values["starts"] = n
    report.values["peer starts (add)"] = peer_n
    report.values["holidays (RU 2015-2036)"] = len(holidays)

    fresh = _ours(holidays)
    ten_years = 3652 * 24 * HOUR_US
    cold = measure(
        lambda: fresh.elapsed_us(starts_us[0], starts_us[0] + ten_years), ops=1, rounds=1, warmup=0
    )
    report.values["ours: first query compiling 10 years (ms)"] = round(cold.median_us / 1000, 3)
    _fresh_and_far(report, holidays, starts, 20 if quick else 100)

    mismatches: dict[str, int] = {}
    pandas_at_close = 0
    # Ours on the peers' starts, passed over as many times as makes n operations: the same
    # instants, timed warm (one pass after a peer's batch has emptied the CPU caches would
    # charge ours for the peer's memory traffic; a peer's batch is long enough to warm itself).
    passes = max(1, n // peer_n)
    peer_pendulum = starts[:peer_n] * passes
    peer_us = starts_us[:peer_n] * passes
    for hours in (8, 40):
        d_us = hours * HOUR_US
        delta = timedelta(hours=hours)
        name = f"add {hours}h"
        btd_delta = btd.BusinessTimeDelta(rules, hours=hours)
        btd_results: list[Any] = []
        offset = pandas_offset(hours)
        pd_results: list[Any] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # One run, round by round: ours on every start and on the peers' subset (the
            # same instants the peers get), and the peers, so load moves every ratio alike.
            report.figures.update(
                _interleaved(
                    {
                        f"{name} ours add_us": _each(cal.add_us, starts_us, d_us),
                        f"{name} ours add (datetime)": _each(cal.add, starts, delta),
                        f"{name} floor of a datetime API": _floor(
                            cal.add_us, list(zip(starts, starts_us, strict=True)), d_us
                        ),
                        f"{name} ours add_us (peer starts)": _each(cal.add_us, peer_us, d_us),
                        f"{name} ours add (datetime, peer starts)": _each(
                            cal.add, peer_pendulum, delta
                        ),
                        f"{name} businesstimedelta": _each(
                            operator.add, btd_starts, btd_delta, out=btd_results
                        ),
                        f"{name} pandas": _each(operator.add, pd_starts, offset, out=pd_results),
                    },
                    n,
                    rounds,
                    ops_of={
                        f"{name} ours add_us (peer starts)": peer_n * passes,
                        f"{name} ours add (datetime, peer starts)": peer_n * passes,
                        f"{name} businesstimedelta": peer_n,
                        f"{name} pandas": peer_n,
                    },
                )
            )
        ours = [cal.add_us(to_us(s), d_us) for s in btd_starts]
        mismatches[f"{name} businesstimedelta"] = sum(
            o != to_us(b) for o, b in zip(ours, btd_results, strict=True)
        )
        pandas_us = [to_us(p.to_pydatetime()) for p in pd_results]
        differ = [(o, p) for o, p in zip(ours, pandas_us, strict=True) if o != p]
        same_business_instant = sum(cal.elapsed_us(o, p) == 0 for o, p in differ)
        pandas_at_close += same_business_instant
        mismatches[f"{name} pandas"] = len(differ)
        mismatches[f"{name} pandas, other than close vs next open"] = (
            len(differ) - same_business_instant
        )
        ours_us, ours_dt = (
            f"{name} ours add_us (peer starts)",
            f"{name} ours add (datetime, peer starts)",
        )
        report.ratio(f"{name} vs businesstimedelta", f"{name} businesstimedelta", ours_us)
        report.ratio(f"{name} vs pandas", f"{name} pandas", ours_us)
        report.ratio(f"{name} (datetime API) vs pandas", f"{name} pandas", ours_dt)
        report.ratio(
            f"{name} (datetime API) vs businesstimedelta (target >= 150 at 8h)",
            f"{name} businesstimedelta",
            ours_dt,
        )
        report.ratio(
            f"{name} datetime API cost over add_us (slowdown, target <= 1.5)",
            f"{name} ours add (datetime)",
            f"{name} ours add_us",
        )
        report.ratio(
            f"{name} floor of a datetime API over add_us (slowdown)",
            f"{name} floor of a datetime API",
            f"{name} ours add_us",
        )

    _conversions(report, cal, starts, n, rounds)

    peer_counts = (
        {"1d": 200, "30d": 30, "1y": 4, "10y": 1}
        if quick
        else {"1d": 1_000, "30d": 100, "1y": 10, "10y": 2}
    )
    report.figures.update(
        _interleaved(
            {
                f"elapsed {label} ours elapsed_us": _each(
                    _over, starts_us, cal.elapsed_us, int(span.total_seconds()) * 1_000_000
                )
                for label, span in SPANS.items()
            },
            n,
            rounds,
        )
    )
    for label, span in SPANS.items():
        name = f"elapsed {label}"
        count = peer_counts[label]
        sample = btd_starts[:count]
        btd_el: list[Any] = []
        report.figures[f"{name} businesstimedelta"] = _time(
            _each(_over, sample, rules.difference, span, out=btd_el), count, 1
        )
        report.values[f"peer starts ({name})"] = count
        ours_el = [cal.elapsed(s, s + span) for s in sample]
        mismatches[f"{name} businesstimedelta"] = sum(
            o != b.timedelta for o, b in zip(ours_el, btd_el, strict=True)
        )
        report.ratio(
            f"{name} vs businesstimedelta", f"{name} businesstimedelta", f"{name} ours elapsed_us"
        )
    one_day = report.figures["elapsed 1d ours elapsed_us"].median_us
    report.values["elapsed flatness (10y / 1d)"] = round(
        report.figures["elapsed 10y ours elapsed_us"].median_us / one_day, 3
    )

    rng = random.Random(7)
    first = date(1900, 1, 1).toordinal()
    variants: dict[str, Callable[[], object]] = {}
    for count in (0, 100, 10_000):
        chosen: set[date] = set()
        while len(chosen) < count:
            chosen.add(date.fromordinal(first + rng.randrange(110_000)))
        other = _ours(tuple(sorted(chosen)))
        variants[f"add 8h ours with {count} holidays"] = _each(other.add_us, starts_us, 8 * HOUR_US)
    cost_figures = _interleaved(variants, n, rounds)
    report.figures.update(cost_figures)
    costs = [figure.median_us for figure in cost_figures.values()]
    report.values["holiday cost (max / min over 0, 100, 10,000)"] = round(
        max(costs) / min(costs), 3
    )

    for key, value in mismatches.items():
        report.values[f"answers differing: {key}"] = value
    report.notes.append(
        "pandas moves a result that lands exactly on a closing time (13:00, 18:00) to the next "
        "opening; ours and businesstimedelta answer the closing instant. Both are the same point "
        f"in business time (zero open time between them): {pandas_at_close} such answers."
    )
    report.notes.append(
        "businesstimedelta drops microseconds from differences and stops finding holidays more "
        "than 5 years past a date; starts here are whole seconds and holidays run to 2036."
    )
    return report
