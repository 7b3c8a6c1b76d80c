from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from provenance.config import Settings
from provenance.context import RunContext
from provenance.github import summary
from provenance.pipeline import Inputs, RunOutcome, record
from provenance.reports import LoadedReport
from provenance.reports.common import ParsedReport
from provenance.schemas import GitInfo, Outcome, ReportFormat, ReportSource, TestResult

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def failing(n: int, size: int = 10_000) -> list[TestResult]:
    return [
        TestResult(
            nodeid=f"tests/test_big.py::test_{i}[<b>|x|</b>]",
            result=Outcome.FAILED.result,
            outcome=Outcome.FAILED,
            duration_seconds=0.01,
            file="tests/test_big.py",
            line=i + 1,
            phase="call",
            message="AssertionError: **bold** `code` <img src=x>",
            longrepr="E   " + "x" * size,
        )
        for i in range(n)
    ]


def outcome_for(tmp_path: Path, tests: list[TestResult]) -> RunOutcome:
    parsed = ParsedReport(format=ReportFormat.PYTEST_JSON, tests=tests, walltime_seconds=100.0, workers=1)
    source = ReportSource(
        path="report.json",
        format=ReportFormat.PYTEST_JSON,
        sha256="0" * 64,
        size=1,
        tests=len(tests),
        walltime_seconds=100.0,
        test_time_seconds=sum(t.duration_seconds for t in tests),
        workers=1,
    )
    inputs = Inputs(
        settings=Settings(workspace=tmp_path),
        context=RunContext(run_id="1"),
        git=GitInfo(status="unknown", reason="no git"),
        reports=[LoadedReport(parsed, source)],
        unmatched=[],
        empty=[],
    )
    return record(inputs, now=NOW)


def test_summary_stays_under_the_limit_with_a_notice(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, failing(400))
    text = summary.render(outcome, limit_bytes=200_000)
    assert len(text.encode()) <= 200_000
    shown = text.count("<details>")
    assert 0 < shown < 400
    assert f"{400 - shown} more failing tests are not shown here" in text
    assert text.rstrip().endswith("|")  # the provenance table survives the trimming


def test_summary_escapes_untrusted_text(tmp_path: Path) -> None:
    text = summary.render(outcome_for(tmp_path, failing(2, size=10)))
    assert "<img" not in text and "<b>" not in text and "**bold**" not in text
    assert text.count("<details>") == 2


def test_passing_run_says_so(tmp_path: Path) -> None:
    passed = [TestResult(nodeid="t.py::ok", result=Outcome.PASSED.result, outcome=Outcome.PASSED, duration_seconds=0.1)]
    text = summary.render(outcome_for(tmp_path, passed))
    assert text.startswith("## ✅ Tests passed\n")
    assert "1 test passed, none failed" in text
    assert "Failing tests" not in text
