"""A policy's SLA fold compiled to one Python function: conditions become direct checks.

For a policy whose metrics use the plain rules (no reset, no hidden due
instants, counting from the start event, targets in business time), the
fold is generated once per policy as straight-line code, the way attrs
generates ``__init__``: one branch per event class, and in it, for each
metric, the start/stop/pause/resume/cancel conditions as ``in``/``is``
tests on the event's fields, with every check that cannot match for that
event class removed when the code is written. The generated function keeps
each metric's clock in local variables and builds the same compact rows and
stage changes as :func:`~itsm_core.sla.evaluate_reference`.

What the generated code does not model — a start waiting for a priority
with a target, a priority change to one without a target on a metric that
stops or refuses, a due instant set by hand, an event class of its own —
raises :class:`Fallback`, and :func:`~itsm_core.sla.evaluate` answers that
ticket with the general fold. A Hypothesis property holds both to the
reference. The source is generated from validated data only (condition
values become constants of the function's namespace, never source text).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import itsm_core.ticket as ticket_module
from itsm_core.errors import ItsmError, NeverOpenError
from itsm_core.sla._clock import Stage, event_kind, retarget_us
from itsm_core.sla._durations import BusinessDuration
from itsm_core.sla._manual import DueDateSet
from itsm_core.sla._policy import (
    Condition,
    Metric,
    MissingTarget,
    OnPriorityChange,
    SlaPolicy,
    StartAt,
)
from itsm_core.ticket import (
    Assigned,
    CommentAdded,
    Event,
    GroupAssigned,
    PriorityChanged,
    Reassigned,
    StateChanged,
    TicketOpened,
    Unassigned,
)

__all__ = [
    "COMPILE_AFTER",
    "SEEN_GROUP",
    "SEEN_OTHER",
    "SEEN_PRIORITY",
    "Fallback",
    "breach_over",
    "clocks_fold",
    "compiled_fold",
]


class Fallback(ItsmError, RuntimeError):
    """The compiled fold met what it does not model: the general fold answers instead.

    Raised and caught inside the SLA room; were it ever to escape, it would still be an
    :class:`~itsm_core.errors.ItsmError`.
    """


def _plain(metric: Metric) -> bool:
    return (
        not metric.reset
        and not metric.hide_due_in
        and metric.start_at is StartAt.EVENT
        and metric.start_offset is None
        and all(isinstance(d, BusinessDuration) for _, d in metric.targets)
        and (metric.default_target is None or isinstance(metric.default_target, BusinessDuration))
    )


def _kind_of(cls: type[Event]) -> str:
    return event_kind(object.__new__(cls))


#: The event classes of the ticket module, but the due instant set by hand.
_CLASSES: tuple[type[Event], ...] = tuple(
    value
    for name, value in sorted(vars(ticket_module).items())
    if isinstance(value, type)
    and issubclass(value, Event)
    and value is not Event
    and name != "DueDateSet"
)
# The order of the branches: the frequent classes first.
_FIRST = (CommentAdded, StateChanged, PriorityChanged, Assigned, TicketOpened)


_READ = (CommentAdded, StateChanged, PriorityChanged, Assigned, Reassigned, GroupAssigned,
         Unassigned, TicketOpened, DueDateSet)  # fmt: skip


def _neutral_kind(cls: type[Event], named: set[str], kinds: dict[type, str]) -> str:
    """The kind of an event class the generated branches do not list, if it is neutral.

    An event the fold reads fields of (a subclass of one of those classes, a due instant
    set by hand) or whose kind a condition names needs the general fold.
    """
    if issubclass(cls, _READ):
        raise Fallback
    kind = _kind_of(cls)
    if kind in named:
        raise Fallback
    kinds[cls] = kind  # remembered by the policy's fold (one entry per class)
    return kind


class _Writer:
    def __init__(self, *, timeline: bool) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        # whether the fold records the stage changes (otherwise the clocks alone, the
        # breach after a priority change found at the cycle's end)
        self.timeline = timeline
        # the metrics a condition may pause (the others run one segment per cycle)
        self.pausable: frozenset[int] = frozenset()

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name


def _expression(
    w: _Writer,
    conditions: tuple[Condition, ...],
    kind: str | None,
    *,
    trigger: bool,
    flags: bool,
    moved: bool,
) -> str:
    """``conditions`` as a Python expression over the block's locals ("True"/"False" folded).

    ``kind`` is the event's kind (``None``: a kind no condition names); ``trigger`` and
    ``flags`` say whether the block has a trigger and comment flags (``None`` otherwise);
    ``moved`` whether its event may change the category (otherwise the category before it
    is the category).
    """
    alternatives: list[str] = []
    for c in conditions:
        if c.event and (kind is None or kind not in c.event):
            continue
        parts: list[str] = []
        possible = True
        for allowed, var in (
            (c.state, "state"),
            (c.category, "category"),
            (c.from_category, "from_category" if moved else "category"),
            (c.hold_reason, "hold"),
            (c.trigger, "trigger"),
        ):
            if not allowed:
                continue
            if var == "trigger" and not trigger:
                possible = False  # no trigger: ``None in allowed`` is false
                break
            parts.append(f"{var} in {w.constant(frozenset(allowed))}")
        for value, var in ((c.public, "public"), (c.by_requester, "by_requester")):
            if value is None or not possible:
                continue
            if not flags:
                possible = False
                break
            parts.append(f"{var} is {value!r}")
        if not possible:
            continue
        if not parts:
            return "True"
        alternatives.append("(" + " and ".join(parts) + ")")
    return " or ".join(alternatives) if alternatives else "False"


def _if(w: _Writer, depth: int, expr: str) -> int | None:
    """Open ``if expr:`` (the depth of its body), or ``None`` when it can never hold."""
    if expr == "False":
        return None
    if expr == "True":
        w.line(depth, "if True:")
    else:
        w.line(depth, f"if {expr}:")
    return depth + 1


class _Block:
    """What the code of one event-class block knows: the event's kind as an expression
    (a literal, or ``kind`` in the shared block) and the metrics' ranks by name."""

    __slots__ = ("kind", "ranks", "top")

    def __init__(self, kind: str, ranks: tuple[int, ...]) -> None:
        self.kind = kind
        self.ranks = ranks
        self.top = max(ranks)


