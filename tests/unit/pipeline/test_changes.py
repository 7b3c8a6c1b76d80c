"""What changed against the base branch's last recorded run, and the duration gate, on real recorded ledgers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.schemas import Outcome, TestResult
from tests.support.outcomes import outcome_for


def result(nodeid: str, outcome: Outcome, seconds: float = 0.1) -> TestResult:
    return TestResult(nodeid=nodeid, result=outcome.result, outcome=outcome, duration_seconds=seconds)


def test_new_fixed_still_failing_and_flaky_against_the_base(tmp_path: Path) -> None:
    outcome_for(tmp_path, [result("t::a", Outcome.FAILED), result("t::b", Outcome.FAILED),
                           result("t::c", Outcome.PASSED)], run_id="1", branch="main")  # fmt: skip
    # A later run of another branch is not the base's: it must not be compared with.
    outcome_for(tmp_path, [result("t::c", Outcome.FAILED)], run_id="2", branch="other")
    head = [result("t::a", Outcome.PASSED), result("t::b", Outcome.ERROR), result("t::c", Outcome.FAILED),
            result("t::d", Outcome.FLAKY), result("t::e", Outcome.FAILED)]  # fmt: skip
    changes = outcome_for(tmp_path, head, run_id="3", branch="feature", comment="changes").changes
    assert changes is not None
    assert (changes.base_branch, changes.base_run_id) == ("main", "1")
    assert [t.nodeid for t in changes.new_failures] == ["t::c", "t::e"]
    assert changes.fixed == ["t::a"]
    assert [t.nodeid for t in changes.still_failing] == ["t::b"]
    assert [t.nodeid for t in changes.flaky] == ["t::d"]
    assert changes.any([])


def test_without_a_recorded_base_run_every_failure_is_new(tmp_path: Path) -> None:
    changes = outcome_for(tmp_path, [result("t::a", Outcome.FAILED), result("t::b", Outcome.PASSED)],
                          run_id="1", branch="feature", comment="always").changes  # fmt: skip
    assert changes is not None and changes.base_run_id is None
    assert [t.nodeid for t in changes.new_failures] == ["t::a"] and changes.fixed == []
    assert changes.any([])


def test_nothing_is_compared_when_the_comment_is_off(tmp_path: Path) -> None:
    assert outcome_for(tmp_path, [result("t::a", Outcome.FAILED)], branch="feature").changes is None


def junit(seconds: dict[str, float]) -> str:
    cases = "".join(f'<testcase classname="tests.test_x" name="{n}" time="{s}"/>' for n, s in seconds.items())
    return f"<testsuite>{cases}</testsuite>"


def run(workspace: Path, run_id: str, seconds: dict[str, float], *flags: str) -> tuple[int, dict[str, object]]:
    (workspace / "r.xml").write_text(junit(seconds))
    code = main(["run", "--workspace", str(workspace), "--report", "r.xml", "--run-id", run_id, *flags],
                {"GITHUB_REF": "refs/heads/main"})  # fmt: skip
    return code, json.loads((workspace / "evidence" / f"ci_provenance_{run_id}.json").read_text())


@pytest.mark.parametrize(("fail_on", "code"), [("duration-regression", 1), ("test-failures", 0)])
def test_slower_tests_gate_only_under_fail_on_duration_regression(
    tmp_path: Path, fail_on: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    for number in range(3):
        assert run(tmp_path, f"base-{number}", {"fast": 0.2, "steady": 1.0 + number / 10})[0] == 0
    flags = ("--duration-regression", "2,0.5", "--fail-on", fail_on)
    done, record = run(tmp_path, "slow", {"fast": 0.3, "steady": 3.5}, *flags)
    verdict = record["verdict"]
    assert isinstance(verdict, dict)
    assert done == code
    assert verdict["slower_tests"] == [
        {"nodeid": "tests/test_x.py::steady", "seconds": 3.5, "median_seconds": 1.1, "runs": 3}
    ]
    gated = "1 test took more than 2x their recorded median and over 0.5 s longer"
    assert (gated in verdict["reasons"]) is (fail_on == "duration-regression")
    assert verdict["gate_failed"] is (code == 1)
    assert "SLOWER tests/test_x.py::steady: 3.50 s, its recorded median 1.10 s over 3 runs" in capsys.readouterr().err
