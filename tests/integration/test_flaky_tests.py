"""A flaky test, as pytest-rerunfailures runs it: a real pytest session with `--reruns 2`, read in
every format it wrote, and the step's outputs, summary and exit."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.reports import load_report
from provenance.schemas import Outcome
from tests.support.runner import parse_output_file

FLAKY_SUITE = """
from pathlib import Path

ATTEMPTS = Path(__file__).with_name("attempts.txt")


def test_passes_on_its_second_attempt():
    tries = int(ATTEMPTS.read_text()) if ATTEMPTS.exists() else 0
    ATTEMPTS.write_text(str(tries + 1))
    assert tries >= 1, "the first attempt fails"


def test_steady():
    assert True
"""
REPORTS = ("report.json", "report.xml", "report.jsonl")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("flaky")
    (root / "test_flaky.py").write_text(FLAKY_SUITE)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--reruns", "2", "test_flaky.py",
         "--json-report", "--json-report-file=report.json", "--junitxml=report.xml", "--report-log=report.jsonl"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return root, done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("report", REPORTS)
def test_a_test_that_passed_on_a_rerun_is_flaky_and_passes_the_gate(session: tuple[Path, str], report: str,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    root, pytest_line = session
    assert "2 passed, 1 rerun" in pytest_line
    outputs, summary = tmp_path / "outputs", tmp_path / "summary.md"
    env = {"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    args = ["run", "--workspace", str(root), "--report", report, "--ledger", f"data/{report}.jsonl"]
    assert main(args, env) == 0
    got = parse_output_file(outputs)
    assert [got[k] for k in ("tests-passed", "tests-failed", "tests-flaky", "conclusion")] == ["2", "0", "1", "success"]
    text = html.unescape(summary.read_text())
    assert "### Flaky tests (1)" in text
    assert "test_flaky.py::test_passes_on_its_second_attempt" in text.split("### Flaky tests")[1].split("###")[0]
    entry = json.loads((root / "data" / f"{report}.jsonl").read_text().splitlines()[-1])
    assert entry["counts"]["flaky"] == 1


def test_a_test_run_whole_twice_is_not_a_retry(tmp_path: Path) -> None:
    """`--keep-duplicates` runs each test of a file named twice in full: no attempt failed, nothing is flaky."""
    (tmp_path / "test_twice.py").write_text("def test_one():\n    pass\n\n\ndef test_two():\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--keep-duplicates", "test_twice.py",
         "test_twice.py", "--report-log=report.jsonl"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "4 passed" in done.stdout, done.stdout
    loaded = load_report(tmp_path / "report.jsonl", tmp_path)
    assert loaded is not None
    assert sorted((t.nodeid, t.outcome) for t in loaded.parsed.tests) == [
        ("test_twice.py::test_one", Outcome.PASSED), ("test_twice.py::test_two", Outcome.PASSED)]  # fmt: skip
