"""What `duration-regression` and the pull request's comparison cost a run.

    python bench/bench_durations.py [--runs 100] [--tests 2000]

A ledger of `--runs` runs of `--tests` tests each is written by the real append path. Timed, best
of three (the runs: best of five, interleaved):

- in process: the recorded medians of every test over the last 50 entries
  (`learning.durations.recorded_medians`), against the floor of decoding the same 50 lines with
  msgspec into plain Python objects (what any reader of them pays);
- whole processes: `provenance run` on a 2,000-test report with `--duration-regression 2` and
  `--comment changes` against the same run without them (each on a fresh copy of the ledger).

Targets: medians within 2x of the floor; the run with both within 1.25x of the run without.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from bench_history import report  # the script's directory is on the path
from bench_ledger import build, names

from provenance.learning.durations import HISTORY_RUNS, recorded_medians
from provenance.ledger.chain import lines_backwards


def floor(path: Path) -> float:
    """Decode the last `HISTORY_RUNS` lines into Python objects and nothing more."""
    started = time.perf_counter()
    for count, raw in enumerate(lines_backwards(path)):
        if count >= HISTORY_RUNS:
            break
        msgspec.json.decode(raw)
    return time.perf_counter() - started


def medians(path: Path, tests: int) -> float:
    started = time.perf_counter()
    found = recorded_medians(path, names(tests))
    elapsed = time.perf_counter() - started
    assert len(found) == tests
    return elapsed


def run(workspace: Path, ledger: Path, run_id: str, *flags: str) -> float:
    """One `provenance run` on a fresh copy of the ledger (a pull request's run, base `main`)."""
    shutil.rmtree(workspace / "data", ignore_errors=True)
    (workspace / "data").mkdir()
    shutil.copy(ledger, workspace / "data" / "ci_runs.jsonl")
    env = {"GITHUB_HEAD_REF": "feature", "GITHUB_BASE_REF": "main", "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "provenance", "run", "--workspace", str(workspace), "--report", "report.json",
               "--run-id", run_id, "--fail-on", "none", *flags]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--tests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        ledger = root / "ledger.jsonl"
        build(ledger, args.runs, args.tests, stable=False)
        size = ledger.stat().st_size / 2**20
        print(f"ledger: {args.runs} runs of {args.tests} tests, {size:.0f} MiB")
        base = min(floor(ledger) for _ in range(3))
        taken = min(medians(ledger, args.tests) for _ in range(3))
        print(f"medians over the last {HISTORY_RUNS} entries: {taken:.3f} s; floor (decode only) {base:.3f} s; "
              f"ratio {taken / base:.2f} (target <= 2)")  # fmt: skip
        workspace = root / "workspace"
        workspace.mkdir()
        report(workspace / "report.json", args.tests)
        extra = ("--duration-regression", "2", "--comment", "changes")
        plain, both = float("inf"), float("inf")
        for i in range(5):  # interleaved, so a burst of load on a shared machine falls on both alike
            plain = min(plain, run(workspace, ledger, f"plain-{i}"))
            both = min(both, run(workspace, ledger, f"both-{i}", *extra))
        print(f"provenance run: {plain:.2f} s without, {both:.2f} s with --duration-regression 2 --comment changes; "
              f"ratio {both / plain:.2f} (target <= 1.25)")  # fmt: skip


if __name__ == "__main__":
    main()
