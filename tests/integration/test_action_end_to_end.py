"""The action end to end: real pytest reports of the sample project, `entrypoint.py` in a subprocess
with the runner's environment, and every output, the summary, the annotations, the ledger line and
the provenance file checked against pytest's own figures."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.project import (
    ROOT,
    Checkout,
    PytestRun,
    RunnerDirs,
    pull_request_event,
    run_pytest,
    runner_env,
    sample_checkout,
    write_event,
)
from tests.support.runner import parse_commands, parse_output_file

FORMATS = {
    "report.json": ("--json-report", "--json-report-file=report.json"),
    "report.xml": ("--junitxml=report.xml",),
    "report.jsonl": ("--report-log=report.jsonl",),
    "report.ctrf.json": ("--ctrf", "report.ctrf.json"),  # pytest-json-ctrf
}


@pytest.fixture(scope="module")
def pytest_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Checkout, PytestRun]:
    checkout = sample_checkout(tmp_path_factory.mktemp("project"))
    args = [arg for group in FORMATS.values() for arg in group]
    run = run_pytest(checkout.path, *args)
    assert run.exit_status == 1  # the sample has failing tests on purpose
    return checkout, run


@pytest.fixture
def checkout(pytest_run: tuple[Checkout, PytestRun]) -> Checkout:
    return pytest_run[0]


def run_action(
    checkout: Checkout, home: Path, **inputs: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    # Each job's checkout is fresh: no run's evidence yet (a second run under one id is refused).
    shutil.rmtree(checkout.path / "evidence", ignore_errors=True)
    dirs = RunnerDirs.on_host(checkout.path, home)
    event = pull_request_event(checkout)
    write_event(Path(dirs.workflow), event)
    env = {"PATH": os.environ["PATH"], **runner_env(dirs, event, **inputs)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=checkout.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, env


@pytest.mark.parametrize("report", list(FORMATS))
def test_every_output_matches_pytest(pytest_run: tuple[Checkout, PytestRun], tmp_path: Path, report: str) -> None:
    """The counts are the ones pytest printed in its terminal summary line."""
    checkout, run = pytest_run
    done, env = run_action(checkout, tmp_path, report=report, ledger=f"ledgers/{report}.jsonl")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr

    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]))
    expected = run.as_outputs()
    assert {k: int(outputs[k]) for k in expected} == expected
    assert outputs["conclusion"] == "failure"
    assert (outputs["contracts-status"], outputs["contracts-failed"]) == ("ok", "0")  # the sample's dataset
    assert outputs["run-id"] == "9876543210"
    assert float(outputs["duration-seconds"]) > 0
    assert outputs["ledger-path"] == f"ledgers/{report}.jsonl"
    assert outputs["ledger-seq"] == "0"
    assert outputs["provenance-path"] == "evidence/ci_provenance_9876543210.json"

    provenance_file = checkout.path / outputs["provenance-path"]
    assert hashlib.sha256(provenance_file.read_bytes()).hexdigest() == outputs["provenance-sha256"]
    record = json.loads(provenance_file.read_text())
    assert record["run"]["counts"]["total"] == expected["tests-total"]
    assert record["run"]["git"]["commit"] == checkout.head_sha
    assert record["run"]["git"]["compare_base"] == checkout.base_sha
    assert [f["path"] for f in record["run"]["git"]["changed_files"]] == ["tests/test_stats.py"]
    assert record["run"]["git"]["lines_added"] == 4
    assert record["run"]["pr_number"] == 7
    assert record["run"]["git"]["branch"] == "feature/odd-names"
    assert record["reports"][0]["sha256"] == hashlib.sha256((checkout.path / report).read_bytes()).hexdigest()
    assert record["verdict"] == {"conclusion": "failure", "reasons": ["5 tests failed, 2 errors"], "gate_failed": True,
                                 "known_failures": [], "slower_tests": []}  # fmt: skip

    ledger_lines = (checkout.path / outputs["ledger-path"]).read_text().splitlines()
    assert len(ledger_lines) == 1
    entry = json.loads(ledger_lines[0])
    assert entry["entry_hash"] == outputs["ledger-head"]
    assert entry["prev"] == "0" * 64
    assert entry["provenance_sha256"] == outputs["provenance-sha256"]
    assert entry["counts"]["failed"] == expected["tests-failed"]
    assert len(entry["tests"]) == expected["tests-total"]


def test_annotations_point_at_the_failures(checkout: Checkout, tmp_path: Path) -> None:
    done, _ = run_action(checkout, tmp_path, report="report.json")
    commands = parse_commands(done.stdout)
    errors = [c for c in commands if c.name == "error"]
    assert len(errors) == 7  # 5 failed + 2 errors, under GitHub's 10 per step
    by_title = {c.properties["title"]: c for c in errors}
    odd = by_title["tests/test_stats.py::test_normalise_keeps_odd_labels[a::b] failed"]
    assert odd.properties["file"] == "tests/test_stats.py"
    assert odd.properties["line"] == "37"
    assert odd.data.startswith("AssertionError: assert 'a::b' == 'a::b!'")
    comma = by_title["tests/test_stats.py::test_normalise_keeps_odd_labels[x,y] failed"]
    assert comma.properties["line"] == "37"
    crash_in_library = by_title["tests/test_stats.py::test_mean_of_empty_is_zero failed"]
    assert (crash_in_library.properties["file"], crash_in_library.properties["line"]) == ("src/sample/__init__.py", "6")
    setup_error = by_title["tests/test_stats.py::test_uses_broken_fixture error in setup"]
    assert (setup_error.properties["file"], setup_error.properties["line"]) == ("tests/test_stats.py", "42")
    # Nothing else: the log copy of the summary is fenced by stop-commands.
    assert {c.name for c in commands} == {"error"}


def test_summary_reads_verdict_first(checkout: Checkout, tmp_path: Path) -> None:
    _, env = run_action(checkout, tmp_path, report="report.json")
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("## ❌ Tests failed\n")
    assert "**5 tests failed, 2 errors**" in summary
    assert "| ❌ Failed | 5 |" in summary
    assert "| 💥 Errors | 2 |" in summary
    assert "### Failing tests (7)" in summary
    assert summary.count("<details><summary>❌") + summary.count("<details><summary>💥") == 7
    # Untrusted names are escaped: no raw markup from the test ids reaches the Markdown.
    assert "test&#95;normalise&#95;keeps&#95;odd&#95;labels&#91;a&#58;&#58;b&#93;" in summary
    assert "<script>" not in summary
    assert "| Pull request | #7 |" in summary
    assert "https://github.com/acme/sample/actions/runs/9876543210" in summary
    assert "evidence/ci&#95;provenance&#95;9876543210.json" in summary


def test_every_format_gives_the_same_counts(checkout: Checkout, tmp_path: Path) -> None:
    seen = []
    for report in FORMATS:
        _, env = run_action(checkout, tmp_path / report, report=report)
        outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]))
        seen.append({k: v for k, v in outputs.items() if k.startswith("tests-") or k == "conclusion"})
    assert seen[0] == seen[1] == seen[2] == seen[3]


def test_fail_on_none_only_reports(checkout: Checkout, tmp_path: Path) -> None:
    done, env = run_action(checkout, tmp_path, report="report.json", **{"fail_on": "none", "ledger": "l.jsonl"})
    assert done.returncode == 0, done.stderr
    assert parse_output_file(Path(env["GITHUB_OUTPUT"]))["conclusion"] == "failure"


def test_ledger_chains_across_runs(checkout: Checkout, tmp_path: Path) -> None:
    heads = []
    for attempt in ("1", "2"):
        _, env = run_action(checkout, tmp_path / attempt, report="report.jsonl", ledger="chain.jsonl")
        heads.append(parse_output_file(Path(env["GITHUB_OUTPUT"])))
    assert heads[1]["ledger-seq"] == "1"
    lines = (checkout.path / "chain.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["prev"] == heads[0]["ledger-head"]
    verified = subprocess.run(
        [sys.executable, "-m", "provenance", "verify", str(checkout.path / "chain.jsonl")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["entries"] >= 2


def test_missing_report_can_warn_and_records_nothing(checkout: Checkout, tmp_path: Path) -> None:
    done, env = run_action(checkout, tmp_path, report="nowhere/*.json", if_no_report="warn", ledger="missing.jsonl")
    assert done.returncode == 0, done.stderr
    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]))
    assert outputs["conclusion"] == "neutral"
    assert outputs["tests-total"] == "0"
    assert "provenance-path" not in outputs
    assert not (checkout.path / "missing.jsonl").exists()
    warnings = [c for c in parse_commands(done.stdout) if c.name == "warning"]
    assert [w.data for w in warnings] == ["no test report found at nowhere/*.json"]
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "No test results" in summary and "Nothing was recorded" in summary


def test_missing_report_fails_by_default(checkout: Checkout, tmp_path: Path) -> None:
    """A required check counts a step that exits 0 as passed, so a run that wrote no report must not."""
    done, _ = run_action(checkout, tmp_path, report="absent.json", ledger="m2.jsonl")
    assert done.returncode == 2
    errors = [c for c in parse_commands(done.stdout) if c.name == "error"]
    assert [e.data for e in errors] == ["report: no test report found at absent.json"]
    assert not (checkout.path / "m2.jsonl").exists()


def test_a_conftest_that_ends_pytest_before_its_report_does_not_pass(tmp_path: Path) -> None:
    """A pull request's conftest.py can end pytest with status 0 before any report is written."""
    checkout = sample_checkout(tmp_path / "project")
    ends = "import os\n\n\ndef pytest_collection_finish(session):\n    os._exit(0)\n"
    (checkout.path / "conftest.py").write_text(ends)
    run = run_pytest(checkout.path, *FORMATS["report.json"])
    assert run.exit_status == 0 and not (checkout.path / "report.json").exists()
    done, _ = run_action(checkout, tmp_path / "home", report="report.json", ledger="ended.jsonl")
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [c for c in parse_commands(done.stdout) if c.name == "error"]
    assert [e.data for e in errors] == ["report: no test report found at report.json"]
    assert not (checkout.path / "ended.jsonl").exists()


