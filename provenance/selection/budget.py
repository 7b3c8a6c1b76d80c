"""Test selection: the tests worth running within a budget, and what skipping the rest risks.

Tests are ranked by expected failures per second; a slice of the budget (10% by default) goes to the
tests the model is least sure of (entropy per second), so it keeps learning; new tests, tests that
failed their last run and tests whose own file changed always run (a gate that skipped a test known
to be failing would pass a branch that is still broken). The budget is a fraction of the suite's
expected time, a number of seconds, or a target confidence: the probability, under the model, that
no skipped test would have failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from provenance.learning.epistemic import rank_by_failure_probability, rank_by_information
from provenance.learning.model import seconds_floor
from provenance.reports.common import file_of_nodeid

FloatArray = npt.NDArray[np.float64]


class Reason(StrEnum):
    """Why a test runs, or why not: stable codes, for the audit file, the summary and scripts that read them."""

    NEW = "new"  # the model has never seen it
    FAILED_LAST_RUN = "failed-last-run"  # a gate that skipped it would pass a branch still broken
    FILE_CHANGED = "file-changed"  # its own file is among the changed files
    RANKED = "ranked"  # taken by expected failures per second, within the budget
    EXPLORATION = "exploration"  # taken from the budget's slice for the least certain tests
    CONFIDENCE_TARGET = "confidence-target"  # taken by expected failures per second until the target holds
    FULL_RUN = "full-run"  # every test runs: the first run, or every full-run-every-th
    BELOW_CUT_OFF = "below-cut-off"  # skipped: fewer failures per second than the last test the ranking took
    DID_NOT_FIT = "did-not-fit"  # skipped: ranked high enough, but longer than what was left of the budget


ALWAYS_RUN = (Reason.NEW, Reason.FAILED_LAST_RUN, Reason.FILE_CHANGED)
TAKEN_BY_RANK = (Reason.RANKED, Reason.CONFIDENCE_TARGET)


@dataclass(frozen=True)
class Budget:
    """Exactly one of: a fraction of the suite's expected time, seconds, or a target confidence."""

    fraction: float | None = None
    seconds: float | None = None
    confidence: float | None = None

    @classmethod
    def given(cls, fraction: float | None, seconds: float | None, confidence: float | None) -> Budget:
        """The budget the user set, or half of the suite's expected time when none was."""
        budget = cls(fraction, seconds, confidence)
        return budget if budget != cls() else cls(fraction=0.5)

    def describe(self) -> str:
        """The budget in words, for the summary and the records."""
        if self.confidence is not None:
            return f"confidence {self.confidence:g}"
        if self.seconds is not None:
            return f"{self.seconds:g} s"
        return f"{(self.fraction or 0) * 100:g}% of the suite's time"

    def seconds_for(self, total_seconds: float) -> float | None:
        """The time budget in seconds (None for a confidence target)."""
        if self.seconds is not None:
            return self.seconds
        if self.fraction is not None:
            return self.fraction * total_seconds
        return None


@dataclass(frozen=True)
class Selection:
    """The decision, with everything an auditor needs to see why."""

    tests: list[str]
    selected: npt.NDArray[np.bool_]
    p_fail: FloatArray
    seconds: FloatArray
    reasons: list[Reason | None]  # why each chosen test runs; None for a skipped one (explain.py says why)
    full_run: bool

    @property
    def selected_tests(self) -> list[str]:
        """Node ids to run, in the order the ranking chose them."""
        return [t for t, chosen in zip(self.tests, self.selected, strict=True) if chosen]

    @property
    def expected_seconds(self) -> float:
        """Expected time of the selection, from past durations."""
        return float(self.seconds[self.selected].sum())

    @property
    def confidence(self) -> float:
        """The probability, under the model, that none of the skipped tests would fail."""
        return float(np.prod(1.0 - self.p_fail[~self.selected]))


