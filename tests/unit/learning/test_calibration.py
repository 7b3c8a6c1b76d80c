from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from provenance.cli import main
from provenance.errors import InputError
from provenance.learning.calibration import (
    BinStrategy,
    BinTotals,
    assign_bins,
    bin_edges,
    calibrate,
    read_predictions,
    report,
)


def test_torchmetrics_documented_example() -> None:
    report = calibrate([0.25, 0.25, 0.55, 0.75, 0.75], [0, 0, 1, 1, 1], n_bins=2)
    assert round(report.ece, 4) == 0.2900
    assert round(report.mce, 4) == 0.3167


def test_hand_checked_vector() -> None:
    # bins of 0.25: [0, .25] holds .1 (0) and .25 (1); (.5, .75] holds .6 (1) and .7 (0); (.75, 1] holds .9 (1)
    report = calibrate([0.1, 0.25, 0.6, 0.7, 0.9], [0, 1, 1, 0, 1], n_bins=4)
    diagram = report.reliability_diagram
    assert diagram.bin_counts == [2, 2, 1]
    assert diagram.mean_predicted == pytest.approx([0.175, 0.65, 0.9])
    assert diagram.empirical_probs == pytest.approx([0.5, 0.5, 1.0])
    assert diagram.bin_centers == pytest.approx([0.125, 0.625, 0.875])
    assert report.ece == pytest.approx(2 / 5 * 0.325 + 2 / 5 * 0.15 + 1 / 5 * 0.1)
    assert report.mce == pytest.approx(0.325)
    assert report.brier_score == pytest.approx((0.01 + 0.5625 + 0.16 + 0.49 + 0.01) / 5)
    assert report.base_rate == pytest.approx(0.6)
    assert report.uncertainty == pytest.approx(0.24)


def test_edges_are_right_closed_with_zero_in_the_first_bin() -> None:
    edges = bin_edges(np.array([0.0]), 10, BinStrategy.UNIFORM)
    ids = assign_bins(np.array([0.0, 0.1, 0.1000001, 0.5, 0.9, 1.0]), edges)
    assert ids.tolist() == [0, 0, 1, 4, 8, 9]


def test_min_bin_count_drops_thin_bins_from_mce_only() -> None:
    p = [0.05] * 50 + [0.95]
    y = [0] * 49 + [1] + [0]
    full = calibrate(p, y, min_bin_count=1)
    guarded = calibrate(p, y, min_bin_count=10)
    assert full.mce == pytest.approx(0.95)
    assert guarded.mce == pytest.approx(0.03)
    assert guarded.ece == full.ece
    assert guarded.mce_min_bin_count == 10