@pytest.mark.parametrize(("setting", "code", "conclusion"), [(None, 1, "failure"), ("warn", 0, "neutral")])
def test_a_session_that_ran_no_test_fails_the_gate_by_default(
    tmp_path: Path, setting: str | None, code: int, conclusion: str
) -> None:
    """pytest exits 5 when a `-k` matches nothing: its report holds no tests."""
    checkout = sample_checkout(tmp_path / "project")
    run = run_pytest(checkout.path, "-k", "no_test_has_this_name", *FORMATS["report.json"])
    assert run.exit_status == 5
    chosen = {"if_no_report": setting} if setting else {}
    done, env = run_action(checkout, tmp_path / "home", report="report.json", ledger="none.jsonl", **chosen)
    assert done.returncode == code, done.stdout + done.stderr
    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]))
    assert (outputs["conclusion"], outputs["tests-total"]) == (conclusion, "0")
    assert "the reports contain no tests" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def test_malformed_report_is_bad_input(checkout: Checkout, tmp_path: Path) -> None:
    (checkout.path / "broken.json").write_text('{"tests": [')
    done, env = run_action(checkout, tmp_path, report="broken.json", ledger="never.jsonl")
    assert done.returncode == 2
    errors = [c for c in parse_commands(done.stdout) if c.name == "error"]
    assert len(errors) == 1
    assert errors[0].data.startswith("broken.json: not valid JSON")
    assert "Traceback" not in done.stdout + done.stderr
    assert not (checkout.path / "never.jsonl").exists()
    assert not Path(env["GITHUB_OUTPUT"]).exists()


