"""Calibration: how far predicted failure probabilities are from the failure rates that followed.

Conventions (docs/metrics.md): bins are right-closed, `(e[k-1], e[k]]`, with 0 in the first bin,
exactly as scikit-learn's `calibration_curve` assigns them; empty bins are skipped; ECE weights
each bin's gap by its share of the samples; MCE is the largest gap over bins holding at least
`min_bin_count` samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.errors import InputError
from provenance.reading import loads, read_input

FloatArray = npt.NDArray[np.float64]


class BinStrategy(StrEnum):
    """Equal-width bins, or equal-mass bins at the predictions' quantiles."""

    UNIFORM = "uniform"
    QUANTILE = "quantile"


@dataclass(frozen=True)
class ReliabilityDiagram:
    """Per non-empty bin: where it lies, what was predicted and what happened."""

    bin_edges: list[float]
    bin_centers: list[float]
    mean_predicted: list[float]
    empirical_probs: list[float]
    bin_counts: list[int]


@dataclass(frozen=True)
class CalibrationReport:
    """Every figure `provenance calibrate` prints."""

    brier_score: float
    ece: float
    mce: float
    mce_min_bin_count: int
    n_samples: int
    base_rate: float
    reliability: float
    resolution: float
    uncertainty: float
    n_bins: int
    strategy: BinStrategy
    reliability_diagram: ReliabilityDiagram

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, in the order the command-line contract lists the fields."""
        diagram = self.reliability_diagram
        return {
            "brier_score": self.brier_score,
            "ece": self.ece,
            "mce": self.mce,
            "n_samples": self.n_samples,
            "base_rate": self.base_rate,
            "reliability_diagram": {
                "bin_edges": diagram.bin_edges,
                "bin_centers": diagram.bin_centers,
                "mean_predicted": diagram.mean_predicted,
                "empirical_probs": diagram.empirical_probs,
                "bin_counts": diagram.bin_counts,
            },
            "mce_min_bin_count": self.mce_min_bin_count,
            "murphy": {"reliability": self.reliability, "resolution": self.resolution, "uncertainty": self.uncertainty},
            "n_bins": self.n_bins,
            "strategy": self.strategy.value,
        }


def check_inputs(
    p_fail: npt.ArrayLike, failed: npt.ArrayLike, source: str = "predictions"
) -> tuple[FloatArray, FloatArray]:
    """Validate and convert: probabilities finite and within [0, 1], outcomes 0 or 1, same length."""
    p = np.asarray(p_fail, dtype=np.float64)
    y = np.asarray(failed, dtype=np.float64)
    if p.ndim != 1 or y.ndim != 1 or p.shape != y.shape:
        raise InputError("expected as many outcomes as probabilities", source=source)
    if p.size == 0:
        raise InputError("no predictions to score", source=source)
    bad = ~np.isfinite(p) | (p < 0.0) | (p > 1.0)
    if bad.any():
        index = int(np.argmax(bad))
        raise InputError(
            f"expected a probability in [0, 1], got {float(p[index])!r} (record {index + 1})",
            source=source,
            field="p_fail",
        )
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("expected outcomes of 0 or 1", source=source, field="failed")
    return p, y


# More bins than this hold nothing each, and the diagram's arrays would be the memory's size.
MAX_BINS = 10_000


def bin_edges(p: FloatArray, n_bins: int, strategy: BinStrategy) -> FloatArray:
    """The `n_bins + 1` edges; quantile edges are the predictions' percentiles (as scikit-learn)."""
    if not 1 <= n_bins <= MAX_BINS:
        raise InputError(f"expected 1 to {MAX_BINS:,} bins, got {n_bins}", field="bins")
    if strategy is BinStrategy.QUANTILE:
        return np.asarray(np.percentile(p, np.linspace(0.0, 100.0, n_bins + 1)), dtype=np.float64)
    return np.linspace(0.0, 1.0, n_bins + 1)


def assign_bins(p: FloatArray, edges: FloatArray) -> npt.NDArray[np.intp]:
    """Bin index per prediction: right-closed bins, 0 in the first (scikit-learn's rule)."""
    return np.searchsorted(edges[1:-1], p, side="left")


@dataclass(frozen=True)
class BinTotals:
    """Per bin, how many predictions there were, their sum and the sum of outcomes; and the squared error.

    Every figure is a function of these, and the totals of several sets of predictions add up:
    a rolling window keeps one small row per run instead of every prediction.
    """

    counts: FloatArray
    sum_p: FloatArray
    sum_y: FloatArray
    squared_error: float

    @classmethod
    def of(cls, p: FloatArray, y: FloatArray, edges: FloatArray) -> BinTotals:
        """The totals of checked predictions `p` and outcomes `y` in the bins `edges` bound."""
        ids, n_bins = assign_bins(p, edges), edges.size - 1

        def total(weights: FloatArray | None) -> FloatArray:
            return np.bincount(ids, weights=weights, minlength=n_bins).astype(np.float64, copy=False)

        return cls(total(None), total(p), total(y), float(np.sum((p - y) ** 2)))

    def __add__(self, other: BinTotals) -> BinTotals:
        return BinTotals(self.counts + other.counts, self.sum_p + other.sum_p, self.sum_y + other.sum_y,
                         self.squared_error + other.squared_error)  # fmt: skip

    def to_row(self) -> FloatArray:
        """One flat row, for storing: the counts, the two sums, then the squared error."""
        return np.concatenate([self.counts, self.sum_p, self.sum_y, [self.squared_error]])

    @classmethod
    def from_row(cls, row: FloatArray) -> BinTotals:
        """Read a row written by `to_row`."""
        n_bins = (row.size - 1) // 3
        return cls(row[:n_bins], row[n_bins : 2 * n_bins], row[2 * n_bins : 3 * n_bins], float(row[-1]))


