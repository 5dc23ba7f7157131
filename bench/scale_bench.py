"""The report on Dask: one process against a LocalCluster of two worker processes.

The input is a week of simulated kiosk tickets on the demo desk, repeated under
fresh ticket ids until it is large enough to be worth distributing, written as
shards of whole tickets (what ``itsm-core report --engine dask DIR`` reads).
One process evaluates every shard in turn with the same partition function the
workers run; the cluster evaluates the shards in parallel and merges the
compliance. Both answers are compared before any time is reported.

What each side is charged, so the comparison is fair:

* The cluster is started once, outside the timing (its start-up, seconds, is
  paid once per cluster, not per report).
* Each Dask report pays what ``itsm-core report --engine dask`` pays against a
  running scheduler: dumping the desk document, connecting a client, building
  and scheduling the graph, gathering and merging the partitions' results. The
  workers read their own shards (nothing is read serially by the client); the
  merge adds 8 small accumulators. That fixed cost is also measured alone (a
  report over one empty shard), so the ratio can be read against its ceiling:
  ``one / (one / 2 + fixed)`` on two idle cores.
* Both sides are timed round by round, alternating, in wall time (a cluster's
  work happens in other processes), and the medians compared; the load average
  before and after is recorded, since the machine may be shared.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._runner import BenchReport, Figure, interleaved
from itsm_core.cli import simulate_week
from itsm_core.cli.demo import demo_desk
from itsm_core.cli.scale import PartitionResult, evaluate_shard, local_cluster, run_dask
from itsm_core.metrics import Compliance
from itsm_core.serialization import dump_desk, encode_event

SHARDS = 8


def _write_shards(root: Path, copies: int) -> tuple[list[Path], int, str]:
    tickets, end = simulate_week(count=60, seed=5)
    files = [(root / f"part-{i}.jsonl").open("w") for i in range(SHARDS)]
    events = 0
    n = 0
    for copy in range(copies):
        for ticket in tickets:
            out = files[n % SHARDS]
            n += 1
            for event in ticket.history:
                data = encode_event(event)
                data["ticket_id"] = f"{data['ticket_id']}-{copy}"
                out.write(json.dumps(data) + "\n")
                events += 1
    for f in files:
        f.close()
    return [root / f"part-{i}.jsonl" for i in range(SHARDS)], events, end.isoformat()


def _alternating(
    batches: dict[str, Callable[[], object]], rounds: int, ops: int
) -> dict[str, Figure]:
    """Wall time of each batch, round by round in turn, after one warm-up each."""
    for fn in batches.values():
        fn()  # warm-up: the workers load the desk and compile its calendars once
    seconds = interleaved(batches, rounds, time.perf_counter)
    return {
        key: Figure(
            median_us=statistics.median(values) * 1e6 / ops,
            min_us=min(values) * 1e6 / ops,
            max_us=max(values) * 1e6 / ops,
            rounds=rounds,
            ops=ops,
        )
        for key, values in seconds.items()
    }


def _process_cpu() -> float:
    return time.process_time()


def _alternating_with_cpu(
    one_process: Callable[[], object],
    on_dask: Callable[[], object],
    watcher: Any,
    rounds: int,
    events: int,
) -> tuple[dict[str, Figure], dict[str, float]]:
    """Wall time of both sides, round by round in turn, and the CPU time each spends.

    CPU time is what a shared machine does not inflate: the one process's own,
    and for the cluster this process's (the client and the scheduler, which
    ``LocalCluster`` runs here) and each worker process's (asked of the workers
    before and after). A machine with two idle cores would give between
    ``one / (client and scheduler + busiest worker)`` (nothing overlapping; the
    scheduler's heartbeats grow with the wall time a loaded machine stretches)
    and ``one / busiest worker`` (the split of the work alone), less the latency
    of the messages.
    """
    one_process()
    on_dask()  # warm-up: the workers load the desk and compile its calendars once
    walls: dict[str, list[float]] = {"one": [], "dask": []}
    cpu: dict[str, list[float]] = {"one": [], "driver": [], "busiest": [], "workers": []}
    for _ in range(rounds):
        start, used = time.perf_counter(), time.process_time()
        one_process()
        walls["one"].append(time.perf_counter() - start)
        cpu["one"].append(time.process_time() - used)
        before = watcher.run(_process_cpu)
        start, used = time.perf_counter(), time.process_time()
        on_dask()
        walls["dask"].append(time.perf_counter() - start)
        cpu["driver"].append(time.process_time() - used)
        after = watcher.run(_process_cpu)
        spent = [after[worker] - before[worker] for worker in after]
        cpu["busiest"].append(max(spent))
        cpu["workers"].append(sum(spent))
    labels = {
        "one": "one process, per event",
        "dask": "dask LocalCluster (2 workers), per event",
    }
    figures = {
        labels[key]: Figure(
            median_us=statistics.median(values) * 1e6 / events,
            min_us=min(values) * 1e6 / events,
            max_us=max(values) * 1e6 / events,
            rounds=rounds,
            ops=events,
        )
        for key, values in walls.items()
    }
    names = {
        "one": "one process CPU (s, median)",
        "driver": "dask client and scheduler CPU (s, median)",
        "busiest": "dask busiest worker CPU (s, median)",
        "workers": "dask workers CPU together (s, median)",
    }
    return figures, {names[key]: statistics.median(values) for key, values in cpu.items()}


def run(quick: bool) -> BenchReport:
    from datetime import datetime

    from dask.distributed import Client

    report = BenchReport("scale")
    desk = demo_desk()
    document = json.dumps(dump_desk(desk), sort_keys=True)
    report.values["load average before (1 min)"] = round(os.getloadavg()[0], 2)
    report.values["cores"] = os.cpu_count() or 0
    with tempfile.TemporaryDirectory() as tmp:
        paths, events, end = _write_shards(Path(tmp), 10 if quick else 120)
        empty = Path(tmp) / "empty"
        empty.mkdir()
        shards = [empty / f"part-{i}.jsonl" for i in range(2)]  # two: the sharded path
        for shard in shards:
            shard.write_text("")
        now = datetime.fromisoformat(end)

        def one_process() -> PartitionResult:
            total = PartitionResult(compliance=Compliance())
            for path in paths:
                total = total + evaluate_shard(str(path), document, now)
            return total

        with local_cluster(2) as cluster:
            address = cluster.scheduler_address

            def on_dask() -> PartitionResult:
                return run_dask([str(p) for p in paths], desk, now, workers=2, scheduler=address)

            def fixed_cost() -> PartitionResult:
                return run_dask([str(s) for s in shards], desk, now, workers=2, scheduler=address)

            local, distributed = one_process(), on_dask()
            assert local == distributed, "the cluster's answer differs from one process"
            rounds = 2 if quick else 5
            with Client(address) as watcher:  # type: ignore[no-untyped-call]
                figures, cpu = _alternating_with_cpu(one_process, on_dask, watcher, rounds, events)
            report.figures.update(figures)
            fixed = _alternating({"fixed": fixed_cost}, rounds, 1)["fixed"]
    for key, value in cpu.items():
        report.values[key] = round(value, 3)
    report.values["CPU ratio: one process / (client and scheduler + busiest worker)"] = round(
        cpu["one process CPU (s, median)"]
        / (
            cpu["dask client and scheduler CPU (s, median)"]
            + cpu["dask busiest worker CPU (s, median)"]
        ),
        2,
    )
    report.values["CPU ratio: one process / busiest worker (the work split alone)"] = round(
        cpu["one process CPU (s, median)"] / cpu["dask busiest worker CPU (s, median)"], 2
    )
    report.values["load average after (1 min)"] = round(os.getloadavg()[0], 2)
    report.values["events"] = events
    report.values["tickets"] = local.tickets
    report.values["dask fixed cost per report (ms, median)"] = round(fixed.median_us / 1000, 1)
    one = report.figures["one process, per event"].median_us * events
    report.values["ceiling on two idle cores: one / (one / 2 + fixed)"] = round(
        one / (one / 2 + fixed.median_us), 2
    )
    report.ratio(
        "dask 2 workers vs one process",
        "one process, per event",
        "dask LocalCluster (2 workers), per event",
    )
    report.notes.append(
        "shards of whole tickets; cluster start-up not timed; rounds alternate; ceiling 2x "
        "on two idle cores, less on a shared machine (see the load averages)"
    )
    return report
