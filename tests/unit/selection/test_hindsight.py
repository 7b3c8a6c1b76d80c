"""The run's "selection in hindsight" is what `provenance select` chose before the run, scored on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main

TESTS = 40


def report(path: Path, failing: set[int]) -> None:
    cases = []
    for i in range(TESTS):
        body = f'<failure message="boom">tests/test_m.py:{i + 1}: AssertionError</failure>' if i in failing else ""
        cases.append(f'<testcase classname="tests.test_m" name="test_{i}" time="{0.5 + i % 5}">{body}</testcase>')
    path.write_text("<testsuite>" + "".join(cases) + "</testsuite>")


def run(workspace: Path, run_id: str, *extra: str) -> int:
    return main(["run", "--workspace", str(workspace), "--report", "r.xml", "--run-id", run_id, "--fail-on", "none",
                 *extra], {})  # fmt: skip


def test_hindsight_matches_what_select_chose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(12):  # test_3 fails often, the rest pass
        report(tmp_path / "r.xml", {3} if i % 3 == 0 else set())
        assert run(tmp_path, f"history-{i}") == 0
    argv = ["select", "--workspace", str(tmp_path), "--budget", "0.1", "--full-run-every", "0", "--out", "sel.txt"]
    assert main(argv, {}) == 0
    selected = set((tmp_path / "sel.txt").read_text().split())
    report(tmp_path / "r.xml", {3, 19})  # test_19, the slowest kind, fails for the first time
    assert run(tmp_path, "now", "--budget", "0.1") == 0
    capsys.readouterr()
    record = json.loads((tmp_path / "evidence" / "ci_provenance_now.json").read_text())
    seen = record["selection_hindsight"]
    assert seen["budget"] == "10% of the suite's time"
    assert seen["selected"] == len(selected) and seen["tests"] == TESTS
    assert (seen["failing"], seen["caught"]) == (2, 1)
    assert "tests/test_m.py::test_3" in selected  # the usual suspect was chosen...
    assert seen["missed"] == ["tests/test_m.py::test_19"]  # ...the first-time failure was not
    durations = {f"tests/test_m.py::test_{i}": 0.5 + i % 5 for i in range(TESTS)}
    assert seen["seconds_selected"] == pytest.approx(sum(durations[t] for t in selected))
    assert seen["seconds_total"] == pytest.approx(sum(durations.values()))


def test_no_hindsight_without_history(tmp_path: Path) -> None:
    report(tmp_path / "r.xml", {1})
    assert run(tmp_path, "first") == 0
    record = json.loads((tmp_path / "evidence" / "ci_provenance_first.json").read_text())
    assert record["selection_hindsight"] is None


def test_the_summary_and_the_terminal_say_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        report(tmp_path / "r.xml", {3})
        summary = tmp_path / f"summary-{i}.md"
        env = {"GITHUB_STEP_SUMMARY": str(summary)}
        assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--run-id", str(i), "--fail-on",
                     "none"], env) == 0  # fmt: skip
    text = summary.read_text()
    assert "### Test selection in hindsight" in text
    assert "caught **1 of 1** failing tests" in text
    assert "selection in hindsight (50% of the suite's time)" in capsys.readouterr().err