def _note(w: _Writer, d: int, b: _Block, i: int, instant: str, rest: str) -> None:
    """Append the stage change ``(instant, NAME{i}, *rest)``, noting when it breaks the
    timeline's order (by instant, then metric name): the fold sorts only then.

    ``instant`` is ``at`` (never before an earlier change: every change so far is at or
    before the event) or a breach instant (anywhere at or before it).
    """
    if not w.timeline:
        return
    rank = b.ranks[i]
    if instant != "at":
        w.line(d, f"if {instant} < la or ({instant} == la and {rank} < lr):")
        w.line(d + 1, "dis = True")
    elif rank < b.top:
        w.line(d, f"if at == la and {rank} < lr:")
        w.line(d + 1, "dis = True")
    w.line(d, f"la = {instant}; lr = {rank}")
    w.line(d, f"changes.append(({instant}, NAME{i}, {rest}))")


def _close_segment(w: _Writer, d: int, b: _Block, i: int) -> None:
    # plain metrics count from event instants, in order: no segment starts after ``at``
    w.line(d, f"_n = elapsed_us(ss{i}, at)")
    w.line(d, f"if br{i} is None and el{i} + _n >= tg{i}:")
    w.line(d + 1, f"br{i} = add_us(ss{i}, tg{i} - el{i})")
    _note(w, d + 1, b, i, f"br{i}", f"nb{i}, 'breached', 'deadline', None")
    if i in w.pausable:  # otherwise the cycle's one segment, from its start
        w.line(d, f"sg{i}.append((ss{i}, at))")
        if not w.timeline:
            w.line(d, f"cu{i}.append(el{i})")
    w.line(d, f"el{i} += _n")


