"""The run list, and each run's failures told apart: new, or known from the run before it.

A failure is known when the same test failed in the previous run of the same branch (of the
ledger's previous run when the branch has none before): what `fail-on: regression` calls a
known failure. The page lists the names for the most recent runs with failures.
"""

from __future__ import annotations

from typing import Any

from provenance.site.history import Columns

RUNS_WITH_NAMES = 50


class Runs:
    """Every run, as columns, and the new and known failures of the latest runs with failures."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {key: [] for key in (
            "seq", "run_id", "attempt", "recorded_at", "branch", "commit", "conclusion", "total", "failed",
            "errors", "skipped", "flaky", "new_failures", "walltime")}  # fmt: skip
        self.failures: list[dict[str, Any]] = []
        self._last_failing: dict[str | None, frozenset[int]] = {}
        self._previous: frozenset[int] = frozenset()

    def add(self, columns: Columns) -> None:
        """Take one entry's run and its failing tests (by their position in the page's test list)."""
        entry = columns.entry
        failing = frozenset(columns.test[columns.failed].tolist())
        before = self._last_failing.get(entry.branch, self._previous)
        new = sorted(failing - before)
        known = sorted(failing & before)
        self._last_failing[entry.branch] = self._previous = failing
        counts = entry.counts
        values = (entry.seq, entry.run_id, entry.run_attempt, entry.recorded_at, entry.branch, entry.commit,
                  entry.conclusion, counts.total, counts.failed, counts.errors, counts.skipped, counts.flaky,
                  len(new), entry.walltime_seconds)  # fmt: skip
        for column, value in zip(self.columns.values(), values, strict=True):
            column.append(value)
        if failing:
            self.failures.append({"seq": entry.seq, "new": new, "known": known})
            if len(self.failures) > 2 * RUNS_WITH_NAMES:  # trimmed now and then, not at every run
                del self.failures[:-RUNS_WITH_NAMES]

    def recent_failures(self) -> list[dict[str, Any]]:
        """The latest runs with failures, newest first, each with its new and known failing tests."""
        return self.failures[-RUNS_WITH_NAMES:][::-1]
