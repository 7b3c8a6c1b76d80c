"""Golden figures: real pytest runs of real suites (see tests/fixtures/reports/regenerate.py).

For each suite and each of the three formats, the parsed counts must be pytest's own, from its
terminal summary line, under the documented rules: an xfail is a skip, an xpass a pass, and a
failing subtest fails its test rather than counting as a test of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.config import Settings
from provenance.context import RunContext
from provenance.pipeline import Inputs, decide
from provenance.reports import load_report
from provenance.schemas import Conclusion, TestCounts
from tests.support.project import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "reports"
SUITES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())
FORMATS = ["report.json", "report.xml", "report.jsonl"]


def expected(suite: str) -> dict[str, int]:
    golden = json.loads((FIXTURES / suite / "expected.json").read_text())
    pytest_counts = golden["counts"]
    return {
        "failed": pytest_counts.get("failed", 0) - golden["subtests_failed"],
        "errors": pytest_counts.get("errors", 0),
        "skipped": pytest_counts.get("skipped", 0) + pytest_counts.get("xfailed", 0),
        "passed": pytest_counts.get("passed", 0) + pytest_counts.get("xpassed", 0),
        "exit_status": golden["exit_status"],
    }


def test_fixtures_are_present() -> None:
    assert SUITES == ["attrs", "dateutil", "packaging", "shapes"]


@pytest.mark.parametrize("report", FORMATS)
@pytest.mark.parametrize("suite", SUITES)
def test_counts_are_pytests_own(suite: str, report: str) -> None:
    loaded = load_report(FIXTURES / suite / report, FIXTURES / suite)
    assert loaded is not None
    counts = TestCounts.of(loaded.parsed.tests)
    want = expected(suite)
    assert {k: getattr(counts, k) for k in ("failed", "errors", "skipped", "passed")} == {
        k: want[k] for k in ("failed", "errors", "skipped", "passed")
    }
    if report != "report.xml":  # JUnit XML does not record the exit status
        assert loaded.parsed.exit_status == want["exit_status"]


@pytest.mark.parametrize("report", FORMATS)
@pytest.mark.parametrize("suite", SUITES)
def test_every_fixture_fails_the_gate(suite: str, report: str, tmp_path: Path) -> None:
    loaded = load_report(FIXTURES / suite / report, FIXTURES / suite)
    assert loaded is not None
    inputs = Inputs(Settings(workspace=tmp_path), RunContext(run_id="1"), None, [loaded], [], [])  # type: ignore[arg-type]
    verdict = decide(inputs, loaded.parsed.tests)
    assert verdict.conclusion is Conclusion.FAILURE
    if suite == "dateutil" and report != "report.xml":
        assert "pytest exited with status 3 (an internal error)" in verdict.reasons[0]


@pytest.mark.parametrize("report", FORMATS)
def test_collection_errors_point_at_their_module(report: str) -> None:
    loaded = load_report(FIXTURES / "packaging" / report, FIXTURES / "packaging")
    assert loaded is not None
    errors = {t.nodeid: t for t in loaded.parsed.tests if t.phase == "collect"}
    assert sorted(errors) == ["tests/test_manylinux.py", "tests/test_musllinux.py"]
    for nodeid, test in errors.items():
        assert test.file == nodeid
        assert test.line == {"tests/test_manylinux.py": 18, "tests/test_musllinux.py": 7}[nodeid]  # import pretend
        assert test.message and "pretend" in test.message


@pytest.mark.parametrize("report", FORMATS)
def test_subtests_and_teardown_errors(report: str) -> None:
    loaded = load_report(FIXTURES / "shapes" / report, FIXTURES / "shapes")
    assert loaded is not None
    results = [(t.nodeid.split("::")[-1], t.outcome.value, t.phase) for t in loaded.parsed.tests]
    assert ("test_subtests", "failed", "call") in results
    assert ("test_teardown_error", "passed", None) in results
    assert ("test_teardown_error", "error", "teardown") in results
    assert ("test_fails_then_teardown_error", "failed", "call") in results
    assert ("test_fails_then_teardown_error", "error", "teardown") in results
    subtests = next(t for t in loaded.parsed.tests if t.nodeid.endswith("::test_subtests"))
    if report != "report.json":  # pytest-json-report does not carry subtests
        assert (subtests.file, subtests.line) == ("tests/test_shapes.py", 47)
    doctest = next(t for t in loaded.parsed.tests if t.nodeid.endswith("test_shapes.add"))
    assert doctest.outcome.value == "failed"
    assert doctest.nodeid == "tests/test_shapes.py::tests.test_shapes.add" or doctest.nodeid.endswith(
        "::test_shapes.add"
    )
