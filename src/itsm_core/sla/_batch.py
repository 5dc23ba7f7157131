"""The batch path: many tickets' SLA clocks at once, over columnar arrays (numpy).

numpy is an optional extra (``pip install 'itsm-core[numpy]'``); it is
imported only when a batch is built or evaluated, never by ``import
itsm_core.sla``.

The fold walks event *positions* instead of tickets: tickets are ordered by
length, and step ``j`` moves the clocks of every ticket that has a ``j``-th
event at once, with boolean masks from the policy's fact table (the same
table :func:`~itsm_core.sla.evaluate` reads) and the calendar's cumulative
open time as sorted arrays (``searchsorted``). What the vectorised fold does
not model — a deferred start (no target for the priority yet), a reset, a
due instant set by hand, a retarget that moves a breach, targets in business
days or wall-clock time, ``hide_due_in``, delayed starts, a calendar range
too short — sends that ticket to the scalar fold, so every answer is the one
:func:`~itsm_core.sla.evaluate` gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from itsm_core._time import td_to_us, to_us
from itsm_core.errors import InvalidValueError, ItsmError
from itsm_core.lifecycle import History
from itsm_core.sla._clock import EVENT_CODES, SlaStatus, Stage, event_code
from itsm_core.sla._durations import BusinessDuration
from itsm_core.sla._fold import decisions_of, evaluate
from itsm_core.sla._policy import MissingTarget, OnPriorityChange, SlaPolicy, StartAt
from itsm_core.ticket import (
    Event,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Ints = npt.NDArray[np.int64]
    Bools = npt.NDArray[np.bool_]

__all__ = ["MISSING_US", "STAGES", "MissingExtraError", "SlaBatch", "SlaColumns", "evaluate_batch"]

#: The value of an instant column where :class:`~itsm_core.sla.Cycle` has ``None``.
MISSING_US = -(2**63)
#: The stages, in the order of :attr:`SlaBatch.stage` codes.
STAGES: tuple[Stage, ...] = tuple(Stage)
_CODE = {stage: i for i, stage in enumerate(STAGES)}


class MissingExtraError(ItsmError, ImportError):
    """An optional extra the call needs is not installed; the message says which.

    >>> str(MissingExtraError("numpy", "the SLA batch path"))
    "the SLA batch path needs the optional 'numpy' package: pip install 'itsm-core[numpy]'"
    """

    def __init__(self, extra: str, what: str) -> None:
        self.extra = extra
        super().__init__(
            f"{what} needs the optional {extra!r} package: pip install 'itsm-core[{extra}]'"
        )


def _numpy() -> Any:
    try:
        import numpy
    except ImportError as exc:  # pragma: no cover - numpy is part of the dev install
        raise MissingExtraError("numpy", "the SLA batch path") from exc
    return numpy


@attrs.frozen(kw_only=True, eq=False)
class SlaColumns:
    """The events of many tickets as columns: what :func:`evaluate_batch` reads.

    Built once (:meth:`from_histories`), evaluated against any policy and any
    ``now``. Ticket ``i``'s events are rows ``offsets[i]`` to
    ``offsets[i + 1]`` of the event columns: ``at_us`` (epoch
    microseconds), ``fact`` (a code into :attr:`facts`, what SLA conditions
    see of the event), ``priority`` and ``group`` (codes into
    :attr:`priorities` and :attr:`groups`, the ticket's values right after
    the event). ``plain`` is false for a ticket with an event the columns do
    not describe (a due instant set by hand): the scalar fold answers for it,
    from :attr:`histories`.

    >>> from datetime import datetime, timezone
    >>> from itsm_core.ticket import TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> opened = TicketOpened(ticket_id="I-1", actor="ann", at=at, type="incident",
    ...     state="new", state_category="new", title="t", requester="ann",
    ...     effective_priority="P2")
    >>> columns = SlaColumns.from_histories([[opened]])
    >>> columns.ticket_ids, columns.offsets.tolist(), columns.priorities
    (('I-1',), [0, 1], (None, 'P2'))
    """

    ticket_ids: tuple[str, ...]
    histories: tuple[History, ...]
    offsets: Ints
    at_us: Ints
    fact: Ints
    facts: tuple[tuple[str, str, str, str, str | None, str | None, bool | None, bool | None], ...]
    priority: Ints
    priorities: tuple[str | None, ...]
    group: Ints
    groups: tuple[str | None, ...]
    plain: Bools

    def __len__(self) -> int:
        return len(self.ticket_ids)

    @classmethod
    def from_histories(cls, histories: Iterable[History | Iterable[Event]]) -> SlaColumns:
        """The columns of ``histories`` (raw event lists are checked into histories first)."""
        np = _numpy()
        checked = tuple(
            h if isinstance(h, History) else History.of(h, field=f"histories[{i}]")
            for i, h in enumerate(histories)
        )
        offsets = [0]
        at_us: list[int] = []
        facts: dict[Any, int] = {}
        fact_codes: list[int] = []
        priorities: dict[str | None, int] = {None: 0}
        groups: dict[str | None, int] = {None: 0}
        priority_codes: list[int] = []
        group_codes: list[int] = []
        plain: list[bool] = []
        for h in checked:
            category = ""
            priority: str | None = None
            group: str | None = None
            simple = True
            for event, (state, new_category, hold) in zip(h.events, h.states, strict=True):
                info = EVENT_CODES.get(type(event))
                if info is None:
                    info = event_code(event)
                code, kind = info
                trigger: str | None = None
                public: bool | None = None
                by_requester: bool | None = None
                if code == 1:
                    public, by_requester = event.public, event.by_requester  # type: ignore[attr-defined]
                elif code == 2:
                    trigger = event.trigger  # type: ignore[attr-defined]
                elif code == 3:
                    priority = event.effective  # type: ignore[attr-defined]
                elif code == 4:
                    group = event.group  # type: ignore[attr-defined]
                elif code == 5:
                    group = None
                elif code == 6:
                    priority = event.effective_priority  # type: ignore[attr-defined]
                elif code == 7:
                    simple = False
                fact = (kind, state, new_category, category, hold, trigger, public, by_requester)
                category = new_category
                found = facts.get(fact)
                if found is None:
                    found = facts[fact] = len(facts)
                fact_codes.append(found)
                found = priorities.get(priority)
                if found is None:
                    found = priorities[priority] = len(priorities)
                priority_codes.append(found)
                found = groups.get(group)
                if found is None:
                    found = groups[group] = len(groups)
                group_codes.append(found)
            at_us.extend(h.instants_us)
            offsets.append(len(at_us))
            plain.append(simple)
        return cls(
            ticket_ids=tuple(h.ticket_id for h in checked),
            histories=checked,
            offsets=np.array(offsets, dtype=np.int64),
            at_us=np.array(at_us, dtype=np.int64),
            fact=np.array(fact_codes, dtype=np.int64),
            facts=tuple(facts),
            priority=np.array(priority_codes, dtype=np.int64),
            priorities=tuple(priorities),
            group=np.array(group_codes, dtype=np.int64),
            groups=tuple(groups),
            plain=np.array(plain, dtype=np.bool_),
        )


_SEGMENTS = 8  # running stretches a cycle keeps for a retarget; more go to the scalar fold

#: The per-cycle columns of :class:`SlaBatch`, as in :class:`~itsm_core.sla.Cycle`.
_FIELDS = ("started_us", "ended_us", "target_us", "elapsed_us", "paused_us", "due_us",
           "breached_us", "met_us")  # fmt: skip


@attrs.frozen(kw_only=True, eq=False)
class SlaBatch:
    """The clocks of many tickets: the latest cycle of each metric, as arrays.

    Every array has one row per ticket (in the order of the columns) and,
    but ``priority``/``group``, one column per metric (in the policy's
    order, :attr:`metrics`). ``stage`` holds codes into :data:`STAGES`
    (the clock's stage, as :attr:`MetricClock.stage
    <itsm_core.sla.MetricClock.stage>`); ``cycles`` counts the cycles;
    ``met``, ``breached`` and ``cancelled`` count the cycles that ended so
    (a running cycle past its target counts as breached); the ``*_us``
    columns are the latest cycle's fields, :data:`MISSING_US` where the
    cycle has ``None`` or there is no cycle. ``priority`` and ``group`` are
    the ticket's as of ``now`` (``None``: not set, or not opened yet).
    ``scalar`` marks the tickets the scalar fold answered.
    """

    ticket_ids: tuple[str, ...]
    policy: str
    metrics: tuple[str, ...]
    now_us: int
    stage: Ints
    cycles: Ints
    met: Ints
    breached: Ints
    cancelled: Ints
    started_us: Ints
    ended_us: Ints
    target_us: Ints
    elapsed_us: Ints
    paused_us: Ints
    due_us: Ints
    breached_us: Ints
    met_us: Ints
    priority: tuple[str | None, ...]
    group: tuple[str | None, ...]
    scalar: Bools

    def __len__(self) -> int:
        return len(self.ticket_ids)

    def stages(self, metric: str) -> tuple[Stage, ...]:
        """The stage of ``metric``'s clock for every ticket."""
        column = self.stage[:, self._index(metric)]
        return tuple(STAGES[int(code)] for code in column)

    def _index(self, metric: str) -> int:
        if metric not in self.metrics:
            raise InvalidValueError("metric", metric, f"one of {', '.join(self.metrics)}")
        return self.metrics.index(metric)


class _Calendar:
    """A calendar's open time over a range as sorted arrays: cumulative open time by search."""

    def __init__(self, np: Any, calendar: Any, low: int, high: int) -> None:
        spans = calendar.open_intervals_us(low, high)
        self.np = np
        self.starts = np.array([a for a, _ in spans], dtype=np.int64)
        lengths = np.array([b - a for a, b in spans], dtype=np.int64)
        self.lengths = lengths
        self.before = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        self.through = self.before + lengths
        self.high = high

    def cum(self, t: Ints) -> Ints:
        np = self.np
        if not len(self.starts):
            return np.zeros_like(t)  # type: ignore[no-any-return]
        k = np.searchsorted(self.starts, t, side="right") - 1
        kk = np.maximum(k, 0)
        value = self.before[kk] + np.minimum(np.maximum(t - self.starts[kk], 0), self.lengths[kk])
        return np.where(k >= 0, value, 0)  # type: ignore[no-any-return]

    def elapsed(self, a: Ints, b: Ints) -> Ints:
        return self.cum(b) - self.cum(a)

    def add(self, a: Ints, d: Ints) -> tuple[Ints, Bools]:
        """``a`` plus ``d`` (> 0) of open time, and where the range was too short."""
        np = self.np
        if not len(self.starts):
            return np.zeros_like(a), np.ones(a.shape, dtype=np.bool_)
        v = self.cum(a) + d
        k = np.searchsorted(self.through, v, side="left")
        short = k >= len(self.starts)
        kk = np.minimum(k, len(self.starts) - 1)
        return self.starts[kk] + (v - self.before[kk]), short


_START, _STOP, _PAUSE, _RESUME, _CANCEL, _RESET, _PRIORITY = 1, 2, 4, 8, 16, 32, 64
_NOT_RESUME = 127 & ~_RESUME


def _bits(np: Any, table: dict[str, tuple[bool, ...]]) -> Ints:
    """One metric's verdicts per fact as bit sets (one gather per event position)."""
    bits = np.zeros(len(table["start"]), dtype=np.int64)
    for key, bit in (("start", _START), ("stop", _STOP), ("pause", _PAUSE), ("resume", _RESUME),
                     ("cancel", _CANCEL), ("reset", _RESET), ("priority", _PRIORITY)):  # fmt: skip
        bits |= np.array(table[key], dtype=np.bool_) * bit
    return bits  # type: ignore[no-any-return]


def _policy_is_plain(policy: SlaPolicy) -> bool:
    return all(
        not m.hide_due_in and m.start_at is StartAt.EVENT and m.start_offset is None
        for m in policy.metrics
    )


def evaluate_batch(columns: SlaColumns, policy: SlaPolicy, now: datetime) -> SlaBatch:
    """The clocks of ``policy`` over every ticket of ``columns`` as of ``now``, as arrays.

    The same answers as :func:`~itsm_core.sla.evaluate` on each ticket's
    history with the policy's own calendar (a property test holds it to
    that), read as :class:`SlaBatch` columns: the latest cycle of each
    metric and cycle counts. Needs numpy (the ``numpy`` extra);
    :class:`MissingExtraError` says so when it is missing.

    >>> from datetime import datetime, timedelta, timezone
    >>> from itsm_core.calendar import BusinessCalendar
    >>> from itsm_core.sla import Metric, SlaPolicy
    >>> from itsm_core.ticket import CommentAdded, TicketOpened
    >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> policy = SlaPolicy(name="24x7", calendar=BusinessCalendar.always_open("UTC"),
    ...     metrics=(Metric.first_response({"P2": timedelta(hours=1)}),))
    >>> def ticket(tid, reply_after):
    ...     opened = TicketOpened(ticket_id=tid, actor="ann", at=at, type="incident",
    ...         state="new", state_category="new", title="t", requester="ann",
    ...         effective_priority="P2")
    ...     return [opened, CommentAdded(ticket_id=tid, actor="dana", at=at + reply_after,
    ...         body="on it", public=True, by_requester=False)]
    >>> columns = SlaColumns.from_histories(
    ...     [ticket("I-1", timedelta(minutes=20)), ticket("I-2", timedelta(hours=2))])
    >>> batch = evaluate_batch(columns, policy, at + timedelta(days=1))
    >>> [s.value for s in batch.stages("first_response")], batch.elapsed_us[:, 0].tolist()
    (['met', 'breached'], [1200000000, 7200000000])
    """
    np = _numpy()
    now_us = to_us(now, "now")
    n = len(columns)
    m_count = len(policy.metrics)
    table = decisions_of(policy, columns.facts)  # [metric][field] -> tuple of bools per fact
    calendar = policy.calendar
    lengths = np.diff(columns.offsets)
    order = np.argsort(-lengths, kind="stable")
    lengths_sorted = lengths[order]
    starts = columns.offsets[:-1][order]
    scalar_ticket = ~columns.plain[order]
    if not _policy_is_plain(policy):
        scalar_ticket[:] = True
    low = int(columns.at_us.min()) if len(columns.at_us) else now_us
    high = max(now_us, int(columns.at_us.max()) if len(columns.at_us) else now_us)
    span = max(
        (
            int(d.value.total_seconds() * 1_000_000)
            for m in policy.metrics
            for _, d in m.targets
            if isinstance(d, BusinessDuration)
        ),
        default=0,
    )
    cal = _Calendar(np, calendar, low, high + 400 * 86_400_000_000 + 60 * span)

    def targets_of(metric_index: int) -> Ints:
        metric = policy.metrics[metric_index]
        out = []
        for priority in columns.priorities:
            duration = metric.target(priority)
            if duration is None:
                out.append(-1)
            elif isinstance(duration, BusinessDuration):
                out.append(td_to_us(duration.value))
            else:
                out.append(-2)
        return np.array(out, dtype=np.int64)  # type: ignore[no-any-return]

    z = np.zeros(n, dtype=np.int64)
    state = [
        {
            "st": np.zeros(n, dtype=np.int8),
            "cycle_start": z.copy(),
            "seg_start": z.copy(),
            "elapsed": z.copy(),
            "paused": z.copy(),
            "paused_since": z.copy(),
            "target": z.copy(),
            "has_b": np.zeros(n, dtype=np.bool_),
            "breached": z.copy(),
            "met": z.copy(),
            "breached_n": z.copy(),
            "cancelled": z.copy(),
            "cycles": z.copy(),
            "last_stage": z.copy(),
            "last": {f: np.full(n, MISSING_US, dtype=np.int64) for f in _FIELDS},
            "seg_a": np.zeros((n, _SEGMENTS), dtype=np.int64),
            "seg_b": np.zeros((n, _SEGMENTS), dtype=np.int64),
            "nseg": z.copy(),
        }
        for _ in range(m_count)
    ]
    prio_now = np.zeros(n, dtype=np.int64)
    group_now = np.zeros(n, dtype=np.int64)
    specs = [
        (
            _bits(np, table[i]),
            targets_of(i),
            policy.metrics[i].on_priority_change is OnPriorityChange.RECOMPUTE,
            policy.metrics[i].on_missing_target is MissingTarget.KEEP,
        )
        for i in range(m_count)
    ]
    met_code, breached_code, cancelled_code = (
        _CODE[Stage.MET],
        _CODE[Stage.BREACHED],
        _CODE[Stage.CANCELLED],
    )

    def close(s: dict[str, Any], ix: Ints, at: Ints) -> None:
        """Count the running segment of tickets ``ix`` up to ``at``; note a breach in it."""
        seg = s["seg_start"][ix]
        length = cal.elapsed(seg, np.maximum(at, seg))
        elapsed, target = s["elapsed"][ix], s["target"][ix]
        new = ~s["has_b"][ix] & (elapsed + length >= target)
        if new.any():
            sel = ix[new]
            when, short = cal.add(seg[new], (target - elapsed)[new])
            s["breached"][sel] = when
            s["has_b"][sel] = True
            scalar_ticket[sel[short]] = True
        s["elapsed"][ix] = elapsed + length
        slot = s["nseg"][ix]
        full = slot >= _SEGMENTS
        scalar_ticket[ix[full]] = True  # more pauses than the columns keep
        keep, slot = ix[~full], slot[~full]
        s["seg_a"][keep, slot] = seg[~full]
        s["seg_b"][keep, slot] = np.maximum(at, seg)[~full]
        s["nseg"][keep] = slot + 1

    def breach_over(s: dict[str, Any], ix: Ints, at: Ints, target: Ints) -> None:
        """Where the cycle's counted time first reached ``target`` (its segments, the open one
        up to ``at`` for running tickets), or no breach: a retarget's breach instant."""
        running = s["st"][ix] == 1
        a = np.concatenate((s["seg_a"][ix], s["seg_start"][ix][:, None]), axis=1)
        b = np.concatenate((s["seg_b"][ix], at[:, None]), axis=1)
        width = _SEGMENTS + 1
        valid = np.concatenate(
            (np.arange(_SEGMENTS)[None, :] < s["nseg"][ix][:, None], running[:, None]), axis=1
        )
        lengths = cal.elapsed(a.ravel(), np.maximum(a, b).ravel()).reshape(-1, width)
        lengths[~valid] = 0
        through = np.cumsum(lengths, axis=1)
        hit = through >= target[:, None]
        found = hit.any(axis=1)
        k = np.argmax(hit, axis=1)
        rows = np.arange(len(ix))
        before = through[rows, k] - lengths[rows, k]
        when, short = cal.add(a[rows, k], target - before)
        s["has_b"][ix] = found
        s["breached"][ix] = np.where(found, when, 0)
        scalar_ticket[ix[found & short]] = True

    max_len = int(lengths_sorted[0]) if n else 0
    for j in range(max_len):
        c = int(np.searchsorted(-lengths_sorted, -j, side="left"))  # tickets with > j events
        rows = starts[:c] + j
        at = columns.at_us[rows]
        fact = columns.fact[rows]
        prio = columns.priority[rows]
        ok = at <= now_us
        if not ok.any():
            continue
        okx = np.flatnonzero(ok)
        prio_now[okx] = prio[okx]
        group_now[okx] = columns.group[rows][okx]
        every = bool(ok.all())
        for (bits, targets, recompute, keep), s in zip(specs, state, strict=True):
            b = bits[fact]
            st = s["st"][:c]
            moving = (b & _NOT_RESUME) != 0
            moving |= ((b & _RESUME) != 0) & (st == 2)
            if not every:
                moving &= ok
            ix0 = np.flatnonzero(moving)
            if not len(ix0):
                continue
            bb, sg, at0 = b[ix0], st[ix0], at[ix0]
            running0 = sg == 1
            paused0 = sg == 2
            active0 = running0 | paused0
            cancel = active0 & ((bb & _CANCEL) != 0)
            stop = active0 & ((bb & _STOP) != 0) & ~cancel
            reset = active0 & ((bb & _RESET) != 0) & ~cancel & ~stop
            if reset.any():
                scalar_ticket[ix0[reset]] = True
            ending = cancel | stop
            if ending.any():
                sel = ending & running0
                if sel.any():
                    close(s, ix0[sel], at0[sel])
                sel = ending & paused0
                if sel.any():
                    ix = ix0[sel]
                    since = s["paused_since"][ix]
                    s["paused"][ix] += cal.elapsed(since, np.maximum(at0[sel], since))
                ix = ix0[ending]
                at_end = at0[ending]
                is_cancel = cancel[ending]
                is_breach = ~is_cancel & (s["elapsed"][ix] >= s["target"][ix])
                is_met = ~is_cancel & ~is_breach
                s["last_stage"][ix] = np.where(
                    is_cancel, cancelled_code, np.where(is_breach, breached_code, met_code)
                )
                s["cycles"][ix] += 1
                s["met"][ix] += is_met
                s["breached_n"][ix] += is_breach
                s["cancelled"][ix] += is_cancel
                last = s["last"]
                last["started_us"][ix] = s["cycle_start"][ix]
                last["ended_us"][ix] = at_end
                last["target_us"][ix] = s["target"][ix]
                last["elapsed_us"][ix] = s["elapsed"][ix]
                last["paused_us"][ix] = s["paused"][ix]
                last["breached_us"][ix] = np.where(s["has_b"][ix], s["breached"][ix], MISSING_US)
                last["met_us"][ix] = np.where(is_met, at_end, MISSING_US)
                st[ix] = 3
            if recompute:
                changed = active0 & ((bb & _PRIORITY) != 0) & ~ending & ~reset
                if changed.any():
                    ix = ix0[changed]
                    at_c = at0[changed]
                    new = targets[prio[ix]]
                    odd = (new == -2) | ((new == -1) & (not keep))
                    scalar_ticket[ix[odd]] = True
                    move = (new >= 0) & (new != s["target"][ix])
                    ix, new, at_c = ix[move], new[move], at_c[move]
                    if len(ix):
                        counted = s["elapsed"][ix].copy()
                        run = s["st"][ix] == 1
                        seg = s["seg_start"][ix]
                        counted += np.where(run, cal.elapsed(seg, np.maximum(at_c, seg)), 0)
                        hard = s["has_b"][ix] | (counted >= np.minimum(new, s["target"][ix]))
                        s["target"][ix] = new
                        if hard.any():
                            breach_over(s, ix[hard], at_c[hard], new[hard])
            begin = ~active0 & ~ending & ((bb & _START) != 0) & ((bb & _STOP) == 0)
            if begin.any():
                ix = ix0[begin]
                at_b = at0[begin]
                t = targets[prio[ix]]
                scalar_ticket[ix[t < 0]] = True  # no target yet (a deferred start) or not plain
                good = t >= 0
                ix, t, at_b = ix[good], t[good], at_b[good]
                st[ix] = 1
                s["cycle_start"][ix] = at_b
                s["seg_start"][ix] = at_b
                s["elapsed"][ix] = 0
                s["paused"][ix] = 0
                s["target"][ix] = t
                s["has_b"][ix] = False
                s["nseg"][ix] = 0
            now_st = st[ix0]
            resume = paused0 & ~ending & (now_st == 2) & ((bb & _RESUME) != 0)
            pause = (now_st == 1) & ((bb & _PAUSE) != 0) & ~reset
            if pause.any():
                ix = ix0[pause]
                close(s, ix, at0[pause])
                st[ix] = 2
                s["paused_since"][ix] = np.maximum(at0[pause], s["cycle_start"][ix])
            if resume.any():
                ix = ix0[resume]
                at_r = at0[resume]
                since = s["paused_since"][ix]
                s["paused"][ix] += cal.elapsed(since, np.maximum(at_r, since))
                st[ix] = 1
                s["seg_start"][ix] = np.maximum(at_r, s["cycle_start"][ix])

    shape = (n, m_count)
    out = {f: np.full(shape, MISSING_US, dtype=np.int64) for f in _FIELDS}
    stage = np.zeros(shape, dtype=np.int64)
    cycles = np.zeros(shape, dtype=np.int64)
    met = np.zeros(shape, dtype=np.int64)
    breached = np.zeros(shape, dtype=np.int64)
    cancelled = np.zeros(shape, dtype=np.int64)
    now_arr = np.full(n, now_us, dtype=np.int64)
    for i, s in enumerate(state):
        st = s["st"]
        stage[:, i] = np.where(st == 3, s["last_stage"], _CODE[Stage.PENDING])
        for f in _FIELDS:
            out[f][:, i] = s["last"][f]
        cycles[:, i] = s["cycles"]
        met[:, i] = s["met"]
        breached[:, i] = s["breached_n"]
        cancelled[:, i] = s["cancelled"]
        ix = np.flatnonzero(st == 1)
        if len(ix):
            close(s, ix, now_arr[ix])
            has_b = s["has_b"][ix]
            live = ix[~has_b]
            if len(live):
                seg = s["seg_start"][live]
                # the due instant: where the count started by the open segment reaches the target
                counted_before = s["elapsed"][live] - cal.elapsed(
                    seg, np.maximum(now_arr[live], seg)
                )
                when, short = cal.add(seg, s["target"][live] - counted_before)
                scalar_ticket[live[short]] = True
                out["due_us"][live, i] = when
            out["ended_us"][ix, i] = MISSING_US
        jx = np.flatnonzero(st == 2)
        if len(jx):
            since = s["paused_since"][jx]
            s["paused"][jx] += cal.elapsed(since, np.maximum(now_arr[jx], since))
        kx = np.flatnonzero((st == 1) | (st == 2))
        if len(kx):
            has_b = s["has_b"][kx]
            running = st[kx] == 1
            stage[kx, i] = np.where(
                has_b,
                _CODE[Stage.BREACHED],
                np.where(running, _CODE[Stage.RUNNING], _CODE[Stage.PAUSED]),
            )
            cycles[kx, i] += 1
            breached[kx, i] += has_b
            out["started_us"][kx, i] = s["cycle_start"][kx]
            out["ended_us"][kx, i] = MISSING_US
            out["target_us"][kx, i] = s["target"][kx]
            out["elapsed_us"][kx, i] = s["elapsed"][kx]
            out["paused_us"][kx, i] = s["paused"][kx]
            out["breached_us"][kx, i] = np.where(has_b, s["breached"][kx], MISSING_US)
            out["met_us"][kx, i] = MISSING_US
            out["due_us"][kx[~running], i] = MISSING_US
            out["due_us"][kx[has_b], i] = MISSING_US

    # back to the columns' ticket order
    back = np.empty(n, dtype=np.int64)
    back[order] = np.arange(n)
    stage, cycles, met, breached, cancelled = (
        a[back] for a in (stage, cycles, met, breached, cancelled)
    )
    out = {f: a[back] for f, a in out.items()}
    prio_now, group_now = prio_now[back], group_now[back]
    scalar_rows = scalar_ticket[back]
    for t in np.flatnonzero(scalar_rows).tolist():
        status = evaluate(columns.histories[t], policy, now)
        _write(status, t, stage, cycles, met, breached, cancelled, out)
    return SlaBatch(
        ticket_ids=columns.ticket_ids,
        policy=policy.name,
        metrics=tuple(m.name for m in policy.metrics),
        now_us=now_us,
        stage=stage,
        cycles=cycles,
        met=met,
        breached=breached,
        cancelled=cancelled,
        priority=tuple(np.array(columns.priorities, dtype=object)[prio_now].tolist()),
        group=tuple(np.array(columns.groups, dtype=object)[group_now].tolist()),
        scalar=scalar_rows,
        **out,
    )


def _write(
    status: SlaStatus,
    t: int,
    stage: Ints,
    cycles: Ints,
    met: Ints,
    breached: Ints,
    cancelled: Ints,
    out: dict[str, Ints],
) -> None:
    """Row ``t`` of the batch from a scalar status."""
    for i, clock in enumerate(status.clocks):
        stage[t, i] = _CODE[clock.stage]
        cycles[t, i] = len(clock.cycles)
        met[t, i] = sum(c.stage is Stage.MET for c in clock.cycles)
        breached[t, i] = sum(c.stage is Stage.BREACHED for c in clock.cycles)
        cancelled[t, i] = sum(c.stage is Stage.CANCELLED for c in clock.cycles)
        cycle = clock.current
        for f in _FIELDS:
            value = None if cycle is None else getattr(cycle, f)
            out[f][t, i] = MISSING_US if value is None else value