def _end(w: _Writer, d: int, b: _Block, i: int, cancelled: bool) -> None:
    pausable = i in w.pausable
    if pausable:
        w.line(d, f"if st{i} == 1:")
        _close_segment(w, d + 1, b, i)
        w.line(d, "else:")
        w.line(d + 1, f"pa{i} += elapsed_us(ps{i}, at)")
    else:
        _close_segment(w, d, b, i)
    if not w.timeline:
        found = f"breach_over(sg{i}, cu{i}, el{i}, tg{i}, add_us)" if pausable else (
            f"add_us(cs{i}, tg{i})")  # fmt: skip
        w.line(d, f"if br{i} is STALE:")
        w.line(d + 1, f"br{i} = {found} if el{i} >= tg{i} else None")
    if cancelled:
        w.line(d, f"st{i} = -3")
    else:
        w.line(d, f"st{i} = -2 if el{i} >= tg{i} else -1")
    segments = f"tuple(sg{i})" if pausable else f"((cs{i}, at),)"
    w.line(
        d,
        f"cy{i}.append((nb{i}, STAGES[st{i}], False, cs{i}, at, tg{i}, el{i}, pa{i}, "
        f"None, br{i}, at if st{i} == -1 else None, {segments}, False))",
    )
    _note(w, d, b, i, "at", f"nb{i}, VALUES[st{i}], {b.kind}, index")
    w.line(d, f"nb{i} += 1")


def _pause(w: _Writer, d: int, b: _Block, i: int) -> None:
    _close_segment(w, d, b, i)
    w.line(d, f"st{i} = 2")
    w.line(d, f"ps{i} = at")
    _note(w, d, b, i, "at", f"nb{i}, 'paused', {b.kind}, index")


def _resume(w: _Writer, d: int, b: _Block, i: int) -> None:
    w.line(d, f"pa{i} += elapsed_us(ps{i}, at)")
    w.line(d, f"st{i} = 1")
    w.line(d, f"ss{i} = at")
    _note(w, d, b, i, "at", f"nb{i}, 'running', {b.kind}, index")


def _retarget(w: _Writer, d: int, b: _Block, i: int, metric: Metric) -> None:
    """A priority change moves an active cycle's target (a calendar call only when the
    wall-clock time since the segment began could have reached a target)."""
    w.line(d, f"_t = T{i}.get(priority, DEFAULT{i})")
    w.line(d, "if _t is None:")
    if metric.on_missing_target is MissingTarget.KEEP:
        w.line(d + 1, "pass")
    else:
        w.line(d + 1, "raise Fallback")
    w.line(d, f"elif _t != tg{i}:")
    r = d + 1
    if not w.timeline:  # the breach is found over the segments when the cycle ends
        w.line(r, f"tg{i} = _t")
        w.line(r, f"br{i} = STALE")
        return
    w.line(r, f"if br{i} is None:")
    w.line(r + 1, f"_c = el{i}")
    w.line(r + 1, f"if st{i} == 1 and at > ss{i}:")
    # business time never exceeds wall-clock time: below both targets by the wall clock,
    # it is below both by the calendar
    w.line(r + 2, f"_c += at - ss{i}")
    w.line(r + 2, f"if _c >= _t or _c >= tg{i}:")
    w.line(r + 3, f"_c = el{i} + elapsed_us(ss{i}, at)")
    w.line(r + 1, f"_easy = _c < _t and _c < tg{i}")
    w.line(r, "else:")
    w.line(r + 1, "_easy = False")
    w.line(r, "if not _easy:")
    segments = f"sg{i}" if i in w.pausable else "()"
    w.line(
        r + 1,
        f"br{i} = retarget({segments}, st{i} == 1, ss{i}, at, tg{i}, _t, br{i}, NAME{i}, "
        f"nb{i}, index, changes, elapsed_us, add_us)",
    )
    w.line(r + 1, "dis = True")
    w.line(r, f"tg{i} = _t")


