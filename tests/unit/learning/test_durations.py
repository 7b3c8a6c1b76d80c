"""Recorded medians over a ledger the real `record` stage wrote, and the slower-than-usual comparison."""

from __future__ import annotations

from pathlib import Path

from provenance.learning.durations import Median, recorded_medians, slower_than_usual
from provenance.schemas import Outcome, TestResult
from tests.support.outcomes import outcome_for


def timed(nodeid: str, seconds: float, outcome: Outcome = Outcome.PASSED) -> TestResult:
    return TestResult(nodeid=nodeid, result=outcome.result, outcome=outcome, duration_seconds=seconds)


def ledger_of(tmp_path: Path, runs: list[list[TestResult]]) -> Path:
    for number, tests in enumerate(runs, start=1):
        outcome_for(tmp_path, tests, run_id=str(number), branch="main")
    return tmp_path / "data" / "ci_runs.jsonl"


def test_the_median_is_over_passing_runs_only(tmp_path: Path) -> None:
    runs = [[timed("t.py::a", s), timed("t.py::b", 1.0)] for s in (0.1, 0.2, 0.3, 0.4, 10.0)]
    runs.append([timed("t.py::a", 0.001, Outcome.FAILED), timed("t.py::b", 1.0)])  # stopped early
    medians = recorded_medians(ledger_of(tmp_path, runs), ["t.py::a", "t.py::b", "t.py::new"])
    assert medians == {"t.py::a": Median(0.3, 5), "t.py::b": Median(1.0, 6)}


def test_too_few_runs_give_no_median_and_only_the_latest_count(tmp_path: Path) -> None:
    runs = [[timed("t.py::a", s)] for s in (5.0, 5.0, 0.1, 0.2)]
    ledger = ledger_of(tmp_path, runs)
    assert recorded_medians(ledger, ["t.py::a"], runs=2) == {}  # two durations: fewer than MIN_RUNS
    assert recorded_medians(ledger, ["t.py::a"], runs=3) == {"t.py::a": Median(0.2, 3)}  # the newest three
    assert recorded_medians(tmp_path / "missing.jsonl", ["t.py::a"]) == {}


def test_slower_needs_both_the_factor_and_the_floor() -> None:
    medians = {"t::tiny": Median(0.01, 5), "t::big": Median(1.0, 5), "t::close": Median(1.0, 5),
               "t::failed": Median(1.0, 5)}  # fmt: skip
    tests = [
        timed("t::tiny", 0.05),  # 5x, but 40 ms longer: noise
        timed("t::big", 2.6),  # 2.6x and 1.6 s longer
        timed("t::close", 1.9),  # under 2x
        timed("t::failed", 9.0, Outcome.FAILED),  # a failure is reported as a failure
        timed("t::unknown", 60.0),  # no median
    ]
    (slower,) = slower_than_usual(tests, medians, factor=2.0, floor_seconds=0.5)
    assert (slower.nodeid, slower.seconds, slower.median_seconds, slower.runs) == ("t::big", 2.6, 1.0, 5)
    assert [s.nodeid for s in slower_than_usual(tests, medians, factor=1.5, floor_seconds=0.0)] == [
        "t::big",
        "t::close",
        "t::tiny",
    ]
