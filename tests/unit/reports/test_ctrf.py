"""CTRF in: real reports of pytest and of mocha, pytest's finer outcomes, and documents that break the schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from provenance.reports import ReportError, load_report
from provenance.schemas import Outcome, ReportFormat, TestCounts
from tests.support.project import ROOT

CTRF_DATA = ROOT / "tests" / "data" / "ctrf"
MOCHA = CTRF_DATA / "mocha"
REAL = ROOT / "tests" / "data" / "real"


def document(*tests: dict[str, Any], tool: str = "pytest") -> dict[str, Any]:
    """A minimal valid CTRF document around the given tests."""
    return {
        "reportFormat": "CTRF",
        "specVersion": "0.0.0",
        "results": {
            "tool": {"name": tool},
            "summary": {
                "tests": len(tests),
                "passed": 0,
                "failed": 0,
                "skipped": 0,
                "pending": 0,
                "other": 0,
                "start": 1_700_000_000_000,
                "stop": 1_700_000_002_500,
            },
            "tests": list(tests),
        },
    }


def load(tmp_path: Path, content: dict[str, Any] | str, name: str = "report.ctrf.json") -> Any:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return load_report(path, tmp_path)


def test_mocha_counts_as_mocha_exits() -> None:
    """mocha exits with its number of failures: a failure, one on every retry, a failing hook."""
    loaded = load_report(MOCHA / "report.ctrf.json", MOCHA)
    assert loaded is not None and loaded.source.format is ReportFormat.CTRF
    counts = TestCounts.of(loaded.parsed.tests)
    assert counts.failed == json.loads((MOCHA / "expected.json").read_text())["exit_status"] == 3
    assert (counts.passed, counts.skipped, counts.errors, counts.flaky) == (3, 2, 0, 1)
    flaky = [t.nodeid for t in loaded.parsed.tests if t.outcome is Outcome.FLAKY]
    assert flaky == ["checkout reaches the payment service on a retry"]
    failed = {t.nodeid: t for t in loaded.parsed.tests if t.result.failed}
    assert failed["checkout never reaches the fraud service"].message == "Error connection refused"
    assert {t.file for t in loaded.parsed.tests} == {"test/cart.spec.js"}  # the runner's path, in the workspace
    assert loaded.parsed.tool == "mocha" and loaded.parsed.workers is None
    assert loaded.source.walltime_seconds is not None and 0 < loaded.source.walltime_seconds < 60


def test_ctrf_is_detected_from_content_whatever_the_name(tmp_path: Path) -> None:
    (tmp_path / "results.txt").write_bytes((REAL / "attrs-reruns" / "report.ctrf.json").read_bytes())
    loaded = load_report(tmp_path / "results.txt", tmp_path)
    assert loaded is not None and loaded.source.format is ReportFormat.CTRF
    compact = json.dumps({"results": document()["results"], "reportFormat": "CTRF", "specVersion": "1.0.0"})
    loaded = load(tmp_path, compact, "compact.json")  # `results` first, as older reporters write it
    assert loaded is not None and loaded.source.format is ReportFormat.CTRF


@pytest.mark.parametrize(
    ("raw", "status", "outcomes"),
    [
        ("call_failed", "failed", [Outcome.FAILED]),
        ("setup_failed", "failed", [Outcome.ERROR]),
        ("teardown_failed", "failed", [Outcome.PASSED, Outcome.ERROR]),  # pytest-json-ctrf: the call passed
        ("???_failed", "failed", [Outcome.FAILED]),  # a crashed xdist worker: pytest counts a failure
        ("teardown_error", "failed", [Outcome.ERROR]),  # ours: the error alone, its test written apart
        ("collect_error", "failed", [Outcome.ERROR]),
        ("xfailed", "skipped", [Outcome.XFAILED]),
        ("xpassed", "passed", [Outcome.XPASSED]),
        ("whatever", "pending", [Outcome.SKIPPED]),
    ],
)
def test_pytest_raw_status_gives_pytest_outcome(tmp_path: Path, raw: str, status: str, outcomes: list[Outcome]) -> None:
    trace = "def test_one():\n>       assert 0\nE       assert 0\n\ntests/test_a.py:7: AssertionError"
    test = {"name": "tests/test_a.py::test_one", "status": status, "duration": 1500, "rawStatus": raw, "trace": trace}
    loaded = load(tmp_path, document(test))
    assert [t.outcome for t in loaded.parsed.tests] == outcomes
    assert sum(t.duration_seconds for t in loaded.parsed.tests) == 1.5
    for result in loaded.parsed.tests:
        if result.result.failed:
            assert (result.file, result.line) == ("tests/test_a.py", 7)


def test_raw_status_of_another_tool_is_its_own(tmp_path: Path) -> None:
    """jest's or mocha's `rawStatus` is their word, not pytest's: a failure stays a failure."""
    test = {"name": "suite adds", "status": "failed", "duration": 3, "rawStatus": "setup_failed"}
    assert [t.outcome for t in load(tmp_path, document(test, tool="jest")).parsed.tests] == [Outcome.FAILED]


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"flaky": True}, Outcome.FLAKY),
        ({"flaky": False, "retries": 2}, Outcome.PASSED),  # said outright: not flaky
        ({"retries": 1}, Outcome.FLAKY),
        ({"retryAttempts": [{"attempt": 1, "status": "failed"}], "retries": 1}, Outcome.FLAKY),
        ({"retryAttempts": [{"attempt": 1, "status": "skipped"}]}, Outcome.PASSED),
        ({"retries": 0}, Outcome.PASSED),
    ],
)
def test_a_pass_after_a_failed_attempt_is_flaky(tmp_path: Path, fields: dict[str, Any], outcome: Outcome) -> None:
    test = {"name": "t", "status": "passed", "duration": 0, **fields}
    assert [t.outcome for t in load(tmp_path, document(test, tool="playwright")).parsed.tests] == [outcome]


