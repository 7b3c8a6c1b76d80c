"""Why each test runs or not, and what a budget buys: the record `select` writes beside its choice.

A selection that skips tests must be answerable test by test: a reviewer who sees a test missing
from a run asks why, and "the model said so" is no answer. Every test gets one reason: why it runs
(new, failed its last run, its file changed, ranked within the budget, exploration, the confidence
target, a full run) or why it does not (fewer expected failures per second than the cut-off, the
last test the ranking took; or ranked high enough but longer than what was left of the budget).

The confidence curve says what each share of the suite's time would buy: the probability, under the
model, that a failing run is caught (at least one of the tests run fails, given that some test
fails), when the tests that always run come first and the rest follow by expected failures per
second. It lets a reader judge the budget rather than take it on trust.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from provenance.learning.epistemic import failures_per_second, rank_by_failure_probability
from provenance.learning.model import seconds_floor
from provenance.selection.budget import ALWAYS_RUN, TAKEN_BY_RANK, Budget, FloatArray, Reason, Selection

CURVE_STEP = 0.05  # the curve's shares of the suite's time: 0%, 5%, ..., 100%


@dataclass(frozen=True)
class Decision:
    """One test's line of the record: whether it runs, why, and the figures the reason rests on."""

    test: str
    runs: bool
    reason: Reason
    p_fail: float
    expected_seconds: float
    failures_per_second: float


@dataclass(frozen=True)
class CurvePoint:
    """What a share of the suite's expected time buys: the probability a failing run is caught."""

    share: float
    p_catch: float


def _failures_per_second(selection: Selection) -> FloatArray:
    """The ranking's own score: expected failures per second of the (floored) expected time."""
    return failures_per_second(selection.p_fail, seconds_floor(selection.seconds))


def cut_off(selection: Selection) -> float | None:
    """The fewest expected failures per second among the tests the ranking took; None when it took none."""
    taken = [i for i, reason in enumerate(selection.reasons) if reason in TAKEN_BY_RANK]
    return float(np.min(_failures_per_second(selection)[taken])) if taken else None


def decisions(selection: Selection, budget: Budget) -> list[Decision]:
    """Every test once, in the order given, with the reason it runs or is skipped."""
    scores = _failures_per_second(selection)
    line = cut_off(selection)
    out = []
    for i, test in enumerate(selection.tests):
        reason = selection.reasons[i]
        if reason is None:
            # A confidence target skips only tests ranked after the last one it needed; a time budget
            # also passes over tests ranked high that no longer fit in what was left of it.
            below = budget.confidence is not None or (line is not None and float(scores[i]) < line)
            reason = Reason.BELOW_CUT_OFF if below else Reason.DID_NOT_FIT
        out.append(Decision(test, bool(selection.selected[i]), reason, float(selection.p_fail[i]),
                            float(selection.seconds[i]), float(scores[i])))  # fmt: skip
    return out


def catch_probability(p_fail: FloatArray, chosen: npt.NDArray[np.bool_]) -> float:
    """P(some chosen test fails | some test fails), the tests failing independently with `p_fail`.

    A suite the model expects never to fail has no failing run to miss: 1.
    """
    log_keep = np.log1p(-np.clip(p_fail, 0.0, 1.0 - 1e-12))
    any_fails = -float(np.expm1(log_keep.sum()))
    if any_fails <= 0.0:
        return 1.0
    return min(1.0, max(0.0, -float(np.expm1(log_keep[chosen].sum()))) / any_fails)


def confidence_curve(selection: Selection, shares: list[float] | None = None) -> list[CurvePoint]:
    """The probability of catching a failing run at each share of the suite's time (default 0, 5%, ..., 100%).

    The tests that always run come first (a selection cannot leave them out), then the rest by
    expected failures per second; a share buys the longest prefix of that order that fits in it.
    """
    if shares is None:
        shares = np.linspace(0.0, 1.0, round(1.0 / CURVE_STEP) + 1).tolist()
    always = [i for i, reason in enumerate(selection.reasons) if reason in ALWAYS_RUN]
    ranked = rank_by_failure_probability(selection.p_fail, seconds_floor(selection.seconds)).tolist()
    order = np.array(always + [i for i in ranked if selection.reasons[i] not in ALWAYS_RUN], dtype=np.intp)
    total = float(selection.seconds.sum())
    spent = np.cumsum(selection.seconds[order]) / total if total > 0 else np.zeros(len(order))
    log_keep = np.log1p(-np.clip(selection.p_fail[order], 0.0, 1.0 - 1e-12))
    any_fails = -float(np.expm1(log_keep.sum()))
    caught = np.maximum(-np.expm1(np.concatenate(([0.0], np.cumsum(log_keep)))), 0.0)  # no -0.0
    points = []
    for share in shares:
        prefix = int(np.searchsorted(spent, share + 1e-12, side="right"))
        p_catch = 1.0 if any_fails <= 0.0 else min(1.0, float(caught[prefix]) / any_fails)
        points.append(CurvePoint(share, p_catch))
    return points


def budget_share(selection: Selection) -> float:
    """The share of the suite's expected time the selection takes (1 when the suite takes no time)."""
    total = float(selection.seconds.sum())
    return selection.expected_seconds / total if total > 0 else 1.0


def explanation(selection: Selection, budget: Budget) -> dict[str, Any]:
    """The record of the decision: the totals, the confidence curve and every test with its reason."""
    line = cut_off(selection)
    return {
        "full_run": selection.full_run,
        "selected": int(selection.selected.sum()),
        "skipped": int((~selection.selected).sum()),
        "expected_seconds": selection.expected_seconds,
        "suite_expected_seconds": float(selection.seconds.sum()),
        "budget_share": budget_share(selection),
        "confidence": selection.confidence,
        "p_catch": catch_probability(selection.p_fail, selection.selected),
        "cut_off_failures_per_second": line,
        "curve": [asdict(point) for point in confidence_curve(selection)],
        "tests": [{**asdict(d), "reason": d.reason.value} for d in decisions(selection, budget)],
    }
