"""``itsm-core report --engine dask`` on a real LocalCluster gives the one-process answer."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from itsm_core.cli import main, simulate_week
from itsm_core.cli._common import InputError
from itsm_core.cli.demo import demo_desk, demo_document
from itsm_core.cli.scale import (
    PartitionResult,
    evaluate_partition,
    evaluate_shard,
    local_cluster,
)
from itsm_core.metrics import Compliance
from itsm_core.serialization import dump_desk, encode_event

distributed = pytest.importorskip("dask.distributed")

SHARDS = 3
DASK = ("--engine", "dask", "--scheduler")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with local_cluster(2) as cluster:
        yield cluster.scheduler_address


def _profiler_enabled() -> bool:
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled"))


def _http_port(dask_scheduler: Any) -> int:
    return int(dask_scheduler.http_server.port)


def test_a_report_cluster_has_its_workers_and_no_profiler_sampling_them(scheduler: str) -> None:
    with distributed.Client(scheduler) as client:
        answers = client.run(_profiler_enabled)
        threads = client.nthreads()
        port = client.run_on_scheduler(_http_port)
    # no dashboard, and not Dask's default port: two report clusters side by side never
    # contend for it (the second one used to warn, and failed under warnings as errors)
    assert port != 8787
    assert list(answers.values()) == [False, False]
    assert sorted(threads.values()) == [1, 1]
    assert _profiler_enabled()  # the setting stays with the cluster's workers


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A week of demo tickets: one file grouped by ticket, and shards of whole tickets."""
    root = tmp_path_factory.mktemp("export")
    tickets, end = simulate_week(count=40, seed=11)
    shards = root / "shards"
    shards.mkdir()
    files = [(shards / f"part-{i}.jsonl").open("w") for i in range(SHARDS)]
    with (root / "all.jsonl").open("w") as whole:
        for n, ticket in enumerate(tickets):
            for event in ticket.history:
                line = json.dumps(encode_event(event)) + "\n"
                whole.write(line)
                files[n % SHARDS].write(line)
    for f in files:
        f.close()
    (root / "desk.toml").write_text(demo_document())
    return root / "all.jsonl", shards, end.isoformat()


def summary(argv: list[str]) -> dict[str, int]:
    out = io.StringIO()
    assert main([*argv, "--format", "json", "--no-progress"], out) == 0
    last: dict[str, int] = json.loads(out.getvalue().splitlines()[-1])["summary"]
    return last


def test_sharded_input_on_dask_gives_the_same_summary_as_one_process(
    scheduler: str, export: tuple[Path, Path, str]
) -> None:
    whole, shards, now = export
    config = str(whole.parent / "desk.toml")
    local = summary(["report", str(whole), "--config", config, "--now", now])
    dask = summary(["report", str(shards), "--config", config, "--now", now, *DASK, scheduler])
    assert dask == local
    assert local["tickets"] == 40
    assert local["resolution_met"] + local["resolution_breached"] > 0


def test_one_file_is_hash_partitioned_by_ticket_on_dask_with_the_same_summary(
    scheduler: str, export: tuple[Path, Path, str]
) -> None:
    whole, _, now = export
    config = str(whole.parent / "desk.toml")
    local = summary(["report", str(whole), "--config", config, "--now", now])
    dask = summary(["report", str(whole), "--config", config, "--now", now, *DASK, scheduler])
    assert dask == local


def test_a_partition_holding_part_of_a_ticket_is_refused_naming_the_ticket(
    export: tuple[Path, Path, str],
) -> None:
    whole, _, now = export
    lines = whole.read_text().splitlines()
    document = json.dumps({"schema_version": 1})
    with pytest.raises(InputError, match=r"part-x: ticket '[^']+': events\[0\]"):
        evaluate_partition(lines[1:], document, datetime.fromisoformat(now), where="part-x")


def test_partition_results_merge_in_any_order() -> None:
    a = PartitionResult(compliance=Compliance(), tickets=2, bad_lines=1)
    b = PartitionResult(compliance=Compliance(), tickets=5)
    assert a + b == b + a == PartitionResult(compliance=Compliance(), tickets=7, bad_lines=1)


def test_a_directory_without_shards_is_refused(tmp_path: Path) -> None:
    (tmp_path / "desk.toml").write_text(demo_document())
    err = io.StringIO()
    code = main(
        ["report", str(tmp_path), "--config", str(tmp_path / "desk.toml"), "--engine", "dask"],
        err,
    )
    assert code == 2


def test_a_partition_decodes_lines_as_the_file_reader_does(
    export: tuple[Path, Path, str],
) -> None:
    whole, _, now = export
    lines = [*whole.read_text().splitlines(), '{"event": "watched"', "[[[[]]]]"]
    document = json.dumps({"schema_version": 1})
    at = datetime.fromisoformat(now)
    with pytest.raises(InputError, match=rf"^part-y:{len(lines) - 1}: not a JSON object"):
        evaluate_partition(lines, document, at, where="part-y")
    counted = evaluate_partition(lines, document, at, where="part-y", skip_bad=True)
    assert counted.bad_lines == 2
    assert counted.tickets == 40


def test_a_shard_read_where_it_runs_gives_what_its_lines_give(
    export: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, shards, now = export
    document = json.dumps(dump_desk(demo_desk()), sort_keys=True)
    at = datetime.fromisoformat(now)
    for shard in sorted(shards.glob("*.jsonl")):
        lines = shard.read_text().splitlines(keepends=True)
        expected = evaluate_partition(lines, document, at, where=str(shard))
        assert evaluate_shard(str(shard), document, at) == expected
        # a byte-order mark and Windows line ends read as the one-process reader reads them
        other = tmp_path / shard.name
        other.write_bytes(b"\xef\xbb\xbf" + shard.read_bytes().replace(b"\n", b"\r\n"))
        assert evaluate_shard(str(other), document, at) == expected
    with pytest.raises(InputError, match=r"missing\.jsonl"):
        evaluate_shard(str(tmp_path / "missing.jsonl"), document, at)


@pytest.mark.parametrize("workers", [0, -1])
def test_no_worker_at_all_is_refused_before_any_cluster_starts(
    workers: int, export: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, shards, now = export
    config = str(shards.parent / "desk.toml")
    argv = ["report", str(shards), "--config", config, "--now", now, "--engine", "dask"]
    out = io.StringIO()
    assert main([*argv, "--workers", str(workers), "--no-progress"], out) != 0
    assert out.getvalue() == ""
    assert f"--workers: expected a positive number of workers, got {workers}" in (
        capsys.readouterr().err
    )