def test_a_pytest_test_that_never_stopped_is_not_counted_and_the_session_did_not_finish(tmp_path: Path) -> None:
    tests = [
        {"name": "t.py::test_before", "status": "passed", "duration": 2, "start": 1_700_000_000_100,
         "stop": 1_700_000_000_102},
        {"name": "t.py::test_calls_exit", "status": "passed", "duration": -1_700_000_000_103,
         "start": 1_700_000_000_103, "stop": 0},
    ]  # fmt: skip
    loaded = load(tmp_path, document(*tests))
    assert [t.nodeid for t in loaded.parsed.tests] == ["t.py::test_before"]
    assert loaded.parsed.unfinished
    assert loaded.source.walltime_seconds == 2.5


def test_xdist_workers_are_counted() -> None:
    loaded = load_report(REAL / "boltons-xdist-green" / "report.ctrf.json", REAL / "boltons-xdist-green")
    assert loaded is not None and loaded.parsed.workers == 2 and not loaded.source.workers_inferred


VALID_TEST = {"name": "t.py::test_a", "status": "passed", "duration": 1}


def broken(path: tuple[str | int, ...], value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    doc = document(copy.deepcopy(VALID_TEST))
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        (broken(("reportFormat",), delete=True), None, "missing required field `reportFormat`"),
        (broken(("reportFormat",), "ctrf"), "reportFormat", 'expected "CTRF"'),
        (broken(("specVersion",), "1.0"), "specVersion", "MAJOR.MINOR.PATCH"),
        (broken(("results", "tests", 0, "status"), "error"), "results.tests[0].status",
         "expected passed, failed, skipped, pending, other (got 'error')"),
        (broken(("results", "tests", 0, "duration"), 1.5), "results.tests[0].duration", "expected an integer"),
        (broken(("results", "tests", 0, "duration"), "1"), "results.tests[0].duration", "got `str`"),
        (broken(("results", "tests", 0, "flaky"), None), "results.tests[0].flaky", "got `null`"),
        (broken(("results", "tests", 0, "name"), ""), "results.tests[0].name", "non-empty string"),
        (broken(("results", "tests", 0, "retries"), -1), "results.tests[0].retries", "non-negative"),
        (broken(("results", "tests", 0, "worker"), "gw0"), "results.tests[0]", "unknown field `worker`"),
        (broken(("results", "summary", "stop"), delete=True), "results.summary", "missing required field `stop`"),
        (broken(("results", "tool"), delete=True), "results", "missing required field `tool`"),
        (broken(("results", "tests"), {}), "results.tests", "expected `array`"),
    ],
)  # fmt: skip
def test_a_document_that_breaks_the_schema_is_one_line_naming_the_field(
    tmp_path: Path, doc: dict[str, Any], field: str | None, words: str
) -> None:
    with pytest.raises(ReportError) as caught:
        load(tmp_path, doc)
    line = caught.value.diagnosis()
    assert "\n" not in line
    where = f"report.ctrf.json: {field}: " if field else "report.ctrf.json: "
    assert line.startswith(where + "breaks the CTRF schema: "), line
    assert words in line, line
