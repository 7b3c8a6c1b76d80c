"""The model against the reference with intervals: a paired bootstrap over the replayed cycles."""

from __future__ import annotations

from random import Random
from typing import Any

import numpy as np
import pytest

from provenance.learning.history import Cycle
from provenance.learning.model import Model
from provenance.selection.backtest import DEFAULT_BUDGETS, ReferencePredictor, Scored, run_backtest
from provenance.selection.comparison import RESAMPLES, compare


def history(cycles: int, seed: int = 7) -> list[Cycle]:
    """40 tests of varied durations: two fail in streaks (as a regression does until it is fixed),
    the rest now and then at random (flaky), and some cycles break nothing."""
    rng = Random(seed)
    names = [f"tests/test_m{i // 8}.py::test_{i}" for i in range(40)]
    seconds = np.array([rng.choice([0.01, 0.2, 1.0, 4.0]) for _ in names])
    out = []
    for c in range(cycles):
        failed = np.array([rng.random() < 0.01 for _ in names])
        failed[3] = c % 9 < 3
        failed[17] = c % 13 in (5, 6, 7, 8)
        durations = seconds * np.array([rng.uniform(0.8, 1.2) for _ in names])
        out.append(Cycle(c + 1, names, failed, durations))
    return out


def figures_of(result: dict[str, Any]) -> dict[str, Any]:
    """Every figure `compare` gives a difference for, from a backtest's output."""
    out = {name: result[name] for name in ("brier_score", "log_loss", "apfdc")}
    out |= {f"recall@{at['budget']}": at["failure_recall"] for at in result["budgets"]}
    return out | {f"saved@{target}": saved for target, saved in result["time_saved_at_detection"].items()}


def differences_of(spread: dict[str, Any]) -> dict[str, Any]:
    """The same figures' entries (difference and interval) in `compare`'s output."""
    out = {name: spread[name] for name in ("brier_score", "log_loss", "apfdc")}
    out |= {f"recall@{at['budget']}": at for at in spread["failure_recall"]}
    return out | {f"saved@{target}": entry for target, entry in spread["time_saved_at_detection"].items()}


def test_each_difference_is_that_of_the_two_backtests_and_lies_in_its_interval() -> None:
    cycles = history(90)
    model, model_scored = run_backtest(cycles, Model)
    reference, reference_scored = run_backtest(cycles, ReferencePredictor)
    spread = compare(reference_scored, model_scored, DEFAULT_BUDGETS)
    assert spread["resamples"] == RESAMPLES and spread["confidence"] == 0.95
    ours, theirs, entries = figures_of(model), figures_of(reference), differences_of(spread)
    assert set(entries) == set(ours) and len(entries) == 3 + len(DEFAULT_BUDGETS) + 3
    for name, entry in entries.items():
        assert entry["difference"] == pytest.approx(ours[name] - theirs[name], abs=1e-12), name
        low, high = entry["interval"]
        assert low <= entry["difference"] <= high, name


def test_a_regression_that_persists_is_predicted_better_beyond_chance() -> None:
    # The model learns that a failing test here stays failing; the reference's rate cannot.
    cycles = history(90)
    _, model_scored = run_backtest(cycles, Model)
    _, reference_scored = run_backtest(cycles, ReferencePredictor)
    spread = compare(reference_scored, model_scored, DEFAULT_BUDGETS)
    for name in ("brier_score", "log_loss"):
        assert spread[name]["interval"][1] < 0, name
    # Seen the other way round, the reference misses the bar on both, beyond chance.
    backwards = compare(model_scored, reference_scored, DEFAULT_BUDGETS)
    assert {"brier_score: worse beyond its interval", "log_loss: worse beyond its interval"} <= set(
        backwards["shortfalls"]
    )
    assert not any(miss.startswith(("brier_score", "log_loss")) for miss in spread["shortfalls"])


def test_a_predictor_against_itself_differs_by_nothing_in_any_resample() -> None:
    # The resamples are paired: both sides draw the same cycles, so identical replays never differ.
    _, scored = run_backtest(history(60), Model)
    spread = compare(scored, scored, DEFAULT_BUDGETS)
    for name, entry in differences_of(spread).items():
        assert entry["difference"] == 0.0 and entry["interval"] == [0.0, 0.0], name
    assert spread["shortfalls"] == []  # no worse is what the bar asks: a tie meets it


def test_the_replays_must_score_the_same_cycles() -> None:
    _, scored = run_backtest(history(30), Model)
    with pytest.raises(ValueError, match="same cycles"):
        compare(scored[1:], scored[:-1], DEFAULT_BUDGETS)
    empty: list[Scored] = []
    assert compare(empty, empty, DEFAULT_BUDGETS) == {"resamples": 0, "confidence": 0.95}
