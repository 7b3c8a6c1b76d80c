"""What the gate's check of the ledger it extends costs `provenance run`, at 10k and 100k entries.

    python bench/bench_gate.py [--entries 10000 100000] [--tests 10] [--dir /dev/shm]

Before it appends, `run` verifies the whole chain with the code `provenance verify` runs, so that is
what the gate adds to every run. Builds a ledger of ENTRIES entries of TESTS tests each with the
real append path (in DIR, a tmpfs by default, so that building is not a benchmark of fsync), then
times, in fresh processes, the floor (`json.loads` of every line) and `provenance verify`. Best of
three each.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ledger import FLOOR, build


def best(command: list[str]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--dir", default="/dev/shm" if Path("/dev/shm").is_dir() else None)
    args = parser.parse_args()
    for entries in args.entries:
        with tempfile.TemporaryDirectory(dir=args.dir) as temp:
            ledger = Path(temp) / "ci_runs.jsonl"
            build(ledger, entries, args.tests, stable=False)
            size = ledger.stat().st_size / 1e6
            floor = best([sys.executable, "-c", FLOOR, str(ledger)])
            verify = best([sys.executable, "-m", "provenance", "verify", str(ledger)])
            print(f"{entries:>7} entries of {args.tests} tests ({size:.1f} MB): floor json.loads {floor:.2f} s, "
                  f"the gate's check (verify) {verify:.2f} s ({verify / floor:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