def _metric_block(
    w: _Writer,
    depth: int,
    b: _Block,
    i: int,
    metric: Metric,
    kind: str | None,
    trigger: bool,
    flags: bool,
    moved: bool,
) -> None:
    def expr(conditions: tuple[Condition, ...]) -> str:
        return _expression(w, conditions, kind, trigger=trigger, flags=flags, moved=moved)

    start, stop, pause = expr(metric.start), expr(metric.stop), expr(metric.pause)
    cancel = expr(metric.cancel)
    resume = expr(metric.resume) if metric.resume else (
        "True" if pause == "False" else "False" if pause == "True" else f"not ({pause})"
    )  # fmt: skip
    if i not in w.pausable:  # never paused: nothing to resume
        resume = "False"
    priority = (
        kind == "priority_changed" and metric.on_priority_change is OnPriorityChange.RECOMPUTE
    )
    active_moves = cancel != "False" or stop != "False" or priority or pause != "False"
    paused_moves = cancel != "False" or stop != "False" or priority or resume != "False"
    idle_moves = start != "False" and stop != "True"
    if not (active_moves or paused_moves or idle_moves):
        return
    d = depth
    w.line(d, f"if st{i} > 0:")
    body = d + 1
    if not (active_moves or paused_moves):
        w.line(body, "pass")
    else:
        chain = "if"
        if cancel != "False":
            w.line(body, f"{chain} {cancel}:")
            _end(w, body + 1, b, i, cancelled=True)
            chain = "elif"
        if stop != "False":
            w.line(body, f"{chain} {stop}:")
            _end(w, body + 1, b, i, cancelled=False)
            chain = "elif"
        inner = body
        if chain == "elif":
            w.line(body, "else:")
            inner = body + 1
        wrote = False
        if priority:
            wrote = True
            _retarget(w, inner, b, i, metric)
        if pause != "False":
            wrote = True
            w.line(inner, f"if st{i} == 1:")
            p = _if(w, inner + 1, pause)
            if p is not None:
                _pause(w, p, b, i)
            else:  # pragma: no cover - excluded above
                w.line(inner + 1, "pass")
            if resume != "False":
                w.line(inner, "else:")
                q = _if(w, inner + 1, resume)
                if q is not None:
                    _resume(w, q, b, i)
        elif resume != "False":
            wrote = True
            w.line(inner, f"if st{i} == 2:")
            q = _if(w, inner + 1, resume)
            if q is not None:
                _resume(w, q, b, i)
        if not wrote:
            w.line(inner, "pass")
    if idle_moves:
        w.line(d, "else:")
        cond = start if stop == "False" else f"({start}) and not ({stop})"
        s = _if(w, d + 1, cond)
        if s is not None:
            w.line(s, f"_t = T{i}.get(priority, DEFAULT{i})")
            w.line(s, "if _t is None:")
            w.line(s + 1, "raise Fallback")
            w.line(s, f"st{i} = 1")
            w.line(s, f"cs{i} = ss{i} = at")
            w.line(s, f"el{i} = pa{i} = 0")
            w.line(s, f"tg{i} = _t")
            w.line(s, f"br{i} = None")
            if i in w.pausable:
                w.line(s, f"sg{i} = []")
                if not w.timeline:
                    w.line(s, f"cu{i} = []")
            _note(w, s, b, i, "at", f"nb{i}, 'running', {b.kind}, index")
            p = _if(w, s, pause)
            if p is not None:
                _pause(w, p, b, i)


def _finish(w: _Writer, d: int, b: _Block, i: int) -> None:
    """Metric ``i``'s clock row as of ``now_us`` (never before an event the fold read)."""
    pausable = i in w.pausable
    w.line(d, f"if st{i} > 0:")
    f = d + 1
    w.line(f, f"_el, _pa, _due, _br = el{i}, pa{i}, None, br{i}")
    r = f
    if pausable:
        w.line(f, f"if st{i} == 1:")
        r = f + 1
    w.line(r, f"_n = elapsed_us(ss{i}, now_us)")
    if not w.timeline:
        found = (
            f"breach_over((*sg{i}, (ss{i}, now_us)), (*cu{i}, _el), _el + _n, tg{i}, add_us)"
            if pausable
            else f"add_us(ss{i}, tg{i})"
        )
        w.line(r, "if _br is STALE:")
        w.line(r + 1, f"_br = {found} if _el + _n >= tg{i} else None")
        w.line(r, f"elif _br is None and _el + _n >= tg{i}:")
    else:
        w.line(r, f"if _br is None and _el + _n >= tg{i}:")
    w.line(r + 1, f"_br = add_us(ss{i}, tg{i} - _el)")
    _note(w, r + 1, b, i, "_br", f"nb{i}, 'breached', 'deadline', None")
    w.line(r, "if _br is None:")
    w.line(r + 1, "try:")
    w.line(r + 2, f"_due = add_us(ss{i}, tg{i} - _el)")
    w.line(r + 1, "except NeverOpenError:")
    w.line(r + 2, "_due = None")
    w.line(r, "_el += _n")
    w.line(r, f"_sg = (*sg{i}, (ss{i}, now_us))" if pausable else f"_sg = ((ss{i}, now_us),)")
    if pausable:
        w.line(f, "else:")
        w.line(f + 1, f"_pa += elapsed_us(ps{i}, now_us)")
        w.line(f + 1, f"_sg = tuple(sg{i})")
        if not w.timeline:
            w.line(f + 1, "if _br is STALE:")
            w.line(f + 2, f"_br = breach_over(sg{i}, cu{i}, _el, tg{i}, add_us) "
                          f"if _el >= tg{i} else None")  # fmt: skip
    w.line(f, f"_stage = BREACHED if _br is not None else STAGES[st{i}]")
    w.line(
        f,
        f"_r{i} = (NAME{i}, _stage, (*cy{i}, (nb{i}, _stage, st{i} == 1, cs{i}, "
        f"None, tg{i}, _el, _pa, _due, _br, None, _sg, False)))",
    )
    w.line(d, "else:")
    w.line(d + 1, f"_r{i} = (NAME{i}, STAGES[st{i}], tuple(cy{i}))")


