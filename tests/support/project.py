"""Real fixtures: the sample project in a git repository with a bare remote, and real pytest runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-project"


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ada Tester",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Tester",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def copy_sample(dest: Path) -> Path:
    """The sample project's files at `dest`, without anything an earlier run wrote."""
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("report.*", "data", "evidence", "site", "__pycache__"))
    return dest


@dataclass
class Checkout:
    path: Path
    remote: Path
    base_sha: str
    head_sha: str


def sample_checkout(tmp: Path) -> Checkout:
    """The sample project as a PR checkout: a base commit on main, one change on a feature branch."""
    tmp.mkdir(parents=True, exist_ok=True)
    remote = tmp / "remote.git"
    work = tmp / "workspace"
    git(tmp, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    copy_sample(work)
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", "sample project")
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "--quiet", "origin", "main")
    base = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "--quiet", "-b", "feature/odd-names")
    tests = work / "tests" / "test_stats.py"
    tests.write_text(tests.read_text() + "\n\ndef test_added_on_branch():\n    assert 1 + 1 == 2\n")
    git(work, "commit", "--quiet", "-am", "add a test")
    git(work, "push", "--quiet", "origin", "feature/odd-names")
    head = git(work, "rev-parse", "HEAD")
    return Checkout(work, remote, base, head)


@dataclass
class PytestRun:
    """A real pytest run: its exit status and the counts of its terminal summary line."""

    exit_status: int
    counts: dict[str, int]

    def as_outputs(self) -> dict[str, int]:
        """The step outputs these counts must give, under the documented rules."""
        get = self.counts.get
        outputs = {
            "tests-passed": get("passed", 0) + get("xpassed", 0),
            "tests-failed": get("failed", 0),
            "tests-errors": get("errors", 0) + get("error", 0),
            "tests-skipped": get("skipped", 0) + get("xfailed", 0),
        }
        return {"tests-total": sum(outputs.values()), **outputs}


def run_pytest(project: Path, *report_args: str) -> PytestRun:
    """Run the project's real test suite with the given report plugins' arguments."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *report_args],
        cwd=project,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "PYTEST_"))},
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return PytestRun(done.returncode, {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)})


def pull_request_event(checkout: Checkout, number: int = 7) -> dict[str, object]:
    """A pull_request payload with the fields GitHub sends that we read (and a few we do not)."""
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "title": "Add a test",
            "head": {"ref": "feature/odd-names", "sha": checkout.head_sha, "repo": {"full_name": "acme/sample"}},
            "base": {"ref": "main", "sha": checkout.base_sha, "repo": {"full_name": "acme/sample"}},
            "user": {"login": "ada"},
        },
        "repository": {"full_name": "acme/sample", "default_branch": "main"},
        "sender": {"login": "ada"},
    }


@dataclass
class RunnerDirs:
    """The directories the runner mounts into a container action, as the process inside sees them."""

    workspace: str
    home: str
    workflow: str
    file_commands: str

    @classmethod
    def on_host(cls, workspace: Path, temp: Path) -> RunnerDirs:
        """The same layout without a container: everything under one temporary directory."""
        dirs = cls(str(workspace), str(temp / "home"), str(temp / "workflow"), str(temp / "file_commands"))
        for path in (dirs.home, dirs.workflow, dirs.file_commands):
            Path(path).mkdir(parents=True, exist_ok=True)
        return dirs

    @classmethod
    def in_container(cls) -> RunnerDirs:
        return cls("/github/workspace", "/github/home", "/github/workflow", "/github/file_commands")


def write_event(workflow_dir: Path, event: dict[str, object]) -> None:
    """The event payload, where the runner puts it."""
    (workflow_dir / "event.json").write_text(json.dumps(event))


def runner_env(dirs: RunnerDirs, event: dict[str, object], **inputs: str) -> dict[str, str]:
    """The variables the runner gives a container action, inputs named as the runner names them."""
    env = {
        "HOME": dirs.home,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": dirs.workspace,
        "GITHUB_OUTPUT": f"{dirs.file_commands}/set_output_0f1e2d",
        "GITHUB_STEP_SUMMARY": f"{dirs.file_commands}/step_summary_0f1e2d",
        "GITHUB_ENV": f"{dirs.file_commands}/set_env_0f1e2d",
        "GITHUB_PATH": f"{dirs.file_commands}/add_path_0f1e2d",
        "GITHUB_STATE": f"{dirs.file_commands}/save_state_0f1e2d",
        "GITHUB_EVENT_PATH": f"{dirs.workflow}/event.json",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_RUN_ID": "9876543210",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_RUN_NUMBER": "42",
        "GITHUB_REPOSITORY": "acme/sample",
        "GITHUB_REPOSITORY_OWNER": "acme",
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_JOB": "test",
        "GITHUB_ACTION": "__acme_provenance-action",
        "GITHUB_ACTOR": "ada",
        "GITHUB_SHA": str(event["pull_request"]["head"]["sha"]),  # type: ignore[index]
        "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_REF_NAME": "7/merge",
        "GITHUB_HEAD_REF": "feature/odd-names",
        "GITHUB_BASE_REF": "main",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_NAME": "GitHub Actions 2",
        "RUNNER_TEMP": "/home/runner/work/_temp",
        "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
    }
    for name, value in inputs.items():
        env["INPUT_" + name.replace("_", "-").upper()] = value
    return env
