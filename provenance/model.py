"""Failure prediction learnt from the project's own history, incrementally.

The state is per-test sufficient statistics (runs, failures, last duration) and the running
global failure rate. A test's failure probability is its failure rate shrunk toward the global
rate by a Beta prior of weight 2, which keeps new and rarely run tests near the global rate
instead of at 0 or 1. Each run updates the state once, so predicting and updating cost time in
proportion to the tests in the run, never to the length of the history. numpy only.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from provenance.errors import InputError

FloatArray = npt.NDArray[np.float64]
MODEL_VERSION = "provenance-shrunk-rate-1"
PRIOR_WEIGHT = 2.0
_MIN_SECONDS = 1e-3


def _empty() -> FloatArray:
    return np.zeros(0)


@dataclass
class Model:
    """Per-test counts and durations, and the global counts they are shrunk toward."""

    names: list[str] = field(default_factory=list)
    runs: FloatArray = field(default_factory=_empty)
    fails: FloatArray = field(default_factory=_empty)
    last_duration: FloatArray = field(default_factory=_empty)
    total_runs: float = 0.0
    total_fails: float = 0.0
    cycles: int = 0
    ledger_head: str = ""
    # Per ledger entry, oldest first and only the last few: the calibration totals of its
    # predictions (`BinTotals.to_row`), so the rolling window need not read the entries again.
    scored_runs: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {name: i for i, name in enumerate(self.names)}

    def _indices(self, tests: list[str]) -> npt.NDArray[np.intp]:
        """Indices of the tests in the state arrays, adding new tests with empty statistics."""
        index = self._index
        new = list(dict.fromkeys(t for t in tests if t not in index))
        if new:
            start = len(self.names)
            self.names.extend(new)
            for offset, name in enumerate(new):
                index[name] = start + offset
            grow = np.zeros(len(new))
            self.runs = np.concatenate([self.runs, grow])
            self.fails = np.concatenate([self.fails, grow])
            self.last_duration = np.concatenate([self.last_duration, grow])
        return np.fromiter(map(index.__getitem__, tests), dtype=np.intp, count=len(tests))

    @property
    def global_rate(self) -> float:
        """The failure rate over every test run so far, with a weak prior at 1%."""
        return (self.total_fails + 0.01) / (self.total_runs + 1.0)

    def predict(self, tests: list[str], changed_files: list[str] | None = None) -> FloatArray:
        """Failure probability of each test in the coming run: (failures + 2g) / (runs + 2)."""
        idx = self._indices(tests)
        return (self.fails[idx] + PRIOR_WEIGHT * self.global_rate) / (self.runs[idx] + PRIOR_WEIGHT)

    def is_new(self, tests: list[str]) -> npt.NDArray[np.bool_]:
        """Which tests the model has never seen run."""
        return np.asarray(self.runs[self._indices(tests)] == 0)

    def expected_seconds(self, tests: list[str]) -> FloatArray:
        """Each test's cost from past durations only: its last one, or the median for new tests."""
        idx = self._indices(tests)
        seen = self.runs[idx] > 0
        known = self.last_duration[self.runs > 0]
        fallback = float(np.median(known)) if known.size else 1.0
        return np.where(seen, self.last_duration[idx], fallback)

    def update(
        self,
        tests: list[str],
        failed: npt.NDArray[np.bool_],
        durations: FloatArray,
        changed_files: list[str] | None = None,
    ) -> None:
        """Learn from one finished run."""
        idx = self._indices(tests)
        self.runs[idx] += 1.0
        self.fails[idx] += failed
        self.last_duration[idx] = durations
        self.total_runs += len(tests)
        self.total_fails += float(failed.sum())
        self.cycles += 1

    def remember_scores(self, row: FloatArray, keep: int) -> None:
        """Keep the calibration totals of the run just learnt, and of at most `keep` runs in all."""
        rows = np.vstack([self.scored_runs, row]) if self.scored_runs.size else row.reshape(1, -1)
        self.scored_runs = rows[-keep:]

    def to_bytes(self) -> bytes:
        """The state as an npz archive (names as JSON); the same state gives the same bytes."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            version=np.frombuffer(MODEL_VERSION.encode(), dtype=np.uint8),
            names=np.frombuffer(orjson.dumps(self.names), dtype=np.uint8),
            stats=np.vstack([self.runs, self.fails, self.last_duration]),
            totals=np.array([self.total_runs, self.total_fails, float(self.cycles)]),
            ledger_head=np.frombuffer(self.ledger_head.encode(), dtype=np.uint8),
            scored_runs=self.scored_runs,
        )
        return buffer.getvalue()

    @property
    def digest(self) -> str:
        """sha256 of the serialised state: the `model_hash` a provenance record names."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "model state") -> Model:
        """Load a state written by `to_bytes`."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                version = bytes(archive["version"]).decode()
                if version != MODEL_VERSION:
                    raise ValueError(f"written by {version}, expected {MODEL_VERSION}")
                stats, totals = archive["stats"], archive["totals"]
                return cls(
                    names=list(orjson.loads(bytes(archive["names"]))),
                    runs=stats[0].copy(),
                    fails=stats[1].copy(),
                    last_duration=stats[2].copy(),
                    total_runs=float(totals[0]),
                    total_fails=float(totals[1]),
                    cycles=int(totals[2]),
                    ledger_head=bytes(archive["ledger_head"]).decode(),
                    # A state from before the totals were kept: the window is read from the ledger once.
                    scored_runs=archive["scored_runs"] if "scored_runs" in archive.files else np.zeros((0, 0)),
                )
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise InputError(f"not a model state ({exc})", source=source) from None

    def save(self, path: Path) -> None:
        """Write the state atomically."""
        from provenance.files import atomic_write

        atomic_write(path, self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> Model:
        """Read a state file."""
        return cls.from_bytes(path.read_bytes(), str(path))


def rebuild(cycles: list[Any]) -> Model:
    """The state after learning from every cycle of a history, in order."""
    model = Model()
    for cycle in cycles:
        model.update(cycle.tests, cycle.failed, cycle.durations, cycle.changed_files)
    return model


def seconds_floor(seconds: FloatArray) -> FloatArray:
    """Costs below 1 ms are taken as 1 ms so a per-second ranking stays finite."""
    return np.maximum(seconds, _MIN_SECONDS)
