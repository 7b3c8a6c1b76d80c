"""Calibration by week: the predictions each entry recorded, scored against what followed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import brier_score_loss

from provenance.learning.calibration import calibrate
from provenance.site.build import page_data
from tests.support.history import write_runs


def test_brier_by_iso_week_and_the_diagram_over_the_whole_history(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    runs, pairs_by_week = [], {}
    for run in range(28):  # a day apart from Tuesday 2026-09-01: weeks 36 to 40
        rows, pairs = [], []
        for k in range(40):
            p = float(rng.uniform(0, 0.6)) if run else None
            failed = bool(rng.random() < (p or 0.2))
            result = "skip" if k == 39 else ("fail" if failed else "pass")
            rows.append((f"tests/test_{k}.py::test_it", result, 0.1, p))
            if p is not None and result != "skip":
                pairs.append((p, failed))
        runs.append(rows)
        week = 36 + (run + 1) // 7  # Tuesday is day 2 of its ISO week
        pairs_by_week.setdefault(f"2026-W{week}", []).extend(pairs)
    write_runs(tmp_path / "ledger.jsonl", runs, hours_apart=24)
    calibration = page_data(tmp_path / "ledger.jsonl")["calibration"]
    assert [w["week"] for w in calibration["weeks"]] == sorted(pairs_by_week)
    for week in calibration["weeks"]:
        p, y = np.array(pairs_by_week[week["week"]]).T
        assert week["n"] == len(p)  # the first run (no predictions) and skipped tests are left out
        assert week["brier"] == brier_score_loss(y, p)
        assert week["base_rate"] == y.mean()
    p, y = np.array([pair for week in pairs_by_week.values() for pair in week]).T
    whole = calibrate(p, y, n_bins=10)
    assert calibration["brier"] == whole.brier_score and calibration["ece"] == whole.ece
    assert calibration["diagram"]["bin_counts"] == whole.reliability_diagram.bin_counts
    assert sum(calibration["diagram"]["bin_counts"]) == len(p) == 27 * 39


def test_a_history_without_predictions_has_no_calibration(tmp_path: Path) -> None:
    write_runs(tmp_path / "ledger.jsonl", [[("t.py::test_a", "pass", 0.1, None)]] * 3)
    assert page_data(tmp_path / "ledger.jsonl")["calibration"] is None
