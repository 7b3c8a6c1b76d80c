"""A select step that ranks as the reference predictor does says so, in its audit record and its summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from provenance.github.select_summary import render
from provenance.selection.budget import Budget, select
from provenance.selection.plan import Plan, RankedBy, write_plan

TESTS = [f"tests/test_m.py::test_{i}" for i in range(6)]


@pytest.mark.parametrize("ranked_by", ["model", "reference"])
def test_the_audit_and_the_summary_name_the_ranking(ranked_by: RankedBy, tmp_path: Path) -> None:
    budget = Budget(fraction=0.5)
    selection = select(TESTS, np.linspace(0.01, 0.3, 6), np.ones(6), budget, new=np.zeros(6, dtype=bool))
    write_plan(Plan(selection, "0" * 64, 7, ranked_by), tmp_path / "chosen.txt", tmp_path / "audit.json", budget)
    assert json.loads((tmp_path / "audit.json").read_text())["ranked_by"] == ranked_by
    summary = render(selection, budget, "chosen.txt.audit.json", ranked_by)
    said = "Ranked as the reference predictor ranks" in summary
    assert said is (ranked_by == "reference")
    assert ("Under the reference predictor," in summary) is said and ("Under the model," in summary) is not said
