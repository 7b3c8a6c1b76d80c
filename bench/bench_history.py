"""Does a long history slow a run down? `provenance run` and `provenance select` on ledgers of
50 and 5,000 runs of 2,000 tests each.

    python bench/bench_history.py [--small 50] [--large 5000] [--tests 2000]

Both ledgers are written by the real append path; one `provenance run` on each then leaves the
model state beside it, as in use. Timed (best of three, whole processes): a `run` on a 2,000-test
report (predictions from the model, calibration over the window, the append, the model update)
and a `select` at a 30% budget. The model is incremental and the window is read from the ledger's
end, so the large history should cost what the small one does (target: at most 1.5x).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_ledger import build, names  # the script's directory is on the path


def report(path: Path, tests: int) -> None:
    """A pytest-json-report of the same tests, 1% of them failing."""
    entries = [{"nodeid": name, "lineno": 1, "outcome": "failed" if i % 100 == 7 else "passed",
                "setup": {"duration": 0.0001, "outcome": "passed"},
                "call": {"duration": 0.01 * (i % 13), "outcome": "failed" if i % 100 == 7 else "passed"},
                "teardown": {"duration": 0.0001, "outcome": "passed"}}
               for i, name in enumerate(names(tests))]  # fmt: skip
    path.write_text(json.dumps({"duration": 60.0, "exitcode": 1, "root": str(path.parent), "tests": entries}))


def best_of(command: list[str], cwd: Path, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return min(times)


def measure(workspace: Path, runs: int, tests: int) -> dict[str, float]:
    ledger = workspace / f"ledger-{runs}.jsonl"
    started = time.perf_counter()
    build(ledger, runs, tests, stable=True)  # a long history of a stable suite, as in use
    built = time.perf_counter() - started
    provenance = [sys.executable, "-m", "provenance"]
    run = [*provenance, "run", "--report", "report.json", "--ledger", ledger.name, "--fail-on", "none", "--no-summary"]
    first = best_of(run, workspace, repeats=1)  # no model state yet: rebuilt from the whole ledger, then saved
    select = [*provenance, "select", "--ledger", ledger.name, "--budget", "0.3", "--full-run-every", "0",
              "--out", "selected.txt"]  # fmt: skip
    return {
        "ledger_megabytes": round(ledger.stat().st_size / 1e6, 1),
        "build_seconds": round(built, 1),
        "first_run_seconds": round(first, 2),
        "run_seconds": round(best_of(run, workspace), 3),
        "select_seconds": round(best_of(select, workspace), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--tests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        workspace = Path(temp)
        report(workspace / "report.json", args.tests)
        small = measure(workspace, args.small, args.tests)
        large = measure(workspace, args.large, args.tests)
    ratios = {f"{key}_ratio": round(large[key] / small[key], 2) for key in ("run_seconds", "select_seconds")}
    print(json.dumps({"tests_per_run": args.tests, f"runs_{args.small}": small, f"runs_{args.large}": large,
                      **ratios}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
