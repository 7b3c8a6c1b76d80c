"""The ledger kept on a git branch, against real git: a bare repository as `origin`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.ledger import branch as ledger_branch
from provenance.ledger.verify import verify
from provenance.pipeline import run as pipeline_run
from tests.support.project import git

BRANCH = "provenance-ledger"
REPORT = '<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>'


def checkout(origin: Path, where: Path, depth: int | None = None) -> Path:
    args = ["clone", "--quiet", *([f"--depth={depth}"] if depth else []), f"file://{origin}", str(where)]
    git(origin.parent, *args)
    (where / "report.xml").write_text(REPORT)
    return where


def run(workspace: Path, run_id: str, env: dict[str, str] | None = None) -> int:
    return main(["run", "--workspace", str(workspace), "--report", "report.xml", "--ledger-branch", BRANCH,
                 "--run-id", run_id], env or {})  # fmt: skip


def branch_ledger(origin: Path, tmp_path: Path) -> Path:
    reader = tmp_path / "reader"
    git(tmp_path, "clone", "--quiet", "--branch", BRANCH, str(origin), str(reader))
    return reader / "data" / "ci_runs.jsonl"


def test_missing_branch_is_created_as_an_orphan(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = checkout(origin, tmp_path / "job")
    head_before = git(work, "rev-parse", "HEAD")
    assert run(work, "1") == 0
    outputs = json.loads(capsys.readouterr().out)
    ledger = branch_ledger(origin, tmp_path)
    assert verify(ledger).entries == 1
    assert git(origin, "rev-list", "--count", BRANCH) == "1"  # an orphan: no parent, no code
    assert git(origin, "ls-tree", "-r", "--name-only", BRANCH).split() == [
        "data/ci_runs.jsonl", "data/ci_runs.jsonl.checkpoint.json", "data/ci_runs.jsonl.model.npz",
    ]  # fmt: skip
    assert outputs["ledger_commit"] == git(origin, "rev-parse", BRANCH)
    # The user's checkout is untouched, and later steps find the ledger where it always is.
    assert git(work, "rev-parse", "HEAD") == head_before
    assert git(work, "status", "--porcelain", "--untracked-files=no") == ""
    assert (work / "data" / "ci_runs.jsonl").read_text() == ledger.read_text()


def test_runs_append_to_the_branch(origin: Path, tmp_path: Path) -> None:
    for job in range(3):
        assert run(checkout(origin, tmp_path / f"job{job}"), str(job)) == 0
    ledger = branch_ledger(origin, tmp_path)
    assert verify(ledger).entries == 3
    assert [json.loads(line)["run_id"] for line in ledger.read_text().splitlines()] == ["0", "1", "2"]


def test_a_rejected_push_is_retried_on_the_new_tip(
    origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another job pushes between our fetch and our push: ours is rejected, appended again, pushed."""
    rival = checkout(origin, tmp_path / "rival")
    ours = checkout(origin, tmp_path / "ours")
    assert run(rival, "0") == 0
    real_push = ledger_branch.LedgerBranch.push
    calls: list[bool] = []
    rival_pushed: list[bool] = []

    def push_after_a_rival(self: ledger_branch.LedgerBranch, commit: str) -> bool:
        if self.workspace == ours and not rival_pushed:
            rival_pushed.append(True)
            assert run(rival, "rival") == 0  # gets there first
        result = real_push(self, commit)
        if self.workspace == ours:
            calls.append(result)
        return result

    monkeypatch.setattr(ledger_branch.LedgerBranch, "push", push_after_a_rival)
    assert run(ours, "ours") == 0
    assert calls == [False, True]
    ledger = branch_ledger(origin, tmp_path)
    assert verify(ledger).problem is None
    assert [json.loads(line)["run_id"] for line in ledger.read_text().splitlines()] == ["0", "rival", "ours"]


def test_a_branch_that_keeps_moving_is_given_up_on_in_time_and_left_as_it_was(
    origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every push is rejected (other jobs always first): the run retries until its time is up, then fails, exit 3."""
    assert run(checkout(origin, tmp_path / "first"), "0") == 0
    ours = checkout(origin, tmp_path / "ours")
    rejected: list[str] = []

    def always_too_late(self: ledger_branch.LedgerBranch, commit: str) -> bool:
        rejected.append(commit)
        return False

    monkeypatch.setattr(ledger_branch.LedgerBranch, "push", always_too_late)
    monkeypatch.setattr(pipeline_run, "LEDGER_PUSH_SECONDS", 1.0)
    capsys.readouterr()
    assert run(ours, "ours") == 3
    err = capsys.readouterr().err
    assert f"the ledger branch {BRANCH} kept moving: {len(rejected)} pushes were rejected in 1 s" in err
    assert len(rejected) >= 2 and "Traceback" not in err
    assert [json.loads(line)["run_id"] for line in branch_ledger(origin, tmp_path).read_text().splitlines()] == ["0"]


def test_shallow_clone(origin: Path, tmp_path: Path) -> None:
    assert run(checkout(origin, tmp_path / "first"), "1") == 0
    assert run(checkout(origin, tmp_path / "shallow", depth=1), "2") == 0
    assert verify(branch_ledger(origin, tmp_path)).entries == 2


def test_a_fork_pull_request_never_pushes(origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = checkout(origin, tmp_path / "fork-pr")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "head": {"repo": {"full_name": "stranger/app"}},
                                                  "base": {"repo": {"full_name": "acme/app"}}}}))  # fmt: skip
    env = {"GITHUB_REPOSITORY": "acme/app", "GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "pull_request"}
    assert run(work, "9", env) == 0
    captured = capsys.readouterr()
    assert "was not updated: a pull request from a fork" in captured.err
    assert git(origin, "ls-remote", "--heads", str(origin), BRANCH) == ""
    assert verify(work / "data" / "ci_runs.jsonl").entries == 1
