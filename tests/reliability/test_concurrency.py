"""Many writers at once: processes sharing one ledger file, and jobs sharing one ledger branch."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from provenance.ledger.chain import open_for_append
from provenance.ledger.checkpoint import checkpoint_path, load_checkpoint
from provenance.ledger.verify import verify
from provenance.workspace import atomic_write
from tests.integration.test_ledger_branch import branch_ledger, checkout, run
from tests.support.entries import entry_fields

PROCESSES, APPENDS = 8, 100
JOBS, RUNS = 4, 10


def _append(path: str, worker: int) -> None:
    """As a run appends: under the lock, one entry, then the checkpoint beside the ledger."""
    for i in range(APPENDS):
        with open_for_append(Path(path)) as appender:
            appender.append(entry_fields(f"{worker}-{i}", tests=20))
            checkpoint = appender.checkpoint(datetime.now(UTC))
            atomic_write(checkpoint_path(Path(path)), json.dumps(checkpoint).encode())


def test_processes_appending_to_one_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append, args=(str(path), w)) for w in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
        assert worker.exitcode == 0
    checkpoint = load_checkpoint(checkpoint_path(path))
    result = verify(path, checkpoint)
    assert result.problem is None
    assert result.entries == checkpoint["size"] == PROCESSES * APPENDS
    counts = Counter(json.loads(line)["run_id"] for line in path.read_text().splitlines())
    assert set(counts.values()) == {1}
    assert set(counts) == {f"{w}-{i}" for w in range(PROCESSES) for i in range(APPENDS)}


def _job(origin: str, where: str, job: int) -> None:
    work = checkout(Path(origin), Path(where))
    for i in range(RUNS):
        assert run(work, f"{job}-{i}") == 0


def test_jobs_pushing_to_one_ledger_branch(origin: Path, tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    jobs = [context.Process(target=_job, args=(str(origin), str(tmp_path / f"job{j}"), j)) for j in range(JOBS)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join(300)
        assert job.exitcode == 0
    ledger = branch_ledger(origin, tmp_path)
    result = verify(ledger, load_checkpoint(checkpoint_path(ledger)))
    assert result.problem is None and result.entries == JOBS * RUNS
    run_ids = Counter(json.loads(line)["run_id"] for line in ledger.read_text().splitlines())
    assert run_ids == Counter(f"{j}-{i}" for j in range(JOBS) for i in range(RUNS))