def calibrate(
    p_fail: npt.ArrayLike,
    failed: npt.ArrayLike,
    *,
    n_bins: int = 10,
    strategy: BinStrategy = BinStrategy.UNIFORM,
    min_bin_count: int = 1,
    source: str = "predictions",
) -> CalibrationReport:
    """All calibration figures for one set of predictions and outcomes."""
    p, y = check_inputs(p_fail, failed, source)
    edges = bin_edges(p, n_bins, strategy)
    return report(BinTotals.of(p, y, edges), edges, strategy, min_bin_count)


def report(
    totals: BinTotals, edges: FloatArray, strategy: BinStrategy = BinStrategy.UNIFORM, min_bin_count: int = 1
) -> CalibrationReport:
    """All calibration figures from bin totals (at least one prediction)."""
    if min_bin_count < 1:
        raise InputError(f"expected a minimum bin count of at least 1, got {min_bin_count}", field="min-bin-count")
    counts, sum_p, sum_y = totals.counts, totals.sum_p, totals.sum_y
    nonempty = counts > 0
    n = float(counts.sum())
    mean_p = sum_p[nonempty] / counts[nonempty]
    mean_y = sum_y[nonempty] / counts[nonempty]
    weights = counts[nonempty] / n
    gaps = np.abs(mean_y - mean_p)
    eligible = counts[nonempty] >= min_bin_count
    base_rate = float(sum_y.sum() / n)
    centers = (edges[:-1] + edges[1:]) / 2.0
    n_bins = edges.size - 1
    return CalibrationReport(
        brier_score=totals.squared_error / n,
        ece=float(np.sum(weights * gaps)),
        mce=float(gaps[eligible].max()) if eligible.any() else 0.0,
        mce_min_bin_count=min_bin_count,
        n_samples=int(n),
        base_rate=base_rate,
        reliability=float(np.sum(weights * (mean_p - mean_y) ** 2)),
        resolution=float(np.sum(weights * (mean_y - base_rate) ** 2)),
        uncertainty=base_rate * (1.0 - base_rate),
        n_bins=n_bins,
        strategy=strategy,
        reliability_diagram=ReliabilityDiagram(
            bin_edges=[float(e) for e in edges],
            bin_centers=[float(c) for c in centers[nonempty]],
            mean_predicted=[float(v) for v in mean_p],
            empirical_probs=[float(v) for v in mean_y],
            bin_counts=[int(c) for c in counts[nonempty]],
        ),
    )


_NUMBER = (float, int)


def read_predictions(path: str) -> tuple[FloatArray, FloatArray]:
    """Read JSON lines `{"p_fail": float, "failed": bool}`; a million lines in about a second.

    orjson parses each line; types are checked in the same pass, so a string or a missing key
    is reported with its line number rather than converted.
    """
    import orjson

    data = read_input(path)
    loads = orjson.loads
    probabilities: list[float] = []
    outcomes: list[bool] = []
    add_p, add_y = probabilities.append, outcomes.append
    number = 0
    try:
        for number, line in enumerate(data.splitlines(), start=1):  # noqa: B007 - used in the message
            if not line.strip():
                continue
            record = loads(line)
            p, failed = record["p_fail"], record["failed"]
            if type(p) not in _NUMBER or type(failed) is not bool:
                raise TypeError
            add_p(p)
            add_y(failed)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", source=path, field=f"line {number}") from None
    except (KeyError, TypeError):
        raise InputError(
            'expected an object {"p_fail": <number in [0, 1]>, "failed": <true|false>}',
            source=path,
            field=f"line {number}",
        ) from None
    return np.array(probabilities, dtype=np.float64), np.array(outcomes, dtype=np.float64)


# The key of a test's id in every predictions file: `backtest --emit-predictions` writes it, `run`
# reads it. `nodeid`, the key `run` first read, is still read until the next release, with a warning.
TEST_KEY, OLD_TEST_KEY = "test", "nodeid"
_KEYS_READ = (b'"test"', b'"nodeid"', b'"p_fail"')


def read_test_predictions(path: str) -> tuple[dict[str, float], bool]:
    """Per-test predictions for a run: JSON lines `{"test": str, "p_fail": float}` (other keys ignored).

    Also whether any line named its test by the old key `nodeid`.
    """
    import orjson

    data = read_input(path, field="predictions")
    predictions: dict[str, float] = {}
    old_key = False
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        if any(line.count(key) > 1 for key in _KEYS_READ):  # orjson keeps the last of a key given twice
            loads(line, source=path, field=f"line {number}")  # refused, naming the key, if it really is
        try:
            record = orjson.loads(line)
            test = record.get(TEST_KEY, record.get(OLD_TEST_KEY))
            old_key = old_key or TEST_KEY not in record
            p = record["p_fail"]
        except (orjson.JSONDecodeError, AttributeError, KeyError):
            test = p = None
        if not isinstance(test, str) or type(p) not in _NUMBER or not 0.0 <= p <= 1.0:
            raise InputError(
                'expected an object {"test": <node id>, "p_fail": <number in [0, 1]>}',
                source=path,
                field=f"line {number}",
            )
        predictions[test] = float(p)
    return predictions, old_key
