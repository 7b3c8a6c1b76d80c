"""`provenance calibrate` on a million predictions, against the floor of reading them.

    python bench/bench_calibrate.py [N]

The floor is a bare Python process that reads the same file and parses every line with orjson
(the parser the command uses) without doing anything else; the ratio says what the command adds
on top of reading its input.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = """
import orjson, sys
rows = [orjson.loads(line) for line in open(sys.argv[1], "rb").read().splitlines()]
"""


def best_of(command: list[str], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "predictions.jsonl"
        with path.open("w") as handle:
            for _ in range(n):
                p = rng.random() ** 3
                handle.write(json.dumps({"p_fail": p, "failed": rng.random() < p}) + "\n")
        command = best_of([sys.executable, "-m", "provenance", "calibrate", "--predictions", str(path)])
        floor = best_of([sys.executable, "-c", FLOOR, str(path)])
    print(json.dumps({"lines": n, "calibrate_seconds": round(command, 3), "floor_seconds": round(floor, 3),
                      "ratio": round(command / floor, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
