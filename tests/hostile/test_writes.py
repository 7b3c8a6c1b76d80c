"""Where `run` writes, when the pull request's tree and the environment are hostile.

Every destination goes through one resolver: a committed symlink on the way, a path that leads
out of the workspace or an id that is no file name stops the run with exit 2 and nothing written,
anywhere; a run under an id already recorded leaves the first run's files as they were.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance.cli import main
from tests.support.project import git

REPORT = '<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>'


def snapshot(*roots: Path) -> dict[str, bytes]:
    """Every file under the roots (links not followed), with its bytes: what 'nothing written' compares."""
    files: dict[str, bytes] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_symlink():
                files[str(path)] = b"-> " + os.readlink(path).encode()
            elif path.is_file():
                files[str(path)] = path.read_bytes()
    return files


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "report.xml").write_text(REPORT)
    return work


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory the pull request's links point at: a runner's home, say."""
    elsewhere = tmp_path / "outside"
    elsewhere.mkdir()
    (elsewhere / "ci_runs.jsonl").write_text("precious\n")
    return elsewhere


def refused(
    workspace: Path, args: list[str], capsys: pytest.CaptureFixture[str], env: dict[str, str] | None = None
) -> str:
    """Run, expect exit 2 with one line and no traceback; the line."""
    code = main(["run", "--workspace", str(workspace), "--report", "report.xml", *args], env or {})
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("link", "args", "field"),
    [
        ("evidence", [], "evidence-dir"),
        ("data", [], "ledger"),
        ("data/ci_runs.jsonl", [], "ledger"),
        ("audit", ["--contracts-audit-log", "audit/log.jsonl"], "contracts-audit-log"),
    ],
)
def test_a_committed_symlink_is_never_written_through(
    workspace: Path, outside: Path, capsys: pytest.CaptureFixture[str], link: str, args: list[str], field: str
) -> None:
    target = outside / "ci_runs.jsonl" if link.endswith(".jsonl") else outside
    (workspace / link).parent.mkdir(parents=True, exist_ok=True)
    (workspace / link).symlink_to(target)
    before = snapshot(workspace, outside)
    err = refused(workspace, args, capsys)
    assert f"{field}: {link} is a symlink" in err
    assert snapshot(workspace, outside) == before


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--ledger", "../outside/ci_runs.jsonl"], "ledger"),
        (["--evidence-dir", "/tmp/../etc"], "evidence-dir"),
        (["--contracts-audit-log", "a/../../x.jsonl"], "contracts-audit-log"),
    ],
)
def test_a_destination_outside_the_workspace_is_refused(
    workspace: Path, outside: Path, capsys: pytest.CaptureFixture[str], args: list[str], field: str
) -> None:
    before = snapshot(workspace, outside)
    err = refused(workspace, args, capsys)
    assert f"{field}: leads outside the workspace" in err
    assert snapshot(workspace, outside) == before


