"""Ledger entry fields as a run of a real suite records them, for tests that append many."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provenance.ledger.chain import open_for_append
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


def build_ledger(path: Path, entries: int) -> dict[str, Any]:
    """A ledger of `entries` runs of 0, 1 or 3 tests (the same every time); returns its checkpoint."""
    rng = random.Random(5)
    with open_for_append(path) as appender:
        for i in range(entries):
            appender.append(entry_fields(f"run-{i}", tests=rng.choice([0, 1, 3])))
        return appender.checkpoint(NOW)
