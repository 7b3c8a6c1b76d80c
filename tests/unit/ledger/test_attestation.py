"""in-toto statements, subject checksums and the double-build check, from real runs of the CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from provenance.cli import main


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict[str, str]]:
    (tmp_path / "r.xml").write_text(
        '<testsuite><testcase classname="t" name="ok" time="0.1"/>'
        '<testcase classname="t" name="bad" time="0.1"><failure message="no">E no</failure></testcase></testsuite>'
    )
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "pkg-1.0.whl").write_bytes(b"wheel bytes")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "a.csv").write_text("x\n1\n")
    (tmp_path / "data_contracts.yaml").write_text(
        "datasets:\n  a:\n    path: datasets\nvalidation:\n  enforce_checksums: false\n"
    )
    env = {"GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/ci.yml@refs/heads/main"}
    code = main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--artifacts", "dist/*.whl",
                 "--run-id", "77", "--fail-on", "none"], env)  # fmt: skip
    assert code == 0
    return tmp_path, json.loads(capsys.readouterr().out)


def test_test_result_statement(run: tuple[Path, dict[str, str]]) -> None:
    workspace, outputs = run
    statement = json.loads((workspace / outputs["attestation_path"]).read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == outputs["predicate_type"] == "https://in-toto.io/attestation/test-result/v0.1"
    predicate = statement["predicate"]
    assert predicate["result"] == "fail"
    assert predicate["passedTests"] == ["t.py::ok"] and predicate["failedTests"] == ["t.py::bad"]
    assert predicate["configuration"][0]["name"] == "acme/app/.github/workflows/ci.yml@refs/heads/main"
    assert json.loads((workspace / outputs["predicate_path"]).read_text()) == predicate
    subjects = {s["name"]: s["digest"] for s in statement["subject"]}
    assert subjects["r.xml"] == {"sha256": hashlib.sha256((workspace / "r.xml").read_bytes()).hexdigest()}
    assert subjects["dist/pkg-1.0.whl"] == {"sha256": hashlib.sha256(b"wheel bytes").hexdigest()}
    assert set(subjects["datasets"]) == {"dirHash"}
    assert (
        subjects[outputs["checkpoint_path"]]["sha256"]
        == hashlib.sha256((workspace / outputs["checkpoint_path"]).read_bytes()).hexdigest()
    )


def test_subject_checksums_verify_with_sha256sum(run: tuple[Path, dict[str, str]]) -> None:
    """The file actions/attest takes is exactly what `sha256sum -c` checks."""
    workspace, outputs = run
    listing = (workspace / outputs["subject_checksums"]).read_text()
    assert "datasets" not in listing  # a dirHash is not a file's sha256
    done = subprocess.run(["sha256sum", "-c", outputs["subject_checksums"]], cwd=workspace, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == 3


def test_lineage_statement(run: tuple[Path, dict[str, str]]) -> None:
    workspace, outputs = run
    lineage = json.loads((workspace / outputs["lineage_attestation_path"]).read_text())
    predicate = lineage["predicate"]
    assert lineage["predicateType"] == "urn:provenance-action:predicate:lineage:v1"
    assert predicate["ledger"]["entry_hash"] == outputs["ledger_head"]
    assert predicate["ledger"]["merkle_root"] == outputs["merkle_root"]
    assert predicate["provenance_file_sha256"] == outputs["provenance_sha256"]
    assert predicate["datasets"][0]["dataset_id"] == "a"


def test_a_missing_artifact_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--artifacts", "dist/*.whl"], {}) == 2
    assert "artifacts: matches no file: 'dist/*.whl'" in capsys.readouterr().err


@pytest.mark.parametrize("setting", ["artifacts", "report"])
def test_a_name_that_would_forge_a_checksum_line_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    # One file whose name carries a newline and a whole forged `sha256sum` line after it.
    forged = f"x\n{'f' * 64}  release.tar.gz\n{'f' * 64}  y"
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app.tar.gz").write_text("real")
    (tmp_path / "dist" / forged).write_text("forged")
    report = '<testsuite><testcase classname="t" name="ok"/></testsuite>'
    (tmp_path / "r.xml").write_text(report)
    (tmp_path / f"r{forged}.xml").write_text(report)
    args = {"artifacts": ["--report", "r.xml", "--artifacts", "dist/*"], "report": ["--report", "r*.xml"]}[setting]
    assert main(["run", "--workspace", str(tmp_path), *args], {}) == 2
    assert f"{setting}: " in capsys.readouterr().err
    assert not (tmp_path / "data").exists() and not (tmp_path / "evidence").exists()  # nothing written


def test_double_build_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for build in ("one", "two"):
        (tmp_path / build / "lib").mkdir(parents=True)
        (tmp_path / build / "lib" / "a.so").write_bytes(b"same")
        (tmp_path / build / "b.txt").write_text("same")
    assert main(["determinism", str(tmp_path / "one"), str(tmp_path / "two")], {}) == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True

    (tmp_path / "two" / "lib" / "a.so").write_bytes(b"timestamp 12:01")
    (tmp_path / "two" / "extra").write_text("x")
    assert main(["determinism", str(tmp_path / "one"), str(tmp_path / "two")], {}) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["differing"] == ["lib/a.so"] and report["only_in_b"] == ["extra"]
    assert "different bytes: lib/a.so" in captured.err

    listing = subprocess.run("sha256sum b.txt lib/a.so", shell=True, cwd=tmp_path / "one", capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
    (tmp_path / "one.sha256").write_text(listing)
    assert main(["determinism", str(tmp_path / "one.sha256"), str(tmp_path / "one")], {}) == 0
    (tmp_path / "bad.sha256").write_text("not a checksum line\n")
    assert main(["determinism", str(tmp_path / "bad.sha256"), str(tmp_path / "one")], {}) == 2
