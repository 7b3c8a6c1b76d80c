"""The run list and each run's failures, new or known from the previous run of its branch."""

from __future__ import annotations

from pathlib import Path

from provenance.site.build import page_data
from tests.support.history import write_runs


def test_a_failure_is_known_when_the_previous_run_of_the_same_branch_had_it(tmp_path: Path) -> None:
    a, b = "t.py::test_a", "t.py::test_b"
    runs = [
        [(a, "fail", 0.1, None), (b, "pass", 0.1, None)],  # main: a new
        [(a, "fail", 0.1, None), (b, "fail", 0.1, None)],  # feature (no run before it there): a known from main, b new
        [(a, "fail", 0.1, None), (b, "error", 0.1, None)],  # main: a known, b new on main
        [(a, "pass", 0.1, None), (b, "fail", 0.1, None)],  # feature: b known
    ]
    write_runs(tmp_path / "ledger.jsonl", runs, branches=["main", "feature", "main", "feature"])
    data = page_data(tmp_path / "ledger.jsonl")
    assert data["runs"]["new_failures"] == [1, 1, 1, 0]
    assert data["runs"]["branch"] == ["main", "feature", "main", "feature"]
    assert data["runs"]["conclusion"] == ["failure"] * 4
    assert data["runs"]["failed"] == [1, 2, 1, 1] and data["runs"]["errors"] == [0, 0, 1, 0]
    assert data["failures"] == [  # newest first, tests by their position in the test list
        {"seq": 3, "new": [], "known": [1]},
        {"seq": 2, "new": [1], "known": [0]},
        {"seq": 1, "new": [1], "known": [0]},
        {"seq": 0, "new": [0], "known": []},
    ]
    assert data["ledger"]["entries"] == 4 and data["ledger"]["repository"] == "acme/app"
