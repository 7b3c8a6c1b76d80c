"""`provenance backtest` on a large ATCS history, against the floor of merely reading the file.

    python bench/bench_backtest.py [--cycles 400] [--tests 3000]

Writes an ATCS history of the given size (each test ran in about 80% of the cycles, durations of
0-10 s, a few tests failing a third of the time and the rest 0.2%: about 960,000 rows and 45 MB by
default), then measures, best of 3 whole processes each, `provenance backtest` on it (with and
without `--reference`) and a bare Python process that reads it with `csv.DictReader` and collapses
it into cycles as the backtest's reader does.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = """
import csv, sys
cycles = {}
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f, delimiter=";"):
        cycles.setdefault(int(row["Cycle"]), []).append((row["Name"], row["Verdict"] == "1", float(row["Duration"])))
"""


def make_history(path: Path, cycles: int, tests: int) -> int:
    rng = random.Random(1)
    rows = 0
    with path.open("w") as out:
        out.write("Id;Name;Duration;CalcPrio;LastRun;Verdict;Cycle;LastResults\n")
        for cycle in range(1, cycles + 1):
            for test in range(tests):
                if rng.random() < 0.2:
                    continue
                rows += 1
                verdict = int(rng.random() < (0.3 if test % 97 == 0 else 0.002))
                out.write(f"{rows};{test};{rng.random() * 10:.2f};0;2020-01-01 00:00:00;{verdict};{cycle};[]\n")
    return rows


def best_of(command: list[str], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=400)
    parser.add_argument("--tests", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "history.csv"
        rows = make_history(path, args.cycles, args.tests)
        backtest = [sys.executable, "-m", "provenance", "backtest", "--history", str(path)]
        floor = best_of([sys.executable, "-c", FLOOR, str(path)])
        ours = best_of(backtest)
        with_reference = best_of([*backtest, "--reference"])
        print(json.dumps({
            "rows": rows, "megabytes": round(path.stat().st_size / 1e6, 1), "floor_seconds": round(floor, 2),
            "backtest_seconds": round(ours, 2), "ratio": round(ours / floor, 2),
            "with_reference_seconds": round(with_reference, 2),
            "with_reference_ratio": round(with_reference / floor, 2),
        }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
