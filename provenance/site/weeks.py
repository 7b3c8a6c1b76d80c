"""The model's calibration over time: the reliability diagram over the whole history, and Brier by week.

Each ledger entry keeps the failure probability predicted for each test before the run (`p_fail`);
scored against what happened, they show whether the model's probabilities can be taken at their
word, and whether that changed. Skipped tests are no outcome and are left out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np

from provenance.errors import InputError
from provenance.learning.calibration import calibrate
from provenance.site.history import Columns, Entry

DIAGRAM_BINS = 10


class Weeks:
    """Predictions and outcomes grouped by the ISO week their run was recorded in."""

    def __init__(self) -> None:
        self._p: dict[tuple[int, int], list[np.ndarray[Any, np.dtype[np.float64]]]] = {}
        self._y: dict[tuple[int, int], list[np.ndarray[Any, np.dtype[np.float64]]]] = {}

    def add(self, columns: Columns) -> None:
        """Take one entry's predictions (those it has) with their outcomes."""
        scored = columns.decided & ~np.isnan(columns.p_fail)
        if not scored.any():
            return
        year, week, _ = _day(columns.entry).isocalendar()
        self._p.setdefault((year, week), []).append(columns.p_fail[scored])
        self._y.setdefault((year, week), []).append(columns.failed[scored].astype(np.float64))

    def summary(self) -> dict[str, Any] | None:
        """The diagram and the whole history's figures, then one row per week; None without predictions."""
        if not self._p:
            return None
        weeks = sorted(self._p)
        rows = []
        for key in weeks:
            p, y = np.concatenate(self._p[key]), np.concatenate(self._y[key])
            figures = calibrate(p, y, n_bins=DIAGRAM_BINS)
            rows.append({"week": f"{key[0]}-W{key[1]:02d}", "start": date.fromisocalendar(*key, 1).isoformat(),
                         "brier": figures.brier_score, "ece": figures.ece, "n": figures.n_samples,
                         "base_rate": figures.base_rate, "mean_predicted": float(p.mean())})  # fmt: skip
        p = np.concatenate([part for key in weeks for part in self._p[key]])
        y = np.concatenate([part for key in weeks for part in self._y[key]])
        whole = calibrate(p, y, n_bins=DIAGRAM_BINS)
        diagram = whole.reliability_diagram
        return {
            "brier": whole.brier_score,
            "ece": whole.ece,
            "n": whole.n_samples,
            "base_rate": whole.base_rate,
            "diagram": {
                "bin_edges": diagram.bin_edges,
                "mean_predicted": diagram.mean_predicted,
                "empirical_probs": diagram.empirical_probs,
                "bin_counts": diagram.bin_counts,
            },
            "weeks": rows,
        }


def _day(entry: Entry) -> date:
    """The day the entry was recorded (RFC 3339 as the ledger writes it, `...Z` or `+00:00`)."""
    try:
        return datetime.fromisoformat(entry.recorded_at).date()
    except ValueError:
        raise InputError("expected an RFC 3339 timestamp", source=f"ledger entry {entry.seq}",
                         field="recorded_at") from None  # fmt: skip
