"""The parsers, on real reports of a suite with awkward shapes and on hand-made broken ones."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from provenance.reports import ReportError, find_reports, load_report
from provenance.reports.locate import Locator
from provenance.schemas import ReportFormat

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "reports" / "shapes"


def test_formats_are_detected_from_content(tmp_path: Path) -> None:
    expected = {
        "report.json": ReportFormat.PYTEST_JSON,
        "report.xml": ReportFormat.JUNIT_XML,
        "report.jsonl": ReportFormat.REPORTLOG,
    }
    for name, fmt in expected.items():
        renamed = tmp_path / f"{name}.txt"
        renamed.write_bytes((FIXTURES / name).read_bytes())
        loaded = load_report(renamed, tmp_path)
        assert loaded is not None and loaded.source.format is fmt
        assert loaded.source.size == renamed.stat().st_size
        assert loaded.source.sha256 == hashlib.sha256(renamed.read_bytes()).hexdigest()


def test_walltime_is_kept() -> None:
    for name in ("report.json", "report.xml", "report.jsonl"):
        loaded = load_report(FIXTURES / name, FIXTURES)
        assert loaded is not None
        assert loaded.source.walltime_seconds is not None and loaded.source.walltime_seconds > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"tests": [', "not valid JSON"),
        (b'{"tests": 3}', "tests: expected `array`, got `int`"),
        (b'{"tests": [3]}', "tests[0]: expected `object`, got `int`"),
        (b'{"tests": [{"nodeid": "a", "outcome": "passed", "call": []}]}', "tests[0].call: expected `object | null`"),
        (b'{"tests": [{"nodeid": "a", "outcome": "weird"}]}', "tests[0].outcome: expected one of"),
        (b'{"tests": [{"outcome": "passed"}]}', "tests[0].nodeid: expected a non-empty string"),
        (b'{"tests": [], "duration": -1}', "duration: expected a non-negative number"),
        (b'{"tests": [], "exitcode": "1"}', "exitcode: expected `int | null`, got `str`"),
        (b"<testsuite><testcase", "not well-formed XML at line 1"),
        (b"<html></html>", "expected <testsuites> or <testsuite>"),
        (b'<testsuite><testcase name="x" time="soon"/></testsuite>', "expected a number of seconds"),
        (b'{"$report_type": "SessionStart"}\n{oops', "line 2: not valid JSON"),
        (
            b'{"$report_type": "TestReport", "nodeid": "a", "when": "later", "outcome": "passed"}',
            "line 1, when: expected setup, call or teardown",
        ),
        (b"\x89PNG\r\n\x1a\n", "not a test report"),
        (b"plain text", "not a test report"),
    ],
)
def test_malformed_reports_name_the_file_and_field(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad-report"
    path.write_bytes(content)
    with pytest.raises(ReportError) as caught:
        load_report(path, tmp_path)
    assert caught.value.diagnosis().startswith("bad-report: ")
    assert message in caught.value.diagnosis()


def test_empty_report_is_no_report(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_bytes(b"")
    assert load_report(tmp_path / "r.json", tmp_path) is None


def test_only_whitespace_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_bytes(b" \n\t ")
    with pytest.raises(ReportError, match="only whitespace"):
        load_report(tmp_path / "r.json", tmp_path)


def test_a_report_after_many_blank_bytes_is_read_whole(tmp_path: Path) -> None:
    data = b" " * (3 << 20) + b'{"tests": []}'
    (tmp_path / "r.json").write_bytes(data)
    loaded = load_report(tmp_path / "r.json", tmp_path)
    assert loaded is not None and loaded.source.size == len(data)


def test_infinite_times_in_a_report_log_are_not_measurements(tmp_path: Path) -> None:
    # The standard parser reads `Infinity`; such a duration or stamp is ignored, as other junk is.
    line = {"$report_type": "TestReport", "nodeid": "t.py::a", "when": "call", "outcome": "passed"}
    text = json.dumps({**line, "duration": float("inf"), "start": float("-inf"), "stop": float("inf")})
    (tmp_path / "r.jsonl").write_text(text + "\n")
    loaded = load_report(tmp_path / "r.jsonl", tmp_path)
    assert loaded is not None
    assert [t.duration_seconds for t in loaded.parsed.tests] == [0.0]
    assert loaded.parsed.walltime_seconds is None


def test_directory_where_a_report_is_expected(tmp_path: Path) -> None:
    (tmp_path / "report.json").mkdir()
    with pytest.raises(ReportError, match="found a directory"):
        find_reports(("report.json",), tmp_path)


def test_globs_find_shards_in_order(tmp_path: Path) -> None:
    for shard in ("b", "a"):
        (tmp_path / "out" / shard).mkdir(parents=True)
        (tmp_path / "out" / shard / "report.xml").write_text("<testsuite/>")
    found = find_reports(("out/**/report.xml", "out/a/report.xml"), tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["out/a/report.xml", "out/b/report.xml"]


def test_runner_paths_map_into_the_container_workspace(tmp_path: Path) -> None:
    """pytest ran in /home/runner/work/repo/repo/pkg; the container sees the checkout elsewhere."""
    (tmp_path / "pkg" / "tests").mkdir(parents=True)
    (tmp_path / "pkg" / "tests" / "test_x.py").write_text("")
    (tmp_path / "pkg" / "src").mkdir()
    (tmp_path / "pkg" / "src" / "lib.py").write_text("")
    locator = Locator(tmp_path, tmp_path, "/home/runner/work/repo/repo/pkg")
    assert locator.relative("tests/test_x.py") == "pkg/tests/test_x.py"
    assert locator.relative("/home/runner/work/repo/repo/pkg/src/lib.py") == "pkg/src/lib.py"
    assert locator.relative(str(tmp_path / "pkg" / "src" / "lib.py")) == "pkg/src/lib.py"
    assert locator.relative("C:\\runner\\repo\\pkg\\src\\lib.py") == "pkg/src/lib.py"
    assert locator.relative("tests/unknown.py") == "tests/unknown.py"
