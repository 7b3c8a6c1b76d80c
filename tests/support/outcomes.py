"""Run records made through the real `record` stage from given test results, for tests of what reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provenance.config import Settings
from provenance.context import RunContext
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


def outcome_for(tmp_path: Path, tests: list[TestResult], run_id: str = "1", branch: str | None = None,
                **settings: Any) -> RunOutcome:  # fmt: skip
    """A run of `tests` recorded in `tmp_path`'s ledger (`run_id`, on `branch`), with the given settings."""
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
        settings=Settings(workspace=tmp_path, **settings),
        context=RunContext(run_id=run_id, **({"base_ref": "main"} if branch not in (None, "main") else {})),
        git=GitInfo(status="unknown", reason="no git", branch=branch),
        reports=[LoadedReport(parsed, source)],
        unmatched=[],
        empty=[],
    )
    return record(inputs, now=NOW)
