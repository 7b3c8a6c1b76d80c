"""One session named in several formats is counted once; different sessions are merged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provenance.config import Settings
from provenance.pipeline import gather
from provenance.pipeline.verdict import warnings_for
from provenance.schemas import TestCounts
from tests.support.project import ROOT

REAL = ROOT / "tests" / "data" / "real"


def _workspace(tmp_path: Path, files: dict[str, Path]) -> Path:
    for name, source in files.items():
        shutil.copyfile(source, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("case", ["iniconfig-green", "attrs-reruns", "toolz-teardown-errors"])
def test_one_session_in_three_formats_counts_once(case: str, tmp_path: Path) -> None:
    names = ("report.json", "report.xml", "report.jsonl")
    workspace = _workspace(tmp_path, {n: REAL / case / n for n in names})
    alone = gather(Settings(workspace=workspace, report=("report.json",)), {})
    inputs = gather(Settings(workspace=workspace, report=("report.xml", "report.*")), {})
    assert [r.source.path for r in inputs.reports] == ["report.json"]
    tests = [t for r in inputs.reports for t in r.parsed.tests]
    assert TestCounts.of(tests) == TestCounts.of([t for r in alone.reports for t in r.parsed.tests])
    assert any("describe the same pytest session as report.json" in w for w in warnings_for(inputs))


def test_shards_of_different_sessions_are_merged(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, {"a.json": REAL / "iniconfig-green" / "report.json",
                                      "b.xml": REAL / "toolz-green" / "report.xml"})  # fmt: skip
    inputs = gather(Settings(workspace=workspace, report=("a.json", "b.xml")), {})
    assert [r.source.path for r in inputs.reports] == ["a.json", "b.xml"]
    assert TestCounts.of([t for r in inputs.reports for t in r.parsed.tests]).passed == 54 + 90
    assert any("2 reports of different sessions" in w for w in warnings_for(inputs))


def test_a_report_with_no_test_is_not_called_another_session(tmp_path: Path) -> None:
    # pytest-json-ctrf writes no collection error: of a session that only failed to collect, its
    # report holds no test while the JSON report holds the error.
    case = REAL / "iniconfig-syntax-error"
    names = ("report.json", "report.ctrf.json")
    workspace = _workspace(tmp_path, {name: case / name for name in names})
    inputs = gather(Settings(workspace=workspace, report=names), {})
    warnings = warnings_for(inputs)
    assert not any("different sessions" in w for w in warnings), warnings
    assert any("report.ctrf.json holds no test" in w for w in warnings), warnings
