from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.learning.epistemic import (
    bernoulli_entropy,
    compute_calibrated_confidence,
    detection_rate,
    efficiency,
    expected_information_gain,
    failures_per_second,
    information_per_dollar,
    information_per_second,
    rank_by_failure_probability,
    rank_by_information,
    top_k_information_share,
)


def test_entropy_values() -> None:
    assert bernoulli_entropy([0.0, 1.0, 0.5]).tolist() == [0.0, 0.0, 1.0]
    assert bernoulli_entropy([0.1])[0] == pytest.approx(-(0.1 * math.log2(0.1) + 0.9 * math.log2(0.9)))
    # Stable next to the ends: no NaN, no negative values.
    tiny = bernoulli_entropy([1e-300, 1 - 1e-16, 5e-324])
    assert np.isfinite(tiny).all() and (tiny >= 0).all()


@given(st.floats(0.0, 1.0))
def test_entropy_is_symmetric_and_bounded(p: float) -> None:
    h = bernoulli_entropy([p, 1.0 - p])
    assert h[0] == pytest.approx(h[1], abs=1e-9)
    assert 0.0 <= h[0] <= 1.0


def test_per_second_and_per_dollar() -> None:
    p = np.array([0.5, 0.5, 0.01])
    seconds = np.array([2.0, 0.0, 1.0])
    assert information_per_second(p, seconds).tolist() == pytest.approx(
        [0.5, 1000.0, expected_information_gain([0.01])[0]]
    )
    # 2 s at $0.008 a minute costs $0.000266..., for 1 bit.
    assert information_per_dollar([0.5], [2.0], 0.008)[0] == pytest.approx(1 / (2 / 60 * 0.008))
    assert failures_per_second(p, seconds).tolist() == pytest.approx([0.25, 500.0, 0.01])
    with pytest.raises(ValueError):
        information_per_dollar([0.5], [1.0], 0.0)


def test_the_two_rankings_differ() -> None:
    """A likely failure ranks first by failures, an uncertain test first by information."""
    p = np.array([0.9, 0.5, 0.02])
    seconds = np.array([1.0, 1.0, 1.0])
    assert rank_by_failure_probability(p, seconds).tolist() == [0, 1, 2]
    assert rank_by_information(p, seconds).tolist() == [1, 0, 2]


def test_ties_keep_input_order() -> None:
    assert rank_by_failure_probability([0.1, 0.1, 0.1], [1, 1, 1]).tolist() == [0, 1, 2]


def test_detection_rate() -> None:
    assert detection_rate([True, False, True], [True, True, False]) == 0.5
    assert detection_rate([False, False], [False, False]) == 1.0


def test_efficiency_figures() -> None:
    p = np.array([0.5, 0.1, 0.0])
    seconds = np.array([1.0, 3.0, 6.0])
    figures = efficiency(p, seconds, [True, False, False])
    assert figures.tests_selected == 1
    assert figures.time_share == pytest.approx(0.1)
    assert figures.bits_per_second == pytest.approx(1.0)
    assert figures.failures_per_second == pytest.approx(0.5)
    assert figures.expected_detection == pytest.approx(0.5 / 0.6)
    assert figures.information_share == pytest.approx(1.0 / (1.0 + bernoulli_entropy([0.1])[0]))


def test_top_k_share() -> None:
    assert top_k_information_share([0.5, 0.5, 0.0, 0.0], 1) == pytest.approx(0.5)
    assert top_k_information_share([0.0, 1.0], 1) == 1.0


@pytest.mark.parametrize(("confidence", "ece", "expected"), [(0.9, 0.05, 0.85), (0.03, 0.05, 0.0), (1.0, 0.0, 1.0)])
def test_calibrated_confidence(confidence: float, ece: float, expected: float) -> None:
    assert compute_calibrated_confidence(confidence, ece) == pytest.approx(expected)
