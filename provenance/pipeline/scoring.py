"""Scoring the predictions made before a run: its calibration, alone and over the rolling window."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from provenance.learning.calibration import BinTotals, CalibrationReport
from provenance.learning.calibration import report as calibration_report
from provenance.learning.history import Cycle, recent_predictions
from provenance.learning.model import Model
from provenance.schemas import CalibrationFigures, CalibrationSummary

# With failure rates near 1%, a bin of a handful of samples swings MCE to anything; bins with fewer
# samples than this are left out of the MCE the gate and the summary show (ECE keeps them).
MCE_MIN_BIN_COUNT = 10
# The run's calibration bins: ten of equal width, so the totals of runs add up over the window.
CALIBRATION_EDGES = np.linspace(0.0, 1.0, 11)


def run_scores(cycle: Cycle, predictions: dict[str, float]) -> BinTotals:
    """The calibration totals of a run's predictions, for the tests that had one."""
    p_fail = np.array([predictions.get(name, np.nan) for name in cycle.tests], dtype=np.float64)
    scored = ~np.isnan(p_fail)
    return BinTotals.of(p_fail[scored], cycle.failed[scored].astype(np.float64), CALIBRATION_EDGES)


def past_scores(model: Model, ledger_path: Path, count: int) -> list[BinTotals]:
    """The calibration totals of the last `count` ledger entries, oldest first.

    The model state keeps them; when it keeps fewer (it was rebuilt from the ledger, or the window
    grew), the entries themselves are read: an entry of a large suite is megabytes.
    """
    wanted = min(count, model.cycles)
    if len(model.scored_runs) >= wanted:
        return [BinTotals.from_row(row) for row in model.scored_runs[len(model.scored_runs) - wanted :]]
    return [run_scores(cycle, predicted) for cycle, predicted in recent_predictions(ledger_path, count)]


def calibrate_run(run: BinTotals, past: list[BinTotals]) -> CalibrationSummary | None:
    """Score the predictions made before this run, alone and over the rolling window (pure).

    The window is this run plus the previous `calibration-window - 1` ledger entries; only tests
    that had a prediction count. None when no prediction exists anywhere in the window.
    """
    scored = [totals for totals in (run, *past) if totals.counts.sum()]
    if not scored:
        return None

    def figures(totals: BinTotals) -> tuple[CalibrationFigures, CalibrationReport]:
        report = calibration_report(totals, CALIBRATION_EDGES, min_bin_count=MCE_MIN_BIN_COUNT)
        return CalibrationFigures(
            brier_score=report.brier_score, ece=report.ece, mce=report.mce,
            n_samples=report.n_samples, base_rate=report.base_rate,
        ), report  # fmt: skip

    window, report = figures(sum(scored[1:], scored[0]))
    diagram = report.reliability_diagram
    return CalibrationSummary(
        run=figures(run)[0] if run.counts.sum() else None,
        window=window,
        window_runs=len(scored),
        bins=report.n_bins,
        mce_min_bin_count=report.mce_min_bin_count,
        bin_centers=diagram.bin_centers,
        mean_predicted=diagram.mean_predicted,
        empirical_probs=diagram.empirical_probs,
        bin_counts=diagram.bin_counts,
    )
