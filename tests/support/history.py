"""A long history written by the real append path: many runs of a large suite, some tests made flaky.

Each run lists every test with the failure probability a model would have predicted before it (a
rate from the runs so far), a duration that drifts a little, and an outcome: the flaky tests fail at
random (a third of their runs), one test breaks for a stretch of runs and is fixed (a regression, not
flaky), a few are always skipped, and the rest pass. Runs are six hours apart, so they span weeks.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from provenance.ledger.chain import open_for_append
from provenance.schemas import Conclusion, LedgerTest, Result, TestCounts

START = datetime(2026, 9, 1, tzinfo=UTC)


@dataclass(frozen=True)
class History:
    """What the fixture made, for tests to check the page against."""

    path: Path
    runs: int
    names: list[str]
    flaky: list[str]
    regression: str
    dataset_changes: int


def test_names(count: int) -> list[str]:
    """Node ids as pytest writes them, fifty tests a file, some parametrised."""
    return [f"tests/test_mod{i // 50:03d}.py::test_case_{i}" + (f"[p{i % 3}]" if i % 7 == 0 else "")
            for i in range(count)]  # fmt: skip


def build_history(path: Path, runs: int, tests: int, flaky: int = 12, seed: int = 28) -> History:
    """Write the ledger at `path`; `flaky` tests (spread through the suite) fail at random."""
    rng = random.Random(seed)
    names = test_names(tests)
    flaky_names = [names[(k * 7919 + 13) % tests] for k in range(flaky)]
    regression = names[tests // 2 + 1]
    skipped = set(names[3:tests:401])
    runs_seen, fails_seen = [0] * tests, [0] * tests
    checksums = ["1" * 64, "2" * 64, "3" * 64]
    flaky_set = set(flaky_names)
    with open_for_append(path) as ledger:
        for run in range(runs):
            entry_tests = []
            for i, name in enumerate(names):
                if name in skipped:
                    result = Result.SKIP
                elif name in flaky_set:
                    result = Result.FAIL if rng.random() < 0.1 else Result.PASS
                elif name == regression and runs // 3 <= run < runs // 3 + 5:
                    result = Result.ERROR if run % 2 else Result.FAIL
                else:
                    result = Result.PASS
                p_fail = (fails_seen[i] + 0.02) / (runs_seen[i] + 2) if run else None
                entry_tests.append(LedgerTest(name, result, round(0.01 * (1 + i % 17) * (1 + 0.1 * rng.random()), 5),
                                              p_fail))  # fmt: skip
                if result is not Result.SKIP:
                    runs_seen[i] += 1
                    fails_seen[i] += result in (Result.FAIL, Result.ERROR)
            ledger.append(_fields(run, entry_tests, checksums[min(run * 3 // max(runs, 1), 2)]))
    return History(path, runs, names, flaky_names, regression, dataset_changes=min(runs, 3))


def _fields(run: int, tests: list[LedgerTest], checksum: str) -> dict[str, Any]:
    counts = TestCounts(
        total=len(tests),
        passed=sum(t.result is Result.PASS for t in tests),
        failed=sum(t.result is Result.FAIL for t in tests),
        skipped=sum(t.result is Result.SKIP for t in tests),
        errors=sum(t.result is Result.ERROR for t in tests),
        xfailed=0,
        xpassed=0,
    )
    recorded = START + timedelta(hours=6 * run)
    return {
        "recorded_at": recorded, "run_id": str(9_000_000 + run), "run_attempt": 1, "repository": "acme/app",
        "commit": hashlib.sha1(str(run).encode()).hexdigest(), "branch": "main" if run % 4 else "feature/speedup",
        "conclusion": Conclusion.FAILURE if counts.failed + counts.errors else Conclusion.SUCCESS,
        "counts": counts, "walltime_seconds": round(sum(t.duration_seconds for t in tests) + 3.0, 3),
        "tests": tests, "changed_files": ["src/app.py"], "reports": ["b" * 64],
        "provenance_path": f"evidence/ci_provenance_{9_000_000 + run}.json", "provenance_sha256": "c" * 64,
        "dataset_id": ["training-set"], "dataset_checksum": [checksum],
        "retention_until": recorded.replace(year=recorded.year + 5),
    }  # fmt: skip


Row = tuple[str, str, float, float | None]  # node id, result, seconds, p_fail


def write_runs(path: Path, runs: list[list[Row]], branches: list[str] | None = None,
               datasets: list[dict[str, str | None]] | None = None, hours_apart: int = 6) -> None:  # fmt: skip
    """Append one entry per run, each listing its (node id, result, seconds, p_fail) rows."""
    with open_for_append(path) as ledger:
        for run, rows in enumerate(runs):
            tests = [LedgerTest(name, Result(result), seconds, p_fail) for name, result, seconds, p_fail in rows]
            fields = _fields(run, tests, "1" * 64)
            fields["recorded_at"] = START + timedelta(hours=hours_apart * run)
            fields["retention_until"] = fields["recorded_at"].replace(year=2031)
            if branches is not None:
                fields["branch"] = branches[run]
            chosen = datasets[run] if datasets is not None else {}
            fields["dataset_id"], fields["dataset_checksum"] = list(chosen), list(chosen.values())
            ledger.append(fields)


def sample_history(root: Path, runs: int = 4) -> Path:
    """The bundled sample project with `runs` real pytest runs recorded by `provenance run`; its ledger.

    The sample's dataset is edited before the last run (a checksum change the contract catches), and
    each run's node ids, outcomes and durations are pytest's own.
    """
    from provenance.cli import main
    from tests.support.project import copy_sample, git, run_pytest

    project = copy_sample(root / "sample-project")
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "sample project")
    for run in range(runs):
        if run == runs - 1:
            labels = project / "datasets" / "labels.csv"
            labels.write_text(labels.read_text() + "extra,row\n")
            git(project, "commit", "--quiet", "-am", "more labels")
        run_pytest(project, "--json-report", "--json-report-file=report.json")
        env = {"GITHUB_RUN_ID": str(7_000_000 + run), "GITHUB_REPOSITORY": "acme/sample"}
        assert main(["run", "--workspace", str(project), "--report", "report.json", "--fail-on", "none"], env) in (0, 1)
    return project / "data" / "ci_runs.jsonl"
