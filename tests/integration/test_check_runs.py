"""Check runs against the loopback server that validates GitHub's OpenAPI description."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main
from tests.support.github_server import GitHubServer

TOKEN = "ghp_NotARealToken_0123456789abcdef"
HEAD = "a" * 40


def report(tmp_path: Path, failing: int, passing: int = 3) -> None:
    cases = [f'<testcase classname="tests.test_big" name="test_fail_{i}" time="0.01">'
             f'<failure message="assert {i} == 0">tests/test_big.py:{i + 1}: AssertionError</failure></testcase>'
             for i in range(failing)]  # fmt: skip
    cases += [f'<testcase classname="tests.test_big" name="test_ok_{i}" time="0.01"/>' for i in range(passing)]
    (tmp_path / "r.xml").write_text("<testsuite>" + "".join(cases) + "</testsuite>")


def env_for(server: GitHubServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_SHA": HEAD, "GITHUB_RUN_ID": "5",
            "GITHUB_API_URL": server.api_url, "GITHUB_TOKEN": TOKEN, **extra}  # fmt: skip


def run(tmp_path: Path, env: dict[str, str], *extra: str) -> int:
    return main(["run", "--workspace", str(tmp_path), "--report", "r.xml", "--check-name", "tests",
                 "--fail-on", "none", *extra], env)  # fmt: skip


def test_every_failure_is_annotated_in_batches(server: GitHubServer, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    report(tmp_path, failing=120)
    assert run(tmp_path, env_for(server, tmp_path)) == 0
    (check,) = server.check_runs.values()
    assert (check["name"], check["head_sha"], check["conclusion"]) == ("tests", HEAD, "failure")
    assert len(check["annotations"]) == 120
    methods = [r.method for r in server.requests if "check-runs" in r.path]
    assert methods == ["POST", "PATCH", "PATCH"]  # 50 + 50 + 20
    assert [len(r.body["output"]["annotations"]) for r in server.requests] == [50, 50, 20]
    first = check["annotations"][0]
    assert (first["path"], first["start_line"], first["annotation_level"]) == ("tests/test_big.py", 1, "failure")
    assert len(check["output"]["summary"]) <= 65535
    out = capsys.readouterr().out
    assert "::add-mask::" + TOKEN in out  # masked before anything else is printed...
    assert out.count(TOKEN) == 1  # ...and never printed again
    assert all(r.headers.get("Authorization") == f"token {TOKEN}" for r in server.requests)


def test_another_jobs_check_run_is_never_touched_and_the_job_is_linked(server: GitHubServer, tmp_path: Path) -> None:
    # A check run of the same name in progress on the commit may be another job's (a matrix, another workflow).
    server.check_runs[77] = {"id": 77, "name": "tests", "head_sha": HEAD, "status": "in_progress",
                             "conclusion": None, "annotations": [], "output": {}}  # fmt: skip
    report(tmp_path, failing=2)
    assert run(tmp_path, env_for(server, tmp_path), "--check-run-id", "88") == 0
    assert server.check_runs[77]["status"] == "in_progress" and server.check_runs[77]["annotations"] == []
    (created,) = [r for r in server.check_runs.values() if r["id"] != 77]
    assert created["conclusion"] == "failure" and len(created["annotations"]) == 2
    assert created["output"]["summary"].startswith(
        "Tests of the job whose check run is [88](https://github.com/acme/app/runs/88)."
    )
    record = json.loads((tmp_path / "evidence" / "ci_provenance_5.json").read_text())
    assert (record["run"]["check_run_id"], record["run"]["check_run_url"]) == (
        88,
        "https://github.com/acme/app/runs/88",
    )


def test_a_pull_request_uses_its_head_commit(server: GitHubServer, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    head = {"sha": "b" * 40, "repo": {"full_name": "acme/app"}}
    event.write_text(json.dumps({"pull_request": {"number": 4, "head": head, "base": {"sha": "c" * 40}}}))
    report(tmp_path, failing=0)
    assert run(tmp_path, env_for(server, tmp_path, GITHUB_EVENT_PATH=str(event))) == 0
    (check,) = server.check_runs.values()
    assert (check["head_sha"], check["conclusion"]) == ("b" * 40, "success")


def test_a_fork_gets_no_check_run_but_everything_local(server: GitHubServer, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 4, "head": {"repo": {"full_name": "stranger/app"}}}}))
    report(tmp_path, failing=1)
    assert run(tmp_path, env_for(server, tmp_path, GITHUB_EVENT_PATH=str(event))) == 0
    assert server.requests == [] and server.check_runs == {}
    assert "no check run: a pull request from a fork" in capsys.readouterr().out
    assert (tmp_path / "data" / "ci_runs.jsonl").is_file()


def test_a_read_only_token_is_one_warning(server: GitHubServer, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    server.failures.append((403, {}))
    report(tmp_path, failing=1)
    assert run(tmp_path, env_for(server, tmp_path)) == 0
    out = capsys.readouterr().out
    assert out.count("the token cannot write checks") == 1
    assert (tmp_path / "data" / "ci_runs.jsonl").is_file()


def test_a_refused_batch_is_reported_and_the_rest_sent(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.refuse_patch.add(1)
    report(tmp_path, failing=120)
    assert run(tmp_path, env_for(server, tmp_path)) == 0
    (check,) = server.check_runs.values()
    assert len(check["annotations"]) == 70  # batches 1 and 3
    assert "GitHub refused annotation batch 2 of 3" in capsys.readouterr().out


def test_outages_and_rate_limits_are_retried(server: GitHubServer, tmp_path: Path) -> None:
    server.failures += [(502, {}), (403, {"Retry-After": "1", "X-RateLimit-Remaining": "0"})]
    report(tmp_path, failing=1)
    assert run(tmp_path, env_for(server, tmp_path)) == 0
    assert len(server.check_runs) == 1


def test_an_api_that_stays_down_is_one_clear_error_after_the_local_records(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.failures += [(503, {})] * 5
    report(tmp_path, failing=1)
    assert run(tmp_path, env_for(server, tmp_path)) == 3
    out = capsys.readouterr().out
    assert "::error title=provenance::GitHub API: POST /repos/acme/app/check-runs: 503 injected failure" in out
    assert TOKEN not in out.replace("::add-mask::" + TOKEN, "")
    assert (tmp_path / "data" / "ci_runs.jsonl").is_file()


def test_github_enterprise_server(tmp_path: Path) -> None:
    server = GitHubServer(prefix="/api/v3").start()
    try:
        report(tmp_path, failing=3)
        assert run(tmp_path, env_for(server, tmp_path)) == 0
        assert len(next(iter(server.check_runs.values()))["annotations"]) == 3
    finally:
        server.stop()
    assert server.violations == []


def test_a_check_run_url_from_elsewhere_never_gets_the_token(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.check_run_url = f"http://localhost:{server.port}/repos/acme/app/check-runs/1000"
    report(tmp_path, failing=60)  # two batches: the second would go to the check run's URL
    assert run(tmp_path, env_for(server, tmp_path)) == 3
    assert "unexpected URL for /repos/acme/app/check-runs/1000" in capsys.readouterr().out
    assert [r.method for r in server.requests] == ["POST"]
    assert server.blob_requests == []
