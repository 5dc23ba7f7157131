"""The report on Dask: one process against a LocalCluster of two worker processes.

The input is a week of simulated kiosk tickets on the demo desk, repeated under
fresh ticket ids until it is large enough to be worth distributing, written as
shards of whole tickets (what ``itsm-core report --engine dask DIR`` reads).
One process evaluates every shard in turn with the same partition function the
workers run; the cluster evaluates the shards in parallel and merges the
compliance. Both answers are compared before any time is reported.

The cluster is started once, outside the timing (its start-up, a few seconds,
is paid once per report, not per ticket); the figure is the wall time of one
whole report. On a machine with two cores the ceiling is 2x.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench._runner import BenchReport, measure
from itsm_core.cli import simulate_week
from itsm_core.cli.demo import demo_desk
from itsm_core.cli.scale import PartitionResult, evaluate_partition, run_dask
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


def run(quick: bool) -> BenchReport:
    from datetime import datetime

    from dask.distributed import LocalCluster

    report = BenchReport("scale")
    desk = demo_desk()
    document = json.dumps(dump_desk(desk), sort_keys=True)
    with tempfile.TemporaryDirectory() as tmp:
        paths, events, end = _write_shards(Path(tmp), 10 if quick else 60)
        now = datetime.fromisoformat(end)

        def one_process() -> PartitionResult:
            total = PartitionResult(compliance=Compliance())
            for path in paths:
                lines = path.read_text().splitlines()
                total = total + evaluate_partition(lines, document, now, where=str(path))
            return total

        with LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            address = cluster.scheduler_address

            def on_dask() -> PartitionResult:
                return run_dask([str(p) for p in paths], desk, now, workers=2, scheduler=address)

            local, distributed = one_process(), on_dask()
            assert local == distributed, "the cluster's answer differs from one process"
            rounds = 2 if quick else 3
            report.figures["one process, per event"] = measure(
                one_process, ops=events, rounds=rounds
            )
            report.figures["dask LocalCluster (2 workers), per event"] = measure(
                on_dask, ops=events, rounds=rounds
            )
    report.values["events"] = events
    report.values["tickets"] = local.tickets
    report.ratio(
        "dask 2 workers vs one process",
        "one process, per event",
        "dask LocalCluster (2 workers), per event",
    )
    report.notes.append("shards of whole tickets; cluster start-up not timed; ceiling 2x")
    return report