@pytest.mark.parametrize("run_id", ["/../../../x", "12\n34", "..", "a b", "x" * 129, "ü"])
def test_a_run_id_that_is_no_file_name_is_refused(
    workspace: Path, outside: Path, capsys: pytest.CaptureFixture[str], run_id: str
) -> None:
    before = snapshot(workspace.parent)
    err = refused(workspace, [], capsys, {"GITHUB_RUN_ID": run_id})
    assert "GITHUB_RUN_ID" in err and "expected 1 to 128 of A-Z a-z 0-9 . _ -" in err
    assert "\n" not in err.rstrip("\n")
    assert snapshot(workspace.parent) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--badge-path", "data/ci_runs.jsonl"], "badge-path: is the same file as the ledger"),
        (["--badge-path", "data//./ci_runs.jsonl"], "badge-path: is the same file as the ledger"),
        (["--ctrf-out", "data/ci_runs.jsonl.model.npz"], "ctrf-out: is the same file as the model state"),
        (["--ctrf-out", "b.json", "--badge-path", "b.json"], "ctrf-out: is the same file as the badge-path"),
        (["--ctrf-out", "evidence/ci_provenance_8.json"], "ctrf-out: is the same file as the evidence file"),
        (["--contracts-audit-log", "data/ci_runs.jsonl"], "contracts-audit-log: is the same file as the ledger"),
        (["--badge-path", "hard.json"], "badge-path: is the same file as the ledger"),  # a hard link to it
        (["--ledger", "new/l.jsonl", "--badge-path", "new/l.jsonl/b.svg"], "ledger: is written as a file, and the"),
        (["--ledger", "c/l.jsonl", "--ctrf-out", "c"], "ctrf-out: is written as a file, and the ledger would be"),
        (["--evidence-dir", "ev2", "--badge-path", "ev2"], "badge-path: is written as a file, and the evidence file"),
        (["--export", "--badge-path", "evidence/results"], "export: is the same file as the badge-path"),
        (["--ctrf-out", "report.xml"], "report: is read by the run and is its ctrf-out too"),
        (["--ctrf-out", "linked.xml"], "report: is read by the run and is its ctrf-out too"),  # report.xml links to it
        (["--ledger", "report.xml"], "report: is read by the run and is its ledger too"),
        (["--predictions", "p.jsonl", "--badge-path", "p.jsonl"], "predictions: is read by the run and is its badge"),
    ],
)
def test_one_file_written_twice_or_read_and_written_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--run-id", "7"], {}) == 0
    capsys.readouterr()
    os.link(workspace / "data" / "ci_runs.jsonl", workspace / "hard.json")
    (workspace / "p.jsonl").write_text('{"test": "t::ok", "p_fail": 0.1}\n')
    if "linked.xml" in args:
        (workspace / "report.xml").rename(workspace / "linked.xml")
        (workspace / "report.xml").symlink_to("linked.xml")
    before = snapshot(workspace)
    err = refused(workspace, ["--run-id", "8", *args], capsys)
    assert message in err
    assert snapshot(workspace) == before


