from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from provenance.cli import main


def test_verify_reports_a_good_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>')
    env = {"PATH": "/usr/bin"}
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], env) == 0
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], env) == 0
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "data" / "ci_runs.jsonl")], env) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == 2


def test_verify_fails_on_an_edited_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>')
    main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], {})
    ledger = tmp_path / "data" / "ci_runs.jsonl"
    ledger.write_text(ledger.read_text().replace('"conclusion":"success"', '"conclusion":"failure"'))
    capsys.readouterr()
    assert main(["verify", str(ledger)], {}) == 1
    assert "line 1: entry_hash does not match" in capsys.readouterr().err


def test_missing_ledger_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "nope.jsonl")], {}) == 2
    assert capsys.readouterr().err.startswith("provenance: error: ")


def test_bad_flag_value_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--workspace", str(tmp_path), "--retention-years", "0"], {}) == 2
    assert "command line: --retention-years: " in capsys.readouterr().err


def test_unusable_ledger_path_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    (tmp_path / "data").write_text("a file where the ledger's directory should be")
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], {}) == 2
    assert "data/ci_runs.jsonl: ledger: data is a file where a directory is expected" in capsys.readouterr().err


def test_internal_errors_exit_3_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    env = {"GITHUB_OUTPUT": str(tmp_path)}  # the runner always gives a file; a directory is unexpected
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], env) == 3
    err = capsys.readouterr().err
    assert err.startswith("provenance: error: internal error: IsADirectoryError")
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    env = {"GITHUB_OUTPUT": str(tmp_path), "RUNNER_DEBUG": "1"}
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], env) == 3
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, as a container action runs")
def test_files_go_to_the_workspace_owner(tmp_path: Path) -> None:
    """Later steps run as the runner's user: they must be able to append to what we wrote."""
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    os.chown(tmp_path, 1001, 1001)
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--run-id", "7"], {}) == 0
    for path in ("data", "data/ci_runs.jsonl", "evidence", "evidence/ci_provenance_7.json"):
        assert (tmp_path / path).stat().st_uid == 1001, path
    assert (tmp_path / "r.xml").stat().st_uid == 0  # what we did not create is left alone


def test_checkpoints_and_proofs_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An auditor's view: a checkpoint kept from run 2, a proof of run 1, a ledger cut back later."""
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>')
    outputs = []
    for run_id in ("1", "2", "3"):
        assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--run-id", run_id], {}) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    ledger = tmp_path / "data" / "ci_runs.jsonl"
    checkpoint = tmp_path / outputs[1]["checkpoint_path"]
    assert json.loads(checkpoint.read_text())["merkle_root"] == outputs[1]["merkle_root"]

    assert main(["verify", str(ledger), "--checkpoint", str(checkpoint)], {}) == 0
    assert json.loads(capsys.readouterr().out)["merkle_root"] == outputs[2]["merkle_root"]

    assert main(["prove", str(ledger), "--seq", "0"], {}) == 0
    proof = tmp_path / "proof.json"
    proof.write_text(capsys.readouterr().out)
    latest = tmp_path / outputs[2]["checkpoint_path"]
    assert main(["check-proof", str(proof), "--checkpoint", str(latest)], {}) == 0
    assert main(["check-proof", str(proof), "--checkpoint", str(checkpoint)], {}) == 1  # another tree
    capsys.readouterr()

    ledger.write_text(ledger.read_text().splitlines(keepends=True)[0])
    assert main(["verify", str(ledger)], {}) == 0  # the chain alone cannot tell
    assert main(["verify", str(ledger), "--checkpoint", str(checkpoint)], {}) == 1
    assert "truncated" in capsys.readouterr().err
