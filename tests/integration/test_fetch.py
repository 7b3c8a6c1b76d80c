"""`provenance fetch` against the loopback GitHub server that checks GitHub's OpenAPI description."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from provenance.cli import main
from tests.support.github_server import Artifact, GitHubServer

TOKEN = "ghs_secretTokenValue1234567890"


def evidence_zip(tmp_path: Path, runs: int = 2) -> bytes:
    """What `actions/upload-artifact` would upload after real runs: the evidence and the ledger."""
    work = tmp_path / "job"
    work.mkdir()
    (work / "r.xml").write_text('<testsuite><testcase classname="t" name="ok" time="0.1"/></testsuite>')
    for run_id in range(runs):
        assert main(["run", "--workspace", str(work), "--report", "r.xml", "--run-id", str(run_id)], {}) == 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted([*work.joinpath("evidence").iterdir(), *work.joinpath("data").iterdir()]):
            archive.write(path, path.relative_to(work).as_posix())
    return buffer.getvalue()


def fetch(server: GitHubServer, dest: Path, *extra: str) -> int:
    return main(["fetch", "--repo", "acme/app", "--run-id", "42", "--api-url", server.api_url, "--token", TOKEN,
                 "--dest", str(dest), *extra], {})  # fmt: skip


def test_fetch_downloads_unpacks_and_verifies(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.artifacts.append(Artifact(7, "provenance", evidence_zip(tmp_path), run_id=42))
    server.artifacts.append(Artifact(8, "coverage", b"PK\x05\x06" + b"\0" * 18, run_id=42))
    capsys.readouterr()
    assert fetch(server, tmp_path / "audit", "--name", "provenance") == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["ok"] is True
    kinds = sorted(c["check"] for c in report["checks"])
    assert kinds.count("provenance") == 2 and "ledger" in kinds and "checkpoint" in kinds
    assert (tmp_path / "audit" / "provenance" / "data" / "ci_runs.jsonl").is_file()
    assert all(r.headers.get("Authorization") == f"token {TOKEN}" for r in server.requests)
    assert [r.path for r in server.blob_requests] == ["/blobs/7"]  # the download, on another host name...
    assert all("authorization" not in {k.lower() for k in r.headers} for r in server.blob_requests)  # ...no token
    assert TOKEN not in captured.out + captured.err


def test_a_tampered_provenance_file_fails(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = zipfile.ZipFile(io.BytesIO(evidence_zip(tmp_path)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.startswith("evidence/ci_provenance_0"):
                data = data.replace(b'"conclusion": "success"', b'"conclusion": "failure"')
            archive.writestr(info, data)
    server.artifacts.append(Artifact(7, "provenance", buffer.getvalue(), run_id=42))
    capsys.readouterr()
    assert fetch(server, tmp_path / "audit") == 1
    assert "Expected: " in capsys.readouterr().err


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/owned", "a/../../escape.txt"])
def test_unsafe_paths_in_the_zip_are_refused(server: GitHubServer, tmp_path: Path, name: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "x")
    server.artifacts.append(Artifact(7, "provenance", buffer.getvalue(), run_id=42))
    assert fetch(server, tmp_path / "audit") == 2
    assert "unsafe path" in capsys.readouterr().err
    assert not (tmp_path / "escape.txt").exists()


def test_server_errors_are_retried(server: GitHubServer, tmp_path: Path) -> None:
    server.artifacts.append(Artifact(7, "provenance", evidence_zip(tmp_path), run_id=42))
    server.failures += [(502, {}), (429, {"Retry-After": "1"})]
    assert fetch(server, tmp_path / "audit") == 0
    assert [r.path for r in server.requests].count("/repos/acme/app/actions/runs/42") == 3


def test_a_refusal_is_one_clear_line_without_the_token(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.failures.append((403, {}))
    assert fetch(server, tmp_path / "audit") == 3
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "provenance: error: GitHub API: GET /repos/acme/app/actions/runs/42: 403 injected failure"
    ]
    assert TOKEN not in err


def test_github_enterprise_server_and_pagination(tmp_path: Path) -> None:
    server = GitHubServer(prefix="/api/v3", page_size=1).start()
    try:
        zipped = evidence_zip(tmp_path, runs=1)
        server.artifacts += [Artifact(1, "provenance-a", zipped, 42), Artifact(2, "provenance-b", zipped, 42)]
        assert fetch(server, tmp_path / "audit") == 0
        pages = [r for r in server.requests if r.path.endswith("/artifacts")]
        assert len(pages) == 2
        assert (tmp_path / "audit" / "provenance-b" / "data" / "ci_runs.jsonl").is_file()
    finally:
        server.stop()
    assert server.violations == []


def test_no_such_artifact(server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fetch(server, tmp_path / "audit", "--name", "provenance") == 2
    assert "--run-id: run 42 of acme/app has no artifact named 'provenance'" in capsys.readouterr().err
