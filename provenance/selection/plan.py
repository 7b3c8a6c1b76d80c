"""The `select` mode: before the tests run, choose which ones to run from the ledger's history.

Reads the ledger's head and the model state beside it (rebuilt from the ledger when missing or
stale), predicts every test, selects within the budget, and writes the node ids to run plus the
audit record of the decision: why every test runs or not, and the confidence curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from provenance.errors import InputError
from provenance.learning.model import MODEL_VERSION
from provenance.ledger.chain import read_tail
from provenance.reading import read_input
from provenance.selection.budget import Budget, Selection, select
from provenance.selection.explain import explanation
from provenance.workspace import atomic_write, pretty_json

# Whose ranking a selection followed: the model's, or the reference's while that has done better (learning/ranking.py).
RankedBy = Literal["model", "reference"]


@dataclass(frozen=True)
class Plan:
    """A selection and what it rests on."""

    selection: Selection
    model_hash: str
    ledger_size: int
    ranked_by: RankedBy

    def outputs(self, selection_path: str) -> dict[str, str]:
        """The step outputs of select mode."""
        selected = int(self.selection.selected.sum())
        return {
            "selected-count": str(selected),
            "skipped-count": str(len(self.selection.tests) - selected),
            "expected-seconds": f"{self.selection.expected_seconds:.3f}",
            "confidence": f"{self.selection.confidence:.6f}",
            "full-run": "true" if self.selection.full_run else "false",
            "selection-path": selection_path,
        }


def read_test_list(path: Path) -> list[str]:
    """Node ids, one per line, as `pytest --collect-only -q` prints them (other lines are ignored)."""
    try:
        lines = read_input(path).decode("utf-8").split("\n")  # not splitlines: U+2028 may be in a node id
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot be read ({exc})", source=str(path)) from None
    tests = [line.strip() for line in lines if "::" in line and not line.startswith((" ", "<", "="))]
    if not tests:
        raise InputError("no test node ids (`path::name` lines) found", source=str(path))
    return list(dict.fromkeys(tests))


def plan(
    ledger_path: Path,
    tests: list[str] | None,
    budget: Budget,
    *,
    changed_files: list[str] | None = None,
    exploration: float = 0.1,
    full_run_every: int = 0,
) -> Plan:
    """Choose the tests for the coming run from everything the ledger knows."""
    from provenance.learning.state import load_model

    last = read_tail(ledger_path, 1)
    head = last[0]["entry_hash"] if last else "0" * 64
    size = int(last[0]["seq"]) + 1 if last else 0
    model = load_model(ledger_path, head)
    if tests is None:
        if not last:
            raise InputError("the ledger is empty: give the tests to choose from (--tests)", source=str(ledger_path))
        tests = list(dict.fromkeys(t["nodeid"] for t in last[0]["tests"]))
    digest = model.digest
    full_run = full_run_every > 0 and (size + 1) % full_run_every == 0
    p_fail = model.predict(tests, changed_files)
    p_rank, seconds = model.ranking(tests, p_fail, model.expected_seconds(tests, p_fail))
    selection = select(
        tests,
        p_rank,
        seconds,
        budget,
        new=model.is_new(tests),
        failed_last=model.failed_last_run(tests),
        changed_files=changed_files,
        exploration=exploration,
        full_run=full_run or size == 0,
    )
    return Plan(selection, digest, size, "reference" if model.ranks_as_reference else "model")


def write_plan(plan_: Plan, out: Path, audit: Path, budget: Budget) -> None:
    """The node ids to run (usable as `pytest @FILE`) and the decision's audit record.

    One record says everything about the decision (what it rests on, and every test with the reason it
    runs or not), so that no second file can disagree with it.
    """
    atomic_write(out, "".join(f"{t}\n" for t in plan_.selection.selected_tests).encode())
    record: dict[str, Any] = {
        "model_version": MODEL_VERSION,
        "model_hash": plan_.model_hash,
        "ledger_size": plan_.ledger_size,
        "ranked_by": plan_.ranked_by,
        "budget": {"fraction": budget.fraction, "seconds": budget.seconds, "confidence": budget.confidence},
        **explanation(plan_.selection, budget),
        "max_skipped_p_fail": float(np.max(plan_.selection.p_fail[~plan_.selection.selected], initial=0.0)),
    }
    atomic_write(audit, pretty_json(record))
