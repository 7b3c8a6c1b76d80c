"""Dataset contracts on real files and directories in temporary workspaces."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.datasets.contracts import load_manifest, validate
from provenance.datasets.hashing import hash_tree
from provenance.errors import InputError
from tests.support.project import ROOT


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "data" / "images" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "telemetry.jsonl").write_bytes(b'{"run": 1}\n')
    (tmp_path / "data" / "images" / "a.png").write_bytes(b"\x89PNG a")
    (tmp_path / "data" / "images" / "sub" / "b.png").write_bytes(b"\x89PNG b")
    (tmp_path / "data" / "shards").mkdir()
    for i in range(3):
        (tmp_path / "data" / "shards" / f"part-{i}.csv").write_text(f"id,value\n{i},{i * i}\n")
    return tmp_path


def coreutils_dirhash(directory: Path) -> str:
    command = "find . -type f | cut -c3- | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum"
    return subprocess.run(
        command, shell=True, cwd=directory, capture_output=True, text=True, check=True
    ).stdout.split()[0]


def write_manifest(workspace: Path, body: str) -> Path:
    path = workspace / "data_contracts.yaml"
    path.write_text(body)
    return path


def manifest_for(workspace: Path, **overrides: str) -> str:
    telemetry = sha((workspace / "data" / "telemetry.jsonl").read_bytes())
    images = coreutils_dirhash(workspace / "data" / "images")
    values = {"telemetry": telemetry, "images": images, **overrides}
    return f"""# Datasets the tests use; signed off by the data team.
datasets:
  ci_telemetry:
    name: "CI Test Telemetry"   # the seed's example
    path: "data/telemetry.jsonl"
    checksum_type: "sha256"
    checksum: "{values["telemetry"]}"
    retention_days: 365
  images:
    path: data/images
    checksum: {values["images"]}
validation:
  enforce_checksums: true
  block_on_mismatch: true
  allow_missing: false
