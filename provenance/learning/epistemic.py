"""Epistemic figures: how much each test is worth running, in failures and in bits.

All functions are vectorised over the tests of a run; probabilities are failure probabilities in
[0, 1], durations are seconds. Definitions are in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
# A test that takes no measurable time would rank infinitely high per second; one millisecond is
# below what pytest reports for any real test and keeps the ranking finite and stable.
MIN_SECONDS = 1e-3


def bernoulli_entropy(p: npt.ArrayLike) -> FloatArray:
    """Entropy in bits of a pass/fail outcome with failure probability p; exactly 0 at 0 and 1."""
    q = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    out = np.zeros_like(q)
    inside = (q > 0.0) & (q < 1.0)
    r = q[inside]
    out[inside] = -(r * np.log2(r) + (1.0 - r) * np.log2(1.0 - r))
    return out


def expected_information_gain(p: npt.ArrayLike) -> FloatArray:
    """Bits expected from running a test: its outcome's entropy under the prediction.

    Observing a Bernoulli outcome whose probability the model gives as p removes, in expectation,
    exactly the entropy of that outcome from what we do not know about this run.
    """
    return bernoulli_entropy(p)


def _seconds(durations: npt.ArrayLike) -> FloatArray:
    return np.maximum(np.asarray(durations, dtype=np.float64), MIN_SECONDS)


def information_per_second(p: npt.ArrayLike, durations: npt.ArrayLike) -> FloatArray:
    """Expected bits per second of runner time."""
    return expected_information_gain(p) / _seconds(durations)


def information_per_dollar(p: npt.ArrayLike, durations: npt.ArrayLike, cost_per_minute: float) -> FloatArray:
    """Expected bits per dollar, at the runner's price per minute."""
    if cost_per_minute <= 0:
        raise ValueError("cost per minute must be positive")
    return expected_information_gain(p) / (_seconds(durations) / 60.0 * cost_per_minute)


def failures_per_second(p: npt.ArrayLike, durations: npt.ArrayLike) -> FloatArray:
    """Expected failures found per second: the ranking that catches the most failures soonest."""
    return np.asarray(p, dtype=np.float64) / _seconds(durations)


def rank(scores: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Indices from best to worst score; ties keep the input order, so rankings are reproducible."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def rank_by_failure_probability(p: npt.ArrayLike, durations: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Run order by expected failures per second (catches more failures overall)."""
    return rank(failures_per_second(p, durations))


def rank_by_information(p: npt.ArrayLike, durations: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Run order by expected bits per second (finds what the model is least sure of)."""
    return rank(information_per_second(p, durations))


def detection_rate(selected: npt.ArrayLike, failed: npt.ArrayLike) -> float:
    """Share of the run's failures that the selection includes (1.0 when nothing failed)."""
    chosen = np.asarray(selected, dtype=bool)
    outcome = np.asarray(failed, dtype=bool)
    total = int(outcome.sum())
    return 1.0 if total == 0 else float((chosen & outcome).sum() / total)


def compute_calibrated_confidence(confidence: float, ece: float) -> float:
    """Confidence discounted by the model's expected calibration error, clipped to [0, 1].

    ECE is the average gap between what the model claims and what happens, so a claim of
    `confidence` is only worth `confidence - ece` until the model proves better calibrated.
    """
    return float(min(1.0, max(0.0, confidence - ece)))


@dataclass(frozen=True)
class Efficiency:
    """How much a selection buys for its time."""

    tests_selected: int
    seconds_selected: float
    seconds_total: float
    expected_failures_caught: float
    expected_failures_total: float
    bits_selected: float
    bits_total: float

    @property
    def bits_per_second(self) -> float:
        """Expected information gained per second of the selection."""
        return self.bits_selected / self.seconds_selected if self.seconds_selected > 0 else 0.0

    @property
    def failures_per_second(self) -> float:
        """Expected failures caught per second of the selection."""
        return self.expected_failures_caught / self.seconds_selected if self.seconds_selected > 0 else 0.0

    @property
    def information_share(self) -> float:
        """Fraction of the whole suite's expected information the selection holds."""
        return self.bits_selected / self.bits_total if self.bits_total > 0 else 1.0

    @property
    def expected_detection(self) -> float:
        """Fraction of the expected failures the selection is expected to catch."""
        return self.expected_failures_caught / self.expected_failures_total if self.expected_failures_total > 0 else 1.0

    @property
    def time_share(self) -> float:
        """Fraction of the suite's time the selection takes."""
        return self.seconds_selected / self.seconds_total if self.seconds_total > 0 else 0.0


def efficiency(p: npt.ArrayLike, durations: npt.ArrayLike, selected: npt.ArrayLike) -> Efficiency:
    """The epistemic efficiency of running only `selected` (a boolean mask over the tests)."""
    probabilities = np.asarray(p, dtype=np.float64)
    seconds = np.asarray(durations, dtype=np.float64)
    mask = np.asarray(selected, dtype=bool)
    bits = expected_information_gain(probabilities)
    return Efficiency(
        tests_selected=int(mask.sum()),
        seconds_selected=float(seconds[mask].sum()),
        seconds_total=float(seconds.sum()),
        expected_failures_caught=float(probabilities[mask].sum()),
        expected_failures_total=float(probabilities.sum()),
        bits_selected=float(bits[mask].sum()),
        bits_total=float(bits.sum()),
    )


def top_k_information_share(p: npt.ArrayLike, k: int) -> float:
    """Fraction of the suite's expected information held by its k most informative tests."""
    bits = np.sort(expected_information_gain(p))[::-1]
    total = float(bits.sum())
    return 1.0 if total == 0 else float(bits[: max(0, k)].sum() / total)
