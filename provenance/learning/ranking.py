"""Which order selection follows: the model's own ranking, or the reference predictor's where it has done better.

The mixture's weights are learnt by log loss, which judges probabilities, not the order they give,
and an order is what selection spends. So for every failing run the model also records how much of
the run's time each ranking (its own; the reference predictor's shrunk rate per last duration)
spent up to its first failing test. While the reference's lead over the project's failing runs is
more than `RANKING_EVIDENCE` times the root of the summed squared differences (a lead the runs
show, not the luck of one or two), the model ranks as the reference does; and so it does before any
failing run has told the two rankings apart: with no failure to learn from, the mixture's
weights have hardly moved, and the reference's order (its shrunk rate per second of the last
duration, which among tests that never failed puts the younger and the shorter first) is the
baseline its own must beat. Its probabilities, which the ledger records and calibration scores,
stay its own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from provenance.learning.epistemic import failures_per_second

FloatArray = npt.NDArray[np.float64]
# Chosen on the tuning histories (docs/performance.md, "Held-out discipline (provenance-change-aware-5)").
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


def reference_leads(lead: FloatArray) -> bool:
    """Whether the summed differences (own share − reference share) and their summed squares favour the reference.

    They do while no failing run has told the rankings apart (both sums 0).
    """
    total, squares = lead
    return bool(squares == 0 or total > RANKING_EVIDENCE * np.sqrt(squares))
