"""Which order selection follows: the model's own, once it has reached failures sooner than the reference's.

The mixture's weights are learnt by log loss, which judges probabilities, not the order they give,
and an order is what selection spends. So for every failing run the model also records how much of
the run's time each ranking (its own; the reference predictor's shrunk rate per last duration)
spent up to its first failing test. The reference's order is the baseline the model's must beat:
selection follows it until the model's own has spent less over the project's failing runs so far
(the summed differences below 0), and then keeps the model's until the reference's lead is more
than `RANKING_EVIDENCE` times the root of the summed squared differences (a lead the runs show, not
the luck of one or two); then the reference's again until the model's is ahead once more. Its
probabilities, which the ledger records and calibration scores, stay its own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from provenance.learning.epistemic import failures_per_second

FloatArray = npt.NDArray[np.float64]
# Chosen on the tuning histories (docs/performance.md, "Held-out discipline (provenance-change-aware-5)"),
# kept with `-7`.
RANKING_EVIDENCE = 1.5


def first_failure_share(
    p: FloatArray, seconds: FloatArray, failed: npt.NDArray[np.bool_], durations: FloatArray
) -> float:
    """The share of a failing run's time that a ranking by `p` per second spends up to its first failing test.

    For a run with a failing test and time to share, `p` and `seconds` finite (as the model's are).
    Without sorting: the tests ahead of the first failing one are those that score higher, and
    those that score the same and come before it (a ranking keeps ties in input order).
    """
    score = failures_per_second(p, seconds)
    best = score[failed].max()
    first = int(np.flatnonzero(failed & (score == best))[0])
    ahead = (score > best) | ((score == best) & (np.arange(len(score)) < first))
    return float((durations[ahead].sum() + durations[first]) / durations.sum())


def scored(lead: FloatArray, difference: float) -> FloatArray:
    """The record (summed differences, their summed squares, 1.0 while the model's own order leads) after one more run.

    `difference` is the run's own share minus the reference's (`first_failure_share`).
    """
    total, squares = lead[0] + difference, lead[1] + difference**2
    own = total <= RANKING_EVIDENCE * np.sqrt(squares) if lead[2] else total < 0
    return np.array([total, squares, float(own)])


def reference_leads(lead: FloatArray) -> bool:
    """Whether selection ranks as the reference does (as it does before any failing run)."""
    return not lead[2]
