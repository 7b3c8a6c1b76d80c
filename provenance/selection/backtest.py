"""Backtest: replay a history in order and measure what prediction and selection would have done.

Prequential: the predictions for cycle t use only cycles before t. The first `warmup` cycles
teach the model and are not scored. A budget of x% means: walk the ranking and run each test that
still fits in x% of that cycle's actual total time, skipping those that no longer fit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from provenance.learning.calibration import calibrate
from provenance.learning.epistemic import rank
from provenance.learning.experts import shrunk
from provenance.learning.history import Cycle
from provenance.learning.model import PRIOR_WEIGHT, costs, lookup, seconds_floor
from provenance.selection.budget import FIT_TOLERANCE, Budget, select, walk

FloatArray = npt.NDArray[np.float64]
DEFAULT_BUDGETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
DETECTION_TARGETS = (0.95, 0.99, 1.0)
BUDGET_GRID = np.round(np.arange(0, 1.0001, 0.005), 3)  # where the time saved at a detection rate is read


class Predictor(Protocol):
    """What the backtest needs of a model."""

    def predict(self, tests: list[str], changed_files: list[str] | None = None) -> FloatArray:
        """Failure probabilities for the coming cycle."""

    def expected_seconds(self, tests: list[str], p_fail: FloatArray | None = None) -> FloatArray:
        """Cost estimates from past durations only (given the failure probabilities just predicted)."""

    def ranking(self, tests: list[str], p_fail: FloatArray, seconds: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The probabilities and costs to rank by, given those just predicted."""

    def update(
        self,
        tests: list[str],
        failed: npt.NDArray[np.bool_],
        durations: FloatArray,
        changed_files: list[str] | None = None,
        predicted: FloatArray | None = None,
    ) -> None:
        """Learn from the finished cycle (`predicted`: what `predict` gave for it)."""


