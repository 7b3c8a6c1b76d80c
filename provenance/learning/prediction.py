"""The predict stage: the model state beside the ledger, and the selection it would have made.

The selection in hindsight is the evidence for `mode: select`: what it would have chosen before a
run, judged on that run's outcome.

The model state lives beside the ledger and is trusted only when it was saved at the ledger's head;
otherwise it is rebuilt from the ledger, so it can never drift from the record.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from provenance.config import Settings
from provenance.errors import InputError
from provenance.learning.history import Cycle, read_ledger
from provenance.learning.model import Model, rebuild
from provenance.schemas import SelectionHindsight
from provenance.selection.budget import Budget, FloatArray, select


def load_model(ledger_path: Path, head: str) -> Model:
    """The model state beside the ledger when it was saved at the ledger's head, else rebuilt from it."""
    path = model_path(ledger_path)
    if path.is_file():
        with contextlib.suppress(InputError):
            model = Model.load(path)
            if model.ledger_head == head:
                return model
    model = rebuild(read_ledger(ledger_path)) if ledger_path.is_file() and ledger_path.stat().st_size else Model()
    model.ledger_head = head
    return model


def model_path(ledger_path: Path) -> Path:
    """Where the model state lives: beside the ledger (and on the ledger branch with it)."""
    return ledger_path.with_name(ledger_path.name + ".model.npz")


def selection_hindsight(model: Model, cycle: Cycle, p_fail: FloatArray, settings: Settings) -> SelectionHindsight:
    """What `select` would have chosen for this run from the same history, and what it would have caught.

    The choice uses only what was known before the run (the model's `p_fail` for the cycle's tests,
    the changed files); the outcome and the durations are this run's own.
    """
    budget = Budget.given(settings.budget, settings.budget_seconds, settings.confidence)
    chosen = select(cycle.tests, p_fail, model.expected_seconds(cycle.tests), budget,
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