def test_a_second_run_under_the_same_id_leaves_the_first_untouched(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--run-id", "7"], {}) == 0
    capsys.readouterr()
    before = snapshot(workspace)
    err = refused(workspace, ["--run-id", "7"], capsys)
    assert "evidence/ci_provenance_7.json already exists" in err
    assert snapshot(workspace) == before


def test_superseding_an_entry_past_the_end_writes_nothing(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--run-id", "1"], {}) == 0
    capsys.readouterr()
    before = snapshot(workspace)
    err = refused(workspace, ["--run-id", "2", "--supersedes", "5", "--correction-reason", "typo"], capsys)
    assert "there is no entry 5 to supersede yet" in err
    assert snapshot(workspace) == before


def test_a_tampered_ledger_gets_no_audit_line_either(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "data").mkdir()
    (workspace / "data" / "d.csv").write_text("a,b\n1,2\n")
    (workspace / "data_contracts.yaml").write_text('datasets:\n  d:\n    path: data/d.csv\n    checksum: ""\n')
    for run_id in ("1", "2"):  # the dataset has no checksum yet: unverified, a failed gate, recorded
        assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--run-id", run_id], {}) == 1
    assert len((workspace / "data" / "contracts_audit.jsonl").read_text().splitlines()) == 2
    ledger = workspace / "data" / "ci_runs.jsonl"
    ledger.write_bytes(ledger.read_bytes().replace(b'"run_id":"1"', b'"run_id":"X"'))
    capsys.readouterr()
    before = snapshot(workspace)
    assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--run-id", "3"], {}) == 1
    assert "line 1" in capsys.readouterr().err
    assert snapshot(workspace) == before


# The ledger branch, against real git: a bare repository as `origin`.
BRANCH = "provenance-ledger"


def clone(origin: Path, where: Path) -> Path:
    git(origin.parent, "clone", "--quiet", f"file://{origin}", str(where))
    (where / "report.xml").write_text(REPORT)
    return where


def on_branch(workspace: Path, run_id: str) -> int:
    return main(["run", "--workspace", str(workspace), "--report", "report.xml", "--ledger-branch", BRANCH,
                 "--run-id", run_id], {})  # fmt: skip


def test_a_ledger_branch_rewritten_shorter_stops_the_run(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A self-hosted runner (or a cache) keeps the checkpoint: a force-push that drops entries shows."""
    work = clone(origin, tmp_path / "job")
    for run_id in ("1", "2", "3"):
        assert on_branch(work, run_id) == 0
    capsys.readouterr()
    first = git(origin, "rev-list", "--reverse", BRANCH).split()[0]
    git(origin, "update-ref", f"refs/heads/{BRANCH}", first)  # history rewritten: one entry left
    before = git(origin, "rev-parse", BRANCH)
    assert on_branch(work, "4") == 1
    err = capsys.readouterr().err
    assert f"the ledger branch {BRANCH} was rewritten" in err
    assert git(origin, "rev-parse", BRANCH) == before


def test_a_ledger_branch_cut_at_its_last_commit_stops_the_run(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dropping only the newest commit keeps the descent; the checkpoint's size still shows the cut."""
    work = clone(origin, tmp_path / "job")
    for run_id in ("1", "2"):
        assert on_branch(work, run_id) == 0
    capsys.readouterr()
    git(origin, "update-ref", f"refs/heads/{BRANCH}", f"{BRANCH}~1")
    assert on_branch(work, "3") == 1
    assert "truncated" in capsys.readouterr().err


def test_a_push_the_remote_refuses_is_not_retried(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(f'#!/bin/sh\necho x >> "{tmp_path}/pushes"\necho "ledger branch is protected" >&2\nexit 1\n')
    hook.chmod(0o755)
    work = clone(origin, tmp_path / "job")
    assert on_branch(work, "1") == 2
    err = capsys.readouterr().err
    assert "ledger-branch provenance-ledger: the remote refused the push" in err
    assert (tmp_path / "pushes").read_text().count("x") == 1
    assert git(origin, "ls-remote", "--heads", str(origin), BRANCH) == ""


def test_select_never_writes_through_a_symlink(
    workspace: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--run-id", "1"], {}) == 0
    (workspace / "selected_tests.txt").symlink_to(outside / "ci_runs.jsonl")
    capsys.readouterr()
    before = snapshot(workspace, outside)
    code = main(["select", "--workspace", str(workspace), "--ledger", "data/ci_runs.jsonl", "--out",
                 "selected_tests.txt"], {})  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "selection-out: selected_tests.txt is a symlink" in err, err
    assert snapshot(workspace, outside) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "data/ci_runs.jsonl"], "selection-out: is the same file as the ledger"),
        (["--out", "data/ci_runs.jsonl.model.npz"], "selection-out: is the same file as the model state"),
        (["--out", "tests.txt", "--tests", "tests.txt"], "selection-out: is the same file as the tests"),
        (["--out", "x", "--tests", "x.audit.json"], "selection-out's audit file: is the same file as the tests"),
        (["--out", "data"], "data: selection-out: expected a file, found a directory"),
    ],
)
def test_select_never_writes_over_the_ledger_or_its_input(
    workspace: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--run-id", "1"], {}) == 0
    for name in ("tests.txt", "x.audit.json"):
        (workspace / name).write_text("t::ok\n")
    capsys.readouterr()
    before = snapshot(workspace)
    code = main(["select", "--workspace", str(workspace), *args], {})
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert snapshot(workspace) == before


def test_select_reads_a_list_of_tests_from_anywhere(workspace: Path, outside: Path) -> None:
    # Only what select writes must stay inside the workspace; a list it reads may be elsewhere, or a link.
    assert main(["run", "--workspace", str(workspace), "--report", "report.xml", "--run-id", "1"], {}) == 0
    (outside / "all.txt").write_text("t::ok\n")
    (workspace / "linked.txt").symlink_to(outside / "all.txt")
    for listed in (str(outside / "all.txt"), "linked.txt"):
        assert main(["select", "--workspace", str(workspace), "--tests", listed], {}) == 0
        assert (workspace / "selected_tests.txt").read_text() == "t::ok\n"


def test_validate_never_writes_through_a_symlink(
    workspace: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "d.csv").write_text("a\n")
    (workspace / "data_contracts.yaml").write_text('datasets:\n  d:\n    path: d.csv\n    checksum: ""\n')
    (workspace / "data").symlink_to(outside)
    before = snapshot(workspace, outside)
    code = main(["validate", "--workspace", str(workspace), "--update"], {})
    err = capsys.readouterr().err
    assert code == 2 and "--audit-log: data is a symlink" in err, err
    assert snapshot(workspace, outside) == before


def test_moving_a_workspace_ledger_to_a_branch_is_no_false_alarm(origin: Path, tmp_path: Path) -> None:
    """A checkpoint left by the ledger kept in the workspace says nothing of a ledger branch."""
    work = clone(origin, tmp_path / "job")
    for run_id in ("1", "2"):
        assert main(["run", "--workspace", str(work), "--report", "report.xml", "--run-id", run_id], {}) == 0
    assert on_branch(work, "3") == 0
