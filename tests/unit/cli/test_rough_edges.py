"""What a first hour with the command line finds: each message names a flag that exists, help renders,
the exit agrees with the JSON, nothing to score is said, and a closed pipe ends quietly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.gitmeta import read_git

ROOT = Path(__file__).resolve().parents[3]
PASSING = '<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>'


def test_a_rule_across_flags_names_the_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--workspace", str(tmp_path), "--budget", "0.5", "--budget-seconds", "3"], {}) == 2
    err = capsys.readouterr().err
    assert err == "provenance: error: command line: give one budget, not --budget and --budget-seconds\n"
    assert "--settings" not in err


def test_a_missing_flag_is_not_quoted_as_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--workspace", str(tmp_path), "--supersedes", "1"], {}) == 2
    assert (
        capsys.readouterr().err == "provenance: error: command line: --correction-reason: a correction needs a reason\n"
    )


def test_backtest_help_renders_percent_signs() -> None:
    shown = subprocess.run([sys.executable, "-m", "provenance", "backtest", "--help"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    assert "95%, 99% and 100%" in shown
    assert "%%" not in shown


def test_backtest_with_nothing_to_score_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "h.csv"
    rows = ["Id;Name;Duration;LastRun;LastResults;Verdict;Cycle"]
    rows += [f"{c}{t};t{t};1.0;2020-01-01;[];{int(c == 3 and t == 0)};{c}" for c in range(5) for t in range(3)]
    history.write_text("\n".join(rows) + "\n")
    assert main(["backtest", "--history", str(history), "--format", "atcs"], {}) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nothing to score: 5 cycles, and the first 10 are the warm-up" in captured.err
    assert main(["backtest", "--history", str(history), "--format", "atcs", "--warmup", "2"], {}) == 0
    assert json.loads(capsys.readouterr().out)["cycles_scored"] == 3


def test_validate_update_status_agrees_with_its_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "data_contracts.yaml").write_text(
        "datasets:\n  table:\n    path: data.csv\n    checksum: '" + "0" * 64 + "'\n"
        "validation:\n  block_on_mismatch: true\n"
    )
    args = ["validate", "--workspace", str(tmp_path)]
    assert main(args, {}) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "failed"
    assert main([*args, "--update", "--dry-run"], {}) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "would-update"
    assert main([*args, "--update"], {}) == 0
    updated = json.loads(capsys.readouterr().out)
    assert (updated["status"], updated["blocks"]) == ("updated", False)
    assert main([*args, "--update"], {}) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
    assert main(args, {}) == 0


def _commit(repo: Path, name: str) -> None:
    (repo / name).write_text(name)
    subprocess.run(["git", "-C", str(repo), "add", name], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm",
                    name], check=True)  # fmt: skip


def test_a_repository_of_one_commit_has_every_file_changed(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _commit(tmp_path, "first.py")
    git = read_git(tmp_path, compare_base=None, branch_hint=None)
    assert (git.status, git.reason) == ("ok", None)
    assert [f.path for f in git.changed_files or []] == ["first.py"]


def test_a_shallow_clone_says_how_to_fetch_more(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    _commit(origin, "first.py")
    _commit(origin, "second.py")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", origin.as_uri(), str(clone)], check=True)
    git = read_git(clone, compare_base=None, branch_hint=None)
    assert git.status == "unknown"
    assert git.reason is not None and "fatal" not in git.reason
    assert "shallow" in git.reason and "fetch-depth: 0" in git.reason
    based = read_git(clone, compare_base="0" * 40, branch_hint=None)
    assert based.reason is not None and "is not in the clone" in based.reason


def test_prove_on_an_empty_ledger_says_it_is_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "l.jsonl").write_bytes(b"")
    assert main(["prove", str(tmp_path / "l.jsonl"), "--seq", "0"], {}) == 2
    assert "no entry with seq 0; it is empty" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    tests = "".join(f'<testcase classname="t" name="test_{i}" time="0.01"/>' for i in range(3000))
    (tmp_path / "r.xml").write_text(f"<testsuite>{tests}</testsuite>")
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], {}) == 0
    prove = subprocess.Popen([sys.executable, "-m", "provenance", "prove", str(tmp_path / "data" / "ci_runs.jsonl"),
                              "--seq", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)  # fmt: skip
    assert prove.stdout is not None and prove.stderr is not None
    prove.stdout.readline()
    prove.stdout.close()  # as `| head -1` does
    err = prove.stderr.read()
    assert prove.wait(timeout=60) == 141
    assert err == b""


def test_fetch_without_network_is_bad_input_naming_the_host(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("provenance.github.client.BACKOFF_FACTOR", 0.0)
    args = ["fetch", "--repo", "acme/app", "--run-id", "1", "--api-url", "http://127.0.0.1:9", "--dest", str(tmp_path)]
    assert main(args, {}) == 2
    err = capsys.readouterr().err
    assert err.startswith("provenance: error: --api-url: cannot reach 127.0.0.1 (ConnectionError)")
    assert "Traceback" not in err