_Compiled = Callable[..., Any]


def _compile(policy: SlaPolicy, *, timeline: bool) -> _Compiled | None:
    metrics = policy.metrics
    if not all(_plain(m) for m in metrics):
        return None
    w = _Writer(timeline=timeline)
    w.pausable = frozenset(i for i, m in enumerate(metrics) if m.pause)
    conditions = [c for m in metrics for c in (*m.start, *m.stop, *m.pause, *m.resume,
                                                 *m.cancel)]  # fmt: skip
    named = {k for c in conditions for k in c.event}
    moved = any(c.from_category for c in conditions)  # a condition reads the category before
    reads = {
        "state": any(c.state for c in conditions),
        "hold": any(c.hold_reason for c in conditions),
        "trigger": any(c.trigger for c in conditions),
    }
    order = sorted(range(len(metrics)), key=lambda i: metrics[i].name)
    ranks = tuple(order.index(i) for i in range(len(metrics)))
    w.line(0, "def fold(events, instants, now_us, elapsed_us, add_us):")
    for i in range(len(metrics)):
        w.line(1, f"st{i} = 0; cs{i} = ss{i} = el{i} = pa{i} = ps{i} = tg{i} = 0")
        w.line(1, f"br{i} = None; cy{i} = []; nb{i} = 1")
        if i in w.pausable:
            w.line(1, f"sg{i} = []" if timeline else f"sg{i} = []; cu{i} = []")
    # la, lr: instant and metric rank of the latest stage change; dis: out of order
    w.line(1, "changes = []; la = FIRST; lr = 0; dis = False")
    if not timeline:
        w.line(1, "seen = 0")
    w.line(1, "state = category = ''")
    w.line(1, "hold = None")
    w.line(1, "priority = None")
    w.line(1, "group = None")
    if timeline:
        w.line(1, "index = -1")
    w.line(1, "if instants and instants[-1] > now_us:  # events after now are ignored")
    w.line(2, "events = events[:bisect_right(instants, now_us)]")
    w.line(1, "for event, at in zip(events, instants):")
    if timeline:
        w.line(2, "index += 1")
    w.line(2, "cls = type(event)")
    ordered = [*_FIRST, *(c for c in _CLASSES if c not in _FIRST)]
    chain = "if"
    shared: list[type[Event]] = []
    for cls in ordered:
        kind = _kind_of(cls)
        if cls not in _READ and kind not in named:
            shared.append(cls)
            continue
        w.line(2, f"{chain} cls is {w.constant(cls)}:")
        chain = "elif"
        _event_block(w, 3, cls, kind, metrics, _Block(repr(kind), ranks), moved, reads)
    # Every other class, of the ticket module or not, that no condition names and whose
    # fields the fold does not read: one shared block (its kind only goes to the timeline).
    kinds = {c: _kind_of(c) for c in shared}
    w.line(2, "else:")
    known = w.constant(kinds)
    w.line(3, f"kind = {known}.get(cls) or neutral_kind(cls, {w.constant(named)}, {known})")
    if not timeline:
        w.line(3, f"seen |= {SEEN_OTHER}")
    _blocks(w, 3, None, metrics, _Block("kind", ranks), trigger=False, flags=False, moved=False)
    for i in range(len(metrics)):
        _finish(w, 1, _Block("None", ranks), i)
    if timeline:
        w.line(1, "if dis:")
        w.line(2, "changes.sort(key=BY_INSTANT_AND_METRIC)")
    rows = "".join(f"_r{i}, " for i in range(len(metrics)))
    if timeline:
        w.line(1, f"return ({rows}), changes, priority, group")
    else:
        w.line(1, f"return ({rows}), changes, priority, group, seen")
    namespace: dict[str, Any] = dict(w.constants)
    namespace.update(
        Fallback=Fallback,
        NeverOpenError=NeverOpenError,
        STAGES=_STAGES,
        VALUES=tuple(s.value for s in _STAGES),
        BREACHED=Stage.BREACHED,
        FIRST=-(2**63),
        BY_INSTANT_AND_METRIC=itemgetter(0, 1),
        bisect_right=bisect_right,
        retarget=retarget_us,
        neutral_kind=_neutral_kind,
        STALE=_STALE,
        breach_over=breach_over,
    )
    for i, m in enumerate(metrics):
        namespace[f"NAME{i}"] = m.name
        namespace[f"T{i}"] = {name: m.target_us(name) for name, _ in m.targets}
        namespace[f"DEFAULT{i}"] = m.target_us(None) if m.default_target is not None else None
    source = "\n".join(w.lines) + "\n"
    what = "timeline" if timeline else "clocks"
    exec(compile(source, f"<sla {what} fold of {policy.name!r}>", "exec"), namespace)
    fold: _Compiled = namespace["fold"]
    return fold


