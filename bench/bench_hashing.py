"""Hashing datasets against coreutils: one large file, and a directory of many small files.

    python bench/bench_hashing.py [--large-mib 2048] [--small-files 50000]

Floors: `sha256sum FILE` for the large file, and `find . -type f -print0 | LC_ALL=C sort -z |
xargs -0 sha256sum | sha256sum` (the dirHash recipe, one sha256sum process per xargs batch) for
the directory. Each figure is the best of three runs, page cache warm for both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from provenance.datasets.hashing import hash_file, hash_tree


def best_of(action: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - started)
    return best, value


def shell(command: str, cwd: Path) -> str:
    return subprocess.run(command, shell=True, cwd=cwd, check=True, capture_output=True, text=True).stdout.split()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large-mib", type=int, default=2048)
    parser.add_argument("--small-files", type=int, default=50_000)
    args = parser.parse_args()
    figures: dict[str, object] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(dir="/var/tmp") as temp:
        root = Path(temp)
        large = root / "large.bin"
        block = os.urandom(1024 * 1024)
        with large.open("wb") as handle:
            for _ in range(args.large_mib):
                handle.write(block)
        ours, digest = best_of(lambda: hash_file(large).sha256)
        floor, reference = best_of(lambda: shell(f"sha256sum {large}", root))
        assert digest == reference
        mib = args.large_mib
        figures["large_file"] = {
            "mib": mib, "ours_seconds": round(ours, 3), "sha256sum_seconds": round(floor, 3),
            "ours_mib_per_s": round(mib / ours), "sha256sum_mib_per_s": round(mib / floor),
            "throughput_ratio": round(floor / ours, 3),
        }  # fmt: skip
        large.unlink()

        tree = root / "tree"
        for i in range(args.small_files):
            directory = tree / f"d{i % 100:02d}"
            if i < 100:
                directory.mkdir(parents=True)
            (directory / f"f{i:06d}.json").write_bytes(os.urandom(512 + i % 2048))
        ours, digest = best_of(lambda: hash_tree(tree).sha256)
        recipe = "find . -type f -print0 | cut -z -c3- | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"
        floor, reference = best_of(lambda: shell(recipe, tree))
        assert digest == reference
        figures["small_files"] = {
            "files": args.small_files, "ours_seconds": round(ours, 3), "coreutils_seconds": round(floor, 3),
            "speedup": round(floor / ours, 2),
        }  # fmt: skip
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