class ReferencePredictor:
    """The baseline the model is measured against, replayed beside it by `backtest --reference`.

    Each test's failure rate shrunk toward the global rate by a Beta prior of weight 2, and its last
    seen duration as its cost (the median for a new test): what the model adds over it can be read
    off the user's own history.
    """

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.runs, self.fails, self.last_duration = np.zeros(0), np.zeros(0), np.zeros(0)
        self.total_runs = self.total_fails = 0.0

    def _indices(self, tests: list[str]) -> npt.NDArray[np.intp]:
        idx, new = lookup(self.index, tests)
        if new:
            self.runs, self.fails, self.last_duration = (np.concatenate([a, np.zeros(len(new))]) for a in
                                                         (self.runs, self.fails, self.last_duration))  # fmt: skip
        return idx

    def predict(self, tests: list[str], changed_files: list[str] | None = None) -> FloatArray:
        """The shrunk failure rates (changed files are not used)."""
        idx = self._indices(tests)
        g = shrunk(self.total_fails, self.total_runs, 0.01, 1.0)  # as the model's global rate
        return np.asarray(shrunk(self.fails[idx], self.runs[idx], g, PRIOR_WEIGHT))

    def expected_seconds(self, tests: list[str], p_fail: FloatArray | None = None) -> FloatArray:
        """Last seen durations, whatever the probabilities."""
        return costs(self.last_duration, self.runs, self._indices(tests))

    def ranking(self, tests: list[str], p_fail: FloatArray, seconds: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Its own probabilities and costs."""
        return p_fail, seconds

    def update(
        self,
        tests: list[str],
        failed: npt.NDArray[np.bool_],
        durations: FloatArray,
        changed_files: list[str] | None = None,
        predicted: FloatArray | None = None,
    ) -> None:
        """Count the cycle (its predictions are not needed)."""
        idx = self._indices(tests)
        self.runs[idx] += 1
        self.fails[idx] += failed
        self.last_duration[idx] = durations
        self.total_runs += len(tests)
        self.total_fails += float(failed.sum())


@dataclass(frozen=True)
class Scored:
    """One replayed cycle: the predictions made before it, the order chosen, and what happened."""

    cycle: Cycle
    p_fail: FloatArray
    order: npt.NDArray[np.intp]
    p_rank: FloatArray  # the probabilities the order follows (`Predictor.ranking`)
    seconds: FloatArray  # the expected seconds per test the order follows: what `select` budgets with
    new: npt.NDArray[np.bool_]  # never run in a cycle before
    failed_last: npt.NDArray[np.bool_]  # failed the last time it ran

    @property
    def transitions(self) -> npt.NDArray[np.bool_]:
        """The tests that newly fail: failed now, and not in their previous run."""
        return np.asarray(self.cycle.failed & ~self.failed_last)

    @functools.cached_property
    def detected(self) -> npt.NDArray[np.bool_]:
        """`detected_by_budget` of this cycle, worked out once: the figures and their intervals both read it."""
        return detected_by_budget(self)


def replay(cycles: list[Cycle], model: Predictor, warmup: int = 10) -> Iterator[Scored]:
    """Predict each cycle from the ones before it, then learn from it; yield the scored cycles."""
    previous: dict[str, bool] = {}
    for position, cycle in enumerate(cycles):
        p = model.predict(cycle.tests, cycle.changed_files)
        p_rank, seconds = model.ranking(cycle.tests, p, model.expected_seconds(cycle.tests, p))
        order = rank(p_rank / seconds_floor(seconds))
        if position >= warmup:
            last = [previous.get(name) for name in cycle.tests]
            new = np.fromiter((outcome is None for outcome in last), dtype=bool, count=len(last))
            failed_last = np.fromiter(map(bool, last), dtype=bool, count=len(last))
            yield Scored(cycle, p, order, p_rank, seconds, new, failed_last)
        model.update(cycle.tests, cycle.failed, cycle.durations, cycle.changed_files, p)
        previous.update(zip(cycle.tests, (bool(f) for f in cycle.failed), strict=True))


def select_within(order: npt.NDArray[np.intp], durations: FloatArray, budget_seconds: float) -> npt.NDArray[np.bool_]:
    """Walk the ranking; run each test that still fits in the budget, skip those that do not."""
    chosen = np.zeros(len(durations), dtype=bool)
    chosen[walk(order, durations, 0.0, budget_seconds)[0]] = True
    return chosen


def apfd(order: npt.NDArray[np.intp], failed: npt.NDArray[np.bool_]) -> float | None:
    """Average percentage of faults detected: 1 - ΣTF/(n·m) + 1/(2n); None without failures."""
    n, m = len(order), int(failed.sum())
    if m == 0 or n == 0:
        return None
    positions = np.nonzero(failed[order])[0] + 1
    return float(1.0 - positions.sum() / (n * m) + 1.0 / (2 * n))


def apfdc(order: npt.NDArray[np.intp], failed: npt.NDArray[np.bool_], durations: FloatArray) -> float | None:
    """Cost-cognizant APFD (unit fault severity): Σ_i (Σ_{j≥TF_i} t_j − t_{TF_i}/2) / (Σ t · m)."""
    m = int(failed.sum())
    t = durations[order]
    total = float(t.sum())
    if m == 0 or total <= 0:
        return None
    remaining = np.cumsum(t[::-1])[::-1]  # time from each position to the end
    positions = np.nonzero(failed[order])[0]
    return float((remaining[positions] - t[positions] / 2.0).sum() / (total * m))


def evaluate(scored: list[Scored], budgets: tuple[float, ...] = DEFAULT_BUDGETS) -> dict[str, Any]:
    """Every figure of the backtest over the scored cycles."""
    p = np.concatenate([s.p_fail for s in scored]) if scored else np.zeros(0)
    y = np.concatenate([s.cycle.failed for s in scored]).astype(np.float64) if scored else np.zeros(0)
    calibration = calibrate(p, y, min_bin_count=10) if p.size else None
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    failing = [s for s in scored if s.cycle.failed.any()]
    apfds = [v for s in failing if (v := apfd(s.order, s.cycle.failed)) is not None]
    apfdcs = [v for s in failing if (v := apfdc(s.order, s.cycle.failed, s.cycle.durations)) is not None]
    grid = np.mean([s.detected for s in failing], axis=0) if failing else np.ones(len(BUDGET_GRID))
    return {
        "cycles_scored": len(scored),
        "failing_cycles": len(failing),
        "predictions": int(p.size),
        "failures": int(y.sum()),
        "brier_score": float(np.mean((p - y) ** 2)) if p.size else None,
        "log_loss": float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))) if p.size else None,
        "ece": calibration.ece if calibration else None,
        "mce": calibration.mce if calibration else None,
        "mce_min_bin_count": 10,
        "apfd": float(np.mean(apfds)) if apfds else None,
        "apfdc": float(np.mean(apfdcs)) if apfdcs else None,
        "budgets": [_at_budget(scored, b, _ranked(b)) for b in budgets],
        "select_budgets": [_at_budget(scored, b, _as_select_would(b)) for b in budgets],
        "time_saved_at_detection": {f"{target:g}": time_saved(grid, target) for target in DETECTION_TARGETS},
    }


Chooser = Callable[[Scored], npt.NDArray[np.bool_]]  # the tests a selection runs in a scored cycle


def _ranked(budget: float) -> Chooser:
    """The ranking alone, walked within `budget` of the cycle's actual time: what the predictor's order buys."""
    return lambda s: select_within(s.order, s.cycle.durations, budget * float(s.cycle.durations.sum()))


def _as_select_would(budget: float) -> Chooser:
    """What `select` would have run at `budget` of the suite's expected time, by its own rules.

    New tests, tests that failed their last run and tests whose own file changed first, then the
    ranking and the exploration slice (`selection.budget.select`, as `select` and the selection in
    hindsight call it); the full run every tenth run is not counted.
    """
    return lambda s: select(s.cycle.tests, s.p_rank, s.seconds, Budget(fraction=budget), new=s.new,
                            failed_last=s.failed_last, changed_files=s.cycle.changed_files).selected  # fmt: skip


def _at_budget(scored: list[Scored], budget: float, choose: Chooser) -> dict[str, float]:
    """The figures at one budget, for the tests `choose` runs in each scored cycle."""
    caught = failures = transitions = transitions_caught = 0
    detected = failing_cycles = 0
    tests_run = tests_total = 0
    time_used = time_total = 0.0
    for s in scored:
        durations = s.cycle.durations
        chosen = choose(s)
        failed = s.cycle.failed
        caught += int((chosen & failed).sum())
        failures += int(failed.sum())
        transitions += int(s.transitions.sum())
        transitions_caught += int((chosen & s.transitions).sum())
        if failed.any():
            failing_cycles += 1
            detected += bool((chosen & failed).any())
        tests_run += int(chosen.sum())
        tests_total += len(chosen)
        time_used += float(durations[chosen].sum())
        time_total += float(durations.sum())

    def share(a: float, b: float) -> float:
        return a / b if b else 1.0

    return {
        "budget": budget,
        "failure_recall": share(caught, failures),
        "failing_cycle_detection": share(detected, failing_cycles),
        "transition_recall": share(transitions_caught, transitions),
        "tests_run": share(tests_run, tests_total),
        "time_used": share(time_used, time_total),
    }


def detected_by_budget(s: Scored) -> npt.NDArray[np.bool_]:
    """Whether a selection at each budget of `BUDGET_GRID` (0 to 100% in steps of 0.5%) runs a failing test.

    Only the budgets between two bounds need a walk: one that fits every test up to the first
    failing one detects the cycle, and one that fits no failing test at all cannot. The ranking
    after its last failing test changes nothing, so the walks stop there.
    """
    durations, failed = s.cycle.durations, s.cycle.failed
    ranked_failing = np.flatnonzero(failed[s.order])
    if not ranked_failing.size:
        return np.zeros(len(BUDGET_GRID), dtype=bool)
    total = float(durations.sum())
    ceilings = BUDGET_GRID * total + FIT_TOLERANCE  # as `walk` compares
    up_to_first = np.cumsum(durations[s.order[: ranked_failing[0] + 1]])[-1]  # added in order, as a walk adds
    detected: npt.NDArray[np.bool_] = ceilings >= up_to_first
    order = s.order[: ranked_failing[-1] + 1]
    for k in np.flatnonzero(~detected & (ceilings >= durations[failed].min())):
        detected[k] = failed[walk(order, durations, 0.0, float(BUDGET_GRID[k] * total))[0]].any()
    return detected


def time_saved(detection: FloatArray, target: float) -> float | None:
    """1 − the smallest budget whose failing-cycle detection (a share per `BUDGET_GRID` budget) reaches the target."""
    reached = np.nonzero(detection >= target - 1e-12)[0]
    return None if reached.size == 0 else float(1.0 - BUDGET_GRID[reached[0]])


def predictions_rows(scored: list[Scored]) -> Iterator[dict[str, Any]]:
    """One row per (cycle, test) for `--emit-predictions`: enough to recompute every figure."""
    for s in scored:
        ranks = np.empty(len(s.order), dtype=np.intp)
        ranks[s.order] = np.arange(1, len(s.order) + 1)
        for i, name in enumerate(s.cycle.tests):
            yield {
                "cycle": s.cycle.cycle,
                "test": name,
                "p_fail": float(s.p_fail[i]),
                "rank": int(ranks[i]),
                "failed": bool(s.cycle.failed[i]),
                "duration": float(s.cycle.durations[i]),
            }


def run_backtest(cycles: list[Cycle], make_model: Callable[[], Predictor], warmup: int = 10,
                 budgets: tuple[float, ...] = DEFAULT_BUDGETS,
                 step: Callable[[], object] = lambda: None) -> tuple[dict[str, Any], list[Scored]]:  # fmt: skip
    """Replay and evaluate; `step` is called after each scored cycle (for progress)."""
    scored = []
    for each in replay(cycles, make_model(), warmup):
        scored.append(each)
        step()
    return evaluate(scored, budgets), scored