def select(
    tests: list[str],
    p_fail: FloatArray,
    seconds: FloatArray,
    budget: Budget,
    *,
    new: npt.NDArray[np.bool_],
    failed_last: npt.NDArray[np.bool_] | None = None,
    changed_files: list[str] | None = None,
    exploration: float = 0.1,
    full_run: bool = False,
) -> Selection:
    """Choose the tests to run."""
    n = len(tests)
    costs = seconds_floor(seconds)
    chosen = np.zeros(n, dtype=bool)
    reasons: list[Reason | None] = [None] * n
    if full_run:
        return Selection(tests, np.ones(n, dtype=bool), p_fail, seconds, [Reason.FULL_RUN] * n, True)
    for index in np.flatnonzero(new).tolist():
        chosen[index], reasons[index] = True, Reason.NEW
    if failed_last is not None:
        for index in np.flatnonzero(failed_last).tolist():
            chosen[index], reasons[index] = True, Reason.FAILED_LAST_RUN
    if changed_files:
        changed = set(changed_files)
        for i, test in enumerate(tests):
            if not chosen[i] and file_of_nodeid(test) in changed:
                chosen[i], reasons[i] = True, Reason.FILE_CHANGED
    if budget.confidence is not None:
        _fill_to_confidence(chosen, reasons, p_fail, costs, budget.confidence)
    else:
        limit = budget.seconds_for(float(seconds.sum())) or 0.0
        used = float(seconds[chosen].sum())
        main_limit = limit * (1.0 - exploration)
        used = _fill(chosen, reasons, rank_by_failure_probability(p_fail, costs), seconds, used, main_limit,
                     Reason.RANKED)  # fmt: skip
        _fill(chosen, reasons, rank_by_information(p_fail, costs), seconds, used, limit, Reason.EXPLORATION)
    return Selection(tests, chosen, p_fail, seconds, reasons, False)


def _fill(chosen: npt.NDArray[np.bool_], reasons: list[Reason | None], order: npt.NDArray[np.intp],
          seconds: FloatArray, used: float, limit: float, why: Reason) -> float:  # fmt: skip
    """Take each test of the ranking not chosen yet that still fits; returns the time used."""
    taken, used = walk(order[~chosen[order]], seconds, used, limit)
    for i in taken.tolist():
        chosen[i], reasons[i] = True, why
    return used


FIT_TOLERANCE = 1e-12  # a test fits when the time used with it is at most the limit plus this


def walk(
    order: npt.NDArray[np.intp], seconds: FloatArray, used: float, limit: float
) -> tuple[npt.NDArray[np.intp], float]:
    """Walk the ranking, taking each test that still fits under `limit`: the tests taken, and the time then used.

    A block at a time, as a run may have 100,000 tests: the tests that fit one after another are
    taken at once (their running total added in the ranking's order, as a walk adds them), the
    first that does not is passed over, and so is every test that no longer fits what is left.
    """
    ceiling = limit + FIT_TOLERANCE
    taken = []
    left = order
    while len(left):
        left = left[used + seconds[left] <= ceiling]
        if not len(left):
            break
        totals = np.cumsum(np.concatenate(([used], seconds[left])))[1:]
        fitting = int(np.argmax(totals > ceiling)) if totals[-1] > ceiling else len(left)
        taken.append(left[:fitting])
        used = float(totals[fitting - 1])
        left = left[fitting + 1 :]
    return (np.concatenate(taken) if taken else np.zeros(0, dtype=np.intp)), used


def _fill_to_confidence(chosen: npt.NDArray[np.bool_], reasons: list[Reason | None], p_fail: FloatArray,
                        costs: FloatArray, target: float) -> None:  # fmt: skip
    """Add tests by expected failures per second until the skipped ones would all pass with `target` probability."""
    log_keep = np.log1p(-np.clip(p_fail, 0.0, 1.0 - 1e-12))
    skipped = float(log_keep[~chosen].sum())
    goal = float(np.log(target)) if target > 0 else -np.inf
    for i in rank_by_failure_probability(p_fail, costs):
        if skipped >= goal:
            return
        if not chosen[i]:
            chosen[i], reasons[i] = True, Reason.CONFIDENCE_TARGET
            skipped -= float(log_keep[i])
