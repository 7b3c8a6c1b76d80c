"""What the gate's check of the ledger it extends costs `provenance run`, at 10k and 100k entries.

    python bench/bench_gate.py [--entries 10000 100000] [--tests 10] [--dir /dev/shm]

Before it appends, `run` checks every entry's hash over its bytes and every link
(`ledger.links.check_links`); `provenance verify` also proves each line canonical. Builds a ledger of
ENTRIES entries of TESTS tests each with the real append path (in DIR, a tmpfs by default, so that
building is not a benchmark of fsync), then times, in fresh processes, the floors (`sha256sum` of the
file, `json.loads` of every line), the gate's check and `provenance verify`. Best of three each.
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

GATE = (
    "import sys\nfrom pathlib import Path\nfrom provenance.ledger.links import check_links\n"
    "assert check_links(Path(sys.argv[1])).problem is None\n"
)


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
            sha256 = best(["sha256sum", str(ledger)])
            floor = best([sys.executable, "-c", FLOOR, str(ledger)])
            gate = best([sys.executable, "-c", GATE, str(ledger)])
            verify = best([sys.executable, "-m", "provenance", "verify", str(ledger)])
            print(f"{entries:>7} entries of {args.tests} tests ({size:.1f} MB): floors sha256sum {sha256:.2f} s, "
                  f"json.loads {floor:.2f} s; the gate's check {gate:.2f} s ({gate / sha256:.2f}x sha256sum); "
                  f"verify {verify:.2f} s ({verify / floor:.2f}x json.loads)")  # fmt: skip


if __name__ == "__main__":
    main()
