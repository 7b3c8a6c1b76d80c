"""The selection in hindsight: what `select` would have chosen before a run, judged on its outcome.

It is the evidence for `mode: select`, recorded with every run.
"""

from __future__ import annotations

from provenance.config import Settings
from provenance.learning.history import Cycle
from provenance.learning.model import Model
from provenance.schemas import SelectionHindsight
from provenance.selection.budget import Budget, FloatArray, select


def selection_hindsight(model: Model, cycle: Cycle, p_fail: FloatArray, settings: Settings) -> SelectionHindsight:
    """What `select` would have chosen for this run from the same history, and what it would have caught.

    The choice uses only what was known before the run (the model's `p_fail` for the cycle's tests,
    the changed files); the outcome and the durations are this run's own.
    """
    budget = Budget.given(settings.budget, settings.budget_seconds, settings.confidence)
    p_rank, seconds = model.ranking(cycle.tests, p_fail, model.expected_seconds(cycle.tests, p_fail))
    chosen = select(cycle.tests, p_rank, seconds, budget,
                    new=model.is_new(cycle.tests), failed_last=model.failed_last_run(cycle.tests),
                    changed_files=cycle.changed_files,
                    exploration=settings.exploration).selected  # fmt: skip
    failing = cycle.failed
    return SelectionHindsight(
        budget=budget.describe(),
        selected=int(chosen.sum()),
        tests=len(cycle.tests),
        failing=int(failing.sum()),
        caught=int((failing & chosen).sum()),
        missed=[name for name, fails, kept in zip(cycle.tests, failing, chosen, strict=True) if fails and not kept],
        seconds_selected=float(cycle.durations[chosen].sum()),
        seconds_total=float(cycle.durations.sum()),
    )