#: What the clocks fold says it met besides comments and state changes (the events that
#: may change which policy applies): a priority change, an assignment, anything else.
SEEN_PRIORITY, SEEN_GROUP, SEEN_OTHER = 1, 2, 4

#: A breach instant to find again when the cycle ends (its target changed).
_STALE = object()


def breach_over(
    segments: Sequence[tuple[int, int]],
    counted: Sequence[int],
    total: int,
    target: int,
    add_us: Callable[[int, int], int],
) -> int | None:
    """When the time counted over ``segments`` first reached ``target`` (``None``: never).

    ``counted[k]`` is the time counted before segment ``k``, ``total`` over all of them:
    :func:`~itsm_core.sla._clock.breach_instant_us` without measuring the segments again.
    """
    last = len(segments) - 1
    for k, (start, _) in enumerate(segments):
        if (counted[k + 1] if k < last else total) >= target:
            return add_us(start, target - counted[k])
    return None


# Stage codes of the generated code, indexes of this tuple: 0 pending, 1 running, 2 paused
# (active: above 0), -1 met, -2 breached, -3 cancelled.
_STAGES = (Stage.PENDING, Stage.RUNNING, Stage.PAUSED, Stage.CANCELLED, Stage.BREACHED,
           Stage.MET)  # fmt: skip


def _event_block(
    w: _Writer,
    d: int,
    cls: type[Event],
    kind: str,
    metrics: tuple[Metric, ...],
    b: _Block,
    moved: bool,
    reads: dict[str, bool],
) -> None:
    """The branch of one event class: read what the conditions look at, then each metric.

    ``moved``: some condition reads the category before the event; ``reads``: whether
    some condition reads the state, the hold reason, the trigger.
    """
    trigger = flags = False
    changes_category = cls is StateChanged or cls is TicketOpened
    if not w.timeline and cls not in (CommentAdded, StateChanged, TicketOpened):
        bit = (SEEN_PRIORITY if cls is PriorityChanged else
               SEEN_GROUP if cls in (Assigned, Reassigned, GroupAssigned, Unassigned) else
               SEEN_OTHER)  # fmt: skip
        w.line(d, f"seen |= {bit}")
    if changes_category and moved:
        w.line(d, "from_category = category")
    if cls is CommentAdded:
        w.line(d, "public = event.public")
        w.line(d, "by_requester = event.by_requester")
        flags = True
    elif cls is StateChanged:
        if reads["trigger"]:
            w.line(d, "trigger = event.trigger")
        if reads["state"]:
            w.line(d, "state = event.to_state")
        w.line(d, "category = event.to_category")
        if reads["hold"]:
            w.line(d, "hold = event.hold_reason if category == 'on_hold' else None")
        trigger = True
    elif cls is PriorityChanged:
        w.line(d, "priority = event.effective")
    elif cls in (Assigned, Reassigned, GroupAssigned):
        w.line(d, "group = event.group")
    elif cls is Unassigned:
        w.line(d, "group = None")
    elif cls is TicketOpened:
        w.line(d, "priority = event.effective_priority")
        if reads["state"]:
            w.line(d, "state = event.state")
        w.line(d, "category = event.state_category")
        if reads["hold"]:
            w.line(d, "hold = None")
    _blocks(w, d, kind, metrics, b, trigger=trigger, flags=flags, moved=changes_category)


