"""What selection would have saved: each run replayed with the predictions its entry recorded.

Before a run, only the predictions (`p_fail`, recorded in the entry before the outcome was known)
and the tests' earlier durations are known; the run is then walked in order of expected failures
per second, taking each test that still fits in a share of the run's real test time, and judged on
what really failed. Runs whose tests were not all predicted (the first run, a history written
before predictions were kept) are not replayed, nor runs before the last `REPLAYED_RUNS`: what
selection would save now, at a cost that does not grow with the history (the durations are still
learnt from every run).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.learning.epistemic import rank_by_failure_probability
from provenance.selection.backtest import select_within
from provenance.site.history import Catalog, Columns

BUDGETS = (0.1, 0.2, 0.3, 0.5, 0.7)
REPLAYED_RUNS = 1000
FloatArray = npt.NDArray[np.float64]


class Savings:
    """Per budget: the test time a selection would have run and the failing tests it would have caught."""

    def __init__(self, catalog: Catalog, entries: int) -> None:
        self.catalog = catalog
        self.first_replayed = entries - REPLAYED_RUNS  # the position of the first entry replayed
        self._position = 0
        self._last_seconds = np.zeros(0)  # NaN: never ran
        self.runs = self.failing_runs = self.failures = 0
        self.seconds_total = 0.0
        self.seconds_selected = np.zeros(len(BUDGETS))
        self.caught = np.zeros(len(BUDGETS), dtype=np.int64)

    def add(self, columns: Columns) -> None:
        """Replay one entry if all its tests were predicted, then learn its durations."""
        known = len(self._last_seconds)
        if len(self.catalog.names) > known:
            grown = max(len(self.catalog.names), 2 * known)
            self._last_seconds = np.concatenate([self._last_seconds, np.full(grown - known, np.nan)])
        decided = columns.decided
        test, p = columns.test[decided], columns.p_fail[decided]
        seconds = columns.seconds[decided]
        self._position += 1
        if self._position > self.first_replayed and len(test) and not np.isnan(p).any():
            expected = self._last_seconds[test]
            unknown = np.isnan(expected)
            if unknown.any():
                seen = expected[~unknown]
                expected = np.where(unknown, float(np.median(seen)) if seen.size else 1.0, expected)
            self._replay(p, expected, seconds, columns.failed[decided])
        self._last_seconds[test] = seconds

    def _replay(self, p: FloatArray, expected: FloatArray, seconds: FloatArray, failed: npt.NDArray[np.bool_]) -> None:
        order = rank_by_failure_probability(p, expected)
        total = float(seconds.sum())
        self.runs += 1
        self.seconds_total += total
        self.failures += int(failed.sum())
        self.failing_runs += int(failed.any())
        for position, budget in enumerate(BUDGETS):
            chosen = select_within(order, seconds, budget * total)
            self.seconds_selected[position] += float(seconds[chosen].sum())
            self.caught[position] += int((chosen & failed).sum())

    def summary(self) -> dict[str, Any] | None:
        """One row per budget; None when no run could be replayed."""
        if not self.runs:
            return None
        rows = [{"budget": budget, "seconds_selected": float(self.seconds_selected[i]),
                 "saved_fraction": 1.0 - float(self.seconds_selected[i]) / self.seconds_total
                 if self.seconds_total > 0 else 0.0,
                 "caught": int(self.caught[i]),
                 "caught_fraction": int(self.caught[i]) / self.failures if self.failures else 1.0}
                for i, budget in enumerate(BUDGETS)]  # fmt: skip
        return {"runs": self.runs, "window": REPLAYED_RUNS, "failing_runs": self.failing_runs,
                "failures": self.failures, "seconds_total": self.seconds_total, "budgets": rows}  # fmt: skip