"""


def test_directory_digest_is_the_coreutils_dirhash(workspace: Path) -> None:
    digest = hash_tree(workspace / "data" / "images")
    assert digest.sha256 == coreutils_dirhash(workspace / "data" / "images")
    assert (digest.size, digest.nfiles) == (12, 2)


def test_empty_directory(tmp_path: Path) -> None:
    digest = hash_tree(tmp_path)
    assert digest.sha256 == sha(b"") and digest.nfiles == 0


def test_matching_datasets(workspace: Path) -> None:
    path = write_manifest(workspace, manifest_for(workspace))
    validation = validate(load_manifest(path), workspace)
    assert [(r.dataset_id, r.kind, r.status) for r in validation.results] == [
        ("ci_telemetry", "file", "ok"),
        ("images", "directory", "ok"),
    ]
    assert not validation.failures and not validation.blocks


def test_mismatch_says_expected_and_got(workspace: Path) -> None:
    path = write_manifest(workspace, manifest_for(workspace, telemetry="a" * 64))
    validation = validate(load_manifest(path), workspace)
    failure = validation.failures[0]
    actual = sha((workspace / "data" / "telemetry.jsonl").read_bytes())
    assert failure.describe() == f"data/telemetry.jsonl: Expected: {'a' * 64}, Got: {actual}"
    assert validation.blocks


def test_missing_fails_unless_allowed(workspace: Path) -> None:
    body = manifest_for(workspace, telemetry="a" * 64)
    (workspace / "data" / "telemetry.jsonl").unlink()
    path = write_manifest(workspace, body)
    assert validate(load_manifest(path), workspace).failures[0].status == "missing"
    write_manifest(workspace, body.replace("allow_missing: false", "allow_missing: true"))
    assert not validate(load_manifest(path), workspace).failures


def test_glob_datasets(workspace: Path) -> None:
    listing = "".join(
        f"{sha((workspace / 'data/shards' / n).read_bytes())}  data/shards/{n}\n"
        for n in sorted(os.listdir(workspace / "data/shards"))
    )
    write_manifest(
        workspace, f"datasets:\n  shards:\n    path: data/shards/*.csv\n    checksum: {sha(listing.encode())}\n"
    )
    result = validate(load_manifest(workspace / "data_contracts.yaml"), workspace).results[0]
    assert (result.kind, result.status, result.nfiles) == ("glob", "ok", 3)
    write_manifest(workspace, "datasets:\n  none:\n    path: data/*.parquet\n")
    assert validate(load_manifest(workspace / "data_contracts.yaml"), workspace).results[0].status == "missing"


def test_no_checksum_yet_is_unverified(workspace: Path) -> None:
    write_manifest(workspace, "datasets:\n  t:\n    path: data/telemetry.jsonl\n")
    validation = validate(load_manifest(workspace / "data_contracts.yaml"), workspace)
    assert validation.results[0].status == "unverified" and validation.blocks


@pytest.mark.parametrize("path", ["../outside.txt", "data/../../outside.txt", "/etc/passwd", "../*.txt"])
def test_paths_outside_the_workspace_are_refused(workspace: Path, path: str) -> None:
    (workspace.parent / "outside.txt").write_text("secret")
    write_manifest(workspace, f"datasets:\n  x:\n    path: {path!r}\n")
    with pytest.raises(InputError, match="outside the workspace"):
        validate(load_manifest(workspace / "data_contracts.yaml"), workspace)


def test_symlink_out_of_the_workspace_is_refused(workspace: Path) -> None:
    (workspace.parent / "secret.txt").write_text("secret")
    (workspace / "data" / "link.txt").symlink_to(workspace.parent / "secret.txt")
    write_manifest(workspace, "datasets:\n  x:\n    path: data/link.txt\n")
    with pytest.raises(InputError) as caught:
        validate(load_manifest(workspace / "data_contracts.yaml"), workspace)
    assert caught.value.diagnosis() == (
        "data_contracts.yaml: datasets.x.path: path 'data/link.txt' leads outside the workspace"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "datasets:\n  telemetry:\n    path: a\n    checksumm: abc\n",
            "datasets.telemetry.checksumm: unknown key 'checksumm' in datasets.telemetry",
        ),
        ("datasets: {}\nvalidaton: {}\n", "validaton: unknown key 'validaton' in the top level"),
        ("datasets:\n  t:\n    path: a\n    checksum: ABC\n", "datasets.t.checksum: String should match pattern"),
        (
            "datasets:\n  t:\n    checksum_type: md5\n    path: a\n",
            "datasets.t.checksum_type: Input should be 'sha256'",
        ),
        ("datasets:\n  t: [1, 2\n", "not valid YAML at line 3"),
        ("- just\n- a list\n", "expected a mapping"),
        ("a: &x [1]\nb: *x\n", "YAML aliases are not allowed"),
        ('a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]\n', "YAML aliases are not allowed"),
        (
            "validation:\n  block_on_mismatch: sometimes\n",
            "validation.block_on_mismatch: Input should be a valid boolean",
        ),
    ],
)
def test_bad_manifests_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = write_manifest(tmp_path, body)
    with pytest.raises(InputError) as caught:
        load_manifest(path)
    assert message in caught.value.diagnosis()
    assert caught.value.diagnosis().startswith(str(path))


def test_oversized_manifest(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, "# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(InputError, match="larger than"):
        load_manifest(path)


def test_dvc_pointer_is_cross_checked(workspace: Path) -> None:
    data = (workspace / "data" / "telemetry.jsonl").read_bytes()
    md5 = hashlib.md5(data).hexdigest()
    (workspace / "data" / "telemetry.jsonl.dvc").write_text(
        f"outs:\n- md5: {md5}\n  size: {len(data)}\n  hash: md5\n  path: telemetry.jsonl\n"
    )
    body = (
        f"datasets:\n  t:\n    path: data/telemetry.jsonl\n    checksum: {sha(data)}\n"
        "    dvc: data/telemetry.jsonl.dvc\n"
    )
    write_manifest(workspace, body)
    result = validate(load_manifest(workspace / "data_contracts.yaml"), workspace).results[0]
    assert (result.status, result.dvc_md5) == ("ok", md5)
    (workspace / "data" / "telemetry.jsonl.dvc").write_text(
        f"outs:\n- md5: {'0' * 32}\n  size: 3\n  path: telemetry.jsonl\n"
    )
    result = validate(load_manifest(workspace / "data_contracts.yaml"), workspace).results[0]
    assert result.status == "mismatch"
    assert result.problems == [
        f"DVC records md5 {'0' * 32}, the file has md5 {md5}",
        f"DVC records size 3, found {len(data)}",
    ]


def test_cli_validate_and_update_keep_the_users_file(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = manifest_for(workspace, telemetry="a" * 64, images="b" * 64)
    path = write_manifest(workspace, original)
    env = {"GITHUB_ACTOR": "ada"}
    assert main(["validate", "--workspace", str(workspace)], env) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "failed"

    assert main(["validate", "--workspace", str(workspace), "--update", "--dry-run"], env) == 0
    assert set(json.loads(capsys.readouterr().out)["changes"]) == {"ci_telemetry", "images"}
    assert path.read_text() == original

    assert main(["validate", "--workspace", str(workspace), "--update"], env) == 0
    updated = path.read_text()
    assert "# Datasets the tests use; signed off by the data team." in updated
    assert 'name: "CI Test Telemetry"   # the seed\'s example' in updated
    assert updated.index("ci_telemetry") < updated.index("images") < updated.index("validation")
    assert f'checksum: "{sha((workspace / "data" / "telemetry.jsonl").read_bytes())}"' in updated
    assert "nfiles: 2" in updated and "size: 11" in updated
    capsys.readouterr()
    assert main(["validate", "--workspace", str(workspace)], env) == 0

    audit = [json.loads(line) for line in (workspace / "data" / "contracts_audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["dataset"], a["verdict"]) for a in audit] == [
        ("validate", "ci_telemetry", "mismatch"), ("validate", "images", "mismatch"),
        ("update", "ci_telemetry", "updated"), ("update", "images", "updated"),
        ("validate", "ci_telemetry", "ok"), ("validate", "images", "ok"),
    ]  # fmt: skip
    assert audit[2]["old_checksum"] == "a" * 64 and audit[2]["actor"] == "ada"


def test_update_refuses_when_a_dataset_cannot_be_read(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = manifest_for(workspace, telemetry="a" * 64)
    path = write_manifest(workspace, original)
    (workspace / "data" / "telemetry.jsonl").unlink()
    assert main(["validate", "--workspace", str(workspace), "--update"], {}) == 2
    assert "could not be read: ci_telemetry" in capsys.readouterr().err
    assert path.read_text() == original


UPDATER = """
import sys
from provenance.cli import main
main(["validate", "--workspace", sys.argv[1], "--update"], {})
"""


def test_update_is_atomic_under_kill(workspace: Path) -> None:
    """kill -9 at varied moments: the manifest is always the old file or the new one, never half."""
    original = manifest_for(workspace, telemetry="a" * 64)
    path = write_manifest(workspace, original)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outcomes = set()
    for trial in range(12):
        path.write_text(original)
        process = subprocess.Popen([sys.executable, "-c", UPDATER, str(workspace)], env=env)
        time.sleep(0.02 * trial)
        process.send_signal(signal.SIGKILL)
        process.wait()
        text = path.read_text()
        assert text == original or ("a" * 64 not in text and text.startswith("# Datasets the tests use"))
        outcomes.add(text == original)
        leftovers = [p for p in workspace.iterdir() if p.name.startswith(".data_contracts.yaml.")]
        for leftover in leftovers:  # a temporary file may remain; the manifest itself never breaks
            leftover.unlink()
    assert True in outcomes  # killed before the rename at least once


def test_run_gates_on_the_contract(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    write_manifest(workspace, manifest_for(workspace, telemetry="a" * 64))
    assert main(["run", "--workspace", str(workspace), "--report", "r.xml"], {}) == 1
    captured = capsys.readouterr()
    outputs = json.loads(captured.out)
    assert (outputs["contracts_status"], outputs["contracts_failed"]) == ("failed", "1")
    assert "1 dataset failed the contract: data/telemetry.jsonl: Expected: " in captured.err
    record = json.loads((workspace / outputs["provenance_path"]).read_text())
    assert [d["status"] for d in record["datasets"]] == ["mismatch", "ok"]
    entry = json.loads((workspace / "data" / "ci_runs.jsonl").read_text())
    assert entry["dataset_id"] == ["ci_telemetry", "images"]


def test_run_without_a_manifest_skips_the_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.xml").write_text('<testsuite><testcase classname="t" name="ok"/></testsuite>')
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml"], {}) == 0
    assert json.loads(capsys.readouterr().out)["contracts_status"] == "none"
    assert main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--contracts", "absent.yaml"], {}) == 2


def test_the_projects_own_contract_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The project eats its own cooking: its golden report fixtures are under contract.

    Checked on a copy of what the contract covers, so the audit line stays out of the checkout.
    """
    for covered in ("data_contracts.yaml", "tests/fixtures/reports", "examples/sample-project/tests"):
        source, target = ROOT / covered, tmp_path / covered
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target) if source.is_dir() else shutil.copy(source, target)
    assert main(["validate", "--workspace", str(tmp_path)], {}) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"


def test_an_empty_checksum_is_a_dataset_not_yet_recorded(tmp_path: Path) -> None:
    """`checksum: ""` is how a contract is first written; `--update` fills it in."""
    from provenance.cli import main

    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "data_contracts.yaml").write_text('datasets:\n  table:\n    path: data.csv\n    checksum: ""\n')
    assert main(["validate", "--workspace", str(tmp_path)], {}) == 1  # unverified, and checksums are enforced
    assert main(["validate", "--workspace", str(tmp_path), "--update"], {}) == 0
    assert hashlib.sha256(b"a,b\n1,2\n").hexdigest() in (tmp_path / "data_contracts.yaml").read_text()
    assert main(["validate", "--workspace", str(tmp_path)], {}) == 0
