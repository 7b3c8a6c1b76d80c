"""Ledger verification throughput, against the floor of reading and parsing the same lines.

    python bench/bench_ledger.py [--runs 500] [--tests 2000]

Builds a ledger of RUNS entries of TESTS tests each with the real append path, then times
`provenance verify` (every hash, link, canonical form and the Merkle root) and a bare Python
process that only parses each line with `json.loads`. Twice: with every test predicted a p_fail
of 0.01, and as a long history of a stable suite leaves it, 49 tests in 50 predicted 8.5e-6 (a
number RFC 8785 writes in plain decimals and orjson in exponent notation, so that verification
cannot take orjson's bytes for the canonical ones).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from provenance.ledger.chain import open_for_append
from provenance.schemas import Conclusion, LedgerTest, Result, TestCounts

FLOOR = "import json, sys\nfor line in open(sys.argv[1], 'rb'):\n    json.loads(line)\n"


def names(tests: int) -> list[str]:
    return [f"tests/test_mod{i // 50}.py::test_case_{i}[param-{i % 7}]" for i in range(tests)]


def build(path: Path, runs: int, tests: int, stable: bool) -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    nodeids = names(tests)
    with open_for_append(path) as ledger:
        for run in range(runs):
            entry_tests = [LedgerTest(nodeid=n, result=Result.PASS, duration_seconds=0.01 * (i % 13),
                                      p_fail=8.5e-6 if stable and i % 50 else 0.01)
                           for i, n in enumerate(nodeids)]  # fmt: skip
            ledger.append({
                "recorded_at": now, "run_id": str(run), "run_attempt": 1, "repository": "acme/app",
                "commit": "a" * 40, "branch": "main", "conclusion": Conclusion.SUCCESS,
                "counts": TestCounts(total=tests, passed=tests, failed=0, skipped=0, errors=0, xfailed=0, xpassed=0),
                "walltime_seconds": 10.0, "tests": entry_tests, "changed_files": ["a.py"], "reports": ["b" * 64],
                "provenance_path": f"evidence/ci_provenance_{run}.json", "provenance_sha256": "c" * 64,
                "retention_until": now,
            })  # fmt: skip


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--tests", type=int, default=2000)
    args = parser.parse_args()
    for content, stable in (("p_fail 0.01", False), ("stable suite, p_fail 8.5e-6", True)):
        with tempfile.TemporaryDirectory() as temp:
            ledger = Path(temp) / "ci_runs.jsonl"
            build(ledger, args.runs, args.tests, stable)
            size = ledger.stat().st_size
            ours = min(timed([sys.executable, "-m", "provenance", "verify", str(ledger)]) for _ in range(3))
            floor = min(timed([sys.executable, "-c", FLOOR, str(ledger)]) for _ in range(3))
        mb = size / 1e6
        print(json.dumps({"content": content, "runs": args.runs, "tests_per_run": args.tests, "megabytes": round(mb, 1),
                          "verify_seconds": round(ours, 2), "verify_mb_per_s": round(mb / ours, 1),
                          "json_loads_seconds": round(floor, 2), "json_loads_mb_per_s": round(mb / floor, 1),
                          "ratio": round(ours / floor, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
