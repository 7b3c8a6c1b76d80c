"""The history part's experts and their mixture: what each regime teaches, and the bound on the mixing."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.learning import experts
from provenance.learning.history import Cycle
from provenance.learning.model import Model
from provenance.selection.backtest import ReferencePredictor, run_backtest

FloatArray = npt.NDArray[np.float64]


def _cycles(failed: npt.NDArray[np.bool_], seconds: float = 1.0) -> list[Cycle]:
    """A history from a (cycles × tests) table of outcomes, every test in every cycle."""
    names = [f"t{i}" for i in range(failed.shape[1])]
    return [Cycle(k, names, row, np.full(len(names), seconds)) for k, row in enumerate(failed, start=1)]


def _context_losses(cycles: list[Cycle]) -> tuple[FloatArray, FloatArray]:
    """Per context, the summed per-run mean log loss of the model's mixture and of its reference expert."""
    model = Model()
    k = len(experts.CONTEXTS)
    mixture, reference = np.zeros(k), np.zeros(k)
    for c in cycles:
        idx = model._indices(c.tests)
        ref = experts.losses(experts.predictions(model._snapshot(idx))[experts.REFERENCE :][:1], c.failed)[0]
        context = model._contexts(idx)
        p = model.predict(c.tests)
        each = -np.log(np.where(c.failed, p, 1.0 - p))
        for j in range(k):
            inside = context == j
            if inside.any():
                mixture[j] += each[inside].mean()
                reference[j] += ref[inside].mean()
        model.update(c.tests, c.failed, c.durations)
    return mixture, reference


def test_the_reference_expert_is_the_reference_predictor() -> None:
    rng = np.random.default_rng(3)
    model, reference = Model(), ReferencePredictor()
    for k in range(40):
        tests = [f"t{i}" for i in rng.choice(30, size=int(rng.integers(5, 30)), replace=False)]
        failed = rng.random(len(tests)) < 0.2
        rows = experts.predictions(model._snapshot(model._indices(tests)))
        assert rows[experts.REFERENCE].tolist() == pytest.approx(reference.predict(tests).tolist(), rel=1e-12), k
        model.update(tests, failed, np.ones(len(tests)))
        reference.update(tests, failed, np.ones(len(tests)))


def test_where_the_last_outcome_predicts_everything_the_model_follows_it() -> None:
    # Each test keeps its state (failing or passing) for runs at a time: its last verdict is right
    # about 19 runs in 20, its long-run rate (about a half) is not.
    rng = np.random.default_rng(1)
    state = rng.random(40) < 0.5
    table = []
    for _ in range(200):
        state = np.where(rng.random(40) < 0.05, ~state, state)
        table.append(state.copy())
    cycles = _cycles(np.array(table))
    model, reference = run_backtest(cycles, Model, warmup=50)[0], run_backtest(cycles, ReferencePredictor, warmup=50)[0]
    assert model["brier_score"] < 0.06 < 0.2 < reference["brier_score"]  # the last verdict's own Brier is ~0.05
    assert model["log_loss"] < 0.25 < 0.6 < reference["log_loss"]


def test_where_the_plain_rate_is_right_the_model_is_no_worse_than_the_reference() -> None:
    # Independent failures at fixed per-test rates: the shrunk rate is what the data supports.
    rng = np.random.default_rng(2)
    rates = rng.beta(0.5, 4.0, 60)
    cycles = _cycles(rng.random((300, 60)) < rates)
    model, reference = run_backtest(cycles, Model)[0], run_backtest(cycles, ReferencePredictor)[0]
    assert model["log_loss"] <= reference["log_loss"] * 1.01
    assert model["brier_score"] <= reference["brier_score"] * 1.01


def test_a_broken_build_is_discounted_only_where_the_project_shows_it_says_nothing() -> None:
    # Two projects with the same single-test streaks and a broken build (15 of 20 failing) every
    # 10th run: in one its failures vanish at once, in the other they last two more runs.
    def history(persist: bool) -> list[Cycle]:
        table = np.zeros((300, 20), dtype=bool)
        for k in range(300):
            table[k, (k // 3) % 20] = True
            if k % 10 == 0 or (persist and k % 10 in (1, 2)):
                table[k, :15] = True
        return _cycles(table)

    # Both variants are experts: which one to believe is learnt, not a fixed rule.
    assert {"rate by last outcome, prior 2", "rate by last outcome (broken builds discounted), prior 2"} <= set(
        experts.NAMES
    )
    for persist in (False, True):
        model = Model()
        for c in history(persist)[:291]:  # the last run learnt is a broken build (run 290)
            model.update(c.tests, c.failed, c.durations)
        p = model.predict(history(persist)[0].tests)
        if persist:
            assert p[5:15].min() > 0.6  # they failed in a broken build, and such failures last here
        else:
            assert p[5:15].max() < 0.2  # here such failures never last


def test_a_flaky_test_is_not_judged_by_the_tests_that_never_fail() -> None:
    # 3,000 tests never fail; 5 fail one run in two, at random. After a pass the flaky ones are as
    # likely to fail as ever: their weights are learnt apart from those of the tests that never
    # failed (with one weight set for both, these came out at 0.30-0.42, a mean of 0.36).
    rng = np.random.default_rng(4)
    table = np.zeros((80, 3005), dtype=bool)
    table[:, 3000:] = rng.random((80, 5)) < 0.5
    cycles = _cycles(table)
    model = Model()
    for c in cycles:
        model.update(c.tests, c.failed, c.durations)
    p = model.predict(cycles[0].tests)
    passed_last = np.flatnonzero(~table[-1, 3000:]) + 3000
    assert passed_last.size == 4 and p[passed_last].mean() > 0.4
    assert p[:3000].max() < 0.001


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 25),
    st.integers(5, 60),
    st.floats(0.0, 0.6),
    st.floats(0.0, 0.2),
)
def test_the_mixture_is_within_log_experts_of_the_reference_in_every_context(
    seed: int, tests: int, runs: int, rate: float, flip: float
) -> None:
    # Exponential weights on each run's mean log loss (per context): the mixture's total can exceed
    # the reference expert's by at most log(number of experts), whatever the history.
    rng = np.random.default_rng(seed)
    state = rng.random(tests) < rate
    table = []
    for _ in range(runs):
        state = np.where(rng.random(tests) < flip, ~state, state)
        table.append(state | (rng.random(tests) < rate * rng.random()))
    mixture, reference = _context_losses(_cycles(np.array(table)))
    assert (mixture <= reference + math.log(experts.EXPERTS) + 1e-9).all(), (mixture, reference)


