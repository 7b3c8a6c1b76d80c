"""`fail-on: regression`: a run fails on new failures only, compared with the branch's last recorded run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main


def junit(results: dict[str, str]) -> str:
    cases = "".join(
        f'<testcase classname="tests.test_x" name="{name}" time="0.1">'
        + ('<failure message="boom">tests/test_x.py:3: AssertionError</failure>' if outcome == "fail" else "")
        + "</testcase>"
        for name, outcome in results.items()
    )
    return f"<testsuite>{cases}</testsuite>"


def run(
    workspace: Path, run_id: str, results: dict[str, str], branch: str, capsys: pytest.CaptureFixture[str],
    base: str | None = None, fail_on: str = "regression",
) -> tuple[int, dict[str, object], str]:  # fmt: skip
    """One run on `branch` (a pull request's head when `base` is given); its exit code, provenance file and summary."""
    (workspace / "r.xml").write_text(junit(results))
    env = {"GITHUB_HEAD_REF": branch, "GITHUB_BASE_REF": base} if base else {"GITHUB_REF": f"refs/heads/{branch}"}
    code = main(["run", "--workspace", str(workspace), "--report", "r.xml", "--run-id", run_id, "--fail-on", fail_on],
                env)  # fmt: skip
    captured = capsys.readouterr()
    record = json.loads((workspace / json.loads(captured.out)["provenance_path"]).read_text())
    return code, record, captured.err


def test_only_new_failures_fail_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, record, _ = run(tmp_path, "1", {"a": "fail", "b": "pass", "c": "pass"}, "main", capsys)
    assert code == 1  # nothing to compare with: every failure counts as new
    assert "no earlier run of this branch or its base" in record["verdict"]["reasons"][0]

    code, record, _ = run(tmp_path, "2", {"a": "fail", "b": "fail", "c": "pass"}, "main", capsys)
    assert code == 1
    assert record["verdict"]["known_failures"] == ["tests/test_x.py::a"]
    assert record["verdict"]["reasons"] == ["2 tests failed, 0 errors: 1 new failure, 1 known from run 1 of main"]

    code, record, _ = run(tmp_path, "3", {"a": "fail", "b": "fail", "c": "pass"}, "main", capsys)
    assert code == 0
    assert record["verdict"]["conclusion"] == "neutral" and record["verdict"]["gate_failed"] is False
    assert record["verdict"]["known_failures"] == ["tests/test_x.py::a", "tests/test_x.py::b"]


def test_a_pull_requests_first_run_is_compared_with_its_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(tmp_path, "1", {"a": "fail", "c": "pass"}, "main", capsys)
    run(tmp_path, "2", {"a": "pass", "c": "fail"}, "other", capsys)  # another branch's run is not compared with
    code, record, _ = run(tmp_path, "3", {"a": "fail", "c": "pass"}, "feature", capsys, base="main")
    assert code == 0
    assert "each failing in run 1 of main already" in record["verdict"]["reasons"][0]
    code, record, _ = run(tmp_path, "4", {"a": "fail", "c": "fail"}, "feature", capsys, base="main")
    assert code == 1  # its own branch's last run is compared with now
    assert record["verdict"]["known_failures"] == ["tests/test_x.py::a"]
    assert "known from run 3 of feature" in record["verdict"]["reasons"][0]


def test_the_summary_lists_new_and_known_failures_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(tmp_path, "1", {"a": "fail", "b": "pass"}, "main", capsys)
    summary = tmp_path / "summary.md"
    (tmp_path / "r.xml").write_text(junit({"a": "fail", "b": "fail"}))
    env = {"GITHUB_REF": "refs/heads/main", "GITHUB_STEP_SUMMARY": str(summary)}
    args = ["run", "--workspace", str(tmp_path), "--report", "r.xml", "--run-id", "2", "--fail-on", "regression"]
    assert main(args, env) == 1
    text = summary.read_text()
    new, known = text.index("### New failures (1)"), text.index("### Known failures (1)")
    assert new < text.index("test&#95;x.py&#58;&#58;b") < known < text.index("test&#95;x.py&#58;&#58;a")


def test_test_failures_is_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(tmp_path, "1", {"a": "fail"}, "main", capsys, fail_on="test-failures")
    code, record, _ = run(tmp_path, "2", {"a": "fail"}, "main", capsys, fail_on="test-failures")
    assert code == 1 and record["verdict"]["known_failures"] == []
