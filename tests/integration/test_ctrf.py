"""CTRF in and out on real ledgers: every real session of the corpus recorded by `provenance run`, one git
repository per project, one ledger of many runs each, from pytest-json-report and from pytest-json-ctrf.

Each run also writes itself as CTRF (`--ctrf-out`); every such file must be valid under CTRF's published
schema and read back to the counts and failing tests the ledger recorded. The ledger made from the CTRF
reports must record what the one made from the JSON reports records, run for run, but where
pytest-json-ctrf does not write what happened (tests/unit/reports/test_real_sessions.py's KNOWN and
CTRF_DIFFERS).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from provenance.cli import main
from provenance.reports import load_report
from provenance.schemas import FAILED_RESULTS, TestCounts
from tests.support.project import ROOT, git
from tests.unit.reports.test_real_sessions import CTRF_DIFFERS, KNOWN

REAL = ROOT / "tests" / "data" / "real"
MOCHA = ROOT / "tests" / "data" / "ctrf" / "mocha"
SCHEMA = json.loads((ROOT / "tests" / "data" / "ctrf" / "ctrf-schema-0.0.json").read_text())


def cases_by_project() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for case in sorted(p.name for p in REAL.iterdir() if (p / "expected.json").is_file()):
        golden = json.loads((REAL / case / "expected.json").read_text())
        if {"report.json", "report.ctrf.json"} <= set(golden["reports"]):
            found.setdefault(golden["project"].split("==")[0], []).append(case)
    return found


PROJECTS = cases_by_project()


def record_runs(workspace: Path, runs: list[tuple[str, Path]], ledger: str) -> list[dict[str, Any]]:
    """Each report recorded by `provenance run` in turn, each run written as CTRF too; the ledger's entries."""
    for number, (name, report) in enumerate(runs, start=1):
        target = workspace / "reports" / ledger / name / report.name
        target.parent.mkdir(parents=True)
        shutil.copy(report, target)
        code = main(["run", "--workspace", str(workspace), "--report", target.relative_to(workspace).as_posix(),
                     "--ledger", f"data/{ledger}.jsonl", "--evidence-dir", f"evidence/{ledger}",
                     "--run-id", f"{number}", "--ctrf-out", f"ctrf/{ledger}/{number}.json", "--no-summary",
                     "--no-annotations"], {})  # fmt: skip
        assert code in (0, 1), name
    lines = (workspace / "data" / f"{ledger}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def repository(tmp_path: Path, name: str) -> Path:
    """A git repository named as the project's checkout, so the reports' runner paths map into it."""
    workspace = tmp_path / name
    workspace.mkdir()
    git(workspace, "init", "--quiet", "--initial-branch=main")
    (workspace / "README").write_text(f"{name}\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "--quiet", "-m", "start")
    return workspace


def check_ctrf_out(workspace: Path, ledger: str, entries: list[dict[str, Any]]) -> None:
    """Each run's CTRF file: valid, and read back to the run's counts, failing tests and predictions."""
    for entry in entries:
        path = workspace / "ctrf" / ledger / f"{entry['run_id']}.json"
        document = json.loads(path.read_text())
        jsonschema.validate(document, SCHEMA)
        loaded = load_report(path, workspace)
        assert loaded is not None
        assert TestCounts.of(loaded.parsed.tests).model_dump() == entry["counts"]
        failing = sorted(t.nodeid for t in loaded.parsed.tests if t.result in FAILED_RESULTS)
        assert failing == sorted(t["nodeid"] for t in entry["tests"] if t["result"] in ("fail", "error"))
        predicted = {t["nodeid"]: t["p_fail"] for t in entry["tests"] if t.get("p_fail") is not None}
        written = {
            t["name"]: t["extra"]["p_fail"] for t in document["results"]["tests"] if "p_fail" in t.get("extra", {})
        }
        assert written == predicted
        assert document["results"]["extra"]["provenance"]["ledger_seq"] == entry["seq"]


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_real_ledgers_in_ctrf_and_out(project: str, tmp_path: Path) -> None:
    workspace = repository(tmp_path, project)
    cases = PROJECTS[project]
    from_json = record_runs(workspace, [(c, REAL / c / "report.json") for c in cases], "json")
    from_ctrf = record_runs(workspace, [(c, REAL / c / "report.ctrf.json") for c in cases], "ctrf")
    assert len(from_json) == len(from_ctrf) == len(cases)
    for case, json_entry, ctrf_entry in zip(cases, from_json, from_ctrf, strict=True):
        if (case, "report.ctrf.json") not in KNOWN and case not in CTRF_DIFFERS:
            # pytest-json-ctrf does not mark an unexpected pass: it is in `passed` all the same.
            unmarked = {"xpassed": json_entry["counts"]["xpassed"]}
            assert ctrf_entry["counts"] | unmarked == json_entry["counts"], case
            assert ctrf_entry["conclusion"] == json_entry["conclusion"], case
            assert sorted(t["nodeid"] for t in ctrf_entry["tests"]) == sorted(t["nodeid"] for t in json_entry["tests"])
    check_ctrf_out(workspace, "json", from_json)
    check_ctrf_out(workspace, "ctrf", from_ctrf)
    assert any(t.get("p_fail") is not None for entry in from_ctrf[1:] for t in entry["tests"]) or len(cases) == 1


def test_a_mocha_run_recorded_and_written_back_as_mocha(tmp_path: Path) -> None:
    """A tool that is not pytest: three runs of the same mocha report, the tool's name kept in what is written."""
    workspace = repository(tmp_path, "shop")
    shutil.copytree(MOCHA / "test", workspace / "test")
    entries = record_runs(workspace, [(f"run{i}", MOCHA / "report.ctrf.json") for i in range(3)], "mocha")
    assert [e["counts"]["failed"] for e in entries] == [3, 3, 3]
    assert [e["conclusion"] for e in entries] == ["failure"] * 3
    check_ctrf_out(workspace, "mocha", entries)
    document = json.loads((workspace / "ctrf" / "mocha" / "3.json").read_text())
    assert document["results"]["tool"] == {"name": "mocha"}
    files = {t.get("filePath") for t in document["results"]["tests"]}
    assert files == {"test/cart.spec.js"}


def test_the_action_writes_the_run_as_ctrf(tmp_path: Path) -> None:
    """`ctrf-out` as the runner passes it: the file, the step output naming it, and the counts the outputs give."""
    from tests.integration.test_action_end_to_end import run_action
    from tests.support.project import run_pytest, sample_checkout
    from tests.support.runner import parse_output_file

    (tmp_path / "project").mkdir()
    checkout = sample_checkout(tmp_path / "project")
    run_pytest(checkout.path, "--ctrf", "report.ctrf.json")
    done, env = run_action(checkout, tmp_path / "home", report="report.ctrf.json", **{"ctrf-out": "out/run.ctrf.json"})
    assert done.returncode == 1, done.stdout + done.stderr
    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]))
    assert outputs["ctrf-path"] == "out/run.ctrf.json"
    document = json.loads((checkout.path / "out" / "run.ctrf.json").read_text())
    jsonschema.validate(document, SCHEMA)
    summary = document["results"]["summary"]
    assert summary["tests"] == int(outputs["tests-total"])
    assert summary["failed"] == int(outputs["tests-failed"]) + int(outputs["tests-errors"])
    assert document["results"]["environment"]["commit"] == checkout.head_sha
    assert document["results"]["environment"]["repositoryName"] == "acme/sample"
    assert document["runId"] == outputs["run-id"]
