"""Doctests in text files (`--doctest-glob`), as pytest runs them: one node id in every format.

JUnit XML names such a test by a dotted `classname` (`docs.guide.rst`) that looks like a module
path; the reader must give the id pytest and the other formats give (`docs/guide.rst::guide.rst`),
or the test's history splits in two.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provenance.reports import load_report
from provenance.schemas import Outcome

GUIDE = """A guide whose examples are tested.

    >>> 1 + 1
    3
"""
REPORTS = ("report.json", "report.xml", "report.jsonl", "report.ctrf.json")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("doctests")
    (root / "docs").mkdir()
    (root / "docs" / "guide.rst").write_text(GUIDE)
    (root / "docs" / "release.notes.rst").write_text(GUIDE)  # a dot in the name, as a folder's would be
    (root / "tests").mkdir()
    (root / "tests" / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--doctest-glob=*.rst", "docs", "tests",
         "--json-report", "--json-report-file=report.json", "--junitxml=report.xml", "--report-log=report.jsonl",
         "--ctrf=report.ctrf.json"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "2 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    return root


@pytest.mark.parametrize("report", REPORTS)
def test_a_doctest_file_has_pytests_node_id_in_every_format(session: Path, report: str) -> None:
    loaded = load_report(session / report, session)
    assert loaded is not None
    failed = [t for t in loaded.parsed.tests if t.outcome is Outcome.FAILED]
    assert sorted((t.nodeid, t.file) for t in failed) == [
        ("docs/guide.rst::guide.rst", "docs/guide.rst"),
        ("docs/release.notes.rst::release.notes.rst", "docs/release.notes.rst"),
    ]
