"""What selection would have saved, replayed from the predictions each entry recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.site.build import page_data
from provenance.site.savings import BUDGETS
from tests.support.history import write_runs


def test_each_budget_runs_the_tests_most_likely_to_fail_per_expected_second(tmp_path: Path) -> None:
    # Ten tests of 1 s each; the model gave the failing test the highest probability in run 2 and
    # the lowest in run 3, so a 10% budget catches the first failure and misses the second.
    names = [f"tests/test_{k}.py::test_it" for k in range(10)]
    first = [(name, "pass", 1.0, None) for name in names]
    second = [(name, "fail" if k == 4 else "pass", 1.0, 0.9 if k == 4 else 0.1) for k, name in enumerate(names)]
    third = [(name, "fail" if k == 6 else "pass", 1.0, 0.01 if k == 6 else 0.2) for k, name in enumerate(names)]
    write_runs(tmp_path / "ledger.jsonl", [first, second, third])
    savings = page_data(tmp_path / "ledger.jsonl")["savings"]
    assert (savings["runs"], savings["failing_runs"], savings["failures"]) == (2, 2, 2)  # the first had no predictions
    assert savings["seconds_total"] == 20.0
    rows = {row["budget"]: row for row in savings["budgets"]}
    assert [row["budget"] for row in savings["budgets"]] == list(BUDGETS)
    assert rows[0.1]["caught"] == 1 and rows[0.1]["seconds_selected"] == 2.0
    assert rows[0.1]["saved_fraction"] == pytest.approx(0.9)
    assert rows[0.7]["caught"] == 1  # the test predicted least likely to fail is the last to run
    assert rows[0.7]["caught_fraction"] == 0.5


def test_expected_seconds_come_from_earlier_runs_not_the_one_replayed(tmp_path: Path) -> None:
    # Test `slow` took 9 s before and 1 s now: ranked by what was known, it is taken last at
    # equal probability, although it turned out cheap.
    before = [("t.py::slow", "pass", 9.0, None), ("t.py::quick", "pass", 1.0, None)]
    now = [("t.py::slow", "fail", 1.0, 0.5), ("t.py::quick", "pass", 1.0, 0.5)]
    write_runs(tmp_path / "ledger.jsonl", [before, now])
    rows = page_data(tmp_path / "ledger.jsonl")["savings"]["budgets"]
    assert [row["caught"] for row in rows if row["budget"] < 0.5] == [0, 0, 0]
    assert next(row for row in rows if row["budget"] == 0.5)["caught"] == 0  # the quick test fills the half
    assert next(row for row in rows if row["budget"] == 0.7)["caught"] == 0


def test_runs_without_every_prediction_are_not_replayed(tmp_path: Path) -> None:
    runs = [[("t.py::a", "pass", 1.0, None)], [("t.py::a", "fail", 1.0, 0.3), ("t.py::new", "pass", 1.0, None)]]
    write_runs(tmp_path / "ledger.jsonl", runs)
    assert page_data(tmp_path / "ledger.jsonl")["savings"] is None


def test_only_the_last_runs_are_replayed_but_durations_are_learnt_from_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("provenance.site.savings.REPLAYED_RUNS", 2)
    slow_then_quick = [("t.py::slow", "pass", 9.0, 0.5), ("t.py::quick", "pass", 1.0, 0.5)]
    now = [("t.py::slow", "fail", 1.0, 0.5), ("t.py::quick", "pass", 1.0, 0.5)]
    write_runs(tmp_path / "ledger.jsonl", [slow_then_quick, slow_then_quick, now, now])
    savings = page_data(tmp_path / "ledger.jsonl")["savings"]
    assert (savings["runs"], savings["failures"], savings["window"]) == (2, 2, 2)
    # The third run ranks by the 9 s learnt from the runs not replayed: the quick test first.
    assert next(row for row in savings["budgets"] if row["budget"] == 0.5)["caught"] == 1
