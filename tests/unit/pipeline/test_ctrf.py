"""CTRF out: the run as CTRF, valid under CTRF's published schema, and read back to the run's own counts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from provenance.cli import main
from provenance.pipeline.ctrf import ctrf_report, tool_of
from provenance.reports import load_report
from provenance.schemas import Outcome, TestCounts, TestResult
from tests.support.outcomes import outcome_for
from tests.support.project import ROOT

SCHEMA = json.loads((ROOT / "tests" / "data" / "ctrf" / "ctrf-schema-0.0.json").read_text())
REAL = ROOT / "tests" / "data" / "real"


def every_outcome() -> list[TestResult]:
    """Each outcome once, a teardown error after a pass and one after a failure, a collection error."""

    def result(nodeid: str, outcome: Outcome, phase: str | None = None, seconds: float = 0.25) -> TestResult:
        failed = outcome not in (Outcome.PASSED, Outcome.XPASSED, Outcome.FLAKY)
        trace = "E   boom\n\ntests/test_a.py:3: Error"
        return TestResult(nodeid, outcome.result, outcome, seconds, "tests/test_a.py", 3 if failed else None,
                          phase if failed else None,  # type: ignore[arg-type]
                          "boom" if failed else None, trace if failed else None)  # fmt: skip

    return [
        result("tests/test_a.py::test_pass", Outcome.PASSED),
        result("tests/test_a.py::TestK::test_fail[1-x]", Outcome.FAILED, "call"),
        result("tests/test_a.py::test_skip", Outcome.SKIPPED, "call"),
        result("tests/test_a.py::test_xfail", Outcome.XFAILED, "call"),
        result("tests/test_a.py::test_xpass", Outcome.XPASSED),
        result("tests/test_a.py::test_flaky", Outcome.FLAKY),
        result("tests/test_a.py::test_setup", Outcome.ERROR, "setup"),
        result("tests/test_a.py::test_teardown", Outcome.PASSED),
        result("tests/test_a.py::test_teardown", Outcome.ERROR, "teardown", 0.0),
        result("tests/test_a.py::test_both", Outcome.FAILED, "call"),
        result("tests/test_a.py::test_both", Outcome.ERROR, "teardown", 0.0),
        result("tests/test_b.py", Outcome.ERROR, "collect", 0.0),
    ]


def test_every_outcome_is_written_valid_and_read_back_as_it_was(tmp_path: Path) -> None:
    tests = every_outcome()
    outcome = outcome_for(tmp_path, tests)
    predictions = {"tests/test_a.py::test_pass": 0.125}
    document = ctrf_report(outcome.provenance, predictions, "pytest", outcome.provenance_path,
                           outcome.provenance_sha256)  # fmt: skip
    jsonschema.validate(document, SCHEMA)
    written = [(t["name"], t["status"], t["rawStatus"]) for t in document["results"]["tests"]]
    assert written[6:9] == [("tests/test_a.py::test_setup", "failed", "setup_error"),
                            ("tests/test_a.py::test_teardown", "passed", "passed"),
                            ("tests/test_a.py::test_teardown", "failed", "teardown_error")]  # fmt: skip
    assert document["results"]["tests"][0]["extra"] == {"p_fail": 0.125}
    assert document["results"]["tests"][1]["suite"] == ["tests/test_a.py", "TestK"]
    assert document["results"]["tests"][5]["flaky"] is True
    summary = document["results"]["summary"]
    assert (summary["tests"], summary["passed"], summary["failed"], summary["skipped"], summary["flaky"]) == (
        12, 4, 6, 2, 1,
    )  # fmt: skip
    assert summary["duration"] == 100_000 and summary["stop"] - summary["start"] == 100_000
    path = tmp_path / "run.ctrf.json"
    path.write_text(json.dumps(document))
    loaded = load_report(path, tmp_path)
    assert loaded is not None
    assert [(t.nodeid, t.outcome, t.phase) for t in loaded.parsed.tests] == [(t.nodeid, t.outcome, t.phase)
                                                                            for t in tests]  # fmt: skip
    assert TestCounts.of(loaded.parsed.tests) == outcome.provenance.run.counts


def test_the_same_run_gives_the_same_document(tmp_path: Path) -> None:
    outcome = outcome_for(tmp_path, every_outcome())
    args = (outcome.provenance, {}, "pytest", outcome.provenance_path, outcome.provenance_sha256)
    assert ctrf_report(*args) == ctrf_report(*args)
    assert ctrf_report(*args)["reportId"] != ctrf_report(*args[:4], "f" * 64)["reportId"]


def test_the_tool_is_pytest_unless_a_ctrf_report_named_another() -> None:
    assert tool_of([None, None]) == "pytest"
    assert tool_of(["mocha"]) == "mocha"
    assert tool_of([None, "jest"]) == "jest, pytest"


@pytest.mark.parametrize("name", ["evil", "dir"])
def test_a_destination_through_a_link_or_a_directory_is_refused_before_anything_is_written(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / "report.json").write_bytes((REAL / "iniconfig-green" / "report.json").read_bytes())
    outside = tmp_path.parent / f"outside-{name}"
    outside.mkdir()
    (tmp_path / "evil").symlink_to(outside)
    (tmp_path / "dir").mkdir()
    target = "evil/run.ctrf.json" if name == "evil" else "dir"
    code = main(["run", "--workspace", str(tmp_path), "--ctrf-out", target, "--no-summary"], {})
    assert code == 2
    assert not (tmp_path / "data").exists() and not (tmp_path / "evidence").exists()
    assert list(outside.iterdir()) == []
