"""Every single-byte edit of a 1,000-entry ledger, each checked by `verify`: too long for CI, run by hand.

    python -m tests.reliability.sweep_single_byte_edits [--entries 1000] [--workers 2]

Each byte of the ledger is replaced by another byte (a printable one chosen at random, a space
for a newline) and the whole edited ledger is verified. Prints how many edits were tried and how
many were caught; `test_tampering.py` runs a sample of the same in CI.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import tempfile
import time
from pathlib import Path

from provenance.ledger.verify import verify
from tests.support.entries import build_ledger


def _check(args: tuple[str, int, int, int]) -> list[int]:
    """Positions in [start, stop) whose edit `verify` missed."""
    path, start, stop, seed = args
    original = Path(path).read_bytes()
    rng = random.Random(seed)
    missed = []
    with tempfile.TemporaryDirectory() as temp:
        target = Path(temp) / "edited.jsonl"
        for position in range(start, stop):
            old = original[position]
            new = ord(" ") if old == ord("\n") else rng.choice([b for b in range(32, 127) if b != old])
            target.write_bytes(original[:position] + bytes([new]) + original[position + 1 :])
            if verify(target).problem is None:
                missed.append(position)
    return missed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "ledger.jsonl"
        build_ledger(path, args.entries)
        size = path.stat().st_size
        chunk = 4096
        jobs = [(str(path), start, min(start + chunk, size), start) for start in range(0, size, chunk)]
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            missed = [p for part in pool.imap_unordered(_check, jobs) for p in part]
        elapsed = time.perf_counter() - started
    print(json.dumps({"entries": args.entries, "ledger_bytes": size, "edits_tried": size,
                      "edits_caught": size - len(missed), "missed_positions": sorted(missed)[:20],
                      "seconds": round(elapsed, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
