"""Per test: its last results and durations, and how often its outcome flipped (the flaky ranking).

A flip is a change between passing and failing from one run of the test to its next; skips are
not outcomes and neither break nor make a flip. A test is listed as flaky when it flipped at least
`FLAKY_FLIPS` times: failed, passed again and failed again, which one regression and its fix
(two flips) never does. The state is kept in arrays, one row per test, so an entry of thousands of
tests is taken in a few array operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.reports.common import file_of_nodeid
from provenance.site.history import Catalog, Columns

STRIP_LENGTH = 30
FLAKY_FLIPS = 3
FLAKY_LISTED = 200
_NONE = -1


class Strips:
    """Every test's last results, durations and flips; fed one entry at a time."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._rows = 0
        self.codes = np.zeros((0, STRIP_LENGTH), dtype=np.uint8)  # ring buffers, `runs % STRIP_LENGTH` next
        self.seconds = np.zeros((0, STRIP_LENGTH), dtype=np.float64)
        self.runs = np.zeros(0, dtype=np.int64)
        self.decided = np.zeros(0, dtype=np.int64)
        self.failures = np.zeros(0, dtype=np.int64)
        self.flips = np.zeros(0, dtype=np.int64)
        self.first_flip = np.zeros(0, dtype=np.int64)  # seq of the entry, _NONE before the first
        self.last_flip = np.zeros(0, dtype=np.int64)
        self.last_failed = np.zeros(0, dtype=np.int8)  # the last pass (0) or failure (1); _NONE before any

    def _grow(self, rows: int) -> None:
        if rows <= len(self.runs):
            return
        size = max(rows, 2 * len(self.runs), 64)
        extra = size - len(self.runs)

        def more(array: npt.NDArray[Any], fill: int = 0) -> npt.NDArray[Any]:
            return np.concatenate([array, np.full((extra, *array.shape[1:]), fill, dtype=array.dtype)])

        self.codes, self.seconds = more(self.codes), more(self.seconds)
        self.runs, self.decided, self.failures, self.flips = (
            more(a) for a in (self.runs, self.decided, self.failures, self.flips)
        )
        self.first_flip, self.last_flip, self.last_failed = (
            more(a, _NONE) for a in (self.first_flip, self.last_flip, self.last_failed)
        )

    def add(self, columns: Columns) -> None:
        """Take one entry's results."""
        self._grow(len(self.catalog.names))
        test, seq = columns.test, columns.entry.seq
        slot = self.runs[test] % STRIP_LENGTH
        self.codes[test, slot] = columns.code
        self.seconds[test, slot] = columns.seconds
        self.runs[test] += 1
        decided = columns.decided
        test, failed = test[decided], columns.failed[decided].astype(np.int8)
        self.decided[test] += 1
        self.failures[test] += failed
        before = self.last_failed[test]
        flipped = (before != _NONE) & (before != failed)
        self.flips[test] += flipped
        flipped_tests = test[flipped]
        first = flipped_tests[self.first_flip[flipped_tests] == _NONE]
        self.first_flip[first] = seq
        self.last_flip[flipped_tests] = seq
        self.last_failed[test] = failed

    def _recent(self, row: int) -> tuple[str, list[float]]:
        """A test's last results (as letters) and durations, oldest first."""
        runs = int(self.runs[row])
        count = min(runs, STRIP_LENGTH)
        order = [(runs - count + k) % STRIP_LENGTH for k in range(count)]
        codes = self.codes[row, order].tobytes().decode("ascii")
        return codes, [float(f"{s:.4g}") for s in self.seconds[row, order].tolist()]

    def columns(self) -> dict[str, list[Any]]:
        """The page's test table, one list per column (smaller than one object per test)."""
        names = self.catalog.names
        count = len(names)
        recent = [self._recent(row) for row in range(count)]
        return {
            "name": names,
            "file": [file_of_nodeid(name) for name in names],
            "strip": [codes for codes, _ in recent],
            "durations": [seconds for _, seconds in recent],
            "runs": self.runs[:count].tolist(),
            "failures": self.failures[:count].tolist(),
            "flips": self.flips[:count].tolist(),
        }

    def flip_rates(self) -> npt.NDArray[np.float64]:
        """Flips per chance to flip: over each test's passes and failures, one fewer than their number."""
        count = len(self.catalog.names)
        chances = self.decided[:count] - 1
        return np.where(chances > 0, self.flips[:count] / np.maximum(chances, 1), 0.0)

    def flaky(self) -> list[dict[str, Any]]:
        """Tests that flipped at least `FLAKY_FLIPS` times, by flip rate, then flips, then name."""
        rates = self.flip_rates()
        names = self.catalog.names
        found = [int(row) for row in np.nonzero(self.flips[: len(names)] >= FLAKY_FLIPS)[0]]
        found.sort(key=lambda row: (-rates[row], -self.flips[row], names[row]))
        return [
            {"test": row, "flip_rate": round(float(rates[row]), 4), "flips": int(self.flips[row]),
             "runs": int(self.runs[row]), "failures": int(self.failures[row]),
             "first_flip": int(self.first_flip[row]), "last_flip": int(self.last_flip[row])}
            for row in found[:FLAKY_LISTED]
        ]  # fmt: skip
