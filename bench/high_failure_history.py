"""Make a CI history in which failures are common: the regime the seeded replays never reach.

    python bench/high_failure_history.py --seed 1 --out generated-1.csv

Every history in `bench/data/` fails rarely (under 2% of test runs). Industrial CI histories can
fail in a quarter of their test runs, a dozen tests at a time, mostly because a test that failed
its last run fails again. A model whose settings were chosen on the rare-failure histories alone
has never been judged there, so this makes such histories from a stated generative story, each
parameter drawn, per seed, uniformly from the range in `RANGES` (fixed before any model ran on a
generated history; do not move them after looking at a model's figures):

- **a pool of tests**, in groups (a module, a component) of `group_size` tests; a cycle runs a
  subset: each test with its own probability (uniform around `run_share`), and a test whose last
  run failed is run again with probability at least `rerun` (CI reruns what is broken);
- **persistent failures**: in each cycle a test not yet broken breaks with probability `hazard`;
  a breakage lasts a geometric number of cycles of mean `episode_cycles`, during which the test
  fails each run with probability `episode_fail`;
- **flaky tests**: a share `flaky_share` of the tests fail at random, each at its own rate
  (uniform between half and one and a half times `flaky_rate`), which drifts: a random walk on
  the log-odds with steps of standard deviation `drift` per cycle (rates that move);
- **bursts**: in a cycle, with probability `burst`, one group breaks together: a share
  `burst_share` of its tests fail in that cycle, and the burst carries over to the next cycle with
  probability `burst_carry` (a broken dependency, a bad merge);
- **durations**: per test a log-normal typical duration (median 1 s, log-sd 1), each run that
  times a log-normal factor of log-sd 0.2.

Written as ATCS CSV (`Id;Name;Duration;LastRun;LastResults;Verdict;Cycle`), which `provenance
backtest --format atcs` and `bench/bench_selection.py` read; `generate(seed)` gives the same
cycles in memory. The same seed gives the same history.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from provenance.learning.history import Cycle  # noqa: E402

# (low, high) of a uniform draw per history; integers where both ends are.
RANGES: dict[str, tuple[float, float]] = {
    "tests": (300, 2000),
    "cycles": (200, 320),
    "group_size": (10, 80),
    "run_share": (0.02, 0.2),
    "rerun": (0.5, 1.0),
    "hazard": (0.005, 0.04),
    "episode_cycles": (2.0, 15.0),
    "episode_fail": (0.7, 1.0),
    "flaky_share": (0.05, 0.3),
    "flaky_rate": (0.02, 0.3),
    "drift": (0.05, 0.3),
    "burst": (0.05, 0.3),
    "burst_share": (0.3, 0.9),
    "burst_carry": (0.2, 0.7),
}
TUNING_SEEDS = (1, 2, 3, 4, 5)
# 200-204 were first run after the settings of provenance-change-aware-5 were fixed.
HELD_OUT_SEEDS = (100, 101, 102, 103, 104, 200, 201, 202, 203, 204)


def draw(rng: np.random.Generator) -> dict[str, float]:
    """One history's parameters, each uniform in its range."""
    drawn = {}
    for name, (low, high) in RANGES.items():
        whole = float(low).is_integer() and float(high).is_integer() and name in ("tests", "cycles", "group_size")
        drawn[name] = float(rng.integers(int(low), int(high) + 1)) if whole else float(rng.uniform(low, high))
    return drawn


def generate(seed: int) -> tuple[list[Cycle], dict[str, float]]:
    """The cycles of the history of `seed`, and the parameters drawn for it."""
    rng = np.random.default_rng(seed)
    p = draw(rng)
    n = int(p["tests"])
    names = [f"g{k // int(p['group_size']):03d}::test_{k:04d}" for k in range(n)]
    group = np.arange(n) // int(p["group_size"])
    run_prob = np.clip(rng.uniform(0.5, 1.5, n) * p["run_share"], 0.02, 1.0)
    typical = np.exp(rng.normal(0.0, 1.0, n))
    flaky = rng.random(n) < p["flaky_share"]
    rate = np.clip(rng.uniform(0.5, 1.5, n) * p["flaky_rate"], 1e-3, 0.9)
    logit = np.where(flaky, np.log(rate / (1 - rate)), -np.inf)
    broken_left = np.zeros(n, dtype=np.int64)
    last_failed = np.zeros(n, dtype=bool)
    burst_group = -1
    cycles = []
    for number in range(1, int(p["cycles"]) + 1):
        starts = (broken_left == 0) & (rng.random(n) < p["hazard"])
        broken_left[starts] = rng.geometric(1.0 / p["episode_cycles"], int(starts.sum()))
        if burst_group < 0 or rng.random() >= p["burst_carry"]:
            burst_group = int(rng.integers(0, group.max() + 1)) if rng.random() < p["burst"] else -1
        runs = (rng.random(n) < run_prob) | (last_failed & (rng.random(n) < p["rerun"]))
        runs[int(rng.integers(0, n))] = True  # never an empty cycle
        fails = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
        fails |= (broken_left > 0) & (rng.random(n) < p["episode_fail"])
        fails |= (group == burst_group) & (rng.random(n) < p["burst_share"])
        idx = np.flatnonzero(runs)
        durations = typical[idx] * np.exp(rng.normal(0.0, 0.2, idx.size))
        cycles.append(Cycle(number, [names[i] for i in idx], fails[idx], durations.astype(np.float64)))
        last_failed[idx] = fails[idx]
        broken_left = np.maximum(broken_left - 1, 0)
        logit = logit + np.where(flaky, rng.normal(0.0, p["drift"], n), 0.0)
    return cycles, p


def describe(cycles: list[Cycle]) -> dict[str, float]:
    """What the history looks like (no model involved): its size, failure rate and how failures cluster."""
    rows = sum(len(c.tests) for c in cycles)
    failing = [int(c.failed.sum()) for c in cycles if c.failed.any()]
    previous: dict[str, bool] = {}
    repeats = failures = 0
    for c in cycles:
        for name, failed in zip(c.tests, c.failed, strict=True):
            if failed:
                failures += 1
                repeats += previous.get(name, False)
            previous[name] = bool(failed)
    return {
        "cycles": len(cycles),
        "rows": rows,
        "failure_rate": failures / rows if rows else 0.0,
        "failing_cycles": len(failing),
        "median_failing_per_failing_cycle": float(np.median(failing)) if failing else 0.0,
        "share_of_failures_after_a_failure": repeats / failures if failures else 0.0,
    }


def write_atcs(cycles: list[Cycle], out: Path) -> None:
    """The history as ATCS CSV."""
    lines = ["Id;Name;Duration;LastRun;LastResults;Verdict;Cycle"]
    row = 0
    for c in cycles:
        for name, failed, seconds in zip(c.tests, c.failed, c.durations, strict=True):
            row += 1
            lines.append(f"{row};{name};{seconds:.4f};;[];{int(failed)};{c.cycle}")
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cycles, drawn = generate(args.seed)
    print({k: round(v, 4) for k, v in drawn.items()})
    print({k: round(v, 4) for k, v in describe(cycles).items()})
    if args.out:
        write_atcs(cycles, args.out)


if __name__ == "__main__":
    main()
