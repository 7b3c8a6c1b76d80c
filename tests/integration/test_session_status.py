"""pytest's exit status is the last word: a session pytest failed never passes the gate.

A real session that `pytest.exit(..., returncode=1)` stops after a passing test: no test failed,
yet pytest exited 1. Read alone, the JSON report and the report log show only a pass; the gate
must fail all the same, and say why.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provenance.cli import main

SUITE = """
import pytest


def test_passes():
    assert True


def test_stops_the_session():
    pytest.exit("the suite gave up", returncode=1)
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stopped")
    (root / "test_stop.py").write_text(SUITE)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_stop.py",
         "--json-report", "--json-report-file=report.json", "--report-log=report.jsonl"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    return root


@pytest.mark.parametrize("report", ["report.json", "report.jsonl"])
def test_a_session_pytest_failed_fails_the_gate_though_no_test_failed(
    session: Path, report: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--workspace", str(session), "--report", report, "--ledger", f"data/{report}.jsonl", "--no-summary"]
    assert main(args, {}) == 1
    captured = capsys.readouterr()
    assert f"pytest exited with status 1 (tests failed) in {report}, yet no test in it failed" in captured.err