@pytest.mark.parametrize(
    ("p", "y", "message"),
    [
        ([], [], "no predictions"),
        ([0.5, float("nan")], [0, 1], "expected a probability in [0, 1], got nan (record 2)"),
        ([1.5], [1], "got 1.5"),
        ([-0.1], [0], "got -0.1"),
        ([0.5], [2], "outcomes of 0 or 1"),
        ([0.5, 0.5], [1], "as many outcomes"),
    ],
)
def test_bad_input_is_a_clear_error(p: list[float], y: list[int], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        calibrate(p, y)


def test_one_class_and_one_sample() -> None:
    only_passes = calibrate([0.1, 0.2, 0.0], [0, 0, 0])
    assert only_passes.base_rate == 0.0 and only_passes.uncertainty == 0.0
    assert only_passes.resolution == 0.0
    single = calibrate([0.7], [1])
    assert single.n_samples == 1
    assert single.ece == pytest.approx(0.3) and single.mce == pytest.approx(0.3)
    assert single.brier_score == pytest.approx(0.09)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scikit_learn(strategy: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Away from bin edges: round to the middle of 1/1000 steps, never on a multiple of 0.1.
    p = (np.floor(rng.random(5000) * 1000) + 0.5) / 1000
    y = (rng.random(5000) < p**2).astype(float)
    report = calibrate(p, y, n_bins=10, strategy=BinStrategy(strategy))
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    assert report.reliability_diagram.empirical_probs == pytest.approx(prob_true.tolist(), abs=1e-12)
    assert report.reliability_diagram.mean_predicted == pytest.approx(prob_pred.tolist(), abs=1e-12)
    assert report.brier_score == pytest.approx(brier_score_loss(y, p), abs=1e-12)


@st.composite
def predictions(draw: st.DrawFn) -> tuple[list[float], list[int]]:
    n = draw(st.integers(1, 200))
    p = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return p, y


@given(predictions(), st.integers(1, 20), st.sampled_from(list(BinStrategy)))
def test_bounds_hold(data: tuple[list[float], list[int]], bins: int, strategy: BinStrategy) -> None:
    report = calibrate(*data, n_bins=bins, strategy=strategy)
    assert 0.0 <= report.ece <= report.mce + 1e-12 <= 1.0 + 1e-12
    assert 0.0 <= report.brier_score <= 1.0
    assert sum(report.reliability_diagram.bin_counts) == report.n_samples


@given(predictions(), st.randoms())
def test_order_does_not_matter(data: tuple[list[float], list[int]], random: object) -> None:
    p, y = data
    order = list(range(len(p)))
    random.shuffle(order)  # type: ignore[attr-defined]
    a = calibrate(p, y)
    b = calibrate([p[i] for i in order], [y[i] for i in order])
    assert a.ece == pytest.approx(b.ece, abs=1e-12)
    assert a.mce == pytest.approx(b.mce, abs=1e-12)
    assert a.brier_score == pytest.approx(b.brier_score, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_perfectly_calibrated_data_has_ece_near_zero(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.random(50_000)
    y = (rng.random(50_000) < p).astype(float)
    assert calibrate(p, y).ece < 0.02


def test_cli_prints_the_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "predictions.jsonl"
    rows = [
        {"p_fail": p, "failed": f} for p, f in [(0.25, False), (0.25, False), (0.55, True), (0.75, True), (0.75, True)]
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert main(["calibrate", "--predictions", str(path), "--bins", "2"], {}) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) >= {"brier_score", "ece", "mce", "n_samples", "base_rate", "reliability_diagram"}
    assert set(printed["reliability_diagram"]) == {
        "bin_edges", "bin_centers", "mean_predicted", "empirical_probs", "bin_counts",
    }  # fmt: skip
    assert printed["n_samples"] == 5 and round(printed["ece"], 4) == 0.29


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"p_fail": 0.5}', 'line 1: expected an object {"p_fail"'),
        ('{"p_fail": "0.5", "failed": true}', "line 1: expected an object"),
        ('{"p_fail": 0.5, "failed": 1}', "line 1: expected an object"),
        ('{"p_fail": 0.5, "failed": true}\n{"p_fail": NaN, "failed": true}', "line 2: not valid JSON"),
        ("[1, 2]", "line 1: expected an object"),
    ],
)
def test_bad_prediction_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        read_predictions(str(path))
    assert message in caught.value.diagnosis()


def test_bad_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"p_fail": 2, "failed": true}\n')
    assert main(["calibrate", "--predictions", str(path)], {}) == 2
    assert "expected a probability in [0, 1], got 2.0" in capsys.readouterr().err


def test_bin_totals_of_parts_add_up_to_the_figures_of_the_whole() -> None:
    # What lets a rolling window keep one row per run instead of every prediction.
    rng = np.random.default_rng(11)
    p = rng.random(3000)
    y = (rng.random(3000) < p).astype(np.float64)
    edges = np.linspace(0.0, 1.0, 11)
    parts = [BinTotals.of(p[a:b], y[a:b], edges) for a, b in ((0, 1000), (1000, 1001), (1001, 1001), (1001, 3000))]
    whole = calibrate(p, y, min_bin_count=10)
    summed = report(BinTotals.from_row(sum(parts[1:], parts[0]).to_row()), edges, min_bin_count=10)
    for name in ("brier_score", "ece", "mce", "n_samples", "base_rate", "reliability", "resolution", "uncertainty"):
        assert getattr(summed, name) == pytest.approx(getattr(whole, name), rel=1e-12, abs=1e-15)
    assert summed.reliability_diagram.bin_counts == whole.reliability_diagram.bin_counts
