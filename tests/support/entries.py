"""Ledger entry fields as a run of a real suite records them, for tests that append many."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from provenance.schemas import Conclusion, TestCounts

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def entry_fields(run_id: str, tests: int = 0) -> dict[str, Any]:
    """The fields of one entry (without seq, prev and hash); `tests` passing tests are listed."""
    return {
        "recorded_at": NOW,
        "run_id": run_id,
        "run_attempt": 1,
        "repository": "acme/sample",
        "commit": "a" * 40,
        "branch": "main",
        "conclusion": Conclusion.SUCCESS,
        "counts": TestCounts(total=tests, passed=tests, failed=0, skipped=0, errors=0, xfailed=0, xpassed=0),
        "walltime_seconds": 1.5,
        "tests": [
            {"nodeid": f"tests/test_mod{i % 40}.py::test_case_{i}", "result": "pass", "duration_seconds": 0.01 * i}
            for i in range(tests)
        ],
        "changed_files": ["a.py"],
        "reports": [],
        "provenance_path": f"evidence/ci_provenance_{run_id}.json",
        "provenance_sha256": "b" * 64,
        "retention_until": NOW.replace(year=2031),
    }