def _blocks(
    w: _Writer,
    d: int,
    kind: str | None,
    metrics: tuple[Metric, ...],
    b: _Block,
    *,
    trigger: bool,
    flags: bool,
    moved: bool,
) -> None:
    before = len(w.lines)
    for i, metric in enumerate(metrics):
        _metric_block(w, d, b, i, metric, kind, trigger, flags, moved)
    if len(w.lines) == before:
        w.line(d, "pass")


class _Folds:
    """A policy's generated folds: the clocks alone, and (made on first need) the clocks
    with their stage changes. ``None`` when the policy needs the general fold."""

    __slots__ = ("clocks", "policy", "timeline")

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        self.clocks = _compile(policy, timeline=False)
        self.timeline: _Compiled | None = None


# Generated folds per policy, by identity.
_FOLDS: dict[int, _Folds] = {}
# Evaluations of a policy seen so far by the general fold, by identity.
_USES: dict[int, tuple[SlaPolicy, int]] = {}

#: Evaluations of one policy by the general fold before its own fold is generated.
#: Generating and compiling it costs about 8 ms, the price of some hundred evaluations
#: of a short history, which a policy asked about a few times (a one-off question, a
#: policy drawn by a property test) should not pay; a desk's policies reach it at once.
COMPILE_AFTER = 32


def _folds(policy: SlaPolicy, eager: bool) -> _Folds | None:
    found = _FOLDS.get(id(policy))
    if found is not None and found.policy is policy:
        return found
    if not eager:
        seen = _USES.get(id(policy))
        uses = seen[1] + 1 if seen is not None and seen[0] is policy else 1
        if uses < COMPILE_AFTER:
            if len(_USES) >= 1024:
                _USES.clear()
            _USES[id(policy)] = (policy, uses)
            return None
        _USES.pop(id(policy), None)
    if len(_FOLDS) >= 256:
        _FOLDS.clear()
    found = _FOLDS[id(policy)] = _Folds(policy)
    return found


def clocks_fold(policy: SlaPolicy, *, eager: bool = False) -> _Compiled | None:
    """``policy``'s generated fold of the clocks alone (``None``: the general fold).

    What :func:`~itsm_core.sla.evaluate` runs: :func:`compiled_fold` without the stage
    changes (it returns an empty list for them); the breach of a cycle whose target a
    priority change moved is found over its segments when the cycle ends, not at the
    change. A fifth value says which events that may change the applicable policy it
    met (``SEEN_PRIORITY | SEEN_GROUP | SEEN_OTHER`` bits: policy selection for many
    tickets reads the opening alone when none of those it follows came). Generated when
    :func:`compiled_fold` would be, and counted alike.
    """
    found = _folds(policy, eager)
    return None if found is None else found.clocks


def compiled_fold(policy: SlaPolicy, *, eager: bool = False) -> _Compiled | None:
    """``policy``'s compiled fold (``None``: use the general fold, for now or for good).

    The fold is generated on the policy's ``COMPILE_AFTER``-th evaluation (at once with
    ``eager=True``) and kept; a policy whose rules need the general fold gets ``None``
    forever. The function takes ``(events, instants_us, now_us, elapsed_us, add_us)``
    of one history (the state after each event is read from the state changes, as
    :class:`~itsm_core.lifecycle.History` reads it) and returns ``(clock_rows,
    stage_changes, priority, group)``, the changes in time order (then by metric name,
    as :func:`~itsm_core.sla.evaluate_reference` orders them); it raises
    :class:`Fallback` for what it does not model. :func:`clocks_fold` is the same
    fold without the stage changes.
    """
    found = _folds(policy, eager)
    if found is None or found.clocks is None:
        return None
    fold = found.timeline
    if fold is None:
        fold = found.timeline = _compile(policy, timeline=True)
    return fold
