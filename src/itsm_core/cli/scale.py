"""``itsm-core report --engine dask``: the same report, evaluated partition by partition on Dask.

The recipe (also in ``docs/guides/scale-out.md``): never split a ticket's
events; evaluate every ticket of a partition where the partition lives; merge
the partitions' mergeable accumulators (:class:`~itsm_core.metrics.Compliance`
adds up). Input comes either as *shards* — several files, each holding whole
tickets, which Dask reads one partition a file — or as one file, which is
hash-partitioned on the ticket id first (a shuffle: correct, but slower).

Only this module imports Dask, and only when the engine is asked for: the
``dask`` extra stays optional.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import attrs

from itsm_core.cli._common import InputError, decode_lines, in_time_order, read_events
from itsm_core.desk import Desk
from itsm_core.errors import ItsmError
from itsm_core.lifecycle import History
from itsm_core.metrics import Compliance
from itsm_core.serialization import dump_desk, load_desk
from itsm_core.ticket import Event

if TYPE_CHECKING:
    from dask.distributed import LocalCluster

__all__ = ["PartitionResult", "evaluate_partition", "evaluate_shard", "local_cluster", "run_dask"]


@attrs.frozen(kw_only=True)
class PartitionResult:
    """What one partition contributes: compliance, tickets seen, lines skipped; ``+`` merges.

    >>> a = PartitionResult(compliance=Compliance(), tickets=2, bad_lines=1)
    >>> (a + PartitionResult(compliance=Compliance(), tickets=3)).tickets
    5
    """

    compliance: Compliance
    tickets: int = 0
    bad_lines: int = 0

    def __add__(self, other: PartitionResult) -> PartitionResult:
        return PartitionResult(
            compliance=self.compliance + other.compliance,
            tickets=self.tickets + other.tickets,
            bad_lines=self.bad_lines + other.bad_lines,
        )


@lru_cache(maxsize=4)
def _desk(document: str) -> Desk:
    # A worker loads the desk once per document, not once per partition.
    loaded: Desk = load_desk(json.loads(document))
    return loaded


def _by_ticket(events: Iterable[Event]) -> dict[str, list[Event]]:
    tickets: dict[str, list[Event]] = {}
    for event in events:
        tickets.setdefault(event.ticket_id, []).append(event)
    return tickets


def evaluate_partition(
    lines: Iterable[str],
    desk_document: str,
    now: datetime,
    *,
    where: str = "partition",
    skip_bad: bool = False,
) -> PartitionResult:
    """Evaluate every ticket whose events are among ``lines`` (JSON Lines, whole tickets).

    ``desk_document`` is the desk document as JSON text (what a worker can
    receive cheaply); each ticket's clocks come from the desk's one policy rule,
    exactly as in one process. A ticket's events may come in any order inside
    the partition, but all of them must be there.
    """
    counts: dict[str, int] = {}
    events = decode_lines(lines, where, skip_bad=skip_bad, counts=counts)
    return _evaluate_events(events, counts, desk_document, now, where)


def evaluate_shard(
    path: str, desk_document: str, now: datetime, *, skip_bad: bool = False
) -> PartitionResult:
    """:func:`evaluate_partition` of a shard file (whole tickets), read where it runs.

    The file is read by the one-process reader itself (``read_events``:
    streamed, UTF-8 with an optional byte-order mark, the same checks and
    messages), so a shard gives what the same lines give to ``itsm-core report``.
    """
    counts: dict[str, int] = {}
    events = read_events(path, fmt="jsonl", columns={}, skip_bad=skip_bad, counts=counts)
    return _evaluate_events(events, counts, desk_document, now, path)


def _evaluate_events(
    events: Iterable[Event], counts: dict[str, int], desk_document: str, now: datetime, where: str
) -> PartitionResult:
    desk = _desk(desk_document)
    tickets = _by_ticket(events)
    statuses = []
    for ticket_id, found in tickets.items():
        try:
            status = desk.clocks(History(in_time_order(found)), now)
        except ItsmError as exc:
            raise InputError(where, f"ticket {ticket_id!r}: {exc}") from None
        if status is not None:
            statuses.append(status)
    return PartitionResult(
        compliance=Compliance.of(statuses), tickets=len(tickets), bad_lines=counts.get("bad", 0)
    )


def _ticket_of(item: tuple[str, str]) -> str:
    try:
        ticket = json.loads(item[0]).get("ticket_id")
    except (ValueError, AttributeError):
        return ""
    return ticket if isinstance(ticket, str) else ""


def _evaluate_items(
    items: Iterable[tuple[str, str]], document: str, now: datetime, skip_bad: bool
) -> list[PartitionResult]:
    items = list(items)
    where = ", ".join(sorted({path for _, path in items})) or "partition"
    lines = [line for line, _ in items]
    return [evaluate_partition(lines, document, now, where=where, skip_bad=skip_bad)]


def _missing_dask() -> InputError:
    return InputError("--engine", "dask is not installed: pip install 'itsm-core[dask]'")


def _check_workers(workers: object) -> None:
    # Zero workers would leave every task waiting for a worker that never comes.
    if type(workers) is not int or workers < 1:
        raise InputError("--workers", f"expected a positive number of workers, got {workers!r}")


def local_cluster(workers: int) -> LocalCluster:
    """A ``LocalCluster`` of ``workers`` single-threaded processes, as a report starts one.

    It serves no dashboard (its scheduler's health and metrics routes listen
    on a free port, so clusters started side by side never contend for
    Dask's default 8787), and its workers do not run Dask's statistical
    profiler (a thread sampling each worker's stack every 10 ms, whose samples
    only a dashboard shows): on a machine with as many cores as workers, that
    sampling and the scheduler share the cores with the evaluation.

    >>> local_cluster(0)
    Traceback (most recent call last):
    ...
    itsm_core.cli._common.InputError: --workers: expected a positive number of workers, got 0
    """
    _check_workers(workers)
    try:
        import dask
        from dask.distributed import LocalCluster
    except ImportError:  # pragma: no cover - the dask extra is part of the dev install
        raise _missing_dask() from None
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        return LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},
        )


def run_dask(
    paths: Sequence[str],
    desk: Desk,
    now: datetime,
    *,
    workers: int,
    scheduler: str | None = None,
    skip_bad: bool = False,
) -> PartitionResult:
    """The report's accumulators over ``paths`` on a Dask cluster.

    With several paths each file is a shard holding whole tickets (one
    partition each, never split), evaluated by one task that reads it
    (:func:`evaluate_shard`) and returns its result straight to the client;
    with one path the lines are hash-partitioned on the ticket id. ``scheduler``
    is the address of a running cluster; without it a :func:`local_cluster` of
    ``workers`` processes is started and stopped. The desk travels to the
    workers as its desk document.
    """
    _check_workers(workers)
    try:
        import dask.bag as db
        from dask.distributed import Client
    except ImportError:  # pragma: no cover - the dask extra is part of the dev install
        raise _missing_dask() from None
    document = json.dumps(dump_desk(desk), sort_keys=True)
    cluster = None if scheduler is not None else local_cluster(workers)
    try:
        with Client(scheduler or cluster) as client:  # type: ignore[no-untyped-call]
            results: list[PartitionResult]
            if len(paths) > 1:
                # One task a shard, no bag: a bag's read, map and final concatenation cost
                # about 0.2 s of scheduling per report even on empty shards.
                futures = client.map(
                    evaluate_shard,
                    list(paths),
                    desk_document=document,
                    now=now,
                    skip_bad=skip_bad,
                    pure=False,
                )
                results = client.gather(futures)
            else:
                bag = (
                    db.read_text(  # type: ignore[no-untyped-call]
                        list(paths), blocksize=None, include_path=True
                    )
                    .repartition(npartitions=workers * 4)
                    .groupby(_ticket_of, npartitions=workers * 2)
                    .map(lambda pair: pair[1])
                    .flatten()
                )
                parts = bag.map_partitions(_evaluate_items, document, now, skip_bad)
                results = client.compute(parts).result()
    finally:
        if cluster is not None:
            cluster.close()
    total = PartitionResult(compliance=Compliance())
    for result in results:
        total = total + result
    return total
