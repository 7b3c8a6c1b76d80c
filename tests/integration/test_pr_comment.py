"""The pull-request comment against the loopback server, on real pytest runs recorded in a real ledger.

The base branch is recorded three times, then a pull request is pushed twice: the first push makes
the comment, the second edits it. Every request and answer is checked against GitHub's description.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.cli import main
from tests.support.github_server import GitHubServer
from tests.support.project import git

TOKEN = "ghp_NotARealToken_0123456789abcdef"
HOSTILE = "@octocat #123 **b** <img src=x>"
SUITE = """
import pathlib, time
import pytest

STATE = pathlib.Path(__file__).parent.parent / "state"


def broken(name):
    return name in (STATE / "failing").read_text().split()


def test_parse():
    assert not broken("parse"), "parse broke"


def test_render():
    assert not broken("render"), "render broke for @octocat in #123"


def test_slow():
    time.sleep(float((STATE / "slow").read_text()))


@pytest.mark.parametrize("label", [{hostile!r}] + ["case %d" % i for i in range({many})])
def test_label(label):
    assert not broken("labels"), "label " + label
"""


def project(tmp_path: Path, many: int = 0) -> Path:
    """A real project in a git repository, whose test outcomes the `state` directory sets."""
    work = tmp_path / "app"
    (work / "tests").mkdir(parents=True)
    (work / "state").mkdir()
    (work / "tests" / "test_app.py").write_text(SUITE.format(hostile=HOSTILE, many=many))
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "app")
    return work


def push(work: Path, tmp_path: Path, run_id: str, failing: str, slow: float, *flags: str,
         event: dict[str, object] | None = None, **env: str) -> tuple[int, str]:  # fmt: skip
    """One CI run: the real test suite, then `provenance run`; its exit code and log."""
    (work / "state" / "failing").write_text(failing)
    (work / "state" / "slow").write_text(str(slow))
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--json-report",
                    "--json-report-file=report.json"], cwd=work, capture_output=True, check=False)  # fmt: skip
    variables = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_RUN_ID": run_id,
                 "GITHUB_WORKFLOW": "CI", "GITHUB_JOB": "test", "GITHUB_TOKEN": TOKEN,
                 "GITHUB_STEP_SUMMARY": str(tmp_path / f"summary-{run_id}.md"), **env}  # fmt: skip
    if event is not None:
        (tmp_path / "event.json").write_text(json.dumps(event))
        variables |= {"GITHUB_EVENT_PATH": str(tmp_path / "event.json"), "GITHUB_EVENT_NAME": "pull_request",
                      "GITHUB_HEAD_REF": "feature", "GITHUB_BASE_REF": "main"}  # fmt: skip
    else:
        variables |= {"GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push"}
    code = main(["run", "--workspace", str(work), "--report", "report.json", "--fail-on", "none", *flags], variables)
    return code, ""


def pull_request(head_repo: str = "acme/app", number: object = 7) -> dict[str, object]:
    return {"pull_request": {"number": number, "head": {"repo": {"full_name": head_repo}},
                             "base": {"ref": "main"}}}  # fmt: skip


def base_history(work: Path, tmp_path: Path) -> None:
    for number in range(3):  # main: render failing, the slow test fast
        assert push(work, tmp_path, f"{100 + number}", "render", 0.01)[0] == 0


def test_created_once_then_edited_in_place(server: GitHubServer, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    work = project(tmp_path)
    base_history(work, tmp_path)
    sha = git(work, "rev-parse", "HEAD")
    flags = ("--comment", "changes", "--duration-regression", "2,0.5")
    env = {"GITHUB_API_URL": server.api_url}
    # First push: parse newly broken, render still failing, the slow test a second slower.
    assert push(work, tmp_path, "201", "parse render labels", 1.2, *flags, event=pull_request(), **env)[0] == 0
    (comment,) = server.comments.values()
    body = comment["body"]
    assert comment["issue"] == 7 and comment["edits"] == 0
    assert body.startswith("<!-- provenance-action:CI:test -->\n## ❌ Tests against <code>main</code>: ")
    assert "2 new failures, 1 still failing, 1 slower" in body
    assert "Compared with run <code>102</code>, the last recorded run of <code>main</code>." in body
    link = re.search(r"- <code>tests/test&#95;app.py&#58;&#58;test&#95;parse</code> at \[<code>tests/test&#95;app.py"
                     r"&#58;(\d+)</code>\]\(([^)]+)\)", body)  # fmt: skip
    assert link and link.group(2) == f"https://github.com/acme/app/blob/{sha}/tests/test_app.py#L{link.group(1)}"
    assert "test&#95;slow</code> | 1.2 s |" in body
    assert "@" not in re.sub(r"&#\d+;", "", body) and "<img" not in body
    summary = (tmp_path / "summary-201.md").read_text()
    assert f"(https://github.com/acme/app/blob/{sha}/tests/test_app.py#L" in summary
    assert "<details><summary>Slowest tests (the 4 slowest of 4)</summary>" in summary
    assert "### Slower than usual (1)" in summary
    # Second push: everything fixed, the slow test fast again: the same comment is edited.
    assert push(work, tmp_path, "202", "", 0.01, *flags, event=pull_request(), **env)[0] == 0
    assert list(server.comments) == [comment["id"]] and comment["edits"] == 1
    assert "## ✅ Tests against <code>main</code>: 1 fixed\n" in comment["body"]
    assert "### ✅ Fixed (1)\n\n- <code>tests/test&#95;app.py&#58;&#58;test&#95;render</code>" in comment["body"]
    calls = [(r.method, r.path) for r in server.requests]
    assert calls == [("GET", "/repos/acme/app/issues/7/comments"), ("POST", "/repos/acme/app/issues/7/comments"),
                     ("GET", "/repos/acme/app/issues/7/comments"),
                     ("PATCH", f"/repos/acme/app/issues/comments/{comment['id']}")]  # fmt: skip
    assert all(r.headers.get("Authorization") == f"token {TOKEN}" for r in server.requests)
    assert TOKEN not in capsys.readouterr().out.replace("::add-mask::" + TOKEN, "")


def test_found_among_pages_of_comments_and_another_jobs_left_alone(server: GitHubServer, tmp_path: Path) -> None:
    work = project(tmp_path)
    lint = "<!-- provenance-action:CI:lint -->\nlint's comment"
    for number in range(230):
        server.comments[10 + number] = {"id": 10 + number, "issue": 7, "body": f"comment {number}",
                                        "login": "ada", "edits": 0}  # fmt: skip
    server.comments[300] = {"id": 300, "issue": 7, "body": lint, "login": "github-actions[bot]", "edits": 0}
    server.comments[301] = {"id": 301, "issue": 7, "body": "<!-- provenance-action:CI:test -->\nold",
                            "login": "github-actions[bot]", "edits": 0}  # fmt: skip
    assert push(work, tmp_path, "201", "", 0.01, "--comment", "always", event=pull_request(),
                GITHUB_API_URL=server.api_url)[0] == 0  # fmt: skip
    assert [r.method for r in server.requests] == ["GET", "GET", "GET", "PATCH"]  # pages 1-3, then the edit
    assert server.comments[301]["edits"] == 1 and server.comments[300]["body"] == lint
    assert len(server.comments) == 232


FORGED = "<!-- provenance-action:CI:test -->\n## ✅ Tests passed"


def test_a_marked_comment_by_someone_else_is_never_edited(server: GitHubServer, tmp_path: Path) -> None:
    work = project(tmp_path)
    server.comments[300] = {"id": 300, "issue": 7, "body": FORGED, "login": "mallory", "edits": 0}
    server.comments[301] = {"id": 301, "issue": 7, "body": FORGED, "login": "other-app[bot]", "edits": 0}
    for run_id in ("201", "202"):  # the first run makes our comment, the second edits it
        assert push(work, tmp_path, run_id, "parse", 0.01, "--comment", "always", event=pull_request(),
                    GITHUB_API_URL=server.api_url)[0] == 0  # fmt: skip
    assert [(server.comments[i]["body"], server.comments[i]["edits"]) for i in (300, 301)] == [(FORGED, 0)] * 2
    (ours,) = [c for c in server.comments.values() if c["id"] not in (300, 301)]
    assert ours["body"].startswith("<!-- provenance-action:CI:test -->\n## ❌") and ours["edits"] == 1


def test_the_comment_of_another_tokens_login_is_edited_when_named(server: GitHubServer, tmp_path: Path) -> None:
    work = project(tmp_path)
    server.comments[300] = {"id": 300, "issue": 7, "body": FORGED, "login": "github-actions[bot]", "edits": 0}
    server.comments[301] = {"id": 301, "issue": 7, "body": FORGED, "login": "Provenance-App[bot]", "edits": 0}
    assert push(work, tmp_path, "201", "parse", 0.01, "--comment", "always", "--comment-author",
                "provenance-app[bot]", event=pull_request(), GITHUB_API_URL=server.api_url)[0] == 0  # fmt: skip
    assert server.comments[300]["edits"] == 0 and server.comments[301]["edits"] == 1  # logins ignore case
    assert len(server.comments) == 2


def test_a_comment_made_as_another_login_says_which_to_name(server: GitHubServer, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    work = project(tmp_path)
    assert push(work, tmp_path, "201", "parse", 0.01, "--comment", "always", "--comment-author", "ada",
                event=pull_request(), GITHUB_API_URL=server.api_url)[0] == 0  # fmt: skip
    assert len(server.comments) == 1  # the server writes as github-actions[bot]
    out = capsys.readouterr().out
    assert out.count("::warning title=provenance::the comment was made as github-actions[bot], not ada: set "
                     "`comment-author: github-actions[bot]`") == 1  # fmt: skip


def test_changes_mode_stays_quiet_when_nothing_changed(server: GitHubServer, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    work = project(tmp_path)
    base_history(work, tmp_path)
    assert push(work, tmp_path, "201", "render", 0.01, "--comment", "changes", event=pull_request(),
                GITHUB_API_URL=server.api_url)[0] == 0  # fmt: skip
    assert server.comments == {} and [r.method for r in server.requests] == ["GET"]
    assert "no pull-request comment: nothing for `comment: changes` to say" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("event", "failure", "warning"),
    [
        (pull_request(head_repo="stranger/app"), None, "no pull-request comment: a pull request from a fork"),
        (pull_request(), (403, {}), "no pull-request comment (403): the token cannot write pull-request comments"),
        (pull_request(), (404, {}), "no pull-request comment (404): the token cannot write pull-request comments"),
    ],
)
def test_a_fork_or_a_refused_token_is_one_warning_and_the_summary(
    server: GitHubServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], event: dict[str, object],
    failure: tuple[int, dict[str, str]] | None, warning: str,
) -> None:  # fmt: skip
    work = project(tmp_path)
    if failure:
        server.failures.append(failure)
    code, _ = push(work, tmp_path, "201", "parse", 0.01, "--comment", "always", event=event,
                   GITHUB_API_URL=server.api_url)  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("::warning title=provenance::no pull-request comment") == 1 and warning in out
    assert server.comments == {}
    assert "## ❌ Tests failed" in (tmp_path / "summary-201.md").read_text()
    assert (work / "data" / "ci_runs.jsonl").is_file()


def test_an_over_long_comment_is_cut_with_a_link_to_the_summary(server: GitHubServer, tmp_path: Path) -> None:
    work = project(tmp_path, many=1500)
    assert push(work, tmp_path, "201", "labels", 0.01, "--comment", "failures", event=pull_request(),
                GITHUB_API_URL=server.api_url)[0] == 0  # fmt: skip
    (comment,) = server.comments.values()
    body = comment["body"]
    assert len(body.encode("utf-16-le")) // 2 <= 65_536
    assert "1501 new failures" in body
    assert body.endswith(
        "> Cut here: a comment holds at most 65,536 characters. Every detail is in the [job summary]"
        "(https://github.com/acme/app/actions/runs/201) and <code>evidence/ci&#95;provenance&#95;201.json</code>.\n"
    )


def test_a_push_gets_no_comment_and_no_request(server: GitHubServer, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    work = project(tmp_path)
    assert push(work, tmp_path, "201", "parse", 0.01, "--comment", "always", GITHUB_API_URL=server.api_url)[0] == 0
    assert server.requests == []
    assert "no pull-request comment: this run is not for a pull request" in capsys.readouterr().out


def test_a_comment_url_from_elsewhere_never_gets_the_token(server: GitHubServer, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    work = project(tmp_path)
    server.comments[301] = {"id": 301, "issue": 7, "body": "<!-- provenance-action:CI:test -->\nold",
                            "login": "github-actions[bot]", "edits": 0}  # fmt: skip
    server.comment_url = f"http://localhost:{server.port}/repos/acme/app/issues/comments/301"
    assert push(work, tmp_path, "201", "", 0.01, "--comment", "always", event=pull_request(),
                GITHUB_API_URL=server.api_url)[0] == 3  # fmt: skip
    assert "unexpected URL for /repos/acme/app/issues/comments/301" in capsys.readouterr().out
    assert [r.method for r in server.requests] == ["GET"] and server.comments[301]["edits"] == 0
    assert (work / "data" / "ci_runs.jsonl").is_file()


@pytest.mark.parametrize("number", [2**31, 2**62])
def test_a_pull_request_number_out_of_range_is_one_warning(server: GitHubServer, tmp_path: Path, number: int,
                                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    work = project(tmp_path)
    assert push(work, tmp_path, "201", "", 0.01, "--comment", "always", event=pull_request(number=number),
                GITHUB_API_URL=server.api_url)[0] == 0  # fmt: skip
    assert server.requests == []
    assert capsys.readouterr().out.count(f"pull_request.number {number} is no pull-request number") == 1
