from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from provenance.schemas import (
    CIRun,
    GitInfo,
    Outcome,
    ReportFormat,
    ReportSource,
    Result,
    TestCounts,
    TestResult,
)

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def result(outcome: Outcome = Outcome.PASSED, **extra: Any) -> TestResult:
    fields = {"nodeid": "t.py::x", "result": outcome.result, "outcome": outcome, "duration_seconds": 0.5, **extra}
    return TestResult(**fields)


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome.PASSED, Result.PASS),
        (Outcome.XPASSED, Result.PASS),
        (Outcome.FAILED, Result.FAIL),
        (Outcome.ERROR, Result.ERROR),
        (Outcome.SKIPPED, Result.SKIP),
        (Outcome.XFAILED, Result.SKIP),
    ],
)
def test_outcome_maps_as_pytest_junit_does(outcome: Outcome, expected: Result) -> None:
    assert result(outcome).result is expected


@pytest.mark.parametrize(
    "bad",
    [
        {"result": "passed"},
        {"result": Result.FAIL},  # contradicts outcome passed
        {"duration_seconds": -1},
        {"duration_seconds": float("nan")},
        {"duration_seconds": float("inf")},
        {"line": 0},
        {"nodeid": ""},
    ],
)
def test_invalid_test_results_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"nodeid|contradicts|duration|1-based"):
        result(**bad)


def test_unknown_test_result_fields_are_rejected() -> None:
    with pytest.raises(TypeError):
        result(unexpected=1)


def test_counts_must_add_up() -> None:
    TestCounts(total=3, passed=1, failed=1, skipped=1, errors=0, xfailed=0, xpassed=0)
    with pytest.raises(ValidationError, match="must equal total"):
        TestCounts(total=4, passed=1, failed=1, skipped=1, errors=0, xfailed=0, xpassed=0)


def run(**extra: object) -> CIRun:
    tests = [result()]
    return CIRun.model_validate(
        {
            "run_id": "1",
            "git": GitInfo(status="unknown"),
            "recorded_at": NOW,
            "counts": TestCounts.of(tests),
            "tests": tests,
            **extra,
        }
    )


@pytest.mark.parametrize("sha", ["a" * 40, "b" * 64])
def test_git_shas_are_sha1_or_sha256(sha: str) -> None:
    assert run(sha=sha).sha == sha


@pytest.mark.parametrize("sha", ["A" * 40, "a" * 39, "g" * 40, "a" * 41, "main"])
def test_bad_shas_are_rejected(sha: str) -> None:
    with pytest.raises(ValidationError, match="SHA"):
        run(sha=sha)


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValidationError, match="UTC"):
        run(recorded_at=datetime(2026, 1, 1))


def test_counts_must_match_the_tests() -> None:
    with pytest.raises(ValidationError, match="counts do not match"):
        run(counts=TestCounts(total=0, passed=0, failed=0, skipped=0, errors=0, xfailed=0, xpassed=0))


def source(**extra: object) -> ReportSource:
    fields = {
        "path": "r.json",
        "format": ReportFormat.PYTEST_JSON,
        "sha256": "0" * 64,
        "size": 1,
        "tests": 1,
        "walltime_seconds": 10.0,
        "test_time_seconds": 10.0,
        "workers": 1,
    }
    return ReportSource.model_validate({**fields, **extra})


def test_walltime_rule_allows_parallel_workers() -> None:
    source(test_time_seconds=79.0, workers=8)
    source(test_time_seconds=11.5)  # within 5% and one second of slack


def test_walltime_rule_rejects_impossible_durations() -> None:
    with pytest.raises(ValidationError, match="more than 1 worker"):
        source(test_time_seconds=25.0)
    with pytest.raises(ValidationError, match="more than 2 worker"):
        source(test_time_seconds=25.0, workers=2)


def test_unknown_walltime_skips_the_rule() -> None:
    source(walltime_seconds=None, workers=None, test_time_seconds=1e6)
