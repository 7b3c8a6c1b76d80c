"""The provenance file: orjson writes its tests, and its bytes must be the record as pydantic dumps it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from provenance.schemas import CIProvenance, Outcome, TestResult
from provenance.workspace import pretty_json
from tests.support.outcomes import outcome_for


def results_of(n: int) -> list[TestResult]:
    outcomes = [Outcome.PASSED, Outcome.FAILED, Outcome.SKIPPED, Outcome.XFAILED, Outcome.ERROR]
    return [
        TestResult(
            nodeid=f'tests/test_é.py::test_{i}["quoted"\\n|{i % 7}]',
            result=outcomes[i % 5].result,
            outcome=outcomes[i % 5],
            duration_seconds=(i % 11) * 1e-4,
            file=None if i % 3 else "tests/test_é.py",
            line=None if i % 2 else i + 1,
            phase=None if i % 5 == 0 else "call",
            message=None if i % 5 == 0 else f"line one\nline two {i}",
            longrepr=None if i % 5 == 0 else "E   assert 1 == 2\n\ttabbed",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [0, 1, 10_000, 25_001])
def test_the_file_is_the_whole_record_as_pretty_json(tmp_path: Path, n: int) -> None:
    outcome = outcome_for(tmp_path, results_of(n))
    written = (tmp_path / outcome.provenance_path).read_bytes()
    assert written == pretty_json(outcome.provenance.model_dump(mode="json"))
    assert hashlib.sha256(written).hexdigest() == outcome.provenance_sha256
    assert CIProvenance.model_validate(json.loads(written)) == outcome.provenance
