from __future__ import annotations

import itertools

import numpy as np
import pytest

from provenance.selection.budget import Budget, Reason, select
from provenance.selection.explain import catch_probability, confidence_curve, cut_off, decisions, explanation

TESTS = ["a.py::likely", "a.py::cheap", "b.py::slow_sure", "b.py::unsure", "c.py::brand_new", "c.py::long"]
P = np.array([0.6, 0.01, 0.001, 0.3, 0.05, 0.2])
SECONDS = np.array([2.0, 0.5, 50.0, 5.0, 1.0, 9.0])
NEW = np.array([False, False, False, False, True, False])


def exact_catch(p: np.ndarray, chosen: np.ndarray) -> float:
    """P(a chosen test fails | some test fails), by summing over every outcome of the suite."""
    caught = failing = 0.0
    for outcome in itertools.product([False, True], repeat=len(p)):
        fails = np.array(outcome)
        weight = float(np.prod(np.where(fails, p, 1 - p)))
        if fails.any():
            failing += weight
            caught += weight if (fails & chosen).any() else 0.0
    return caught / failing


@pytest.mark.parametrize("mask", [[1, 0, 0, 0, 0, 0], [0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 0], [1] * 6, [0] * 6])
def test_catch_probability_is_the_exact_conditional_probability(mask: list[int]) -> None:
    chosen = np.array(mask, dtype=bool)
    assert catch_probability(P, chosen) == pytest.approx(exact_catch(P, chosen), abs=1e-12)


def test_the_curve_buys_the_always_run_tests_first_then_failures_per_second() -> None:
    chosen = select(TESTS, P, SECONDS, Budget(fraction=0.1), new=NEW, exploration=0.0)
    points = confidence_curve(chosen)
    assert [round(p.share, 2) for p in points] == [round(0.05 * i, 2) for i in range(21)]
    # The order: the new test (always runs), then by P / seconds: likely, unsure, long, cheap, slow_sure.
    order = [4, 0, 3, 5, 1, 2]
    spent = np.cumsum(SECONDS[order]) / SECONDS.sum()
    for point in points:
        prefix = order[: int(np.sum(spent <= point.share + 1e-12))]
        mask = np.isin(np.arange(len(TESTS)), prefix)
        assert point.p_catch == pytest.approx(exact_catch(P, mask), abs=1e-12)
    assert points[0].p_catch == 0.0 and points[-1].p_catch == pytest.approx(1.0)
    assert all(a.p_catch <= b.p_catch for a, b in itertools.pairwise(points))


def test_every_test_gets_one_reason_and_the_skipped_ones_say_which_cut_off() -> None:
    chosen = select(TESTS, P, SECONDS, Budget(fraction=0.1), new=NEW, exploration=0.0)
    explained = decisions(chosen, Budget(fraction=0.1))
    assert [d.test for d in explained] == TESTS
    reasons = {d.test: d.reason for d in explained}
    # 6.75 s of budget: the new test (1 s), likely (2 s) and cheap (0.5 s) fit; unsure (5 s) and long
    # (9 s) rank above cheap but no longer fit; slow_sure ranks below cheap, the last one taken.
    assert reasons == {"c.py::brand_new": Reason.NEW, "a.py::likely": Reason.RANKED, "a.py::cheap": Reason.RANKED,
                       "b.py::unsure": Reason.DID_NOT_FIT, "c.py::long": Reason.DID_NOT_FIT,
                       "b.py::slow_sure": Reason.BELOW_CUT_OFF}  # fmt: skip
    assert cut_off(chosen) == pytest.approx(0.01 / 0.5)
    assert [d.runs for d in explained] == chosen.selected.tolist()


def test_a_confidence_target_skips_only_below_its_cut_off() -> None:
    budget = Budget(confidence=0.5)
    chosen = select(TESTS, P, SECONDS, budget, new=np.zeros(6, dtype=bool))
    explained = decisions(chosen, budget)
    line = cut_off(chosen)
    assert line is not None
    for d in explained:
        assert d.runs == (d.reason is Reason.CONFIDENCE_TARGET)
        assert d.runs or (d.reason is Reason.BELOW_CUT_OFF and d.failures_per_second <= line)


def test_a_full_run_explains_every_test_as_such() -> None:
    record = explanation(select(TESTS, P, SECONDS, Budget(fraction=0.1), new=NEW, full_run=True), Budget(0.1))
    assert {t["reason"] for t in record["tests"]} == {"full-run"} and record["skipped"] == 0
    assert record["budget_share"] == 1.0 and record["p_catch"] == 1.0 and record["cut_off_failures_per_second"] is None
