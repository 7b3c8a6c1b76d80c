"""The history part of the model: predictors of a test's failure from its own past, mixed by their record.

Projects fail in different ways, and no single predictor is right for all of them. A project that
rarely fails is best served by a test's long-run failure rate, shrunk toward the project's; one
whose failures persist until fixed, by the test's last verdict; one whose failure rates move, by a
recent (exponentially decayed) rate; one in which many tests fail together, by a rate that follows
the project's recent failure level, and by not discounting a failure in a run where most tests
failed. Each is an expert here, and they are mixed by how well each predicted this project's own
past runs (exponential weights on their log loss), so the mixture settles on whichever regime the
project shows, from its past runs only.

One expert is the reference predictor itself (`REFERENCE`: the test's failure rate shrunk toward
the global rate by a Beta prior of weight 2, exactly as `selection.backtest.ReferencePredictor`
computes it), so the mixture can only fall behind it by what the mixing costs (docs/metrics.md
states the bound).

Weights are kept apart per context (a test that never failed or is new; one that passed its last
run having failed before; one that failed it in a run where at most half the tests failed; one
that failed it in a run where more than half did), since which expert is right differs most
between them: the many tests that never fail would otherwise set the weights a flaky test that
just passed is judged by.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
PRIOR_WEIGHTS = (0.5, 2.0, 8.0)
REFERENCE_PRIOR_WEIGHT = 2.0
DECAYS = (0.5, 0.8, 0.95)  # per run of the test: how much of a decayed rate's past each run keeps
RECENT_DECAY = 0.5  # per cycle: the project's recent failure level
CONTEXTS = ("never failed", "after a pass", "after a failure", "after a failure in a broken build")
BROKEN_BUILD_SHARE = 0.5
NAMES = (
    *(f"rate, prior {w:g}" for w in PRIOR_WEIGHTS),
    *(f"rate by last outcome (broken builds discounted), prior {w:g}" for w in PRIOR_WEIGHTS),
    *(f"rate by last outcome, prior {w:g}" for w in PRIOR_WEIGHTS),
    "last outcome",
    *(f"decayed rate, {d:g} a run" for d in DECAYS),
    "rate toward the recent project rate",
)
EXPERTS = len(NAMES)
REFERENCE = NAMES.index(f"rate, prior {REFERENCE_PRIOR_WEIGHT:g}")


def shrunk(failures: object, runs: object, toward: object, weight: float) -> FloatArray:
    """A failure rate shrunk toward `toward` by a Beta prior worth `weight` runs (scalars or arrays)."""
    return np.asarray((failures + weight * toward) / (runs + weight), dtype=np.float64)  # type: ignore[operator]


@dataclass(frozen=True)
class Snapshot:
    """What the experts read, for the tests of one run: their counts and the project's rates.

    `focused_*` count runs after a failure in a run that was not a broken build; `any_*` after any
    failure. `decayed_runs` and `decayed_fails` have a row per decay of `DECAYS`.
    """

    runs: FloatArray
    fails: FloatArray
    last_failed: npt.NDArray[np.bool_]
    last_broken: npt.NDArray[np.bool_]
    focused_runs: FloatArray
    focused_fails: FloatArray
    any_runs: FloatArray
    any_fails: FloatArray
    decayed_runs: FloatArray
    decayed_fails: FloatArray
    global_rate: float
    focused_again: float
    focused_fresh: float
    any_again: float
    any_fresh: float
    recent_rate: float


def predictions(s: Snapshot) -> FloatArray:
    """Each expert's failure probability per test: a row per expert, in the order of `NAMES`."""
    g = s.global_rate
    focused = s.last_failed & ~s.last_broken
    rows = [shrunk(s.fails, s.runs, g, w) for w in PRIOR_WEIGHTS]
    for w in PRIOR_WEIGHTS:
        after = shrunk(s.focused_fails, s.focused_runs, s.focused_again, w)
        before = shrunk(s.fails - s.focused_fails, s.runs - s.focused_runs, s.focused_fresh, w)
        rows.append(np.where(focused, after, before))
    for w in PRIOR_WEIGHTS:
        after = shrunk(s.any_fails, s.any_runs, s.any_again, w)
        before = shrunk(s.fails - s.any_fails, s.runs - s.any_runs, s.any_fresh, w)
        rows.append(np.where(s.last_failed, after, before))
    rows.append(np.where(s.last_failed, s.any_again, s.any_fresh))
    rows.extend(shrunk(s.decayed_fails[k], s.decayed_runs[k], g, REFERENCE_PRIOR_WEIGHT) for k in range(len(DECAYS)))
    rows.append(shrunk(s.fails, s.runs, s.recent_rate, REFERENCE_PRIOR_WEIGHT))
    return np.clip(np.array(rows).reshape(EXPERTS, len(s.runs)), 1e-12, 1.0 - 1e-12)


def contexts(
    last_failed: npt.NDArray[np.bool_], last_broken: npt.NDArray[np.bool_], ever_failed: npt.NDArray[np.bool_]
) -> npt.NDArray[np.intp]:
    """Each test's context (an index into `CONTEXTS`): whether it ever failed, and how its last run ended."""
    return np.asarray(np.where(last_failed, np.where(last_broken, 3, 2), np.where(ever_failed, 1, 0)), dtype=np.intp)


def weights(loss: FloatArray) -> FloatArray:
    """Each expert's weight per context, in proportion to exp(-its loss so far) (a row per context)."""
    w = np.exp(loss.min(axis=1, keepdims=True) - loss)
    return np.asarray(w / w.sum(axis=1, keepdims=True))


def mix(rows: FloatArray, context: npt.NDArray[np.intp], loss: FloatArray) -> FloatArray:
    """The experts' probabilities mixed with the weights of each test's context."""
    return np.asarray(np.einsum("ej,je->j", rows, weights(loss)[context]))


def losses(rows: FloatArray, failed: npt.NDArray[np.bool_]) -> FloatArray:
    """Each expert's log loss on each test of the run (a row per expert)."""
    return np.asarray(-np.log(np.where(failed, rows, 1.0 - rows)))


def score(loss: FloatArray, rows: FloatArray, context: npt.NDArray[np.intp], failed: npt.NDArray[np.bool_]) -> None:
    """Add the run to each context's loss totals: the experts' mean log loss over the run's tests in it.

    A run counts once per context, however many of its tests there are (see docs/metrics.md: this
    is what bounds the mixture's loss by the best expert's plus log(number of experts)).
    """
    each = losses(rows, failed)
    for k in range(len(CONTEXTS)):
        inside = context == k
        if inside.any():
            loss[k] += each[:, inside].mean(axis=1)


def decay(runs: FloatArray, fails: FloatArray, failed: npt.NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
    """Decayed run and failure counts after one more run (a row per decay of `DECAYS`)."""
    keep = np.asarray(DECAYS)[:, None]
    return keep * runs + 1.0, keep * fails + failed
