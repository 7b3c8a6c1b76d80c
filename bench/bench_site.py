"""How `provenance site` grows with the history: build time and size for 1k, 10k and 100k runs.

    python bench/bench_site.py [--runs 1000,10000,100000] [--tests 100] [--check-runs 200 --check-tests 2000]

Each ledger is written line by line in the ledger's own canonical form (as the append path writes
it, hash-chained, so the build's check of every hash and link passes), `--tests` tests a run with
three made flaky and one in ten runs failing one of them; runs an hour apart. Then one
`provenance site` process builds the page (best of three below 100k runs, one run at 100k) and the
output directory is measured. The floor is a Python process that only parses each line with
`json.loads`; the ratios show how time and size grow from one history length to the next (10x the
runs each). First, the acceptance case: 200 runs of 2,000 tests, against its 5 s and 20 MB limits.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from provenance.ledger.canonical import ZERO_HASH, canonical_entry, hash_member, hash_without

FLOOR = "import json, sys\nfor line in open(sys.argv[1], 'rb'):\n    json.loads(line)\n"
START = datetime(2026, 1, 1, tzinfo=UTC)


def write_ledger(path: Path, runs: int, tests: int, seed: int = 1) -> None:
    """A hash-chained ledger of `runs` entries, written directly (the append path validates each entry)."""
    rng = random.Random(seed)
    names = [f"tests/test_mod{i // 20:03d}.py::test_case_{i}" for i in range(tests)]
    flaky = set(range(0, tests, max(tests // 3, 1)))
    prev = ZERO_HASH
    zero = hash_member(ZERO_HASH)
    with path.open("wb") as out:
        for run in range(runs):
            failing = rng.choice(sorted(flaky)) if rng.random() < 0.1 else -1
            rows = [{"duration_seconds": round(0.01 * (1 + i % 13) * (1 + 0.1 * rng.random()), 4), "nodeid": name,
                     "p_fail": (0.05 if i in flaky else 0.001) if run else None,
                     "result": "fail" if i == failing else "pass"} for i, name in enumerate(names)]  # fmt: skip
            line = canonical_entry(_fields(run, rows, prev, failing >= 0))
            digest, at = hash_without(line, zero)
            out.write(line[:at] + hash_member(digest) + line[at + len(zero) :] + b"\n")
            prev = digest


def _fields(run: int, rows: list[dict[str, Any]], prev: str, failed: bool) -> dict[str, Any]:
    recorded = START + timedelta(hours=run)
    stamp = recorded.isoformat().replace("+00:00", "Z")
    tests = len(rows)
    return {
        "schema_version": "1.0", "seq": run, "prev": prev, "entry_hash": ZERO_HASH, "recorded_at": stamp,
        "run_id": str(run), "run_attempt": 1, "repository": "acme/app",
        "commit": hashlib.sha1(str(run).encode()).hexdigest(), "branch": "main",
        "conclusion": "failure" if failed else "success",
        "counts": {"total": tests, "passed": tests - failed, "failed": int(failed), "skipped": 0, "errors": 0,
                   "xfailed": 0, "xpassed": 0, "flaky": 0},
        "walltime_seconds": 10.0, "tests": rows, "changed_files": ["a.py"], "reports": ["b" * 64],
        "provenance_path": f"evidence/ci_provenance_{run}.json", "provenance_sha256": "c" * 64,
        "dataset_id": ["train"], "dataset_checksum": ["d" * 64], "model_hash": None, "model_version": None,
        "brier_score": None, "ece": None, "mce": None,
        "retention_until": (recorded + timedelta(days=5 * 365 + 1)).isoformat().replace("+00:00", "Z"),
        "supersedes": None, "correction_reason": None,
    }  # fmt: skip


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def measure(workspace: Path, runs: int, tests: int) -> dict[str, Any]:
    ledger = workspace / f"ledger-{runs}x{tests}.jsonl"
    write_ledger(ledger, runs, tests)
    build = [sys.executable, "-m", "provenance", "site", "--ledger", ledger.name, "--out", "site"]
    repeats = 3 if runs * tests < 5_000_000 else 1
    seconds = min(timed(build, workspace) for _ in range(repeats))
    floor = min(timed([sys.executable, "-c", FLOOR, ledger.name], workspace) for _ in range(repeats))
    files = {p.name: p.stat().st_size for p in (workspace / "site").iterdir()}
    ledger_bytes = ledger.stat().st_size
    ledger.unlink()
    return {"runs": runs, "tests_per_run": tests, "ledger_mb": round(ledger_bytes / 1e6, 1),
            "build_seconds": round(seconds, 2), "json_loads_seconds": round(floor, 2),
            "ratio_to_json_loads": round(seconds / floor, 2), "site_mb": round(sum(files.values()) / 1e6, 2),
            "data_js_mb": round(files["data.js"] / 1e6, 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="1000,10000,100000")
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--check-runs", type=int, default=200)
    parser.add_argument("--check-tests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        workspace = Path(temp)
        check = measure(workspace, args.check_runs, args.check_tests)
        check |= {"limit_seconds": 5.0, "limit_mb": 20.0,
                  "within": check["build_seconds"] < 5.0 and check["site_mb"] < 20.0}  # fmt: skip
        print(json.dumps({"acceptance": check}), flush=True)
        rows = []
        for runs in (int(n) for n in args.runs.split(",")):
            rows.append(measure(workspace, runs, args.tests))
            print(json.dumps(rows[-1]), flush=True)
    growth = [{"from_runs": a["runs"], "to_runs": b["runs"],
               "time_ratio": round(b["build_seconds"] / a["build_seconds"], 2),
               "size_ratio": round(b["site_mb"] / a["site_mb"], 2)}
              for a, b in itertools.pairwise(rows)]  # fmt: skip
    print(json.dumps({"growth": growth}))


if __name__ == "__main__":
    main()