def _mixed_against_best(rows_per_run: list[FloatArray], outcomes: list[npt.NDArray[np.bool_]], best: int) -> float:
    """The mixture's summed per-run mean log loss minus row `best`'s, mixed as the model mixes (one context)."""
    loss = np.zeros((1, rows_per_run[0].shape[0]))
    gap = 0.0
    for rows, failed in zip(rows_per_run, outcomes, strict=True):
        context = np.zeros(len(failed), dtype=np.intp)
        p = experts.mix(rows, context, loss)
        gap += float(
            -np.log(np.where(failed, p, 1.0 - p)).mean() - experts.losses(rows[best : best + 1], failed).mean()
        )
        experts.score(loss, rows, context, failed)
    return gap


def test_the_bound_holds_with_the_right_expert_in_the_mixture_and_fails_without_it() -> None:
    # The check above is not vacuous: where one expert (standing for the reference) is right and
    # the others are each off, leaving it out of the mixture costs more than log(experts) over a
    # few hundred runs, while with it in the mixture costs less.
    rng = np.random.default_rng(5)
    rows_per_run, outcomes = [], []
    for _ in range(300):
        truth = rng.beta(0.5, 2.0, 50).clip(0.01, 0.99)
        rows_per_run.append(np.array([truth, truth * 0.6, (truth * 1.4 + 0.05).clip(0, 0.99), np.full(50, 0.3)]))
        outcomes.append(rng.random(50) < truth)
    assert _mixed_against_best(rows_per_run, outcomes, best=0) <= math.log(4)
    others = [rows[1:] for rows in rows_per_run]
    truth_loss = sum(experts.losses(r[:1], y).mean() for r, y in zip(rows_per_run, outcomes, strict=True))
    best_other = _mixed_against_best(others, outcomes, best=0)  # the mixture without it, against one of the others
    other_loss = sum(experts.losses(r[1:2], y).mean() for r, y in zip(rows_per_run, outcomes, strict=True))
    assert best_other + other_loss - truth_loss > math.log(4)


def test_the_cost_is_the_estimate_that_has_predicted_durations_better() -> None:
    steady, growing = Model(), Model()
    for k in range(12):
        steady.update(["t"], np.array([False]), np.array([4.0 if k % 2 else 0.0]))  # a coarse timer: 0 s or 4 s
        growing.update(["t"], np.array([False]), np.array([2.0**k]))  # each run twice as long as the last
    assert steady.expected_seconds(["t"]).tolist() == pytest.approx([float(steady.pass_duration[0])])
    assert growing.expected_seconds(["t"]).tolist() == [2.0**11]  # the last duration


def test_a_test_that_takes_longer_to_fail_costs_more_the_likelier_it_is_to_fail() -> None:
    # A failing run of `slow` takes 8 s (a timeout, the reruns of pytest-rerunfailures), a passing one 2 s.
    model = Model()
    for k in range(12):
        fails = k % 3 == 0
        model.update(["slow", "steady"], np.array([fails, False]), np.array([8.0 if fails else 2.0, 3.0]))
    assert model.fail_duration[0] == 8.0 and model.pass_duration[0] == 2.0
    assert model.expected_seconds(["slow", "steady"]).tolist() == [2.0, 3.0]  # no probability: a pass's cost
    p = np.array([0.25, 0.5])
    assert model.expected_seconds(["slow", "steady"], p).tolist() == [0.75 * 2.0 + 0.25 * 8.0, 3.0]
    assert model.expected_seconds(["new"], np.array([0.5])).tolist() == [2.5]  # the median, for a test never run


def test_the_bound_holds_where_whole_runs_fail_together() -> None:
    # 100 tests that fail or pass all together: a run is one outcome a hundred times over, where
    # weights moved by every prediction's loss (rather than each run's mean) swing from expert to
    # expert and lose more than the bound allows.
    rng = np.random.default_rng(11)
    together = rng.random(300) < 0.3
    mixture, reference = _context_losses(_cycles(np.repeat(together[:, None], 100, axis=1)))
    assert (mixture <= reference + math.log(experts.EXPERTS)).all(), (mixture, reference)
