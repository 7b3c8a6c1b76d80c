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


def test_the_gate_refuses_to_extend_a_ledger_that_does_not_verify(tmp_path: Path) -> None:
    """An edited middle entry: exit 1 naming its line, and not one byte or file added."""
    from provenance.cli import main

    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>')
    for _ in range(3):
        assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--no-summary"], {}) == 0
    ledger = tmp_path / "data" / "ci_runs.jsonl"
    lines = ledger.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"run_attempt":1', b'"run_attempt":2')
    assert lines[1] != ledger.read_bytes().splitlines(keepends=True)[1]
    ledger.write_bytes(b"".join(lines))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], {}) == 1
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_the_gate_refuses_a_ledger_cut_shorter_than_its_checkpoint(tmp_path: Path) -> None:
    from provenance.cli import main

    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>')
    for _ in range(3):
        assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--no-summary"], {}) == 0
    ledger = tmp_path / "data" / "ci_runs.jsonl"
    ledger.write_bytes(b"".join(ledger.read_bytes().splitlines(keepends=True)[:2]))
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], {}) == 1
    assert len(ledger.read_bytes().splitlines()) == 2
