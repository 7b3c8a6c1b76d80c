"""`provenance fetch` against the loopback GitHub server that checks GitHub's OpenAPI description."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
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


def leftovers(dest: Path) -> list[str]:
    """What a refused fetch left in its destination (nothing, all or nothing)."""
    return sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) if dest.exists() else []


def zipped(members: list[tuple[str, bytes, int]]) -> bytes:
    """A zip of (name, data, unix mode) members, written as a hostile uploader could."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


REGULAR = 0o100644
HOSTILE = {
    "a symbolic link": ([("ok.txt", b"x", REGULAR), ("link", b"/etc/passwd", 0o120777)], "symbolic link"),
    "a name twice": ([("a.txt", b"x", REGULAR), ("a.txt", b"y", REGULAR)], "twice"),
    "a FIFO": ([("ok.txt", b"x", REGULAR), ("pipe", b"", 0o010644)], "special file"),
    "a backslash": ([("ok.txt", b"x", REGULAR), ("..\\evil.txt", b"x", REGULAR)], "unsafe path"),
    "a newline in a name": ([("ok.txt", b"x", REGULAR), ("a\nb.txt", b"x", REGULAR)], "unsafe path"),
    "a dot-dot last": ([("ok.txt", b"x", REGULAR), ("a/../../evil.txt", b"x", REGULAR)], "unsafe path"),
    "a file under a file": ([("a", b"x", REGULAR), ("a/b", b"x", REGULAR)], "under a file"),
    "too many members": ([(f"f{i}", b"", REGULAR) for i in range(10_001)], "more than the limit of 10,000"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_zips_are_refused_leaving_nothing(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    members, said = HOSTILE[case]
    server.artifacts.append(Artifact(7, "provenance", zipped(members), run_id=42))
    dest = tmp_path / "audit"
    assert fetch(server, dest) == 2
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert leftovers(dest) == []
    assert not (tmp_path / "evil.txt").exists()


def test_a_zip_bomb_is_refused_by_what_it_really_inflates_to(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("provenance.github.archive.MAX_UNPACKED_BYTES", 1024 * 1024)
    at_limit = zipped([("zeros", bytes(1024 * 1024), REGULAR)])
    past_it = zipped([("zeros", bytes(1024 * 1024 + 1), REGULAR)])
    server.artifacts += [Artifact(7, "at-limit", at_limit, run_id=42), Artifact(8, "past-it", past_it, run_id=42)]
    assert fetch(server, tmp_path / "a", "--name", "at-limit") == 1  # unpacked; nothing in it to verify
    assert (tmp_path / "a" / "at-limit" / "zeros").stat().st_size == 1024 * 1024
    capsys.readouterr()
    assert fetch(server, tmp_path / "b", "--name", "past-it") == 2
    assert "more than the limit of 1,048,576" in capsys.readouterr().err
    assert leftovers(tmp_path / "b") == []


def test_an_unsafe_artifact_name_is_never_a_path(server: GitHubServer, tmp_path: Path) -> None:
    server.artifacts.append(Artifact(7, "../../escape", evidence_zip(tmp_path), run_id=42))
    dest = tmp_path / "audit"
    assert fetch(server, dest) == 0
    assert (dest / "artifact-7" / "data" / "ci_runs.jsonl").is_file()
    assert not (tmp_path / "escape").exists()


def test_other_json_lines_are_not_taken_for_a_ledger(server: GitHubServer, tmp_path: Path) -> None:
    original = zipfile.ZipFile(io.BytesIO(evidence_zip(tmp_path)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in original.infolist():
            archive.writestr(info, original.read(info))
        archive.writestr("data/contracts_audit.jsonl", '{"dataset_id": "corpus", "status": "ok"}\n')
        archive.writestr("data/predictions.jsonl", '{"test": "t::ok", "p_fail": 0.1}\n')
    server.artifacts.append(Artifact(7, "provenance", buffer.getvalue(), run_id=42))
    assert fetch(server, tmp_path / "audit") == 0


def test_a_trickling_server_hits_the_deadline(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.trickle = 0.05  # a byte every 50 ms: no read ever times out, the answer takes minutes
    started = time.monotonic()
    assert fetch(server, tmp_path / "audit", "--deadline", "1.5") == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert err.startswith("provenance: error: --deadline: not finished within 1.5 s (the API host is 127.0.0.1)")
    assert len(err.strip().splitlines()) == 1


def test_endless_pagination_hits_the_page_limit(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.endless, server.page_size = True, 2
    assert fetch(server, tmp_path / "audit") == 2
    assert "more than 100 pages of artifacts" in capsys.readouterr().err
    assert len([r for r in server.requests if r.path.endswith("/artifacts")]) == 100


def test_a_redirect_to_another_host_gets_no_token(server: GitHubServer, tmp_path: Path) -> None:
    server.artifacts.append(Artifact(7, "provenance", evidence_zip(tmp_path), run_id=42))
    server.redirect_to = f"localhost:{server.port}"  # GitHub's redirect, then one more hop
    assert fetch(server, tmp_path / "audit") == 0
    assert [r.path for r in server.blob_requests] == ["/hop/7", "/blobs/7"]
    assert all("authorization" not in {k.lower() for k in r.headers} for r in server.blob_requests)


def test_a_url_in_a_response_never_gets_the_token(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.run_overrides = {"artifacts_url": f"http://localhost:{server.port}/elsewhere/artifacts"}
    assert fetch(server, tmp_path / "audit") == 3
    assert "unexpected URL" in capsys.readouterr().err
    assert [r.path for r in server.requests] == ["/repos/acme/app/actions/runs/42"]
    assert server.blob_requests == []


@pytest.mark.parametrize("declared", [True, False])
def test_a_too_large_download_is_refused_without_holding_it(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], declared: bool
) -> None:
    server.artifacts.append(Artifact(7, "provenance", b"small", run_id=42))
    server.blob_bytes, server.blob_length_header = 48 * 1024 * 1024, declared
    tracemalloc.start()
    try:
        assert fetch(server, tmp_path / "audit", "--max-download-mb", "32") == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert "passes the limit of 33,554,432 bytes" in capsys.readouterr().err
    assert leftovers(tmp_path / "audit") == []