def test_bad_input_value_names_the_input(checkout: Checkout, tmp_path: Path) -> None:
    done, _ = run_action(checkout, tmp_path, report="report.json", fail_on="sometimes")
    assert done.returncode == 2
    expected = "expected one of test-failures, regression, duration-regression, none (got 'sometimes')"
    assert f"action inputs: fail-on: {expected}" in done.stdout


def test_runs_locally_without_github(checkout: Checkout, tmp_path: Path) -> None:
    """`provenance run` with no GitHub variables: outputs as JSON on stdout, summary on stderr."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "provenance",
            "run",
            "--report",
            "report.xml",
            "--ledger",
            "local/l.jsonl",
            "--evidence-dir",
            "local/ev",
        ],
        cwd=checkout.path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    outputs = json.loads(done.stdout)
    assert outputs["tests_failed"] == "5"
    assert outputs["run_id"].startswith("local-")
    assert done.stderr.startswith("FAILED: 5 tests failed, 2 errors")
    assert "::" not in done.stdout
    assert (checkout.path / "local" / "ev" / f"ci_provenance_{outputs['run_id']}.json").is_file()


def test_select_mode_before_the_tests(checkout: Checkout, tmp_path: Path) -> None:
    """mode: select reads the ledger the run mode kept and writes the node ids to run."""
    for attempt in ("a", "b"):
        run_action(checkout, tmp_path / attempt, report="report.json", ledger="sel.jsonl", fail_on="none")
    done, env = run_action(checkout, tmp_path / "select", mode="select", ledger="sel.jsonl", budget="0.2",
                           selection_out="chosen.txt", full_run_every="0")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]))
    chosen = (checkout.path / "chosen.txt").read_text().splitlines()
    assert outputs["selected-count"] == str(len(chosen)) and outputs["selection-path"] == "chosen.txt"
    assert int(outputs["skipped-count"]) > 0
    # The tests that failed in both earlier runs are chosen first.
    assert "tests/test_stats.py::test_mean_of_empty_is_zero" in chosen
    assert 0.0 < float(outputs["confidence"]) < 1.0
    # The step's summary: the confidence curve, and where each test's reason is.
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert f"## ✂️ Test selection: {len(chosen)} of " in summary and "```mermaid\nxychart-beta\n" in summary
    assert "chosen.txt.audit.json" in summary
